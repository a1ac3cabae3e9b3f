"""Mapping: groups of ERP articles -> canonical shop products (names, slugs, categories, taxes)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from connectors.models import Article, Product
from tasks.grouping import GroupingRules, group_articles
from tasks.mapping import MappingRules, map_group, map_groups, normalise_rate

TAXES = {"20": "standard-fr", "5.5": "reduced-fr"}


def art(key: str, **kw: object) -> Article:
    values: dict[str, object] = {"sku": key, "name": f"Article {key}", "price": D("10.00"), "vat_rate": D("20")}
    values.update(kw)
    return Article(key=key, **values)  # type: ignore[arg-type]


def products(
    articles: list[Article], rules: MappingRules | None = None, attributes: tuple[str, ...] = ()
) -> list[Product]:
    groups = group_articles(articles, GroupingRules(attributes=attributes))
    return map_groups(groups, rules or MappingRules(taxes=TAXES))


def polo(key: str, colour: str, size: str, **kw: object) -> Article:
    return art(
        key,
        sku=f"POLO-{colour[:3].upper()}-{size}",
        name=f"Polo piqué {colour} {size}",
        group_key="POLO",
        attributes={"colour": colour, "size": size},
        **kw,
    )


def test_lone_article_becomes_a_simple_product() -> None:
    (product,) = products([art("MUG-01", name="Mug « Été »", description="Grès", images=("a.jpg",))])
    assert product.key == "a:MUG-01"
    assert product.name == "Mug « Été »"
    assert product.slug == "mug-ete-mug-01"
    assert product.option_groups == [] and product.description == "Grès" and product.images == ("a.jpg",)
    (variant,) = product.variants
    assert (variant.key, variant.sku, variant.name, variant.options) == ("MUG-01", "MUG-01", "Mug « Été »", {})
    assert (variant.price, variant.currency, variant.tax_category) == (D("10.00"), "EUR", "standard-fr")


def test_group_becomes_one_product_with_options_in_rule_order() -> None:
    articles = [polo("1", "Rouge", "M"), polo("2", "Rouge", "L"), polo("3", "Bleu", "M")]
    (product,) = products(articles, attributes=("size", "colour"))
    assert product.key == "g:POLO"
    assert product.option_groups == ["size", "colour"]
    assert [v.key for v in product.variants] == ["1", "2", "3"]
    assert product.variants[1].options == {"size": "L", "colour": "Rouge"}
    assert list(product.variants[1].options) == ["size", "colour"]
    assert product.variants[0].name == "Polo piqué Rouge M"  # the variant keeps the ERP name


def test_product_name_stripped_of_option_values_and_slug() -> None:
    (product,) = products([polo("1", "Rouge", "M"), polo("2", "Bleu", "L")], attributes=("colour", "size"))
    assert product.name == "Polo piqué"
    assert product.slug == "polo-pique-polo"


def test_product_name_from_group_name() -> None:
    articles = [polo("1", "Rouge", "M", group_name="Polo piqué homme"), polo("2", "Bleu", "M")]
    (product,) = products(articles, attributes=("colour", "size"))
    assert product.name == "Polo piqué homme" and product.slug == "polo-pique-homme-polo"


def test_name_from_a_mapped_field_wins() -> None:
    rules = MappingRules(taxes=TAXES, fields={"name": "fields.titre_web", "variant.name": "name"})
    (product,) = products([art("1", fields={"titre_web": "Le mug du matin"})], rules)
    assert product.name == "Le mug du matin" and product.variants[0].name == "Article 1"


def test_direct_field_copies_and_custom_fields() -> None:
    rules = MappingRules(
        taxes=TAXES,
        fields={
            "description": "description",
            "variant.name": "name",
            "custom_fields.brand": "fields.marque",
            "variant.custom_fields.origin": "fields.origine",
        },
    )
    articles = [
        polo("1", "Rouge", "M", fields={"origine": "PT"}),
        polo("2", "Bleu", "M", description="Coton piqué", fields={"marque": "Acme", "origine": "FR"}),
    ]
    (product,) = products(articles, rules, attributes=("colour", "size"))
    assert product.description == "Coton piqué"  # the first member that has one
    assert product.custom_fields == {"brand": "Acme"}
    assert [v.custom_fields for v in product.variants] == [{"origin": "PT"}, {"origin": "FR"}]


def test_categories_from_fields_and_multi_paths() -> None:
    rules = MappingRules(
        taxes=TAXES,
        categories=(("fields.famille",), ("fields.rayon", "fields.sous_rayon")),
    )
    article = art(
        "1",
        fields={
            "famille": "Vêtements/Tee-shirts | Promotions|Vêtements/Tee-shirts",
            "rayon": "Mode",
            "sous_rayon": "Hauts/Été",
        },
    )
    (product,) = products([article], rules)
    assert product.categories == [("Vêtements", "Tee-shirts"), ("Promotions",), ("Mode", "Hauts", "Été")]


def test_categories_with_another_separator_and_missing_fields() -> None:
    rules = MappingRules(taxes=TAXES, categories=(("fields.famille",), ("fields.absent",)), category_separator=">")
    (product,) = products([art("1", fields={"famille": "Maison > Cuisine"})], rules)
    assert product.categories == [("Maison", "Cuisine")]
    (bare,) = products([art("2")], rules)
    assert bare.categories == []


@pytest.mark.parametrize(
    ("rate", "key"),
    [
        (D("20.00"), "20"),
        (D("20"), "20"),
        (D("5.50"), "5.5"),
        (D("2.1"), "2.1"),
        (D("0.00"), "0"),
        (D("100"), "100"),
        (None, None),
    ],
)
def test_normalise_rate(rate: D | None, key: str | None) -> None:
    assert normalise_rate(rate) == key


def test_tax_mapping_by_normalised_rate() -> None:
    variants = products(
        [
            art("A", vat_rate=D("20.00")),
            art("B", vat_rate=D("5.50")),
            art("C", vat_rate=D("10")),
            art("D", vat_rate=None),
        ]
    )
    assert [p.variants[0].tax_category for p in variants] == ["standard-fr", "reduced-fr", None, None]
    assert variants[0].variants[0].vat_rate == D("20.00")


def test_images_of_all_variants_without_duplicates() -> None:
    articles = [
        polo("1", "Rouge", "M", images=("rouge.jpg", "dos.jpg")),
        polo("2", "Bleu", "M", images=("bleu.jpg", "dos.jpg")),
    ]
    (product,) = products(articles, attributes=("colour", "size"))
    assert product.images == ("rouge.jpg", "dos.jpg", "bleu.jpg")


def test_mapping_never_refuses_incomplete_records() -> None:
    group = group_articles([art("X", sku=None, name=None, price=None, vat_rate=None)], GroupingRules())[0]
    product = map_group(group, MappingRules())
    assert product.name == "X" and product.variants[0].sku is None and product.variants[0].name == ""


def test_product_name_stripped_of_multi_word_option_values() -> None:
    articles = [polo("1", "Bleu marine", "M"), polo("2", "Gris chiné", "M")]
    (product,) = products(articles, attributes=("colour", "size"))
    assert product.name == "Polo piqué"


def test_attribute_labels_from_the_erp_overridden_by_settings() -> None:
    labelled = [
        polo(k, c, s, attribute_labels={"colour": "Couleur", "size": "Taille"})
        for k, c, s in (("1", "Rouge", "M"), ("2", "Bleu", "M"))
    ]
    [erp_labels] = products(labelled, attributes=("colour", "size"))
    assert erp_labels.option_groups == ["colour", "size"]  # codes: the keys of Variant.options
    assert erp_labels.option_labels == {"colour": "Couleur", "size": "Taille"}
    [configured] = products(labelled, MappingRules(attribute_labels={"size": "Pointure"}), ("colour", "size"))
    assert configured.option_labels == {"colour": "Couleur", "size": "Pointure"}
    [unlabelled] = products([polo("1", "Rouge", "M"), polo("2", "Bleu", "M")], attributes=("colour", "size"))
    assert unlabelled.option_label("colour") == "colour"


def test_tax_included_article_price_stays_tax_included_on_the_variant() -> None:
    [product] = products([art("1", price=D("19.99"), tax_included=True)])
    assert (product.variants[0].price, product.variants[0].tax_included) == (D("19.99"), True)
