"""Odoo as an order sink against the fake: customers, lines, totals, idempotency, deposits."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from connectors.base import OrderSink
from connectors.erp.odoo.factory import build
from connectors.errors import Refused, Skip
from connectors.models import Address, Customer, Discount, Order, OrderLine, Payment
from deployments.sandbox.fakes.odoo import OdooFake, seed_catalogue
from deployments.sandbox.fakes.odoo.catalog import connector_options, resolver

WHEN = datetime(2026, 6, 1, 9, 30, tzinfo=timezone.utc)


@pytest.fixture(params=[16, 18])
def fake(request: pytest.FixtureRequest) -> OdooFake:
    fake = OdooFake(version=request.param)
    fake.ids = seed_catalogue(fake)  # type: ignore[attr-defined]
    return fake


def connect(fake: OdooFake, **orders: Any):
    options = connector_options(fake, orders={"shop": "web", **orders})
    return build(options, resolver(fake), connection="web", transport=fake.transport, max_retries=0)


def address(**changes: Any) -> Address:
    values = {
        "first_name": "Jeanne",
        "last_name": "Martin",
        "street": "1 rue de la Paix",
        "postal_code": "75002",
        "city": "Paris",
        "country": "FR",
    }
    return Address(**{**values, **changes})


def web_order(
    shop_id: str = "101",
    *,
    email: str = "jeanne@example.com",
    customer_id: str | None = "c7",
    total: str = "60.00",
    **changes: Any,
) -> Order:
    """2 tees (20.00 + 20 % VAT), a mug (tax-included product, 10.00 net), shipping 5.00, a 5.00 coupon: 60.00."""
    values: dict[str, Any] = {
        "shop_id": shop_id,
        "reference": f"W{shop_id}",
        "state": "PaymentSettled",
        "created_at": WHEN,
        "updated_at": WHEN,
        "currency": "EUR",
        "customer": Customer(email=email, shop_id=customer_id, first_name="Jeanne", last_name="Martin"),
        "billing": address(),
        "shipping": address(street="5 avenue Foch"),
        "lines": [
            OrderLine(
                "l1",
                "TEE-RED-S",
                "Tee red S",
                Decimal(2),
                Decimal("20.00"),
                Decimal(20),
                Decimal("40.00"),
                Decimal("48.00"),
            ),
            OrderLine(
                "l2", "MUG", "Mug", Decimal(1), Decimal("10.00"), Decimal(20), Decimal("10.00"), Decimal("12.00")
            ),
        ],
        "total": Decimal("50.00"),
        "total_tax_included": Decimal(total),
        "shipping_method": "Colissimo",
        "shipping_price": Decimal("5.00"),
        "shipping_price_tax_included": Decimal("6.00"),
        "shipping_vat_rate": Decimal(20),
        "discounts": [Discount("Coupon", Decimal("5.00"), Decimal("6.00"), code="WELCOME")],
        "payments": [Payment("card", Decimal(total), "settled", transaction_id="tx-1", paid_at=WHEN)],
    }
    return Order(**{**values, **changes})


def bound(fake: OdooFake) -> dict[str, str]:
    ids = fake.ids  # type: ignore[attr-defined]
    return {"l1": str(ids["red_s"]), "l2": str(ids["mug"])}


def final_invoice(fake: OdooFake, order_id: int) -> dict[str, Any]:
    """The accountant's regular invoice, down payments deducted (the wizard's 'delivered')."""
    context = {"active_model": "sale.order", "active_ids": [order_id]}
    wizard = fake.call("sale.advance.payment.inv", "create", [{"advance_payment_method": "delivered"}], {}, context)
    before = set(fake.value("sale.order", fake.tables["sale.order"][order_id], "invoice_ids"))
    fake.call("sale.advance.payment.inv", "create_invoices", [[wizard]], {}, context)
    (new,) = set(fake.value("sale.order", fake.tables["sale.order"][order_id], "invoice_ids")) - before
    return fake.read("account.move", [new], ["amount_total", "invoice_line_ids"])[0]


def test_order_becomes_a_confirmed_sale_with_customer_addresses_and_lines(fake: OdooFake) -> None:
    sink = connect(fake)
    assert isinstance(sink, OrderSink)
    ref = sink.import_order(web_order(), bound(fake))
    assert ref.total_tax_included == Decimal("60.00")
    order = fake.read("sale.order", [int(ref.erp_id)], None)[0] | fake.tables["sale.order"][int(ref.erp_id)]
    assert (order["state"], order["client_order_ref"], order["origin"]) == ("sale", "web:101", "W101")
    assert order["carrier_id"] == fake.ids["carrier"]  # type: ignore[attr-defined]
    partner = fake.tables["res.partner"][order["partner_id"]]
    assert (partner["ref"], partner["email"], ref.customer_id) == ("web:c7", "jeanne@example.com", str(partner["id"]))
    invoice, delivery = (fake.tables["res.partner"][order[k]] for k in ("partner_invoice_id", "partner_shipping_id"))
    assert (invoice["type"], invoice["parent_id"], invoice["street"]) == ("invoice", partner["id"], "1 rue de la Paix")
    assert (delivery["type"], delivery["street"]) == ("delivery", "5 avenue Foch")
    lines = [fake.tables["sale.order.line"][i] for i in order["order_line"]]
    assert [line["price_unit"] for line in lines] == [
        20.0,
        12.0,
        5.0,
        -4.0,
        -1.2,
    ]  # mug and its coupon share tax-included
    # the reference is searched before anything is created
    assert fake.requests.index(("sale.order", "search_read")) < fake.requests.index(("sale.order", "create"))


def test_import_is_idempotent_and_find_orders_sees_only_confirmed(fake: OdooFake) -> None:
    sink = connect(fake)
    first = sink.import_order(web_order(), bound(fake))
    creates = fake.requests.count(("sale.order", "create"))
    assert sink.import_order(web_order(), bound(fake)) == first
    assert fake.requests.count(("sale.order", "create")) == creates
    assert sink.find_orders(["101", "999"]) == {"101": first}


def test_a_draft_left_by_a_cut_off_import_is_made_again(fake: OdooFake) -> None:
    partner = fake.seed("res.partner", name="x")
    draft = fake.seed("sale.order", partner_id=partner, client_order_ref="web:101")
    sink = connect(fake)
    assert sink.find_orders(["101"]) == {}
    ref = sink.import_order(web_order(), bound(fake))
    assert draft not in fake.tables["sale.order"] and int(ref.erp_id) != draft
    assert [o["client_order_ref"] for o in fake.tables["sale.order"].values()] == ["web:101"]


def test_repeat_customer_by_email_then_by_shop_id(fake: OdooFake) -> None:
    sink = connect(fake)
    a = sink.import_order(web_order("1", customer_id=None), bound(fake))  # a guest
    b = sink.import_order(web_order("2", email="JEANNE@example.com", customer_id="c9"), bound(fake))
    c = sink.import_order(web_order("3", email="new@example.com", customer_id="c9"), bound(fake))
    assert a.customer_id == b.customer_id == c.customer_id
    addresses = [p for p in fake.tables["res.partner"].values() if p.get("parent_id")]
    assert sorted(p["type"] for p in addresses) == ["delivery", "invoice"]  # the same addresses, not added again


def test_small_difference_is_an_adjustment_line_a_large_one_refuses(fake: OdooFake) -> None:
    sink = connect(fake)
    ref = sink.import_order(web_order("5", total="60.03"), bound(fake))
    assert ref.total_tax_included == Decimal("60.03")
    with pytest.raises(Refused, match="more than the tolerance") as caught:
        sink.import_order(web_order("6", total="61.00"), bound(fake))
    assert caught.value.error.field == "total_tax_included"
    assert [o["client_order_ref"] for o in fake.tables["sale.order"].values()] == ["web:5"]  # the refused one deleted


def test_unbound_article_and_vat_mismatch_are_refused(fake: OdooFake) -> None:
    sink = connect(fake)
    with pytest.raises(Refused, match="no ERP article bound"):
        sink.import_order(web_order(), {"l1": bound(fake)["l1"]})
    order = web_order()
    order.lines[0].vat_rate = Decimal("5.5")
    with pytest.raises(Refused, match="VAT differs"):
        sink.import_order(order, bound(fake))
    assert fake.tables["sale.order"] == {}


def test_deposit_posted_paid_once_and_deducted_by_the_final_invoice(fake: OdooFake) -> None:
    sink = connect(fake)
    order = web_order()
    ref = sink.import_order(order, bound(fake))
    invoice_id = sink.record_payment(ref, order.payments[0])
    assert sink.record_payment(ref, order.payments[0]) == invoice_id  # idempotent
    [deposit] = fake.read("account.move", [int(invoice_id)], ["state", "amount_total", "payment_state", "ref"])
    assert (deposit["state"], deposit["amount_total"], deposit["ref"]) == ("posted", 60.0, "web:101:tx-1")
    assert deposit["payment_state"] in ("paid", "in_payment")
    assert len(fake.tables["account.payment"]) == 1
    final = final_invoice(fake, int(ref.erp_id))
    assert final["amount_total"] == 0.0  # order total - deposit


def test_partial_deposit_leaves_the_rest_on_the_final_invoice(fake: OdooFake) -> None:
    sink = connect(fake)
    order = web_order()
    ref = sink.import_order(order, bound(fake))
    sink.record_payment(ref, Payment("card", Decimal("20.00"), "settled", transaction_id="tx-2"))
    assert final_invoice(fake, int(ref.erp_id))["amount_total"] == pytest.approx(40.0)


def test_a_deposit_invoice_whose_reference_was_not_written_is_adopted(fake: OdooFake) -> None:
    sink = connect(fake)
    order = web_order()
    ref = sink.import_order(order, bound(fake))
    context = {"active_model": "sale.order", "active_ids": [int(ref.erp_id)]}
    wizard = fake.call(
        "sale.advance.payment.inv", "create", [{"advance_payment_method": "fixed", "fixed_amount": 60.0}], {}, context
    )
    fake.call("sale.advance.payment.inv", "create_invoices", [[wizard]], {}, context)  # then the worker died
    sink.record_payment(ref, order.payments[0])
    assert len(fake.tables["account.move"]) == 1 and len(fake.tables["account.payment"]) == 1


def test_unsettled_payment_is_skipped(fake: OdooFake) -> None:
    sink = connect(fake)
    order = web_order()
    ref = sink.import_order(order, bound(fake))
    with pytest.raises(Skip):
        sink.record_payment(ref, Payment("card", Decimal(60), "authorized"))
    with pytest.raises(Skip):
        connect(fake, deposits=False).record_payment(ref, order.payments[0])


def test_an_underscore_in_an_email_is_no_wildcard(fake: OdooFake) -> None:
    sink = connect(fake)
    a = sink.import_order(web_order("1", email="jean_m@example.com", customer_id=None), bound(fake))
    b = sink.import_order(web_order("2", email="jeanXm@example.com", customer_id=None), bound(fake))
    c = sink.import_order(web_order("3", email="JEAN_M@example.com", customer_id=None), bound(fake))
    assert a.customer_id == c.customer_id != b.customer_id
