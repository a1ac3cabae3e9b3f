"""Canonical products -> Vendure inputs: minor units, tax-inclusive channels, only the fields asked."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from connectors.models import Product, Variant
from connectors.shop.vendure.mapper import (
    ChannelInfo,
    category_values,
    option_code,
    price_for_channel,
    product_input,
    variant_create_input,
    variant_update_input,
)

EXCLUSIVE = ChannelInfo(currency="EUR", prices_include_tax=False, language="fr")
INCLUSIVE = ChannelInfo(currency="EUR", prices_include_tax=True, language="fr")
CUSTOM = {"ean": "string", "weight": "float"}


def variant(price: str = "19.90", vat: str | None = "20", **kw: object) -> Variant:
    return Variant(
        key="1", sku="TSH-M", name="Tee M", price=D(price), currency="EUR", vat_rate=D(vat) if vat else None, **kw
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("price", "vat", "channel", "minor"),
    [
        ("19.90", "20", EXCLUSIVE, 1990),
        ("10.00", "20", INCLUSIVE, 1200),
        ("19.99", "5.5", INCLUSIVE, 2109),  # 21.08945 -> 21.09
        ("0.15", "10", INCLUSIVE, 17),  # 0.165 rounds half up, not to even
        ("19.90", None, INCLUSIVE, 1990),  # no rate: nothing to add
    ],
)
def test_price_for_channel(price: str, vat: str | None, channel: ChannelInfo, minor: int) -> None:
    assert price_for_channel(variant(price, vat), channel) == minor


def test_price_with_too_many_decimals_is_refused_not_rounded() -> None:
    with pytest.raises(ValueError, match="decimals"):
        price_for_channel(variant("19.999"), EXCLUSIVE)


def test_tax_inclusive_price_in_a_currency_without_decimals() -> None:
    yen = ChannelInfo(currency="JPY", prices_include_tax=True, language="ja")
    assert (
        price_for_channel(Variant(key="1", sku="S", name="n", price=D("999"), currency="JPY", vat_rate=D("10")), yen)
        == 1099
    )


def product() -> Product:
    return Product(
        key="g:T",
        name="Tee été",
        slug="tee-ete-t",
        description=None,
        variants=[variant()],
        custom_fields={"brand": "Acme", "unknown_to_the_shop": "x"},
    )


def test_create_input_has_every_translation_field() -> None:
    data = product_input(
        product(),
        frozenset({"name", "slug", "description", "enabled", "categories", "custom_fields"}),
        channel=EXCLUSIVE,
        facet_value_ids=["5"],
        custom_fields=frozenset({"brand"}),
    )
    # Vendure's database needs slug and description even though the schema says optional.
    assert data == {
        "translations": [{"languageCode": "fr", "name": "Tee été", "slug": "tee-ete-t", "description": ""}],
        "enabled": True,
        "facetValueIds": ["5"],
        "customFields": {"brand": "Acme"},
    }


def test_update_input_carries_only_the_fields_asked() -> None:
    assert product_input(
        product(), frozenset({"name"}), channel=EXCLUSIVE, facet_value_ids=[], custom_fields=frozenset(), product_id="9"
    ) == {"id": "9", "translations": [{"languageCode": "fr", "name": "Tee été"}]}
    assert product_input(
        product(),
        frozenset({"enabled"}),
        channel=EXCLUSIVE,
        facet_value_ids=[],
        custom_fields=frozenset(),
        product_id="9",
    ) == {"id": "9", "enabled": True}


def test_variant_inputs() -> None:
    v = variant(ean="4006381333931", weight=D("0.180"))
    created = variant_create_input(
        v, product_id="9", option_ids=["3"], tax_category_id="2", channel=INCLUSIVE, custom_fields=CUSTOM
    )
    assert created == {
        "productId": "9",
        "sku": "TSH-M",
        "price": 2388,
        "optionIds": ["3"],
        "translations": [{"languageCode": "fr", "name": "Tee M"}],
        "enabled": True,
        "taxCategoryId": "2",
        "customFields": {"ean": "4006381333931", "weight": 0.18},
    }
    assert variant_update_input(
        v, frozenset({"price"}), variant_id="70", tax_category_id="2", channel=EXCLUSIVE, custom_fields=CUSTOM
    ) == {"id": "70", "price": 1990}
    assert variant_update_input(
        v,
        frozenset({"weight"}),
        variant_id="70",
        tax_category_id=None,
        channel=EXCLUSIVE,
        custom_fields={"weight": "string"},
    ) == {"id": "70", "customFields": {"weight": "0.180"}}


def test_category_values_and_option_codes() -> None:
    assert category_values(("Vêtements", "Tee-shirts")) == [
        ("vetements", "Vêtements"),
        ("vetements-tee-shirts", "Vêtements / Tee-shirts"),
    ]
    assert option_code("Bleu marine") == "bleu-marine" and option_code("€") == "none"
