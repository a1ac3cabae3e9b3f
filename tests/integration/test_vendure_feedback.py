"""Vendure as a status sink and a document link sink, against a real Vendure 3.7: paid orders placed
through the Shop API are shipped (fulfillments with carrier and tracking code), partly shipped,
delivered, cancelled; tracking URLs and invoice links become notes the customer sees in their
account (read back through the Shop API); second writes change nothing; a refused order is a
RecordError while the other orders of its batch are written.

One shop for the module; every test places its own orders.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from graphql import build_schema, parse, validate

from connectors.base import DocumentLinkSink, ProductWrite, StatusSink, StatusWrite, StockWrite
from connectors.errors import Refused
from connectors.models import Product, Shipment, ShipmentLine, Variant
from connectors.shop.vendure.client import VendureClient
from connectors.shop.vendure.factory import VendureShop
from deployments.sandbox import vendure_ops as ops
from deployments.sandbox.vendure import VendureSandbox

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vendure-3.7"

# Admin API documents of these tests only (validated below).
ORDER_VIEW = """query OrderView($id: ID!) { order(id: $id) {
  state totalWithTax
  fulfillments { id state method trackingCode lines { orderLineId quantity } }
  lines { id productVariant { sku } }
  payments { id state amount refunds { total state } }
  history { items { type isPublic data } }
} }"""
ADD_PENDING = """mutation AddPending($input: FulfillOrderInput!) { addFulfillmentToOrder(input: $input) {
  __typename ... on Fulfillment { id state } ... on ErrorResult { errorCode message } } }"""
REFUND = """mutation Refund($input: RefundOrderInput!) { refundOrder(input: $input) {
  __typename ... on Refund { id state total } ... on ErrorResult { errorCode message } } }"""
SETTLE_REFUND = """mutation SettleRefund($id: ID!) { settleRefund(input: {id: $id, transactionId: "refund-fb"}) {
  __typename ... on Refund { state } ... on ErrorResult { errorCode message } } }"""
TEST_DOCUMENTS = (ORDER_VIEW, ADD_PENDING, REFUND, SETTLE_REFUND)

URL = "https://track.example/parcel/"


@dataclass
class World:
    sandbox: VendureSandbox
    shop: VendureShop
    variants: dict[str, str]

    def place(self, skus: dict[str, int], *, paid: bool = True, email: str = "camille@example.com") -> dict[str, Any]:
        return ops.place_order(self.sandbox.shop_api_url, skus_quantities=skus, email=email, paid=paid)

    def view(self, order_id: str) -> dict[str, Any]:
        return dict(self.shop.client.query(ORDER_VIEW, {"id": order_id})["order"])

    def customer(self, placed: dict[str, Any]) -> dict[str, Any]:
        return ops.customer_order(self.sandbox.shop_api_url, placed["code"], token=placed["token"])

    def write(self, *writes: StatusWrite) -> tuple[Any, int]:
        """The sink's answer and how many requests it took."""
        self.shop.client.http.stats.calls = 0
        result = self.shop.write_statuses(list(writes))
        return result, self.shop.client.http.stats.calls


def _product(key: str, name: str, skus: list[str]) -> ProductWrite:
    variants = [
        Variant(
            key=sku,
            sku=sku,
            name=f"{name} {sku}",
            price=D("10.00"),
            currency="EUR",
            vat_rate=D(20),
            tax_category="Standard Tax",
            options={"size": sku.rsplit("-", 1)[-1]} if len(skus) > 1 else {},
        )
        for sku in skus
    ]
    return ProductWrite(
        product=Product(
            key=key, name=name, slug=name.lower(), variants=variants, option_groups=["size"] if len(skus) > 1 else []
        ),
        ref=None,
        product_fields=frozenset({"name", "slug", "description", "enabled", "option_groups", "categories"}),
        create_variants=[v.key for v in variants],
    )


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with VendureSandbox(password="vendure-feedback-test") as sandbox:
        client = VendureClient(sandbox.admin_api_url, username=sandbox.username, password=sandbox.password)
        shop = VendureShop(client)
        result = shop.write_products(
            [
                _product("g:TEE", "Tee", ["TEE-S", "TEE-M"]),
                _product("g:BOOK", "Book", ["BOOK-1"]),
                _product("g:MUG", "Mug", ["MUG-1"]),
            ]
        )
        assert not result.errors
        variants = {sku: vid for ref in result.refs.values() for sku, vid in ref.variant_ids.items()}
        assert not shop.write_stock([StockWrite(sku, vid, 1000) for sku, vid in variants.items()]).errors
        try:
            yield World(sandbox, shop, variants)
        finally:
            shop.close()


def fulfillments(view: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(f["state"], f["method"], f["trackingCode"]) for f in view["fulfillments"]]


def notes(history: dict[str, Any]) -> list[str]:
    return [h["data"]["note"] for h in history["items"] if h["type"] == "ORDER_NOTE"]


def test_documents_of_these_tests_validate() -> None:
    schema = build_schema((FIXTURES / "admin-api.graphql").read_text())
    for document in TEST_DOCUMENTS:
        assert validate(schema, parse(document)) == [], document


def test_vendure_shop_is_a_status_sink_and_a_document_link_sink(world: World) -> None:
    assert isinstance(world.shop, StatusSink)
    assert isinstance(world.shop, DocumentLinkSink)


def test_read_statuses_in_one_request_unknown_ids_and_carts_left_out(world: World) -> None:
    settled = world.place({"BOOK-1": 1})
    authorised = world.place({"BOOK-1": 1}, paid=False)
    cart = ops.place_order(
        world.sandbox.shop_api_url, skus_quantities={"BOOK-1": 1}, email="cart@example.com", checkout=False
    )
    world.shop.client.http.stats.calls = 0
    statuses = world.shop.read_statuses([settled["id"], authorised["id"], cart["id"], "999999"])
    assert world.shop.client.http.stats.calls == 1
    assert statuses == {settled["id"]: "processing", authorised["id"]: "open"}


def test_ship_with_tracking_then_the_same_write_changes_nothing(world: World) -> None:
    placed = world.place({"TEE-S": 2, "BOOK-1": 1})
    oid = placed["id"]
    parcel = Shipment("WH/OUT/001", "Colissimo", "6A0001", URL + "6A0001")
    result, calls = world.write(StatusWrite(oid, "shipped", (parcel,)))
    assert result.errors == []
    assert calls == 3  # read; add the fulfillment; ship it and note the tracking URL
    assert world.shop.read_statuses([oid]) == {oid: "shipped"}
    view = world.view(oid)
    assert view["state"] == "Shipped"
    assert fulfillments(view) == [("Shipped", "Colissimo", "6A0001")]
    assert sorted(fl["quantity"] for fl in view["fulfillments"][0]["lines"]) == [1, 2]  # empty shipment: every line
    assert result.answers[oid]["fulfillments"] == {"6A0001": view["fulfillments"][0]["id"]}
    # The customer sees the parcel and the link in their account.
    customer = world.customer(placed)
    assert [(f["method"], f["trackingCode"]) for f in customer["fulfillments"]] == [("Colissimo", "6A0001")]
    [note] = notes(customer["history"])
    assert "Colissimo 6A0001" in note and URL + "6A0001" in note
    assert "ref:" not in note  # the idempotency key is in a private note, never shown to the customer
    assert [h["isPublic"] for h in view["history"]["items"] if h["type"] == "ORDER_NOTE"] == [True, False]

    again, calls = world.write(StatusWrite(oid, "shipped", (parcel,)))
    assert again.errors == [] and calls == 1  # the read only
    assert again.answers[oid]["skipped"] == "already shipped in Vendure"
    view = world.view(oid)
    assert fulfillments(view) == [("Shipped", "Colissimo", "6A0001")]
    assert len(notes(view["history"])) == 2  # the note and its private key, not written again


def test_partial_shipment_reads_shipped_and_the_second_parcel_completes_it(world: World) -> None:
    placed = world.place({"TEE-M": 1, "BOOK-1": 2})
    oid = placed["id"]
    first = Shipment("WH/OUT/010", "DHL", "DHL-10", None, lines=[ShipmentLine("TEE-M", D(1))])
    result, _ = world.write(StatusWrite(oid, "shipped", (first,)))
    assert result.errors == []
    view = world.view(oid)
    assert view["state"] == "PartiallyShipped"
    assert world.shop.read_statuses([oid]) == {oid: "shipped"}
    tee_line = next(line["id"] for line in view["lines"] if line["productVariant"]["sku"] == "TEE-M")
    assert view["fulfillments"][0]["lines"] == [{"orderLineId": tee_line, "quantity": 1}]

    second = Shipment("WH/OUT/011", "DHL", "DHL-11", None, lines=[ShipmentLine("BOOK-1", D(2))])
    result, calls = world.write(StatusWrite(oid, "shipped", (first, second)))
    assert result.errors == [] and calls == 3
    view = world.view(oid)
    assert view["state"] == "Shipped"
    assert fulfillments(view) == [("Shipped", "DHL", "DHL-10"), ("Shipped", "DHL", "DHL-11")]


def test_delivered_never_goes_back_to_shipped(world: World) -> None:
    placed = world.place({"BOOK-1": 1})
    oid = placed["id"]
    parcel = Shipment("WH/OUT/020", "UPS", "1Z020", None)
    result, calls = world.write(StatusWrite(oid, "delivered", (parcel,)))
    assert result.errors == [] and calls == 3
    assert world.view(oid)["state"] == "Delivered"
    assert world.shop.read_statuses([oid]) == {oid: "delivered"}

    for late in ("shipped", "processing"):
        result, calls = world.write(StatusWrite(oid, late, (parcel,)))
        assert result.errors == [] and calls == 1
    view = world.view(oid)
    assert view["state"] == "Delivered"
    assert fulfillments(view) == [("Delivered", "UPS", "1Z020")]


def test_shipped_then_delivered_moves_the_existing_fulfillment(world: World) -> None:
    placed = world.place({"TEE-S": 1})
    oid = placed["id"]
    parcel = Shipment("WH/OUT/030", "GLS", "GLS-30", None)
    assert world.write(StatusWrite(oid, "shipped", (parcel,)))[0].errors == []
    result, calls = world.write(StatusWrite(oid, "delivered", ()))
    assert result.errors == [] and calls == 2  # read; move the fulfillment
    assert fulfillments(world.view(oid)) == [("Delivered", "GLS", "GLS-30")]
    assert world.shop.read_statuses([oid]) == {oid: "delivered"}


def test_cancel_an_unshipped_order_reports_the_refund_and_moves_no_money(world: World) -> None:
    placed = world.place({"TEE-M": 1, "MUG-1": 1})
    oid = placed["id"]
    before = world.view(oid)
    # A parcel prepared in Vendure but never shipped is cancelled with the order.
    mug_line = next(line["id"] for line in before["lines"] if line["productVariant"]["sku"] == "MUG-1")
    pending = world.shop.client.execute(
        ADD_PENDING,
        {
            "input": {
                "lines": [{"orderLineId": mug_line, "quantity": 1}],
                "handler": {"code": "manual-fulfillment", "arguments": [{"name": "method", "value": "by hand"}]},
            }
        },
    )["addFulfillmentToOrder"]
    assert pending["state"] == "Pending"
    result, calls = world.write(StatusWrite(oid, "cancelled"))
    assert result.errors == [] and calls == 2
    total = D(before["totalWithTax"]) / 100
    assert result.answers[oid]["refund_due"] == f"{total:.2f} EUR"
    assert result.answers[oid]["cancelled"] is True
    view = world.view(oid)
    assert view["state"] == "Cancelled"
    assert fulfillments(view) == [("Cancelled", "by hand", "")]
    assert [(p["state"], p["refunds"]) for p in view["payments"]] == [("Settled", [])]  # no refund made
    assert world.shop.read_statuses([oid]) == {oid: "cancelled"}

    # Left alone afterwards, whatever the ERP says; a refund made by the merchant reads "refunded".
    result, calls = world.write(StatusWrite(oid, "shipped", (Shipment("X", "UPS", "1Z-late", None),)))
    assert result.errors == [] and calls == 1 and world.view(oid)["fulfillments"] == view["fulfillments"]
    payment = view["payments"][0]
    refund = world.shop.client.execute(
        REFUND,
        {
            "input": {
                "paymentId": payment["id"],
                "amount": payment["amount"],
                "reason": "cancelled",
                "shipping": 0,
                "adjustment": 0,
            }
        },
    )["refundOrder"]
    world.shop.client.execute(SETTLE_REFUND, {"id": refund["id"]})
    assert world.shop.read_statuses([oid]) == {oid: "refunded"}
    result, _ = world.write(StatusWrite(oid, "refunded"))
    assert result.errors == []


def test_cancel_an_authorised_order_reports_the_open_authorisation(world: World) -> None:
    placed = world.place({"BOOK-1": 1}, paid=False)
    oid = placed["id"]
    result, _ = world.write(StatusWrite(oid, "cancelled"))
    assert result.errors == []
    assert result.answers[oid]["authorized_payments"] == [world.view(oid)["payments"][0]["id"]]
    assert "refund_due" not in result.answers[oid]
    assert world.view(oid)["state"] == "Cancelled"


def test_refused_writes_leave_the_order_as_it_was(world: World) -> None:
    shipped = world.place({"BOOK-1": 1})
    assert world.write(StatusWrite(shipped["id"], "shipped", (Shipment("S", "UPS", "1Z-40", None),)))[0].errors == []
    authorised = world.place({"BOOK-1": 1}, paid=False)
    paid = world.place({"BOOK-1": 1})
    result, _ = world.write(
        StatusWrite(shipped["id"], "cancelled"),
        StatusWrite(authorised["id"], "shipped", (Shipment("A", "UPS", "1Z-41", None),)),
        StatusWrite(paid["id"], "refunded"),
        StatusWrite("999999", "shipped"),
    )
    errors = {(e.key, e.field): e.reason for e in result.errors}
    assert set(errors) == {
        (shipped["id"], "status"),
        (authorised["id"], "status"),
        (paid["id"], "status"),
        ("999999", "order"),
    }
    assert "return" in errors[(shipped["id"], "status")]
    assert "PaymentAuthorized" in errors[(authorised["id"], "status")]
    assert "never moves money" in errors[(paid["id"], "status")]
    assert world.view(shipped["id"])["state"] == "Shipped"
    assert world.view(authorised["id"])["fulfillments"] == []
    assert world.view(paid["id"])["payments"][0]["refunds"] == []


def test_error_results_are_record_errors_and_the_other_orders_are_written(world: World) -> None:
    too_many = world.place({"TEE-S": 1})
    no_stock = world.place({"MUG-1": 1})
    good = world.place({"TEE-M": 1})
    # The ERP shipped a mug the shop holds none of: Vendure refuses the fulfillment.
    mug = world.variants["MUG-1"]
    assert not world.shop.write_stock([StockWrite("MUG-1", mug, -1)]).errors  # on hand 0, 1 allocated
    result, calls = world.write(
        StatusWrite(
            too_many["id"], "shipped", (Shipment("T", "UPS", "1Z-50", None, lines=[ShipmentLine("TEE-S", D(3))]),)
        ),
        StatusWrite(no_stock["id"], "shipped", (Shipment("N", "UPS", "1Z-51", None),)),
        StatusWrite(good["id"], "shipped", (Shipment("G", "UPS", "1Z-52", URL + "1Z-52"),)),
    )
    errors = {e.key: e for e in result.errors}
    assert set(errors) == {too_many["id"], no_stock["id"]}
    assert (
        errors[too_many["id"]].field == "shipments" and "ITEMS_ALREADY_FULFILLED_ERROR" in errors[too_many["id"]].reason
    )
    assert (
        errors[no_stock["id"]].field == "shipments"
        and "INSUFFICIENT_STOCK_ON_HAND_ERROR" in errors[no_stock["id"]].reason
    )
    assert calls == 3
    assert world.view(good["id"])["state"] == "Shipped"
    assert world.view(too_many["id"])["fulfillments"] == world.view(no_stock["id"])["fulfillments"] == []
    assert world.shop.read_statuses([too_many["id"], no_stock["id"]]) == {
        too_many["id"]: "processing",
        no_stock["id"]: "processing",
    }
    assert not world.shop.write_stock([StockWrite("MUG-1", mug, 1000)]).errors


def test_unknown_sku_refuses_the_order_before_anything_is_sent(world: World) -> None:
    placed = world.place({"BOOK-1": 1})
    result, calls = world.write(
        StatusWrite(placed["id"], "shipped", (Shipment("U", "UPS", "1Z-60", None, lines=[ShipmentLine("NOPE", D(1))]),))
    )
    assert [(e.key, e.field) for e in result.errors] == [(placed["id"], "shipments")]
    assert "NOPE" in result.errors[0].reason
    assert calls == 1
    assert world.view(placed["id"])["fulfillments"] == []


def test_without_notify_the_tracking_note_is_private(world: World) -> None:
    placed = world.place({"BOOK-1": 1})
    oid = placed["id"]
    parcel = Shipment("WH/OUT/070", "Colissimo", "6A0070", URL + "6A0070")
    assert world.write(StatusWrite(oid, "shipped", (parcel,), notify=False))[0].errors == []
    admin = [h for h in world.view(oid)["history"]["items"] if h["type"] == "ORDER_NOTE"]
    assert [(h["isPublic"], URL + "6A0070" in h["data"]["note"]) for h in admin] == [(False, True), (False, False)]
    assert notes(world.customer(placed)["history"]) == []
    # The parcel itself (carrier, tracking code) is the customer's to see either way.
    assert [f["trackingCode"] for f in world.customer(placed)["fulfillments"]] == ["6A0070"]


def test_link_document_twice_is_one_public_note(world: World) -> None:
    placed = world.place({"BOOK-1": 1})
    oid = placed["id"]
    url = "https://erp.example/invoices/INV-2026-0042.pdf"
    world.shop.client.http.stats.calls = 0
    first = world.shop.link_document(oid, "Invoice INV-2026-0042", url, key="invoice:INV-2026-0042")
    assert world.shop.client.http.stats.calls == 2
    world.shop.client.http.stats.calls = 0
    second = world.shop.link_document(oid, "Invoice INV-2026-0042", url, key="invoice:INV-2026-0042")
    assert world.shop.client.http.stats.calls == 1
    assert first == second
    [note] = notes(world.customer(placed)["history"])
    assert note == f"Invoice INV-2026-0042: {url}"  # no internal key shown to the customer
    admin = [h for h in world.view(oid)["history"]["items"] if h["type"] == "ORDER_NOTE"]
    assert [h["isPublic"] for h in admin] == [True, False]
    other = world.shop.link_document(oid, "Credit note AV-7", url + "?cn", key="credit_note:AV-7")
    assert other != first and len(notes(world.customer(placed)["history"])) == 2
    with pytest.raises(Refused):
        world.shop.link_document("999999", "Invoice", url, key="invoice:x")
