"""Order import rules: when an order goes to the ERP, the read window, the quality gate, the
line bindings, and reading local-time shops across daylight-saving changes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest

from connectors.errors import RecordError
from connectors.models import Address, Customer, Order, OrderLine, Payment
from connectors.timezones import local_bounds, possible_instants, to_utc, within
from tasks.order_rules import email_fault, gate_orders, import_decision, import_hash, line_articles, payment_key
from tasks.settings import OrderSettings
from tasks.windows import plan_window

UTC = timezone.utc
PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def address(**changes: str) -> Address:
    values = {
        "first_name": "Camille",
        "last_name": "Martin",
        "street": "1 rue de la Paix",
        "postal_code": "75002",
        "city": "Paris",
        "country": "FR",
    }
    values.update(changes)
    return Address(**values)  # type: ignore[arg-type]


def order(
    shop_id: str = "1",
    *,
    payments: list[Payment] | None = None,
    total: str = "24.00",
    lines: list[OrderLine] | None = None,
    email: str = "camille@example.com",
    **changes: object,
) -> Order:
    placed = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    made = Order(
        shop_id=shop_id,
        reference=f"REF{shop_id}",
        state="PaymentSettled",
        created_at=placed,
        updated_at=placed,
        currency="EUR",
        customer=Customer(email=email, shop_id="c1"),
        billing=address(),
        shipping=address(),
        lines=lines
        if lines is not None
        else [OrderLine("l1", "MUG", "Mug", D(2), D("10.00"), D("20"), D("20.00"), D("24.00"), variant_id="v1")],
        total=D(total) / D("1.2"),
        total_tax_included=D(total),
        shipping_method="standard",
        payments=payments if payments is not None else [Payment("card", D(total), "settled", "tx-1")],
    )
    for name, value in changes.items():
        setattr(made, name, value)
    return made


# -- import rules -------------------------------------------------------------------------------
def test_paid_order_imports_and_authorised_one_waits_by_default() -> None:
    settings = OrderSettings()
    assert import_decision(order(), settings).action == "import"
    held = import_decision(order(payments=[Payment("card-auth", D("24.00"), "authorized")]), settings)
    assert held.action == "wait" and "0 of 24.00 EUR" in held.reason


def test_rules_per_payment_method() -> None:
    settings = OrderSettings(rules={"bank-transfer": "always", "card-auth": "authorized", "marketplace": "never"})
    assert import_decision(order(payments=[Payment("bank-transfer", D("24.00"), "pending")]), settings).action == (
        "import"
    )
    assert import_decision(order(payments=[Payment("card-auth", D("24.00"), "authorized")]), settings).action == (
        "import"
    )
    never = import_decision(order(payments=[Payment("marketplace", D("24.00"), "settled")]), settings)
    assert never.action == "skip" and "marketplace" in never.reason


def test_partly_paid_order_waits_until_settled_payments_cover_the_total() -> None:
    settings = OrderSettings()
    part = [Payment("gift-card", D("10.00"), "settled", "g1"), Payment("card", D("14.00"), "pending")]
    assert import_decision(order(payments=part), settings).action == "wait"
    part[1] = Payment("card", D("14.00"), "settled", "t2")
    assert import_decision(order(payments=part), settings).action == "import"


def test_refund_and_declined_payments_do_not_count_as_paid() -> None:
    settings = OrderSettings()
    payments = [
        Payment("card", D("24.00"), "declined"),
        Payment("card", D("24.00"), "settled", "t1"),
        Payment("card", D("5.00"), "refunded", "r1"),
    ]
    assert import_decision(order(payments=payments), settings).action == "wait"


def test_cancelled_order_is_never_imported_and_free_order_needs_no_payment() -> None:
    settings = OrderSettings()
    assert import_decision(order(cancelled=True), settings).action == "skip"
    assert import_decision(order(payments=[], total="0"), settings).action == "import"
    assert import_decision(order(payments=[]), settings).action == "wait"
    assert import_decision(order(payments=[]), OrderSettings(import_when="never")).action == "skip"


def test_payment_key_is_stable_without_transaction_id() -> None:
    at = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert payment_key(Payment("card", D("24"), "settled", "tx-9")) == "card:tx-9"
    assert payment_key(Payment("cash", D("24.00"), "settled", None, at)) == "cash:24.00:2026-11-23T09:00:00+00:00"


def test_import_hash_ignores_states_and_payments_but_not_lines() -> None:
    first = order()
    assert import_hash(first) == import_hash(order(state="Shipped", payments=[]))
    changed = order()
    changed.lines[0].quantity = D(3)
    assert import_hash(first) != import_hash(changed)


# -- window -------------------------------------------------------------------------------------
def test_window_continues_from_the_cursor_minus_the_overlap() -> None:
    settings = OrderSettings(overlap_minutes=10)
    window = plan_window(datetime(2026, 11, 23, 9, 55, tzinfo=UTC), NOW, settings)
    assert (window.since, window.until, window.incremental) == (datetime(2026, 11, 23, 9, 45, tzinfo=UTC), NOW, True)


def test_first_window_starts_at_start_or_first_run_hours_back() -> None:
    assert plan_window(None, NOW, OrderSettings(first_run_hours=48)).since == NOW - timedelta(hours=48)
    start = datetime(2026, 11, 1, tzinfo=PARIS)
    assert plan_window(None, NOW, OrderSettings(start=start)).since == start.astimezone(UTC)


def test_backfill_window_leaves_the_cursor_alone() -> None:
    since = datetime(2026, 10, 1, tzinfo=PARIS)
    window = plan_window(NOW, NOW, OrderSettings(), since=since)
    assert (window.since, window.until, window.incremental) == (since.astimezone(UTC), NOW, False)


def test_start_needs_a_timezone() -> None:
    with pytest.raises(ValueError, match="time zone"):
        OrderSettings(start=datetime(2026, 11, 1))


# -- quality gate -------------------------------------------------------------------------------
def test_gate_refuses_each_bad_order_with_its_field_and_lets_the_good_ones_through() -> None:
    good = order("1")
    bad_email = order("2", email="not-an-email")
    no_lines = order("3", lines=[])
    half = order("4")
    half.lines[0].quantity = D("1.5")
    no_country = order("5", shipping=address(country="France"))
    unread = order("6")
    unread.issues = [RecordError("6", "payments", "payment 3 is in the unknown Vendure state 'Odd'")]
    passed, refused = gate_orders([good, bad_email, no_lines, half, no_country, unread])
    assert [o.shop_id for o in passed] == ["1"]
    assert {k: [e.field for e in v] for k, v in refused.items()} == {
        "2": ["customer.email"],
        "3": ["lines"],
        "4": ["lines.quantity"],
        "5": ["shipping"],
        "6": ["payments"],
    }
    assert "REF4" in refused["4"][0].reason and "1.5" in refused["4"][0].reason
    assert "'France'" in refused["5"][0].reason
    # The reason says what is wrong without repeating the address (it reaches logs and artifacts).
    assert refused["2"][0].reason.endswith("(no @)") and "not-an-email" not in refused["2"][0].reason


@pytest.mark.parametrize(
    ("value", "fault"),
    [
        ("", "empty"),
        ("a b@x.fr", "contains a space"),
        ("a@@x.fr", "more than one @"),
        ("@x.fr", "nothing before the @"),
        ("a@localhost", "no dot in the domain"),
    ],
)
def test_email_fault_names_the_defect(value: str, fault: str) -> None:
    assert email_fault(value) == fault


def test_an_order_without_billing_address_is_invoiced_to_its_delivery_address() -> None:
    passed, refused = gate_orders([order("1", billing=None), order("2", billing=None, shipping=None)])
    assert [o.shop_id for o in passed] == ["1"] and [e.field for e in refused["2"]] == ["billing", "shipping"]


def test_lines_map_through_the_variant_bindings() -> None:
    mixed = order(
        lines=[
            OrderLine("l1", "MUG", "Mug", D(1), D(10), D(20), D(10), D(12), variant_id="v1"),
            OrderLine("l2", "GONE", "Gone", D(1), D(10), D(20), D(10), D(12), variant_id="v9"),
        ]
    )
    assert line_articles(mixed, {"v1": "101"}) == {"l1": "101"}


# -- local-time shops and daylight saving ----------------------------------------------------------
def test_repeated_hour_of_the_autumn_change_has_two_instants() -> None:
    # 2026-10-25 in Paris: 03:00 CEST becomes 02:00 CET; 02:30 happens twice.
    assert possible_instants(datetime(2026, 10, 25, 2, 30), PARIS) == {
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
    }
    assert to_utc(datetime(2026, 10, 25, 2, 30), PARIS) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("since", "until"),
    [
        # Both bounds in the repeated hour: naively [02:30, 02:30), an empty window.
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 1, 30, tzinfo=UTC)),
        (datetime(2026, 10, 25, 0, 0, tzinfo=UTC), datetime(2026, 10, 25, 1, 0, tzinfo=UTC)),
        # Spring: 02:00-03:00 does not exist on 2026-03-29.
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
    ],
)
def test_local_bounds_keep_every_order_of_the_utc_window(since: datetime, until: datetime) -> None:
    low, high = local_bounds(since, until, PARIS)
    assert low is not None and high is not None
    instant = since
    while instant < until:
        wall = instant.astimezone(PARIS).replace(tzinfo=None)
        assert low <= wall < high, wall
        assert within(wall, PARIS, since, until), wall
        instant += timedelta(minutes=5)
    before = (since - timedelta(hours=2)).astimezone(PARIS).replace(tzinfo=None)
    assert not within(before, PARIS, since, until)
