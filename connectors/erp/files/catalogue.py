"""Catalogue source reading article exports (CSV or XML) with configurable column names."""

from __future__ import annotations

import glob
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from connectors.erp.files.reader import pick, read_csv, read_xml
from connectors.erp.files.settings import ArticleColumns, FilesSettings
from connectors.erp.files.values import parse_bool, parse_decimal
from connectors.errors import Fatal, RecordError
from connectors.models import Article

__all__ = ["ArticleColumns", "FilesCatalogue", "FilesSettings"]


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
