"""Shopify webhook verification (shopify.dev "Verify webhooks") and the order a webhook names."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from connectors.shop.shopify.webhooks import parse_order_webhook, verify_webhook

SECRET = "shpss_test_client_secret"
BODY = json.dumps({"id": 820982911946154508, "admin_graphql_api_id": "gid://shopify/Order/820982911946154508"}).encode()


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def test_a_valid_signature_is_accepted() -> None:
    assert verify_webhook(BODY, sign(BODY), SECRET)


def test_a_wrong_secret_a_tampered_body_or_a_broken_header_is_refused() -> None:
    assert not verify_webhook(BODY, sign(BODY, "another"), SECRET)
    assert not verify_webhook(BODY.replace(b"508", b"509"), sign(BODY), SECRET)
    assert not verify_webhook(BODY, "not base64!!", SECRET)
    assert not verify_webhook(BODY, "", SECRET)
    assert not verify_webhook(BODY, sign(BODY), "")


def test_order_topics_name_the_order_and_other_topics_none() -> None:
    for topic in ("orders/create", "orders/updated", "orders/paid"):
        assert parse_order_webhook(topic, BODY) == "gid://shopify/Order/820982911946154508"
    assert parse_order_webhook("orders/paid", {"id": 5}) == "gid://shopify/Order/5"
    assert parse_order_webhook("products/update", BODY) is None
    with pytest.raises(ValueError):
        parse_order_webhook("orders/create", b"{}")
