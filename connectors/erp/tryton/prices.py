"""Tryton as a price source: list prices, ``sale_promotion`` promotions, price lists as groups.

The base price is the product's list price (tax-excluded, with its accounting category's VAT).
Customer groups are price lists (``product.price_list``, by name), computed as Tryton's
``PriceList.compute`` does; promotions are the active public ``sale.promotion`` records, with
their dates in ``settings.timezone``. Formulas go through ``evaluate_formula`` (Decimal
arithmetic, ``round``, ``Decimal``); anything else is a ``RecordError`` on that product. A few
calls in all, plus one search_read per page of products.

Details: docs/stock-and-prices.md (section "Tryton prices").
"""

from __future__ import annotations

import ast
import decimal
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from connectors.erp.tryton.catalogue import Categories, list_price, product_pages, read_categories
from connectors.erp.tryton.client import TrytonClient
from connectors.erp.tryton.settings import TrytonSettings
from connectors.errors import Fatal, RecordError
from connectors.models import GroupPrice, PriceRecord, Promotion, currency_quantum

__all__ = ["LINE_ORDER", "FormulaError", "TrytonPrices", "evaluate_formula"]

log = logging.getLogger(__name__)

# Tryton's default price digits (product.price_digits): a unit price is rounded to 4 decimals.
_PRICE_DIGITS = Decimal("0.0001")
_MAX_FORMULA = 1000
_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}


class FormulaError(ValueError):
    """A formula this reader refuses to evaluate, or that fails (division by zero)."""


def evaluate_formula(formula: str, names: Mapping[str, Decimal | None]) -> Decimal | None:
    """Evaluate a Tryton price formula in exact Decimal arithmetic, allowing nothing else.

    A name whose value is None makes the result None, as Tryton's ``Null`` does (a price list
    based on no price, a product without list price).

    Raises:
        FormulaError: syntax, a construct other than numbers, ``names``, ``+ - * /``,
            ``round(x, n)`` and ``Decimal("...")``, or an arithmetic error.
    """
    if len(formula) > _MAX_FORMULA:
        raise FormulaError(f"longer than {_MAX_FORMULA} characters")
    try:
        tree = ast.parse(formula.strip(), mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"invalid syntax ({exc.msg})") from None
    except (RecursionError, MemoryError, ValueError):
        raise FormulaError("cannot be parsed") from None
    with decimal.localcontext() as context:
        context.prec = 28
        context.traps[decimal.DivisionByZero] = True
        context.traps[decimal.InvalidOperation] = True
        context.traps[decimal.Overflow] = True
        try:
            return _Evaluator(formula.strip(), names).visit(tree.body)
        except ZeroDivisionError:  # decimal.DivisionByZero is one
            raise FormulaError("division by zero") from None
        except (decimal.InvalidOperation, decimal.Overflow, ArithmeticError) as exc:
            raise FormulaError(f"arithmetic error ({type(exc).__name__})") from None
        except RecursionError:
            raise FormulaError("nested too deeply") from None


class _Evaluator:
    """Walks the expression tree; only the node types below are known, everything else is refused."""

    def __init__(self, source: str, names: Mapping[str, Decimal | None]) -> None:
        self.source = source
        self.names = names

    def visit(self, node: ast.expr) -> Decimal | None:
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = self.visit(node.left), self.visit(node.right)
            if left is None or right is None:
                return None
            if isinstance(node.op, ast.Div) and right == 0:
                raise FormulaError("division by zero")
            return _BINARY[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            value = self.visit(node.operand)
            if value is None:
                return None
            return -value if isinstance(node.op, ast.USub) else +value
        if isinstance(node, ast.Constant):
            return self._number(node)
        if isinstance(node, ast.Name):
            if node.id not in self.names:
                raise FormulaError(f"unknown name {node.id!r} (known: {', '.join(sorted(self.names))})")
            return self.names[node.id]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            if node.func.id == "round":
                return self._round(node)
            if node.func.id == "Decimal" and len(node.args) == 1 and isinstance(node.args[0], ast.Constant):
                return self._decimal(node.args[0])
        raise FormulaError(f"{self._text(node)!r} is not allowed (only numbers, names, + - * / and round)")

    def _number(self, node: ast.Constant) -> Decimal:
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise FormulaError(f"{self._text(node)!r} is not a number")
        if isinstance(node.value, int):
            return Decimal(node.value)
        # The literal's own digits: 0.1 is exactly Decimal("0.1"), never the float's expansion.
        return Decimal(self._text(node).replace("_", ""))

    def _decimal(self, node: ast.Constant) -> Decimal:
        if isinstance(node.value, str):
            try:
                return Decimal(node.value.strip())
            except decimal.InvalidOperation:
                raise FormulaError(f"Decimal({node.value!r}) is not a number") from None
        return self._number(node)

    def _round(self, node: ast.Call) -> Decimal | None:
        if not 1 <= len(node.args) <= 2:
            raise FormulaError("round takes a value and a number of decimals")
        digits = 0
        if len(node.args) == 2:
            arg = node.args[1]
            if not (isinstance(arg, ast.Constant) and type(arg.value) is int and 0 <= arg.value <= 12):
                raise FormulaError("round's number of decimals must be a whole number from 0 to 12")
            digits = arg.value
        value = self.visit(node.args[0])
        if value is None:
            return None
        return value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_EVEN)

    def _text(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.source, node) or type(node).__name__


# -- price lists -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Line:
    id: int
    product: int | None
    category: int | None
    quantity: float | None
    formula: str

    def matches(self, product: int, categories: set[int], quantity: float) -> bool:
        """Tryton's ``PriceListLine.match``: every criterion that is set must hold."""
        if self.quantity is not None and self.quantity > abs(quantity):
            return False
        if self.category is not None and self.category not in categories:
            return False
        return self.product is None or self.product == product


@dataclass(frozen=True, slots=True)
class _PriceList:
    name: str
    base: str | None
    """``list_price``, ``cost_price`` or None (then ``unit_price`` is nothing)."""
    tax_included: bool
    lines: tuple[_Line, ...]

    def breaks(self) -> list[float]:
        """Quantities from which the price may change: 1, and every line quantity above 1."""
        return sorted({1.0} | {line.quantity for line in self.lines if line.quantity and line.quantity > 1})


@dataclass(frozen=True, slots=True)
class _Promotion:
    id: int
    name: str
    formula: str
    products: frozenset[int]
    categories: frozenset[int]
    starts_at: datetime | None
    ends_at: datetime | None

    def applies(self, product: int, categories: set[int]) -> bool:
        """Tryton's ``is_valid_sale_line`` for the product (its own conditions only)."""
        if self.products and product not in self.products:
            return False
        return not self.categories or bool(self.categories & categories)


# The order in which Tryton walks a price list's lines (sequence_ordered: empty sequence first).
LINE_ORDER = (("sequence", "ASC NULLS FIRST"), ("id", "ASC"))

PRODUCT_FIELDS = [
    "id",
    "code",
    "list_price",
    "template.list_price",
    "cost_price",
    "categories_all",
    "account_category",
]


class TrytonPrices:
    """``PriceSource`` over Tryton JSON-RPC (mixed into ``TrytonConnector``)."""

    client: TrytonClient
    settings: TrytonSettings

    def iter_prices(self, groups: Sequence[str]) -> Iterator[PriceRecord]:
        """One record per catalogue article: list price, promotions, prices of ``groups``.

        Raises:
            Fatal: a name of ``groups`` is no active Tryton price list.
        """
        price_lists = self._price_lists(list(dict.fromkeys(groups)))
        categories = read_categories(self.client)
        promotions = self._promotions()
        for page in product_pages(self.client, PRODUCT_FIELDS, page_size=self.settings.page_size):
            for row in page:
                yield self._record(row, categories, price_lists, promotions)

    def _record(
        self,
        row: dict[str, Any],
        categories: Categories,
        price_lists: list[_PriceList],
        promotions: list[_Promotion],
    ) -> PriceRecord:
        key = str(row["id"])
        price = list_price(row)
        record = PriceRecord(
            key=key,
            sku=row.get("code") or None,
            price=price,
            currency=self.settings.currency,
            vat_rate=categories.rates.get(row.get("account_category") or -1),
            tax_included=False,
        )
        product_categories = categories.with_ancestors(row.get("categories_all") or [])
        # As Tryton's price list context: the list price used, the cost price or 0.
        names = {"list_price": price, "cost_price": row.get("cost_price") or Decimal(0)}
        for price_list in price_lists:
            record.group_prices.extend(self._group_prices(record, price_list, row["id"], product_categories, names))
        for promotion in promotions:
            if promotion.applies(row["id"], product_categories):
                found = self._promotion_price(record, promotion, price)
                if found is not None:
                    record.promotions.append(found)
        return record

    # -- customer groups -------------------------------------------------------------------------

    def _price_lists(self, groups: list[str]) -> list[_PriceList]:
        """The price lists named in ``groups``, in that order, with their lines by sequence."""
        if not groups:
            return []
        model = self.client.model("product.price_list")
        rows = model.search_read([("name", "in", groups)], ["id", "name", "price", "tax_included"])
        by_name: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_name.setdefault(row["name"], []).append(row)
        unknown = [name for name in groups if name not in by_name]
        twice = [name for name in groups if len(by_name.get(name, [])) > 1]
        if unknown or twice:
            names = sorted({r["name"] for r in model.search_read([], ["name"])})
            problems = [f"price list {', '.join(map(repr, unknown))} not found"] if unknown else []
            problems += [f"several price lists named {', '.join(map(repr, twice))}"] if twice else []
            raise Fatal(
                f"{'; '.join(problems)} in Tryton (customer groups are active price lists, by name).",
                resolution=f"name one price list per group, among: {', '.join(names) or 'none'}.",
            )
        ids = [by_name[name][0]["id"] for name in groups]
        lines = self.client.model("product.price_list.line").search_read(
            [("price_list", "in", ids)],
            ["id", "price_list", "sequence", "product", "category", "quantity", "formula"],
            order=LINE_ORDER,
        )
        result = []
        for name in groups:
            row = by_name[name][0]
            own = tuple(
                _Line(line["id"], line.get("product"), line.get("category"), line.get("quantity"), line["formula"])
                for line in lines
                if line["price_list"] == row["id"]
            )
            result.append(_PriceList(name, row.get("price"), bool(row.get("tax_included")), own))
        return result

    def _group_prices(
        self,
        record: PriceRecord,
        price_list: _PriceList,
        product: int,
        categories: set[int],
        names: dict[str, Decimal | None],
    ) -> list[GroupPrice]:
        """The group's price from each quantity break where it changes (none when no line matches)."""
        values = {**names, "unit_price": names.get(price_list.base) if price_list.base else None}
        found: list[GroupPrice] = []
        previous: Decimal | None = None
        for quantity in price_list.breaks():
            line = next((x for x in price_list.lines if x.matches(product, categories, quantity)), None)
            if line is None:
                continue
            where = f"price list {price_list.name!r}, line {line.id}, formula {line.formula!r}"
            try:
                value = evaluate_formula(line.formula, values)
            except FormulaError as exc:
                record.issues.append(RecordError(record.key, "group_prices", f"{where}: {exc}", check="parse"))
                return []
            if value is None:
                continue
            if price_list.tax_included:
                if record.vat_rate is None:
                    reason = f"{where}: the list includes taxes and the product has no VAT rate to remove"
                    record.issues.append(RecordError(record.key, "group_prices", reason, check="parse"))
                    return []
                value = value.quantize(_PRICE_DIGITS) / (1 + record.vat_rate / 100)
            amount = self._amount(value)
            if amount != previous:
                found.append(GroupPrice(price_list.name, amount, _min_quantity(quantity)))
                previous = amount
        return found

    # -- promotions --------------------------------------------------------------------------------

    def _promotions(self) -> list[_Promotion]:
        """Public promotions (no price list, no minimum amount or quantity), past ones included.

        The reader does not look at the clock: the flow decides what is in force at its ``now``
        (or ``at``). Tryton's record rules keep the promotions of the user's current company.
        """
        zone = ZoneInfo(self.settings.timezone)
        rows = self.client.model("sale.promotion").search_read(
            [],
            [
                "id",
                "name",
                "formula",
                "start_date",
                "end_date",
                "price_list",
                "amount",
                "quantity",
                "products",
                "categories",
            ],
        )
        public, skipped = [], []
        for row in rows:
            if row.get("price_list") or row.get("amount") or row.get("quantity"):
                skipped.append(row["name"])
                continue
            public.append(
                _Promotion(
                    id=row["id"],
                    name=row["name"],
                    formula=row["formula"],
                    products=frozenset(row.get("products") or ()),
                    categories=frozenset(row.get("categories") or ()),
                    starts_at=_midnight(row.get("start_date"), zone),
                    ends_at=_midnight(row["end_date"] + timedelta(days=1), zone) if row.get("end_date") else None,
                )
            )
        if skipped:
            log.debug(
                "%d Tryton promotion(s) left out (restricted to a price list or with a minimum amount or "
                "quantity, so no public price): %s",
                len(skipped),
                ", ".join(map(repr, skipped)),
            )
        return public

    def _promotion_price(self, record: PriceRecord, promotion: _Promotion, price: Decimal | None) -> Promotion | None:
        where = f"promotion {promotion.name!r} (id {promotion.id}), formula {promotion.formula!r}"
        try:
            value = evaluate_formula(promotion.formula, {"unit_price": price})
        except FormulaError as exc:
            record.issues.append(RecordError(record.key, "promotions", f"{where}: {exc}", check="parse"))
            return None
        if value is None or price is None:
            return None
        value = max(value, Decimal(0))
        if value > price:  # Tryton never applies a promotion that would raise the price
            return None
        return Promotion(self._amount(value), promotion.starts_at, promotion.ends_at, promotion.name)

    def _amount(self, value: Decimal) -> Decimal:
        """A formula's result as a shop price: Tryton's unit price digits, then the currency's."""
        return value.quantize(_PRICE_DIGITS, rounding=ROUND_HALF_EVEN).quantize(
            currency_quantum(self.settings.currency), rounding=ROUND_HALF_EVEN
        )


def _midnight(day: date | None, zone: ZoneInfo) -> datetime | None:
    """00:00 of ``day`` in ``zone``, as aware UTC."""
    if day is None:
        return None
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(timezone.utc)


def _min_quantity(quantity: float) -> Decimal:
    amount = Decimal(str(quantity))
    return amount.quantize(Decimal(1)) if amount == amount.to_integral_value() else amount
