"""Variant grouping: flat ERP articles -> one group per shop product."""

from __future__ import annotations

from decimal import Decimal as D

from connectors.models import Article
from tasks.grouping import GroupingRules, article_field, group_articles


def art(key: str, **kw: object) -> Article:
    values: dict[str, object] = {"sku": key, "name": f"Article {key}", "price": D("10.00")}
    values.update(kw)
    return Article(key=key, **values)  # type: ignore[arg-type]


def summary(groups: list) -> list[tuple[str, list[str], tuple[str, ...]]]:
    return [(g.key, [a.key for a in g.articles], g.attributes) for g in groups]


def test_group_by_group_key_keeps_erp_order() -> None:
    articles = [
        art("1", group_key="TSH", attributes={"size": "M"}),
        art("2"),
        art("3", group_key="POLO", attributes={"size": "S"}),
        art("4", group_key="TSH", attributes={"size": "L"}),
    ]
    groups = group_articles(articles, GroupingRules(attributes=("size",)))
    assert summary(groups) == [("g:TSH", ["1", "4"], ("size",)), ("a:2", ["2"], ()), ("g:POLO", ["3"], ("size",))]
    assert [g.is_lone for g in groups] == [False, True, False]


def test_group_by_an_export_column() -> None:
    articles = [
        art("1", fields={"modele": "M-01"}, attributes={"colour": "Rouge"}),
        art("2", fields={"modele": "M-01"}, attributes={"colour": "Bleu"}),
        art("3", fields={"modele": ""}),
    ]
    groups = group_articles(articles, GroupingRules(group_field="fields.modele", attributes=("colour",)))
    assert summary(groups) == [("g:M-01", ["1", "2"], ("colour",)), ("a:3", ["3"], ())]


def test_reference_pattern_fills_attributes_and_group() -> None:
    rules = GroupingRules(
        group_field=None,
        reference_pattern=r"(?P<group>TSH-\d+)-(?P<colour>[A-Z]+)-(?P<size>XS|S|M|L|XL)",
        attributes=("colour", "size"),
    )
    articles = [
        art("1", sku="TSH-01-RED-M"),
        art("2", sku="TSH-01-RED-L", attributes={"colour": "Rouge vif"}),  # the ERP's own value wins
        art("3", sku="TSH-02-BLUE-XS"),
        art("4", sku="MUG-01"),  # does not match: a lone article
        art("5", sku="TSH-01-RED-XXL"),  # not a full match either
    ]
    groups = group_articles(articles, rules)
    assert summary(groups) == [
        ("g:TSH-01", ["1", "2"], ("colour", "size")),
        ("g:TSH-02", ["3"], ("colour", "size")),
        ("a:4", ["4"], ()),
        ("a:5", ["5"], ()),
    ]
    assert articles[0].attributes == {"colour": "RED", "size": "M"}
    assert articles[1].attributes == {"colour": "Rouge vif", "size": "L"}
    assert articles[3].attributes == {} and articles[4].attributes == {}


def test_reference_pattern_without_group_falls_back_to_group_field() -> None:
    rules = GroupingRules(reference_pattern=r"[A-Z]+-(?P<size>[SML])", attributes=("size",))
    groups = group_articles([art("1", sku="TEE-S", group_key="TEE"), art("2", sku="TEE-M", group_key="TEE")], rules)
    assert summary(groups) == [("g:TEE", ["1", "2"], ("size",))]
    assert [a.attributes for a in groups[0].articles] == [{"size": "S"}, {"size": "M"}]


def test_lone_article_is_a_simple_product() -> None:
    (group,) = group_articles([art("MUG", attributes={"colour": "Blanc"})], GroupingRules(attributes=("colour",)))
    assert group.key == "a:MUG" and group.is_lone and group.attributes == ()


def test_duplicated_lone_key_stays_together_for_the_quality_gate() -> None:
    groups = group_articles([art("DUP"), art("DUP", name="Other")], GroupingRules())
    assert summary(groups) == [("a:DUP", ["DUP", "DUP"], ())]


def test_attribute_order_comes_from_the_rules_and_unused_ones_are_dropped() -> None:
    articles = [
        art("1", group_key="T", attributes={"colour": "Rouge", "size": "M"}),
        art("2", group_key="T", attributes={"size": "L", "colour": "Bleu"}),
    ]
    (group,) = group_articles(articles, GroupingRules(attributes=("size", "material", "colour")))
    assert group.attributes == ("size", "colour")


def test_without_configured_attributes_every_used_one_counts_in_name_order() -> None:
    articles = [
        art("1", group_key="T", attributes={"size": "M", "colour": "Rouge", "fit": ""}),
        art("2", group_key="T", attributes={"size": "L"}),
    ]
    (group,) = group_articles(articles, GroupingRules())
    assert group.attributes == ("colour", "size")


def test_article_field() -> None:
    article = art("1", price=D("9.50"), fields={"marque": "Acme"}, attributes={"size": "M"})
    assert article_field(article, "price") == "9.50"
    assert article_field(article, "fields.marque") == "Acme"
    assert article_field(article, "attributes.size") == "M"
    assert article_field(article, "fields.none") is None and article_field(article, "ean") is None
