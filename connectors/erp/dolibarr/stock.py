"""Dolibarr as a stock source: real stock per warehouse from ``GET /products?includestockdata=1``
(``stock_warehouse``: warehouse id -> ``{"real": ...}``, ``Product::load_stock``), warehouses
named by their ``ref`` (``GET /warehouses``, warehouses.json).

``reserved`` is 0: Dolibarr's virtual stock (``stock_theorique``: open customer and supplier
orders) is per product, not per warehouse, and counts supplier orders too (docs/dolibarr.md).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from connectors.erp.dolibarr.catalogue import decimal, product_rows
from connectors.erp.dolibarr.client import DolibarrClient
from connectors.erp.dolibarr.settings import DolibarrSettings
from connectors.errors import Fatal
from connectors.models import StockLevel

__all__ = ["DolibarrStock"]


class DolibarrStock:
    """``StockSource`` over Dolibarr's REST API (mixed into ``DolibarrConnector``)."""

    client: DolibarrClient
    settings: DolibarrSettings

    def warehouses(self) -> list[str]:
        return list(self._warehouse_ids())

    def iter_stock(self, warehouses: Sequence[str]) -> Iterator[StockLevel]:
        """One level per product and warehouse of ``warehouses`` (refs).

        Raises:
            Fatal: a ref of ``warehouses`` is no Dolibarr warehouse.
        """
        codes = list(dict.fromkeys(warehouses))
        if not codes:
            return
        known = self._warehouse_ids()
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise Fatal(
                f"warehouse {', '.join(map(repr, unknown))} not found in Dolibarr (warehouses by ref).",
                resolution=f"use the ref of a Dolibarr warehouse: {', '.join(known) or 'none is open'}.",
            )
        for row in product_rows(self.client, self.settings, includestockdata=1):
            stock = row.get("stock_warehouse") or {}
            if not isinstance(stock, dict):  # PHP's empty array: no stock anywhere
                stock = {}
            for code in codes:
                entry: Any = stock.get(known[code]) or {}
                yield StockLevel(
                    key=str(row["id"]),
                    sku=row.get("ref") or None,
                    warehouse=code,
                    on_hand=decimal(entry.get("real")) or Decimal(0),
                )

    def _warehouse_ids(self) -> dict[str, str]:
        """Open warehouses (``statut`` 1; warehouses.json: labelStatus Closed / Opened) ref -> id."""
        rows = self.client.iter_list("warehouses", page_size=self.settings.page_size)
        return {str(r["ref"]): str(r["id"]) for r in rows if r.get("ref") and str(r.get("statut")) != "0"}
