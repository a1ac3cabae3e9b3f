"""Status feedback rules: what is sent, never backwards, never over a status set by hand; tracking
URLs and numbers; and what makes an invoice PDF one a customer can open."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal as D

import pytest

from connectors.models import OrderStatus, Shipment, ShipmentLine, content_hash
from tasks.feedback import decide, gate_statuses, plan_statuses, status_value, with_tracking_urls
from tasks.invoices import pdf_problem
from tasks.settings import FeedbackSettings

AT = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def status(value: str = "shipped", *tracking: str, carrier: str = "Colissimo", order: str = "7") -> OrderStatus:
    parcels = [
        Shipment(erp_id=f"s{i}", carrier=carrier, tracking_number=t, lines=[ShipmentLine("MUG", D(1))])
        for i, t in enumerate(tracking)
    ]
    return OrderStatus(shop_order_id=order, erp_reference="SO7", status=value, changed_at=AT, shipments=parcels)


SETTINGS = FeedbackSettings()


@pytest.mark.parametrize(
    ("target", "shop_now", "last", "expected"),
    [
        ("shipped", "processing", {"status": "processing", "tracking": []}, True),
        ("shipped", "open", None, True),
        ("processing", "shipped", {"status": "shipped", "tracking": []}, False),  # never backwards
        ("shipped", "delivered", {"status": "delivered", "tracking": []}, False),
        ("delivered", "shipped", {"status": "shipped", "tracking": ["6A123"]}, True),
        ("cancelled", "processing", None, True),
        ("cancelled", "shipped", {"status": "shipped", "tracking": []}, False),  # shipped: too late to cancel
        ("refunded", "delivered", {"status": "delivered", "tracking": []}, True),
        ("shipped", "cancelled", None, False),  # final in the shop
        ("delivered", None, None, False),  # the shop does not have it
    ],
)
def test_decide(target: str, shop_now: str | None, last: dict | None, expected: bool) -> None:
    go, why = decide(status(target, "6A123"), shop_now, last, SETTINGS)
    assert go is expected, why
    assert bool(why) is not expected


def test_a_status_set_by_hand_is_left_alone_unless_configured() -> None:
    # Someone marked the order delivered in the shop; passerelle never sent "delivered".
    by_hand = {"status": "shipped", "tracking": ["6A123"]}
    go, why = decide(status("cancelled", "6A123"), "delivered", by_hand, SETTINGS)
    assert not go and "by hand" in why
    go, _ = decide(status("refunded", "6A123"), "delivered", by_hand, FeedbackSettings(overwrite_manual=True))
    assert go


def test_a_second_parcel_of_a_shipped_order_is_sent() -> None:
    last = {"status": "shipped", "tracking": ["6A123"]}
    assert decide(status("shipped", "6A123", "6A456"), "shipped", last, SETTINGS)[0]
    assert not decide(status("shipped", "6A123"), "shipped", last, SETTINGS)[0]


def test_plan_sends_only_changes_and_enabled_statuses() -> None:
    same = status("shipped", "6A123", order="1")
    new = status("shipped", "6A999", order="2")
    off = status("processing", order="3")
    sent = {"1": content_hash(status_value(same))}
    plan = plan_statuses(
        [same, new, off],
        sent,
        {},
        {"2": "processing", "3": "open"},
        FeedbackSettings(statuses={"shipped": True, "processing": False}),
    )
    assert plan.unchanged == 1
    assert [(w.shop_order_id, w.status, w.notify) for w in plan.writes] == [("2", "shipped", True)]
    assert plan.left == [("3", "processing", "not sent (feedback.statuses)")]


def test_tracking_url_from_the_carrier_page_when_the_erp_has_none() -> None:
    settings = FeedbackSettings(
        tracking_urls={"colissimo": "https://www.laposte.fr/outils/suivre-vos-envois?code={tracking}"}
    )
    filled = with_tracking_urls(status("shipped", "6A12345678901"), settings)
    assert filled.shipments[0].tracking_url == "https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901"
    kept = status("shipped", "6A12345678901")
    kept.shipments[0].tracking_url = "https://erp.example.com/track/1"
    assert with_tracking_urls(kept, settings).shipments[0].tracking_url == "https://erp.example.com/track/1"


def test_gate_refuses_a_tracking_number_that_is_not_one_for_its_carrier() -> None:
    good = status("shipped", "6A12345678901", order="1")
    bad = status("shipped", "call me", order="2")
    unknown_carrier = status("shipped", "anything goes", carrier="Coursier Martin", order="3")
    passed, rejected = gate_statuses([good, bad, unknown_carrier], SETTINGS)
    assert [s.shop_order_id for s in passed] == ["1", "3"]
    [entry] = rejected
    assert (entry.error.key, entry.error.field) == ("2", "shipments.tracking_number")
    assert "'call me'" in entry.error.reason and "SO7" in entry.error.reason


def test_pdf_problem() -> None:
    body = b"%PDF-1.4\n" + b"0" * 300 + b"\n%%EOF\n"
    assert pdf_problem(body) == ""
    assert pdf_problem(b"") == "the PDF is empty"
    assert "not a PDF" in pdf_problem(b"PK\x03\x04" + body)  # an ODT, not converted
    assert "truncated" in pdf_problem(body[:-8])
    assert "only 17 bytes" in pdf_problem(b"%PDF-1.4\n%%EOF\n\n\n")


def test_a_status_the_shop_shows_already_is_recorded_not_sent() -> None:
    waiting = status("processing", order="4")
    plan = plan_statuses([waiting], {}, {}, {"4": "processing"}, SETTINGS)
    assert plan.writes == [] and plan.left == [] and [s.shop_order_id for s in plan.in_shop] == ["4"]
