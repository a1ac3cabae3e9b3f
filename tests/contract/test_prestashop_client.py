"""PrestaShop webservice client: what it refuses before sending anything, what it counts."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.errors import Fatal
from connectors.shop.prestashop.client import PrestaShopClient
from connectors.shop.prestashop.factory import build
from deployments.sandbox.fakes.prestashop_fake import FakePrestaShop

KEY = "ZQ88PRJX5VWQHCWE4EE7SQ7HPNX00RAJ"


class Resolver:
    def secret(self, name: str) -> str:
        return KEY

    def path(self, value: str) -> str:
        return value


@pytest.mark.parametrize("url", ["http://shop.example.com", "HTTP://shop.example.com/api/", "shop.example.com"])
def test_a_plain_http_shop_is_refused_before_the_key_travels(url: str) -> None:
    """The key is the basic-auth user: over http:// anyone on the path reads it."""
    fake = FakePrestaShop(KEY)
    with pytest.raises(Fatal) as error:
        PrestaShopClient(url, KEY, transport=fake.transport())
    assert "https://" in error.value.resolution and "allow_insecure_http" in error.value.resolution
    assert KEY not in str(error.value)
    assert fake.requests == []
    with pytest.raises(Fatal, match="https://"):
        build({"url": url, "key": "env:PRESTASHOP_KEY"}, Resolver())  # type: ignore[arg-type]


def test_a_url_with_credentials_is_not_repeated_in_the_refusal() -> None:
    with pytest.raises(Fatal) as error:
        PrestaShopClient(f"http://{KEY}@shop.example.com", KEY)
    assert KEY not in str(error.value) and "shop.example.com" not in str(error.value)


def test_plain_http_is_allowed_only_when_the_setting_says_so() -> None:
    options: dict[str, Any] = {"url": "http://127.0.0.1:8080", "key": "env:K", "allow_insecure_http": True}
    shop = build(options, Resolver())  # type: ignore[arg-type]
    assert shop.client.http.base_url == "http://127.0.0.1:8080/api/"
    shop.close()
    https = build({"url": "https://shop.example.com", "key": "env:K"}, Resolver())  # type: ignore[arg-type]
    assert https.client.http.base_url == "https://shop.example.com/api/"
    https.close()
