"""WooCommerce as a stock and price sink, against the fake (captured products and variations)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from connectors.base import PriceSink, PriceWrite, StockSink, StockWrite
from connectors.models import Promotion
from deployments.sandbox.fakes.woocommerce_fake import FakeWooCommerce
from tests.contract.test_woocommerce_catalogue import create, polo, shop, tea

UTC = timezone.utc


def published() -> tuple[FakeWooCommerce, dict[str, str]]:
    """A fake with the polo (variable) and the tea (simple) published; variant ids by SKU."""
    fake = FakeWooCommerce()
    refs = shop(fake).write_products([create(polo()), create(tea())]).refs
    return fake, {k: v for ref in refs.values() for k, v in ref.variant_ids.items()}


def test_stock_is_absolute_on_products_and_variations_through_the_batches() -> None:
    fake, ids = published()
    sink = shop(fake)
    assert isinstance(sink, StockSink)
    fake.requests.clear()

    result = sink.write_stock([StockWrite("POLO-M", ids["POLO-M"], 10), StockWrite("THE", ids["THE"], 24)])

    assert result.errors == []
    medium, tea_row = fake.variation_by_sku("POLO-M"), fake.product_by_sku("THE")
    assert (medium["manage_stock"], medium["stock_quantity"]) == (True, 10)
    assert (tea_row["manage_stock"], tea_row["stock_quantity"]) == (True, 24)
    assert sorted(p for _, p, _ in fake.writes()) == sorted(
        ["/products/batch", f"/products/{medium['parent_id']}/variations/batch"]
    )
    assert sink.read_stock([ids["POLO-M"], ids["THE"], ids["POLO-XL"]], [None]) == {
        (ids["POLO-M"], None): 10, (ids["THE"], None): 24, (ids["POLO-XL"], None): 0}  # fmt: skip
    sink.write_stock([StockWrite("POLO-M", ids["POLO-M"], 10)])  # again: the same absolute value
    assert fake.variation_by_sku("POLO-M")["stock_quantity"] == 10


def test_a_stock_location_or_a_vanished_variant_is_refused_the_others_are_written() -> None:
    fake, ids = published()
    parent = ids["POLO-M"].split("/")[0]
    result = shop(fake).write_stock(
        [
            StockWrite("POLO-M", ids["POLO-M"], 3, location="Entrepôt Lyon"),
            StockWrite("GONE", f"{parent}/99999", 1),
            StockWrite("THE", ids["THE"], 7),
        ]
    )
    assert sorted((e.key, e.field) for e in result.errors) == [("GONE", "stock"), ("POLO-M", "location")]
    assert "one stock per product" in str(result.errors[0]) + str(result.errors[1])
    assert fake.product_by_sku("THE")["stock_quantity"] == 7


def test_a_scheduled_promotion_is_sent_with_its_dates_and_cleared_when_it_ends() -> None:
    fake, ids = published()
    sink = shop(fake)
    assert isinstance(sink, PriceSink)
    caps = sink.price_capabilities
    assert (caps.promotion_dates, caps.group_prices, caps.prices_include_tax) == (True, False, False)
    promo = Promotion(Decimal("29"), datetime(2026, 11, 26, 23, tzinfo=UTC), datetime(2026, 11, 30, 23, tzinfo=UTC))

    result = sink.write_prices(
        [
            PriceWrite("POLO-M", ids["POLO-M"], Decimal("39"), "EUR", regular_price=Decimal("39"), promotion=promo),
            PriceWrite("THE", ids["THE"], Decimal("9.5"), "EUR"),
        ]
    )

    assert result.errors == []
    medium = fake.variation_by_sku("POLO-M")
    assert (medium["regular_price"], medium["sale_price"]) == ("39.00", "29.00")
    assert (medium["date_on_sale_from_gmt"], medium["date_on_sale_to_gmt"]) == (
        "2026-11-26T23:00:00",
        "2026-11-30T22:59:59",
    )
    assert fake.product_by_sku("THE")["regular_price"] == "9.50"

    sink.write_prices([PriceWrite("POLO-M", ids["POLO-M"], Decimal("39"), "EUR", regular_price=Decimal("39"))])
    medium = fake.variation_by_sku("POLO-M")
    assert (medium["sale_price"], medium["date_on_sale_from_gmt"], medium["date_on_sale_to_gmt"]) == ("", None, None)


def test_a_bad_amount_or_another_currency_is_refused_and_converted_amounts_are_rounded() -> None:
    fake, ids = published()
    result = shop(fake).write_prices(
        [
            PriceWrite("POLO-M", ids["POLO-M"], Decimal("39.999"), "EUR"),
            PriceWrite("POLO-XL", ids["POLO-XL"], Decimal("39"), "USD"),
            PriceWrite("THE", ids["THE"], Decimal("7.4166"), "EUR", converted=True),
        ]
    )
    assert sorted((e.key, e.field) for e in result.errors) == [("POLO-M", "price"), ("POLO-XL", "currency")]
    assert fake.product_by_sku("THE")["regular_price"] == "7.42"
    assert fake.variation_by_sku("POLO-M")["regular_price"] == "39.00"  # untouched


def test_a_shop_entering_prices_with_tax_gets_them_with_tax() -> None:
    fake, ids = published()
    fake.prices_include_tax = "yes"  # "Yes, I will enter prices inclusive of tax"
    promo = Promotion(Decimal("25"), datetime(2026, 11, 26, 23, tzinfo=UTC), datetime(2026, 11, 30, 23, tzinfo=UTC))
    # 16.658333 is what tasks/prices.py makes of an ERP price of 19.99 including 20 % VAT
    result = shop(fake).write_prices(
        [
            PriceWrite("POLO-M", ids["POLO-M"], Decimal("39"), "EUR", vat_rate=Decimal("20"),
                       regular_price=Decimal("39"), promotion=promo),
            PriceWrite("THE", ids["THE"], Decimal("16.658333"), "EUR", vat_rate=Decimal("20"), converted=True),
        ]
    )  # fmt: skip

    assert result.errors == [] and result.notices == []
    medium = fake.variation_by_sku("POLO-M")
    assert (medium["regular_price"], medium["sale_price"]) == ("46.80", "30.00")
    assert fake.product_by_sku("THE")["regular_price"] == "19.99"  # the ERP's own price, to the cent


def test_a_converted_price_a_tax_excluded_shop_cannot_show_to_the_cent_has_a_notice() -> None:
    fake, ids = published()
    net = (Decimal("9.99") / Decimal("1.2")).quantize(Decimal("0.000001"))
    result = shop(fake).write_prices(
        [PriceWrite("THE", ids["THE"], net, "EUR", vat_rate=Decimal("20"), converted=True)]
    )
    assert result.errors == [] and fake.product_by_sku("THE")["regular_price"] == "8.33"
    (notice,) = result.notices
    assert notice.key == "THE" and "9.99" in notice.reason and "10.00" in notice.reason


def test_a_tax_included_shop_refuses_a_price_without_vat_rate() -> None:
    fake, ids = published()
    fake.prices_include_tax = "yes"
    result = shop(fake).write_prices([PriceWrite("THE", ids["THE"], Decimal("9"), "EUR")])
    assert [(e.key, e.field) for e in result.errors] == [("THE", "vat_rate")]
    assert fake.product_by_sku("THE")["regular_price"] == "8.90"  # untouched
