"""Odoo's pricelist rules computed as Odoo computes them (pure: no server).

From Odoo's source (16.0-17.0, ``addons/product/models/``):

- ``product_pricelist.py`` ``_get_applicable_rules_domain``: a rule of the pricelist applies when
  its category is empty or a parent of the product's, its template and variant are empty or the
  product's, ``date_start <= date`` and ``date_end >= date`` (both ends inclusive, empty = open);
  ``_compute_price_rule`` takes the first rule, in the model's order
  ``applied_on, min_quantity desc, categ_id desc, id desc``, for which ``_is_applicable_for`` holds
  (``min_quantity`` empty or <= the quantity); no rule: the base price.
- ``product_pricelist_item.py`` ``_compute_price``: ``fixed`` -> ``fixed_price``; ``percentage`` ->
  base - base x percent_price / 100; ``formula`` -> base - base x price_discount / 100, rounded to a
  multiple of ``price_round`` (``float_round``, half-up), plus ``price_surcharge``, then held between
  base + ``price_min_margin`` and base + ``price_max_margin`` when set. ``_compute_base_price``: the
  base is ``list_price`` (a variant's ``lst_price``: list price + price_extra), ``standard_price``,
  or another pricelist's price for the product.

Odoo computes in floats; this computes in Decimal and the caller rounds to the currency.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connectors.erp.odoo.client import m2o_id, parse_datetime

__all__ = ["ITEM_FIELDS", "ProductFacts", "Rule", "applicable", "compute", "order_rules", "price_at", "quantity_breaks"]

ITEM_FIELDS = [
    "id",
    "pricelist_id",
    "applied_on",
    "categ_id",
    "product_tmpl_id",
    "product_id",
    "min_quantity",
    "date_start",
    "date_end",
    "compute_price",
    "base",
    "base_pricelist_id",
    "fixed_price",
    "percent_price",
    "price_discount",
    "price_round",
    "price_surcharge",
    "price_min_margin",
    "price_max_margin",
]


def _d(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, False) else Decimal(0)


@dataclass(frozen=True, slots=True)
class Rule:
    """One product.pricelist.item as read."""

    id: int
    pricelist_id: int
    applied_on: str
    categ_id: int | None
    product_tmpl_id: int | None
    product_id: int | None
    min_quantity: Decimal
    date_start: datetime | None
    date_end: datetime | None
    compute_price: str
    base: str
    base_pricelist_id: int | None
    fixed_price: Decimal
    percent_price: Decimal
    price_discount: Decimal
    price_round: Decimal
    price_surcharge: Decimal
    price_min_margin: Decimal
    price_max_margin: Decimal

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Rule:
        return cls(
            id=row["id"],
            pricelist_id=m2o_id(row.get("pricelist_id")) or 0,
            applied_on=row.get("applied_on") or "3_global",
            categ_id=m2o_id(row.get("categ_id")),
            product_tmpl_id=m2o_id(row.get("product_tmpl_id")),
            product_id=m2o_id(row.get("product_id")),
            min_quantity=_d(row.get("min_quantity")),
            date_start=parse_datetime(row.get("date_start")),
            date_end=parse_datetime(row.get("date_end")),
            compute_price=row.get("compute_price") or "fixed",
            base=row.get("base") or "list_price",
            base_pricelist_id=m2o_id(row.get("base_pricelist_id")),
            fixed_price=_d(row.get("fixed_price")),
            percent_price=_d(row.get("percent_price")),
            price_discount=_d(row.get("price_discount")),
            price_round=_d(row.get("price_round")),
            price_surcharge=_d(row.get("price_surcharge")),
            price_min_margin=_d(row.get("price_min_margin")),
            price_max_margin=_d(row.get("price_max_margin")),
        )

    @property
    def dated(self) -> bool:
        return self.date_start is not None or self.date_end is not None


@dataclass(frozen=True, slots=True)
class ProductFacts:
    """What a rule looks at: the variant, its template, its category and her parents, its prices."""

    id: int
    template_id: int | None
    categories: frozenset[int]
    list_price: Decimal
    standard_price: Decimal = Decimal(0)


def order_rules(rules: Iterable[Rule], category_paths: Mapping[int, str]) -> list[Rule]:
    """Odoo's ``_order = "applied_on, min_quantity desc, categ_id desc, id desc"``; a many2one
    orders by its model's order (product.category: ``complete_name``)."""
    ordered = sorted(rules, key=lambda r: -r.id)
    ordered.sort(key=lambda r: category_paths.get(r.categ_id or 0, ""), reverse=True)
    ordered.sort(key=lambda r: -r.min_quantity)
    ordered.sort(key=lambda r: r.applied_on)
    return ordered


def applicable(rule: Rule, product: ProductFacts, quantity: Decimal, at: datetime | None) -> bool:
    """``_get_applicable_rules_domain`` and ``_is_applicable_for``; ``at`` None: dates ignored."""
    if at is not None:
        if rule.date_start is not None and rule.date_start > at:
            return False
        if rule.date_end is not None and rule.date_end < at:
            return False
    if rule.min_quantity and quantity < rule.min_quantity:
        return False
    if rule.categ_id is not None and rule.categ_id not in product.categories:
        return False
    if rule.product_tmpl_id is not None and rule.product_tmpl_id != product.template_id:
        return False
    return not (rule.product_id is not None and rule.product_id != product.id)


def compute(rule: Rule, base_price: Decimal) -> Decimal:
    """``PricelistItem._compute_price`` for a product in its own unit of measure."""
    if rule.compute_price == "fixed":
        return rule.fixed_price
    if rule.compute_price == "percentage":
        return base_price - base_price * rule.percent_price / 100
    price = base_price - base_price * rule.price_discount / 100
    if rule.price_round:
        price = (price / rule.price_round).quantize(Decimal(1), rounding=ROUND_HALF_UP) * rule.price_round
    price += rule.price_surcharge
    if rule.price_min_margin:
        price = max(price, base_price + rule.price_min_margin)
    if rule.price_max_margin:
        price = min(price, base_price + rule.price_max_margin)
    return price


def price_at(
    rules: list[Rule],
    product: ProductFacts,
    quantity: Decimal,
    at: datetime | None,
    other: Callable[[int, ProductFacts, Decimal], Decimal],
) -> tuple[Decimal, Rule] | None:
    """The price of ``product`` by the first applicable rule of ``rules`` (ordered), or None.

    ``other(pricelist_id, product, quantity)`` is the price of another pricelist (``base = pricelist``).
    """
    rule = next((r for r in rules if applicable(r, product, quantity, at)), None)
    if rule is None:
        return None
    if rule.base == "pricelist" and rule.base_pricelist_id:
        base = other(rule.base_pricelist_id, product, quantity)
    elif rule.base == "standard_price":
        base = product.standard_price
    else:
        base = product.list_price
    return compute(rule, base), rule


def quantity_breaks(rules: Iterable[Rule]) -> list[Decimal]:
    """1 and every minimum quantity above it: where a customer's price can change."""
    return sorted({Decimal(1)} | {r.min_quantity for r in rules if r.min_quantity > 1})
