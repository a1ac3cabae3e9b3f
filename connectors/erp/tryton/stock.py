"""Tryton as a stock source: quantities of the catalogue's articles per warehouse.

A warehouse is a ``stock.location`` of type warehouse, named by its code ("WH", "STORE").

What Tryton 8.2 computes, as observed on the real server (and asserted by
``tests/integration/test_tryton_stock_prices.py``): ``product.product.quantity`` read with the
context ``{"locations": [warehouse], "with_childs": True}`` is the stock at the server's today
(Tryton caps ``stock_date_end`` at today for ``quantity``) in the warehouse and all its zones
(input, storage, output), counting **done** moves only. Draft and assigned moves are not in it:
the outgoing move of a confirmed sale (output zone -> customer) stays out of ``quantity`` while
the shipment waits, is picked (storage -> output: inside the warehouse) and packed (the move is
then assigned); ``quantity`` drops only when the shipment is done. ``forecast_quantity``
subtracts those moves but also adds planned receipts, so it is not what can be sold.

Hence, in the product's default unit:

- ``on_hand`` = ``quantity``;
- ``reserved`` = the ``internal_quantity`` of the moves from the warehouse (or any of its zones)
  to a customer location, neither done nor cancelled, whose origin is a line of a sale in state
  confirmed or processing: what was promised and not shipped. None of them is in ``quantity``,
  so nothing is subtracted twice; when the shipment is done the move leaves ``reserved`` and
  ``quantity`` drops by the same amount.

A sale confirmed with a "process after" delay has no moves until Tryton processes it, so it is
not reserved before then (minutes; the flow's safety stock covers them).

Calls: one search of the warehouses, one search of the open customer moves per warehouse, then
per page of products (``page_size``) one search_read per warehouse (the first carries the page,
the others read the same ids). Never one call per product.
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
