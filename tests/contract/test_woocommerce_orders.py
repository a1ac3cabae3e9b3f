"""WooCommerce as an order source, against a fake that keeps the rules of a real WooCommerce 11.0.

The payloads are the captured ones (``shared/contracts/woocommerce-11.0/orders.json``) and the
official documentation's examples (``woocommerce-docs``), plus copies of the captured order with the
parts a real checkout adds (taxes at 20 %, shipping, a coupon, a refund, a fee).
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from connectors.base import OrderSource
from connectors.errors import Fatal, Retryable
from connectors.http import HttpError
from connectors.models import Order
from connectors.shop.woocommerce import WooCommerceShop, build
from connectors.shop.woocommerce.client import WooCommerceClient
from connectors.shop.woocommerce.order_mapper import map_order
from deployments.sandbox.fakes.woocommerce_fake import CONTRACTS, KEY, SECRET, SITE, FakeWooCommerce, load, make_order

UTC = timezone.utc
BASE: dict[str, Any] = load("orders.json")[0]
"""The captured order 14: a guest, one variation, no tax, paid, processing."""

FR_ADDRESS = {
    "first_name": "Marie",
    "last_name": "Curie",
    "company": "Radium SARL",
    "address_1": "1 rue Pierre et Marie Curie",
    "address_2": "",
    "city": "Paris",
    "state": "",
    "postcode": "75005",
    "country": "FR",
    "phone": "+33 1 23 45 67 89",
}
TVA = {"id": 40, "rate_code": "FR-TVA-1", "rate_id": 1, "label": "TVA", "compound": False, "tax_total": "9.00",
       "shipping_tax_total": "1.00", "rate_percent": 20, "meta_data": []}  # fmt: skip


def taxed_order(ident: int = 21, modified: str = "2026-11-23T08:00:00") -> dict[str, Any]:
    """A registered customer's order: 2 x 25.00 at 20 % VAT, a 10 % coupon, 5.00 shipping."""
    line = copy.deepcopy(BASE["line_items"][0])
    line.update(id=31, name="Peer variable hoodie - M", variation_id=12, quantity=2, sku="PEER-HOODIE-M",
                subtotal="50.00", subtotal_tax="10.00", total="45.00", total_tax="9.00", price=25,
                taxes=[{"id": 1, "total": "9", "subtotal": "10"}])  # fmt: skip
    return make_order(
        BASE, ident, modified,
        status="completed", customer_id=7,
        billing={**FR_ADDRESS, "email": "marie@example.com"}, shipping=dict(FR_ADDRESS),
        line_items=[line], tax_lines=[TVA],
        shipping_lines=[{"id": 41, "method_title": "Colissimo", "method_id": "flat_rate", "instance_id": "1",
                         "total": "5.00", "total_tax": "1.00", "taxes": [{"id": 1, "total": "1", "subtotal": ""}],
                         "meta_data": []}],
        coupon_lines=[{"id": 42, "code": "welcome10", "discount": "5.00", "discount_tax": "1.00", "meta_data": []}],
        discount_total="5.00", discount_tax="1.00", shipping_total="5.00", shipping_tax="1.00", cart_tax="9.00",
        total="60.00", total_tax="10.00",
        payment_method="stripe", payment_method_title="Credit card", transaction_id="pi_123",
        date_paid_gmt="2026-11-23T07:59:00",
    )  # fmt: skip


def docs_orders() -> list[dict[str, Any]]:
    """The orders of the official docs' "List all orders" example (a tax rate without rate_percent, refunds)."""
    doc = json.loads((CONTRACTS / "woocommerce-docs" / "docs_examples" / "orders.json").read_text(encoding="utf-8"))
    section = next(s for s in doc["sections"] if s["section"] == "List all orders")
    return list(next(e["json"] for e in section["examples"] if e["kind"] == "response"))


def catalogue() -> list[dict[str, Any]]:
    return [
        *load("orders.json"),
        taxed_order(),
        make_order(
            BASE,
            22,
            "2026-11-23T09:00:00",
            status="refunded",
            refunds=[{"id": 50, "reason": "damaged", "total": "-39.00"}],
        ),
        make_order(BASE, 23, "2026-11-23T10:00:00", status="on-hold", date_paid_gmt=None, payment_method="bacs"),
        make_order(BASE, 24, "2026-11-23T11:00:00", status="cancelled", date_paid_gmt=None),
        make_order(BASE, 25, "2026-11-23T12:00:00", status="checkout-draft", date_paid_gmt=None),
    ]


def shop_on(fake: FakeWooCommerce, *, key: str = KEY, secret: str = SECRET, **options: Any) -> WooCommerceShop:
    options.setdefault("backoff", 0.0)
    client = WooCommerceClient(SITE, consumer_key=key, consumer_secret=secret, transport=fake.transport, **options)
    return WooCommerceShop(client)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _sums(order: Order) -> tuple[Decimal, Decimal]:
    lines = sum((line.total for line in order.lines), Decimal(0))
    lines_ti = sum((line.total_tax_included for line in order.lines), Decimal(0))
    discounts = sum((d.amount for d in order.discounts), Decimal(0))
    discounts_ti = sum((d.amount_tax_included for d in order.discounts), Decimal(0))
    return (
        lines + order.shipping_price - discounts,
        lines_ti + order.shipping_price_tax_included - discounts_ti,
    )


# -- mapping ------------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [*catalogue()[:-1], *docs_orders()], ids=lambda p: f"order-{p['id']}-{p['status']}")
def test_every_order_maps_without_issues_and_adds_up(payload: dict[str, Any]) -> None:
    order = map_order(payload)
    assert order.issues == []
    assert _sums(order) == (order.total, order.total_tax_included)
    assert order.total_tax_included == Decimal(payload["total"])
    for line in order.lines:
        assert line.total == line.quantity * line.unit_price - line.discount
        assert isinstance(line.unit_price, Decimal) and line.vat_rate is not None


def test_captured_guest_order() -> None:
    order = map_order(BASE)
    assert (order.shop_id, order.reference, order.state, order.currency) == ("14", "14", "processing", "EUR")
    assert order.customer.guest and order.customer.email == "jean@example.com"
    assert order.created_at == order.updated_at == datetime(2026, 11, 22, 21, 43, 14, tzinfo=UTC)
    (line,) = order.lines
    assert (line.sku, line.variant_id, line.quantity, line.unit_price, line.vat_rate) == (
        "PEER-HOODIE-S", "10/11", Decimal(1), Decimal("39.00"), Decimal(0)
    )  # fmt: skip
    assert order.billing is None  # the capture has a country and nothing else
    (payment,) = order.payments
    assert (payment.state, payment.amount, payment.paid_at) == ("settled", Decimal("39.00"), at("2026-11-22T21:43:14"))


def test_gmt_times_are_read_not_local_ones() -> None:
    order = map_order(make_order(BASE, 30, "2026-03-29T01:30:00"))
    assert order.updated_at == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_coupon_taxes_and_shipping() -> None:
    order = map_order(taxed_order())
    assert order.customer.shop_id == "7" and not order.customer.guest
    assert order.billing is not None and order.billing.country == "FR" and order.billing.city == "Paris"
    (line,) = order.lines
    assert (line.unit_price, line.total, line.total_tax_included, line.discount) == (
        Decimal("25.00"), Decimal("50.00"), Decimal("60.00"), Decimal(0)
    )  # fmt: skip
    assert line.vat_rate == Decimal(20) and line.variant_id == "10/12"
    (coupon,) = order.discounts
    assert (coupon.code, coupon.amount, coupon.amount_tax_included) == ("welcome10", Decimal("5.00"), Decimal("6.00"))
    assert (order.shipping_method, order.shipping_price, order.shipping_price_tax_included) == (
        "Colissimo", Decimal("5.00"), Decimal("6.00")
    )  # fmt: skip
    assert order.shipping_vat_rate == Decimal(20)
    assert (order.total, order.total_tax_included) == (Decimal("50.00"), Decimal("60.00"))
    assert order.payments[0].transaction_id == "pi_123" and order.payments[0].method == "stripe"


def test_coupon_rounding_cent_goes_to_the_coupon() -> None:
    payload = taxed_order()
    payload["coupon_lines"][0].update(discount="4.99", discount_tax="1.01")  # WooCommerce's own rounding
    order = map_order(payload)
    assert order.issues == []
    assert (order.discounts[0].amount, order.discounts[0].amount_tax_included) == (Decimal("5.00"), Decimal("6.00"))


def test_unit_price_that_does_not_divide_keeps_the_line_total() -> None:
    payload = make_order(BASE, 45, "2026-11-23T10:00:00")
    payload["line_items"][0].update(quantity=3, subtotal="10.00", total="10.00", price=3.3333333)
    order = map_order({**payload, "total": "10.00"})
    (line,) = order.lines
    assert line.unit_price == Decimal("3.333334") and line.discount == Decimal("0.000002")
    assert line.total == Decimal("10.00") == line.quantity * line.unit_price - line.discount
    assert order.issues == []


def test_refund_becomes_a_refunded_payment() -> None:
    order = map_order(catalogue()[2])
    assert [(p.state, p.amount) for p in order.payments] == [
        ("settled", Decimal("39.00")),
        ("refunded", Decimal("39.00")),
    ]
    assert order.paid_amount == 0 and not order.cancelled


@pytest.mark.parametrize(
    ("status", "state", "cancelled"),
    [("on-hold", "pending", False), ("pending", "pending", False), ("cancelled", "cancelled", True),
     ("failed", "declined", False), ("completed", "settled", False)],
)  # fmt: skip
def test_status_gives_payment_state(status: str, state: str, cancelled: bool) -> None:
    order = map_order(make_order(BASE, 40, "2026-11-23T10:00:00", status=status))
    assert order.payments[0].state == state and order.cancelled is cancelled


def test_positive_fee_is_an_issue_negative_fee_a_discount() -> None:
    fee = {"id": 60, "name": "Gift wrap", "tax_class": "", "tax_status": "none", "total": "3.00", "total_tax": "0.00"}
    charged = map_order(make_order(BASE, 41, "2026-11-23T10:00:00", fee_lines=[fee], total="42.00"))
    assert [i.field for i in charged.issues] == ["fee_lines"]
    reduced = map_order(
        make_order(BASE, 42, "2026-11-23T10:00:00", fee_lines=[{**fee, "total": "-4.00"}], total="35.00")
    )
    assert reduced.issues == [] and reduced.discounts[0].amount == Decimal("4.00")


def test_totals_that_do_not_add_up_are_an_issue() -> None:
    order = map_order(make_order(BASE, 43, "2026-11-23T10:00:00", total="40.00"))
    assert {i.field for i in order.issues} == {"total", "total_tax_included"}


def test_unknown_status_and_bad_country_are_issues() -> None:
    payload = make_order(BASE, 44, "2026-11-23T10:00:00", status="checkout-draft")
    payload["billing"] = {**FR_ADDRESS, "country": "France", "email": "x@example.com"}
    assert {i.field for i in map_order(payload).issues} == {"status", "billing.country"}


# -- the source against the fake ------------------------------------------------------------------


def test_shop_is_an_order_source() -> None:
    shop = shop_on(FakeWooCommerce())
    assert isinstance(shop, OrderSource) and shop.platform == "WooCommerce"


def test_window_is_half_open_in_utc_and_skips_checkout_drafts() -> None:
    fake = FakeWooCommerce(catalogue())
    shop = shop_on(fake)
    ids = [o.shop_id for o in shop.iter_orders(at("2026-11-23T08:00:00"), at("2026-11-23T11:00:00"))]
    assert ids == ["21", "22", "23"]  # 08:00 in, 11:00 out
    assert [o.shop_id for o in shop.iter_orders(at("2026-11-23T11:00:00"), None)] == ["24"]  # no draft
    assert [o.shop_id for o in shop.iter_orders(None, None)] == ["14", "21", "22", "23", "24"]
    sent = fake.order_requests()[0]
    assert sent["dates_are_gmt"] == "true" and sent["orderby"] == "modified" and sent["order"] == "asc"
    assert "checkout-draft" not in sent["status"]


def test_split_windows_have_no_gap_and_no_overlap() -> None:
    shop = shop_on(FakeWooCommerce(catalogue()))
    a, m, b = at("2026-11-22T00:00:00"), at("2026-11-23T09:00:00"), at("2026-11-24T00:00:00")
    left = [o.shop_id for o in shop.iter_orders(a, m)]
    right = [o.shop_id for o in shop.iter_orders(m, b)]
    assert left + right == [o.shop_id for o in shop.iter_orders(a, b)] and not set(left) & set(right)
    assert list(shop.iter_orders(b, a)) == []


def _many(count: int, step: timedelta = timedelta(minutes=1)) -> list[dict[str, Any]]:
    start = datetime(2026, 11, 23, 8, 0)
    return [make_order(BASE, 100 + i, (start + i * step).isoformat()) for i in range(count)]


def test_pagination_across_pages() -> None:
    fake = FakeWooCommerce(list(reversed(_many(25))))
    shop = shop_on(fake)
    shop.per_page = 10
    got = [o.shop_id for o in shop.iter_orders(None, None)]
    assert got == [str(100 + i) for i in range(25)]
    sent = [(p.get("modified_after"), p["page"], p["per_page"]) for p in fake.order_requests()]
    assert sent == [(None, "1", "10"), ("2026-11-23T08:08:59", "1", "10"), ("2026-11-23T08:17:59", "1", "10")]


def test_an_order_modified_while_listing_does_not_hide_another() -> None:
    fake = FakeWooCommerce(_many(25))
    shop = shop_on(fake)
    shop.per_page = 10

    def edit_order_100(server: FakeWooCommerce) -> None:
        order = next(o for o in server.orders if o["id"] == 100)
        order.update(date_modified_gmt="2026-11-23T09:00:00", date_modified="2026-11-23T10:00:00")

    fake.after_request = edit_order_100
    got = [o.shop_id for o in shop.iter_orders(at("2026-11-23T08:00:00"), None)]
    assert got == [str(100 + i) for i in range(1, 25)] + ["100"]


def test_a_full_page_within_one_second_falls_back_to_page_numbers() -> None:
    fake = FakeWooCommerce(_many(25, step=timedelta(0)))
    shop = shop_on(fake)
    shop.per_page = 10
    got = [o.shop_id for o in shop.iter_orders(at("2026-11-23T08:00:00"), at("2026-11-23T08:00:01"))]
    assert sorted(got) == [str(100 + i) for i in range(25)] and len(got) == 25


def test_get_orders_by_id() -> None:
    fake = FakeWooCommerce(catalogue())
    found = shop_on(fake).get_orders(["21", "999", "14", "25", "21"])
    assert [o.shop_id for o in found] == ["21", "14"]
    assert fake.order_requests()[0]["include"] == "21,999,14,25"


def test_the_fake_ignores_an_undeclared_parameter_and_refuses_a_declared_one_out_of_its_enum() -> None:
    """As WordPress: an unknown filter is ignored (every order comes back), a bad value of a known one is a 400."""
    client = WooCommerceClient(SITE, consumer_key=KEY, consumer_secret=SECRET, transport=FakeWooCommerce().transport)
    ignored = client.get("orders", {"modified_since": "2030-01-01T00:00:00"})
    assert ignored.status_code == 200 and [o["id"] for o in ignored.json()] == [o["id"] for o in load("orders.json")]
    with pytest.raises(HttpError) as caught:
        client.get("orders", {"orderby": "date_modified"})  # not in the route's enum
    assert caught.value.status == 400 and "rest_invalid_param" in caught.value.body


def test_bad_key_is_fatal_with_a_resolution_and_no_secret() -> None:
    shop = shop_on(FakeWooCommerce(), secret="cs_wrong_secret_value")
    with pytest.raises(Fatal) as caught:
        list(shop.iter_orders(None, None))
    message = str(caught.value)
    assert "401" in message and "woocommerce_rest_cannot_view" in message
    assert "REST API" in caught.value.resolution and "Read" in caught.value.resolution
    assert "cs_wrong_secret_value" not in message and KEY not in message


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retryable(status: int) -> None:
    fake = FakeWooCommerce()
    fake.fail_with = status
    shop = shop_on(fake, max_retries=2)
    with pytest.raises(Retryable):
        shop.get_orders(["14"])
    assert len(fake.requests) == 3  # a GET is retried in place first


def test_plain_http_is_refused_before_sending_the_secret() -> None:
    fake = FakeWooCommerce()
    with pytest.raises(Fatal, match="OAuth 1.0a"):
        WooCommerceClient(
            "http://shop.example.test", consumer_key=KEY, consumer_secret=SECRET, transport=fake.transport
        )
    assert fake.requests == []


def test_oauth1_over_plain_http() -> None:
    fake = FakeWooCommerce(catalogue())
    client = WooCommerceClient(
        "http://shop.example.test:8080",
        consumer_key=KEY,
        consumer_secret=SECRET,
        auth="oauth1",
        transport=fake.transport,
    )
    shop = WooCommerceShop(client)
    assert [o.shop_id for o in shop.iter_orders(at("2026-11-23T08:00:00"), None)] == ["21", "22", "23", "24"]
    assert [o.shop_id for o in shop.get_orders(["14"])] == ["14"]
    sent = fake.requests[0].url
    assert sent.scheme == "http" and "Authorization" not in fake.requests[0].headers
    assert SECRET not in str(sent) and sent.params["oauth_signature_method"] == "HMAC-SHA256"


def test_oauth1_bad_secret_is_fatal_and_basic_over_http_refused() -> None:
    fake = FakeWooCommerce()
    wrong = WooCommerceShop(
        WooCommerceClient(
            "http://shop.example.test",
            consumer_key=KEY,
            consumer_secret="cs_wrong",
            auth="oauth1",
            transport=fake.transport,
        )
    )
    with pytest.raises(Fatal, match="Invalid signature") as caught:
        wrong.get_orders(["14"])
    assert KEY not in str(caught.value) and "oauth_signature" not in str(caught.value)
    with pytest.raises(Fatal, match="only over plain HTTP"):
        WooCommerceClient(SITE, consumer_key=KEY, consumer_secret=SECRET, auth="oauth1", transport=fake.transport)


def test_build_resolves_secrets() -> None:
    class Resolver:
        def secret(self, option: str) -> str | None:
            return {"consumer_key": KEY, "consumer_secret": SECRET}.get(option)

        def path(self, value: str) -> str:
            return value

    options = {"url": SITE, "consumer_key": "env:WC_KEY", "consumer_secret": "env:WC_SECRET"}
    shop = build(options, Resolver())
    assert isinstance(shop, OrderSource) and shop.client.http.base_url == f"{SITE}/wp-json/wc/v3/"

    class Empty(Resolver):
        def secret(self, option: str) -> str | None:
            return None

    with pytest.raises(Fatal, match="consumer key"):
        build(options, Empty())
