"""Shopify as a price sink, against the fake (productVariantsBulkUpdate, compareAtPrice for promotions;
customer-group prices on Shopify Plus B2B price lists)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest

import deployments.sandbox.fakes.shopify.catalogue  # noqa: F401  (registers the catalogue handlers)
from connectors.base import PriceCapabilities, PriceSink, PriceWrite, ProductWrite
from connectors.errors import Fatal
from connectors.models import GroupPrice, PriceRecord, Product, Promotion, Variant
from connectors.shop.shopify.catalogue import ShopifyCatalogue
from connectors.shop.shopify.client import ShopifyClient
from connectors.shop.shopify.prices import ShopifyPrices
from connectors.shop.shopify.settings import ShopifySettings
from deployments.sandbox.fakes.shopify.core import TOKEN, ShopifyFake, VirtualClock
from deployments.sandbox.fakes.shopify.price_lists import add_price_list, fixed_prices, price_breaks
from tasks.diff import PRODUCT_FIELDS, VARIANT_FIELDS
from tasks.prices import plan_prices, price_write

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


# -- customer-group prices on Shopify Plus B2B price lists ----------------------------------------------


def b2b_shop(**options: Any) -> ShopifyFake:
    return shopify(plan="plus", b2b=True, **options)


def group_sink(fake: ShopifyFake, transport: httpx.BaseTransport | None = None, **lists: str) -> ShopifyPrices:
    mapped = settings().model_copy(update={"price_lists": lists or {"Revendeurs": "Revendeurs FR"}})
    return ShopifyPrices(client(fake, transport), mapped)


def group(name: str, price: str, minimum: int = 1) -> GroupPrice:
    return GroupPrice(name, Decimal(price), Decimal(minimum))


def mutations(fake: ShopifyFake, since: int) -> list[tuple[str, ...]]:
    return [e.fields for e in fake.exchanges[since:] if e.operation == "mutation"]


def test_group_prices_are_declared_only_with_mapped_price_lists() -> None:
    assert group_sink(b2b_shop()).price_capabilities.group_prices is True
    assert sink(b2b_shop()).price_capabilities.group_prices is False


def test_a_group_price_from_one_is_a_fixed_price_on_the_mapped_list_in_the_shops_tax_basis() -> None:
    fake = b2b_shop(taxes_included=True)
    ids = published(fake)
    wholesale = add_price_list(fake, "Revendeurs FR", "EUR", catalog="Revendeurs")

    result = group_sink(fake).write_prices(
        [PriceWrite("POLO-M", ids["POLO-M"], Decimal("30"), "EUR", vat_rate=Decimal("20"),
                    group_prices=(group("Revendeurs", "25"),))]
    )  # fmt: skip

    assert result.errors == []
    # amounts arrive tax-excluded; the shop stores tax-included prices: 25 + 20 % VAT
    assert fixed_prices(fake, wholesale) == {ids["POLO-M"]: "30.00"}
    assert price_breaks(fake, wholesale) == {}
    assert variant(fake, ids["POLO-M"])["price"] == "36.00"  # the base price, in the same basis


def test_a_group_price_from_three_is_a_quantity_price_break_over_a_fixed_price() -> None:
    fake = b2b_shop(taxes_included=False)
    ids = published(fake)
    wholesale = add_price_list(fake, "Revendeurs FR", "EUR")

    result = group_sink(fake).write_prices(
        [
            PriceWrite("POLO-M", ids["POLO-M"], Decimal("30"), "EUR",
                       group_prices=(group("Revendeurs", "25"), group("Revendeurs", "22", 3))),
            # a break without a price from 1: below it the group pays the price in force
            PriceWrite("THE", ids["THE"], Decimal("8"), "EUR", group_prices=(group("Revendeurs", "6.5", 6),)),
        ]
    )  # fmt: skip

    assert result.errors == []
    assert fixed_prices(fake, wholesale) == {ids["POLO-M"]: "25.00", ids["THE"]: "8.00"}
    assert price_breaks(fake, wholesale) == {(ids["POLO-M"], 3): "22.00", (ids["THE"], 6): "6.50"}
    # quantityPricingByVariantUpdate is all-or-nothing: one call per variant
    assert fake.calls("quantityPricingByVariantUpdate") == 2
    assert fake.calls("priceListFixedPricesAdd") == 1


def test_a_group_price_the_write_no_longer_carries_is_deleted_and_the_other_lists_are_untouched() -> None:
    fake = b2b_shop(taxes_included=False)
    ids = published(fake)
    wholesale = add_price_list(fake, "Revendeurs FR", "EUR")
    export = add_price_list(fake, "Export", "EUR")  # the merchant's own list, not mapped
    prices = group_sink(fake)
    carried = (group("Revendeurs", "25"), group("Revendeurs", "22", 3), group("Revendeurs", "20", 10))
    assert prices.write_prices([PriceWrite("POLO-M", ids["POLO-M"], Decimal("30"), "EUR", group_prices=carried)]).errors == []  # fmt: skip
    export["_fixed"][ids["POLO-M"]] = {"amount": "27.00", "currencyCode": "EUR"}

    fewer = prices.write_prices([PriceWrite("POLO-M", ids["POLO-M"], Decimal("30"), "EUR", group_prices=carried[:2])])
    assert fewer.errors == []
    assert price_breaks(fake, wholesale) == {(ids["POLO-M"], 3): "22.00"}  # the break from 10 is gone

    none = prices.write_prices([PriceWrite("POLO-M", ids["POLO-M"], Decimal("30"), "EUR")])
    assert none.errors == []
    assert fixed_prices(fake, wholesale) == {} and price_breaks(fake, wholesale) == {}
    assert fixed_prices(fake, export) == {ids["POLO-M"]: "27.00"}


def test_a_currency_other_than_the_lists_is_that_variants_error_and_the_others_are_written() -> None:
    fake = b2b_shop(taxes_included=False)
    ids = published(fake)
    wholesale = add_price_list(fake, "Revendeurs FR", "EUR")
    add_price_list(fake, "Wholesale US", "USD")
    prices = group_sink(fake, Revendeurs="Revendeurs FR", US="Wholesale US")

    result = prices.write_prices(
        [
            PriceWrite("POLO-M", ids["POLO-M"], Decimal("30"), "EUR", group_prices=(group("US", "25"),)),
            PriceWrite("POLO-L", ids["POLO-L"], Decimal("30"), "EUR", group_prices=(group("Revendeurs", "24"),)),
        ]
    )

    assert [(e.key, e.field) for e in result.errors] == [("POLO-M", "group_prices.US")]
    assert "USD" in result.errors[0].reason
    assert fixed_prices(fake, wholesale) == {ids["POLO-L"]: "24.00"}


def test_a_user_error_is_the_variants_record_error_with_its_field_path_and_the_others_are_written() -> None:
    fake = b2b_shop(taxes_included=False)
    ids = published(fake)
    wholesale = add_price_list(fake, "Revendeurs FR", "EUR")

    def dollars(request: httpx.Request) -> httpx.Response:
        # the sink refuses another currency itself: send one as if it had not, to see Shopify's answer
        body = request.content.replace(
            b'"amount":"21.00","currencyCode":"EUR"', b'"amount":"21.00","currencyCode":"USD"'
        )
        return fake.handle(httpx.Request(request.method, request.url, headers=request.headers, content=body))

    result = group_sink(fake, httpx.MockTransport(dollars)).write_prices(
        [
            PriceWrite("POLO-M", ids["POLO-M"], Decimal("30"), "EUR", group_prices=(group("Revendeurs", "21"),)),
            PriceWrite("POLO-L", ids["POLO-L"], Decimal("30"), "EUR", group_prices=(group("Revendeurs", "24"),)),
        ]
    )

    assert [(e.key, e.field) for e in result.errors] == [("POLO-M", "group_prices.Revendeurs")]
    assert "prices.0.price.currencyCode: The specified currency doesn't match" in result.errors[0].reason
    assert fixed_prices(fake, wholesale) == {ids["POLO-L"]: "24.00"}


def test_a_mapped_list_the_shop_does_not_have_stops_the_run_naming_the_lists_it_has() -> None:
    fake = b2b_shop()
    ids = published(fake)
    add_price_list(fake, "Export", "USD", catalog="Export US")

    with pytest.raises(Fatal) as raised:
        group_sink(fake).write_prices([PriceWrite("THE", ids["THE"], Decimal("8"), "EUR")])

    assert "'Revendeurs FR'" in str(raised.value)
    assert "Export (USD, catalog 'Export US' ACTIVE, gid://shopify/PriceList/" in raised.value.resolution
    assert mutations(fake, 0) == [("productSet",), ("productSet",)]  # the catalogue's, nothing of the prices


def test_a_group_no_price_list_is_mapped_for_stops_the_run() -> None:
    fake = b2b_shop()
    ids = published(fake)
    add_price_list(fake, "Revendeurs FR", "EUR")

    with pytest.raises(Fatal, match="'VIP' has no Shopify price list"):
        group_sink(fake).write_prices(
            [PriceWrite("THE", ids["THE"], Decimal("8"), "EUR", group_prices=(group("VIP", "7"),))]
        )


def test_a_shop_without_b2b_stops_the_run_with_the_scopes_and_shopify_plus_in_the_resolution() -> None:
    fake = shopify()  # Standard plan: no B2B
    ids = published(fake)

    with pytest.raises(Fatal) as raised:
        group_sink(fake).write_prices([PriceWrite("THE", ids["THE"], Decimal("8"), "EUR")])

    resolution = raised.value.resolution
    assert "Shopify Plus" in resolution and "B2B" in resolution
    assert "read_products" in resolution and "write_products" in resolution
    assert "ACCESS_DENIED" not in resolution and "Access denied for priceLists" in str(raised.value)


def test_group_prices_are_left_out_and_no_price_list_is_read_when_price_lists_is_empty() -> None:
    fake = b2b_shop(taxes_included=False)
    ids = published(fake)
    wholesale = add_price_list(fake, "Revendeurs FR", "EUR")
    prices = sink(fake)
    record = PriceRecord("THE", "THE", Decimal("8"), "EUR", group_prices=[group("Revendeurs", "6")])

    plan = plan_prices([record], {"THE": ids["THE"]}, {}, now=datetime(2026, 12, 1, tzinfo=timezone.utc),
                       capabilities=prices.price_capabilities)  # fmt: skip
    assert plan.group_prices_left_out == 1 and plan.writes[0].group_prices == ()

    assert prices.write_prices(plan.writes).errors == []
    assert fake.calls("priceLists") == fake.calls("priceList") == 0
    assert fixed_prices(fake, wholesale) == {}


def test_the_same_writes_again_send_no_mutation_and_the_price_lists_are_read_once() -> None:
    fake = b2b_shop(taxes_included=False)
    ids = published(fake)
    add_price_list(fake, "Revendeurs FR", "EUR")
    prices = group_sink(fake)
    writes = [
        PriceWrite("POLO-M", ids["POLO-M"], Decimal("30"), "EUR",
                   group_prices=(group("Revendeurs", "25"), group("Revendeurs", "22", 3))),
        PriceWrite("THE", ids["THE"], Decimal("8"), "EUR", group_prices=(group("Revendeurs", "6"),)),
    ]  # fmt: skip
    assert prices.write_prices(writes).errors == []
    before = len(fake.exchanges)

    # The flow sends a write only when it changed since the last accepted one; a run cut off after
    # its mutations sends the same writes again: the sink reads the lists and finds nothing to do.
    again = prices.write_prices(writes)

    assert again.errors == []
    assert mutations(fake, before) == []
    assert fake.calls("priceLists") == 1


def test_the_fake_applies_no_quantity_pricing_when_one_break_is_refused() -> None:
    fake = b2b_shop(taxes_included=False)
    ids = published(fake)
    wholesale = add_price_list(fake, "Revendeurs FR", "EUR")
    wholesale["_fixed"][ids["POLO-M"]] = {"amount": "25.00", "currencyCode": "EUR"}
    document = "mutation Q($id: ID!, $input: QuantityPricingByVariantUpdateInput!) { quantityPricingByVariantUpdate(priceListId: $id, input: $input) { productVariants { id } userErrors { field code } } }"  # fmt: skip

    def break_of(vid: str, minimum: int) -> dict[str, Any]:
        return {"variantId": vid, "price": {"amount": "20", "currencyCode": "EUR"}, "minimumQuantity": minimum}

    empty = {"quantityPriceBreaksToDelete": [], "pricesToAdd": [], "pricesToDeleteByVariantId": [],
             "quantityRulesToAdd": [], "quantityRulesToDeleteByVariantId": []}  # fmt: skip
    payload = client(fake).execute(
        document,
        {"id": wholesale["id"], "input": {**empty, "quantityPriceBreaksToAdd": [break_of(ids["POLO-M"], 3), break_of(ids["POLO-L"], 3)]}},
        mutation=True,
    )["quantityPricingByVariantUpdate"]  # fmt: skip

    # POLO-L has no fixed price on the list: its break is refused, and so is POLO-M's (no partial success)
    assert payload["userErrors"] == [
        {"field": ["input", "quantityPriceBreaksToAdd", "1", "variantId"], "code": "QUANTITY_PRICE_BREAK_ADD_PRICE_LIST_PRICE_NOT_FOUND"}]  # fmt: skip
    assert price_breaks(fake, wholesale) == {}


def test_the_group_price_documents_validate_against_the_2025_01_schema() -> None:
    from graphql import parse, validate

    from connectors.shop.shopify import prices as prices_module
    from deployments.sandbox.fakes.shopify.core import schema

    for name in ("READ_PRICE_LISTS", "READ_LIST_PRICES", "FIXED_PRICES_ADD", "FIXED_PRICES_DELETE", "QUANTITY_PRICING"):
        assert validate(schema(), parse(getattr(prices_module, name))) == [], name
