"""Prices from GesCom exports: base price and VAT, promotions, customer-group prices.

The base prices come from a price export (``prices.path``) or, when there is none, from the
article export itself (its price and VAT columns, read by the catalogue reader), so a merchant
with one export gets prices from it. Promotion columns are read from whichever of the two holds
the base prices. Customer-group prices come from a separate export in long layout, one row per
article, group and minimum quantity, as Sage writes its "tarifs par catégorie tarifaire".

Promotion dates are local dates or times in ``timezone``: a date-only start is 00:00 that day,
a date-only end is inclusive (it ends at 00:00 the next day); both become aware UTC instants.
Unparseable values are issues on their record, never exceptions.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar
from zoneinfo import ZoneInfo

from connectors.erp.files.reader import export_rows, pick
from connectors.erp.files.settings import GroupPriceColumns, GroupPriceFileSettings, PriceColumns, PriceFileSettings
from connectors.erp.files.values import parse_datetime, parse_decimal
from connectors.errors import Fatal, RecordError
from connectors.models import Article, GroupPrice, PriceRecord, Promotion

if TYPE_CHECKING:
    from connectors.erp.files.settings import FilesSettings

__all__ = ["FilesPrices", "GroupPriceColumns", "GroupPriceFileSettings", "PriceColumns", "PriceFileSettings"]


T = TypeVar("T")


_ARTICLE_PRICES = PriceFileSettings()


class FilesPrices:
    """``PriceSource`` of the files connector (mixed into ``FilesConnector`` after ``FilesCatalogue``)."""

    settings: FilesSettings

    if TYPE_CHECKING:  # provided by FilesCatalogue

        def _article(self, row: dict[str, str], origin: str) -> Article: ...

    def iter_prices(self, groups: Sequence[str]) -> Iterator[PriceRecord]:
        """One record per sellable article with its promotion and the prices of ``groups``.

        Raises:
            Fatal: no export to read prices from, or a group of ``groups`` is in no group price row.
        """
        by_key = self._read_group_prices(groups)
        for record in self._base_records():
            found = by_key.get(record.key)
            if found is not None:
                record.group_prices, issues = found
                record.issues.extend(issues)
            yield record

    def _tax_included(self) -> bool:
        own = self._prices().tax_included
        return self.settings.tax_included if own is None else own

    def _prices(self) -> PriceFileSettings:
        """The price settings; none: the article export's prices, without promotions."""
        return self.settings.prices or _ARTICLE_PRICES

    # -- base prices and promotions ------------------------------------------------------------

    def _base_records(self) -> Iterator[PriceRecord]:
        p, c = self._prices(), self._prices().columns
        promo_columns = [c.promo_price, c.promo_start, c.promo_end, c.promo_name]
        if p.path is not None:
            required = [c.key, c.sku, c.price, c.vat_rate, c.currency, *promo_columns]
            for origin, row in export_rows(
                p.path,
                p,
                what="price",
                required=required,
            ):
                yield self._price_row(row, origin)
            return
        a = self.settings
        if a.path is None:
            raise Fatal(
                "the files connector has neither a price export nor an article export to read prices from.",
                resolution="set prices.path, or the article export's path.",
            )
        # Only what prices need: the catalogue reads an export without the optional columns.
        required = [a.columns.key, a.columns.price, *promo_columns]
        for origin, row in export_rows(
            a.path,
            a,
            what="article",
            required=required,
        ):
            article = self._article(row, origin)
            if not article.active:
                continue
            record = PriceRecord(
                key=article.key,
                sku=article.sku,
                price=article.price,
                currency=article.currency,
                vat_rate=article.vat_rate,
                tax_included=self._tax_included(),
                issues=[i for i in article.issues if i.field in ("price", "vat_rate")],
            )
            self._add_promotion(record, row, origin, a.decimal_separator)
            yield record

    def _price_row(self, row: dict[str, str], origin: str) -> PriceRecord:
        p, c = self._prices(), self._prices().columns
        sku = pick(row, c.sku)
        key = pick(row, c.key) or sku or origin
        record = PriceRecord(
            key=key,
            sku=sku,
            price=None,
            currency=(pick(row, c.currency) or self.settings.currency).upper(),
            tax_included=self._tax_included(),
        )
        cells = _Cells(row, key, origin, record.issues)
        record.price = cells.get(c.price, _number(p.decimal_separator), "price")
        record.vat_rate = cells.get(c.vat_rate, _number(p.decimal_separator, percent=True), "vat_rate")
        self._add_promotion(record, row, origin, p.decimal_separator)
        return record

    def _add_promotion(self, record: PriceRecord, row: dict[str, str], origin: str, decimal_separator: str) -> None:
        """The promotion of the row, when it has a promotional price and every value parses."""
        p, c = self._prices(), self._prices().columns
        zone = ZoneInfo(p.timezone)
        before = len(record.issues)
        cells = _Cells(row, record.key, origin, record.issues)
        price = cells.get(c.promo_price, _number(decimal_separator), "promo_price")
        starts_at = cells.get(c.promo_start, lambda t: parse_datetime(t, tz=zone), "promo_start")
        ends_at = cells.get(c.promo_end, lambda t: parse_datetime(t, tz=zone, end_of_day=True), "promo_end")
        # A promotion with a date left out would be in force too long: the record is quarantined
        # by its issue anyway, so it carries no half-read promotion.
        if price is not None and len(record.issues) == before:
            record.promotions.append(Promotion(price, starts_at, ends_at, pick(row, c.promo_name)))

    # -- customer-group prices -------------------------------------------------------------------

    def _read_group_prices(self, groups: Sequence[str]) -> dict[str, tuple[list[GroupPrice], list[RecordError]]]:
        """Group prices (and their issues) by article key, only for ``groups``, in their order."""
        if not groups:
            return {}
        g = self._prices().group_prices
        if g is None:
            raise Fatal(
                f"customer group prices are asked ({', '.join(map(repr, groups))}) but no group price export "
                "is configured.",
                resolution="set [connections.<name>.erp.prices.group_prices] with the export's path and columns, "
                "or configure no customer group.",
            )
        c = g.columns
        wanted = {name: rank for rank, name in enumerate(groups)}
        found: dict[str, None] = {}
        by_key: dict[str, tuple[list[GroupPrice], list[RecordError]]] = {}
        for origin, row in export_rows(
            g.path,
            g,
            what="group price",
            required=[c.key, c.sku, c.group, c.price, c.min_quantity],
        ):
            group = pick(row, c.group)
            if group is None:
                continue
            found[group] = None
            key = pick(row, c.key) or pick(row, c.sku)
            if group not in wanted or key is None:
                continue
            prices, issues = by_key.setdefault(key, ([], []))
            cells = _Cells(row, key, origin, issues)
            price = cells.get(c.price, _number(g.decimal_separator), "group_prices")
            minimum = cells.get(c.min_quantity, _number(g.decimal_separator), "group_prices")
            if price is not None:
                prices.append(GroupPrice(group, price, Decimal(1) if minimum is None else minimum))
        unknown = [name for name in groups if name not in found]
        if unknown:
            raise Fatal(
                f"customer group {', '.join(map(repr, unknown))} not found in the group price export {g.path}.",
                resolution=f"use group names as the export writes them: {', '.join(found) or 'none found'}.",
            )
        for key, (prices, issues) in by_key.items():
            prices.sort(key=lambda gp: (wanted[gp.group], gp.min_quantity))
            for one, other in itertools.pairwise(prices):
                if (one.group, one.min_quantity) == (other.group, other.min_quantity) and one.price != other.price:
                    reason = f"two prices ({one.price}, {other.price}) for group {one.group!r} from {one.min_quantity}"
                    issues.append(RecordError(key, "group_prices", reason, check="parse"))
        return by_key


def _number(decimal_separator: str, percent: bool = False) -> Callable[[str], Decimal]:
    return lambda text: parse_decimal(text, decimal_separator=decimal_separator, percent=percent)


@dataclass(slots=True)
class _Cells:
    """The cells of one export row for one article: unparseable ones become its issues."""

    row: dict[str, str]
    key: str
    origin: str
    issues: list[RecordError]

    def get(self, column: str | None, parse: Callable[[str], T], field: str) -> T | None:
        """The cell parsed, None when empty; an unparseable one is an issue on ``field``."""
        text = pick(self.row, column)
        if text is None:
            return None
        try:
            return parse(text)
        except ValueError as exc:
            reason = f"column {column!r} ({self.origin}): {exc}"
            self.issues.append(RecordError(self.key, field, reason, check="parse"))
            return None
