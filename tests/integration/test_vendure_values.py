"""The Vendure stock and price sink against a real Vendure: absolute writes, allocation kept,
named stock locations, drift reads, and one refused variant isolated from its batch."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal as D

import pytest

from connectors.base import PriceWrite, ProductWrite, StockWrite
from connectors.models import Product, Variant
from connectors.shop.vendure.client import VendureClient
from connectors.shop.vendure.factory import VendureShop

pytestmark = pytest.mark.integration


@pytest.fixture
def shop(vendure) -> Iterator[tuple[VendureShop, dict[str, str]]]:
    client = VendureClient(vendure.admin_api_url, username=vendure.username, password=vendure.password)
    sink = VendureShop(client)
    variants = [
        Variant(
            key=k,
            sku=f"MUG-{k}",
            name=f"Mug {k}",
            price=D("12.00"),
            currency="EUR",
            vat_rate=D("20"),
            tax_category="Standard Tax",
            options={"colour": k},
        )
        for k in ("red", "blue", "green")
    ]
    product = Product(key="g:MUG", name="Mug", slug="mug", variants=variants, option_groups=["colour"])
    write = ProductWrite(
        product=product,
        ref=None,
        product_fields=frozenset({"name", "slug", "description", "enabled", "option_groups", "categories"}),
        create_variants=[v.key for v in variants],
    )
    result = sink.write_products([write])
    assert not result.errors
    try:
        yield sink, result.refs["g:MUG"].variant_ids
    finally:
        sink.close()


def stock_of(sink: VendureShop, variant_id: str) -> tuple[int, int]:
    row = sink.client.query(
        "query($id: ID!) { productVariant(id: $id) { stockOnHand stockAllocated } }", {"id": variant_id}
    )
    return row["productVariant"]["stockOnHand"], row["productVariant"]["stockAllocated"]


def test_one_refused_variant_does_not_stop_its_batch(shop) -> None:
    sink, ids = shop
    writes = [
        StockWrite("red", ids["red"], 7),
        StockWrite("ghost", "999999", 3),  # deleted by hand in the shop
        StockWrite("blue", ids["blue"], 0),
        StockWrite("green", ids["green"], 12),
    ]
    result = sink.write_stock(writes)
    assert [(e.key, e.field) for e in result.errors] == [("ghost", "variant")]
    assert "no longer in Vendure" in result.errors[0].reason
    assert [stock_of(sink, ids[k])[0] for k in ("red", "blue", "green")] == [7, 0, 12]
    assert sink.read_stock([ids["red"], ids["green"]], [None]) == {(ids["red"], None): 7, (ids["green"], None): 12}


def test_a_batch_vendure_refuses_is_split_down_to_the_culprit(shop) -> None:
    sink, ids = shop
    sink.client.http.stats.calls = 0
    writes = [
        PriceWrite("red", ids["red"], D("8.00"), "EUR", vat_rate=D("20")),
        PriceWrite("ghost", "999999", D("5.00"), "EUR", vat_rate=D("20")),  # deleted by hand in the shop
        PriceWrite("green", ids["green"], D("9.00"), "EUR", vat_rate=D("20")),
    ]
    result = sink.write_prices(writes)
    # Vendure refuses the whole updateProductVariants call (ENTITY_NOT_FOUND): the batch is split
    # until the unknown variant is alone; the others are written.
    assert [e.key for e in result.errors] == ["ghost"]
    assert sink.client.http.stats.calls == 5  # the whole batch, its two halves, then the half's two
    prices = {
        k: sink.client.query("query($id: ID!) { productVariant(id: $id) { price } }", {"id": ids[k]})["productVariant"][
            "price"
        ]
        for k in ("red", "green")
    }
    assert prices == {"red": 800, "green": 900}


def test_named_stock_location_and_unknown_location(shop) -> None:
    sink, ids = shop
    sink.client.execute('mutation { createStockLocation(input: {name: "Shop floor"}) { id } }')
    assert not sink.write_stock([StockWrite("red", ids["red"], 9, location="Shop floor")]).errors
    assert sink.read_stock([ids["red"]], ["Shop floor"]) == {(ids["red"], "Shop floor"): 9}
    from connectors.errors import Fatal

    with pytest.raises(Fatal, match="no stock location named Warehouse 9"):
        sink.write_stock([StockWrite("red", ids["red"], 1, location="Warehouse 9")])


def test_prices_in_the_channel_basis_and_currency_checked(shop) -> None:
    sink, ids = shop
    assert sink.price_capabilities.group_prices is False and sink.price_capabilities.promotion_dates is False
    result = sink.write_prices(
        [
            PriceWrite("red", ids["red"], D("9.90"), "EUR", vat_rate=D("20")),
            PriceWrite("blue", ids["blue"], D("9.90"), "USD", vat_rate=D("20")),
            PriceWrite("green", ids["green"], D("16.666667"), "EUR", vat_rate=D("20"), converted=True),
        ]
    )
    assert [(e.key, e.field) for e in result.errors] == [("blue", "currency")]
    prices = {
        k: sink.client.query("query($id: ID!) { productVariant(id: $id) { price } }", {"id": ids[k]})["productVariant"][
            "price"
        ]
        for k in ("red", "green")
    }
    assert prices == {"red": 990, "green": 1667}
