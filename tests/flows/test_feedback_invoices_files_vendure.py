"""A files ERP (Sage/EBP exports) closing the loop with a real Vendure: the delivery-note export's
tracking number reaches the shop order, the invoice PDF its folder holds lands in S3 (moto on
127.0.0.1) and on the customer's order, once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connectors.base import StockWrite
from connectors.shop.vendure.factory import VendureShop
from deployments.sandbox import vendure_ops as shop_ops
from flows.catalogue import publish_catalogue
from flows.feedback import feedback_status
from flows.invoices import upload_invoices
from flows.orders import import_orders
from tests.flows.helpers import GESCOM_DOCUMENTS, pdf, shop_variants, storage_toml, vendure_client, write_config

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]

EXPORT = "Référence;Désignation;Prix de vente HT;Taux TVA\nMUG;Mug émaillé;12,00;20\n"
ORDER = "query O($id: ID!) { order(id: $id) { state fulfillments { method trackingCode } } }"


def test_delivery_note_and_invoice_pdf_exports_reach_the_customer(
    vendure: Any, s3_server: dict[str, str], bucket: Any, tmp_path: Path
) -> None:
    for folder in ("export", "outbox", "pdf"):
        (tmp_path / folder).mkdir()
    (tmp_path / "export" / "articles.csv").write_bytes(EXPORT.encode("cp1252"))
    erp = (
        """type = "files"
path = "export/articles.csv"
[connections.main.erp.columns]
sku = "Référence"
name = "Désignation"
price = "Prix de vente HT"
vat_rate = "Taux TVA"
description = ""
ean = ""
weight = ""
group_key = ""
[connections.main.erp.orders]
outbox = "outbox"
shop = "vendure"
"""
        + GESCOM_DOCUMENTS
    )
    storage = storage_toml(bucket, s3_server)
    config = str(write_config(tmp_path, erp=erp, vendure=vendure, catalogue=storage))
    assert publish_catalogue(config=config)["created"] == 1
    client = vendure_client(vendure)
    try:
        variants = shop_variants(vendure)
        assert not VendureShop(client).write_stock([StockWrite(s, v["id"], 50) for s, v in variants.items()]).errors
    finally:
        client.close()
    placed = shop_ops.place_order(vendure.shop_api_url, skus_quantities={"MUG": 2}, email="zoe@example.com")
    assert import_orders(config=config)["imported"] == 1
    reference = f"vendure:{placed['id']}"

    # The GesCom ships (delivery note BL0001, Colissimo) and invoices it: its exports say so.
    (tmp_path / "export" / "livraisons.csv").write_bytes(
        (
            "Référence web;N° BL;Date BL;Transporteur;N° suivi;Article;Qté\n"
            f"{reference};BL0001;23/11/2026;Colissimo;6A99887766554;MUG;2\n"
        ).encode("cp1252")
    )
    total = f"{int(placed['totalWithTax']) // 100},{int(placed['totalWithTax']) % 100:02d}"
    (tmp_path / "export" / "factures.csv").write_bytes(
        f"N° facture;Type;Référence web;Date;Total TTC\nFA0001;FA;{reference};23/11/2026;{total}\n".encode("cp1252")
    )
    (tmp_path / "pdf" / "FA0001.pdf").write_bytes(pdf("Facture FA0001"))

    shipped = feedback_status(config=config)
    assert (shipped["updated"], shipped["failed"], shipped["quarantined"]) == (1, 0, 0)
    admin = vendure_client(vendure)
    try:
        order = admin.query(ORDER, {"id": placed["id"]})["order"]
    finally:
        admin.close()
    assert order["state"] == "Shipped"
    assert [(f["method"], f["trackingCode"]) for f in order["fulfillments"]] == [("Colissimo", "6A99887766554")]

    uploaded = upload_invoices(config=config)
    assert (uploaded["uploaded"], uploaded["quarantined"]) == (1, 0)
    (stored,) = list(bucket.objects.all())
    assert stored.get()["Body"].read() == pdf("Facture FA0001")
    seen = shop_ops.customer_order(vendure.shop_api_url, placed["code"], token=placed["token"])
    assert "FA0001" in str(seen["history"])
    again = upload_invoices(config=config)
    assert (again["uploaded"], again["already_done"]) == (0, 1) and len(list(bucket.objects.all())) == 1
