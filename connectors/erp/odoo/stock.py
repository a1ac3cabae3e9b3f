"""Odoo as a stock source: stock.quant of the catalogue's articles per warehouse.

A warehouse is a ``stock.warehouse`` named by its ``code`` ("WH"). Its stock is the quants in its
``lot_stock_id`` location and every location under it (``child_of``), internal locations only:
``on_hand`` = sum of ``quantity``, ``reserved`` = sum of ``reserved_quantity`` (what confirmed
deliveries already took; Odoo's own ``available_quantity`` is their difference,
``stock/models/stock_quant.py``). One search_read of quants per page of products and warehouse.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from connectors.erp.odoo.catalogue import product_pages
from connectors.erp.odoo.client import OdooClient, m2o_id, parse_datetime
from connectors.erp.odoo.settings import OdooSettings
from connectors.errors import Fatal
from connectors.models import StockLevel

__all__ = ["OdooStock"]


class OdooStock:
    """``StockSource`` over Odoo (mixed into ``OdooConnector``)."""

    client: OdooClient
    settings: OdooSettings

    def warehouses(self) -> list[str]:
        return list(self._warehouse_locations())

    def iter_stock(self, warehouses: Sequence[str]) -> Iterator[StockLevel]:
        """One level per catalogue article and warehouse of ``warehouses`` (codes).

        Raises:
            Fatal: a code is no Odoo warehouse.
        """
        codes = list(dict.fromkeys(warehouses))
        if not codes:
            return
        known = self._warehouse_locations()
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise Fatal(
                f"warehouse {', '.join(map(repr, unknown))} not found in Odoo (stock.warehouse, by code).",
                resolution=f"use the code of an Odoo warehouse: {', '.join(known) or 'none'}.",
            )
        for page in product_pages(self.client, ["id", "default_code"], page_size=self.settings.page_size):
            ids = [row["id"] for row in page]
            for code in codes:
                totals = self._quants(known[code], ids)
                for row in page:
                    on_hand, reserved, written = totals.get(row["id"], (Decimal(0), Decimal(0), None))
                    yield StockLevel(
                        key=str(row["id"]),
                        sku=row.get("default_code") or None,
                        warehouse=code,
                        on_hand=_quantity(on_hand),
                        reserved=_quantity(reserved),
                        updated_at=written,
                    )

    def _warehouse_locations(self) -> dict[str, int]:
        """Warehouse code -> id of its stock location (``lot_stock_id``)."""
        domain: list[Any] = []
        if self.settings.company_id is not None:
            domain.append(("company_id", "=", self.settings.company_id))
        rows = self.client.model("stock.warehouse").search_read(domain, ["id", "code", "lot_stock_id"])
        return {r["code"]: m2o_id(r["lot_stock_id"]) or 0 for r in rows if r.get("code")}

    def _quants(self, location: int, product_ids: list[int]) -> dict[int, tuple[Decimal, Decimal, Any]]:
        quants = self.client.model("stock.quant").iter_search_read(
            [
                ("location_id", "child_of", location),
                ("location_id.usage", "=", "internal"),
                ("product_id", "in", product_ids),
            ],
            ["id", "product_id", "quantity", "reserved_quantity", "write_date"],
            page_size=self.settings.page_size,
        )
        on_hand: dict[int, Decimal] = defaultdict(Decimal)
        reserved: dict[int, Decimal] = defaultdict(Decimal)
        written: dict[int, Any] = {}
        for quant in quants:
            product = m2o_id(quant["product_id"]) or 0
            on_hand[product] += Decimal(str(quant.get("quantity") or 0))
            reserved[product] += Decimal(str(quant.get("reserved_quantity") or 0))
            when = parse_datetime(quant.get("write_date"))
            if when is not None and (written.get(product) is None or when > written[product]):
                written[product] = when
        return {p: (on_hand[p], reserved[p], written.get(p)) for p in on_hand}


def _quantity(amount: Decimal) -> Decimal:
    """Odoo's float quantities as Decimal, integral ones without decimals."""
    return amount.quantize(Decimal(1)) if amount == amount.to_integral_value() else amount.normalize()
