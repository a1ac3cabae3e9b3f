"""WooCommerce as an order source: orders of a time window, or by id, as canonical Orders.

Window: ``GET /orders`` with ``modified_after`` / ``modified_before`` and ``dates_are_gmt=true``,
one second wider on each side; the connector keeps exactly ``since <= date_modified_gmt < until``.
Every status but ``checkout-draft``, ``trash`` and ``auto-draft``. Paging is by keyset on the
modification time (again from one second before a page's newest), falling back to page numbers
only when a full page changed within one second.

Details: docs/woocommerce.md (Reading orders).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from connectors.models import Order, ensure_utc
from connectors.shop.woocommerce.client import MAX_PER_PAGE, WooCommerceClient
from connectors.shop.woocommerce.order_mapper import map_order, parse_gmt

__all__ = ["WOOCOMMERCE_STATUSES", "WooCommerceOrders", "window_params"]

WOOCOMMERCE_STATUSES = ("pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed")
"""Statuses of the orders to import: all but ``checkout-draft``, ``trash`` and ``auto-draft``."""

_SECOND = timedelta(seconds=1)


def _gmt(value: datetime) -> str:
    return ensure_utc(value).strftime("%Y-%m-%dT%H:%M:%S")


def window_params(since: datetime | None, until: datetime | None) -> dict[str, Any]:
    """Query parameters of the orders modified around ``[since, until)`` (one second wider)."""
    params: dict[str, Any] = {
        "status": ",".join(WOOCOMMERCE_STATUSES),
        "orderby": "modified",
        "order": "asc",
        "dates_are_gmt": "true",
    }
    if since is not None:
        params["modified_after"] = _gmt(ensure_utc(since).replace(microsecond=0) - _SECOND)
    if until is not None:
        params["modified_before"] = _gmt(ensure_utc(until).replace(microsecond=0) + 2 * _SECOND)
    return params


def _in_window(order: Order, since: datetime | None, until: datetime | None) -> bool:
    return (since is None or order.updated_at >= ensure_utc(since)) and (
        until is None or order.updated_at < ensure_utc(until)
    )


class WooCommerceOrders:
    """OrderSource for the WooCommerce REST API (the REST key needs Read permission)."""

    client: WooCommerceClient
    platform = "WooCommerce"
    per_page = MAX_PER_PAGE

    def iter_orders(self, since: datetime | None, until: datetime | None) -> Iterator[Order]:
        """Orders with ``since <= date_modified_gmt < until`` (aware; None: open end), oldest first."""
        if since is not None and until is not None and ensure_utc(since) >= ensure_utc(until):
            return
        rows = self._list(since, until)
        orders = [map_order(row) for row in rows.values()]
        kept = [o for o in orders if _in_window(o, since, until)]
        yield from sorted(kept, key=lambda o: (o.updated_at, len(o.shop_id), o.shop_id))

    def get_orders(self, shop_ids: Sequence[str]) -> list[Order]:
        """These orders, in the order asked; unknown ids (and checkout drafts) are left out."""
        ids = list(dict.fromkeys(str(i) for i in shop_ids))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), self.per_page):
            chunk = ids[start : start + self.per_page]
            params = {"include": ",".join(chunk), "status": ",".join(WOOCOMMERCE_STATUSES)}
            for row in self.client.list("orders", params, per_page=self.per_page):
                found[str(row["id"])] = row
        return [map_order(found[i]) for i in ids if i in found]

    def _list(self, since: datetime | None, until: datetime | None) -> dict[str, dict[str, Any]]:
        """Raw orders of the (widened) window by id, read by keyset on ``date_modified_gmt``."""
        params = window_params(since, until)
        rows: dict[str, dict[str, Any]] = {}
        lower: str | None = params.get("modified_after")
        while True:
            query = {**params, **({"modified_after": lower} if lower else {})}
            items, pages = self.client.page("orders", query, 1, per_page=self.per_page)
            rows.update((str(row["id"]), row) for row in items)  # a re-listed order: its last answer
            if len(items) < self.per_page or (pages is not None and pages <= 1):
                return rows
            newest = max(parse_gmt(row["date_modified_gmt"]) for row in items)
            following = _gmt(newest - _SECOND)
            if lower is not None and following <= lower:
                # a full page changed within one second: page numbers for the rest of the window
                rows.update((str(row["id"]), row) for row in self.client.list("orders", query, per_page=self.per_page))
                return rows
            lower = following

    def close(self) -> None:
        self.client.close()
