"""PrestaShop stock and price sink against the fake webservice (captured PrestaShop 8.2 samples)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal

import pytest

from connectors.base import PriceSink, PriceWrite, StockSink, StockWrite
from connectors.errors import Fatal
from connectors.models import GroupPrice, PriceRecord, Promotion
from connectors.shop.prestashop.client import PrestaShopClient
from connectors.shop.prestashop.common import PrestaShopOptions
from connectors.shop.prestashop.factory import PrestaShopShop
from deployments.sandbox.fakes.prestashop_fake import FakePrestaShop
from tasks.prices import price_write

KEY = "ZQ88PRJX5VWQHCWE4EE7SQ7HPNX00RAJ"
UTC = timezone.utc


@pytest.fixture
def fake() -> FakePrestaShop:
    return FakePrestaShop(KEY)


def shop_for(fake: FakePrestaShop, **options: object) -> PrestaShopShop:
    client = PrestaShopClient(
        "http://shop.test", KEY, allow_insecure_http=True, transport=fake.transport(), max_retries=0, backoff=0
    )
    return PrestaShopShop(client, options=PrestaShopOptions(**options))  # type: ignore[arg-type]


def stock_row(fake: FakePrestaShop, product: str, attribute: str) -> dict[str, object]:
    return next(
        s for s in fake.data["stock_availables"] if (s["id_product"], s["id_product_attribute"]) == (product, attribute)
    )


def test_shop_implements_stock_and_price_sinks(fake: FakePrestaShop) -> None:
    shop = shop_for(fake)
    assert isinstance(shop, StockSink) and isinstance(shop, PriceSink)
    caps = shop.price_capabilities
    assert (caps.promotion_dates, caps.group_prices, caps.prices_include_tax) == (True, True, False)


def test_write_stock_sets_absolute_quantity_on_the_stock_row(fake: FakePrestaShop) -> None:
    shop = shop_for(fake)
    # Captured rows: product 1 (id_product_attribute 0) holds 2400.
    result = shop.write_stock([StockWrite("demo_1", "1:0", 7)])
    assert result.errors == []
    assert stock_row(fake, "1", "0")["quantity"] == "7"
    assert stock_row(fake, "1", "0")["out_of_stock"] == "2"  # the rest of the row sent back unchanged
    assert shop.read_stock(["1:0"], [None]) == {("1:0", None): 7}
    # Absolute: sending it again changes nothing and sends no write.
    writes = len(fake.writes)
    assert shop.write_stock([StockWrite("demo_1", "1:0", 7)]).errors == []
    assert len(fake.writes) == writes


def test_stock_location_is_refused_per_record_or_fatal_when_configured(fake: FakePrestaShop) -> None:
    result = shop_for(fake).write_stock([StockWrite("a", "1:0", 3, location="Lyon"), StockWrite("b", "2:0", 4)])
    assert [(e.key, e.field) for e in result.errors] == [("a", "location")]
    assert "b" in result.answers
    with pytest.raises(Fatal, match="one stock per shop"):
        shop_for(fake, location_fatal=True).write_stock([StockWrite("a", "1:0", 3, location="Lyon")])


def test_unknown_variant_is_a_record_error(fake: FakePrestaShop) -> None:
    result = shop_for(fake).write_stock([StockWrite("x", "999:0", 1), StockWrite("y", "nonsense", 1)])
    assert sorted(e.key for e in result.errors) == ["x", "y"]


def test_base_price_on_product_and_impact_on_combination(fake: FakePrestaShop) -> None:
    shop = shop_for(fake)
    # Captured product 1 costs 23.90; combination 1 belongs to it.
    result = shop.write_prices(
        [
            PriceWrite("c1", "1:1", Decimal("25.90"), "EUR", regular_price=Decimal("25.90")),
            PriceWrite("p2", "2:0", Decimal("30.00"), "EUR", regular_price=Decimal("30.00")),
        ]
    )
    assert result.errors == []
    assert fake.record("combinations", 1)["price"] == "2.000000"
    assert fake.record("products", 1)["price"] == "23.900000"
    assert fake.record("products", 2)["price"] == "30.000000"


def test_a_price_batch_reads_products_combinations_and_specific_prices_once(fake: FakePrestaShop) -> None:
    shop = shop_for(fake)
    writes = [PriceWrite(f"c{a}", f"1:{a}", Decimal("25.90"), "EUR") for a in (1, 2, 3)]
    writes += [PriceWrite(f"p{p}", f"{p}:0", Decimal("30.00"), "EUR") for p in (2, 3)]
    fake.requests.clear()
    assert shop.write_prices(writes).errors == []
    reads = sorted(r.url.path.rsplit("/", 1)[-1] for r in fake.requests if r.method == "GET")
    # Five variants of three products: one read of each resource for the batch, not three per variant.
    assert reads == ["combinations", "products", "specific_prices"]
    assert {fake.record("combinations", a)["price"] for a in (1, 2, 3)} == {"2.000000"}


def test_promotion_and_group_price_are_specific_prices_found_again(fake: FakePrestaShop) -> None:
    shop = shop_for(fake, groups={"Wholesale": "3"})
    promo = Promotion(
        price=Decimal("19.00"),
        starts_at=datetime(2026, 12, 1, 7, 0, tzinfo=UTC),
        ends_at=datetime(2026, 12, 24, 23, 0, tzinfo=UTC),
    )
    write = PriceWrite(
        "p2",
        "2:0",
        Decimal("30.00"),
        "EUR",
        regular_price=Decimal("30.00"),
        promotion=promo,
        group_prices=(GroupPrice("Wholesale", Decimal("24.00")),),
    )
    captured = [dict(r) for r in fake.data["specific_prices"]]
    assert shop.write_prices([write]).errors == []
    ours = [r for r in fake.data["specific_prices"] if r not in captured]
    promo_row = next(r for r in ours if r["id_group"] == "0")
    # Shop time zone (Europe/Paris): 07:00 UTC is 08:00 there; ``to`` is inclusive: the end minus 1 s.
    assert (promo_row["from"], promo_row["to"]) == ("2026-12-01 08:00:00", "2026-12-24 23:59:59")
    assert (promo_row["price"], promo_row["reduction"], promo_row["reduction_type"]) == ("19.000000", "0", "amount")
    group_row = next(r for r in ours if r["id_group"] == "3")
    assert group_row["price"] == "24.000000" and group_row["from"] == "0000-00-00 00:00:00"
    # Again: nothing written. A new group price: the row is updated, not duplicated.
    writes = len(fake.writes)
    assert shop.write_prices([write]).errors == []
    assert len(fake.writes) == writes
    cheaper = PriceWrite(
        "p2", "2:0", Decimal("30.00"), "EUR", regular_price=Decimal("30.00"), promotion=promo,
        group_prices=(GroupPrice("Wholesale", Decimal("23.00")),),
    )  # fmt: skip
    shop.write_prices([cheaper])
    assert [r["price"] for r in fake.data["specific_prices"] if r["id_group"] == "3"] == ["23.000000"]
    # The promotion gone: our row deleted, the merchant's captured rows untouched.
    shop.write_prices([PriceWrite("p2", "2:0", Decimal("30.00"), "EUR", regular_price=Decimal("30.00"))])
    assert [r for r in fake.data["specific_prices"] if r not in captured] == []
    assert fake.data["specific_prices"] == captured


def test_unknown_group_is_fatal_and_known_names_resolve(fake: FakePrestaShop) -> None:
    shop = shop_for(fake)
    write = PriceWrite("p", "1:0", Decimal("1"), "EUR", group_prices=(GroupPrice("Customer", Decimal("1")),))
    assert shop.write_prices([write]).errors == []
    assert any(r["id_group"] == "3" for r in fake.data["specific_prices"])  # "Customer" is group 3
    bad = PriceWrite("p", "1:0", Decimal("1"), "EUR", group_prices=(GroupPrice("Pros", Decimal("1")),))
    with pytest.raises(Fatal, match="Pros"):
        shop.write_prices([bad])


def test_other_currency_is_a_record_error(fake: FakePrestaShop) -> None:
    result = shop_for(fake).write_prices([PriceWrite("p", "1:0", Decimal("1"), "USD")])
    assert [(e.key, e.field) for e in result.errors] == [("p", "currency")]


def test_prices_converted_from_tax_included_keep_six_decimals(fake: FakePrestaShop) -> None:
    # 999.99 TTC at 20 %: 833.325 tax-excluded. Rounded to 833.33 the shop would show 1000.00.
    write = PriceWrite("p2", "2:0", Decimal("833.325000"), "EUR", regular_price=Decimal("833.325000"), converted=True)
    assert shop_for(fake).write_prices([write]).errors == []
    assert fake.record("products", 2)["price"] == "833.325000"


TTC = [Decimal(c) / 100 for c in range(1, 100_000, 997)] + [Decimal("19.99"), Decimal("29.95"), Decimal("999.99")]
"""Tax-included prices from 0.01 to 999.99 (a hundred of them, plus the issue's examples)."""


def ttc_record(price: Decimal, rate: str, **extra: object) -> PriceRecord:
    return PriceRecord("k", "SKU", price, "EUR", vat_rate=Decimal(rate), tax_included=True, **extra)  # type: ignore[arg-type]


def shown(net: str, rate: str) -> Decimal:
    """The tax-included price PrestaShop shows for a stored net price (rounded to the cent)."""
    return (Decimal(net) * (1 + Decimal(rate) / 100)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@pytest.mark.parametrize("rate", ["20", "10", "5.5", "2.1"])
def test_tax_included_erp_prices_reach_the_shop_to_the_cent(fake: FakePrestaShop, rate: str) -> None:
    """A TTC price list through the price flow's own conversion (tasks.prices.price_write): product
    price and combination impact are stored tax-excluded with six decimals, and the price the shop
    shows is the ERP's to the cent for every one, so no write carries a notice."""
    shop = shop_for(fake)
    caps = shop.price_capabilities
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    for price in TTC:
        simple = price_write(ttc_record(price, rate), "2:0", now, caps, key="p2")
        combo = price_write(ttc_record(price, rate), "1:1", now, caps, key="c1")
        result = shop.write_prices([simple, combo])
        assert result.errors == [] and result.notices == []
        assert shown(fake.record("products", 2)["price"], rate) == price
        stored = Decimal(fake.record("products", 1)["price"]) + Decimal(fake.record("combinations", 1)["price"])
        assert shown(str(stored), rate) == price
    if rate == "20":  # the last one, 999.99: 833.325000, not rounded to the cent (833.33 shows 1000.00)
        assert fake.record("products", 2)["price"] == "833.325000"


def test_a_tax_included_price_of_the_issue_is_stored_as_prestashop_keeps_it(fake: FakePrestaShop) -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    write = price_write(ttc_record(Decimal("19.99"), "20"), "2:0", now, shop_for(fake).price_capabilities, key="p2")
    assert shop_for(fake).write_prices([write]).errors == []
    assert fake.record("products", 2)["price"] == "16.658333"


def test_a_tax_included_group_price_is_written_tax_excluded(fake: FakePrestaShop) -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    record = ttc_record(Decimal("19.99"), "20", group_prices=[GroupPrice("Customer", Decimal("17.99"))])
    write = price_write(record, "2:0", now, shop_for(fake).price_capabilities, key="p2")
    assert shop_for(fake).write_prices([write]).errors == []
    (row,) = [r for r in fake.data["specific_prices"] if r["id_group"] == "3" and r["id_product"] == "2"]
    assert row["price"] == "14.991667"  # 17.99 / 1.2
