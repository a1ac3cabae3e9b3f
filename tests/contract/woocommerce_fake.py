"""A fake WooCommerce 11.0 REST API (``httpx.MockTransport``) that keeps the real server's rules.

Payloads and rules come from the capture of a real WooCommerce 11.0.1 in
``../shared/contracts/woocommerce-11.0`` (orders.json, orders.headers, error_401.json,
index_wc_v3.json): basic auth required (the captured 401 otherwise), only the query parameters the
route declares in the index (types and enums checked; anything else is a 400 ``rest_invalid_param``),
``X-WP-Total``/``X-WP-TotalPages``/``Link`` headers, over plain HTTP only OAuth 1.0a query
signatures (checked as ``WC_REST_Authentication::check_oauth_signature`` does: timestamp within
15 minutes, nonce used once, HMAC-SHA1/SHA256 with ``consumer_secret&``), and the ``modified_after``/``modified_before``
filters on ``date_modified_gmt`` with ``dates_are_gmt=true`` (on the local ``date_modified`` otherwise:
the fake site is in Europe/Paris, one hour ahead in November, so a forgotten flag shows).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx

CONTRACTS = Path(__file__).resolve().parents[1] / "fixtures" / "contracts"
"""Copies of ``shared/contracts`` (tests/fixtures/contracts/README.md)."""
CAPTURE = CONTRACTS / "woocommerce-11.0"
SITE = "https://shop.example.test"
API = "/wp-json/wc/v3"
KEY, SECRET = "ck_fake_0123456789abcdef", "cs_fake_fedcba9876543210"
LOCAL_OFFSET = timedelta(hours=1)  # Europe/Paris in November


def load(name: str) -> Any:
    return json.loads((CAPTURE / name).read_text(encoding="utf-8"))


def _route_args(route: str, method: str = "GET") -> dict[str, dict[str, Any]]:
    index = load("index_wc_v3.json")
    for endpoint in index["routes"][route]["endpoints"]:
        if method in endpoint["methods"]:
            return dict(endpoint["args"])
    raise KeyError(route)


def _error(status: int, code: str, message: str, **data: Any) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "message": message, "data": {"status": status, **data}})


def _invalid(name: str, reason: str) -> httpx.Response:
    return _error(400, "rest_invalid_param", f"Invalid parameter(s): {name}", params={name: reason})


def _check(name: str, value: str, spec: dict[str, Any]) -> str | None:
    """Why ``value`` is not valid for the argument ``spec`` (as WordPress's REST validation), or None."""
    kind = spec.get("type")
    if kind == "integer":
        if not value.lstrip("-").isdigit():
            return f"{name} is not of type integer."
        number = int(value)
        if "minimum" in spec and number < spec["minimum"]:
            return f"{name} must be greater than or equal to {spec['minimum']}"
        if "maximum" in spec and number > spec["maximum"]:
            return f"{name} must be between {spec.get('minimum', 0)} ({spec['minimum']}) and {spec['maximum']}"
    elif kind == "boolean":
        if value.lower() not in {"true", "false", "1", "0"}:
            return f"{name} is not of type boolean."
    elif kind == "array":
        items = spec.get("items") or {}
        for item in [v for v in value.split(",") if v]:
            reason = _check(name, item, items)
            if reason:
                return reason
    elif kind == "string" and spec.get("format") == "date-time":
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return "Invalid date."
    if "enum" in spec and kind != "array" and value not in spec["enum"]:
        return f"{name} is not one of {', '.join(spec['enum'])}."
    return None


def make_order(base: dict[str, Any], ident: int, modified_gmt: str, **changes: Any) -> dict[str, Any]:
    """A copy of a captured order with another id and modification time (local time one hour ahead)."""
    order = copy.deepcopy(base)
    local = (datetime.fromisoformat(modified_gmt) + LOCAL_OFFSET).isoformat()
    order.update(id=ident, number=str(ident), date_modified_gmt=modified_gmt, date_modified=local)
    order.update(changes)
    return order


class FakeWooCommerce:
    """Holds the orders; ``transport`` answers like WooCommerce; ``requests`` records what came."""

    def __init__(self, orders: list[dict[str, Any]] | None = None) -> None:
        self.orders = list(orders) if orders is not None else load("orders.json")
        self.requests: list[httpx.Request] = []
        self.nonces: set[str] = set()
        self.after_request: Callable[[FakeWooCommerce], None] | None = None
        """Called after each answer (a shop manager editing an order while the connector lists)."""
        self.fail_with: int | None = None
        """Answer every request with this status (a 5xx outage) while set."""
        self.args = _route_args("/wc/v3/orders")
        self.transport = httpx.MockTransport(self.handle)

    # -- the server --------------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        response = self._answer(request)
        if self.after_request is not None:
            self.after_request(self)
        return response

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.fail_with is not None:
            return httpx.Response(self.fail_with, text="<html><body>Service Unavailable</body></html>")
        if request.url.scheme == "https":
            if not self._authorised(request):
                return httpx.Response(401, json=load("error_401.json"))
            params = request.url.params
        else:  # WooCommerce ignores basic auth over plain HTTP
            refused = self._oauth_refusal(request)
            if refused is not None:
                return refused
            params = httpx.QueryParams(
                [(k, v) for k, v in request.url.params.multi_items() if not k.startswith("oauth_")]
            )
        if request.method != "GET" or request.url.path != f"{API}/orders":
            return _error(404, "rest_no_route", "No route was found matching the URL and request method.")
        for name in params:
            if name not in self.args:
                return _invalid(name, f"{name} is not a valid parameter.")
            reason = _check(name, ",".join(params.get_list(name)), self.args[name])
            if reason:
                return _invalid(name, reason)
        return self._list(params)

    def _authorised(self, request: httpx.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        return base64.b64decode(header[6:]).decode() == f"{KEY}:{SECRET}"

    def _oauth_refusal(self, request: httpx.Request) -> httpx.Response | None:
        """None when the OAuth 1.0a signature is WooCommerce-valid, else WooCommerce's 401."""
        params = dict(request.url.params.multi_items())
        required = ("oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature", "oauth_signature_method")
        if any(name not in params for name in required):
            return httpx.Response(401, json=load("error_401.json"))
        if params["oauth_consumer_key"] != KEY:
            return _error(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
        if abs(time.time() - int(params["oauth_timestamp"])) > 15 * 60:
            return _error(401, "woocommerce_rest_authentication_error", "Invalid timestamp.")
        if params["oauth_nonce"] in self.nonces:
            return _error(401, "woocommerce_rest_authentication_error", "Invalid nonce - nonce has already been used.")
        self.nonces.add(params["oauth_nonce"])
        given = unquote(params.pop("oauth_signature").replace(" ", "+"))
        algorithm = params["oauth_signature_method"].replace("HMAC-", "").lower()
        if algorithm not in {"sha1", "sha256"}:
            return _error(401, "woocommerce_rest_authentication_error", "Invalid signature method.")

        # as the PHP: uksort(strcmp) of $_GET (decoded), normalize_parameters (rawurlencode of names and
        # values), join_with_equals_sign (rawurlencode of "name=value"), implode("%26")
        def enc(text: str) -> str:
            return quote(text, safe="-._~")

        query = "%26".join(enc(f"{enc(k)}={enc(v)}") for k, v in sorted(params.items()))
        base_uri = quote(f"http://{request.url.netloc.decode()}{request.url.path}", safe="-._~")
        string_to_sign = f"{request.method}&{base_uri}&{query}"
        digest = hmac.new(f"{SECRET}&".encode(), string_to_sign.encode(), getattr(hashlib, algorithm)).digest()
        if not hmac.compare_digest(base64.b64encode(digest).decode(), given):
            return _error(
                401, "woocommerce_rest_authentication_error", "Invalid signature - provided signature does not match."
            )
        return None

    def _list(self, params: httpx.QueryParams) -> httpx.Response:
        statuses = set((params.get("status") or "any").split(","))
        rows = [o for o in self.orders if "any" in statuses or o["status"] in statuses]
        if "any" in statuses:
            rows = [o for o in rows if o["status"] not in {"trash", "auto-draft"}]
        if params.get("include"):
            wanted = {int(i) for i in params["include"].split(",")}
            rows = [o for o in rows if o["id"] in wanted]
        gmt = params.get("dates_are_gmt", "false").lower() in {"true", "1"}
        column = "date_modified_gmt" if gmt else "date_modified"
        if params.get("modified_after"):
            after = datetime.fromisoformat(params["modified_after"]).replace(tzinfo=None)
            rows = [o for o in rows if datetime.fromisoformat(o[column]) > after]
        if params.get("modified_before"):
            before = datetime.fromisoformat(params["modified_before"]).replace(tzinfo=None)
            rows = [o for o in rows if datetime.fromisoformat(o[column]) < before]
        key: Callable[[dict[str, Any]], Any] = {
            "modified": lambda o: (o["date_modified_gmt"], o["id"]),
            "id": lambda o: o["id"],
        }.get(params.get("orderby", "date"), lambda o: (o["date_created_gmt"], o["id"]))
        rows.sort(key=key, reverse=params.get("order", "desc") == "desc")
        per_page, page = int(params.get("per_page", 10)), int(params.get("page", 1))
        total = len(rows)
        pages = max(1, -(-total // per_page)) if total else 0
        body = rows[(page - 1) * per_page : page * per_page]
        links = []
        url = httpx.URL(f"{SITE}{API}/orders", params=params)
        if page > 1:
            links.append(f'<{url.copy_merge_params({"page": page - 1})}>; rel="prev"')
        if page < pages:
            links.append(f'<{url.copy_merge_params({"page": page + 1})}>; rel="next"')
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        if links:
            headers["Link"] = ", ".join(links)
        return httpx.Response(200, json=body, headers=headers)

    # -- test helpers ------------------------------------------------------------------------
    def order_requests(self) -> list[httpx.QueryParams]:
        return [r.url.params for r in self.requests if r.url.path == f"{API}/orders"]
