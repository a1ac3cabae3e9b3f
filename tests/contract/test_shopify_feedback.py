"""Shopify as a status sink and a document link sink, against the fake."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.base import DocumentLinkSink, StatusSink, StatusWrite
from connectors.errors import Refused
from connectors.models import Shipment, ShipmentLine
from connectors.shop.shopify.feedback import CREATE
from deployments.sandbox.fakes.shopify import orders as fake_orders
from tests.contract.test_shopify_orders import setup, shop

PARCEL = Shipment("BL0001", "Colissimo", "6A99887766554", "https://www.laposte.fr/suivi?code=6A99887766554")


def test_shipped_creates_one_fulfillment_with_tracking_and_a_second_run_none() -> None:
    fake, clock = setup()
    order = fake_orders.place_order(fake, lines=[("TEE-M", 2, "24.00"), ("CAP", 1, "12.00")])
    sink = shop(fake, clock)
    assert isinstance(sink, StatusSink)
    oid = order["legacyResourceId"]
    before = order["updatedAt"]

    result = sink.write_statuses([StatusWrite(oid, "shipped", (PARCEL,))])

    assert result.errors == [] and result.answers[oid] == {"before": "open", "fulfillments": ["6A99887766554"]}
    (fulfillment,) = order["_fulfillments"]
    assert fulfillment["trackingInfo"] == [
        {"number": "6A99887766554", "company": "Colissimo", "url": PARCEL.tracking_url}
    ]
    assert fulfillment["_notify"] is True
    assert order["displayFulfillmentStatus"] == "FULFILLED" and order["updatedAt"] > before
    assert sink.read_statuses([oid]) == {oid: "shipped"}

    again = sink.write_statuses([StatusWrite(oid, "shipped", (PARCEL,))])
    assert again.errors == [] and again.answers[oid] == {"before": "shipped"}
    assert len(order["_fulfillments"]) == 1 and fake.calls("fulfillmentCreate") == 1


def test_notify_customer_follows_the_settings_and_unknown_orders_are_errors() -> None:
    fake, clock = setup()
    order = fake_orders.place_order(fake, lines=[("TEE-M", 1, "24.00")])
    result = shop(fake, clock, notify_customer=False).write_statuses(
        [StatusWrite(order["id"], "shipped", (PARCEL,)), StatusWrite("424242", "shipped", (PARCEL,))]
    )
    assert order["_fulfillments"][0]["_notify"] is False
    assert [(e.key, e.field) for e in result.errors] == [("424242", "order")]


def test_cancelled_calls_order_cancel_without_refund_and_never_backwards() -> None:
    fake, clock = setup()
    order = fake_orders.place_order(fake, lines=[("TEE-M", 1, "24.00")])
    fake_orders.pay(fake, order)
    sink = shop(fake, clock)
    oid = order["legacyResourceId"]

    result = sink.write_statuses([StatusWrite(oid, "cancelled")])

    assert result.errors == [] and result.answers[oid]["moved_to"] == "cancelled"
    assert order["cancelledAt"] and order["_cancel"]["refund"] is False and order["_cancel"]["restock"] is True
    assert order["_fulfillment_orders"][0]["status"] == "CANCELLED"
    # never backwards: a cancelled order is not shipped nor cancelled again
    later = sink.write_statuses([StatusWrite(oid, "shipped", (PARCEL,)), StatusWrite(oid, "cancelled")])
    assert later.errors == [] and later.answers[oid] == {"before": "cancelled"}
    assert fake.calls("orderCancel") == 1 and fake.calls("fulfillmentCreate") == 0


def test_a_shipped_order_is_not_moved_back_to_processing() -> None:
    fake, clock = setup()
    order = fake_orders.place_order(fake, lines=[("TEE-M", 1, "24.00")])
    sink = shop(fake, clock)
    oid = order["legacyResourceId"]
    sink.write_statuses([StatusWrite(oid, "shipped", (PARCEL,))])
    result = sink.write_statuses([StatusWrite(oid, "processing")])
    assert result.answers[oid] == {"before": "shipped"} and sink.read_statuses([oid]) == {oid: "shipped"}


def test_a_fulfilled_order_cannot_be_cancelled_and_it_is_that_orders_error() -> None:
    fake, clock = setup()
    order = fake_orders.place_order(fake, lines=[("TEE-M", 1, "24.00")])
    sink = shop(fake, clock)
    oid = order["legacyResourceId"]
    sink.write_statuses([StatusWrite(oid, "shipped", (PARCEL,))])
    result = sink.write_statuses([StatusWrite(oid, "cancelled")])
    assert [(e.key, e.field) for e in result.errors] == [(oid, "status.orderId")]


def test_a_document_link_is_an_order_metafield_set_once() -> None:
    fake, clock = setup()
    order = fake_orders.place_order(fake, lines=[("TEE-M", 1, "24.00")])
    sink = shop(fake, clock)
    assert isinstance(sink, DocumentLinkSink)
    url = "https://files.example.com/invoices/FA-2026-0001.pdf"
    oid = order["legacyResourceId"]

    first = sink.link_document(oid, "Invoice FA-2026-0001", url, key="FA-2026-0001")
    second = sink.link_document(oid, "Invoice FA-2026-0001", url, key="FA-2026-0001")

    assert first == second and fake.calls("metafieldsSet") == 1
    (metafield,) = order["_metafields"].values()
    assert (metafield["namespace"], metafield["key"], metafield["type"], metafield["value"]) == (
        "passerelle", "invoice_FA-2026-0001", "url", url)  # fmt: skip


def test_a_parcel_with_its_lines_fulfils_them_only_and_the_order_reads_processing() -> None:
    fake, clock = setup()
    order = fake_orders.place_order(fake, lines=[("TEE-M", 2, "24.00"), ("CAP", 1, "12.00")])
    sink = shop(fake, clock)
    oid = order["legacyResourceId"]
    part = Shipment("BL1", "Colissimo", "6A1", lines=[ShipmentLine("TEE-M", Decimal(1))])

    result = sink.write_statuses([StatusWrite(oid, "shipped", (part,))])

    assert result.errors == [] and order["displayFulfillmentStatus"] == "PARTIALLY_FULFILLED"
    assert sink.read_statuses([oid]) == {oid: "processing"}
    rest = Shipment("BL2", "Colissimo", "6A2")
    sink.write_statuses([StatusWrite(oid, "shipped", (part, rest))])
    assert [f["trackingInfo"][0]["number"] for f in order["_fulfillments"]] == ["6A1", "6A2"]
    assert sink.read_statuses([oid]) == {oid: "shipped"}


def test_fake_rules_fulfilling_a_cancelled_order_and_a_bad_url_are_user_errors() -> None:
    fake, clock = setup()
    order = fake_orders.place_order(fake, lines=[("TEE-M", 1, "24.00")])
    sink = shop(fake, clock)
    sink.write_statuses([StatusWrite(order["id"], "cancelled")])
    fo = order["_fulfillment_orders"][0]["id"]
    data = sink.client.execute(
        CREATE, {"fulfillment": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo}]}}, mutation=True
    )
    assert data["fulfillmentCreate"]["userErrors"][0]["message"].endswith("unfulfillable status= cancelled.")
    with pytest.raises(Refused) as refused:
        sink.link_document(order["legacyResourceId"], "Invoice", "ftp://nowhere/x.pdf", key="FA-1")
    assert refused.value.error.field == "document.metafields.0.value"
    with pytest.raises(Refused):
        sink.link_document("424242", "Invoice", "https://files.example.com/x.pdf", key="FA-1")
