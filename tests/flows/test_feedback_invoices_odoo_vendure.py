"""Statuses and invoice PDFs from Odoo (the contract fake) to a real Vendure, under Prefect: an order
imported from Vendure, shipped in Odoo (its delivery picking done with a tracking reference), shows
Shipped with the parcel in Vendure once; its down payment and final invoices, posted with their
PDF, reach the customer's order page through S3 (moto on loopback), each once."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from deployments.sandbox import vendure_ops as shop_ops
from deployments.sandbox.fakes.odoo import OdooFake
from deployments.sandbox.fakes.odoo.catalog import ship, store_pdf
from flows.feedback import feedback_status
from flows.invoices import upload_invoices
from flows.orders import import_orders
from tests.flows.helpers import pdf, storage_toml, vendure_client
from tests.flows.test_orders_odoo_vendure import odoo, setup_shop, web_orders, web_orders_by_id

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]
__all__ = ["odoo"]  # the fixture, imported from the order flow's tests

SINCE = datetime(2020, 1, 1, tzinfo=timezone.utc)
ORDER = "query($id: ID!) { order(id: $id) { state fulfillments { trackingCode } history { items { type data } } } }"


def view(vendure: Any, order_id: str) -> dict[str, Any]:
    client = vendure_client(vendure)
    try:
        return dict(client.query(ORDER, {"id": order_id})["order"])
    finally:
        client.close()


def posted_final_invoice(fake: OdooFake, order_id: int) -> int:
    """The accountant's regular invoice (down payment deducted), posted."""
    context = {"active_model": "sale.order", "active_ids": [order_id]}
    before = set(web_orders_by_id(fake)[order_id]["invoice_ids"])
    wizard = fake.call("sale.advance.payment.inv", "create", [{"advance_payment_method": "delivered"}], {}, context)
    fake.call("sale.advance.payment.inv", "create_invoices", [[wizard]], {}, context)
    (new,) = set(web_orders_by_id(fake)[order_id]["invoice_ids"]) - before
    fake.call("account.move", "action_post", [[new]], {}, {})
    return int(new)


def test_a_delivery_done_in_odoo_and_its_invoices_reach_the_vendure_order_once(
    odoo: OdooFake, vendure: Any, s3_server: dict[str, str], bucket: Any, tmp_path: Path
) -> None:
    config = setup_shop(tmp_path, vendure, odoo)
    with open(config, "a", encoding="utf-8") as file:
        file.write(storage_toml(bucket, s3_server))
    placed = shop_ops.place_order(vendure.shop_api_url, skus_quantities={"MUG": 2}, email="colis@example.com")
    assert import_orders(config=config)["imported"] == 1
    row = web_orders(odoo)[placed["id"]]

    ship(odoo, row["id"], "6A11223344556")
    shipped = feedback_status(config=config, since=SINCE)
    assert (shipped["updated"], shipped["failed"], shipped["quarantined"]) == (1, 0, 0), shipped
    order = view(vendure, placed["id"])
    assert order["state"] == "Shipped" and [f["trackingCode"] for f in order["fulfillments"]] == ["6A11223344556"]
    assert feedback_status(config=config, since=SINCE)["updated"] == 0

    final = posted_final_invoice(odoo, row["id"])
    for move in web_orders_by_id(odoo)[row["id"]]["invoice_ids"]:
        store_pdf(odoo, move, pdf(f"Odoo invoice {move}"))
    uploaded = upload_invoices(config=config, since=SINCE)
    assert (uploaded["uploaded"], uploaded["quarantined"], uploaded["failed"]) == (2, 0, 0), uploaded
    stored = [bucket.Object(o.key).get()["Body"].read() for o in bucket.objects.all()]
    assert sorted(stored) == sorted(pdf(f"Odoo invoice {m}") for m in web_orders_by_id(odoo)[row["id"]]["invoice_ids"])
    assert final in web_orders_by_id(odoo)[row["id"]]["invoice_ids"]
    moves = web_orders_by_id(odoo)[row["id"]]["invoice_ids"]
    names = [str(m["name"]) for m in odoo.read("account.move", moves, ["name"])]
    notes = [h["data"]["note"] for h in view(vendure, placed["id"])["history"]["items"] if h["type"] == "ORDER_NOTE"]
    assert [sum(1 for n in notes if n.startswith(f"Invoice {name}: ")) for name in names] == [1, 1]
    again = upload_invoices(config=config, since=SINCE)
    assert (again["uploaded"], again["already_done"]) == (0, 2)
