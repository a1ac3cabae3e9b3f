"""PrestaShop order source against a fake webservice serving the captured PrestaShop 8.2 samples
(deployments/sandbox/fakes/prestashop_fake.py enforces the real server's rules)."""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest

from connectors.base import OrderSource
from connectors.errors import Fatal, Retryable
from connectors.shop.prestashop.client import PrestaShopClient
from connectors.shop.prestashop.factory import PrestaShopShop, build
from deployments.sandbox.fakes.prestashop_fake import FakePrestaShop

KEY = "ZQ88PRJX5VWQHCWE4EE7SQ7HPNX00RAJ"
UTC = timezone.utc


@pytest.fixture
def fake() -> FakePrestaShop:
    return FakePrestaShop(KEY)


def shop_for(fake: FakePrestaShop, key: str = KEY, **options: Any) -> PrestaShopShop:
    client = PrestaShopClient(
        "http://shop.test", key, allow_insecure_http=True, transport=fake.transport(), max_retries=0, backoff=0
    )
    return PrestaShopShop(client, **options)


def add_order(fake: FakePrestaShop, base: int, ident: int, **changes: Any) -> dict[str, Any]:
    """A new order (and its order_details) built from captured order ``base``."""
    order = copy.deepcopy(fake.record("orders", base))
    order.update(id=ident, **changes)
    fake.data["orders"].append(order)
    for detail in [d for d in fake.data["order_details"] if d["id_order"] == str(base)]:
        clone = copy.deepcopy(detail)
        clone.update(id=ident * 100 + clone["id"], id_order=str(ident))
        fake.data["order_details"].append(clone)
    for row in order["associations"]["order_rows"]:
        row["id"] = str(ident * 100 + int(row["id"]))
    return order


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def parts_add_up(order: Any) -> bool:
    excl = sum(line.total for line in order.lines) + order.shipping_price - sum(d.amount for d in order.discounts)
    incl = (
        sum(line.total_tax_included for line in order.lines)
        + order.shipping_price_tax_included
        - sum(d.amount_tax_included for d in order.discounts)
    )
    return excl == order.total and incl == order.total_tax_included


def test_every_captured_order_maps_without_issues(fake: FakePrestaShop) -> None:
    orders = list(shop_for(fake).iter_orders(None, None))
    assert [o.shop_id for o in orders] == ["1", "2", "3"]
    for order in orders:
        assert order.issues == [], order.issues
        assert parts_add_up(order)
        assert order.currency == "EUR"
        assert order.billing is not None and order.billing.country == "FR"
        assert order.customer.email == "pub@prestashop.com" and order.customer.shop_id == "2"
    first = orders[0]
    assert first.reference == "XKBKNABJK"
    assert [(line.sku, line.variant_id, line.quantity, line.unit_price) for line in first.lines] == [
        ("demo_1", "1:1", Decimal(1), Decimal("23.90")),
        ("demo_3", "2:9", Decimal(1), Decimal("35.90")),
    ]
    assert (first.shipping_method, first.shipping_price, first.shipping_price_tax_included) == (
        "My carrier",
        Decimal("7.00"),
        Decimal("8.40"),
    )
    assert first.shipping_vat_rate == Decimal(20)  # carrier_tax_rate says 0: the amounts say 20 %
    mug = orders[1].lines[1]
    assert (mug.sku, mug.variant_id) == ("demo_13", "8:0")  # no combination: "<product>:0"
    # 2026-11-22 22:39:21 in Paris (UTC+1)
    assert first.created_at == utc(2026, 11, 22, 21, 39, 21)


def test_line_tax_rate_from_unrounded_unit_prices(fake: FakePrestaShop) -> None:
    order = add_order(fake, 3, 15, total_paid_tax_excl="7.990000", total_paid_tax_incl="9.590000")
    order["associations"]["order_rows"][0].update(unit_price_tax_excl="0.990000", unit_price_tax_incl="1.188000")
    detail = next(d for d in fake.data["order_details"] if d["id_order"] == "15")
    detail.update(
        unit_price_tax_excl="0.990000",
        unit_price_tax_incl="1.188000",
        total_price_tax_excl="0.990000",
        total_price_tax_incl="1.190000",
    )
    (mapped,) = shop_for(fake).get_orders(["15"])
    assert mapped.lines[0].vat_rate == Decimal(20)  # 1.19 / 0.99 would say 20.20 %
    assert mapped.issues == []


def test_totals_that_do_not_add_up_are_an_issue(fake: FakePrestaShop) -> None:
    fake.record("orders", 2)["total_paid_tax_incl"] = "170.000000"
    (order,) = shop_for(fake).get_orders(["2"])
    assert [issue.field for issue in order.issues] == ["total_paid_tax_incl"]


def test_guest_order(fake: FakePrestaShop) -> None:
    guest = copy.deepcopy(fake.record("customers", 2))
    guest.update(id=3, is_guest="1", email="guest@example.com", firstname="Gus")
    fake.data["customers"].append(guest)
    add_order(fake, 2, 10, id_customer="3", reference="GUESTORDR")
    (order,) = shop_for(fake).get_orders(["10"])
    assert order.customer.guest and order.customer.shop_id is None
    assert order.customer.email == "guest@example.com"
    assert order.issues == []


def test_order_level_discount(fake: FakePrestaShop) -> None:
    add_order(
        fake,
        1,
        11,
        total_discounts="6.000000",
        total_discounts_tax_excl="5.000000",
        total_discounts_tax_incl="6.000000",
        total_paid_tax_excl="61.800000",
        total_paid_tax_incl="62.200000",
        total_paid="62.200000",
    )
    (order,) = shop_for(fake).get_orders(["11"])
    assert [(d.amount, d.amount_tax_included) for d in order.discounts] == [(Decimal("5.00"), Decimal("6.00"))]
    assert order.issues == [] and parts_add_up(order)


def test_payment_state_follows_the_order_state(fake: FakePrestaShop) -> None:
    payment = {
        "id": 1,
        "order_reference": "PAIDORDER",
        "id_currency": "1",
        "amount": "169.900000",
        "payment_method": "Payment by check",
        "conversion_rate": "1.000000",
        "transaction_id": "CHK-42",
        "card_number": "",
        "card_brand": "",
        "card_expiration": "",
        "card_holder": "",
        "date_add": "2026-11-23 10:00:00",
        "id_employee": "1",
    }
    fake.data["order_payments"] += [payment, {**payment, "id": 2, "order_reference": "OHSATSERP"}]
    add_order(fake, 2, 12, reference="PAIDORDER", current_state="2")  # captured state: paid = 1
    paid, unpaid, error = shop_for(fake).get_orders(["12", "2", "3"])
    assert [(p.state, p.amount, p.transaction_id) for p in paid.payments] == [("settled", Decimal("169.90"), "CHK-42")]
    assert paid.paid_amount == Decimal("169.90") and paid.state == "Payment accepted"
    assert paid.payments[0].paid_at == utc(2026, 11, 23, 9)
    assert [p.state for p in unpaid.payments] == ["pending"] and unpaid.paid_amount == 0
    assert error.state == "Payment error" and not error.cancelled
    # no order_payments row: one payment of the total by the order's payment module
    assert [(p.method, p.amount, p.state) for p in error.payments] == [
        ("Payment by check", Decimal("21.30"), "declined")
    ]
    assert error.paid_amount == 0


def test_refunded_state_gives_the_money_back(fake: FakePrestaShop) -> None:
    fake.record("orders", 2)["current_state"] = "7"
    fake.data["order_payments"].append(
        {"id": 4, "order_reference": "OHSATSERP", "amount": "169.900000", "payment_method": "Card",
         "transaction_id": "T2", "date_add": "2026-11-22 22:39:21", "id_currency": "1"}
    )  # fmt: skip
    (order,) = shop_for(fake).get_orders(["2"])
    assert [(p.state, p.amount) for p in order.payments] == [
        ("settled", Decimal("169.90")),
        ("refunded", Decimal("169.90")),
    ]
    assert order.paid_amount == 0 and order.state == "Refunded" and not order.cancelled


def test_cancelled_state(fake: FakePrestaShop) -> None:
    cancelled, pending = shop_for(fake).get_orders(["1", "2"])
    assert cancelled.cancelled and cancelled.state == "Canceled"
    assert [p.state for p in cancelled.payments] == ["cancelled"]
    assert not pending.cancelled
    assert [(p.method, p.amount, p.state) for p in pending.payments] == [
        ("Payment by check", Decimal("169.90"), "pending")
    ]


def test_two_orders_of_one_cart_stay_two_orders(fake: FakePrestaShop) -> None:
    add_order(fake, 3, 13, reference="XKBKNABJK", id_cart="1")  # same cart and reference as order 1
    fake.record("orders", 1)["current_state"] = "2"
    fake.record("orders", 13)["current_state"] = "2"
    fake.data["order_payments"].append(
        {"id": 3, "order_reference": "XKBKNABJK", "amount": "89.500000", "payment_method": "Card",
         "transaction_id": "T1", "date_add": "2026-11-22 22:39:21", "id_currency": "1"}
    )  # fmt: skip
    orders = list(shop_for(fake).iter_orders(None, None))
    same = [o for o in orders if o.reference == "XKBKNABJK"]
    assert sorted(o.shop_id for o in same) == ["1", "13"]
    # The cart's one payment (68.20 + 21.30) is shared out, not counted twice.
    assert sorted(o.paid_amount for o in same) == [Decimal("21.30"), Decimal("68.20")]
    assert all(o.issues == [] for o in same)


def test_repeated_autumn_hour_is_read_by_the_right_windows(fake: FakePrestaShop) -> None:
    # 2026-10-25 02:30 in Paris happens twice: 00:30 UTC (CEST) and 01:30 UTC (CET).
    add_order(fake, 3, 14, date_upd="2026-10-25 02:30:00", date_add="2026-10-25 02:30:00")
    shop = shop_for(fake)

    def ids(since: datetime, until: datetime) -> list[str]:
        return [o.shop_id for o in shop.iter_orders(since, until)]

    assert ids(utc(2026, 10, 25, 0), utc(2026, 10, 25, 1)) == ["14"]
    assert ids(utc(2026, 10, 25, 1), utc(2026, 10, 25, 2)) == ["14"]
    assert ids(utc(2026, 10, 24, 23), utc(2026, 10, 25, 0)) == []
    assert ids(utc(2026, 10, 25, 2), utc(2026, 10, 25, 3)) == []
    # both bounds inside the repeated hour: a naive filter would read an empty interval
    assert ids(utc(2026, 10, 25, 0, 15), utc(2026, 10, 25, 0, 45)) == ["14"]
    (order,) = shop.get_orders(["14"])
    assert order.updated_at == utc(2026, 10, 25, 0, 30)  # first occurrence


def test_window_is_half_open_and_uses_paris_time(fake: FakePrestaShop) -> None:
    shop = shop_for(fake)
    at = utc(2026, 11, 22, 21, 39, 21)  # the captured orders' date_upd in UTC
    assert [o.shop_id for o in shop.iter_orders(at, None)] == ["1", "2", "3"]
    assert list(shop.iter_orders(None, at)) == []
    listing = fake.requests[-1].url.params  # the last window: only a listing, nothing to read
    assert listing["filter[date_upd]"] == "[1970-01-01 00:00:00,2026-11-23 01:39:21]"
    assert listing["date"] == "1" and listing["sort"] == "[date_upd_ASC,id_ASC]"


def test_listing_pages_by_keyset_without_offsets(fake: FakePrestaShop) -> None:
    for ident, minute in ((20, 1), (21, 2), (22, 2), (23, 3)):
        add_order(fake, 2, ident, date_upd=f"2026-11-23 10:0{minute}:00", reference=f"REF{ident}")
    shop = shop_for(fake)
    shop.order_list_take = 2
    ids = [o.shop_id for o in shop.iter_orders(utc(2026, 11, 23, 9), None)]
    assert ids == ["20", "21", "22", "23"]
    listings = [r.url.params for r in fake.requests if r.url.params.get("display") == "[id,date_upd]"]
    assert {p["limit"] for p in listings} == {"0,3"}
    # each answer starts at the date_upd of the one record past the previous answer, inclusive
    starts = [p["filter[date_upd]"].split(",")[0] for p in listings]
    assert starts == ["[2026-11-23 07:00:00", "[2026-11-23 10:02:00", "[2026-11-23 10:03:00"]


def test_get_orders_leaves_unknown_ids_out(fake: FakePrestaShop) -> None:
    orders = shop_for(fake).get_orders(["3", "999", "1"])
    assert [o.shop_id for o in orders] == ["3", "1"]  # in the order asked
    assert fake.requests[0].url.params["filter[id]"] == "[3|999|1]"


def test_wrong_key_is_fatal_with_the_permissions_to_grant(fake: FakePrestaShop) -> None:
    with pytest.raises(Fatal) as error:
        shop_for(fake, key="WRONGKEYWRONGKEYWRONGKEYWRONGKEY").get_orders(["1"])
    assert "401" in str(error.value)
    assert "order_payments" in error.value.resolution and "GET" in error.value.resolution
    assert "WRONGKEY" not in str(error.value)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retryable(fake: FakePrestaShop, status: int) -> None:
    fake.fail = [status]
    with pytest.raises(Retryable):
        shop_for(fake).get_orders(["1"])


def test_fake_enforces_the_servers_rules(fake: FakePrestaShop) -> None:
    client = PrestaShopClient(
        "http://shop.test", KEY, allow_insecure_http=True, transport=fake.transport(), max_retries=0
    )
    with pytest.raises(Fatal, match="date=1"):
        client.get("orders", filters={"date_upd": "[2026-01-01 00:00:00,2026-12-31 00:00:00]"})
    with pytest.raises(Fatal, match="does not exist"):
        client.get("orders", filters={"updated_at": "[1]"})
    with pytest.raises(Fatal, match='400.*Resource of type .*"paniers.* does not exists'):
        client.get("paniers")  # WebserviceRequest::checkResource: 400, code 27
    assert client.get("order_payments") == []  # an empty list answers a bare []
    raw = httpx.Client(transport=fake.transport(), base_url="http://shop.test/api/")
    assert raw.get("orders", params={"ws_key": KEY}).status_code == 400  # XML is not served here
    assert raw.get("orders", params={"ws_key": KEY, "output_format": "JSON", "limit": "0-10"}).status_code == 400
    assert raw.get("orders", params={"output_format": "JSON"}).text == "401 Unauthorized"
    assert raw.get("orders", params={"ws_key": KEY, "output_format": "JSON", "limit": "1,1"}).json() == {
        "orders": [{"id": 2}]
    }


def test_a_server_error_is_retried_in_place_first(fake: FakePrestaShop) -> None:
    fake.fail = [503]
    client = PrestaShopClient(
        "http://shop.test", KEY, allow_insecure_http=True, transport=fake.transport(), max_retries=1, backoff=0
    )
    assert [r["id"] for r in client.get("orders", display=["id"])] == [1, 2, 3]
    assert len(fake.requests) == 2


def test_shop_is_an_order_source(fake: FakePrestaShop) -> None:
    class Resolver:
        def secret(self, option: str) -> str | None:
            return KEY if option == "key" else None

        def path(self, value: str) -> str:
            return value

    shop = build({"url": "https://shop.example.com", "key": "env:PRESTASHOP_KEY"}, Resolver())
    assert isinstance(shop, OrderSource) and shop.platform == "PrestaShop"
    assert shop.client.http.base_url == "https://shop.example.com/api/"
    with pytest.raises(ValueError, match="time zone"):
        build({"url": "https://x", "key": "env:K", "timezone": "Europe/Pariss"}, Resolver())
    shop.close()
