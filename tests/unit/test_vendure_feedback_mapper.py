"""Vendure status feedback, the pure part: Vendure order state -> canonical status, what a StatusWrite
becomes (fulfillments to add and move, cancellation, notes, refusals), note keys; and the exact
requests of a batch in which one operation throws (a fake Admin API; every document validated
against the recorded Vendure 3.7 schema)."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import build_schema, parse, validate

from connectors.base import StatusWrite
from connectors.models import Shipment, ShipmentLine
from connectors.shop.notes import link_text as note_text
from connectors.shop.vendure import feedback
from connectors.shop.vendure.client import VendureClient, build_document
from connectors.shop.vendure.factory import VendureShop
from connectors.shop.vendure.feedback import canonical_status, note_key, plan_write
from deployments.sandbox import vendure_ops

FIXTURES = Path(__file__).parent.parent / "fixtures" / "vendure-3.7"
ADMIN = build_schema((FIXTURES / "admin-api.graphql").read_text())


def row(
    state: str = "PaymentSettled",
    *,
    lines: tuple[tuple[str, str, int], ...] = (("1", "TEE-S", 2), ("2", "BOOK-1", 1)),
    fulfillments: tuple[dict[str, Any], ...] = (),
    payments: tuple[dict[str, Any], ...] | None = None,
    notes: tuple[tuple[str, str], ...] = (),
) -> dict[str, Any]:
    """An order as READ_FOR_WRITE answers it."""
    return {
        "id": "7",
        "state": state,
        "active": False,
        "orderPlacedAt": "2026-05-04T10:00:00.000Z",
        "currencyCode": "EUR",
        "lines": [{"id": i, "quantity": q, "productVariant": {"sku": sku}} for i, sku, q in lines],
        "fulfillments": list(fulfillments),
        "payments": list(
            payments if payments is not None else [{"id": "p1", "state": "Settled", "amount": 5388, "refunds": []}]
        ),
        "history": {"items": [{"id": i, "isPublic": True, "data": {"note": text}} for i, text in notes]},
    }


def ful(fid: str, state: str, method: str, tracking: str, *lines: tuple[str, int]) -> dict[str, Any]:
    return {
        "id": fid,
        "state": state,
        "method": method,
        "trackingCode": tracking,
        "lines": [{"orderLineId": line, "quantity": q} for line, q in lines],
    }


def ship(
    tracking: str | None, *lines: tuple[str, str], carrier: str | None = "UPS", url: str | None = None
) -> Shipment:
    return Shipment(f"WH/{tracking}", carrier, tracking, url, lines=[ShipmentLine(sku, D(q)) for sku, q in lines])


# -- documents ------------------------------------------------------------------------------------


def test_every_document_validates_against_the_recorded_schema() -> None:
    batch, _ = build_document(
        "mutation",
        [
            feedback.op_add("a", [{"orderLineId": "1", "quantity": 1}], "UPS", "1Z"),
            feedback.op_add("b", [{"orderLineId": "1", "quantity": 1}], "", ""),
            feedback.op_move("m", "3", "Shipped"),
            feedback.op_cancel("c", "7", "cancelled"),
            feedback.op_note("n", "7", "text", False),
        ],
    )
    for document in (*feedback.DOCUMENTS, batch):
        assert validate(ADMIN, parse(document)) == [], document
    shop = build_schema((FIXTURES / "shop-api.graphql").read_text())
    for document in vendure_ops.FEEDBACK_SHOP_DOCUMENTS:
        assert validate(shop, parse(document)) == [], document


def test_a_fulfillment_without_tracking_code_still_sends_a_method() -> None:
    # Vendure 3.7.3 stores the method NOT NULL: without it the mutation throws and stops the batch.
    op = feedback.op_add("a", [{"orderLineId": "1", "quantity": 1}], "", "")
    assert op.args["input"][1]["handler"] == {
        "code": "manual-fulfillment",
        "arguments": [{"name": "method", "value": ""}],
    }


# -- state map ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("PaymentAuthorized", "open"),
        ("PaymentSettled", "processing"),
        ("PartiallyShipped", "shipped"),
        ("Shipped", "shipped"),
        ("PartiallyDelivered", "delivered"),
        ("Delivered", "delivered"),
        ("Cancelled", "cancelled"),
        ("Modifying", "open"),
        ("ArrangingAdditionalPayment", "open"),
    ],
)
def test_vendure_states_read_as_canonical_statuses(state: str, status: str) -> None:
    assert canonical_status(row(state)) == status


def test_states_without_a_match_read_from_the_fulfillments() -> None:
    assert canonical_status(row("Modifying", fulfillments=(ful("1", "Shipped", "UPS", "1Z", ("1", 2)),))) == "shipped"
    delivered = (ful("1", "Delivered", "UPS", "1Z", ("1", 2)), ful("2", "Shipped", "UPS", "1Y", ("2", 1)))
    assert canonical_status(row("ArrangingAdditionalPayment", fulfillments=delivered)) == "delivered"
    assert canonical_status(row("Modifying", fulfillments=(ful("1", "Cancelled", "UPS", "1Z", ("1", 2)),))) == "open"


def test_a_refund_in_full_reads_refunded_whatever_the_state_a_partial_one_changes_nothing() -> None:
    def paid(*refunds: tuple[int, str]) -> tuple[dict[str, Any], ...]:
        return (
            {"id": "p1", "state": "Settled", "amount": 5000, "refunds": [{"total": t, "state": s} for t, s in refunds]},
        )

    assert canonical_status(row("Cancelled", payments=paid((5000, "Settled")))) == "refunded"
    assert canonical_status(row("Delivered", payments=paid((2000, "Settled"), (3000, "Settled")))) == "refunded"
    assert canonical_status(row("Delivered", payments=paid((2000, "Settled")))) == "delivered"
    assert canonical_status(row("Cancelled", payments=paid((5000, "Pending")))) == "cancelled"  # not given back yet
    authorised = ({"id": "p1", "state": "Authorized", "amount": 5000, "refunds": []},)
    assert canonical_status(row("Cancelled", payments=authorised)) == "cancelled"


def test_notes_carry_their_key_on_the_last_line() -> None:
    text = note_text("Invoice INV-1", "https://erp.example/inv/1.pdf", "invoice:INV-1")
    assert text == "Invoice INV-1: https://erp.example/inv/1.pdf\nref: invoice:INV-1"
    assert note_key({"data": {"note": text}}) == "invoice:INV-1"
    assert note_key({"data": {"note": "ref: written by the merchant\nthanks"}}) is None
    assert note_key({"data": {"note": "ref: "}}) is None
    assert note_key({"data": {}}) is None


# -- plans ----------------------------------------------------------------------------------------


def test_a_new_parcel_is_added_with_every_remaining_line_and_its_tracking_note() -> None:
    plan = plan_write(StatusWrite("7", "shipped", (ship("1Z", url="https://t/1Z"),)), row())
    assert plan.errors == [] and plan.to_state == "Shipped" and plan.move == []
    [new] = plan.add
    assert (new.key, new.method, new.tracking_code) == ("1Z", "UPS", "1Z")
    assert new.lines == [{"orderLineId": "1", "quantity": 2}, {"orderLineId": "2", "quantity": 1}]
    assert new.note == "Track your parcel (UPS 1Z): https://t/1Z\nref: tracking:1Z"
    assert plan.public is True


def test_a_parcel_already_there_is_not_added_again_nor_its_note() -> None:
    existing = ful("4", "Shipped", "UPS", "1Z", ("1", 2), ("2", 1))
    order = row("Shipped", fulfillments=(existing,), notes=(("9", note_text("Track", "https://t/1Z", "tracking:1Z")),))
    plan = plan_write(StatusWrite("7", "shipped", (ship("1Z", url="https://t/1Z"),)), order)
    assert plan.empty and plan.errors == []
    assert plan.answer == {"fulfillments": {"1Z": "4"}, "skipped": "already shipped in Vendure"}


def test_the_note_of_a_parcel_already_there_is_added_when_missing_private_without_notify() -> None:
    order = row("Shipped", fulfillments=(ful("4", "Shipped", "UPS", "1Z", ("1", 2), ("2", 1)),))
    plan = plan_write(StatusWrite("7", "shipped", (ship("1Z", url="https://t/1Z"),), notify=False), order)
    assert plan.add == [] and plan.notes == ["Track your parcel (UPS 1Z): https://t/1Z\nref: tracking:1Z"]
    assert plan.public is False


def test_lines_are_mapped_by_sku_and_spread_over_lines_of_the_same_sku() -> None:
    order = row(lines=(("1", "TEE-S", 1), ("2", "TEE-S", 2), ("3", "BOOK-1", 1)))
    plan = plan_write(StatusWrite("7", "shipped", (ship("1Z", ("TEE-S", "2")),)), order)
    assert plan.add[0].lines == [{"orderLineId": "1", "quantity": 1}, {"orderLineId": "2", "quantity": 1}]
    # More than the order holds is left for Vendure to refuse (ItemsAlreadyFulfilledError).
    plan = plan_write(StatusWrite("7", "shipped", (ship("1Z", ("BOOK-1", "3")),)), order)
    assert plan.add[0].lines == [{"orderLineId": "3", "quantity": 3}]


def test_a_second_parcel_ships_what_the_first_left() -> None:
    first = ful("4", "Shipped", "UPS", "1Z", ("1", 2))
    plan = plan_write(
        StatusWrite("7", "shipped", (ship("1Z", ("TEE-S", "2")), ship("1Y"))),
        row("PartiallyShipped", fulfillments=(first,)),
    )
    assert [(n.key, n.lines) for n in plan.add] == [("1Y", [{"orderLineId": "2", "quantity": 1}])]
    assert plan.answer["fulfillments"] == {"1Z": "4"}


def test_the_same_parcel_twice_in_one_write_is_added_once() -> None:
    plan = plan_write(StatusWrite("7", "shipped", (ship("1Z", ("TEE-S", "1")), ship("1Z", ("TEE-S", "1")))), row())
    assert [n.key for n in plan.add] == ["1Z"]


@pytest.mark.parametrize(
    ("lines", "reason"),
    [
        ((("NOPE", "1"),), "SKU NOPE is not in the order"),
        ((("TEE-S", "1.5"),), "quantity 1.5 of TEE-S is not a whole positive number"),
        ((("TEE-S", "0"),), "quantity 0 of TEE-S is not a whole positive number"),
    ],
)
def test_a_parcel_that_cannot_be_mapped_refuses_the_order(lines: tuple[tuple[str, str], ...], reason: str) -> None:
    plan = plan_write(StatusWrite("7", "shipped", (ship("1Z", *lines),)), row())
    assert plan.add == []
    assert [(e.key, e.field, e.reason) for e in plan.errors] == [("7", "shipments", f"shipment WH/1Z: {reason}")]


def test_without_tracking_code_the_same_carrier_and_lines_are_the_same_parcel() -> None:
    done = ful("4", "Shipped", "Own van", "", ("1", 2))
    order = row("PartiallyShipped", fulfillments=(done,))
    plan = plan_write(StatusWrite("7", "shipped", (ship(None, ("TEE-S", "2"), carrier="Own van"),)), order)
    assert plan.add == [] and plan.answer["fulfillments"] == {"erp:WH/None": "4"}
    other = plan_write(StatusWrite("7", "shipped", (ship(None, ("BOOK-1", "1"), carrier="Own van"),)), order)
    assert [n.lines for n in other.add] == [[{"orderLineId": "2", "quantity": 1}]]
    everything = plan_write(
        StatusWrite("7", "shipped", (ship(None, carrier="Own van"),)),
        row("Shipped", fulfillments=(ful("4", "Shipped", "Own van", "", ("1", 2), ("2", 1)),)),
    )
    assert everything.empty and everything.errors == []


def test_a_new_tracking_code_on_an_order_fulfilled_already_is_an_error() -> None:
    order = row("Shipped", fulfillments=(ful("4", "Shipped", "UPS", "1Z", ("1", 2), ("2", 1)),))
    plan = plan_write(StatusWrite("7", "shipped", (ship("1Y"),)), order)
    assert [(e.field, e.reason) for e in plan.errors] == [
        ("shipments", "shipment WH/1Y (1Y): every line is already fulfilled in Vendure")
    ]


def test_shipped_without_parcels_ships_everything_once() -> None:
    plan = plan_write(StatusWrite("7", "shipped"), row())
    [new] = plan.add
    assert (new.method, new.tracking_code, len(new.lines)) == ("", "", 2)
    pending = ful("4", "Pending", "UPS", "", ("1", 2), ("2", 1))
    plan = plan_write(StatusWrite("7", "shipped"), row(fulfillments=(pending,)))
    assert plan.add == [] and plan.move == ["4"]  # a parcel prepared in Vendure is shipped, not doubled


def test_fulfillments_only_move_forward() -> None:
    order = row(
        "PartiallyDelivered",
        fulfillments=(
            ful("1", "Delivered", "UPS", "1Z", ("1", 2)),
            ful("2", "Pending", "UPS", "1Y", ("2", 1)),
            ful("3", "Cancelled", "UPS", "1X", ("2", 1)),
        ),
    )
    assert plan_write(StatusWrite("7", "shipped"), order).move == ["2"]
    delivered = plan_write(
        StatusWrite("7", "delivered"),
        row(
            "Shipped",
            fulfillments=(
                ful("1", "Shipped", "UPS", "1Z", ("1", 2)),
                ful("2", "Delivered", "UPS", "1Y", ("2", 1)),
            ),
        ),
    )
    assert (delivered.to_state, delivered.move, delivered.add) == ("Delivered", ["1"], [])


@pytest.mark.parametrize("status", ["processing", "shipped", "delivered", "cancelled"])
def test_cancelled_and_refunded_orders_are_left_alone(status: str) -> None:
    for state, payments in (
        ("Cancelled", None),
        ("Delivered", ({"id": "p", "state": "Settled", "amount": 10, "refunds": [{"total": 10, "state": "Settled"}]},)),
    ):
        plan = plan_write(StatusWrite("7", status, (ship("1Z"),)), row(state, payments=payments))
        assert plan.empty and plan.errors == [] and "skipped" in plan.answer


def test_processing_writes_nothing() -> None:
    plan = plan_write(StatusWrite("7", "processing"), row())
    assert plan.empty and plan.errors == []
    assert plan.answer == {"skipped": "Vendure 3.7 has no state for an order being prepared"}


def test_cancelling_reports_the_money_to_give_back_and_cancels_unshipped_parcels() -> None:
    payments = ({"id": "p1", "state": "Settled", "amount": 5388, "refunds": [{"total": 388, "state": "Settled"}]},)
    order = row(
        fulfillments=(ful("4", "Pending", "UPS", "", ("1", 2)), ful("5", "Cancelled", "UPS", "", ("1", 2))),
        payments=payments,
    )
    plan = plan_write(StatusWrite("7", "cancelled"), order)
    assert (plan.cancel, plan.cancel_fulfillments, plan.errors) == (True, ["4"], [])
    assert plan.answer == {"refund_due": "50.00 EUR"}
    authorised = ({"id": "p2", "state": "Authorized", "amount": 5388, "refunds": []},)
    plan = plan_write(StatusWrite("7", "cancelled"), row("PaymentAuthorized", payments=authorised))
    assert plan.answer == {"authorized_payments": ["p2"]}


@pytest.mark.parametrize(
    ("state", "write", "field", "words"),
    [
        ("Shipped", StatusWrite("7", "cancelled"), "status", "return"),
        ("PaymentAuthorized", StatusWrite("7", "shipped"), "status", "settle (capture) the payment"),
        ("Modifying", StatusWrite("7", "delivered"), "status", "state Modifying"),
        ("PaymentSettled", StatusWrite("7", "refunded"), "status", "53.88 EUR is still paid"),
        ("PaymentSettled", StatusWrite("7", "open"), "status", "unknown status 'open'"),
    ],
)
def test_refused_writes(state: str, write: StatusWrite, field: str, words: str) -> None:
    fulfillments = (ful("4", "Shipped", "UPS", "1Z", ("1", 2), ("2", 1)),) if state == "Shipped" else ()
    plan = plan_write(write, row(state, fulfillments=fulfillments))
    assert plan.empty
    [error] = plan.errors
    assert (error.key, error.field) == ("7", field) and words in error.reason


def test_a_refunded_write_is_satisfied_when_nothing_paid_is_left() -> None:
    authorised = ({"id": "p2", "state": "Authorized", "amount": 5388, "refunds": []},)
    plan = plan_write(StatusWrite("7", "refunded"), row("Cancelled", payments=authorised))
    assert plan.empty and plan.errors == []
    assert plan.answer == {"skipped": "nothing paid is left to refund in Vendure"}


def test_an_unknown_order_is_refused() -> None:
    plan = plan_write(StatusWrite("404", "shipped"), None)
    assert [(e.key, e.field) for e in plan.errors] == [("404", "order")]


# -- requests -------------------------------------------------------------------------------------


class FakeAdmin:
    """Answers the read with three paid orders, then the given mutation answers in turn; records documents."""

    def __init__(self, *mutation_answers: dict[str, Any]) -> None:
        self.answers = list(mutation_answers)
        self.documents: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body["query"].startswith("mutation Login"):
            data = {"data": {"login": {"__typename": "CurrentUser", "id": "1"}}}
            return httpx.Response(200, json=data, headers={"vendure-auth-token": "t"})
        assert validate(ADMIN, parse(body["query"])) == [], body["query"]
        self.documents.append(body)
        if body["query"].startswith("query FeedbackOrders"):
            rows = [{**row(), "id": oid} for oid in ("10", "11", "12")]
            return httpx.Response(200, json={"data": {"orders": {"items": rows}}})
        return httpx.Response(200, json=self.answers.pop(0))


def test_an_operation_that_throws_stops_the_batch_the_rest_is_sent_again() -> None:
    # Recorded shape (tests/fixtures/vendure-3.7/aliased_mutations_one_fails.json): data null, the error on one alias.
    thrown = {
        "errors": [
            {"message": "NOT NULL constraint failed", "path": ["o1a0"], "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
        ],
        "data": None,
    }
    server = FakeAdmin(
        thrown,
        {"data": {"o2a0": {"__typename": "Fulfillment", "id": "30", "state": "Pending"}}},
        {"data": {"o2t0": {"__typename": "Fulfillment", "id": "30", "state": "Shipped"}}},
    )
    client = VendureClient(
        "https://shop.test/admin-api", username="admin", password="pw-0123456789", transport=httpx.MockTransport(server)
    )
    shop = VendureShop(client)
    result = shop.write_statuses([StatusWrite(oid, "shipped", (ship(f"1Z{oid}"),)) for oid in ("10", "11", "12")])
    sent = [sorted({k.rsplit("_", 1)[0] for k in d["variables"]}) for d in server.documents]
    assert sent == [["options"], ["o0a0", "o1a0", "o2a0"], ["o2a0"], ["o2t0"]]
    errors = {e.key: e for e in result.errors}
    assert set(errors) == {"10", "11"}
    assert errors["11"].reason == "shipment 1Z11: INTERNAL_SERVER_ERROR: NOT NULL constraint failed"
    assert errors["10"].reason.startswith("shipment 1Z10: no answer") and "the next run checks" in errors["10"].reason
    assert result.answers["12"] == {"before": "processing", "fulfillments": {"1Z12": "30"}, "moved_to": "Shipped"}
