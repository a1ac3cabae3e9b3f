"""Shopify as an order source, against the fake (2025-01 schema, deployments/sandbox/fakes/shopify)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from connectors.base import OrderSource, ProductWrite, StatusWrite
from connectors.models import Product, Variant
from connectors.shop.shopify.catalogue import ShopifyCatalogue
from connectors.shop.shopify.client import ShopifyClient
from connectors.shop.shopify.feedback import ShopifyFeedback
from connectors.shop.shopify.orders import ShopifyOrders
from connectors.shop.shopify.settings import ShopifySettings
from connectors.shop.shopify.webhooks import parse_order_webhook
from deployments.sandbox.fakes.shopify import orders as fake_orders
from deployments.sandbox.fakes.shopify.core import SHOP, TOKEN, ShopifyFake, VirtualClock
from tasks.diff import PRODUCT_FIELDS, VARIANT_FIELDS

UTC = timezone.utc
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Shop(ShopifyOrders, ShopifyFeedback):
    """The order and feedback capabilities over one client."""


def shop(fake: ShopifyFake, clock: VirtualClock, **settings: object) -> Shop:
    client = ShopifyClient(SHOP, token=TOKEN, transport=fake.transport, sleep=clock.sleep, clock=clock.now)
    return Shop(client, ShopifySettings(url=SHOP, access_token="env:SHOPIFY_ACCESS_TOKEN", **settings))  # type: ignore[arg-type]


def setup(**kw: object) -> tuple[ShopifyFake, VirtualClock]:
    clock = VirtualClock()
    fake = ShopifyFake(clock=clock.now, **kw)  # type: ignore[arg-type]
    fake_orders.set_clock(fake, T0)
    return fake, clock


def test_window_is_half_open_and_reads_past_250_orders_oldest_first() -> None:
    fake, clock = setup()
    placed = [fake_orders.place_order(fake, lines=[("TEE-M", 1, "24.00")], at=T0) for _ in range(262)]
    for i, order in enumerate(placed):
        fake_orders.set_updated(fake, order, T0 + timedelta(seconds=i))
    source = shop(fake, clock)
    assert isinstance(source, OrderSource)

    read = list(source.iter_orders(T0 + timedelta(seconds=1), T0 + timedelta(seconds=261)))

    assert [o.shop_id for o in read] == [p["legacyResourceId"] for p in placed[1:261]]
    assert len(read) == 260 and read[0].reference == "#1002"
    assert all(e.requested_cost <= 1000 for e in fake.exchanges)
    assert fake.calls("orders") > 250 // 5
    assert list(source.iter_orders(T0 + timedelta(seconds=5), T0 + timedelta(seconds=5))) == []


def test_lines_discounts_shipping_and_taxes_included() -> None:
    fake, clock = setup()
    order = fake_orders.place_order(
        fake, lines=[("TEE-M", 2, "24.00"), ("CAP", 1, "12.00")], line_discounts={"CAP": "2.00"},
        discount_code=("WELCOME", "5.00"), shipping=("Colissimo", "6.00"),
    )  # fmt: skip
    fake_orders.pay(fake, order)
    (read,) = shop(fake, clock).get_orders([order["legacyResourceId"], "999999"])

    assert read.shop_id == order["legacyResourceId"] and read.reference == "#1001"
    assert read.issues == []
    tee, cap = read.lines
    assert (tee.sku, tee.quantity, tee.unit_price, tee.vat_rate, tee.discount) == (
        "TEE-M", Decimal(2), Decimal(20), Decimal(20), Decimal(0))  # fmt: skip
    assert cap.unit_price == Decimal(10) and cap.total_tax_included == Decimal("10.00")
    assert cap.discount > 0  # its own 2.00 discount, tax-excluded
    (welcome,) = read.discounts
    assert (welcome.code, welcome.amount_tax_included) == ("WELCOME", Decimal("5.00"))
    assert (read.shipping_method, read.shipping_price, read.shipping_price_tax_included) == (
        "Colissimo", Decimal("5.00"), Decimal("6.00"))  # fmt: skip
    assert read.total_tax_included == Decimal("59.00") and read.currency == "EUR"
    assert read.customer.email == "marie@example.com" and read.billing and read.billing.country == "FR"


def test_a_line_names_its_variant_as_the_catalogue_bound_it() -> None:
    """The import finds a line's ERP article through the variant binding the catalogue wrote."""
    fake, clock = setup()
    client = ShopifyClient(SHOP, token=TOKEN, transport=fake.transport, sleep=clock.sleep, clock=clock.now)
    catalogue = ShopifyCatalogue(client, ShopifySettings(url=SHOP, access_token="env:SHOPIFY_ACCESS_TOKEN"))
    tea = Product(key="THE", name="Thé vert", slug="the-vert", variants=[
        Variant(key="THE", sku="THE", name="Thé vert", price=Decimal("8.90"), currency="EUR", vat_rate=Decimal("5.5"))
    ])  # fmt: skip
    write = ProductWrite(tea, None, frozenset(PRODUCT_FIELDS), create_variants=["THE"],
                         variant_fields=frozenset(VARIANT_FIELDS))  # fmt: skip
    bound = catalogue.write_products([write]).refs["THE"].variant_ids["THE"]
    order = fake_orders.place_order(fake, lines=[("THE", 1, "8.90"), ("GONE", 1, "5.00")])

    (read,) = shop(fake, clock).get_orders([order["legacyResourceId"]])

    assert [line.variant_id for line in read.lines] == [bound, None]


def test_an_order_longer_than_what_one_read_holds_is_refused_never_imported_short() -> None:
    """Discount applications (10), shipping lines (5) and transactions (50) are read in one page:
    an order with more is that order's error (quarantined), never imported with a part missing."""
    fake, clock = setup()
    order = fake_orders.place_order(fake, lines=[("TEE-M", 1, "24.00")], discount_code=("WELCOME", "1.00"))
    fake_orders.pay(fake, order)
    spare = order["_applications"][0]
    order["_applications"] += [{**spare, "index": n} for n in range(1, 11)]
    order["_shipping"] += [order["_shipping"][0]] * 5
    order["_transactions"] += [order["_transactions"][0]] * 50

    (read,) = shop(fake, clock).get_orders([order["legacyResourceId"]])

    cut = sorted(issue.field for issue in read.issues if "more than" in issue.reason)
    assert cut == ["discounts", "payments", "shipping"]


def test_taxes_excluded_add_up_to_shopify_totals() -> None:
    fake, clock = setup(taxes_included=False)
    order = fake_orders.place_order(fake, lines=[("TEE-M", 3, "19.99")], discount_code=("TEN", "6.00"))
    (read,) = shop(fake, clock).get_orders([order["id"]])
    assert read.issues == []
    assert read.lines[0].unit_price == Decimal("19.99")
    assert read.discounts[0].amount == Decimal("6.00") and read.discounts[0].amount_tax_included == Decimal("7.20")
    assert read.total == Decimal("59.97") and read.total_tax_included == Decimal("71.96")


def test_authorised_is_not_paid_captured_is_and_refunds_count() -> None:
    fake, clock = setup()
    order = fake_orders.place_order(fake, lines=[("TEE-M", 1, "24.00")])
    source = shop(fake, clock)
    (unpaid,) = source.get_orders([order["id"]])
    assert [p.state for p in unpaid.payments] == ["pending"] and unpaid.paid_amount == 0

    fake_orders.authorize(fake, order)
    (held,) = source.get_orders([order["id"]])
    assert [p.state for p in held.payments] == ["authorized"] and held.paid_amount == 0

    fake_orders.capture(fake, order)
    (paid,) = source.get_orders([order["id"]])
    assert [p.state for p in paid.payments] == ["settled"] and paid.paid_amount == Decimal("30.00")

    fake_orders.refund(fake, order, "10.00")
    (refunded,) = source.get_orders([order["id"]])
    assert refunded.paid_amount == Decimal("20.00")


def test_a_cancelled_order_reads_cancelled_and_a_fulfilled_one_shipped() -> None:
    fake, clock = setup()
    first = fake_orders.place_order(fake, lines=[("TEE-M", 1, "24.00")])
    second = fake_orders.place_order(fake, lines=[("TEE-M", 1, "24.00")])
    fake_orders.pay(fake, first)
    sink = shop(fake, clock)
    sink.write_statuses([StatusWrite(first["legacyResourceId"], "cancelled")])
    (read,) = sink.get_orders([first["legacyResourceId"]])
    assert read.cancelled and read.state == "cancelled"
    assert [p.state for p in read.payments] == ["settled"]  # passerelle cancels without refunding
    assert sink.read_statuses([first["legacyResourceId"], second["legacyResourceId"]]) == {
        first["legacyResourceId"]: "cancelled", second["legacyResourceId"]: "open"}  # fmt: skip


def test_an_order_with_more_lines_than_a_page_is_read_whole() -> None:
    fake, clock = setup()
    order = fake_orders.place_order(fake, lines=[(f"SKU-{i:02}", 1, "12.00") for i in range(23)], shipping=None)
    (read,) = shop(fake, clock).get_orders([order["legacyResourceId"]])
    assert [line.sku for line in read.lines] == [f"SKU-{i:02}" for i in range(23)]
    assert read.issues == [] and fake.calls("order") == 1  # one more page of line items (50 per page)


def test_a_webhook_names_the_order_get_orders_reads() -> None:
    fake, clock = setup()
    order = fake_orders.place_order(fake, lines=[("TEE-M", 1, "24.00")])
    body = json.dumps({"id": int(order["legacyResourceId"]), "admin_graphql_api_id": order["id"]}).encode()
    gid = parse_order_webhook("orders/paid", body)
    assert gid is not None
    assert [o.reference for o in shop(fake, clock).get_orders([gid])] == ["#1001"]
