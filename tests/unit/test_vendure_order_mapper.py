"""Vendure orders -> canonical Orders, from payloads recorded on the real sandbox
(tests/fixtures/vendure-3.7/orders/, see their "captured" line), plus the edge cases a real shop
can send (unknown country, surcharges, rounding), the window filter and the order source's
requests (against a small fake Admin API that evaluates the filters)."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import build_schema, parse, validate

from connectors.errors import Fatal
from connectors.models import Order
from connectors.shop.vendure import orders as vendure_orders
from connectors.shop.vendure.client import VendureClient
from connectors.shop.vendure.factory import VendureShop
from connectors.shop.vendure.order_mapper import (
    changed_at,
    map_order,
    parse_time,
    shipping_vat_rate,
    split_full_name,
)
from connectors.shop.vendure.orders import gql_time, window_filter
from deployments.sandbox import vendure_ops

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vendure-3.7"
UTC = timezone.utc


def recorded(name: str) -> dict[str, Any]:
    payload = json.loads((FIXTURES / "orders" / f"{name}.json").read_text())
    assert payload["captured"].startswith("Vendure 3.7.3 sandbox")
    return dict(payload["order"])


def sums_up(order: Order) -> bool:
    lines = sum((line.total for line in order.lines), D(0))
    lines_tax = sum((line.total_tax_included for line in order.lines), D(0))
    discounts = sum((d.amount for d in order.discounts), D(0))
    discounts_tax = sum((d.amount_tax_included for d in order.discounts), D(0))
    return (
        lines + order.shipping_price - discounts == order.total
        and lines_tax + order.shipping_price_tax_included - discounts_tax == order.total_tax_included
    )


# -- documents --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("api", "documents"),
    [
        ("admin-api", vendure_orders.DOCUMENTS),
        ("admin-api", vendure_ops.ADMIN_DOCUMENTS),
        ("shop-api", vendure_ops.SHOP_DOCUMENTS),
    ],
)
def test_every_document_sent_validates_against_the_recorded_schema(api: str, documents: tuple[str, ...]) -> None:
    schema = build_schema((FIXTURES / f"{api}.graphql").read_text())
    for document in documents:
        assert validate(schema, parse(document)) == [], document


def test_the_filters_sent_are_valid_order_filter_parameters() -> None:
    from graphql import coerce_input_value

    schema = build_schema((FIXTURES / "admin-api.graphql").read_text())
    options = schema.get_type("OrderListOptions")
    since, until = datetime(2026, 3, 29, 0, 30, tzinfo=UTC), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    for value in (
        {"filter": window_filter(since, until), "sort": {"updatedAt": "ASC", "id": "ASC"}, "take": 1000},
        {"filter": window_filter(None, None)},
        {"filter": {"_and": [*vendure_orders.PLACED, {"id": {"in": ["1", "2"]}}]}, "take": 2},
    ):
        coerce_input_value(value, options)  # type: ignore[arg-type]  # raises on an unknown field


# -- recorded orders --------------------------------------------------------------------------


def test_guest_paid_order() -> None:
    order = map_order(recorded("guest_paid"))
    assert order.issues == []
    assert (order.shop_id, order.reference, order.state, order.currency) == (
        "2",
        "TUNQMP2TUX44GPCJ",
        "PaymentSettled",
        "EUR",
    )
    assert order.created_at == datetime(2026, 11, 23, 8, 24, 30, 264000, tzinfo=UTC)  # orderPlacedAt
    assert order.updated_at == order.created_at  # Vendure left updatedAt at the cart's last change
    c = order.customer
    assert c.guest and c.shop_id is None
    assert (c.email, c.first_name, c.last_name, c.company, c.phone) == (
        "camille.guest@example.com",
        "Camille",
        "Martin",
        "Atelier Martin",
        "+33 1 23 45 67 89",  # the guest gave none: the billing address's
    )
    assert order.billing == order.shipping
    assert order.shipping is not None
    a = order.shipping
    assert (a.first_name, a.last_name, a.company, a.street, a.street2, a.postal_code, a.city, a.country, a.phone) == (
        "Camille",
        "Martin",
        "Atelier Martin",
        "12 rue de la Paix",
        "Bâtiment B",
        "75002",
        "Paris",
        "FR",
        "+33 1 23 45 67 89",
    )
    assert [
        (
            ln.line_id,
            ln.variant_id,
            ln.sku,
            ln.name,
            ln.quantity,
            ln.unit_price,
            ln.vat_rate,
            ln.total,
            ln.total_tax_included,
            ln.discount,
        )
        for ln in order.lines
    ] == [
        ("2", "1", "TEE-S", "Tee S", D(2), D("19.99"), D(20), D("39.98"), D("47.98"), D(0)),
        ("3", "3", "BOOK-1", "Book", D(1), D("12.50"), D("5.5"), D("12.50"), D("13.19"), D(0)),
    ]
    assert (
        order.shipping_method,
        order.shipping_price,
        order.shipping_price_tax_included,
        order.shipping_vat_rate,
    ) == (
        "standard-shipping",
        D("4.90"),
        D("5.88"),
        D(20),
    )
    assert order.discounts == []
    assert (order.total, order.total_tax_included) == (D("57.38"), D("67.05"))
    [payment] = order.payments
    assert (payment.method, payment.amount, payment.state, payment.transaction_id) == (
        "card-paid",
        D("67.05"),
        "settled",
        "oyibpt033h",
    )
    assert payment.paid_at == datetime(2026, 11, 23, 8, 24, 30, tzinfo=UTC)
    assert order.paid_amount == D("67.05")
    assert sums_up(order)


def test_registered_customer_authorised_payment() -> None:
    order = map_order(recorded("registered_authorised"))
    assert order.issues == []
    c = order.customer
    assert not c.guest and c.shop_id == "1"
    assert (c.email, c.first_name, c.last_name, c.phone, c.company) == (
        "alex.client@example.com",
        "Alex",
        "Durand Léger",
        "+33 6 11 22 33 44",
        None,
    )
    assert order.shipping is not None
    assert (order.shipping.first_name, order.shipping.last_name) == ("Camille", "Martin")  # shipped to someone else
    [payment] = order.payments
    assert (payment.method, payment.amount, payment.state, payment.paid_at) == (
        "card-authorised",
        D("29.87"),
        "authorized",
        None,
    )
    assert order.paid_amount == D(0)
    assert (order.total, order.total_tax_included) == (D("24.89"), D("29.87"))
    assert sums_up(order)


def test_coupon_on_the_order_with_free_shipping_and_a_settled_refund() -> None:
    order = map_order(recorded("guest_coupon"))
    assert order.issues == []
    # Lines before the order-level discount (Vendure prorated it: 3.71 + 1.51 off the lines).
    assert [(ln.sku, ln.total, ln.total_tax_included, ln.discount) for ln in order.lines] == [
        ("BOOK-1", D("37.50"), D("39.56"), D(0)),
        ("MUG-1", D("14.66"), D("16.13"), D(0)),
    ]
    [discount] = order.discounts
    assert (discount.description, discount.code) == ("Coupon WELCOME10: 10 %", "WELCOME10")
    assert discount.amount == D("3.71") + D("1.51") + D("4.90")  # order 10 % + free shipping
    assert discount.amount_tax_included == D("3.91") + D("1.66") + D("5.88")
    assert (order.shipping_price, order.shipping_price_tax_included, order.shipping_vat_rate) == (
        D("4.90"),
        D("5.88"),
        D(20),
    )
    assert (order.total, order.total_tax_included) == (D("46.94"), D("50.12"))
    assert sums_up(order)
    assert [(p.state, p.amount, p.transaction_id) for p in order.payments] == [
        ("settled", D("50.12"), "8lhbw98m5r"),
        ("refunded", D("5.00"), "refund-1"),
    ]
    assert order.paid_amount == D("45.12")


def test_line_level_coupon_stays_on_its_line() -> None:
    order = map_order(recorded("registered_line_discount"))
    assert order.issues == []
    [tee, mug] = order.lines
    # 20 % off 3 x 19.99: 47.976 -> 47.98; the line discount is what makes quantity x unit_price.
    assert (tee.quantity, tee.unit_price, tee.total, tee.discount, tee.total_tax_included) == (
        D(3),
        D("19.99"),
        D("47.98"),
        D("11.99"),
        D("57.58"),
    )
    assert (mug.total, mug.discount, mug.vat_rate) == (D("7.33"), D(0), D(10))
    assert order.discounts == []
    assert order.shipping is not None
    assert (order.shipping.first_name, order.shipping.last_name, order.shipping.country) == (
        "Alex",
        "Durand Léger",
        "BE",
    )
    assert (order.total, order.total_tax_included) == (D("60.21"), D("71.52"))
    assert sums_up(order)


def test_cart_paid_long_after_its_last_change_is_dated_by_its_placement() -> None:
    payload = recorded("late")
    assert payload["updatedAt"] == "2026-11-23T08:24:25.000Z"  # the cart's last change
    order = map_order(payload)
    assert order.updated_at == order.created_at == datetime(2026, 11, 23, 8, 24, 40, 654000, tzinfo=UTC)
    assert changed_at(payload) == order.updated_at


@pytest.mark.parametrize(
    "name", ["guest_paid", "registered_authorised", "guest_coupon", "registered_line_discount", "late"]
)
def test_every_recorded_order_adds_up(name: str) -> None:
    order = map_order(recorded(name))
    assert order.issues == [] and sums_up(order)
    for line in order.lines:
        assert line.quantity * line.unit_price - line.discount == line.total
    for moment in (order.created_at, order.updated_at, *(p.paid_at for p in order.payments if p.paid_at)):
        assert moment.utcoffset() == timedelta(0)


# -- what the sandbox does not send ------------------------------------------------------------


def test_rounding_cent_of_the_per_promotion_figures_goes_to_the_largest_discount() -> None:
    payload = recorded("guest_coupon")
    payload["lines"][0]["discounts"][0]["amount"] = -370  # Vendure rounds its figures line by line
    payload["lines"][1]["discounts"][0]["amountWithTax"] = -167
    order = map_order(payload)
    [discount] = order.discounts
    assert (discount.amount, discount.amount_tax_included) == (D("10.12"), D("11.45"))
    assert order.issues == [] and sums_up(order)


def test_two_promotions_are_two_discounts_with_their_coupon_codes() -> None:
    payload = recorded("guest_coupon")
    payload["lines"][1]["discounts"][0].update(adjustmentSource="PROMOTION:7", description="Spring sale")
    payload["promotions"].append({"id": "7", "couponCode": None})
    order = map_order(payload)
    assert [(d.description, d.code, d.amount) for d in order.discounts] == [
        ("Coupon WELCOME10: 10 %", "WELCOME10", D("8.61")),
        ("Spring sale", None, D("1.51")),
    ]
    assert sums_up(order)


def test_surcharges_negative_is_a_discount_positive_is_an_issue() -> None:
    payload = recorded("guest_paid")
    payload["surcharges"] = [
        {"id": "1", "description": "Goodwill", "sku": None, "price": -500, "priceWithTax": -600, "taxRate": 20}
    ]
    payload["total"] -= 500
    payload["totalWithTax"] -= 600
    order = map_order(payload)
    assert [(d.description, d.amount, d.amount_tax_included, d.code) for d in order.discounts] == [
        ("Goodwill", D("5.00"), D("6.00"), None)
    ]
    assert order.issues == [] and sums_up(order)

    payload = recorded("guest_paid")
    payload["surcharges"] = [
        {"id": "2", "description": "Gift wrap", "sku": "WRAP", "price": 300, "priceWithTax": 360, "taxRate": 20}
    ]
    payload["total"] += 300
    payload["totalWithTax"] += 360
    order = map_order(payload)
    assert [(e.key, e.field) for e in order.issues] == [
        ("2", "surcharges"),
        ("2", "total"),
        ("2", "total_tax_included"),
    ]
    assert "Gift wrap" in order.issues[0].reason and "3.00 EUR" in order.issues[0].reason
    assert "60.38" in order.issues[1].reason and "57.38" in order.issues[1].reason


def test_unreadable_fields_are_issues_not_exceptions() -> None:
    payload = recorded("guest_paid")
    payload["shippingAddress"] = {**payload["shippingAddress"], "countryCode": "FRA", "streetLine1": None}
    payload["payments"][0]["state"] = "AwaitingBankTransfer"  # a custom payment process state
    order = map_order(payload)
    assert [(e.key, e.field, e.check) for e in order.issues] == [
        ("2", "shipping.country", "shop"),
        ("2", "shipping.street", "shop"),
        ("2", "payments", "shop"),
    ]
    assert order.shipping is not None and order.shipping.country == "FRA"
    assert order.payments[0].state == "awaitingbanktransfer"


def test_no_customer_no_billing_address() -> None:
    payload = recorded("guest_paid")
    payload["customer"] = None
    payload["billingAddress"] = dict.fromkeys(payload["billingAddress"])  # never set: every field null
    order = map_order(payload)
    assert order.billing is None and order.shipping is not None
    assert [(e.field, e.reason) for e in order.issues] == [("customer", "the order has no customer")]
    assert order.customer.email == ""


@pytest.mark.parametrize(
    ("state", "canonical"),
    [
        ("Created", "pending"),
        ("Authorized", "authorized"),
        ("Settled", "settled"),
        ("Declined", "declined"),
        ("Error", "declined"),
        ("Cancelled", "cancelled"),
    ],
)
def test_payment_states(state: str, canonical: str) -> None:
    payload = recorded("registered_authorised")
    payload["payments"][0]["state"] = state
    [payment] = map_order(payload).payments
    assert payment.state == canonical
    assert (payment.paid_at is not None) == (canonical == "settled")


def test_pending_refund_is_not_money_back() -> None:
    payload = recorded("guest_coupon")
    payload["payments"][0]["refunds"][0]["state"] = "Pending"
    assert [p.state for p in map_order(payload).payments] == ["settled"]


def test_order_without_shipping_line() -> None:
    payload = copy.deepcopy(recorded("guest_paid"))
    payload["shippingLines"] = []
    payload["taxSummary"] = [r for r in payload["taxSummary"] if r["description"] != "shipping tax"]
    payload["total"] -= 490
    payload["totalWithTax"] -= 588
    order = map_order(payload)
    assert (order.shipping_method, order.shipping_price, order.shipping_vat_rate) == (None, D(0), None)
    assert order.issues == [] and sums_up(order)


# -- derived fields ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("full", "first", "last", "expected"),
    [
        ("Camille Martin", "Camille", "Martin", ("Camille", "Martin")),
        ("Marie Claire Dupont", "Marie Claire", "Dupont", ("Marie Claire", "Dupont")),  # the customer's split
        ("Marie Claire Dupont", "Alex", "Durand", ("Marie", "Claire Dupont")),  # someone else: first word
        ("  Jean   de la Fontaine ", None, None, ("Jean", "de la Fontaine")),
        ("Madonna", None, None, (None, "Madonna")),
        ("", "A", "B", (None, None)),
        (None, None, None, (None, None)),
    ],
)
def test_split_full_name(
    full: str | None, first: str | None, last: str | None, expected: tuple[str | None, str | None]
) -> None:
    assert split_full_name(full, first, last) == expected


@pytest.mark.parametrize(
    ("price", "with_tax", "summary", "rate"),
    [
        (490, 588, [{"description": "shipping tax", "taxRate": 20}], D(20)),
        (0, 0, [{"description": "shipping tax", "taxRate": 20}], D(20)),  # free shipping keeps its rate
        (
            490,
            517,
            [{"description": "Reduced Tax Europe", "taxRate": 5.5}, {"description": "x", "taxRate": 20}],
            D("5.5"),
        ),
        (490, 500, [], D("2.04")),  # no summary rate fits: derived
        (0, 0, [], None),
    ],
)
def test_shipping_vat_rate(price: int, with_tax: int, summary: list[dict[str, Any]], rate: D | None) -> None:
    assert shipping_vat_rate(price, with_tax, summary) == rate


def test_times_are_aware_utc() -> None:
    assert parse_time("2026-03-29T00:59:59.999Z") == datetime(2026, 3, 29, 0, 59, 59, 999000, tzinfo=UTC)
    paris = timezone(timedelta(hours=2))
    assert gql_time(datetime(2026, 3, 29, 3, 0, 0, 123999, tzinfo=paris)) == "2026-03-29T01:00:00.123Z"
    with pytest.raises(ValueError, match="naive"):
        gql_time(datetime(2026, 3, 29, 3, 0))


def test_window_filter_compares_with_the_millisecond_before_each_bound() -> None:
    since = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    until = datetime(2026, 10, 25, 1, 30, 0, 500, tzinfo=UTC)  # microseconds floored
    assert window_filter(since, until) == {
        "_and": [
            {"active": {"eq": False}},
            {"orderPlacedAt": {"isNull": False}},
            {
                "_or": [
                    {"updatedAt": {"after": "2026-10-25T00:29:59.999Z"}},
                    {"orderPlacedAt": {"after": "2026-10-25T00:29:59.999Z"}},
                ]
            },
            {
                "_or": [
                    {"updatedAt": {"before": "2026-10-25T01:29:59.999Z"}},
                    {"updatedAt": {"eq": "2026-10-25T01:29:59.999Z"}},
                ]
            },
            {
                "_or": [
                    {"orderPlacedAt": {"before": "2026-10-25T01:29:59.999Z"}},
                    {"orderPlacedAt": {"eq": "2026-10-25T01:29:59.999Z"}},
                ]
            },
        ]
    }
    assert window_filter(None, None) == {"_and": [{"active": {"eq": False}}, {"orderPlacedAt": {"isNull": False}}]}


# -- the order source against a fake Admin API ---------------------------------------------------


class FakeAdmin:
    """Answers the order source's documents from a list of order payloads, evaluating the filters
    the way Vendure does (SQL comparisons on the times as "YYYY-MM-DD HH:MM:SS.SSS" strings)."""

    def __init__(self, orders: list[dict[str, Any]]) -> None:
        self.orders = orders
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        query, variables = body["query"], body["variables"]
        if "login(" in query:
            return httpx.Response(
                200,
                json={"data": {"login": {"__typename": "CurrentUser", "id": "1"}}},
                headers={"vendure-auth-token": "tok"},
            )
        name = query.split("(")[0].split()[-1]
        self.sent.append((name, variables))
        if name == "OrderWindow":
            found = self.find(variables["options"]["filter"])
            found.sort(key=lambda o: (o["updatedAt"], int(o["id"])))
            items = [{k: o[k] for k in ("id", "updatedAt", "orderPlacedAt")} for o in found]
            take = variables["options"]["take"]
            return httpx.Response(200, json={"data": {"orders": {"totalItems": len(found), "items": items[:take]}}})
        if name == "OrderWindowEnd":
            found = self.find(variables["filter"])
            latest = {
                "byUpdate": max(found, key=lambda o: o["updatedAt"]),
                "byPlacement": max(found, key=lambda o: o["orderPlacedAt"]),
            }
            return httpx.Response(
                200,
                json={
                    "data": {
                        k: {"items": [{f: v[f] for f in ("id", "updatedAt", "orderPlacedAt")}]}
                        for k, v in latest.items()
                    }
                },
            )
        assert name == "Orders"
        found = self.find(variables["options"]["filter"])[: variables["options"]["take"]]
        return httpx.Response(200, json={"data": {"orders": {"items": found}}})

    def find(self, where: dict[str, Any]) -> list[dict[str, Any]]:
        return [o for o in self.orders if self.matches(o, where)]

    def matches(self, order: dict[str, Any], where: dict[str, Any]) -> bool:
        for key, condition in where.items():
            if key == "_and":
                ok = all(self.matches(order, c) for c in condition)
            elif key == "_or":
                ok = any(self.matches(order, c) for c in condition)
            else:
                ok = all(self.compare(order[key], op, arg) for op, arg in condition.items())
            if not ok:
                return False
        return True

    @staticmethod
    def compare(value: Any, op: str, arg: Any) -> bool:
        if op == "isNull":
            return (value is None) == arg
        if op == "in":
            return value in arg
        if value is None:
            return False
        if op == "eq" and isinstance(arg, bool):
            return bool(value == arg)
        sql = lambda text: text.replace("T", " ").replace("Z", "")  # noqa: E731
        left, right = sql(value), sql(arg)
        return {"eq": left == right, "after": left > right, "before": left < right}[op]


def fake_orders(times: list[tuple[str, str | None]]) -> list[dict[str, Any]]:
    """Copies of a recorded order with these (updatedAt, orderPlacedAt); ids 1, 2, ..."""
    base = recorded("guest_paid")
    result = []
    for number, (updated, placed) in enumerate(times, start=1):
        order = copy.deepcopy(base)
        order.update(
            id=str(number), code=f"CODE{number}", updatedAt=updated, orderPlacedAt=placed, active=placed is None
        )
        result.append(order)
    return result


def source(fake: FakeAdmin) -> VendureShop:
    client = VendureClient(
        "http://vendure.test/admin-api", username="admin", password="secret-pw", transport=httpx.MockTransport(fake)
    )
    return VendureShop(client)


TIMES = [
    ("2026-10-25T00:59:59.000Z", "2026-10-25T01:00:00.250Z"),  # placed in the second after its last change
    ("2026-10-25T01:00:00Z", "2026-10-25T00:59:00.000Z"),  # changed after placement; SQLite: no milliseconds
    ("2026-10-25T00:10:00.000Z", None),  # a cart
    ("2026-10-25T00:20:00.000Z", "2026-10-25T01:00:00.000Z"),  # a cart paid 40 minutes later
    ("2026-10-25T02:00:00.000Z", "2026-10-25T01:59:59.999Z"),
]


def test_window_lists_once_then_reads_by_id_oldest_first() -> None:
    fake = FakeAdmin(fake_orders(TIMES))
    shop = source(fake)
    orders = list(shop.iter_orders(datetime(2026, 10, 25, 1, tzinfo=UTC), None))
    # max(updatedAt, orderPlacedAt): 2 and 4 at 01:00:00.000, 1 at 01:00:00.250, 5 at 02:00.
    assert [o.shop_id for o in orders] == ["2", "4", "1", "5"]
    assert [name for name, _ in fake.sent] == ["OrderWindow", "Orders"]
    assert fake.sent[1][1]["options"]["filter"]["_and"][-1] == {"id": {"in": ["2", "4", "1", "5"]}}
    assert [o.shop_id for o in shop.iter_orders(None, datetime(2026, 10, 25, 1, tzinfo=UTC))] == []


@pytest.mark.parametrize("take", [2, 3, 1000])  # 2 orders share 01:00:00.000: one answer must hold 2
def test_split_windows_and_split_listings_return_every_order_once(take: int) -> None:
    fake = FakeAdmin(fake_orders(TIMES))
    shop = source(fake)
    shop.order_list_take = take
    shop.order_detail_take = 2
    everything = [o.shop_id for o in shop.iter_orders(None, None)]
    assert sorted(everything) == ["1", "2", "4", "5"]  # not the cart
    for middle in sorted({o.updated_at for o in shop.get_orders(everything)}):
        first = [o.shop_id for o in shop.iter_orders(None, middle)]
        second = [o.shop_id for o in shop.iter_orders(middle, None)]
        assert first + second == everything
        assert all(o.updated_at < middle for o in shop.get_orders(first))


def test_listing_more_orders_than_one_answer_splits_the_window() -> None:
    fake = FakeAdmin(fake_orders(TIMES))
    shop = source(fake)
    shop.order_list_take = 2
    assert [o.shop_id for o in shop.iter_orders(None, None)] == ["2", "4", "1", "5"]
    names = [name for name, _ in fake.sent]
    assert names[:2] == ["OrderWindow", "OrderWindowEnd"]  # an open end: where the orders stop
    assert names.count("Orders") == 1 and names[-1] == "Orders"


def test_more_orders_in_one_millisecond_than_one_answer_holds_is_fatal() -> None:
    fake = FakeAdmin(fake_orders([("2026-10-25T00:00:00.000Z", "2026-10-25T00:00:00.000Z")] * 3))
    shop = source(fake)
    shop.order_list_take = 2
    with pytest.raises(Fatal, match="within one millisecond.*Resolution: import these orders by id"):
        list(shop.iter_orders(None, None))


def test_get_orders_keeps_the_order_asked_and_leaves_unknown_ids_and_carts_out() -> None:
    fake = FakeAdmin(fake_orders(TIMES))
    shop = source(fake)
    shop.order_detail_take = 2
    assert [o.shop_id for o in shop.get_orders(["5", "3", "99", "1", "5"])] == ["5", "1"]
    assert [name for name, _ in fake.sent] == ["Orders", "Orders"]
