"""Status feedback and invoice PDFs from a real Tryton to a real Vendure, PDFs through moto's S3
server, under Prefect: the shipment's tracking number reaches the customer, each PDF is stored
once and linked once, a PDF Tryton cannot give is quarantined while the others go on."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.base import StockWrite
from connectors.erp.tryton.client import TrytonClient
from connectors.shop.vendure.factory import VendureShop
from deployments.sandbox import tryton_ops as ops
from deployments.sandbox import vendure_ops as shop_ops
from flows.catalogue import publish_catalogue
from flows.feedback import feedback_status
from flows.invoices import upload_invoices
from flows.orders import import_orders
from tests.fixtures.catalogues import web_catalogue
from tests.fixtures.system import soffice_or_skip
from tests.flows.helpers import shop_variants, storage_toml, tryton_erp, vendure_client, write_config

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]

PASSWORD = "feedback-flow-secret"
TRACKING = "6A12345678901"
LA_POSTE = "https://www.laposte.fr/outils/suivre-vos-envois?code={tracking}"
ORDER = "query O($id: ID!) { order(id: $id) { state fulfillments { id state method trackingCode } } }"
DELIVER = """mutation D($id: ID!) { transitionFulfillmentToState(id: $id, state: "Delivered") {
  __typename ... on Fulfillment { state } ... on ErrorResult { errorCode message } } }"""


@pytest.fixture(scope="module")
def tryton(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from deployments.sandbox.tryton import TrytonSandbox

    soffice_or_skip()
    sandbox = TrytonSandbox(admin_password=PASSWORD, workdir=tmp_path_factory.mktemp("tryton-feedback-flow"))
    sandbox.start()  # after LibreOffice: Tryton converts invoices to PDF when it posts them
    sandbox.seed(web_catalogue("H"), mode="orm")
    client = TrytonClient(sandbox.url, sandbox.database, login=sandbox.login, password=sandbox.password)
    ops.invoice_report_extension(client, "pdf")
    client.close()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture(scope="module")
def erp(tryton: Any) -> Iterator[TrytonClient]:
    client = TrytonClient(tryton.url, tryton.database, login=tryton.login, password=tryton.password)
    try:
        yield client
    finally:
        client.close()


def setup_shop(tmp_path: Path, tryton: Any, vendure: Any, s3_server: dict[str, str], bucket: Any) -> str:
    erp_block = tryton_erp(tryton) + '\n[connections.main.erp.orders]\nshop = "fb"\n'
    extra = f"""
[connections.main.feedback.tracking_urls]
"Colissimo" = "{LA_POSTE}"
[connections.main.invoices]
title = "Facture {{number}}"
credit_note_title = "Avoir {{number}}"
{storage_toml(bucket, s3_server)}"""
    config = str(write_config(tmp_path, erp=erp_block, vendure=vendure, catalogue=extra))
    os.environ["TEST_TRYTON_PASSWORD"] = tryton.password
    assert publish_catalogue(config=config)["created"] == 3
    client = vendure_client(vendure)
    try:
        writes = [StockWrite(sku, v["id"], 100) for sku, v in shop_variants(vendure).items()]
        assert not VendureShop(client).write_stock(writes).errors
    finally:
        client.close()
    return config


def sale_of(erp: TrytonClient, shop_id: str) -> dict[str, Any]:
    (sale,) = erp.model("sale.sale").search_read(
        [("reference", "=", f"fb:{shop_id}")], ["id", "advance_payment_invoices", "invoices"]
    )
    return sale


def test_tracking_and_invoice_pdfs_reach_the_customer_once(
    tryton: Any, erp: TrytonClient, vendure: Any, s3_server: dict[str, str], bucket: Any, tmp_path: Path
) -> None:
    config = setup_shop(tmp_path, tryton, vendure, s3_server, bucket)
    placed = shop_ops.place_order(
        vendure.shop_api_url, skus_quantities={"H-MUG": 2, "H-BOOK": 1}, email="a@example.com"
    )
    other = shop_ops.place_order(vendure.shop_api_url, skus_quantities={"H-MUG": 1}, email="b@example.com")
    assert import_orders(config=config)["imported"] == 2
    sale = sale_of(erp, placed["id"])

    # The warehouse ships with a Colissimo tracking number: the shop order is shipped with it.
    ops.ship_with_tracking(erp, sale["id"], TRACKING, carrier="Colissimo")
    shipped = feedback_status(config=config)
    assert (shipped["updated"], shipped["failed"], shipped["quarantined"]) == (1, 0, 0)
    admin = vendure_client(vendure)
    try:
        order = admin.query(ORDER, {"id": placed["id"]})["order"]
        assert order["state"] == "Shipped"
        assert [(f["method"], f["trackingCode"]) for f in order["fulfillments"]] == [("Colissimo", TRACKING)]
        seen = shop_ops.customer_order(vendure.shop_api_url, placed["code"], token=placed["token"])
        assert TRACKING in str(seen) and LA_POSTE.replace("{tracking}", TRACKING) in str(seen)

        # Nothing changed: nothing sent, not even a question to the shop.
        again = feedback_status(config=config)
        assert (again["updated"], again["api_calls"]) == (0, 0) and again["unchanged"] >= 1

        # Delivered (marked in the shop by the carrier's webhook): never set back to shipped.
        (fulfillment,) = order["fulfillments"]
        assert admin.execute(DELIVER, {"id": fulfillment["id"]})["transitionFulfillmentToState"]["state"] == "Delivered"
        feedback_status(config=config, order_ids=[placed["id"]])
        assert admin.query(ORDER, {"id": placed["id"]})["order"]["state"] == "Delivered"
    finally:
        admin.close()

    # The final invoice is posted (Tryton renders the PDF then); the other order's final invoice is
    # posted while the report gives ODT: no PDF to show, quarantined, the others go on.
    final = ops.final_invoice(erp, sale["id"])
    erp.model("account.invoice").post([final["id"]])
    other_sale = sale_of(erp, other["id"])
    ops.ship_with_tracking(erp, other_sale["id"], "6A12345678902", carrier="Colissimo")
    ops.invoice_report_extension(erp, "")
    try:
        other_final = ops.final_invoice(erp, other_sale["id"])
        erp.model("account.invoice").post([other_final["id"]])
    finally:
        ops.invoice_report_extension(erp, "pdf")

    run = upload_invoices(config=config)
    # Two deposits (posted at the import) and the first order's final invoice.
    assert (run["uploaded"], run["quarantined"], run["failed"]) == (3, 1, 0)
    [refused] = [q for q in run["quarantine"] if q["key"] == str(other_final["id"])]
    assert refused["field"] == "pdf"
    objects = list(bucket.objects.all())
    assert len(objects) == 3 and all(o.key.endswith(".pdf") for o in objects)
    for obj in objects:
        assert obj.get()["Body"].read().startswith(b"%PDF-")
    seen = shop_ops.customer_order(vendure.shop_api_url, placed["code"], token=placed["token"])
    links = [entry for entry in seen["history"]["items"] if "Facture" in str(entry)]
    assert len(links) == 2  # deposit and final invoice, as public notes the customer reads
    url = next(word for word in str(links[0]).split() if word.startswith("http"))
    assert httpx.get(url.rstrip("'\"},"), timeout=10).content.startswith(b"%PDF-")

    # Re-run: nothing rendered, uploaded or linked again.
    rerun = upload_invoices(config=config)
    assert (rerun["uploaded"], rerun["linked_only"]) == (0, 0) and rerun["already_done"] >= 3
    assert len(list(bucket.objects.all())) == 3

    # A credit note is handled the same way.
    (deposit_id,) = sale["advance_payment_invoices"]
    ops.credit_invoice(erp, deposit_id)
    credit = upload_invoices(config=config)
    assert credit["uploaded"] == 1
    assert [d["kind"] for d in credit["documents"] if d["status"] == "uploaded"] == ["credit_note"]
    # The invoice without a PDF is tried again each run, and stays in quarantine.
    assert [d["status"] for d in credit["documents"] if d["kind"] == "invoice"] == ["quarantined"]
    assert len(list(bucket.objects.all())) == 4
