"""Shopify as a price sink, against the fake (productVariantsBulkUpdate, compareAtPrice for promotions)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx

import deployments.sandbox.fakes.shopify.catalogue  # noqa: F401  (registers the catalogue handlers)
from connectors.base import PriceCapabilities, PriceSink, PriceWrite, ProductWrite
from connectors.models import PriceRecord, Product, Promotion, Variant
from connectors.shop.shopify.catalogue import ShopifyCatalogue
from connectors.shop.shopify.client import ShopifyClient
from connectors.shop.shopify.prices import ShopifyPrices
from connectors.shop.shopify.settings import ShopifySettings
from deployments.sandbox.fakes.shopify.core import TOKEN, ShopifyFake, VirtualClock
from tasks.diff import PRODUCT_FIELDS, VARIANT_FIELDS
from tasks.prices import price_write

_CLOCKS: dict[int, VirtualClock] = {}


def shopify(**options: Any) -> ShopifyFake:
    clock = VirtualClock()
    fake = ShopifyFake(clock=clock.now, **options)
    _CLOCKS[id(fake)] = clock
    return fake


def client(fake: ShopifyFake, transport: httpx.BaseTransport | None = None) -> ShopifyClient:
    clock = _CLOCKS[id(fake)]
    return ShopifyClient(
        fake.shop, token=TOKEN, transport=transport or fake.transport, sleep=clock.sleep, clock=clock.now
    )


def settings() -> ShopifySettings:
    return ShopifySettings(url="https://passerelle-test.myshopify.com", access_token="env:SHOPIFY_ACCESS_TOKEN")


def published(fake: ShopifyFake) -> dict[str, str]:
    """Two products in the shop (through the catalogue sink); variant key -> variant id."""
    products = [
        Product("POLO", "Polo", "polo", option_groups=["size"], variants=[
            Variant("POLO-M", "POLO-M", "M", Decimal("39"), "EUR", {"size": "M"}, vat_rate=Decimal("20")),
            Variant("POLO-L", "POLO-L", "L", Decimal("39"), "EUR", {"size": "L"}, vat_rate=Decimal("20"))]),
        Product("THE", "Thé", "the", [Variant("THE", "THE", "Thé", Decimal("8.90"), "EUR", vat_rate=Decimal("5.5"))]),
    ]  # fmt: skip
    writes = [
        ProductWrite(
            p, None, frozenset(PRODUCT_FIELDS), [v.key for v in p.variants], variant_fields=frozenset(VARIANT_FIELDS)
        )
        for p in products
    ]
    result = ShopifyCatalogue(client(fake), settings()).write_products(writes)
    assert result.errors == []
    return {k: v for ref in result.refs.values() for k, v in ref.variant_ids.items()}


def sink(fake: ShopifyFake, transport: httpx.BaseTransport | None = None) -> ShopifyPrices:
    return ShopifyPrices(client(fake, transport), settings())


def variant(fake: ShopifyFake, variant_id: str) -> dict[str, Any]:
    found = fake.get("ProductVariant", variant_id)
    assert found is not None
    return found


def test_capabilities_no_promotion_dates_no_group_prices() -> None:
    prices = sink(shopify())
    assert isinstance(prices, PriceSink)
    assert prices.price_capabilities == PriceCapabilities(promotion_dates=False, group_prices=False)


def test_prices_are_written_in_the_shops_tax_basis_grouped_by_product() -> None:
    fake = shopify(taxes_included=True)
    ids = published(fake)
    prices = sink(fake)
    before = fake.calls("productVariantsBulkUpdate")

    result = prices.write_prices(
        [
            PriceWrite("POLO-M", ids["POLO-M"], Decimal("30"), "EUR", vat_rate=Decimal("20")),
            PriceWrite("POLO-L", ids["POLO-L"], Decimal("31"), "EUR", vat_rate=Decimal("20")),
            PriceWrite("THE", ids["THE"], Decimal("10"), "EUR", vat_rate=Decimal("5.5")),
        ]
    )

    assert result.errors == []
    assert (variant(fake, ids["POLO-M"])["price"], variant(fake, ids["POLO-L"])["price"]) == ("36.00", "37.20")
    assert variant(fake, ids["THE"])["price"] == "10.55"
    assert fake.calls("productVariantsBulkUpdate") - before == 2  # one per product

    again = prices.write_prices([PriceWrite("THE", ids["THE"], Decimal("10"), "EUR", vat_rate=Decimal("5.5"))])
    assert again.errors == [] and again.answers["THE"]["unchanged"] is True
    assert fake.calls("productVariantsBulkUpdate") - before == 2  # nothing sent for an unchanged price


def test_a_promotion_in_force_sets_compare_at_price_to_the_regular_price_and_its_end_clears_it() -> None:
    fake = shopify(taxes_included=False)
    ids = published(fake)
    prices = sink(fake)
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    record = PriceRecord("THE", "THE", Decimal("8.90"), "EUR", vat_rate=Decimal("5.5"),
                         promotions=[Promotion(Decimal("6.90"), now - timedelta(days=1), now + timedelta(days=1))])  # fmt: skip

    during = price_write(record, ids["THE"], now, prices.price_capabilities)
    assert prices.write_prices([during]).errors == []
    held = variant(fake, ids["THE"])
    assert (held["price"], held["compareAtPrice"]) == ("6.90", "8.90")

    after = price_write(record, ids["THE"], now + timedelta(days=2), prices.price_capabilities)
    assert prices.write_prices([after]).errors == []
    assert (held["price"], held["compareAtPrice"]) == ("8.90", None)


def test_a_refused_variant_is_its_record_error_and_the_others_are_written() -> None:
    fake = shopify(taxes_included=False)
    ids = published(fake)

    result = sink(fake).write_prices(
        [
            PriceWrite("POLO-M", ids["POLO-M"], Decimal("-1"), "EUR", vat_rate=Decimal("20")),
            PriceWrite("POLO-L", ids["POLO-L"], Decimal("25"), "EUR", vat_rate=Decimal("20")),
            PriceWrite("GONE", "gid://shopify/ProductVariant/999", Decimal("5"), "EUR"),
            PriceWrite("USD", ids["THE"], Decimal("5"), "USD"),
        ]
    )

    assert sorted((e.key, e.field) for e in result.errors) == [
        ("GONE", "variant"), ("POLO-M", "price"), ("USD", "currency")]  # fmt: skip
    assert variant(fake, ids["POLO-L"])["price"] == "25.00"
    assert variant(fake, ids["POLO-M"])["price"] == "39.00"


def test_a_user_error_shopify_answers_for_one_variant_is_that_variants_error() -> None:
    fake = shopify(taxes_included=False)
    ids = published(fake)

    def negative(request: httpx.Request) -> httpx.Response:
        # the sink refuses a negative price itself: send one as if it had not, to see Shopify's answer
        body = request.content.replace(b'"price": "20.00"', b'"price": "-20.00"').replace(
            b'"price":"20.00"', b'"price":"-20.00"'
        )
        return fake.handle(httpx.Request(request.method, request.url, headers=request.headers, content=body))

    result = sink(fake, httpx.MockTransport(negative)).write_prices(
        [
            PriceWrite("POLO-M", ids["POLO-M"], Decimal("20"), "EUR"),
            PriceWrite("POLO-L", ids["POLO-L"], Decimal("21"), "EUR"),
        ]
    )

    assert [(e.key, e.field) for e in result.errors] == [("POLO-M", "price")]
    assert "negative" in result.errors[0].reason
    assert variant(fake, ids["POLO-L"])["price"] == "21.00"
