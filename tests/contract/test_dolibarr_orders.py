"""Dolibarr as an order sink against the fake: thirdparty by shop id then e-mail, sales order with
lines / shipping / discount, total within tolerance, idempotent on ref_ext, deposit invoice (type 3)
validated, paid and made a discount the final invoice deducts (invoice_final_with_deposit_line.json)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from connectors.erp.dolibarr.connector import DolibarrConnector
from connectors.erp.dolibarr.order_rules import OrderRefused, deposit_lines, remise_percent, total_adjustment
from connectors.errors import Skip
from connectors.models import Address, Customer, Discount, Order, OrderLine, Payment
from deployments.sandbox.fakes.dolibarr import FakeDolibarr
from tests.contract.test_dolibarr_catalogue import erp

WHEN = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)
HOME = Address("Ada", "Lovelace", "1 rue de la Paix", "75002", "Paris", "FR")
OFFICE = Address("Ada", "Lovelace", "2 avenue Foch", "69006", "Lyon", "FR", company="Analytical")


def order(
    shop_id: str = "42", *, paid: str | None = "75.00", customer_id: str | None = "7", **changes: object
) -> Order:
    """3 x PEER-SKU-001 at 20.00 HT (orders.json), shipping 5.00 HT at 20 %, a 2.50 HT coupon."""
    values: dict[str, object] = dict(
        shop_id=shop_id, reference=f"WEB-{shop_id}", state="PaymentSettled", created_at=WHEN, updated_at=WHEN,
        currency="EUR", customer=Customer("ada@example.com", shop_id=customer_id, first_name="Ada", last_name="Lovelace"),
        billing=HOME, shipping=OFFICE,
        lines=[OrderLine("L1", "PEER-SKU-001", "Peer test product", Decimal(3), Decimal(20), Decimal(20),
                         Decimal(60), Decimal(72))],
        total=Decimal("62.50"), total_tax_included=Decimal("75.00"), shipping_method="Colissimo",
        shipping_price=Decimal(5), shipping_price_tax_included=Decimal(6), shipping_vat_rate=Decimal(20),
        discounts=[Discount("Coupon", Decimal("2.50"), Decimal("3.00"), code="HELLO")],
        payments=[Payment("card", Decimal(paid), "settled", "tx-1", WHEN)] if paid else [],
    )  # fmt: skip
    values.update(changes)
    return Order(**values)  # type: ignore[arg-type]


def final_invoice(fake: FakeDolibarr, connector: DolibarrConnector, order_id: str) -> dict[str, object]:
    """What the accountant does: invoice the order, deduct the deposit's discount, validate."""
    invoice = connector.client.post(f"invoices/createfromorder/{order_id}")
    for discount in fake.discounts.values():
        connector.client.post(f"invoices/{invoice['id']}/usediscount/{discount['id']}")
    return connector.client.post(f"invoices/{invoice['id']}/validate", {"notrigger": 0})


def test_paid_order_with_deposit_deducted_by_the_final_invoice() -> None:
    fake = FakeDolibarr()
    connector = erp(fake, orders={"shop": "web"})
    web = order()
    ref = connector.import_order(web, {"L1": "1"})
    row = fake.orders[int(ref.erp_id)]
    assert (row["statut"], row["ref_ext"], row["ref_client"], row["total_ttc"]) == (
        "1",
        "web:42",
        "WEB-42",
        "75.00000000",
    )
    assert ref.reference == row["ref"] and ref.total_tax_included == Decimal("75.00")
    assert [(line["desc"], line["total_ht"]) for line in row["lines"]] == [
        ("Peer test product", "60.00000000"), ("Colissimo", "5.00000000"), ("Coupon (HELLO)", "-2.50000000")
    ]  # fmt: skip
    party = fake.thirdparties[int(row["socid"])]
    assert (party["ref_ext"], party["email"], party["code_client"]) == ("web:c:7", "ada@example.com", "CU2611-00002")
    assert row["_contacts"] == [(1, "SHIPPING")] and fake.contacts[1]["town"] == "Lyon"

    deposit_id = connector.record_payment(ref, web.payments[0])
    deposit = fake.invoices[int(deposit_id)]
    assert (deposit["type"], deposit["statut"], deposit["paye"], deposit["total_ttc"]) == ("3", "2", "1", "75.00000000")
    assert deposit["linkedObjectsIds"] == {"commande": {"1": ref.erp_id}}
    assert connector.record_payment(ref, web.payments[0]) == deposit_id  # idempotent: nothing sent again
    assert len(fake.payments[int(deposit_id)]) == 1 and len(fake.discounts) == 1

    final = final_invoice(fake, connector, ref.erp_id)
    assert Decimal(str(final["total_ttc"])) == ref.total_tax_included - Decimal(deposit["total_ttc"]) == 0
    assert final["lines"][0]["desc"] == "(DEPOSIT)" and final["lines"][0]["info_bits"] == "2"


def test_partial_payment_deposit_and_final_invoice_for_the_rest() -> None:
    fake = FakeDolibarr()
    connector = erp(fake)
    web = order(paid="30.00")
    ref = connector.import_order(web, {"L1": "1"})
    deposit = fake.invoices[int(connector.record_payment(ref, web.payments[0]))]
    assert deposit["total_ttc"] == "30.00000000"  # 62.50 HT x 30/75 = 25.00 HT + 5.00 VAT
    final = final_invoice(fake, connector, ref.erp_id)
    assert Decimal(str(final["total_ttc"])) == Decimal("75.00") - Decimal("30.00")


def test_import_is_idempotent_and_customer_found_again() -> None:
    fake = FakeDolibarr()
    connector = erp(fake)
    first = connector.import_order(order(), {"L1": "1"})
    assert connector.import_order(order(), {"L1": "1"}) == first
    assert connector.find_orders(["42", "43"]) == {"42": first}
    second = connector.import_order(order("43", customer_id=None), {"L1": "1"})  # guest: found by e-mail
    assert len(fake.orders) == 2 and len(fake.thirdparties) == 2 and second.customer_id == first.customer_id
    assert len(fake.contacts) == 1  # the same shipping address: the same contact


def test_a_draft_left_by_a_cut_off_import_is_made_again() -> None:
    fake = FakeDolibarr()
    connector = erp(fake)
    fake.fail_next["orders/1/validate"] = 503
    with pytest.raises(Exception, match="503"):
        connector.import_order(order(), {"L1": "1"})
    assert fake.orders[1]["statut"] == "0" and connector.find_orders(["42"]) == {}
    ref = connector.import_order(order(), {"L1": "1"})
    assert list(fake.orders) == [int(ref.erp_id)] and fake.orders[int(ref.erp_id)]["statut"] == "1"


def test_refusals_unbound_line_and_total_too_far() -> None:
    fake = FakeDolibarr()
    connector = erp(fake)
    with pytest.raises(OrderRefused, match="no Dolibarr product is bound"):
        connector.import_order(order(), {})
    with pytest.raises(OrderRefused, match="Dolibarr computes 75.00000000 but the shop charged 80.00"):
        connector.import_order(order(total_tax_included=Decimal("80.00")), {"L1": "1"})
    assert fake.orders == {}  # the refused draft was deleted


def test_adjustment_within_tolerance_and_unpaid_orders() -> None:
    fake = FakeDolibarr()
    connector = erp(fake)
    ref = connector.import_order(order(total_tax_included=Decimal("75.03"), paid=None), {"L1": "1"})
    assert ref.total_tax_included == Decimal("75.03")
    with pytest.raises(Skip):
        connector.record_payment(ref, Payment("transfer", Decimal(75), "pending"))


def test_pure_rules() -> None:
    line = OrderLine("L", "S", "n", Decimal(3), Decimal(10), Decimal(20), Decimal(27), Decimal("32.4"), Decimal(3))
    assert remise_percent(line) == Decimal(10)
    assert total_adjustment("1", Decimal("10.00"), Decimal("10.04"), Decimal("0.05")) == Decimal("0.04")
    lines = deposit_lines(
        [{"tva_tx": "20.0000", "total_ht": "60"}, {"tva_tx": "5.5000", "total_ht": "10"}], Decimal("0.3"), "Acompte"
    )
    assert [(x["tva_tx"], x["subprice"]) for x in lines] == [("5.5", "3.00"), ("20", "18.00")]  # the capture's 18.00
