"""WooCommerce as a status sink and a document link sink, against the fake (captured order 14 and its notes)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from connectors.base import CatalogueSink, DocumentLinkSink, OrderSource, PriceSink, StatusSink, StatusWrite, StockSink
from connectors.errors import Refused
from connectors.models import Shipment
from connectors.shop.woocommerce import build
from tests.contract.test_woocommerce_catalogue import shop
from tests.contract.test_woocommerce_orders import taxed_order
from tests.contract.woocommerce_fake import KEY, SECRET, SITE, FakeWooCommerce, load

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
    # the sequence a shop manager would follow: tracking first, the customer told, then completed
    assert [(m, p, sorted(b)) for m, p, b in fake.writes()] == [
        ("PUT", "/orders/14", ["meta_data"]), ("POST", "/orders/14/notes", ["customer_note", "note"]),
        ("PUT", "/orders/14", ["status"])]  # fmt: skip

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
    assert len(customer) == 1 and customer[0]["note"].startswith(f"Invoice FA0001: {url}")
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
