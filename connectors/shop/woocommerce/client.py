"""WooCommerce REST API v3 client on :mod:`connectors.http` (auth, pagination, error classification).

Auth: consumer key and secret as HTTP basic auth over HTTPS, or one-legged OAuth 1.0a query
signatures over plain HTTP (``auth="oauth1"``, :class:`OAuth1QueryAuth`: HMAC-SHA256, signing the
query string only); basic auth on an ``http://`` URL is a ``Fatal``. ``batch`` sends
``{"create": [...], "update": [...]}`` in chunks of 100 and returns the answers item by item, a
refused item as ``{"id": 0, "error": {...}}`` inside the 200. Lists are paged (``X-WP-Total``,
``X-WP-TotalPages``; 1-based, ``per_page`` at most 100).

Details: docs/woocommerce.md (The REST key; What each flow writes; Reading orders).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import httpx

from connectors.errors import Fatal, RequestTooLarge
from connectors.http import HttpClient, HttpError, paginate_pages

__all__ = ["MAX_BATCH", "MAX_PER_PAGE", "OAuth1QueryAuth", "WooCommerceClient", "api_url", "oauth1_signature"]

MAX_PER_PAGE = 100
"""WooCommerce's upper bound for ``per_page``."""

MAX_BATCH = 100
"""WooCommerce's upper bound for the items of one batch request (``woocommerce_rest_batch_items_limit``)."""

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


def _encode(value: str) -> str:
    """RFC 3986 percent-encoding (PHP's ``rawurlencode``, which WooCommerce uses)."""
    return quote(value, safe="-._~")


def oauth1_signature(method: str, url: str, params: list[tuple[str, str]], consumer_secret: str) -> str:
    """WooCommerce's OAuth 1.0a signature (HMAC-SHA256) of a request without ``oauth_signature``.

    As ``WC_REST_Authentication::check_oauth_signature``: parameters sorted by name, each name and
    value percent-encoded, each ``name=value`` percent-encoded again and joined with ``%26`` (RFC
    5849's base string); base string ``METHOD&enc(url)&params``; key ``consumer_secret&``.
    """
    pairs = sorted(params, key=lambda kv: kv[0].encode())
    query = "%26".join(_encode(f"{_encode(k)}={_encode(v)}") for k, v in pairs)
    base = f"{method.upper()}&{_encode(url)}&{query}"
    digest = hmac.new(f"{consumer_secret}&".encode(), base.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class OAuth1QueryAuth(httpx.Auth):
    """One-legged OAuth 1.0a in the query string, what WooCommerce requires over plain HTTP."""

    def __init__(
        self,
        consumer_key: str,
        consumer_secret: str,
        *,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = lambda: secrets.token_hex(16),
    ) -> None:
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.clock = clock
        self.nonce = nonce

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        oauth = {
            "oauth_consumer_key": self.consumer_key,
            "oauth_nonce": self.nonce(),
            "oauth_signature_method": "HMAC-SHA256",
            "oauth_timestamp": str(int(self.clock())),
        }
        params = [*request.url.params.multi_items(), *oauth.items()]
        url = str(request.url.copy_with(query=None, fragment=None))
        signature = oauth1_signature(request.method, url, params, self.consumer_secret)
        request.url = request.url.copy_merge_params({**oauth, "oauth_signature": signature})
        yield request


class WooCommerceClient:
    """GET/list, POST/PUT and batches on the WooCommerce REST API with the REST key of the connection.

    Args:
        site: the shop's URL (``https://shop.example.com``), or the API root itself.
        consumer_key: ``ck_...`` of a REST key.
        consumer_secret: ``cs_...`` of the same key.
        auth: ``"basic"`` (HTTPS) or ``"oauth1"`` (plain HTTP only, where WooCommerce requires it).
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
        auth: Literal["basic", "oauth1"] = "basic",
        transport: httpx.BaseTransport | None = None,
        verify: bool = True,
    ) -> None:
        base = api_url(site)
        https = urlsplit(base).scheme == "https"
        if auth == "basic" and not https:
            raise Fatal(
                f"WooCommerce site {base!r} is not HTTPS: over plain HTTP WooCommerce accepts only OAuth 1.0a "
                "signatures, and basic auth would send the consumer secret in clear.",
                resolution='use the https:// URL of the shop, or auth = "oauth1" if the shop has no HTTPS.',
            )
        if auth == "oauth1" and https:
            raise Fatal(
                f"WooCommerce site {base!r} is HTTPS: WooCommerce checks OAuth 1.0a signatures only over plain HTTP.",
                resolution='use auth = "basic" (the default) for an https:// shop.',
            )
        signer: httpx.Auth | tuple[str, str] = (
            OAuth1QueryAuth(consumer_key, consumer_secret) if auth == "oauth1" else (consumer_key, consumer_secret)
        )
        self.http = HttpClient(
            base,
            platform=self.platform,
            secrets=(consumer_key, consumer_secret),
            timeout=timeout,
            rate_limit=rate_limit,
            max_retries=max_retries,
            backoff=backoff,
            auth=signer,
            transport=transport,
            verify=verify,
        )

    @property
    def stats(self) -> Any:
        """Requests sent, retries, time (:class:`connectors.http.CallStats`)."""
        return self.http.stats

    def close(self) -> None:
        self.http.close()

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> httpx.Response:
        """One GET; WooCommerce's own resolutions replace the generic ones for 401/403/404."""
        return self._send("GET", path, params=params)

    def post(self, path: str, body: Mapping[str, Any], params: Mapping[str, Any] | None = None) -> Any:
        """One POST with a JSON body; the decoded answer. Not retried after a 5xx (it may have applied)."""
        return self._send("POST", path, params=params, json=dict(body)).json()

    def put(self, path: str, body: Mapping[str, Any]) -> Any:
        """One PUT with a JSON body (an update: retried like a GET); the decoded answer."""
        return self._send("PUT", path, json=dict(body)).json()

    def batch(
        self, path: str, *, create: Sequence[dict[str, Any]] = (), update: Sequence[dict[str, Any]] = ()
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """``POST <path>`` (a batch route) in chunks of :data:`MAX_BATCH` items: the created and the
        updated answers, one per item sent, in order (a refused one carries ``error``)."""
        created: list[dict[str, Any]] = []
        updated: list[dict[str, Any]] = []
        items = [("create", dict(c)) for c in create] + [("update", dict(u)) for u in update]
        for start in range(0, len(items), MAX_BATCH):
            self._batch_chunk(path, items[start : start + MAX_BATCH], created, updated)
        return created, updated

    def _batch_chunk(
        self,
        path: str,
        chunk: Sequence[tuple[str, dict[str, Any]]],
        created: list[dict[str, Any]],
        updated: list[dict[str, Any]],
    ) -> None:
        """One batch request; a body the web server refuses as too large (413: nothing was
        applied) is sent again in halves, down to one item, which alone too large is that item's
        refusal (an answer with ``error``, as WooCommerce gives a refused item)."""
        body: dict[str, list[dict[str, Any]]] = {}
        for kind, item in chunk:
            body.setdefault(kind, []).append(item)
        try:
            answer = self.post(path, body)
        except RequestTooLarge as exc:
            if len(chunk) == 1:
                kind, item = chunk[0]
                message = (
                    f"the web server refused this {kind} alone as too large ({exc.size} bytes, HTTP 413): "
                    "raise its request body limit (nginx client_max_body_size, Apache LimitRequestBody) "
                    "and PHP's post_max_size, or shorten the record"
                )
                refused = {"id": item.get("id", 0), "error": {"code": "request_too_large", "message": message}}
                (created if kind == "create" else updated).append(refused)
                return
            half = len(chunk) // 2
            self._batch_chunk(path, chunk[:half], created, updated)
            self._batch_chunk(path, chunk[half:], created, updated)
            return
        for kind, out in (("create", created), ("update", updated)):
            sent = body.get(kind, [])
            got = list(answer.get(kind) or []) if isinstance(answer, dict) else []
            if len(got) != len(sent):
                raise Fatal(
                    f"WooCommerce answered {len(got)} items for {len(sent)} sent to {path} ({kind}).",
                    resolution="check that no plugin rewrites the REST batch answers, and that the "
                    "request is within PHP's post_max_size (a larger body reaches WordPress empty).",
                )
            out.extend(got)

    def _send(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> httpx.Response:
        try:
            return self.http.request(method, path.lstrip("/"), params=dict(params or {}), **kwargs)
        except HttpError as exc:
            resolution = _RESOLUTIONS.get(exc.status)
            if resolution is None:
                raise
            message = str(exc).split(" Resolution: ", 1)[0]
            raise HttpError(message, status=exc.status, body=exc.body, resolution=resolution) from None

    def page(
        self, path: str, params: Mapping[str, Any], page: int, *, per_page: int = MAX_PER_PAGE
    ) -> tuple[list[dict[str, Any]], int | None]:
        """One page of a list route and the number of pages (``X-WP-TotalPages``; None if absent)."""
        response = self.get(path, {**params, "page": page, "per_page": min(per_page, MAX_PER_PAGE)})
        items = response.json()
        if not isinstance(items, list):
            raise Fatal(
                f"WooCommerce answered {type(items).__name__} instead of a list on {path}.",
                resolution="check the site URL and that no plugin rewrites the REST answers.",
            )
        pages = response.headers.get("X-WP-TotalPages")
        return items, int(pages) if pages and pages.isdigit() else None

    def list(self, path: str, params: Mapping[str, Any], *, per_page: int = MAX_PER_PAGE) -> Iterator[dict[str, Any]]:
        """Every item of a list route, page after page (``X-WP-TotalPages`` says when to stop)."""
        return paginate_pages(lambda page: self.page(path, params, page, per_page=per_page))
