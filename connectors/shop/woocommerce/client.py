"""WooCommerce REST API v3 client on :mod:`connectors.http` (auth, pagination, error classification).

Auth: the REST key's consumer key and secret as HTTP basic auth, over HTTPS only. Over plain HTTP
WooCommerce accepts only OAuth 1.0a signatures (not implemented here): such a URL is refused with a
``Fatal`` before anything is sent, so the secret never travels in clear.

Pagination: WooCommerce answers ``X-WP-Total`` and ``X-WP-TotalPages`` on every list (and a ``Link``
header with ``rel="next"``); pages are 1-based, ``per_page`` at most 100.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from connectors.errors import Fatal
from connectors.http import HttpClient, HttpError, paginate_pages

__all__ = ["MAX_PER_PAGE", "WooCommerceClient", "api_url"]

MAX_PER_PAGE = 100
"""WooCommerce's upper bound for ``per_page``."""

_RESOLUTIONS = {
    401: (
        "check the consumer key and secret of the connection (WooCommerce > Settings > Advanced > REST API) "
        "and that the key has Read (or Read/Write) permissions and its user can manage WooCommerce."
    ),
    403: "give the REST key's user the capabilities of a shop manager (or use a Read/Write key).",
    404: "check the site URL of the connection (the API lives at <site>/wp-json/wc/v3) and that the resource exists.",
}


def api_url(site: str) -> str:
    """``<site>/wp-json/wc/v3`` (the site URL may already end with it)."""
    base = site.rstrip("/")
    return base if base.endswith("/wp-json/wc/v3") else f"{base}/wp-json/wc/v3"


class WooCommerceClient:
    """GET/list on the WooCommerce REST API with the REST key of the connection.

    Args:
        site: the shop's URL (``https://shop.example.com``), or the API root itself.
        consumer_key: ``ck_...`` of a REST key.
        consumer_secret: ``cs_...`` of the same key.
        transport: an httpx transport (tests plug their fake WooCommerce here).
    """

    platform = "WooCommerce"

    def __init__(
        self,
        site: str,
        *,
        consumer_key: str,
        consumer_secret: str,
        timeout: float = 60.0,
        rate_limit: float | None = None,
        max_retries: int = 3,
        backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
        verify: bool = True,
    ) -> None:
        base = api_url(site)
        if urlsplit(base).scheme != "https":
            raise Fatal(
                f"WooCommerce site {base!r} is not HTTPS: over plain HTTP WooCommerce accepts only OAuth 1.0a "
                "signatures, and basic auth would send the consumer secret in clear.",
                resolution="use the https:// URL of the shop (OAuth 1.0a over HTTP is not supported by passerelle).",
            )
        self.http = HttpClient(
            base,
            platform=self.platform,
            secrets=(consumer_key, consumer_secret),
            timeout=timeout,
            rate_limit=rate_limit,
            max_retries=max_retries,
            backoff=backoff,
            auth=(consumer_key, consumer_secret),
            transport=transport,
            verify=verify,
        )

    def close(self) -> None:
        self.http.close()

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> httpx.Response:
        """One GET; WooCommerce's own resolutions replace the generic ones for 401/403/404."""
        try:
            return self.http.request("GET", path.lstrip("/"), params=dict(params or {}))
        except HttpError as exc:
            resolution = _RESOLUTIONS.get(exc.status)
            if resolution is None:
                raise
            message = str(exc).split(" Resolution: ", 1)[0]
            raise HttpError(message, status=exc.status, body=exc.body, resolution=resolution) from None

    def list(self, path: str, params: Mapping[str, Any], *, per_page: int = MAX_PER_PAGE) -> Iterator[dict[str, Any]]:
        """Every item of a list route, page after page (``X-WP-TotalPages`` says when to stop)."""

        def fetch(page: int) -> tuple[list[dict[str, Any]], int | None]:
            response = self.get(path, {**params, "page": page, "per_page": min(per_page, MAX_PER_PAGE)})
            items = response.json()
            if not isinstance(items, list):
                raise Fatal(
                    f"WooCommerce answered {type(items).__name__} instead of a list on {path}.",
                    resolution="check the site URL and that no plugin rewrites the REST answers.",
                )
            pages = response.headers.get("X-WP-TotalPages")
            return items, int(pages) if pages and pages.isdigit() else None

        return paginate_pages(fetch)
