"""Shopify as an order source: orders of a time window, or by id, as canonical Orders.

Window: ``orders(query: "updated_at:>='<since - 1 s>' AND updated_at:<'<until + 1 s>'", sortKey:
UPDATED_AT)``, one second wider on each side (Shopify's search compares whole seconds); the
connector keeps exactly ``since <= updatedAt < until``. Cursors are Shopify's (keyset on the sort
key and id): no order is skipped between pages. Draft orders (the cart, the admin's drafts) are
another type and never listed. By id: ``nodes(ids:)``, 250 ids at most per request.

A page holds :data:`LINES_PAGE` line items of each order (the query's cost grows with it: 1 000
points at most per query); an order with more is completed by ``order(id) { lineItems(after:) }``.
Mapping: :mod:`connectors.shop.shopify.order_mapper`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from connectors.models import Order, ensure_utc
from connectors.shop.shopify.base import ShopifyBase
from connectors.shop.shopify.order_mapper import LINE_FIELDS, ORDER_FIELDS, map_order, order_gid

__all__ = ["ORDERS_PAGE", "ShopifyOrders", "window_query"]

LINES_PAGE = 10
"""Line items read with each order; more are read per order (``_more_lines``)."""
ORDERS_PAGE = 5
"""Orders per page: about 170 cost points each with :data:`LINES_PAGE` lines (under 1 000)."""
IDS_PAGE = 5
"""Orders per ``nodes`` request (the same cost per order)."""

_SECOND = timedelta(seconds=1)

ORDER_NODE = f"""
  {ORDER_FIELDS}
  lineItems(first: {LINES_PAGE}) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {LINE_FIELDS} }} }}
"""

WINDOW = f"""
query Orders($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ {ORDER_NODE} }}
  }}
}}
"""

BY_IDS = f"""
query OrdersById($ids: [ID!]!) {{
  nodes(ids: $ids) {{ __typename ... on Order {{ {ORDER_NODE} }} }}
}}
"""

MORE_LINES = f"""
query OrderLines($id: ID!, $first: Int!, $after: String) {{
  order(id: $id) {{
    lineItems(first: $first, after: $after) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {LINE_FIELDS} }} }}
  }}
}}
"""


def _iso(value: datetime) -> str:
    return ensure_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def window_query(since: datetime | None, until: datetime | None) -> str | None:
    """The search of the orders updated around ``[since, until)`` (one second wider each side)."""
    terms = []
    if since is not None:
        terms.append(f"updated_at:>='{_iso(ensure_utc(since).replace(microsecond=0) - _SECOND)}'")
    if until is not None:
        terms.append(f"updated_at:<'{_iso(ensure_utc(until).replace(microsecond=0) + 2 * _SECOND)}'")
    return " AND ".join(terms) or None


def _in_window(order: Order, since: datetime | None, until: datetime | None) -> bool:
    return (since is None or order.updated_at >= ensure_utc(since)) and (
        until is None or order.updated_at < ensure_utc(until)
    )


class ShopifyOrders(ShopifyBase):
    """OrderSource for the Admin GraphQL API (scopes ``read_orders``, ``read_customers``)."""

    def iter_orders(self, since: datetime | None, until: datetime | None) -> Iterator[Order]:
        """Orders with ``since <= updatedAt < until`` (aware; None: open end), oldest first."""
        if since is not None and until is not None and ensure_utc(since) >= ensure_utc(until):
            return
        rows: dict[str, dict[str, Any]] = {}
        variables = {"query": window_query(since, until)}
        for node in self.client.paginate(WINDOW, variables, ("orders",), page_size=ORDERS_PAGE):
            rows[node["id"]] = node  # an order listed twice (updated meanwhile): its last answer
        orders = [self._map(row) for row in rows.values()]
        kept = [o for o in orders if _in_window(o, since, until)]
        yield from sorted(kept, key=lambda o: (o.updated_at, len(o.shop_id), o.shop_id))

    def get_orders(self, shop_ids: Sequence[str]) -> list[Order]:
        """These orders (numbers or gids), in the order asked; unknown ids are left out."""
        ids = list(dict.fromkeys(order_gid(i) for i in shop_ids if str(i).strip()))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), IDS_PAGE):
            data = self.client.execute(BY_IDS, {"ids": ids[start : start + IDS_PAGE]})
            for node in data.get("nodes") or []:
                if node and node.get("__typename") == "Order":
                    found[node["id"]] = node
        return [self._map(found[i]) for i in ids if i in found]

    def _map(self, row: dict[str, Any]) -> Order:
        return map_order(row, self._lines(row))

    def _lines(self, row: dict[str, Any]) -> list[dict[str, Any]]:
        """Every line item of ``row``: the first page, then the rest read by the order's id."""
        connection = row.get("lineItems") or {}
        lines = list(connection.get("nodes") or [])
        info = connection.get("pageInfo") or {}
        after = info.get("endCursor")
        while info.get("hasNextPage"):
            data = self.client.execute(MORE_LINES, {"id": row["id"], "first": 50, "after": after})
            more = ((data.get("order") or {}).get("lineItems")) or {}
            lines += more.get("nodes") or []
            info = more.get("pageInfo") or {}
            after = info.get("endCursor")
        return lines
