"""The quality gate refuses exactly the bad records, naming field and reason; the rest passes."""

from __future__ import annotations

from decimal import Decimal as D

from connectors.errors import RecordError
from connectors.models import Article
from tasks.grouping import GroupingRules, group_articles
from tasks.mapping import MappingRules, map_groups
from tasks.quality import CatalogueChecks, ean13_check_digit, gate_products

TAXES = {"20": "Standard Tax", "5.5": "Reduced Tax"}


def art(key: str, **kw) -> Article:
    base = {"sku": key, "name": f"Article {key}", "price": D("10.00"), "vat_rate": D("20")}
    base.update(kw)
    return Article(key=key, **base)


def gate(articles: list[Article], **issues):
    products = map_groups(
        group_articles(articles, GroupingRules(attributes=("colour", "size"))), MappingRules(taxes=TAXES)
    )
    return gate_products(products, CatalogueChecks(), issues=issues or None)


def refused(result) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for entry in result.rejected:
        out.setdefault(entry.error.key, set()).add(entry.error.field)
    return out


def test_each_rule_refuses_only_its_record() -> None:
    good_ean = "379000001001" + str(ean13_check_digit("379000001001"))
    result = gate(
        [
            art("OK", ean=good_ean),
            art("NOSKU", sku=None),
            art("NONAME", name="  "),
            art("SHORTEAN", ean="12345"),
            art("BADEAN", ean="3790000010010" if good_ean[-1] != "0" else "3790000010011"),
            art("NEG", price=D("-1")),
            art("CENTS", price=D("10.005")),
            art("VAT7", vat_rate=D("7")),
            art("NOVAT", vat_rate=None),
            art("UNMAPPED", vat_rate=D("10")),
            art("HEAVY", weight=D("-0.1")),
        ]
    )
    assert refused(result) == {
        "NOSKU": {"sku"},
        "NONAME": {"name"},
        "SHORTEAN": {"ean"},
        "BADEAN": {"ean"},
        "NEG": {"price"},
        "CENTS": {"price"},
        "VAT7": {"vat_rate"},
        "NOVAT": {"vat_rate"},
        "UNMAPPED": {"vat_rate"},
        "HEAVY": {"weight"},
    }
    assert [p.key for p in result.passed] == ["a:OK"]
    reasons = {e.error.key: e.error.reason for e in result.rejected}
    assert "expected" in reasons["BADEAN"] and "7%" in reasons["VAT7"] and "no shop tax category" in reasons["UNMAPPED"]


def test_duplicate_sku_refuses_both_and_variant_rules_keep_good_siblings() -> None:
    result = gate(
        [
            art("1", sku="DUP"),
            art("2", sku="DUP"),
            art("3", group_key="T", attributes={"colour": "red", "size": "M"}),
            art("4", group_key="T", attributes={"colour": "red", "size": "M"}),
            art("5", group_key="T", attributes={"colour": "red"}),
            art("6", group_key="T", attributes={"colour": "blue", "size": "M"}),
        ]
    )
    assert refused(result) == {
        "1": {"sku"},
        "2": {"sku"},
        "3": {"attributes"},
        "4": {"attributes"},
        "5": {"attributes"},
    }
    (tee,) = result.passed
    assert [v.key for v in tee.variants] == ["6"]


def test_connector_parse_issue_is_reported_once() -> None:
    issue = RecordError("P", "price", "column 'Prix' (line 3): 'abc' is not a number", check="parse")
    result = gate([art("P", price=None)], P=[issue])
    assert [e.error for e in result.rejected] == [issue]
