"""Tryton as a stock source: quantities of the catalogue's articles per warehouse.

A warehouse is a ``stock.location`` of type warehouse, named by its code ("WH", "STORE").
``on_hand`` is ``product.product.quantity`` in the warehouse and its zones (done moves only);
``reserved`` is the open moves from the warehouse to a customer that come from confirmed or
processing sales (``RESERVING_SALE_STATES``): promised, not shipped, never counted twice. Reads go
per page of products, one search_read per warehouse, never one call per product.

Details: docs/stock-and-prices.md (section "Tryton stock").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from connectors.erp.tryton.catalogue import product_pages
from connectors.erp.tryton.client import TrytonClient
from connectors.erp.tryton.settings import TrytonSettings
from connectors.errors import Fatal
from connectors.models import StockLevel

__all__ = ["RESERVING_SALE_STATES", "TrytonStock"]

RESERVING_SALE_STATES = ["confirmed", "processing"]


class TrytonStock:
    """``StockSource`` over Tryton JSON-RPC (mixed into ``TrytonConnector``)."""

    client: TrytonClient
    settings: TrytonSettings

    def warehouses(self) -> list[str]:
        """Codes of Tryton's warehouses (a warehouse without a code cannot be configured)."""
        return list(self._warehouse_ids())

    def iter_stock(self, warehouses: Sequence[str]) -> Iterator[StockLevel]:
        """One level per catalogue article and warehouse of ``warehouses``.

        Raises:
            Fatal: a code of ``warehouses`` is no Tryton warehouse.
        """
        codes = list(dict.fromkeys(warehouses))
        if not codes:
            return
        known = self._warehouse_ids()
        unknown = [code for code in codes if code not in known]
        if unknown:
            raise Fatal(
                f"warehouse {', '.join(map(repr, unknown))} not found in Tryton (stock locations of type "
                "warehouse, by code).",
                resolution=f"use the code of a Tryton warehouse: {', '.join(known) or 'none has a code'}.",
            )
        reserved = {code: self._reserved(known[code]) for code in codes}
        products = self.client.model("product.product")
        first, others = codes[0], codes[1:]
        for page in product_pages(
            self.client, ["id", "code", "quantity"], page_size=self.settings.page_size, context=_at(known[first])
        ):
            ids = [row["id"] for row in page]
            quantities = {first: {row["id"]: row.get("quantity") for row in page}}
            for code in others:
                rows = products.read(ids, ["quantity"], context=_at(known[code]))
                quantities[code] = {row["id"]: row.get("quantity") for row in rows}
            for row in page:
                for code in codes:
                    yield StockLevel(
                        key=str(row["id"]),
                        sku=row.get("code") or None,
                        warehouse=code,
                        on_hand=_quantity(quantities[code].get(row["id"])),
                        reserved=reserved[code].get(row["id"], Decimal(0)),
                    )

    def _warehouse_ids(self) -> dict[str, int]:
        rows = self.client.model("stock.location").search_read([("type", "=", "warehouse")], ["id", "code"])
        return {row["code"]: row["id"] for row in rows if row.get("code")}

    def _reserved(self, warehouse_id: int) -> dict[int, Decimal]:
        """Product id -> quantity promised to customers from this warehouse and not shipped yet."""
        moves = self.client.model("stock.move").iter_search_read(
            [
                ("from_location", "child_of", [warehouse_id], "parent"),
                ("to_location.type", "=", "customer"),
                ("state", "not in", ["done", "cancelled"]),
                ("origin.sale.state", "in", RESERVING_SALE_STATES, "sale.line"),
            ],
            ["id", "product", "internal_quantity"],
            page_size=self.settings.page_size,
        )
        totals: dict[int, Decimal] = defaultdict(Decimal)
        for move in moves:
            totals[move["product"]] += _quantity(move.get("internal_quantity"))
        return dict(totals)


def _at(warehouse_id: int) -> dict[str, Any]:
    """The context that makes ``quantity`` the stock of one warehouse with all its zones.

    No ``stock_date_end``: Tryton then computes at its own today (it caps the date at today for
    ``quantity`` anyway), so a client clock or time zone never shifts the answer.
    """
    return {"locations": [warehouse_id], "with_childs": True}


def _quantity(value: float | None) -> Decimal:
    """A Tryton float quantity as Decimal (already rounded to the unit's digits by Tryton)."""
    if value is None:
        return Decimal(0)
    amount = Decimal(str(value))
    return amount.quantize(Decimal(1)) if amount == amount.to_integral_value() else amount
