"""Shopify's cost throttle for the shop benchmark: the cost an answer actually used, and a replay of
the leaky bucket (``benchmarks/shops.py`` also replays a step's costs repeated, for a bigger catalogue).

The fake (``deployments/sandbox/fakes/shopify``) charges every document its *requested* cost (the
rate-limits page's formula: a connection costs 2 + ``first`` x its node) and never refunds. Shopify
checks the requested cost against the bucket before running a document, then charges the *actual*
cost and gives the rest back (shopify.dev, "GraphQL Admin API rate limits": ``requestedQueryCost``
/ ``actualQueryCost``; Shopify Engineering, "Rate Limiting GraphQL APIs by Calculating Query
Complexity": a connection costs 2 plus the objects it *returned*). :func:`actual_cost` computes
that from the answer (an estimate: nothing here was measured against a real shop), and
:func:`replay` runs a request sequence through the bucket under either rule, with or without a
latency per request, the way ``ShopifyClient`` waits: before a document until the bucket holds
its requested cost plus one point.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
)

from deployments.sandbox.fakes.shopify.core import MUTATION_COST, schema

__all__ = ["Cost", "Replay", "actual_cost", "replay"]

MARGIN = 1.0
"""``ShopifyClient._wait_for`` waits for the requested cost plus one point."""


@dataclass(slots=True, frozen=True)
class Cost:
    """One request as the bucket sees it."""

    requested: int
    """What Shopify checks against the bucket before running the document (the fake charges it)."""
    actual: int
    """What the answer used (:func:`actual_cost`): what Shopify charges once it has run."""
    name: str = ""
    """The operation and its root fields (``mutation productSet``)."""


@dataclass(slots=True, frozen=True)
class Replay:
    waited: float
    """Seconds spent waiting for the bucket."""
    seconds: float
    """Waits plus ``latency`` per request: the shop-side wall time."""


def replay(
    costs: Iterable[Cost], bucket: float, restore: float, *, latency: float = 0.0, refunds: bool = True
) -> Replay:
    """The bucket over ``costs`` sent one after the other from a full bucket.

    Each request waits until the bucket holds its requested cost (+1, at most the bucket), is
    charged its actual cost (``refunds``) or its requested one (the fake's rule), then takes
    ``latency`` seconds during which the bucket refills. The client's first use of a document (cost
    not known yet, a THROTTLED answer) is not modelled: it waits before instead.
    """
    available, waited, count = bucket, 0.0, 0
    for cost in costs:
        count += 1
        needed = min(cost.requested + MARGIN, bucket)
        if available < needed:
            waited += (needed - available) / restore
            available = needed
        available -= cost.actual if refunds else cost.requested
        available = min(bucket, available + latency * restore)
    return Replay(waited, waited + count * latency)


def actual_cost(document: DocumentNode, data: Mapping[str, Any] | None) -> int:
    """What ``data`` (the answer to ``document``) costs once run: the fake's ``requested_cost`` walk
    (``deployments/sandbox/fakes/shopify/core.py``) with each connection counted for the nodes it
    returned instead of its ``first``, and a null object for itself only (no children)."""
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    is_mutation = operation.operation.value == "mutation"
    root = schema().mutation_type if is_mutation else schema().query_type

    def selections(selection_set: SelectionSetNode | None, typename: str | None) -> Iterable[FieldNode]:
        """The fields selected, with the fragments whose type condition the answer's type meets
        (an interface's fragments on other types cost nothing once run)."""
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                yield selection
                continue
            if isinstance(selection, InlineFragmentNode):
                condition, inner = selection.type_condition, selection.selection_set
            elif isinstance(selection, FragmentSpreadNode):
                spread = fragments[selection.name.value]
                condition, inner = spread.type_condition, spread.selection_set
            else:
                continue
            if (
                condition is None
                or typename is None
                or condition.name.value == typename
                or not _is_object(condition.name.value)
            ):
                yield from selections(inner, typename)

    def children(target: Any, node: FieldNode, value: Any) -> int:
        if not isinstance(value, Mapping):
            return 0
        typename = value.get("__typename")
        concrete = schema().get_type(typename) if isinstance(typename, str) else target
        return sum(
            field_cost(concrete, child, value.get(_key(child)), False)
            for child in selections(node.selection_set, typename if isinstance(typename, str) else None)
        )

    def field_cost(parent: Any, node: FieldNode, value: Any, top: bool) -> int:
        name = node.name.value
        definition = (getattr(parent, "fields", None) or {}).get(name)
        if definition is None or name.startswith("__"):
            return 0
        target = get_named_type(definition.type)
        if is_leaf_type(target):
            return 0
        concrete = target if hasattr(target, "fields") else None
        if target.name.endswith("Connection"):
            per_page = 0
            for child in selections(node.selection_set, None):
                if child.name.value in {"edges", "nodes"} and isinstance(value, Mapping):
                    items = value.get(_key(child)) or []
                    per_page = max(per_page, sum(max(1, field_cost(concrete, child, [i], False)) for i in items))
            return 2 + per_page
        if target.name.endswith("Edge"):
            return children(concrete, node, _first(value))
        own = MUTATION_COST if top and is_mutation else 1
        if isinstance(value, list) and any(a.name.value == "ids" for a in node.arguments or ()):
            # a list by ids: each object returned, as the fake's requested cost counts each id
            return sum(1 + children(concrete, node, item) for item in value if item is not None)
        return own + children(concrete, node, _first(value))

    return sum(
        field_cost(root, node, (data or {}).get(_key(node)), True) for node in selections(operation.selection_set, None)
    )


def _first(value: Any) -> Any:
    """A plain list counts once (its first object), as the requested cost does."""
    if isinstance(value, list):
        return next((item for item in value if item is not None), None)
    return value


def _is_object(name: str) -> bool:
    return isinstance(schema().get_type(name), GraphQLObjectType)


def _key(node: FieldNode) -> str:
    return node.alias.value if node.alias else node.name.value
