"""Odoo as a price source: list prices, dated pricelist rules as promotions, pricelists as groups.

The base price is the variant's ``lst_price`` (template list price + attribute price_extra) in the
basis its sale tax says (``price_include``). Customer groups are pricelists named in
``[prices] groups`` (by name); their price from each quantity break is computed by
``pricelist.py`` as Odoo does, with the rules in force at the reader's clock (``now``). Promotions
are the dated rules of ``promotion_pricelist`` (past and future ones: the flow decides what is in
force); Odoo's ``date_end`` is inclusive, so a promotion ends one second after it (half-open).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connectors.erp.odoo.catalogue import Taxes, product_pages, read_categories, read_taxes
from connectors.erp.odoo.client import OdooClient, m2o_id, m2o_name
from connectors.erp.odoo.pricelist import ITEM_FIELDS, ProductFacts, Rule, order_rules, price_at, quantity_breaks
from connectors.erp.odoo.settings import OdooSettings
from connectors.errors import Fatal
from connectors.models import GroupPrice, PriceRecord, Promotion, currency_quantum

__all__ = ["OdooPrices"]

PRICE_FIELDS = [
    "id",
    "default_code",
    "product_tmpl_id",
    "categ_id",
    "taxes_id",
    "lst_price",
    "standard_price",
    "write_date",
]


class OdooPrices:
    """``PriceSource`` over Odoo (mixed into ``OdooConnector``)."""

    client: OdooClient
    settings: OdooSettings
    clock: Callable[[], datetime] = staticmethod(lambda: datetime.now(timezone.utc))  # type: ignore[assignment]

    def iter_prices(self, groups: Sequence[str]) -> Iterator[PriceRecord]:
        names = list(dict.fromkeys(groups))
        wanted = names + ([self.settings.promotion_pricelist] if self.settings.promotion_pricelist else [])
        pricelists = self._pricelists(list(dict.fromkeys(wanted)))
        paths, parents = read_categories(self.client)
        rules = self._rules(pricelists, paths)
        taxes = read_taxes(self.client, self.settings.company_id)
        now = self.clock()
        for page in product_pages(self.client, PRICE_FIELDS, page_size=self.settings.page_size):
            for row in page:
                yield self._record(row, names, pricelists, rules, parents, taxes, now)

    def _record(
        self,
        row: dict[str, Any],
        groups: list[str],
        pricelists: dict[str, int],
        rules: dict[int, list[Rule]],
        parents: dict[int, int | None],
        taxes: Taxes,
        now: datetime,
    ) -> PriceRecord:
        key = str(row["id"])
        vat, included, issues = taxes.of(key, row.get("taxes_id") or [])
        price = Decimal(str(row.get("lst_price") or 0))
        record = PriceRecord(
            key=key,
            sku=row.get("default_code") or None,
            price=price,
            currency=self.settings.currency,
            vat_rate=vat,
            tax_included=included,
            issues=issues,
        )
        facts = ProductFacts(
            id=row["id"],
            template_id=m2o_id(row.get("product_tmpl_id")),
            categories=frozenset(_ancestors(m2o_id(row.get("categ_id")), parents)),
            list_price=price,
            standard_price=Decimal(str(row.get("standard_price") or 0)),
        )

        stack: list[int] = []

        def other(pricelist_id: int, product: ProductFacts, quantity: Decimal) -> Decimal:
            # Odoo's _check_recursion forbids only a pricelist based on itself; a longer loop
            # would recurse without end there too: here it falls back to the list price.
            if pricelist_id in stack or len(stack) > 10:
                return product.list_price
            stack.append(pricelist_id)
            try:
                found = price_at(rules.get(pricelist_id, []), product, quantity, now, other)
            finally:
                stack.pop()
            return found[0] if found else product.list_price

        for name in groups:
            own = rules.get(pricelists[name], [])
            previous: Decimal | None = None
            for quantity in quantity_breaks(own):
                found = price_at(own, facts, quantity, now, other)
                if found is None:
                    continue
                amount = self._amount(found[0])
                if amount != previous:
                    record.group_prices.append(GroupPrice(name, amount, quantity))
                    previous = amount
        if self.settings.promotion_pricelist:
            for rule in rules.get(pricelists[self.settings.promotion_pricelist], []):
                if not rule.dated:
                    continue
                found = price_at([rule], facts, Decimal(1), None, other)
                if found is None:
                    continue
                value = self._amount(found[0])
                if value >= price:
                    continue  # a rule that does not lower the price is no promotion
                ends = rule.date_end + timedelta(seconds=1) if rule.date_end else None
                record.promotions.append(Promotion(value, rule.date_start, ends, f"pricelist rule {rule.id}"))
        return record

    def _pricelists(self, names: list[str]) -> dict[str, int]:
        """Pricelist name -> id, refusing unknown or ambiguous names and foreign currencies."""
        if not names:
            return {}
        rows = self.client.model("product.pricelist").search_read(
            [("name", "in", names)], ["id", "name", "currency_id"]
        )
        by_name: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_name.setdefault(row["name"], []).append(row)
        unknown = [n for n in names if n not in by_name]
        twice = [n for n in names if len(by_name.get(n, [])) > 1]
        foreign = [
            n
            for n in names
            if n in by_name and m2o_name(by_name[n][0].get("currency_id")) not in (None, self.settings.currency)
        ]
        if unknown or twice or foreign:
            problems = [f"pricelist {', '.join(map(repr, unknown))} not found"] if unknown else []
            problems += [f"several pricelists named {', '.join(map(repr, twice))}"] if twice else []
            problems += (
                [f"pricelist {', '.join(map(repr, foreign))} is not in {self.settings.currency}"] if foreign else []
            )
            raise Fatal(
                f"{'; '.join(problems)} in Odoo (customer groups are active pricelists, by name).",
                resolution="name one active pricelist per group, in the connection's currency.",
            )
        return {n: by_name[n][0]["id"] for n in names}

    def _rules(self, pricelists: dict[str, int], paths: dict[int, str]) -> dict[int, list[Rule]]:
        """Rules of the named pricelists and of the pricelists they are based on, in Odoo's order."""
        rules: dict[int, list[Rule]] = {}
        todo = set(pricelists.values())
        done: set[int] = set()
        while todo:
            rows = self.client.model("product.pricelist.item").search_read(
                [("pricelist_id", "in", sorted(todo))], ITEM_FIELDS
            )
            done |= todo
            for row in rows:
                rule = Rule.from_row(row)
                rules.setdefault(rule.pricelist_id, []).append(rule)
            todo = {
                r.base_pricelist_id
                for rs in rules.values()
                for r in rs
                if r.base == "pricelist" and r.base_pricelist_id
            } - done
        return {pid: order_rules(rs, paths) for pid, rs in rules.items()}

    def _amount(self, value: Decimal) -> Decimal:
        """A computed price as a shop price: the currency's cents, half-up as Odoo's float_round."""
        return value.quantize(currency_quantum(self.settings.currency), rounding=ROUND_HALF_UP)


def _ancestors(category: int | None, parents: dict[int, int | None]) -> set[int]:
    found: set[int] = set()
    while category is not None and category not in found:
        found.add(category)
        category = parents.get(category)
    return found
