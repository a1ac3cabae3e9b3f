"""Statuses and invoice PDFs from Dolibarr (the contract fake) to a real Vendure, under Prefect: an
order imported from Vendure, shipped in Dolibarr with its tracking number, shows Shipped with the
parcel in Vendure once; its deposit and final invoices reach the customer's order page through S3
(moto on loopback), each once."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from deployments.sandbox import vendure_ops as shop_ops
from deployments.sandbox.fakes.dolibarr import FakeDolibarr
from flows.feedback import feedback_status
from flows.invoices import upload_invoices
from flows.orders import import_orders
from tests.flows.helpers import storage_toml, vendure_client
from tests.flows.test_orders_dolibarr_vendure import dolibarr, final_invoice, setup_shop, web_orders

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]
__all__ = ["dolibarr"]  # the fixture, imported from the order flow's tests

SINCE = datetime(2020, 1, 1, tzinfo=timezone.utc)  # the fake's clock is the captures' (November 2026)
ORDER = "query($id: ID!) { order(id: $id) { state fulfillments { state method trackingCode } history { items { type data } } } }"


def view(vendure: Any, order_id: str) -> dict[str, Any]:
    client = vendure_client(vendure)
    try:
        return dict(client.query(ORDER, {"id": order_id})["order"])
    finally:
        client.close()


def test_a_parcel_shipped_in_dolibarr_and_its_invoices_reach_the_vendure_order_once(
    dolibarr: FakeDolibarr, vendure: Any, s3_server: dict[str, str], bucket: Any, tmp_path: Path
) -> None:
    config = setup_shop(tmp_path, vendure)
    with open(config, "a", encoding="utf-8") as file:
        file.write(storage_toml(bucket, s3_server))
    placed = shop_ops.place_order(vendure.shop_api_url, skus_quantities={"D-MUG": 2}, email="colis@example.com")
    assert import_orders(config=config)["imported"] == 1
    row = web_orders(dolibarr)[placed["id"]]

    dolibarr.add_shipment(int(row["id"]), tracking="6A11223344556", method="Colissimo", lines={"D-MUG": "2"})
    dolibarr.set_order_status(int(row["id"]), 2)
    shipped = feedback_status(config=config, since=SINCE)
    assert (shipped["updated"], shipped["failed"], shipped["quarantined"]) == (1, 0, 0), shipped
    order = view(vendure, placed["id"])
    assert order["state"] == "Shipped"
    assert [(f["method"], f["trackingCode"]) for f in order["fulfillments"]] == [("Colissimo", "6A11223344556")]
    assert feedback_status(config=config, since=SINCE)["updated"] == 0

    final = final_invoice(dolibarr, row["id"])
    uploaded = upload_invoices(config=config, since=SINCE)
    assert (uploaded["uploaded"], uploaded["quarantined"], uploaded["failed"]) == (2, 0, 0), uploaded  # deposit + final
    stored = sorted(o.key for o in bucket.objects.all())
    assert len(stored) == 2 and any(str(final["ref"]) in key for key in stored)
    assert all(bucket.Object(key).get()["Body"].read().startswith(b"%PDF-") for key in stored)
    notes = [h["data"]["note"] for h in view(vendure, placed["id"])["history"]["items"] if h["type"] == "ORDER_NOTE"]
    assert sum(1 for n in notes if str(final["ref"]) in n) == 1
    again = upload_invoices(config=config, since=SINCE)
    assert (again["uploaded"], again["already_done"]) == (0, 2)
