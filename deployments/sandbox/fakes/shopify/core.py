"""The core of the fake Shopify Admin GraphQL API: schema, execution, cost throttle, pagination.

Every document is parsed and validated with graphql-core against Shopify's own 2025-01 schema
(``tests/fixtures/contracts/shopify-admin-graphql``, provenance in that folder's README) and
executed against in-memory state: root fields are plain functions registered with
:func:`query` / :func:`mutation` by the capability modules of this package, returning dicts
shaped like the schema's objects (graphql-core's default resolvers read their keys; a callable
value is called with the field's arguments). A root field no module implements is a GraphQL
error ("stricter than Shopify": the fake does not know what Shopify would answer).

Rules and their sources:
- authentication, endpoint, version: shopify.dev/docs/api/admin-graphql (``X-Shopify-Access-Token``,
  ``POST /admin/api/<version>/graphql.json``);
- validation errors answered with HTTP 200 and ``errors``: the GraphQL spec and Shopify's
  "GraphQL Admin API reference" (status codes page: 200 for GraphQL errors);
- the cost throttle: shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits (leaky bucket per
  app and shop, restore rate per plan, field costs, 1 000 points at most per query) and the
  ``extensions.cost`` and THROTTLED shapes of SOURCES.md;
- pagination: the same page ("Connections": ``first``/``last`` at most 250) and
  shopify.dev/docs/api/usage/pagination-graphql (opaque cursors, ``pageInfo``).
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    build_client_schema,
    execute_sync,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
    parse,
    validate,
)

__all__ = [
    "API_VERSION",
    "PLANS",
    "SHOP",
    "TOKEN",
    "ShopifyFake",
    "VirtualClock",
    "connection",
    "gid",
    "gid_number",
    "mutation",
    "query",
    "schema",
    "shape",
    "shape_of",
    "user_error",
]

CONTRACTS = Path(__file__).resolve().parents[4] / "tests" / "fixtures" / "contracts" / "shopify-admin-graphql"
API_VERSION = "2025-01"
"""The newest version of the captured contract: the only one the fake serves."""
SHOP = "https://passerelle-test.myshopify.com"
TOKEN = "shpat_00000000000000000000000000fake"

PLANS: dict[str, tuple[float, float]] = {
    # plan: (bucket size, restore rate in points per second). Restore rates: the rate-limits page.
    # Bucket: 2 000 at 100/s is the throttleStatus captured in SOURCES.md (Standard); the others are
    # taken as 20 s of their restore rate like it (not observed).
    "standard": (2_000.0, 100.0),
    "advanced": (4_000.0, 200.0),
    "plus": (20_000.0, 1_000.0),
    "enterprise": (40_000.0, 2_000.0),
}
MAX_QUERY_COST = 1_000
"""rate-limits page: "The maximum cost of a single query is 1,000 points"."""
MAX_PAGE = 250
"""rate-limits page / usage limits: a connection's ``first``/``last`` and input arrays, at most 250."""
MUTATION_COST = 10
"""rate-limits page: "Mutation: 10" (the root field of a mutation)."""


@lru_cache(maxsize=1)
def schema() -> GraphQLSchema:
    """Shopify's Admin GraphQL schema, 2025-01 (its introspection, as Shopify published it)."""
    with gzip.open(CONTRACTS / f"admin_schema_{API_VERSION}.introspection.json.gz") as handle:
        built = build_client_schema(json.load(handle)["data"])
    # graphql-core 3.3 refuses a schema whose object deprecates a field its interface does not
    # (Shopify's does it, e.g. DiscountAutomaticBxgy.id): those objects' fields are taken as not
    # deprecated, which changes nothing of what validates.
    for named in built.type_map.values():
        for interface in getattr(named, "interfaces", ()) or ():
            for name, field in interface.fields.items():
                own = named.fields.get(name)
                if own is not None and own.deprecation_reason and not field.deprecation_reason:
                    own.deprecation_reason = None
    return built


Handler = Callable[..., Any]
_QUERIES: dict[str, Handler] = {}
_MUTATIONS: dict[str, Handler] = {}


def query(name: str) -> Callable[[Handler], Handler]:
    """Register ``handler(fake, info, **arguments)`` as the ``QueryRoot.<name>`` field."""

    def register(handler: Handler) -> Handler:
        _QUERIES[name] = handler
        return handler

    return register


def mutation(name: str) -> Callable[[Handler], Handler]:
    """Register ``handler(fake, info, **arguments)`` as the ``Mutation.<name>`` field."""

    def register(handler: Handler) -> Handler:
        _MUTATIONS[name] = handler
        return handler

    return register


Shaper = Callable[["ShopifyFake", dict[str, Any]], dict[str, Any]]
_SHAPES: dict[str, list[Shaper]] = {}


def shape_of(kind: str, shaper: Shaper) -> None:
    """Register how a stored ``kind`` record is answered (its computed fields): several modules
    may each add fields of one kind (the catalogue and the inventory both shape a variant)."""
    _SHAPES.setdefault(kind, []).append(shaper)


def shape(fake: ShopifyFake, record: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored record as the schema's object, with every registered module's computed fields."""
    if record is None:
        return None
    shaped = dict(record)
    for shaper in _SHAPES.get(str(record.get("__typename")), ()):
        shaped = {**shaped, **shaper(fake, record)}
    return shaped


def gid(kind: str, number: int) -> str:
    """A global id as Shopify writes them: ``gid://shopify/Product/1``."""
    return f"gid://shopify/{kind}/{number}"


def gid_number(value: str) -> int:
    return int(str(value).rsplit("/", 1)[-1].split("?", 1)[0])


def user_error(field: Sequence[str] | None, message: str, code: str | None = None) -> dict[str, Any]:
    """One entry of a payload's ``userErrors`` (``field`` is the path of the input that is wrong)."""
    error: dict[str, Any] = {"field": list(field) if field is not None else None, "message": message}
    if code is not None:
        error["code"] = code
    return error


def _cursor(position: int) -> str:
    return base64.b64encode(json.dumps({"last_id": position}).encode()).decode()


def _position(cursor: str) -> int:
    try:
        return int(json.loads(base64.b64decode(cursor))["last_id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor!r}") from exc


def connection(
    items: Sequence[Any],
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    reverse: bool = False,
) -> dict[str, Any]:
    """A Relay connection over ``items`` (``edges``, ``nodes``, ``pageInfo``).

    Source: usage/pagination-graphql (``first`` or ``last`` is required; at most 250).
    """
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last")
    for size in (first, last):
        if size is not None and not 0 <= size <= MAX_PAGE:
            raise GraphQLError(f"The page size must be between 0 and {MAX_PAGE}.")
    indexed = list(enumerate(items))
    if reverse:
        indexed.reverse()
    if after is not None:
        start = _position(after)
        indexed = [pair for pair in indexed if (pair[0] < start if reverse else pair[0] > start)]
    if before is not None:
        end = _position(before)
        indexed = [pair for pair in indexed if (pair[0] > end if reverse else pair[0] < end)]
    has_next = has_previous = False
    if first is not None and len(indexed) > first:
        indexed, has_next = indexed[:first], True
    if last is not None and len(indexed) > last:
        indexed, has_previous = indexed[-last:], True
    edges = [{"cursor": _cursor(position), "node": item} for position, item in indexed]
    return {
        "edges": edges,
        "nodes": [edge["node"] for edge in edges],
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous or after is not None,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


class VirtualClock:
    """A clock tests advance by sleeping: hand :meth:`sleep` to the client, the fake reads :meth:`now`."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.seconds

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.seconds += max(0.0, seconds)


@dataclass(slots=True)
class Exchange:
    """One request the fake answered: what the tests and the benchmarks count."""

    operation: str
    fields: tuple[str, ...]
    requested_cost: int
    throttled: bool
    status: int


class _Root(Mapping[str, Any]):
    """The root value: ``QueryRoot`` / ``Mutation`` fields dispatched to the registered handlers."""

    def __init__(self, fake: ShopifyFake, handlers: dict[str, Handler]) -> None:
        self._fake = fake
        self._handlers = handlers

    def __getitem__(self, name: str) -> Any:
        handler = self._handlers.get(name)
        if handler is None:
            raise KeyError(name)
        return lambda info, **arguments: handler(self._fake, info, **arguments)

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return self[name]
        except KeyError:

            def missing(info: Any, **arguments: Any) -> Any:
                raise GraphQLError(f"the fake does not implement {name} (stricter than Shopify)")

            return missing

    def __iter__(self) -> Any:
        return iter(self._handlers)

    def __len__(self) -> int:
        return len(self._handlers)


class ShopifyFake:
    """A Shopify shop behind ``httpx.MockTransport`` (``fake.transport``).

    Args:
        plan: the shop's plan ("standard", "advanced", "plus", "enterprise"): its throttle bucket.
        clock: seconds for the bucket's restore (a :class:`VirtualClock` in tests, ``time.monotonic``
            in a benchmark that really waits).
        token: the Admin API access token the custom app was given.
    """

    def __init__(
        self,
        *,
        plan: str = "standard",
        clock: Callable[[], float] | None = None,
        token: str = TOKEN,
        shop: str = SHOP,
        currency: str = "EUR",
        taxes_included: bool = True,
        locations: Iterable[str] = ("Shop location",),
        b2b: bool = False,
    ) -> None:
        self.plan = plan
        self.bucket, self.restore_rate = PLANS[plan]
        self.available = self.bucket
        self.clock = clock or time.monotonic
        self._at = self.clock()
        self.token = token
        self.shop = shop.rstrip("/")
        self.currency = currency
        self.taxes_included = taxes_included
        self.b2b = b2b
        """Shopify Plus B2B (companies, catalogs with price lists): off on every other plan."""
        self.exchanges: list[Exchange] = []
        self.lock = threading.RLock()
        self.store: dict[str, dict[str, dict[str, Any]]] = {}
        """Type name -> global id -> object (a dict shaped like the schema's object)."""
        self._ids: dict[str, int] = {}
        self.fail_next: list[dict[str, Any]] = []
        """Test switch: answers (``{"status": 500}`` or a JSON body) served before the next requests."""
        for name in locations:
            self.add("Location", {"name": name, "isActive": True, "fulfillsOnlineOrders": True})

    # -- state ------------------------------------------------------------------------------------

    def new_id(self, kind: str) -> str:
        self._ids[kind] = self._ids.get(kind, 0) + 1
        return gid(kind, self._ids[kind])

    def add(self, kind: str, record: dict[str, Any]) -> dict[str, Any]:
        """Store ``record`` as a new ``kind`` object with a fresh ``id`` (and ``__typename``)."""
        record = dict(record)
        record.setdefault("id", self.new_id(kind))
        record["__typename"] = kind
        self.store.setdefault(kind, {})[record["id"]] = record
        return record

    def all(self, kind: str) -> list[dict[str, Any]]:
        return list(self.store.get(kind, {}).values())

    def get(self, kind: str, id_: str) -> dict[str, Any] | None:
        return self.store.get(kind, {}).get(id_)

    def node(self, id_: str) -> dict[str, Any] | None:
        """Any object by its global id (``QueryRoot.node``)."""
        kind = str(id_).removeprefix("gid://shopify/").split("/", 1)[0]
        return self.get(kind, id_)

    def locations(self) -> list[dict[str, Any]]:
        return self.all("Location")

    # -- HTTP -------------------------------------------------------------------------------------

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    @property
    def endpoint(self) -> str:
        return f"/admin/api/{API_VERSION}/graphql.json"

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            return self._handle(request)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        if self.fail_next:
            answer = self.fail_next.pop(0)
            self.exchanges.append(Exchange("switch", (), 0, False, int(answer.get("status", 200))))
            return httpx.Response(int(answer.get("status", 200)), json=answer.get("body", {"errors": "fake failure"}))
        # Source: admin-graphql reference, "Authentication": a wrong or missing token is a 401 with
        # this body (REST and GraphQL alike).
        if request.headers.get("X-Shopify-Access-Token") != self.token:
            return httpx.Response(
                401, json={"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
            )
        if request.method != "POST" or not request.url.path.startswith("/admin/api/"):
            return httpx.Response(404, json={"errors": "Not Found"})
        if request.url.path != self.endpoint:
            # Shopify answers an unsupported version with the oldest supported one; the fake has one
            # schema and refuses the others (stricter than Shopify).
            return httpx.Response(404, json={"errors": f"the fake serves {self.endpoint} only"})
        try:
            body = json.loads(request.content)
        except ValueError:
            return httpx.Response(400, json={"errors": "Bad Request: the body is not JSON"})
        return self._graphql(str(body.get("query") or ""), body.get("variables") or {})

    # -- GraphQL ----------------------------------------------------------------------------------

    def _graphql(self, text: str, variables: dict[str, Any]) -> httpx.Response:
        try:
            document = parse(text)
        except GraphQLError as exc:
            return self._errors([exc.formatted], operation="invalid")
        problems = validate(schema(), document)
        if problems:
            return self._errors([p.formatted for p in problems], operation="invalid")
        operation = _operation(document)
        kind = operation.operation.value
        root_type = schema().mutation_type if kind == "mutation" else schema().query_type
        assert root_type is not None
        fields = tuple(_root_fields(operation.selection_set, document))
        cost = requested_cost(document, operation, variables)
        self._restore()
        status = self._status()
        if cost > MAX_QUERY_COST:  # refused before anything is charged
            self.exchanges.append(Exchange(kind, fields, 0, False, 200))
            return httpx.Response(
                200,
                json={
                    "errors": [
                        {
                            "message": f"Query cost is {cost}, which exceeds the single query max cost limit "
                            f"({MAX_QUERY_COST}).",
                            "extensions": {"code": "MAX_COST_EXCEEDED", "cost": cost, "maxCost": MAX_QUERY_COST},
                        }
                    ]
                },
            )
        if cost > self.available:
            # SOURCES.md: THROTTLED errors and the throttleStatus extension; nothing is executed.
            self.exchanges.append(Exchange(kind, fields, cost, True, 200))
            return httpx.Response(
                200,
                json={
                    "errors": [
                        {
                            "message": "Throttled",
                            "extensions": {
                                "code": "THROTTLED",
                                "documentation": "https://shopify.dev/api/usage/rate-limits",
                            },
                        }
                    ],
                    "extensions": {
                        "cost": {"requestedQueryCost": cost, "actualQueryCost": None, "throttleStatus": status}
                    },
                },
            )
        self.available -= cost
        handlers = _MUTATIONS if kind == "mutation" else _QUERIES
        result = execute_sync(
            schema(), document, root_value=_Root(self, handlers), variable_values=variables, context_value=self
        )
        self.exchanges.append(Exchange(kind, fields, cost, False, 200))
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [error.formatted for error in result.errors]
        # The cost actually used is the requested one here (Shopify refunds what a smaller answer did
        # not use: the fake never does, stricter than Shopify).
        answer["extensions"] = {
            "cost": {"requestedQueryCost": cost, "actualQueryCost": cost, "throttleStatus": self._status()}
        }
        return httpx.Response(
            200, content=json.dumps(answer, default=str), headers={"content-type": "application/json"}
        )

    def _errors(self, errors: list[Any], *, operation: str) -> httpx.Response:
        self.exchanges.append(Exchange(operation, (), 0, False, 200))
        return httpx.Response(200, json={"errors": errors})

    def _restore(self) -> None:
        now = self.clock()
        self.available = min(self.bucket, self.available + (now - self._at) * self.restore_rate)
        self._at = now

    def _status(self) -> dict[str, float]:
        return {
            "maximumAvailable": self.bucket,
            "currentlyAvailable": round(self.available, 1),
            "restoreRate": self.restore_rate,
        }

    # -- counts -----------------------------------------------------------------------------------

    def calls(self, field: str | None = None) -> int:
        """Requests answered (those whose root fields include ``field``)."""
        return sum(1 for e in self.exchanges if field is None or field in e.fields)

    def points(self) -> int:
        """Cost points charged (throttled requests charge nothing)."""
        return sum(e.requested_cost for e in self.exchanges if not e.throttled)


def _operation(document: DocumentNode) -> OperationDefinitionNode:
    return next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _root_fields(selection_set: SelectionSetNode, document: DocumentNode) -> Iterable[str]:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection.name.value
        elif isinstance(selection, InlineFragmentNode):
            yield from _root_fields(selection.selection_set, document)
        elif isinstance(selection, FragmentSpreadNode):
            yield from _root_fields(_fragments(document)[selection.name.value].selection_set, document)


def requested_cost(document: DocumentNode, operation: OperationDefinitionNode, variables: Mapping[str, Any]) -> int:
    """The requested cost of a document, as the rate-limits page computes it: scalars and enums 0,
    an object 1, a connection 2 plus its page size times the cost of one node, a mutation's root
    field 10; an interface or union costs its dearest selection ("Interface: maximum of possible
    selections": the fields it selects for itself plus its dearest type fragment). A list fetched
    by ids (``nodes(ids:)``) costs each id's object: the page does not say how lists are charged,
    so this is stricter than Shopify if it counts a list once."""
    fragments = _fragments(document)
    is_mutation = operation.operation.value == "mutation"
    root = schema().mutation_type if is_mutation else schema().query_type
    assert root is not None

    def argument(node: FieldNode, name: str) -> Any:
        for arg in node.arguments or ():
            if arg.name.value == name:
                value = arg.value
                if value.kind == "variable":
                    return variables.get(value.name.value)  # type: ignore[attr-defined]
                if value.kind == "list":
                    return list(value.values)  # type: ignore[attr-defined]
                return getattr(value, "value", None)
        return None

    def children(target: Any, selection_set: SelectionSetNode | None) -> int:
        """The cost of a selection set on ``target``: its own fields, plus the dearest fragment on
        another type when ``target`` is an interface or a union."""
        common = 0
        by_type: dict[str, int] = {}
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                common += field_cost(_concrete(target), selection, False)
                continue
            if isinstance(selection, InlineFragmentNode):
                condition, inner = selection.type_condition, selection.selection_set
            elif isinstance(selection, FragmentSpreadNode):
                spread = fragments[selection.name.value]
                condition, inner = spread.type_condition, spread.selection_set
            else:
                continue
            name = condition.name.value if condition else None
            if name and target is not None and is_abstract_type(target) and name != target.name:
                by_type[name] = by_type.get(name, 0) + children(schema().get_type(name), inner)
            else:
                common += children(target, inner)
        return common + max(by_type.values(), default=0)

    def field_cost(parent: GraphQLObjectType | Any, node: FieldNode, top: bool) -> int:
        name = node.name.value
        if name.startswith("__"):
            return 0
        definition = _field(parent, name)
        if definition is None:
            return 0
        target = get_named_type(definition.type)
        if is_leaf_type(target):
            return 0
        if target.name.endswith("Connection"):
            size = argument(node, "first") or argument(node, "last") or 0
            node_cost = 0
            for child in node.selection_set.selections if node.selection_set else ():
                if isinstance(child, FieldNode) and child.name.value in {"edges", "nodes"}:
                    node_cost = max(node_cost, field_cost(target, child, False))
            return 2 + int(size) * max(node_cost, 1)
        inner = children(target, node.selection_set)
        if target.name.endswith("Edge"):
            return inner
        own = MUTATION_COST if top and is_mutation else 1
        ids = argument(node, "ids")
        if isinstance(ids, list) and not is_mutation and definition.type is not target:  # a list by ids
            return max(1, len(ids)) * (1 + inner)
        return own + inner

    return sum(field_cost(root, node, True) for node in selections_of(operation.selection_set, fragments))


def selections_of(selection_set: SelectionSetNode | None, fragments: Mapping[str, Any]) -> Iterable[FieldNode]:
    """The fields of a selection set, fragments flattened."""
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from selections_of(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode):
            yield from selections_of(fragments[selection.name.value].selection_set, fragments)


def _field(parent: Any, name: str) -> Any:
    fields = getattr(parent, "fields", None)
    return fields.get(name) if fields else None


def _concrete(target: Any) -> Any:
    """The type whose fields a selection reads (an interface's own fields for abstract types)."""
    if is_abstract_type(target) and not hasattr(target, "fields"):
        return None
    return target


@query("node")
def _node(fake: ShopifyFake, info: Any, id: str) -> dict[str, Any] | None:
    """``QueryRoot.node``: any object by its global id, null when unknown (schema: ``Node``)."""
    return shape(fake, fake.node(id))


@query("nodes")
def _nodes(fake: ShopifyFake, info: Any, ids: list[str]) -> list[dict[str, Any] | None]:
    """``QueryRoot.nodes``: one entry per id, null for an unknown one (schema: ``[Node]!``); at most
    250 ids (shopify.dev "API limits": "Input arguments that accept an array have a maximum size
    of 250", code MAX_INPUT_SIZE_EXCEEDED)."""
    if len(ids) > MAX_PAGE:
        raise GraphQLError(
            f"The input array size of {len(ids)} is greater than the maximum allowed of {MAX_PAGE}.",
            extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"},
        )
    return [shape(fake, fake.node(i)) for i in ids]
