"""WooCommerce as a status sink and a document link sink, against the fake (captured order 14 and its notes)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from connectors.base import CatalogueSink, DocumentLinkSink, OrderSource, PriceSink, StatusSink, StatusWrite, StockSink
from connectors.errors import Refused
from connectors.models import Shipment
from connectors.shop.woocommerce import build
from deployments.sandbox.fakes.woocommerce_fake import KEY, LIVE, SECRET, SITE, FakeWooCommerce, load
from tests.contract.test_woocommerce_catalogue import shop
from tests.contract.test_woocommerce_orders import taxed_order

PARCEL = Shipment(
    "BL0001", "Colissimo", "6A99887766554", "https://www.laposte.fr/outils/suivre-vos-envois?code=6A99887766554"
)


def fake_with_orders() -> FakeWooCommerce:
    on_hold = taxed_order(22)
    on_hold["status"] = "on-hold"
    delivered = taxed_order(23)
    delivered["status"] = "delivered"  # a shop's custom status
    return FakeWooCommerce([*load("orders.json"), taxed_order(21), on_hold, delivered])


def test_statuses_read_as_canonical_ones_and_a_custom_status_can_be_mapped() -> None:
    fake = fake_with_orders()
    sink = shop(fake)
    assert isinstance(sink, StatusSink)
    assert sink.read_statuses(["14", "21", "22", "23", "999"]) == {
        "14": "processing", "21": "shipped", "22": "open", "23": "open"}  # fmt: skip
    mapped = shop(fake, status_map={"delivered": "delivered"})
    assert mapped.read_statuses(["23"]) == {"23": "delivered"}


def test_shipped_with_tracking_adds_meta_a_customer_note_then_completes_once() -> None:
    fake = fake_with_orders()
    sink = shop(fake)

    result = sink.write_statuses([StatusWrite("14", "shipped", (PARCEL,))])

    assert result.errors == []
    assert result.answers["14"] == {
        "before": "processing",
        "shipments": ["6A99887766554"],
        "notes": 1,
        "moved_to": "completed",
    }
    order = next(o for o in fake.orders if o["id"] == 14)
    assert order["status"] == "completed"
    meta = {m["key"]: m["value"] for m in order["meta_data"]}
    assert meta["_passerelle_tracking_number"] == "6A99887766554" and meta["_passerelle_carrier"] == "Colissimo"
    assert meta["_passerelle_shipments"][0]["tracking_url"] == PARCEL.tracking_url
    customer = [n for n in fake.notes[14] if n["customer_note"]]
    assert len(customer) == 1 and PARCEL.tracking_url in customer[0]["note"] and "Colissimo" in customer[0]["note"]
    assert "ref:" not in customer[0]["note"]  # the key is order meta, never in what the customer reads
    assert list(meta["_passerelle_notes"]) == ["tracking:6A99887766554"]
    # the sequence a shop manager would follow: tracking first, the customer told, then completed
    assert [(m, p, sorted(b)) for m, p, b in fake.writes()] == [
        ("PUT", "/orders/14", ["meta_data"]), ("POST", "/orders/14/notes", ["customer_note", "note"]),
        ("PUT", "/orders/14", ["meta_data", "status"])]  # fmt: skip

    fake.requests.clear()
    again = sink.write_statuses([StatusWrite("14", "shipped", (PARCEL,))])
    assert again.errors == [] and again.answers["14"] == {"before": "shipped"} and fake.writes() == []


def test_no_notification_no_note_and_never_backwards() -> None:
    fake = fake_with_orders()
    sink = shop(fake)
    result = sink.write_statuses(
        [StatusWrite("14", "shipped", (PARCEL,), notify=False), StatusWrite("21", "processing")]
    )
    assert result.errors == []
    assert not [n for n in fake.notes.get(14, []) if n["customer_note"]]
    assert next(o for o in fake.orders if o["id"] == 21)["status"] == "completed"  # shipped stays shipped
    assert "moved_to" not in result.answers["21"]


def test_an_unknown_order_is_a_record_error_the_others_go_on() -> None:
    fake = fake_with_orders()
    result = shop(fake).write_statuses([StatusWrite("999", "shipped"), StatusWrite("22", "cancelled")])
    assert [(e.key, e.field) for e in result.errors] == [("999", "order")]
    assert next(o for o in fake.orders if o["id"] == 22)["status"] == "cancelled"


def test_a_document_link_is_one_customer_note_per_key() -> None:
    fake = fake_with_orders()
    sink = shop(fake)
    assert isinstance(sink, DocumentLinkSink)
    url = "https://files.example.test/FA0001.pdf"

    first = sink.link_document("14", "Invoice FA0001", url, key="invoice:FA0001")
    again = shop(fake).link_document("14", "Invoice FA0001", url, key="invoice:FA0001")

    assert first == again
    customer = [n for n in fake.notes[14] if n["customer_note"]]
    assert len(customer) == 1 and customer[0]["note"] == f"Invoice FA0001: {url}"  # no internal key shown
    order = next(o for o in fake.orders if o["id"] == 14)
    assert {m["key"]: m["value"] for m in order["meta_data"]}["_passerelle_notes"] == {"invoice:FA0001": first}
    with pytest.raises(Refused, match="no order 999"):
        sink.link_document("999", "Invoice", url, key="invoice:X")


def test_build_gives_every_capability_and_the_status_settings() -> None:
    class Resolver:
        def secret(self, option: str) -> str | None:
            return {"consumer_key": KEY, "consumer_secret": SECRET}.get(option)

        def path(self, value: str) -> str:
            return value

    options = {
        "url": SITE, "consumer_key": "env:WC_KEY", "consumer_secret": "env:WC_SECRET",
        "delivered_status": "delivered", "status_map": {"delivered": "delivered"}, "archive_status": "private",
    }  # fmt: skip
    built = build(options, Resolver())
    for capability in (CatalogueSink, StockSink, PriceSink, OrderSource, StatusSink, DocumentLinkSink):
        assert isinstance(built, capability)
    assert (built.delivered_status, built.status_map, built.archive_status) == (
        "delivered", {"delivered": "delivered"}, "private")  # fmt: skip
    with pytest.raises(ValidationError):
        build({**options, "archive_status": "trash"}, Resolver())


# -- payment evidence after a status passerelle set ---------------------------------------------
NOW = datetime(2026, 12, 3, 17, 34, 48, tzinfo=timezone.utc)


def transfer_on_hold(ident: int = 24) -> dict[str, Any]:
    """A bank-transfer order waiting for its money, as the live shop had it before the feedback flow."""
    order = taxed_order(ident, "2026-12-03T17:29:34")
    order.update(status="on-hold", payment_method="bacs", payment_method_title="Direct bank transfer",
                 transaction_id="", date_paid_gmt=None, date_paid=None, date_completed_gmt=None)  # fmt: skip
    return order


def clocked(*orders: dict[str, Any]) -> FakeWooCommerce:
    fake = FakeWooCommerce(list(orders))
    fake.clock = lambda: NOW
    return fake


def test_the_fake_stamps_a_status_change_as_the_live_shop_did() -> None:
    """order_after_status_completed_unpaid_bacs.json: on hold -> completed by a PUT sets date_paid,
    date_completed and date_modified at the moment of the change, and notes it with the labels."""
    captured = load("order_after_status_completed_unpaid_bacs.json", LIVE)
    after = captured["order_fields_after_PUT_status_completed"]
    fake = clocked(transfer_on_hold())

    shop(fake).client.put("orders/24", {"status": "completed"})

    order = fake.orders[0]
    stamped = NOW.strftime("%Y-%m-%dT%H:%M:%S")
    assert (order["date_paid_gmt"], order["date_completed_gmt"], order["date_modified_gmt"]) == (stamped,) * 3
    assert after["date_paid_gmt"] == after["date_completed_gmt"] == after["date_modified_gmt"]  # what was seen
    assert fake.notes[24][0]["note"] == captured["order_notes_newest_first"][0]["note"]


def test_a_shipped_transfer_whose_money_never_came_is_still_unpaid() -> None:
    fake = clocked(transfer_on_hold())
    sink = shop(fake)

    assert sink.write_statuses([StatusWrite("24", "shipped", (PARCEL,))]).errors == []

    order = fake.orders[0]
    assert order["status"] == "completed" and order["date_paid_gmt"]  # what WooCommerce does on completed
    (imported,) = sink.get_orders(["24"])
    (payment,) = imported.payments
    assert (payment.state, payment.paid_at) == ("pending", None)  # no invented deposit


@pytest.mark.parametrize(
    "merchant",
    [{"status": "processing"}, {"transaction_id": "VIR-2026-1203"}],
    ids=["processing-set-by-the-merchant", "transaction-id"],
)
def test_a_shipped_transfer_the_merchant_marks_paid_is_settled(merchant: dict[str, Any]) -> None:
    fake = clocked(transfer_on_hold())
    sink = shop(fake)
    sink.write_statuses([StatusWrite("24", "shipped", (PARCEL,))])

    fake.update_order(fake.orders[0], merchant)  # the money arrived: the merchant says so in the admin

    (imported,) = sink.get_orders(["24"])
    assert [p.state for p in imported.payments] == ["settled"]


def test_a_card_order_passerelle_completes_stays_paid_when_it_was_paid() -> None:
    fake = clocked(taxed_order(21))  # paid by card (stripe, transaction id), processing
    fake.orders[0]["status"] = "processing"
    sink = shop(fake)
    sink.write_statuses([StatusWrite("21", "shipped", (PARCEL,))])

    (imported,) = sink.get_orders(["21"])
    (payment,) = imported.payments
    assert fake.orders[0]["status"] == "completed"
    assert (payment.state, payment.transaction_id, payment.paid_at) == (
        "settled", "pi_123", datetime(2026, 11, 23, 7, 59, tzinfo=timezone.utc))  # fmt: skip
