"""The price formula evaluator of the Tryton connector: exact Decimal arithmetic, nothing else."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.erp.tryton.prices import FormulaError, evaluate_formula

NAMES = {"unit_price": Decimal("19.90"), "list_price": Decimal("19.90"), "cost_price": Decimal("7.50")}


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("unit_price * 0.9", Decimal("17.910")),
        ("unit_price*0.9", Decimal("17.910")),
        ("unit_price - 5", Decimal("14.90")),
        ("(list_price + cost_price) / 2", Decimal("13.70")),
        ("cost_price * 2 + 0.5", Decimal("15.50")),
        ("-cost_price + list_price", Decimal("12.40")),
        ("unit_price * Decimal('0.85')", Decimal("16.9150")),
        ("round(unit_price * 0.85, 2)", Decimal("16.92")),
        ("round(unit_price / 3, 4)", Decimal("6.6333")),
        ("round(unit_price)", Decimal("20")),
        ("unit_price * 1e-1", Decimal("1.990")),
        ("12", Decimal("12")),
    ],
)
def test_formulas_compute_exactly_in_decimal(formula: str, expected: Decimal) -> None:
    result = evaluate_formula(formula, NAMES)
    assert isinstance(result, Decimal)
    assert result == expected
    # Decimal equality is by value: check the digits too, so no float slipped in.
    assert str(result) == str(expected)


def test_literals_are_exact_not_floats() -> None:
    # 0.1 + 0.2 is 0.30000000000000004 in floats.
    assert evaluate_formula("0.1 + 0.2", {}) == Decimal("0.3")
    assert evaluate_formula("unit_price * 0.1", {"unit_price": Decimal("3")}) == Decimal("0.3")
    assert evaluate_formula("1 / 3", {}) == Decimal(1) / Decimal(3)


def test_round_is_half_even_like_python_and_tryton() -> None:
    assert evaluate_formula("round(unit_price, 1)", {"unit_price": Decimal("0.25")}) == Decimal("0.2")
    assert evaluate_formula("round(unit_price, 1)", {"unit_price": Decimal("0.35")}) == Decimal("0.4")


def test_a_name_without_value_gives_no_price() -> None:
    # Tryton's Null: a price list based on no price, a product without a list price.
    assert evaluate_formula("unit_price * 0.9", {"unit_price": None}) is None
    assert evaluate_formula("round(unit_price * 0.9 + 1, 2)", {"unit_price": None}) is None


@pytest.mark.parametrize(
    ("formula", "reason"),
    [
        ("margin * 2", "unknown name 'margin'"),
        ("__import__('os').system('true')", "not allowed"),
        ("unit_price.__class__", "not allowed"),
        ("unit_price.real", "not allowed"),
        ("abs(unit_price)", "not allowed"),
        ("max(unit_price, 1)", "not allowed"),
        ("round(unit_price, cost_price)", "number of decimals"),
        ("round(unit_price, 2, 3)", "round takes"),
        ("round(x=unit_price)", "not allowed"),
        ("unit_price ** 2", "not allowed"),
        ("unit_price // 2", "not allowed"),
        ("unit_price % 2", "not allowed"),
        ("unit_price if unit_price > 10 else 0", "not allowed"),
        ("unit_price > 10", "not allowed"),
        ("[unit_price][0]", "not allowed"),
        ("'19.90'", "not a number"),
        ("True * unit_price", "not a number"),
        ("2j", "not a number"),
        ("lambda: 1", "not allowed"),
        ("unit_price * ", "invalid syntax"),
        ("unit_price = 2", "invalid syntax"),
        ("Decimal('abc')", "not a number"),
        ("1" + " + 1" * 400, "longer than"),
    ],
)
def test_anything_else_is_refused_with_a_reason(formula: str, reason: str) -> None:
    with pytest.raises(FormulaError, match=reason):
        evaluate_formula(formula, NAMES)


@pytest.mark.parametrize("formula", ["unit_price / 0", "unit_price / (cost_price - 7.5)", "0 / 0"])
def test_division_by_zero_is_an_error(formula: str) -> None:
    with pytest.raises(FormulaError, match="division by zero"):
        evaluate_formula(formula, NAMES)


@pytest.mark.parametrize("formula", ["-" * 990 + "1", "(" * 150 + "1" + ")" * 150, "1" + " * 1" * 240])
def test_pathological_formulas_give_a_value_or_a_formula_error(formula: str) -> None:
    try:
        assert evaluate_formula(formula, NAMES) == Decimal(1)
    except FormulaError:
        pass
