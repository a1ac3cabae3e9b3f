"""Catalogue source reading article exports (CSV or XML) with configurable column names."""

from __future__ import annotations

import glob
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from connectors.erp.files.feedback import ShipmentExportSettings
from connectors.erp.files.invoices import InvoiceExportSettings
from connectors.erp.files.orders import OrderExportSettings
from connectors.erp.files.prices import PriceFileSettings
from connectors.erp.files.reader import ExportFormat, pick, read_csv, read_xml
from connectors.erp.files.stock import StockFileSettings
from connectors.erp.files.values import parse_bool, parse_decimal
from connectors.errors import Fatal, RecordError
from connectors.models import Article

__all__ = ["ArticleColumns", "FilesCatalogue", "FilesSettings"]


class ArticleColumns(BaseModel):
    """Export column (CSV header, XML child tag or ``@attribute``) for each article field."""

    model_config = ConfigDict(extra="forbid")
    key: str | None = None
    sku: str = "sku"
    name: str = "name"
    description: str | None = "description"
    ean: str | None = "ean"
    price: str = "price"
    vat_rate: str | None = "vat_rate"
    weight: str | None = "weight"
    group_key: str | None = "group_key"
    group_name: str | None = None
    active: str | None = None
    images: str | None = None
    currency: str | None = None


class FilesSettings(ExportFormat):
    path: str | None = None
    """A file, or a glob (``exports/articles_*.csv``): every match is read, in name order.
    Unset for a connection that only reads stock or prices from their own exports."""
    currency: str = "EUR"
    tax_included: bool = False
    """Whether the export's price column includes VAT ("Prix de vente TTC"): true sends the shop
    the price the customer must see, whatever basis the shop stores (docs/platforms.md)."""
    columns: ArticleColumns = Field(default_factory=ArticleColumns)
    attributes: dict[str, str] = Field(default_factory=dict)
    """Variant attribute -> column (``colour = "Couleur"``); the column's name is the attribute's
    display name unless ``[catalogue] attribute_labels`` says otherwise."""
    extra: dict[str, str] = Field(default_factory=dict)
    """User-defined field (``fields.<name>`` in mappings) -> column."""
    stock: StockFileSettings | None = None
    """The stock export (``[connections.<name>.erp.stock]``)."""
    prices: PriceFileSettings | None = None
    """Where prices come from (``[connections.<name>.erp.prices]``)."""
    orders: OrderExportSettings | None = None
    """Where web orders are written for the ERP's import (``[connections.<name>.erp.orders]``)."""
    invoices: InvoiceExportSettings | None = None
    """The invoice PDFs and their index (``[connections.<name>.erp.invoices]``)."""
    shipments: ShipmentExportSettings | None = None
    """The shipments export, for order statuses (``[connections.<name>.erp.shipments]``)."""


class FilesCatalogue:
    """Reads article exports; every unparseable value becomes an issue on its record."""

    platform = "files"

    def __init__(self, settings: FilesSettings) -> None:
        self.settings = settings

    def files(self) -> list[Path]:
        if self.settings.path is None:
            raise Fatal(
                "the files connector has no article export configured.",
                resolution="set path (the article export) in the connection's erp settings.",
            )
        matches = sorted(glob.glob(self.settings.path))
        if not matches:
            raise Fatal(
                f"no export file matches {self.settings.path}.",
                resolution="check the path in the configuration and that the ERP export ran.",
            )
        return [Path(m) for m in matches]

    def iter_articles(self) -> Iterator[Article]:
        for file in self.files():
            yield from self._read_file(file)

    def _read_file(self, file: Path) -> Iterator[Article]:
        s = self.settings
        fmt = s.format if s.format != "auto" else file.suffix.lower().lstrip(".")
        if fmt == "csv" or fmt == "txt":
            rows = read_csv(file, encoding=s.encoding, delimiter=s.delimiter)
            where = "line"
        elif fmt == "xml":
            rows = read_xml(file, record_tag=s.record_tag, encoding=s.encoding)
            where = f"<{s.record_tag}> #"
        else:
            raise Fatal(f"{file}: unknown export format {fmt!r}.", resolution='set format = "csv" or "xml".')
        for number, row in rows:
            yield self._article(row, f"{file.name} {where}{' ' if where == 'line' else ''}{number}")

    def _article(self, row: dict[str, str], origin: str) -> Article:
        s, c = self.settings, self.settings.columns
        sku = pick(row, c.sku)
        key = pick(row, c.key) or sku or origin
        issues: list[RecordError] = []

        def number(column: str | None, field: str, *, percent: bool = False) -> Decimal | None:
            text = pick(row, column)
            if text is None:
                return None
            try:
                return parse_decimal(text, decimal_separator=s.decimal_separator, percent=percent)
            except ValueError as exc:
                issues.append(RecordError(key, field, f"column {column!r} ({origin}): {exc}", check="parse"))
                return None

        active = True
        if c.active and (text := pick(row, c.active)) is not None:
            try:
                active = parse_bool(text)
            except ValueError as exc:
                issues.append(RecordError(key, "active", f"column {c.active!r} ({origin}): {exc}", check="parse"))
        images = tuple(i.strip() for i in (pick(row, c.images) or "").split("|") if i.strip())
        return Article(
            key=key,
            sku=sku,
            name=pick(row, c.name),
            description=pick(row, c.description),
            ean=pick(row, c.ean),
            price=number(c.price, "price"),
            currency=(pick(row, c.currency) or s.currency).upper(),
            vat_rate=number(c.vat_rate, "vat_rate", percent=True),
            weight=number(c.weight, "weight"),
            group_key=pick(row, c.group_key),
            group_name=pick(row, c.group_name),
            attributes={name: v for name, col in s.attributes.items() if (v := pick(row, col)) is not None},
            attribute_labels=dict(s.attributes),
            tax_included=s.tax_included,
            fields={name: v for name, col in s.extra.items() if (v := pick(row, col)) is not None},
            images=images,
            active=active,
            issues=issues,
        )
