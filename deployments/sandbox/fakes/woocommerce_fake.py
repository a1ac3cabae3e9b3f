"""A fake WooCommerce REST API (``httpx.MockTransport``) that keeps the real server's rules.

Every rule names its source next to the code: a capture (``tests/fixtures/contracts``, copies of
``shared/contracts``: ``woocommerce-11.0`` from a real 11.0.1, ``woocommerce-10.0-live`` observed
on a live 10.0.2 through this connector), WooCommerce's or WordPress's source (file or function),
or "stricter than the real platform" (a check the real shop does not make, kept to catch a
malformed request of the connector's). When a capture and the source disagree, the capture wins.
It serves the routes of the captured index, validates their declared arguments and ignores the
others, and keeps products, attributes, brands, settings and orders as WooCommerce does;
:meth:`FakeWooCommerce.without_brands` plays a WooCommerce older than 9.6.

Details: docs/connectors.md (Contract tests and the fake), tests/fixtures/contracts/README.md,
docs/woocommerce.md (How it is tested).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import html
import itertools
import json
import re
import time
import unicodedata
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx

CONTRACTS = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "contracts"
"""Copies of ``shared/contracts`` (tests/fixtures/contracts/README.md)."""
CAPTURE = CONTRACTS / "woocommerce-11.0"
LIVE = CONTRACTS / "woocommerce-10.0-live"
"""What a live WooCommerce 10.0.2 did with passerelle's own requests (its README says what each file shows)."""
SITE = "https://shop.example.test"
API = "/wp-json/wc/v3"
KEY, SECRET = "ck_fake_0123456789abcdef", "cs_fake_fedcba9876543210"
LOCAL_OFFSET = timedelta(hours=1)  # Europe/Paris in November


def load(name: str, folder: Path = CAPTURE) -> Any:
    return json.loads((folder / name).read_text(encoding="utf-8"))


_INDEX: dict[str, Any] = {}


def _index() -> dict[str, Any]:
    if not _INDEX:
        _INDEX.update(load("index_wc_v3.json")["routes"])
    return _INDEX


def _route_args(route: str, method: str = "GET") -> dict[str, dict[str, Any]]:
    index = {"routes": _index()}
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


_HANDLERS = {
    ("GET", "/wc/v3"): "_route_index",
    ("GET", "/wc/v3/orders"): "_list_orders",
    ("GET", "/wc/v3/orders/(?P<id>[\\d]+)"): "_get_order",
    ("PUT", "/wc/v3/orders/(?P<id>[\\d]+)"): "_update_order",
    ("GET", "/wc/v3/orders/(?P<order_id>[\\d]+)/notes"): "_list_notes",
    ("POST", "/wc/v3/orders/(?P<order_id>[\\d]+)/notes"): "_add_note",
    ("GET", "/wc/v3/products"): "_list_products",
    ("GET", "/wc/v3/products/(?P<id>[\\d]+)"): "_get_product",
    ("POST", "/wc/v3/products/batch"): "_batch_products",
    ("PUT", "/wc/v3/products/batch"): "_batch_products",
    ("GET", "/wc/v3/products/(?P<product_id>[\\d]+)/variations"): "_list_variations",
    ("POST", "/wc/v3/products/(?P<product_id>[\\d]+)/variations/batch"): "_batch_variations",
    ("PUT", "/wc/v3/products/(?P<product_id>[\\d]+)/variations/batch"): "_batch_variations",
    ("GET", "/wc/v3/products/attributes"): "_list_attributes",
    ("POST", "/wc/v3/products/attributes"): "_add_attribute",
    ("PUT", "/wc/v3/products/attributes/(?P<id>[\\d]+)"): "_update_attribute",
    ("GET", "/wc/v3/products/attributes/(?P<attribute_id>[\\d]+)/terms"): "_list_terms",
    ("POST", "/wc/v3/products/attributes/(?P<attribute_id>[\\d]+)/terms"): "_add_term",
    ("GET", "/wc/v3/products/categories"): "_list_categories",
    ("GET", "/wc/v3/products/brands"): "_list_brands",
    ("POST", "/wc/v3/products/brands"): "_add_brand",
    ("POST", "/wc/v3/products/categories"): "_add_category",
    ("GET", "/wc/v3/taxes/classes"): "_list_tax_classes",
    ("GET", "/wc/v3/data/currencies/current"): "_current_currency",
    ("GET", "/wc/v3/settings/(?P<group_id>[\\w-]+)/(?P<id>[\\w-]+)"): "_get_setting",
}
"""Routes of the captured index the fake serves; any other route of the index is a 404 here."""


def _match(
    method: str, path: str, routes: dict[str, Any] | None = None
) -> tuple[str, dict[str, Any], dict[str, str]] | None:
    """(index route, its arguments for ``method``, path arguments) of a request, as WordPress routes it."""
    if not path.startswith("/wp-json"):
        return None
    local = path[len("/wp-json") :].rstrip("/")  # WordPress ignores a trailing slash
    verb = "PUT" if method == "PATCH" else method
    for route, spec in (routes if routes is not None else _index()).items():
        found = re.fullmatch(route, local)
        if found is None or (verb, route) not in _HANDLERS:
            continue
        for endpoint in spec["endpoints"]:
            if method in endpoint["methods"]:
                return route, dict(endpoint["args"]), found.groupdict()
    return None


_JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}


def _check_value(name: str, value: Any, spec: dict[str, Any]) -> str | None:
    """Why a JSON value does not fit its schema (``rest_validate_value_from_schema``), or None."""
    kinds = spec.get("type")
    if kinds is not None:
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if not any(_JSON_TYPES.get(k, lambda v: True)(value) for k in kinds):
            return f"{name} is not of type {','.join(kinds)}."
    if "enum" in spec and value not in spec["enum"]:
        return f"{name} is not one of {', '.join(map(str, spec['enum']))}."
    if isinstance(value, list) and "items" in spec:
        for i, item in enumerate(value):
            reason = _check_value(f"{name}[{i}]", item, spec["items"])
            if reason:
                return reason
    if isinstance(value, dict) and "properties" in spec:
        for key, item in value.items():
            prop = spec["properties"].get(key)
            if prop is None:
                continue  # WordPress lets unknown properties of an object through
            reason = _check_value(f"{name}[{key}]", item, prop)
            if reason:
                return reason
    return None


def _declared(item: dict[str, Any], args: dict[str, Any], path_args: dict[str, str], *, update: bool) -> dict[str, Any]:
    """What WooCommerce reads of a body: the declared arguments (and ``id`` of a batch update).
    Anything else is ignored, never refused: WordPress validates registered arguments only
    (``WP_REST_Request::has_valid_params``) and the controllers read known fields only
    (``prepare_object_for_database``)."""
    return {k: v for k, v in item.items() if (k in args and k not in path_args) or (update and k == "id")}


def _check_item(item: Any, args: dict[str, Any], path_args: dict[str, str], *, prefix: str = "") -> str | None:
    """Why a declared field of ``item`` does not fit its schema (``rest_validate_value_from_schema``)."""
    if not isinstance(item, dict):
        return f"{prefix or 'body'} is not of type object."
    for key, value in _declared(item, args, path_args, update=prefix.startswith("update")).items():
        spec = args.get(key) if key != "id" or not prefix.startswith("update") else {"type": "integer"}
        reason = _check_value(f"{prefix}{key}", value, spec or {})
        if reason:
            return reason
    return None


def _check_body(route: str, body: Any, args: dict[str, Any], path_args: dict[str, str]) -> httpx.Response | None:
    """The 400 (or 413) WooCommerce answers a body, or None.

    A single request: a missing required argument is ``rest_missing_callback_param``, a declared
    argument of the wrong type ``rest_invalid_param`` (``WP_REST_Request::has_valid_params``).
    A batch: more than 100 items is the 413 of ``WC_REST_Controller::check_batch_limit``; its items
    are not validated by WordPress (``WC_REST_Controller::batch_items`` calls ``create_item`` /
    ``update_item`` directly), so the type checks of the items here are stricter than the real
    platform (they catch a malformed body of the connector's); undeclared fields are ignored.
    """
    if route.endswith("/batch"):
        if not isinstance(body, dict):
            return _invalid("batch", "body is not of type object.")  # stricter than the real platform
        limit = 100  # woocommerce_rest_batch_items_limit's default (WC_REST_Controller::check_batch_limit)
        if sum(len(body.get(k) or []) for k in ("create", "update", "delete")) > limit:
            return _error(
                413,
                "woocommerce_rest_request_entity_too_large",
                f"Unable to accept more than {limit} items for this request.",
            )
        for kind in ("create", "update"):
            for i, item in enumerate(body.get(kind) or []):
                reason = _check_item(item, args, path_args, prefix=f"{kind}[{i}].")
                if reason:  # stricter than the real platform (see above)
                    return _invalid(reason.split(" ")[0], reason)
        return None
    if not isinstance(body, dict):
        return _invalid("body", "body is not of type object.")
    missing = [k for k, spec in args.items() if spec.get("required") and k not in body and k not in path_args]
    if missing:
        return _error(400, "rest_missing_callback_param", f"Missing parameter(s): {', '.join(missing)}", params=missing)
    reason = _check_item(body, args, path_args)
    if reason:
        return _invalid(reason.split(" ")[0], reason)
    return None


def _readable(route: str, body: Any, args: dict[str, Any], path_args: dict[str, str]) -> Any:
    """The body as the handler reads it: undeclared fields (and batch items' ones) left out."""
    if not isinstance(body, dict):
        return body
    if route.endswith("/batch"):
        return {
            kind: [_declared(item, args, path_args, update=kind == "update") for item in body.get(kind) or []]
            for kind in ("create", "update", "delete")
            if kind in body
        }
    return _declared(body, args, path_args, update=False)


_STATUS_LABELS = {
    "pending": "Pending payment", "processing": "Processing", "on-hold": "On hold", "completed": "Completed",
    "cancelled": "Cancelled", "refunded": "Refunded", "failed": "Failed", "checkout-draft": "Draft",
}  # fmt: skip
"""``wc_get_order_statuses``' labels, which the status notes use (the live capture: "On hold to Completed")."""

_RESERVED = frozenset(
    "attachment author calendar cat category day error feed hour m minute name order orderby p page paged "
    "post posts preview s search second static tag taxonomy term type w year".split()
)
"""Some of the slugs ``wc_check_if_attribute_name_is_reserved`` refuses (WordPress query variables)."""


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
        self.max_body: int | None = None
        """The web server's request body limit in bytes (None: none). Source: not WooCommerce but
        the server in front of it: nginx's ``client_max_body_size`` (default 1m) answers 413
        "Request Entity Too Large" before PHP runs, so nothing is applied (nginx docs,
        ngx_http_core_module). Not observed on the live shops (their bodies stayed under it)."""
        self.args = _route_args("/wc/v3/orders")
        self.transport = httpx.MockTransport(self.handle)
        self.ids = itertools.count(100)
        self.currency = "EUR"
        self.tax_classes: list[dict[str, Any]] = load("taxes_classes.json")
        self.attributes: dict[int, dict[str, Any]] = {}
        """Global attributes: none on a fresh shop (observed on the live WooCommerce 10.0,
        woocommerce-10.0-live/README.md); :meth:`add_attribute` makes one. The captured products
        keep the attribute rows they were captured with (``Size``, id 1, of the 11.0 capture's shop)."""
        self.terms: dict[int, list[dict[str, Any]]] = {}
        self.categories: dict[int, dict[str, Any]] = {c["id"]: c for c in load("products_categories.json")}
        self.brands: dict[int, dict[str, Any]] = {}
        """The product_brand terms (WooCommerce 9.6+ core Brands; none on a fresh shop)."""
        self.products: dict[int, dict[str, Any]] = {p["id"]: p for p in load("products.json")}
        self.variations: dict[int, dict[str, Any]] = {v["id"]: v for v in load("products_ID_variations.json")}
        self.notes: dict[int, list[dict[str, Any]]] = {14: load("orders_ID_notes.json")}
        self.prices_include_tax = "no"
        """WooCommerce > Settings > Tax > "Prices entered with tax" (``woocommerce_prices_include_tax``;
        "no" is its default, and what the live 10.0 shop had)."""
        self.taxes_enabled = True
        """WooCommerce > Settings > General > "Enable tax rates and calculations" (the live shop: on)."""
        self.clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
        """The shop's clock (order saves stamp their dates with it)."""
        self.index: dict[str, Any] = load("index_wc_v3.json")
        """What ``GET /wp-json/wc/v3`` answers (a test removes a field to play an older WooCommerce)."""

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
        if self.max_body is not None and len(request.content) > self.max_body:
            return httpx.Response(413, text="<html><head><title>413 Request Entity Too Large</title></head></html>")
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
        found = _match(request.method, request.url.path, self.index["routes"])
        if found is None:
            return _error(404, "rest_no_route", "No route was found matching the URL and request method.")
        route, args, path_args = found
        # WordPress validates the declared query arguments (types, enums, bounds: the 400
        # rest_invalid_param of WP_REST_Request::has_valid_params) and ignores any other one
        for name in params:
            if name in args and name not in path_args:
                reason = _check(name, ",".join(params.get_list(name)), args[name])
                if reason:
                    return _invalid(name, reason)
        params = httpx.QueryParams([(k, v) for k, v in params.multi_items() if k in args and k not in path_args])
        body: Any = None
        if request.method in {"POST", "PUT", "PATCH"}:
            try:
                body = json.loads(request.content or b"{}")
            except ValueError:  # WP_REST_Server::serve_request (WP_REST_Request::has_valid_params)
                return _error(400, "rest_invalid_json", "Invalid JSON body passed.")
            refused = _check_body(route, body, args, path_args)
            if refused is not None:
                return refused
            body = _readable(route, body, args, path_args)
        handler = getattr(self, _HANDLERS[(request.method if request.method != "PATCH" else "PUT", route)])
        return handler(params, body, **path_args)

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
        if "any" in statuses:  # "any" lists every order status but trash and auto-draft (WP_Query's "any")
            rows = [o for o in rows if o["status"] not in {"trash", "auto-draft"}]
        if params.get("include"):
            wanted = {int(i) for i in params["include"].split(",")}
            rows = [o for o in rows if o["id"] in wanted]
        gmt = params.get("dates_are_gmt", "false").lower() in {"true", "1"}
        column = "date_modified_gmt" if gmt else "date_modified"  # WC_REST_Orders_Controller::prepare_objects_query
        # strict bounds: whether WordPress's date query includes them was not observed; the connector
        # widens the window by a second on each side, so this is stricter than the real platform
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

    def writes(self) -> list[tuple[str, str, Any]]:
        """(method, path under /wc/v3, JSON body) of every write the fake received."""
        return [
            (r.method, r.url.path.removeprefix(API), json.loads(r.content or b"null"))
            for r in self.requests
            if r.method != "GET"
        ]

    def variation_by_sku(self, sku: str) -> dict[str, Any]:
        return next(v for v in self.variations.values() if v["sku"] == sku)

    def product_by_sku(self, sku: str) -> dict[str, Any]:
        return next(p for p in self.products.values() if p["sku"] == sku)

    # -- routes ------------------------------------------------------------------------------
    def _paged(self, path: str, rows: list[dict[str, Any]], params: httpx.QueryParams) -> httpx.Response:
        per_page, page = int(params.get("per_page", 10)), int(params.get("page", 1))
        total = len(rows)
        pages = max(1, -(-total // per_page)) if total else 0
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        if page < pages:
            url = httpx.URL(f"{SITE}{API}/{path}", params=params)
            headers["Link"] = f'<{url.copy_merge_params({"page": page + 1})}>; rel="next"'
        return httpx.Response(200, json=rows[(page - 1) * per_page : page * per_page], headers=headers)

    def _list_orders(self, params: httpx.QueryParams, body: Any) -> httpx.Response:
        return self._list(params)

    def _order(self, ident: str) -> dict[str, Any] | None:
        return next((o for o in self.orders if str(o["id"]) == ident), None)

    def _no_order(self) -> httpx.Response:
        # WC_REST_Orders_V2_Controller: "woocommerce_rest_{post_type}_invalid_id" for an unknown order
        return _error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")

    def _get_order(self, params: httpx.QueryParams, body: Any, id: str) -> httpx.Response:
        order = self._order(id)
        return self._no_order() if order is None else httpx.Response(200, json=order)

    def _update_order(self, params: httpx.QueryParams, body: Any, id: str) -> httpx.Response:
        order = self._order(id)
        if order is None:
            return self._no_order()
        self.update_order(order, body)
        return httpx.Response(200, json=order)

    def update_order(self, order: dict[str, Any], changes: dict[str, Any]) -> None:
        """An order saved with ``changes`` (meta_data, status, transaction_id): what ``PUT
        /orders/<id>`` does, and what a shop manager's edit in the admin does (a test plays the
        merchant with it). As WooCommerce (order_after_status_completed_unpaid_bacs.json, observed;
        ``WC_Order::set_status``): a status change adds the note with the statuses' labels, sets
        ``date_paid`` when the order reaches its paid status without one (``maybe_set_date_paid``:
        processing, or completed past it) and ``date_completed`` on completed
        (``maybe_set_date_completed``); every save bumps ``date_modified`` (the order data store's
        update), all at the moment of the change."""
        now = self.clock().astimezone(timezone.utc).replace(tzinfo=None, microsecond=0)
        for meta in changes.get("meta_data") or []:
            rows = order.setdefault("meta_data", [])
            existing = next((m for m in rows if m["key"] == meta["key"]), None)
            if existing is not None:
                existing["value"] = meta.get("value")
            else:
                rows.append({"id": next(self.ids), "key": meta["key"], "value": meta.get("value")})
        if "transaction_id" in changes:
            order["transaction_id"] = changes["transaction_id"]
        status = changes.get("status")
        if status is not None and status != order["status"]:
            labels = (_STATUS_LABELS.get(order["status"], order["status"]), _STATUS_LABELS.get(status, status))
            self._note(int(order["id"]), "Order status changed from {} to {}.".format(*labels), customer=False)
            order["status"] = status
            paid_status = "processing" if order.get("needs_processing", True) else "completed"
            if not order.get("date_paid_gmt") and status in {paid_status, "completed"}:
                self._set_date(order, "date_paid", now)
            if status == "completed":
                self._set_date(order, "date_completed", now)
        self._set_date(order, "date_modified", now)

    def _set_date(self, order: dict[str, Any], field: str, when: datetime) -> None:
        order[f"{field}_gmt"] = when.isoformat()
        order[field] = (when + LOCAL_OFFSET).isoformat()

    def _note(self, order_id: int, text: str, *, customer: bool) -> dict[str, Any]:
        note = {"id": next(self.ids), "author": "WooCommerce", "date_created": "2026-11-23T10:00:00",
                "date_created_gmt": "2026-11-23T09:00:00", "note": text, "customer_note": customer}  # fmt: skip
        self.notes.setdefault(order_id, []).insert(0, note)
        return note

    def _list_notes(self, params: httpx.QueryParams, body: Any, order_id: str) -> httpx.Response:
        if self._order(order_id) is None:
            return self._no_order()
        kind = params.get("type", "any")
        rows = [
            n for n in self.notes.get(int(order_id), []) if kind == "any" or n["customer_note"] == (kind == "customer")
        ]
        return httpx.Response(200, json=rows)

    def _add_note(self, params: httpx.QueryParams, body: Any, order_id: str) -> httpx.Response:
        if self._order(order_id) is None:
            return self._no_order()
        note = self._note(int(order_id), body["note"], customer=bool(body.get("customer_note")))
        return httpx.Response(201, json=note)

    def _list_products(self, params: httpx.QueryParams, body: Any) -> httpx.Response:
        rows = list(self.products.values())
        status = params.get("status", "any")
        rows = (
            [p for p in rows if p["status"] != "trash"]
            if status == "any"
            else [p for p in rows if p["status"] == status]
        )
        if params.get("sku"):  # variations too when a SKU is given (observed: woocommerce-10.0-live/README.md)
            wanted = params["sku"].split(",")
            rows = [p for p in [*rows, *self.variations.values()] if p["sku"] in wanted]
        if params.get("slug"):
            rows = [p for p in rows if p["slug"] == params["slug"]]
        if params.get("type"):
            rows = [p for p in rows if p["type"] == params["type"]]
        if params.get("include"):
            wanted = {int(i) for i in params["include"].split(",")}
            rows = [p for p in rows if p["id"] in wanted]
        return self._paged("products", sorted(rows, key=lambda p: -p["id"]), params)

    def _get_product(self, params: httpx.QueryParams, body: Any, id: str) -> httpx.Response:
        product = self.products.get(int(id))
        return (
            httpx.Response(404, json=load("error_404.json")) if product is None else httpx.Response(200, json=product)
        )

    def _sku_taken(self, sku: str, own: int | None = None) -> int | None:
        """Who holds a SKU (products and variations share them: wc_product_has_unique_sku; the
        captured product_invalid_sku answer)."""
        for item in [*self.products.values(), *self.variations.values()]:
            if sku and item["sku"] == sku and item["id"] != own:
                return int(item["id"])
        return None

    def _sku_error(self, sku: str, holder: int) -> dict[str, Any]:
        captured = load("products_batch_create_with_duplicate_sku.json")["create"][1]
        error = copy.deepcopy(captured)
        error["error"]["data"].update(resource_id=holder, unique_sku=f"{sku}-1")
        return error

    def _apply(self, item: dict[str, Any], changes: dict[str, Any]) -> None:
        """Fields as WooCommerce stores them (ids resolved to names; a non-numeric price dropped)."""
        for key, value in changes.items():
            if key in {"regular_price", "sale_price"}:  # "abc" dropped: error_400_bad_price.json
                item[key] = value if value == "" or re.fullmatch(r"\d+(\.\d+)?", value) else ""
            elif key == "categories":
                item[key] = [{"id": c["id"], "name": self.categories[c["id"]]["name"],
                              "slug": self.categories[c["id"]]["slug"]} for c in value if c.get("id") in self.categories]  # fmt: skip
            elif key == "brands":
                # WC_Brands::rest_api_add_brands_to_product writes only a non-empty list: [] is ignored
                # (products_batch_update_brands_empty.json); wp_set_object_terms then replaces the
                # product's brands, an unknown (or 0) term id skipped: [{"id": 0}] removes them all
                if value:
                    item[key] = [{"id": b["id"], "name": self.brands[b["id"]]["name"], "slug": self.brands[b["id"]]["slug"]}
                                 for b in value if b.get("id") in self.brands]  # fmt: skip
            elif key == "attributes" and item.get("type") == "variation":
                item[key] = [{"id": a["id"], "name": self.attributes[a["id"]]["name"],
                              "slug": self.attributes[a["id"]]["slug"], "option": a["option"]} for a in value]  # fmt: skip
            elif key == "attributes":  # the whole list is replaced: an attribute left out is gone
                item[key] = [self._product_attribute(a) for a in value]
                item[key] = [a for a in item[key] if a is not None]
            elif key.startswith("date_on_sale_"):
                # WC_REST_Products_Controller::prepare_object_for_database tests isset(): null leaves
                # the date, "" clears it
                if value is not None:
                    item[key] = value or None
                    item[key.removesuffix("_gmt")] = value or None
            elif key == "images":
                item[key] = [{"id": next(self.ids), "src": i["src"], "name": "", "alt": ""} for i in value]
            elif key == "meta_data":
                rows = item.setdefault("meta_data", [])
                for meta in value:
                    found = next((m for m in rows if m["key"] == meta["key"]), None)
                    if found is None:
                        rows.append({"id": next(self.ids), "key": meta["key"], "value": meta.get("value")})
                    else:
                        found["value"] = meta.get("value")
            else:
                item[key] = value
        if item.get("manage_stock") is False:  # the REST answer's stock_quantity is null when not managed
            item["stock_quantity"] = None
        sale = item.get("sale_price") or ""
        item["price"] = sale if sale else item.get("regular_price", "")
        item["on_sale"] = bool(sale)
        if item.get("type") in {"simple", "variation"}:
            item["purchasable"] = item["price"] != ""  # no price, not for sale (error_400_bad_price.json)

    def _product_attribute(self, given: dict[str, Any]) -> dict[str, Any] | None:
        """A product attribute as WooCommerce stores it: a global one (id of ``pa_*``) with the
        options that are its terms; a custom one (id 0 or none, with a name) with its options as
        given; None when nothing is left (an unknown id, no term, no name)."""
        common = {"position": given.get("position", 0), "visible": given.get("visible", False),
                  "variation": given.get("variation", False)}  # fmt: skip
        ident = given.get("id") or 0
        if ident in self.attributes:
            options = self._term_names(given)
            found = self.attributes[ident]
            return (
                {"id": ident, "name": found["name"], "slug": found["slug"], **common, "options": options}
                if options
                else None
            )
        if ident == 0 and given.get("name"):
            return {
                "id": 0,
                "name": given["name"],
                "slug": given["name"],
                **common,
                "options": list(given.get("options") or []),
            }
        return None

    def _term_names(self, attribute: dict[str, Any]) -> list[str]:
        """The options of a global attribute as WooCommerce keeps them: a name that is not a term of
        the attribute is dropped (``get_term_by('name')`` finds nothing); no term left, no attribute."""
        terms = {html.unescape(t["name"]).casefold(): t["name"] for t in self.terms.get(attribute["id"], [])}
        return [terms[o.casefold()] for o in attribute.get("options") or [] if o.casefold() in terms]

    def _batch_products(self, params: httpx.QueryParams, body: Any) -> httpx.Response:
        answer: dict[str, list[dict[str, Any]]] = {}
        template = load("products_batch_create_with_duplicate_sku.json")["create"][0]
        for item in body.get("create") or []:
            holder = self._sku_taken(item.get("sku", ""))
            if holder is not None:
                answer.setdefault("create", []).append(self._sku_error(item["sku"], holder))
                continue
            product = copy.deepcopy(template)
            product.update(id=next(self.ids), sku="", name="", slug="", related_ids=[], categories=[], meta_data=[])
            self._apply(product, item)
            product["slug"] = product["slug"] or re.sub(r"[^a-z0-9]+", "-", product["name"].lower()).strip("-")
            self.products[product["id"]] = product
            answer.setdefault("create", []).append(product)
        for item in body.get("update") or []:
            product = self.products.get(item["id"])
            if product is None:
                answer.setdefault("update", []).append({"id": item["id"], "error": {
                    "code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID.", "data": {"status": 400}}})  # fmt: skip
                continue
            holder = self._sku_taken(item.get("sku", ""), own=product["id"])
            if holder is not None:
                answer.setdefault("update", []).append({**self._sku_error(item["sku"], holder), "id": product["id"]})
                continue
            self._apply(product, {k: v for k, v in item.items() if k != "id"})
            answer.setdefault("update", []).append(product)
        return httpx.Response(200, json=answer)

    def _list_variations(self, params: httpx.QueryParams, body: Any, product_id: str) -> httpx.Response:
        # an unknown parent: the 404 of WC_REST_Product_Variations_Controller (its message, its code
        # not captured: the connector only reads variations of products it holds)
        if int(product_id) not in self.products:
            return _error(404, "woocommerce_rest_product_variation_invalid_parent", "Invalid parent ID.")
        rows = [v for v in self.variations.values() if v["parent_id"] == int(product_id)]
        if params.get("include"):
            wanted = {int(i) for i in params["include"].split(",")}
            rows = [v for v in rows if v["id"] in wanted]
        if params.get("sku"):
            rows = [v for v in rows if v["sku"] in params["sku"].split(",")]
        return self._paged(f"products/{product_id}/variations", sorted(rows, key=lambda v: -v["id"]), params)

    def _batch_variations(self, params: httpx.QueryParams, body: Any, product_id: str) -> httpx.Response:
        parent = self.products.get(int(product_id))
        # variations only under a variable product: WooCommerce checks the parent exists; the type
        # check was not seen on the real platform, so count it stricter (the connector never needs it)
        if parent is None or parent["type"] != "variable":
            return _error(404, "woocommerce_rest_product_variation_invalid_parent", "Invalid parent ID.")
        answer: dict[str, list[dict[str, Any]]] = {}
        template = load("products_ID_variations.json")[0]
        for item in body.get("create") or []:
            holder = self._sku_taken(item.get("sku", ""))
            if holder is not None:
                answer.setdefault("create", []).append(self._sku_error(item["sku"], holder))
                continue
            variation = copy.deepcopy(template)
            variation.update(id=next(self.ids), parent_id=parent["id"], sku="", regular_price="", meta_data=[],
                             manage_stock=False, stock_quantity=None, attributes=[])  # fmt: skip
            self._apply(variation, item)
            variation["name"] = ", ".join(a["option"] for a in variation["attributes"])
            self.variations[variation["id"]] = variation
            parent["variations"].append(variation["id"])
            answer.setdefault("create", []).append(variation)
        for item in body.get("update") or []:
            variation = self.variations.get(item["id"])
            if variation is None or variation["parent_id"] != parent["id"]:
                answer.setdefault("update", []).append({"id": item["id"], "error": {
                    "code": "woocommerce_rest_product_variation_invalid_id", "message": "Invalid ID.", "data": {"status": 400}}})  # fmt: skip
                continue
            holder = self._sku_taken(item.get("sku", ""), own=variation["id"])
            if holder is not None:
                answer.setdefault("update", []).append({**self._sku_error(item["sku"], holder), "id": variation["id"]})
                continue
            self._apply(variation, {k: v for k, v in item.items() if k != "id"})
            answer.setdefault("update", []).append(variation)
        return httpx.Response(200, json=answer)

    def _list_attributes(self, params: httpx.QueryParams, body: Any) -> httpx.Response:
        # every attribute in one answer, no paging (WC_REST_Product_Attributes_Controller::get_items)
        return httpx.Response(200, json=list(self.attributes.values()))

    def _add_attribute(self, params: httpx.QueryParams, body: Any) -> httpx.Response:
        """``wc_create_attribute``: the slug is the sanitized slug or name (accents dropped, lower
        case, ``pa_`` in the taxonomy); one in use is refused, the error wrapped by the REST
        controller as ``woocommerce_rest_cannot_create``. The name is the label, as given."""
        plain = unicodedata.normalize("NFKD", body.get("slug") or body["name"]).encode("ascii", "ignore").decode()
        slug = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:28]
        if slug in _RESERVED:
            return _error(400, "woocommerce_rest_cannot_create",
                          f'Slug "{slug}" is not allowed because it is a reserved term. Change it, please.')  # fmt: skip
        if any(a["slug"] == f"pa_{slug}" for a in self.attributes.values()):
            return _error(400, "woocommerce_rest_cannot_create", f'Slug "{slug}" is already in use. Change it, please.')
        attribute = {**{k: v for k, v in load("products_attributes.json")[0].items() if k != "_links"},
                     "id": next(self.ids), "name": body["name"], "slug": f"pa_{slug}"}  # fmt: skip
        self.attributes[attribute["id"]] = attribute
        self.terms[attribute["id"]] = []
        return httpx.Response(201, json=attribute)

    def _update_attribute(self, params: httpx.QueryParams, body: Any, id: str) -> httpx.Response:
        """``WC_REST_Product_Attributes_V1_Controller::update_item`` (``wc_update_attribute``): the
        fields sent change, the name as given, the slug kept when none is sent; an unknown id is
        the controller's ``get_taxonomy`` 404 ``woocommerce_rest_taxonomy_invalid``. Only the name
        is played here (the one field passerelle updates)."""
        attribute = self.attributes.get(int(id))
        if attribute is None:
            return _error(404, "woocommerce_rest_taxonomy_invalid", "Resource does not exist.")
        if "name" in body:
            attribute["name"] = body["name"]
        return httpx.Response(200, json=attribute)

    def _list_terms(self, params: httpx.QueryParams, body: Any, attribute_id: str) -> httpx.Response:
        # an unknown attribute: WC_REST_Terms_Controller::check_permissions (get_taxonomy)
        if int(attribute_id) not in self.attributes:
            return _error(404, "woocommerce_rest_taxonomy_invalid", "Resource does not exist.")
        return self._paged(f"products/attributes/{attribute_id}/terms", self.terms[int(attribute_id)], params)

    def _add_term(self, params: httpx.QueryParams, body: Any, attribute_id: str) -> httpx.Response:
        if int(attribute_id) not in self.attributes:
            return _error(404, "woocommerce_rest_taxonomy_invalid", "Resource does not exist.")
        terms = self.terms[int(attribute_id)]
        # wp_insert_term: a name already used in the taxonomy (same parent) is term_exists
        if any(t["name"].lower() == body["name"].lower() for t in terms):
            return _error(400, "term_exists", "A term with the name provided already exists with this parent.")
        term = {"id": next(self.ids), "name": body["name"], "slug": body["name"].lower(), "description": "",
                "menu_order": len(terms), "count": 0}  # fmt: skip
        terms.append(term)
        return httpx.Response(201, json=term)

    def _list_categories(self, params: httpx.QueryParams, body: Any) -> httpx.Response:
        return self._paged("products/categories", list(self.categories.values()), params)

    def _add_category(self, params: httpx.QueryParams, body: Any) -> httpx.Response:
        parent = int(body.get("parent") or 0)
        # WC_REST_Terms_Controller::create_item: an unknown parent is refused; wp_insert_term:
        # a name already used under that parent is term_exists
        if parent and parent not in self.categories:
            return _error(400, "woocommerce_rest_term_invalid", "Parent term does not exist.")
        if any(
            html.unescape(c["name"]).lower() == body["name"].lower() and c["parent"] == parent
            for c in self.categories.values()
        ):
            return _error(400, "term_exists", "A term with the name provided already exists with this parent.")
        category = {**copy.deepcopy(load("products_categories.json")[0]), "id": next(self.ids),
                    "name": html.escape(body["name"], quote=False),  # WordPress answers term names escaped
                    "slug": re.sub(r"[^a-z0-9]+", "-", body["name"].lower()).strip("-"), "parent": parent, "count": 0}  # fmt: skip
        self.categories[category["id"]] = category
        return httpx.Response(201, json=category)

    def _list_brands(self, params: httpx.QueryParams, body: Any) -> httpx.Response:
        return self._paged("products/brands", list(self.brands.values()), params)

    def _add_brand(self, params: httpx.QueryParams, body: Any) -> httpx.Response:
        """A brand is a term of ``product_brand`` (its controller extends the categories one): the
        same row shape, names answered HTML-escaped (observed: woocommerce-10.0-live/README.md), a
        duplicate name under one parent refused (wp_insert_term's term_exists)."""
        parent = int(body.get("parent") or 0)
        if any(
            html.unescape(b["name"]).lower() == body["name"].lower() and b["parent"] == parent
            for b in self.brands.values()
        ):
            return _error(400, "term_exists", "A term with the name provided already exists with this parent.")
        brand = {**copy.deepcopy(load("products_categories.json")[0]), "id": next(self.ids),
                 "name": html.escape(body["name"], quote=False),
                 "slug": re.sub(r"[^a-z0-9]+", "-", body["name"].lower()).strip("-"), "parent": parent, "count": 0}  # fmt: skip
        self.brands[brand["id"]] = brand
        return httpx.Response(201, json=brand)

    def add_attribute(self, name: str, terms: tuple[str, ...] = (), *, slug: str | None = None) -> int:
        """A global attribute and its terms, as ``POST /products/attributes`` and ``.../terms`` make
        them (a test's setup: a shop where the merchant, or an earlier run, created it); its id."""
        answer = self._add_attribute(httpx.QueryParams(), {"name": name, **({"slug": slug} if slug else {})})
        ident = int(json.loads(answer.content)["id"])
        for term in terms:
            self._add_term(httpx.QueryParams(), {"name": term}, str(ident))
        return ident

    def without_brands(self) -> None:
        """Play a WooCommerce older than 9.6: no Brands routes, no ``brands`` field on products."""
        routes = self.index["routes"] = copy.deepcopy(self.index["routes"])
        for route in [r for r in routes if r.startswith("/wc/v3/products/brands")]:
            del routes[route]
        for route in ("/wc/v3/products", "/wc/v3/products/(?P<id>[\\d]+)", "/wc/v3/products/batch"):
            for endpoint in routes[route]["endpoints"]:
                endpoint["args"].pop("brands", None)

    def _list_tax_classes(self, params: httpx.QueryParams, body: Any) -> httpx.Response:
        return httpx.Response(200, json=self.tax_classes)

    def _current_currency(self, params: httpx.QueryParams, body: Any) -> httpx.Response:
        return httpx.Response(200, json={"code": self.currency, "name": "Euro", "symbol": "&euro;"})

    def _get_setting(self, params: httpx.QueryParams, body: Any, group_id: str, id: str) -> httpx.Response:
        """``GET /settings/<group>/<id>``: the option in the shape of the docs' "Retrieve a setting
        option" example (woocommerce-docs/docs_examples/setting-options.json), its fields as
        WooCommerce declares the option (includes/admin/settings/views/settings-tax.php). The tax
        group exists only when taxes are enabled (``WC_Admin_Settings::get_settings_pages`` adds the
        tax page under ``wc_tax_enabled()``): otherwise the 404 ``rest_setting_setting_group_invalid``
        of ``WC_REST_Setting_Options_Controller::get_group_settings``. Only this option is served."""
        if group_id != "tax" or not self.taxes_enabled:
            return _error(404, "rest_setting_setting_group_invalid", "Invalid setting group.")
        if id != "woocommerce_prices_include_tax":
            return _error(404, "rest_setting_setting_invalid", "Invalid setting.")
        option = {
            "id": id,
            "label": "Prices entered with tax",
            "description": "",
            "type": "radio",
            "default": "no",
            "options": {
                "yes": "Yes, I will enter prices inclusive of tax",
                "no": "No, I will enter prices exclusive of tax",
            },
            "tip": "This option is important as it will affect how you input prices. Changing it will not update existing products.",
            "value": self.prices_include_tax,
            "group_id": "tax",
        }
        return httpx.Response(200, json=option)

    def _route_index(self, params: httpx.QueryParams, body: Any) -> httpx.Response:
        return httpx.Response(200, json=self.index)
