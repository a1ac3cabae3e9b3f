"""Every flow, unchanged, with WooCommerce as the shop (the contract fake: captured payloads, the
captured index's rules for every route and body) and a files ERP (GesCom exports): catalogue, stock,
prices, order import, status feedback and invoices (moto's S3 on loopback)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from connectors import registry
from connectors.erp.files.reader import read_csv
from connectors.shop.woocommerce import WooCommerceShop
from connectors.shop.woocommerce.client import WooCommerceClient
from deployments.sandbox.fakes.woocommerce_fake import KEY, SECRET, SITE, FakeWooCommerce
from flows.catalogue import publish_catalogue
from flows.feedback import feedback_status
from flows.invoices import upload_invoices
from flows.orders import import_orders
from flows.prices import sync_prices
from flows.stock import sync_stock
from tests.contract.test_woocommerce_orders import taxed_order
from tests.flows.helpers import GESCOM_DOCUMENTS, pdf, storage_toml

pytestmark = pytest.mark.usefixtures("prefect_harness")

FAKE: dict[str, FakeWooCommerce] = {}

ARTICLES = """Référence;Désignation;Modèle;Libellé modèle;Taille;Prix de vente HT;Taux TVA;Description;Poids;Prix promo HT;Début promo;Fin promo
POLO-M;Polo piqué M;POLO;Polo piqué;M;39,00;20,00;Coton piqué;0,250;29,00;27/11/2026;30/11/2026
POLO-L;Polo piqué L;POLO;Polo piqué;L;39,00;20,00;Coton piqué;0,250;;;
THE-VRT;Thé vert 100 g;;;;8,90;5,5;Sencha;0,1;;;
"""
STOCK = """Référence;Dépôt;Quantité;Réservé
POLO-M;WEB;10,000;2,000
POLO-L;WEB;3,000;0,000
THE-VRT;WEB;25,000;0,000
THE-VRT;BOUTIQUE;40,000;0,000
"""

CONFIG = (
    """
[state]
url = "sqlite:///state.db"
[snapshots]
root = "snapshots"

[connections.main.erp]
type = "files"
path = "export/articles.csv"
[connections.main.erp.columns]
sku = "Référence"
name = "Désignation"
group_key = "Modèle"
group_name = "Libellé modèle"
price = "Prix de vente HT"
vat_rate = "Taux TVA"
description = "Description"
weight = "Poids"
ean = ""
[connections.main.erp.attributes]
size = "Taille"
[connections.main.erp.stock]
path = "export/stock.csv"
[connections.main.erp.stock.columns]
sku = "Référence"
warehouse = "Dépôt"
quantity = "Quantité"
reserved = "Réservé"
[connections.main.erp.prices.columns]
promo_price = "Prix promo HT"
promo_start = "Début promo"
promo_end = "Fin promo"
[connections.main.erp.orders]
outbox = "outbox"
shop = "woo"
"""
    + GESCOM_DOCUMENTS
    + """
[connections.main.shop]
type = "woocommerce-fake"

[connections.main.catalogue]
attributes = ["size"]
categories = []
[connections.main.catalogue.taxes.FR]
"20" = "Standard rate"
"5.5" = "Reduced rate"

[connections.main.stock]
warehouses = ["WEB"]
safety_stock = 1
[connections.main.orders.rules]
bacs = "always"
"""
)


def build_fake(options: dict[str, Any], resolver: Any) -> WooCommerceShop:
    client = WooCommerceClient(
        SITE, consumer_key=KEY, consumer_secret=SECRET, transport=FAKE["shop"].transport, backoff=0.0
    )
    return WooCommerceShop(client, brand_field=options.get("brand_field", "brand"), features=options.get("features"))


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeWooCommerce:
    FAKE["shop"] = FakeWooCommerce([])
    FAKE["shop"].add_attribute("Size", ("S", "M", "L"))  # made by the merchant (a fresh shop has none)
    monkeypatch.setitem(registry.SHOP_CONNECTORS, "woocommerce-fake", f"{__name__}:build_fake")
    return FAKE["shop"]


def setup(tmp_path: Path, extra: str = "") -> str:
    for folder in ("export", "outbox", "pdf"):
        (tmp_path / folder).mkdir(exist_ok=True)
    write(tmp_path, "articles.csv", ARTICLES)
    write(tmp_path, "stock.csv", STOCK)
    (tmp_path / "passerelle.toml").write_text(CONFIG + extra, encoding="utf-8")
    return str(tmp_path / "passerelle.toml")


def write(folder: Path, name: str, text: str) -> None:
    (folder / "export" / name).write_bytes(text.replace("\n", "\r\n").encode("cp1252"))


def test_publish_catalogue_groups_sizes_into_a_variable_product_and_keeps_shop_enrichment(
    fake: FakeWooCommerce, tmp_path: Path
) -> None:
    config = setup(tmp_path)

    first = publish_catalogue(config=config)

    assert (first["created"], first["quarantined"]) == (2, 0)
    # the summary counts the requests the connector sent (the fake saw them all)
    assert first["api_calls"] == len(fake.requests) > 0
    polo = next(p for p in fake.products.values() if p["name"] == "Polo piqué")
    assert polo["type"] == "variable" and polo["attributes"][0]["options"] == ["L", "M"]
    assert {v["sku"]: v["regular_price"] for v in fake.variations.values() if v["parent_id"] == polo["id"]} == {
        "POLO-M": "39.00", "POLO-L": "39.00"}  # fmt: skip
    tea = fake.product_by_sku("THE-VRT")
    assert (tea["type"], tea["regular_price"], tea["tax_class"], tea["weight"]) == (
        "simple",
        "8.90",
        "reduced-rate",
        "0.1",
    )

    fake.requests.clear()
    again = publish_catalogue(config=config)
    assert again["created"] == again["updated"] == 0 and fake.writes() == []

    # The merchant rewrites the description in WooCommerce; the ERP renames the tea and changes its text.
    tea["description"] = "<p>Un sencha du Japon, récolte de printemps.</p>"
    write(
        tmp_path,
        "articles.csv",
        ARTICLES.replace("Thé vert 100 g;;;;8,90;5,5;Sencha", "Thé vert sencha;;;;8,90;5,5;Autre"),
    )
    third = publish_catalogue(config=config)
    assert third["updated"] == 1
    assert tea["name"] == "Thé vert sencha" and tea["description"] == "<p>Un sencha du Japon, récolte de printemps.</p>"


BRANDED = """
[connections.main.erp.extra]
marque = "Marque"
composition = "Composition"
[connections.main.shop.features]
composition = "Composition"
[connections.main.catalogue.fields]
description = "description"
"variant.name" = "name"
"custom_fields.brand" = "fields.marque"
"custom_fields.composition" = "fields.composition"
"""


def branded_articles(polo: str = "Maison Laine;Coton", tea: str = "Jardins de Gaïa;") -> str:
    lines = ARTICLES.splitlines()
    rows = [lines[0] + ";Marque;Composition"]
    rows += [line + ";" + (tea if line.startswith("THE") else polo) for line in lines[1:]]
    return "\n".join(rows) + "\n"


def test_the_brand_and_features_mapped_from_erp_columns_reach_the_products_and_keep_the_variations(
    fake: FakeWooCommerce, tmp_path: Path
) -> None:
    config = setup(tmp_path, BRANDED)
    write(tmp_path, "articles.csv", branded_articles())

    assert publish_catalogue(config=config)["created"] == 2

    polo = next(p for p in fake.products.values() if p["name"] == "Polo piqué")
    tea = fake.product_by_sku("THE-VRT")
    assert [fake.brands[b["id"]]["name"] for b in polo["brands"]] == ["Maison Laine"]
    assert [fake.brands[b["id"]]["name"] for b in tea["brands"]] == ["Jardins de Ga\u00efa"]
    assert [(a["name"], a["variation"], a["options"]) for a in polo["attributes"]] == [
        ("Size", True, ["L", "M"]), ("Composition", False, ["Coton"])]  # fmt: skip
    assert tea["attributes"] == []  # an empty composition: no feature

    fake.requests.clear()
    assert publish_catalogue(config=config)["updated"] == 0 and fake.writes() == []

    # The ERP changes the polo's composition and drops the tea's brand.
    write(tmp_path, "articles.csv", branded_articles("Maison Laine;Coton bio", ";"))
    assert publish_catalogue(config=config)["updated"] == 2
    assert [(a["name"], a["variation"], a["options"]) for a in polo["attributes"]] == [
        ("Size", True, ["L", "M"]), ("Composition", False, ["Coton bio"])]  # the variations' attribute kept  # fmt: skip
    assert {v["sku"]: v["attributes"][0]["option"] for v in fake.variations.values() if v["parent_id"] == polo["id"]} == {
        "POLO-M": "M", "POLO-L": "L"}  # fmt: skip
    assert tea["brands"] == [] and len(fake.brands) == 2  # nothing created twice


def test_stock_and_a_scheduled_promotion_reach_products_and_variations(fake: FakeWooCommerce, tmp_path: Path) -> None:
    config = setup(tmp_path)
    publish_catalogue(config=config)

    before = len(fake.requests)
    stock = sync_stock(config=config)
    assert (stock["updated"], stock["failed"]) == (3, 0)
    assert stock["api_calls"] == len(fake.requests) - before > 0
    quantities = {v["sku"]: v["stock_quantity"] for v in [*fake.variations.values(), *fake.products.values()]}
    assert (quantities["POLO-M"], quantities["POLO-L"], quantities["THE-VRT"]) == (7, 2, 24)  # WEB - reserved - 1
    assert sync_stock(config=config)["updated"] == 0

    prices = sync_prices(config=config, at=datetime(2026, 11, 20, tzinfo=timezone.utc))
    assert prices["failed"] == 0
    medium = fake.variation_by_sku("POLO-M")
    # WooCommerce schedules the sale itself: the dates go with it (27/11 to 30/11 in Paris; its end is inclusive)
    assert (medium["regular_price"], medium["sale_price"]) == ("39.00", "29.00")
    assert medium["date_on_sale_from_gmt"] == "2026-11-26T23:00:00"
    assert medium["date_on_sale_to_gmt"] == "2026-11-30T22:59:59"
    assert fake.variation_by_sku("POLO-L")["sale_price"] == ""


def test_an_order_is_imported_shipped_with_tracking_and_gets_its_invoice_once(
    fake: FakeWooCommerce, s3_server: dict[str, str], bucket: Any, tmp_path: Path
) -> None:
    storage = storage_toml(bucket, s3_server)
    config = setup(tmp_path, storage)
    publish_catalogue(config=config)
    tea = fake.product_by_sku("THE-VRT")
    hour_ago = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(tzinfo=None, microsecond=0)
    order = taxed_order(101, hour_ago.isoformat())
    order["status"] = "processing"
    order["line_items"][0].update(product_id=tea["id"], variation_id=0, sku="THE-VRT", name="Thé vert 100 g")
    fake.orders.append(order)

    imported = import_orders(config=config)
    assert (imported["imported"], imported["quarantined"]) == (1, 0)
    assert imported["api_calls_shop"] > 0
    assert (tmp_path / "outbox" / "woo-101.csv").exists()

    (tmp_path / "export" / "livraisons.csv").write_bytes(
        "Référence web;N° BL;Date BL;Transporteur;N° suivi;Article;Qté\n"
        "woo:101;BL0001;23/11/2026;Colissimo;6A99887766554;THE-VRT;2\n".encode("cp1252")
    )
    shipped = feedback_status(config=config)
    assert (shipped["updated"], shipped["failed"], shipped["quarantined"]) == (1, 0, 0)
    assert order["status"] == "completed"
    meta = {m["key"]: m["value"] for m in order["meta_data"]}
    assert (meta["_passerelle_carrier"], meta["_passerelle_tracking_number"]) == ("Colissimo", "6A99887766554")
    tracking = [n for n in fake.notes[101] if n["customer_note"]]
    assert len(tracking) == 1 and "6A99887766554" in tracking[0]["note"]

    (tmp_path / "export" / "factures.csv").write_bytes(
        "N° facture;Type;Référence web;Date;Total TTC\nFA0001;FA;woo:101;23/11/2026;60,00\n".encode("cp1252")
    )
    (tmp_path / "pdf" / "FA0001.pdf").write_bytes(pdf("Facture FA0001"))
    uploaded = upload_invoices(config=config)
    assert (uploaded["uploaded"], uploaded["quarantined"]) == (1, 0)
    (stored,) = list(bucket.objects.all())
    assert stored.get()["Body"].read() == pdf("Facture FA0001")
    notes = [n for n in fake.notes[101] if n["customer_note"] and "FA0001" in n["note"]]
    assert len(notes) == 1 and "http" in notes[0]["note"]

    again = upload_invoices(config=config)
    assert (again["uploaded"], again["already_done"]) == (0, 1)
    assert len([n for n in fake.notes[101] if n["customer_note"] and "FA0001" in n["note"]]) == 1
    assert feedback_status(config=config)["updated"] == 0
    assert len([n for n in fake.notes[101] if n["customer_note"]]) == 2  # the tracking note and the invoice, once each


def test_a_shipped_transfer_gets_no_deposit_until_the_merchant_marks_it_paid(
    fake: FakeWooCommerce, tmp_path: Path
) -> None:
    """The feedback flow completes an unpaid bank-transfer order; WooCommerce then stamps date_paid:
    the next import must not take that for the money (issue 12, defect 8)."""
    config = setup(tmp_path)
    publish_catalogue(config=config)
    tea = fake.product_by_sku("THE-VRT")
    hour_ago = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(tzinfo=None, microsecond=0)
    order = taxed_order(102, hour_ago.isoformat())
    order.update(status="on-hold", payment_method="bacs", payment_method_title="Direct bank transfer",
                 transaction_id="", date_paid_gmt=None)  # fmt: skip
    order["line_items"][0].update(product_id=tea["id"], variation_id=0, sku="THE-VRT", name="Thé vert 100 g")
    fake.orders.append(order)
    assert import_orders(config=config)["imported"] == 1

    (tmp_path / "export" / "livraisons.csv").write_bytes(
        "Référence web;N° BL;Date BL;Transporteur;N° suivi;Article;Qté\n"
        "woo:102;BL0002;23/11/2026;Colissimo;6A99887766555;THE-VRT;2\n".encode("cp1252")
    )
    assert feedback_status(config=config)["updated"] == 1
    assert order["status"] == "completed" and order["date_paid_gmt"]  # stamped by WooCommerce, not paid

    import_orders(config=config)
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == ["woo-102.csv"]  # no deposit

    fake.update_order(order, {"status": "processing"})  # the transfer arrived: the merchant marks it paid
    import_orders(config=config)
    deposits = sorted(p.name for p in (tmp_path / "outbox").iterdir() if p.name != "woo-102.csv")
    assert len(deposits) == 1
    rows = [row for _, row in read_csv(tmp_path / "outbox" / deposits[0], encoding="cp1252")]
    assert [next(iter(row.values())) for row in rows].count("A") == 1  # one deposit row, the real payment
