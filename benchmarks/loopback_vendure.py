"""A loopback Vendure Admin API for the benchmarks: enough of Vendure for the real connector to run.

The connector code (``connectors/shop/vendure``) runs unchanged through its real httpx client
against this server on 127.0.0.1. Every document is validated with graphql-core against the
recorded Vendure 3.7 schema (``tests/fixtures/vendure-3.7/admin-api.graphql``) and executed
against an in-memory store, so a document Vendure would refuse is refused here too. Each request
sleeps ``latency`` seconds and the server adds up its time per request in ``seconds`` (engine
time = wall time - shop time). Control endpoints under ``/_loopback/`` (stats, reset, config,
seed, variants) are not counted.

Run alone:  uv run python benchmarks/loopback_vendure.py [--port 0] [--latency 0.02]

Details: docs/benchmarks.md (section "Shop side, against a loopback Vendure").
"""

from __future__ import annotations

import argparse
import json
import secrets
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    build_schema,
    execute_sync,
    parse,
    validate,
)

__all__ = [
    "SCHEMA",
    "Loopback",
    "LoopbackVendure",
    "ShopMeter",
    "VendureApi",
    "loopback",
    "mib",
    "peak_rss_mib",
]

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "tests" / "fixtures" / "vendure-3.7" / "admin-api.graphql"
USERNAME = "superadmin"
PASSWORD = "superadmin"  # a loopback fake, never a real secret
DEFAULT_LOCATION = "1"
_MAX_TAKE = 1000
_KEPT = 50  # refused documents kept whole in the stats


class _Refused(GraphQLError):
    """A Vendure error raised by a resolver (its path is added by graphql-core)."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message, extensions={"code": code} if code else None)


def _formatted(error: GraphQLError, code: str | None = None) -> dict[str, Any]:
    """The error as JSON, with Vendure's (Apollo's) code for the errors raised before execution."""
    data: dict[str, Any] = dict(error.formatted)
    if code is not None:
        data["extensions"] = {"code": code}
    return data


def _not_found(entity: str, entity_id: object) -> _Refused:
    return _Refused(f'No {entity} with the id "{entity_id}" could be found', "ENTITY_NOT_FOUND")


@dataclass
class Stats:
    """What the server saw since the last reset."""

    requests: int = 0
    seconds: float = 0.0
    operations: Counter[str] = field(default_factory=Counter)
    fields: Counter[str] = field(default_factory=Counter)
    invalid: int = 0
    bad_input: int = 0
    forbidden: int = 0
    errors: int = 0
    refused: list[dict[str, Any]] = field(default_factory=list)
    """Documents refused as invalid or with variables of the wrong type (the first 50, whole)."""
    error_samples: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "seconds": self.seconds,
            "operations": dict(self.operations),
            "fields": dict(self.fields),
            "invalid": self.invalid,
            "bad_input": self.bad_input,
            "forbidden": self.forbidden,
            "errors": self.errors,
            "refused": self.refused,
            "error_samples": self.error_samples,
        }


class VendureStore:
    """The shop's data: products, option groups, variants with stock per location, facets."""

    def __init__(self) -> None:
        self._next: Counter[str] = Counter()
        self.products: dict[str, dict[str, Any]] = {}
        self.slugs: dict[str, str] = {}
        self.variants: dict[str, dict[str, Any]] = {}
        self.by_sku: dict[str, list[str]] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.options: dict[str, dict[str, Any]] = {}
        self.facets: dict[str, dict[str, Any]] = {}
        self.facet_values: dict[str, dict[str, Any]] = {}
        self.tax_categories = {"1": "Standard Tax", "2": "Reduced Tax", "3": "Zero Tax"}
        self.locations = {DEFAULT_LOCATION: "Default Stock Location"}

    def new_id(self, kind: str) -> str:
        self._next[kind] += 1
        return str(self._next[kind])

    def free_slug(self, slug: str, product_id: str | None = None) -> str:
        """Vendure suffixes a taken slug silently (``mug`` -> ``mug-2``)."""
        candidate, n = slug, 1
        while self.slugs.get(candidate, product_id) != product_id:
            n += 1
            candidate = f"{slug}-{n}"
        return candidate

    def add_variant(self, variant: dict[str, Any]) -> None:
        self.variants[variant["id"]] = variant
        self.by_sku.setdefault(variant["sku"], []).append(variant["id"])
        product = self.products.get(variant["productId"])
        if product is not None:
            product["variantIds"].append(variant["id"])

    def seed(self, rows: list[list[Any]]) -> list[str]:
        """Variants [sku, stockOnHand, stockAllocated, price] under one product: ids in order."""
        product_id = self.new_id("product")
        slug = self.free_slug(f"seed-{product_id}")
        self.products[product_id] = _product_record(product_id, "Seeded variants", slug, "", {})
        self.slugs[slug] = product_id
        ids: list[str] = []
        for sku, on_hand, allocated, price in rows:
            variant_id = self.new_id("variant")
            self.add_variant(
                _variant_record(variant_id, product_id, str(sku), str(sku), int(price), [], "1", {})
                | {"levels": {DEFAULT_LOCATION: [int(on_hand), int(allocated)]}}
            )
            ids.append(variant_id)
        return ids


def _product_record(
    product_id: str, name: str, slug: str, description: str, custom_fields: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": product_id,
        "name": name,
        "slug": slug,
        "description": description,
        "enabled": True,
        "variantIds": [],
        "groupIds": [],
        "facetValueIds": [],
        "customFields": custom_fields,
    }


def _variant_record(
    variant_id: str,
    product_id: str,
    sku: str,
    name: str,
    price: int,
    option_ids: list[str],
    tax_category_id: str,
    custom_fields: dict[str, Any],
) -> dict[str, Any]:
    return {
        "id": variant_id,
        "productId": product_id,
        "sku": sku,
        "name": name,
        "price": price,
        "enabled": True,
        "optionIds": option_ids,
        "taxCategoryId": tax_category_id,
        "levels": {DEFAULT_LOCATION: [0, 0]},
        "customFields": custom_fields,
    }


class VendureApi:
    """The GraphQL side: schema validation, resolvers over a :class:`VendureStore`, counters."""

    def __init__(
        self,
        *,
        latency: float = 0.02,
        username: str = USERNAME,
        password: str = PASSWORD,
        currency: str = "EUR",
        prices_include_tax: bool = False,
        language: str = "en",
        schema_path: Path = SCHEMA,
    ) -> None:
        self.schema: GraphQLSchema = build_schema(schema_path.read_text(encoding="utf-8"))
        self.latency = latency
        self.username = username
        self.password = password
        self.currency = currency
        self.prices_include_tax = prices_include_tax
        self.language = language
        self.store = VendureStore()
        self.stats = Stats()
        self.custom_fields = {
            "Product": [("brand", "string"), ("material", "string")],
            "ProductVariant": [("ean", "string"), ("weight", "float")],
        }
        self._tokens: set[str] = set()
        self._documents: dict[str, tuple[DocumentNode | None, list[dict[str, Any]]]] = {}
        self._lock = threading.Lock()  # one request executes at a time (the store is not thread-safe)
        self._idle = threading.Condition()
        self._in_flight = 0
        self._root: dict[str, Callable[..., Any]] = {
            "login": self._login,
            "activeChannel": self._active_channel,
            "taxCategories": self._tax_categories,
            "globalSettings": self._global_settings,
            "facets": self._facets,
            "products": self._products,
            "product": self._product,
            "productVariants": self._product_variants,
            "stockLocations": self._stock_locations,
            "createProduct": self._create_product,
            "updateProduct": self._update_product,
            "createProductOptionGroup": self._create_option_group,
            "createProductOption": self._create_option,
            "addOptionGroupToProduct": self._add_option_group,
            "createProductVariants": self._create_variants,
            "updateProductVariants": self._update_variants,
            "createFacet": self._create_facet,
            "createFacetValues": self._create_facet_values,
        }

    # -- requests --------------------------------------------------------------------------------
    def begin(self) -> float:
        with self._idle:
            self._in_flight += 1
        return time.perf_counter()

    def end(self, started: float, *, counted: bool) -> None:
        with self._idle:
            if counted:
                self.stats.seconds += time.perf_counter() - started
            self._in_flight -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Let the handler of the last answer record its time before the stats are read."""
        with self._idle:
            self._idle.wait_for(lambda: self._in_flight <= 1, timeout)  # 1: the stats request itself

    def _document(self, query: str) -> tuple[DocumentNode | None, list[dict[str, Any]]]:
        """Parsed and validated document, cached by text (Apollo caches them the same way)."""
        cached = self._documents.get(query)
        if cached is None:
            try:
                document = parse(query)
            except GraphQLError as exc:
                cached = (None, [_formatted(exc, "GRAPHQL_PARSE_FAILED")])
            else:
                errors = validate(self.schema, document)
                cached = (
                    (None, [_formatted(e, "GRAPHQL_VALIDATION_FAILED") for e in errors]) if errors else (document, [])
                )
            if len(self._documents) > 512:
                self._documents.clear()
            self._documents[query] = cached
        return cached

    def graphql(self, body: bytes, authorization: str | None) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Answer one GraphQL POST: (HTTP status, JSON body, extra headers)."""
        if self.latency > 0:
            time.sleep(self.latency)
        try:
            request = json.loads(body)
            query = str(request["query"])
            variables = request.get("variables") or {}
            operation_name = request.get("operationName")
        except (ValueError, KeyError, TypeError):
            return 400, {"errors": [{"message": "POST body is not a GraphQL request", "extensions": {}}]}, {}
        with self._lock:
            self.stats.requests += 1
            document, errors = self._document(query)
            if document is None:
                self.stats.invalid += 1
                self._keep_refused("invalid", query, variables, errors)
                return 400, {"errors": errors}, {}
            operation = next(
                d
                for d in document.definitions
                if isinstance(d, OperationDefinitionNode)
                and (operation_name is None or (d.name is not None and d.name.value == operation_name))
            )
            self.stats.operations[operation.name.value if operation.name else "(anonymous)"] += 1
            roots = [s for s in operation.selection_set.selections if isinstance(s, FieldNode)]
            self.stats.fields.update(s.name.value for s in roots)
            if any(s.name.value != "login" for s in roots) and not self._authorized(authorization):
                self.stats.forbidden += 1
                first = roots[0].alias or roots[0].name
                return (
                    200,
                    {
                        "errors": [
                            {
                                "message": "You are not currently authorized to perform this action",
                                "path": [first.value],
                                "extensions": {"code": "FORBIDDEN"},
                            }
                        ],
                        "data": None,
                    },
                    {},
                )
            context: dict[str, Any] = {"token": None}
            result = execute_sync(
                self.schema,
                document,
                root_value=self._root,
                context_value=context,
                variable_values=variables,
                operation_name=operation_name,
            )
            headers = {"vendure-auth-token": context["token"]} if context["token"] else {}
            if result.errors and result.data is None and all(e.path is None for e in result.errors):
                # Variables that do not match their input types: nothing ran (HTTP 200 in Vendure).
                self.stats.bad_input += 1
                refused = [_formatted(e, "BAD_USER_INPUT") for e in result.errors]
                self._keep_refused("bad_input", query, variables, refused)
                return 200, {"errors": refused}, headers
            payload: dict[str, Any] = {"data": result.data}
            if result.errors:
                payload["errors"] = [_formatted(e) for e in result.errors]
                self.stats.errors += len(result.errors)
                if len(self.stats.error_samples) < _KEPT:
                    self.stats.error_samples.extend(payload["errors"][: _KEPT - len(self.stats.error_samples)])
            return 200, payload, headers

    def _keep_refused(self, kind: str, query: str, variables: Any, errors: list[dict[str, Any]]) -> None:
        if len(self.stats.refused) < _KEPT:
            self.stats.refused.append({"kind": kind, "errors": errors, "document": query, "variables": variables})

    def _authorized(self, authorization: str | None) -> bool:
        return authorization is not None and authorization.removeprefix("Bearer ").strip() in self._tokens

    # -- control -----------------------------------------------------------------------------------
    def control(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        data = json.loads(body) if body else {}
        route = path.split("?", 1)[0].removeprefix("/_loopback/")
        if route == "stats" and method == "GET":
            self.wait_idle()
            with self._lock:
                return 200, self.stats.as_dict() | {
                    "store": {"products": len(self.store.products), "variants": len(self.store.variants)}
                }
        with self._lock:
            if route == "reset":
                self.stats = Stats()
                return 200, {}
            if route == "config":
                self.latency = float(data.get("latency", self.latency))
                return 200, {"latency": self.latency}
            if route == "seed":
                return 200, {"ids": self.store.seed(data["variants"])}
            if route == "variants":
                ids = data.get("ids")
                wanted = self.store.variants if ids is None else {i: self.store.variants.get(str(i)) for i in ids}
                return 200, {
                    "variants": {
                        i: None
                        if v is None
                        else {
                            "sku": v["sku"],
                            "price": v["price"],
                            "stockOnHand": sum(level[0] for level in v["levels"].values()),
                            "stockAllocated": sum(level[1] for level in v["levels"].values()),
                            "stockLevels": {loc: list(level) for loc, level in v["levels"].items()},
                        }
                        for i, v in wanted.items()
                    }
                }
        return 404, {"error": f"no control endpoint {method} {path}"}

    # -- views -------------------------------------------------------------------------------------
    def _variant_view(self, v: dict[str, Any]) -> dict[str, Any]:
        on_hand = sum(level[0] for level in v["levels"].values())
        allocated = sum(level[1] for level in v["levels"].values())
        return {
            "id": v["id"],
            "sku": v["sku"],
            "name": v["name"],
            "enabled": v["enabled"],
            "productId": v["productId"],
            "price": v["price"],
            "priceWithTax": v["price"],
            "currencyCode": self.currency,
            "stockOnHand": on_hand,
            "stockAllocated": allocated,
            "stockLevels": lambda info: [
                {"id": f"{v['id']}-{loc}", "stockLocationId": loc, "stockOnHand": lv[0], "stockAllocated": lv[1]}
                for loc, lv in v["levels"].items()
            ],
            "product": lambda info: self._product_view(self.store.products[v["productId"]]),
            "options": lambda info: [self._option_view(self.store.options[o]) for o in v["optionIds"]],
            "customFields": v["customFields"],
        }

    def _product_view(self, p: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": p["id"],
            "name": p["name"],
            "slug": p["slug"],
            "description": p["description"],
            "enabled": p["enabled"],
            "languageCode": self.language,
            "variants": lambda info: [self._variant_view(self.store.variants[i]) for i in p["variantIds"]],
            "optionGroups": lambda info: [self._group_view(self.store.groups[g]) for g in p["groupIds"]],
            "facetValues": lambda info: [
                self._facet_value_view(self.store.facet_values[f]) for f in p["facetValueIds"]
            ],
            "customFields": p["customFields"],
        }

    def _group_view(self, g: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": g["id"],
            "code": g["code"],
            "name": g["name"],
            "languageCode": self.language,
            "options": [self._option_view(self.store.options[o]) for o in g["optionIds"]],
        }

    @staticmethod
    def _option_view(o: dict[str, Any]) -> dict[str, Any]:
        return {"id": o["id"], "code": o["code"], "name": o["name"], "groupId": o["groupId"]}

    def _facet_view(self, f: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": f["id"],
            "code": f["code"],
            "name": f["name"],
            "isPrivate": f["isPrivate"],
            "languageCode": self.language,
            "values": [self._facet_value_view(self.store.facet_values[v]) for v in f["valueIds"]],
        }

    @staticmethod
    def _facet_value_view(v: dict[str, Any]) -> dict[str, Any]:
        return {"id": v["id"], "code": v["code"], "name": v["name"], "facetId": v["facetId"]}

    # -- queries -----------------------------------------------------------------------------------
    @staticmethod
    def _take(options: dict[str, Any] | None) -> tuple[int, int]:
        options = options or {}
        take = options.get("take")
        if take is not None and take > _MAX_TAKE:
            raise _Refused(f"Cannot take more than {_MAX_TAKE} results from a list query", "USER_INPUT_ERROR")
        return int(options.get("skip") or 0), _MAX_TAKE if take is None else int(take)

    @staticmethod
    def _matches(record: dict[str, Any], filters: dict[str, Any]) -> bool:
        for name, operators in filters.items():
            value = record.get(name)
            for op, operand in (operators or {}).items():
                if operand is None:
                    continue
                if op == "eq" and str(value) != str(operand):
                    return False
                if op == "in" and str(value) not in {str(x) for x in operand}:
                    return False
                if op == "notIn" and str(value) in {str(x) for x in operand}:
                    return False
                if op not in {"eq", "in", "notIn"}:
                    raise _Refused(f"the loopback Vendure does not filter with {op!r}", "USER_INPUT_ERROR")
        return True

    def _list(
        self,
        records: dict[str, dict[str, Any]],
        options: dict[str, Any] | None,
        view: Callable[[dict[str, Any]], dict[str, Any]],
        indexes: dict[str, Callable[[str], list[str]]],
    ) -> dict[str, Any]:
        """A PaginatedList: filter (indexed on ``id`` and the named fields for ``eq``/``in``), skip, take."""
        skip, take = self._take(options)
        filters = dict((options or {}).get("filter") or {})
        ids: list[str] | None = None
        for name, lookup in ({"id": lambda i: [i] if i in records else []} | indexes).items():
            operators = filters.get(name) or {}
            wanted = operators.get("in") if operators.get("in") is not None else None
            if wanted is None and operators.get("eq") is not None:
                wanted = [operators["eq"]]
            if wanted is not None:
                found = [i for w in dict.fromkeys(str(x) for x in wanted) for i in lookup(w)]
                ids = found if ids is None else [i for i in ids if i in set(found)]
        candidates = (records[i] for i in (records if ids is None else ids))
        matched = [r for r in candidates if self._matches(r, filters)]
        return {"items": [view(r) for r in matched[skip : skip + take]], "totalItems": len(matched)}

    def _login(self, info: Any, username: str, password: str, rememberMe: bool | None = None) -> dict[str, Any]:
        if username != self.username or password != self.password:
            return {
                "__typename": "InvalidCredentialsError",
                "errorCode": "INVALID_CREDENTIALS_ERROR",
                "message": "The provided credentials are invalid",
                "authenticationError": "",
            }
        token = secrets.token_hex(16)
        self._tokens.add(token)
        info.context["token"] = token
        return {"__typename": "CurrentUser", "id": "1", "identifier": username, "channels": []}

    def _active_channel(self, info: Any) -> dict[str, Any]:
        return {
            "id": "1",
            "code": "__default_channel__",
            "token": "loopback-channel",
            "pricesIncludeTax": self.prices_include_tax,
            "defaultCurrencyCode": self.currency,
            "currencyCode": self.currency,
            "availableCurrencyCodes": [self.currency],
            "defaultLanguageCode": self.language,
            "availableLanguageCodes": [self.language],
        }

    def _tax_categories(self, info: Any, options: dict[str, Any] | None = None) -> dict[str, Any]:
        records = {i: {"id": i, "name": n} for i, n in self.store.tax_categories.items()}
        return self._list(records, options, dict, {})

    def _global_settings(self, info: Any) -> dict[str, Any]:
        kinds = {"string": "StringCustomFieldConfig", "float": "FloatCustomFieldConfig", "int": "IntCustomFieldConfig"}
        config = {
            entity: [{"__typename": kinds[kind], "name": name, "type": kind, "list": False} for name, kind in fields]
            for entity, fields in self.custom_fields.items()
        }
        return {"id": "1", "serverConfig": {"customFieldConfig": config}}

    def _facets(self, info: Any, options: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._list(self.store.facets, options, self._facet_view, {})

    def _products(self, info: Any, options: dict[str, Any] | None = None) -> dict[str, Any]:
        slugs = self.store.slugs
        return self._list(
            self.store.products, options, self._product_view, {"slug": lambda s: [slugs[s]] if s in slugs else []}
        )

    def _product(self, info: Any, id: str | None = None, slug: str | None = None) -> dict[str, Any] | None:
        product_id = id if id is not None else self.store.slugs.get(slug or "")
        product = self.store.products.get(product_id or "")
        return None if product is None else self._product_view(product)

    def _product_variants(
        self, info: Any, options: dict[str, Any] | None = None, productId: str | None = None
    ) -> dict[str, Any]:
        records = self.store.variants
        if productId is not None:
            product = self.store.products.get(productId)
            records = {i: records[i] for i in (product["variantIds"] if product else [])}
        return self._list(records, options, self._variant_view, {"sku": lambda s: self.store.by_sku.get(s, [])})

    def _stock_locations(self, info: Any, options: dict[str, Any] | None = None) -> dict[str, Any]:
        records = {i: {"id": i, "name": n, "description": ""} for i, n in self.store.locations.items()}
        return self._list(records, options, dict, {})

    # -- catalogue mutations -----------------------------------------------------------------------
    def _translation(self, translations: list[dict[str, Any]]) -> dict[str, Any]:
        by_language = {t["languageCode"]: t for t in translations}
        return by_language.get(self.language) or (translations[0] if translations else {})

    def _facet_value_ids(self, ids: list[str] | None) -> list[str]:
        for value_id in ids or []:
            if value_id not in self.store.facet_values:
                raise _not_found("FacetValue", value_id)
        return list(ids or [])

    def _create_product(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        for t in input["translations"]:
            for column in ("slug", "description"):  # optional in the schema, NOT NULL in the database
                if t.get(column) is None:
                    raise _Refused(f"NOT NULL constraint failed: product_translation.{column}")
        t = self._translation(input["translations"])
        product_id = self.store.new_id("product")
        slug = self.store.free_slug(t["slug"])
        product = _product_record(
            product_id, t.get("name") or "", slug, t["description"], input.get("customFields") or {}
        )
        product["enabled"] = input.get("enabled", True) is not False
        product["facetValueIds"] = self._facet_value_ids(input.get("facetValueIds"))
        self.store.products[product_id] = product
        self.store.slugs[slug] = product_id
        return self._product_view(product)

    def _update_product(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        product = self.store.products.get(input["id"])
        if product is None:
            raise _not_found("Product", input["id"])
        if input.get("translations"):
            t = self._translation(input["translations"])
            if t.get("name") is not None:
                product["name"] = t["name"]
            if t.get("description") is not None:
                product["description"] = t["description"]
            if t.get("slug") is not None and t["slug"] != product["slug"]:
                del self.store.slugs[product["slug"]]
                product["slug"] = self.store.free_slug(t["slug"], product["id"])
                self.store.slugs[product["slug"]] = product["id"]
        if input.get("enabled") is not None:
            product["enabled"] = input["enabled"]
        if input.get("facetValueIds") is not None:
            product["facetValueIds"] = self._facet_value_ids(input["facetValueIds"])
        if input.get("customFields"):
            product["customFields"] = product["customFields"] | input["customFields"]
        return self._product_view(product)

    def _new_option(self, group_id: str, data: dict[str, Any]) -> str:
        option_id = self.store.new_id("option")
        name = self._translation(data["translations"]).get("name") or data["code"]
        self.store.options[option_id] = {"id": option_id, "code": data["code"], "name": name, "groupId": group_id}
        self.store.groups[group_id]["optionIds"].append(option_id)
        return option_id

    def _create_option_group(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        group_id = self.store.new_id("group")
        name = self._translation(input["translations"]).get("name") or input["code"]
        self.store.groups[group_id] = {"id": group_id, "code": input["code"], "name": name, "optionIds": []}
        for option in input.get("options") or []:
            self._new_option(group_id, option)
        return self._group_view(self.store.groups[group_id])

    def _create_option(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        group_id = input["productOptionGroupId"]
        if group_id not in self.store.groups:
            raise _not_found("ProductOptionGroup", group_id)
        return self._option_view(self.store.options[self._new_option(group_id, input)])

    def _add_option_group(self, info: Any, productId: str, optionGroupId: str) -> dict[str, Any]:
        product = self.store.products.get(productId)
        if product is None:
            raise _not_found("Product", productId)
        if optionGroupId not in self.store.groups:
            raise _not_found("ProductOptionGroup", optionGroupId)
        if optionGroupId not in product["groupIds"]:
            product["groupIds"].append(optionGroupId)
        return self._product_view(product)

    def _check_options(self, product: dict[str, Any], option_ids: list[str], name: str, own_id: str | None) -> None:
        """One option of each group of the product, and no other variant with the same combination."""
        groups = [self.store.options[o]["groupId"] if o in self.store.options else None for o in option_ids]
        if None in groups:
            raise _not_found("ProductOption", option_ids[groups.index(None)])
        if sorted(g for g in groups if g) != sorted(product["groupIds"]):
            names = ", ".join(self.store.groups[g]["name"] for g in product["groupIds"])
            raise _Refused(
                f"ProductVariant optionIds must include one optionId from each of the groups: {names}",
                "USER_INPUT_ERROR",
            )
        if product["groupIds"]:
            combination = sorted(option_ids)
            for other in product["variantIds"]:
                if other != own_id and sorted(self.store.variants[other]["optionIds"]) == combination:
                    raise _Refused(
                        f"A ProductVariant with the selected options already exists: {name}", "USER_INPUT_ERROR"
                    )

    def _create_variants(self, info: Any, input: list[dict[str, Any]]) -> list[dict[str, Any]]:
        created: list[dict[str, Any]] = []
        for data in input:
            product = self.store.products.get(data["productId"])
            if product is None:
                raise _not_found("Product", data["productId"])
            name = self._translation(data["translations"]).get("name") or ""
            option_ids = list(data.get("optionIds") or [])
            self._check_options(product, option_ids, name, None)
            tax = data.get("taxCategoryId") or "1"
            if tax not in self.store.tax_categories:
                raise _not_found("TaxCategory", tax)
            variant = _variant_record(
                self.store.new_id("variant"),
                product["id"],
                data["sku"],
                name,
                int(data.get("price") or 0),
                option_ids,
                tax,
                data.get("customFields") or {},
            )
            variant["enabled"] = data.get("enabled", True) is not False
            self._set_stock(variant, data)
            self.store.add_variant(variant)
            created.append(self._variant_view(variant))
        return created

    def _set_stock(self, variant: dict[str, Any], data: dict[str, Any]) -> None:
        if data.get("stockOnHand") is not None:
            variant["levels"].setdefault(DEFAULT_LOCATION, [0, 0])[0] = int(data["stockOnHand"])
        for level in data.get("stockLevels") or []:
            if level["stockLocationId"] not in self.store.locations:
                raise _not_found("StockLocation", level["stockLocationId"])
            variant["levels"].setdefault(level["stockLocationId"], [0, 0])[0] = int(level["stockOnHand"])

    def _update_variants(self, info: Any, input: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for data in input:  # Vendure checks every id before it changes anything
            if data["id"] not in self.store.variants:
                raise _not_found("ProductVariant", data["id"])
        updated: list[dict[str, Any]] = []
        for data in input:
            variant = self.store.variants[data["id"]]
            if data.get("sku") is not None and data["sku"] != variant["sku"]:
                self.store.by_sku[variant["sku"]].remove(variant["id"])
                variant["sku"] = data["sku"]
                self.store.by_sku.setdefault(variant["sku"], []).append(variant["id"])
            if data.get("price") is not None:
                variant["price"] = int(data["price"])
            if data.get("enabled") is not None:
                variant["enabled"] = data["enabled"]
            if data.get("translations"):
                variant["name"] = self._translation(data["translations"]).get("name") or variant["name"]
            if data.get("taxCategoryId") is not None:
                if data["taxCategoryId"] not in self.store.tax_categories:
                    raise _not_found("TaxCategory", data["taxCategoryId"])
                variant["taxCategoryId"] = data["taxCategoryId"]
            if data.get("optionIds") is not None:
                self._check_options(
                    self.store.products[variant["productId"]], list(data["optionIds"]), variant["name"], variant["id"]
                )
                variant["optionIds"] = list(data["optionIds"])
            if data.get("customFields"):
                variant["customFields"] = variant["customFields"] | data["customFields"]
            self._set_stock(variant, data)
            updated.append(self._variant_view(variant))
        return updated

    def _create_facet(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        facet_id = self.store.new_id("facet")
        name = self._translation(input["translations"]).get("name") or input["code"]
        self.store.facets[facet_id] = {
            "id": facet_id,
            "code": input["code"],
            "name": name,
            "isPrivate": input["isPrivate"],
            "valueIds": [],
        }
        for value in input.get("values") or []:
            self._new_facet_value(facet_id, value)
        return self._facet_view(self.store.facets[facet_id])

    def _new_facet_value(self, facet_id: str, data: dict[str, Any]) -> str:
        value_id = self.store.new_id("facet_value")
        name = self._translation(data["translations"]).get("name") or data["code"]
        self.store.facet_values[value_id] = {"id": value_id, "code": data["code"], "name": name, "facetId": facet_id}
        self.store.facets[facet_id]["valueIds"].append(value_id)
        return value_id

    def _create_facet_values(self, info: Any, input: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for data in input:
            if data["facetId"] not in self.store.facets:
                raise _not_found("Facet", data["facetId"])
        return [self._facet_value_view(self.store.facet_values[self._new_facet_value(d["facetId"], d)]) for d in input]


# -- HTTP ------------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    api: VendureApi


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects
    disable_nagle_algorithm = True
    server: _Server

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:
        started = self.server.api.begin()
        try:
            status, payload = self.server.api.control("GET", self.path, b"")
            self._answer(status, payload, {})
        finally:
            self.server.api.end(started, counted=False)

    def do_POST(self) -> None:
        api = self.server.api
        started = api.begin()
        counted = not self.path.startswith("/_loopback/")
        try:
            body = self._body()
            if counted:
                status, payload, headers = api.graphql(body, self.headers.get("Authorization"))
            else:
                status, payload = api.control("POST", self.path, body)
                headers = {}
            self._answer(status, payload, headers)
        finally:
            api.end(started, counted=counted)

    def _answer(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
        data = json.dumps(payload, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a benchmark sends thousands of requests."""


class LoopbackVendure:
    """The loopback Vendure in a thread of this process (``start`` -> Admin API URL)."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, **options: Any) -> None:
        self.api = VendureApi(**options)
        self._host = host
        self._server = _Server((host, port), _Handler)
        self._server.api = self.api
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._server.server_address[1]}/admin-api"

    def start(self) -> str:
        self._thread = threading.Thread(target=self._server.serve_forever, name="loopback-vendure", daemon=True)
        self._thread.start()
        return self.url

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)


# -- benchmark side ----------------------------------------------------------------------------------


class Loopback:
    """The benchmark's handle on a loopback Vendure (in a child process or anywhere): its control API."""

    def __init__(self, url: str) -> None:
        self.url = url
        origin = url.split("/admin-api", 1)[0]
        self._control = httpx.Client(base_url=f"{origin}/_loopback", timeout=120)

    def stats(self) -> dict[str, Any]:
        return self._control.get("/stats").raise_for_status().json()

    def reset(self) -> None:
        self._control.post("/reset").raise_for_status()

    def configure(self, *, latency: float) -> None:
        self._control.post("/config", json={"latency": latency}).raise_for_status()

    def seed(self, variants: list[list[Any]]) -> list[str]:
        return self._control.post("/seed", json={"variants": variants}).raise_for_status().json()["ids"]

    def variants(self, ids: list[str] | None = None) -> dict[str, dict[str, Any] | None]:
        return self._control.post("/variants", json={"ids": ids}).raise_for_status().json()["variants"]

    def close(self) -> None:
        self._control.close()


@contextmanager
def loopback(url: str | None = None, *, latency: float = 0.02) -> Iterator[Loopback]:
    """A loopback Vendure with ``latency``: the one at ``url``, else a new child process (so its
    memory and its CPU time stay out of the benchmark's tracemalloc and ru_maxrss)."""
    process: subprocess.Popen[str] | None = None
    if url is None:
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--port", "0", "--latency", str(latency)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("LISTENING "):
            process.kill()
            raise RuntimeError(f"the loopback Vendure did not start: {line!r}")
        url = line.removeprefix("LISTENING ")
    handle = Loopback(url)
    try:
        handle.configure(latency=latency)
        handle.reset()
        yield handle
    finally:
        handle.close()
        if process is not None:
            process.terminate()
            process.wait(10)


@dataclass
class Phase:
    """One measured phase: what the shop saw and how long the engine took."""

    name: str
    wall: float = 0.0
    shop: float = 0.0
    calls: int = 0
    client_calls: int = 0
    operations: dict[str, int] = field(default_factory=dict)
    fields: dict[str, int] = field(default_factory=dict)
    refused: list[dict[str, Any]] = field(default_factory=list)
    invalid: int = 0
    bad_input: int = 0
    errors: int = 0
    peak_traced: int = 0
    cpu: float = 0.0
    """CPU seconds of this process (``time.process_time``) in the phase: the engine's, when the
    loopback shop runs in its child process."""

    @property
    def engine(self) -> float:
        return self.wall - self.shop

    def line(self, records: int | None = None) -> str:
        per = f", {self.calls * 1000 / records:.1f} calls / 1000" if records else ""
        ops = ", ".join(f"{k} {v}" for k, v in sorted(self.operations.items()))
        return (
            f"{self.name}: {self.calls} API calls ({ops or 'none'}){per}; wall {self.wall:.2f} s, "
            f"shop {self.shop:.2f} s, engine {self.engine:.2f} s, CPU {self.cpu:.2f} s; "
            f"peak traced {mib(self.peak_traced)}"
        )


class ShopMeter:
    """Measures phases against a :class:`Loopback`: server counters before and after, wall time."""

    def __init__(self, shop: Loopback) -> None:
        self.shop = shop

    @contextmanager
    def phase(self, name: str, clients: Callable[[], list[Any]] = list) -> Iterator[Phase]:
        """``clients`` returns the connector clients used (their CallStats are summed as a cross-check)."""
        import tracemalloc

        before = self.shop.stats()
        client_before = sum(c.stats.calls for c in clients())
        result = Phase(name)
        if tracemalloc.is_tracing():
            tracemalloc.reset_peak()
        started, cpu = time.perf_counter(), time.process_time()
        yield result
        result.wall = time.perf_counter() - started
        result.cpu = time.process_time() - cpu
        if tracemalloc.is_tracing():
            result.peak_traced = tracemalloc.get_traced_memory()[1]
        after = self.shop.stats()
        result.client_calls = sum(c.stats.calls for c in clients()) - client_before
        result.calls = after["requests"] - before["requests"]
        result.shop = after["seconds"] - before["seconds"]
        result.operations = _delta(after["operations"], before["operations"])
        result.fields = _delta(after["fields"], before["fields"])
        result.invalid = after["invalid"] - before["invalid"]
        result.bad_input = after["bad_input"] - before["bad_input"]
        result.errors = after["errors"] - before["errors"]
        result.refused = after["refused"][len(before["refused"]) :]


def _delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


def mib(size: int) -> str:
    """Bytes as MiB, "n/a" when tracemalloc is off."""
    import tracemalloc

    return f"{size / 2**20:.0f} MiB" if size or tracemalloc.is_tracing() else "n/a"


def peak_rss_mib() -> float:
    """Peak resident memory of this process (ru_maxrss: KiB on Linux)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.02)
    args = parser.parse_args(argv)
    server = LoopbackVendure(host=args.host, port=args.port, latency=args.latency)
    print(f"LISTENING {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
