"""The quality gate (Great Expectations) refuses exactly the bad records, naming field and reason.

The first validation of the session builds the GX context (a few seconds); later ones are fast.
"""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from connectors.errors import RecordError
from connectors.models import Article, Product, Variant, to_jsonable
from tasks.grouping import GroupingRules, group_articles
from tasks.mapping import MappingRules, map_groups
from tasks.quality import (
    CatalogueChecks,
    Check,
    GateResult,
    _columns,
    ean13_check_digit,
    gate_products,
    price_decimals,
    run_checks,
)

GOOD_EAN = "4006381333931"
CHECKS = CatalogueChecks()  # FR: 20 / 10 / 5.5 / 2.1 / 0 %, EUR, 2 decimals


def variant(key: str, **kw: Any) -> Variant:
    values: dict[str, Any] = {
        "sku": key,
        "name": f"Article {key}",
        "price": D("10.00"),
        "currency": "EUR",
        "vat_rate": D("20"),
        "tax_category": "standard",
    }
    values.update(kw)
    return Variant(key=key, **values)


def lone(key: str, **kw: Any) -> Product:
    return Product(key=f"a:{key}", name=f"Article {key}", slug=key.lower(), variants=[variant(key, **kw)])


def family(key: str, *variants: Variant, options: tuple[str, ...] = ("colour", "size")) -> Product:
    return Product(
        key=f"g:{key}", name=f"Polo {key}", slug=key.lower(), variants=list(variants), option_groups=list(options)
    )


def errors(result: GateResult) -> list[tuple[str, str, str]]:
    return sorted((e.error.key, e.error.field, e.error.check) for e in result.rejected)


def test_ean13_check_digit_and_price_decimals() -> None:
    assert ean13_check_digit("400638133393") == 1
    assert ean13_check_digit("978020137962") == 4
    assert ean13_check_digit("376012345678") == 4
    assert [price_decimals(D(v)) for v in ("19.900", "10", "100", "0.005", "-1.50")] == [1, 0, 0, 3, 1]
    assert price_decimals(None) is None


@pytest.mark.parametrize(
    ("bad", "field", "check", "words"),
    [
        pytest.param({"sku": None}, "sku", "sku_present", ["SKU is missing"], id="missing-sku"),
        pytest.param({"sku": ""}, "sku", "sku_present", ["SKU is missing"], id="empty-sku"),
        pytest.param({"name": "   "}, "name", "name_present", ["name is empty"], id="empty-name"),
        pytest.param({"ean": "12345"}, "ean", "ean_format", ["'12345'", "13 digits"], id="ean-too-short"),
        pytest.param({"ean": "40063813339A1"}, "ean", "ean_format", ["'40063813339A1'"], id="ean-letters"),
        pytest.param(
            {"ean": "4006381333932"},
            "ean",
            "ean_check_digit",
            ["4006381333932", "check digit 2", "expected 1"],
            id="ean-check-digit",
        ),
        pytest.param({"price": None}, "price", "price_present", ["price is missing"], id="missing-price"),
        pytest.param({"price": D("-1.00")}, "price", "price_non_negative", ["-1.00", "negative"], id="negative-price"),
        pytest.param(
            {"price": D("10.005")}, "price", "price_decimals", ["10.005", "more than 2 decimals"], id="3-decimals"
        ),
        pytest.param({"currency": "USD"}, "currency", "currency", ["'USD'", "EUR"], id="currency"),
        pytest.param(
            {"vat_rate": D("7")}, "vat_rate", "vat_rate_allowed", ["VAT rate 7%", "5.5, 10, 20"], id="vat-not-allowed"
        ),
        pytest.param(
            {"vat_rate": None, "tax_category": None},
            "vat_rate",
            "vat_rate_present",
            ["VAT rate is missing"],
            id="vat-missing",
        ),
        pytest.param(
            {"vat_rate": D("10.00"), "tax_category": None},
            "vat_rate",
            "tax_category_mapped",
            ["VAT 10%", "FR"],
            id="tax-unmapped",
        ),
        pytest.param(
            {"weight": D("-0.5")}, "weight", "weight_non_negative", ["weight -0.5 is negative"], id="negative-weight"
        ),
    ],
)
def test_each_check_refuses_only_the_bad_record(bad: dict[str, Any], field: str, check: str, words: list[str]) -> None:
    result = gate_products([lone("GOOD", ean=GOOD_EAN), lone("BAD", **bad), lone("ALSO-GOOD")], CHECKS)
    assert [(e.error.key, e.error.field, e.error.check) for e in result.rejected] == [("BAD", field, check)]
    reason = result.rejected[0].error.reason
    for word in words:
        assert word in reason
    assert [p.key for p in result.passed] == ["a:GOOD", "a:ALSO-GOOD"]
    assert result.rejected_keys == {"BAD"} and result.checked == 3


def test_edge_values_that_are_fine() -> None:
    result = gate_products(
        [
            lone("FREE", price=D("0")),
            lone("ZEROS", price=D("10.000")),  # trailing zeros are not decimals
            lone("NOWEIGHT", weight=D("0")),
            lone("REDUCED", vat_rate=D("5.50"), tax_category="reduced"),
            lone("EXEMPT", vat_rate=D("0.00"), tax_category="exempt"),
            lone("NOEAN", ean=None),
            lone("EAN0", ean="3760123456784"),
        ],
        CHECKS,
    )
    assert result.rejected == [] and len(result.passed) == 7


def test_a_record_failing_several_checks_gets_one_entry_per_check() -> None:
    result = gate_products([lone("X", price=D("-1.005"), ean="123")], CHECKS)
    assert errors(result) == [
        ("X", "ean", "ean_format"),
        ("X", "price", "price_decimals"),
        ("X", "price", "price_non_negative"),
    ]
    assert result.passed == []


def test_duplicate_sku_refuses_every_holder() -> None:
    result = gate_products([lone("1", sku="DUP"), lone("2", sku="UNIQUE"), lone("3", sku="DUP")], CHECKS)
    assert errors(result) == [("1", "sku", "sku_unique"), ("3", "sku", "sku_unique")]
    assert all("'DUP'" in e.error.reason for e in result.rejected)
    assert [p.key for p in result.passed] == ["a:2"]


def test_reason_names_the_sku_when_the_key_is_an_erp_id() -> None:
    result = gate_products([lone("42", sku="TSH-M", weight=D("-1"))], CHECKS)
    (entry,) = result.rejected
    assert entry.error.key == "42" and entry.error.reason == "TSH-M: weight -1 is negative"
    assert entry.payload == to_jsonable(variant("42", sku="TSH-M", weight=D("-1")))  # the record as it was


def test_missing_attribute_refuses_that_variant_only() -> None:
    product = family(
        "P",
        variant("1", options={"colour": "Rouge", "size": "M"}),
        variant("2", options={"colour": "Rouge", "size": ""}),
        variant("3", options={"colour": "Bleu", "size": "M"}),
    )
    result = gate_products([product], CHECKS)
    assert errors(result) == [("2", "attributes", "attributes_complete")]
    assert "'Polo P'" in result.rejected[0].error.reason and "has no size" in result.rejected[0].error.reason
    (kept,) = result.passed
    assert [v.key for v in kept.variants] == ["1", "3"]


def test_duplicate_options_in_a_group_refuse_both_variants() -> None:
    product = family(
        "P",
        variant("1", options={"colour": "Rouge", "size": "M"}),
        variant("2", options={"colour": "Rouge", "size": "M"}),
        variant("3", options={"colour": "Rouge", "size": "L"}),
    )
    other = family("Q", variant("4", options={"colour": "Rouge", "size": "M"}))  # same options, other product: fine
    result = gate_products([product, other], CHECKS)
    assert errors(result) == [("1", "attributes", "attributes_unique"), ("2", "attributes", "attributes_unique")]
    assert "same options (colour=Rouge; size=M)" in result.rejected[0].error.reason
    assert [(p.key, [v.key for v in p.variants]) for p in result.passed] == [("g:P", ["3"]), ("g:Q", ["4"])]


def test_product_keeps_its_good_variants_and_goes_when_none_is_left() -> None:
    keeps = family(
        "K",
        variant("1", options={"colour": "Rouge", "size": "M"}),
        variant("2", options={"colour": "Rouge", "size": "L"}, price=D("-5")),
        variant("3", options={"colour": "Bleu", "size": "M"}),
    )
    loses = family("L", variant("4", options={"colour": "Rouge", "size": "M"}, name=""))
    result = gate_products([keeps, loses], CHECKS)
    assert [(p.key, [v.key for v in p.variants]) for p in result.passed] == [("g:K", ["1", "3"])]
    assert result.rejected_keys == {"2", "4"}


# -- problems the connector met while reading ---------------------------------------------------


def test_connector_parse_issue_refuses_the_record_once() -> None:
    issue = RecordError("P", "price", "column 'Prix' (a.csv line 3): 'abc' is not a number", check="parse")
    result = gate_products([lone("P", price=None), lone("OK")], CHECKS, issues={"P": [issue]})
    assert [e.error for e in result.rejected] == [issue]  # not also "price is missing"
    assert [p.key for p in result.passed] == ["a:OK"]


def test_parse_issue_on_vat_is_not_doubled_by_the_vat_checks() -> None:
    issue = RecordError("V", "vat_rate", "column 'TVA' (a.csv line 4): 'vingt' is not a number", check="parse")
    result = gate_products([lone("V", vat_rate=None, tax_category=None)], CHECKS, issues={"V": [issue]})
    assert [e.error for e in result.rejected] == [issue]


def test_parse_issue_and_another_failure_are_both_reported() -> None:
    issue = RecordError("P", "price", "'abc' is not a number", check="parse")
    result = gate_products([lone("P", price=None, ean="123")], CHECKS, issues={"P": [issue]})
    assert errors(result) == [("P", "ean", "ean_format"), ("P", "price", "parse")]


def test_parse_issue_on_a_field_the_suite_does_not_check_still_refuses() -> None:
    issue = RecordError("A", "active", "'peut-être' is neither yes nor no", check="parse")
    result = gate_products([lone("A"), lone("B")], CHECKS, issues={"A": [issue], "B": []})
    assert [e.error for e in result.rejected] == [issue]
    assert [p.key for p in result.passed] == ["a:B"]


def test_issues_flow_through_grouping_and_mapping() -> None:
    articles = [
        Article(key="A1", sku="A1", name="Thé", price=D("4.50"), vat_rate=D("5.5")),
        Article(
            key="A2",
            sku="A2",
            name="Café",
            price=None,
            vat_rate=D("5.5"),
            issues=[RecordError("A2", "price", "'abc' is not a number", check="parse")],
        ),
    ]
    products = map_groups(group_articles(articles, GroupingRules()), MappingRules(taxes={"5.5": "reduced"}))
    result = gate_products(products, CHECKS, issues={a.key: a.issues for a in articles if a.issues})
    assert errors(result) == [("A2", "price", "parse")]
    assert [p.key for p in result.passed] == ["a:A1"]


def test_nothing_to_check() -> None:
    result = gate_products([], CHECKS)
    assert (result.passed, result.rejected, result.checked) == ([], [], 0)


def test_twenty_thousand_rows_validate() -> None:
    products = [
        family(
            f"P{p}",
            *[
                variant(f"{p}-{s}", options={"colour": "Rouge", "size": size})
                for s, size in enumerate(("S", "M", "L", "XL"))
            ],
        )
        for p in range(5000)
    ]
    products[10].variants[1].price = D("-1")
    products[2000].variants[0].ean = "4006381333932"
    products[4999].variants[3].options["size"] = "L"  # duplicates its sibling "L"
    result = gate_products(products, CHECKS)
    assert result.checked == 20_000
    assert result.rejected_keys == {"10-1", "2000-0", "4999-2", "4999-3"}
    assert sum(len(p.variants) for p in result.passed) == 19_996
    assert len(result.passed) == 5000


def test_each_settings_get_their_own_rules() -> None:
    assert gate_products([lone("FR")], CatalogueChecks()).rejected == []
    swiss = CatalogueChecks(currency="CHF", vat_rates=frozenset({"8.1", "2.6", "0"}), country="CH")
    result = gate_products([lone("CH", currency="CHF", vat_rate=D("8.1"), tax_category="normal")], swiss)
    assert result.rejected == []


def test_gx_sees_only_the_columns_its_expectations_read_and_reasons_still_see_the_row() -> None:
    import great_expectations.expectations as gxe

    checks = [
        Check(
            "qty_non_negative",
            "quantity",
            lambda: gxe.ExpectColumnValuesToBeBetween(column="qty", min_value=0),
            lambda r: f"{r['record']['label']} has {r['qty']}",
        ),
        Check(
            "pair_unique",
            "pair",
            lambda: gxe.ExpectCompoundColumnsToBeUnique(column_list=["a", "b"]),
            lambda r: f"{r['a']}/{r['b']} twice",
        ),
    ]
    # "record" holds dicts (GX cannot hash them) and is only for the reasons.
    rows = [
        {"key": str(i), "qty": q, "a": a, "b": "x", "record": {"label": f"L{i}"}}
        for i, (q, a) in enumerate([(1, "p"), (-2, "q"), (3, "p"), (4, "r")])
    ]
    assert list(_columns(rows, checks)) == ["qty", "a", "b"]
    failures = run_checks("columns-test", rows, checks)
    assert {i: [(e.check, e.reason) for e in errors] for i, errors in failures.items()} == {
        0: [("pair_unique", "p/x twice")],
        1: [("qty_non_negative", "L1 has -2")],
        2: [("pair_unique", "p/x twice")],
    }
