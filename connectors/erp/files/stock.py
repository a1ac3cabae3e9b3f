"""Stock levels from GesCom stock exports (CSV or XML), per warehouse.

Two layouts are read:

- long, one row per article and warehouse (``Référence;Dépôt;Quantité;Réservé``); rows for
  the same article and warehouse (lots, locations) are summed; without a warehouse column every
  row belongs to ``default_warehouse``;
- wide, one row per article and one column per warehouse (``Référence;Stock PRINCIPAL;Stock
  BOUTIQUE``), declared with ``warehouse_columns``.

An unparseable quantity is an issue on its level (on hand 0 for that row), never an exception.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from connectors.erp.files.reader import export_rows, pick
from connectors.erp.files.settings import StockColumns, StockFileSettings
from connectors.erp.files.values import parse_decimal
from connectors.errors import Fatal, RecordError
from connectors.models import StockLevel

if TYPE_CHECKING:
    from connectors.erp.files.settings import FilesSettings

__all__ = ["FilesStock", "StockColumns", "StockFileSettings"]


class FilesStock:
    """``StockSource`` of the files connector (mixed into ``FilesConnector``)."""

    settings: FilesSettings

    def warehouses(self) -> list[str]:
        """Warehouse codes found in the stock export (and the ``known_warehouses``)."""
        return self._known(self._read_levels())

    def iter_stock(self, warehouses: Sequence[str]) -> Iterator[StockLevel]:
        """One level per article and warehouse of ``warehouses``, rows of the same pair summed.

        Raises:
            Fatal: a code of ``warehouses`` appears nowhere in the export.
        """
        levels = self._read_levels()
        known = self._known(levels)
        unknown = [code for code in warehouses if code not in known]
        if unknown:
            raise Fatal(
                f"warehouse {', '.join(map(repr, unknown))} not found in the stock export {self._stock().path}.",
                resolution=f"use codes the export holds ({', '.join(known) or 'none found'}), or list a "
                "warehouse that is currently empty in stock.known_warehouses.",
            )
        wanted = set(warehouses)
        for (_, warehouse), level in levels.items():
            if warehouse in wanted:
                yield level

    def _stock(self) -> StockFileSettings:
        if self.settings.stock is None:
            raise Fatal(
                "the files connector has no stock export configured.",
                resolution="add a [connections.<name>.erp.stock] table with the export's path and columns.",
            )
        return self.settings.stock

    def _known(self, levels: dict[tuple[str, str], StockLevel]) -> list[str]:
        found = {warehouse: None for _, warehouse in levels}
        if self._stock().warehouse_columns:
            found = dict.fromkeys(self._stock().warehouse_columns) | found
        return list(found | dict.fromkeys(self._stock().known_warehouses))

    def _read_levels(self) -> dict[tuple[str, str], StockLevel]:
        """Every level of the export by (key, warehouse), in order of first appearance."""
        s = self._stock()
        c = s.columns
        if s.warehouse_columns:
            required = [c.key, c.sku, *s.warehouse_columns.values(), *s.reserved_columns.values()]
        else:
            required = [c.key, c.sku, c.warehouse, c.quantity, c.reserved]
        levels: dict[tuple[str, str], StockLevel] = {}
        rows = export_rows(
            s.path,
            s,
            what="stock",
            required=required,
        )
        for origin, row in rows:
            sku = pick(row, c.sku)
            key = pick(row, c.key) or sku or origin
            if s.warehouse_columns:
                cells = [(code, col, s.reserved_columns.get(code)) for code, col in s.warehouse_columns.items()]
            else:
                cells = [(pick(row, c.warehouse) or s.default_warehouse, c.quantity, c.reserved)]
            for warehouse, quantity_column, reserved_column in cells:
                level = levels.get((key, warehouse))
                if level is None:
                    level = levels[key, warehouse] = StockLevel(key, sku, warehouse, on_hand=Decimal(0))
                    if sku is None:
                        reason = f"no reference in column {c.sku!r} ({origin})"
                        level.issues.append(RecordError(key, "sku", reason, check="parse"))
                level.on_hand += self._quantity(row, quantity_column, "quantity", level, origin)
                level.reserved += self._quantity(row, reserved_column, "reserved", level, origin)
        return levels

    def _quantity(self, row: dict[str, str], column: str | None, field: str, level: StockLevel, origin: str) -> Decimal:
        """The cell as a quantity; empty is 0 (exports leave nothing in stock blank)."""
        text = pick(row, column)
        if text is None:
            return Decimal(0)
        try:
            return parse_decimal(text, decimal_separator=self._stock().decimal_separator)
        except ValueError as exc:
            reason = f"column {column!r} ({origin}): {exc}"
            level.issues.append(RecordError(level.key, field, reason, check="parse"))
            return Decimal(0)
