"""Every flow, unchanged, with PrestaShop as the shop (the contract fake: captured PrestaShop 8.2
payloads, XML writes checked against the captured schema synopsis) and a files ERP (GesCom
exports): publish-catalogue, sync-stock, sync-prices, import-orders, feedback-status and
upload-invoices (moto's S3 server)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from connectors import registry
from connectors.shop.prestashop.client import PrestaShopClient
from connectors.shop.prestashop.factory import PrestaShopSettings, PrestaShopShop, shop_from
from deployments.sandbox.fakes.prestashop_fake import FakePrestaShop
from flows.catalogue import publish_catalogue
from flows.feedback import feedback_status
from flows.invoices import upload_invoices
from flows.orders import import_orders
from flows.prices import sync_prices
from flows.stock import sync_stock
from tasks.state import StateStore
from tests.flows.helpers import GESCOM_DOCUMENTS, pdf, storage_toml

pytestmark = pytest.mark.usefixtures("prefect_harness")

KEY = "ZQ88PRJX5VWQHCWE4EE7SQ7HPNX00RAJ"
FAKE: dict[str, FakePrestaShop] = {}

ARTICLES = """Référence;Désignation;Modèle;Libellé modèle;Taille;Prix de vente HT;Taux TVA;Code barre;Poids;Famille;Sous-famille;Prix promo HT;Début promo;Fin promo
POLO-M;Polo piqué M;POLO;Polo piqué;M;39,00;20,00;3790000010013;0,250;Vêtements;Polos;29,00;27/11/2026;30/11/2026
POLO-L;Polo piqué L;POLO;Polo piqué;L;41,00;20,00;3790000010020;0,260;Vêtements;Polos;;;
POLO-XL;Polo piqué XL;POLO;Polo piqué;XL;41,00;20,00;;0,270;Vêtements;Polos;;;
THE-VRT;Thé vert 100 g;;;;8,90;5,5;;0,1;Épicerie;Thé;;;
"""

STOCK = """Référence;Dépôt;Quantité;Réservé
POLO-M;WEB;10,000;2,000
POLO-L;WEB;3,000;0,000
THE-VRT;WEB;25,000;0,000
"""

ERP = (
    """type = "files"
path = "export/articles.csv"
[connections.main.erp.columns]
sku = "Référence"
name = "Désignation"
group_key = "Modèle"
group_name = "Libellé modèle"
price = "Prix de vente HT"
vat_rate = "Taux TVA"
ean = "Code barre"
weight = "Poids"
description = ""
[connections.main.erp.attributes]
size = "Taille"
[connections.main.erp.extra]
family = "Famille"
subfamily = "Sous-famille"
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
shop = "presta"
"""
    + GESCOM_DOCUMENTS
)

SETTINGS = """
[connections.main.shop]
type = "prestashop-fake"
url = "http://shop.test"
allow_insecure_http = true
[connections.main.catalogue]
attributes = ["size"]
categories = [["fields.family", "fields.subfamily"]]
[connections.main.catalogue.taxes.FR]
"20" = "FR Taux standard (20%)"
"5.5" = "FR Taux réduit (5.5%)"
[connections.main.stock]
warehouses = ["WEB"]
[connections.main.orders.rules]
"Payment by check" = "always"
"""


def build_fake(options: dict[str, Any], resolver: Any) -> PrestaShopShop:
    """The real factory's settings and client, the client talking to the fake (on loopback: plain http)."""
    settings = PrestaShopSettings.model_validate({"key": "env:K", **options})
    client = PrestaShopClient(
        settings.url,
        KEY,
        allow_insecure_http=settings.allow_insecure_http,
        transport=FAKE["shop"].transport(),
        backoff=0,
    )
    return shop_from(settings, client)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakePrestaShop:
    FAKE["shop"] = FakePrestaShop(KEY)
    monkeypatch.setitem(registry.SHOP_CONNECTORS, "prestashop-fake", f"{__name__}:build_fake")
    return FAKE["shop"]


def setup(tmp_path: Path, extra: str = "") -> str:
    for folder in ("export", "outbox", "pdf"):
        (tmp_path / folder).mkdir(exist_ok=True)
    (tmp_path / "export" / "articles.csv").write_bytes(ARTICLES.replace("\n", "\r\n").encode("cp1252"))
    (tmp_path / "export" / "stock.csv").write_bytes(STOCK.replace("\n", "\r\n").encode("cp1252"))
    config = tmp_path / "passerelle.toml"
    config.write_text(
        f'[state]\nurl = "sqlite:///state.db"\n[snapshots]\nroot = "snapshots"\n[connections.main.erp]\n{ERP}{SETTINGS}{extra}',
        encoding="utf-8",
    )
    return str(config)


def product_by_reference(fake: FakePrestaShop, reference: str) -> dict[str, Any]:
    return next(p for p in fake.data["products"] if p["reference"] == reference)


def test_publish_catalogue_combinations_simple_product_rerun_and_enrichment(
    fake: FakePrestaShop, tmp_path: Path
) -> None:
    config = setup(tmp_path)
    first = publish_catalogue(config=config)
    assert (first["created"], first["failed"], first["quarantined"]) == (2, 0, 0)

    polo = product_by_reference(fake, "g:POLO")  # the canonical product key
    assert (polo["product_type"], polo["price"], polo["id_tax_rules_group"]) == ("combinations", "39.000000", "1")
    combos = {c["reference"]: c for c in fake.data["combinations"] if c["id_product"] == str(polo["id"])}
    assert {k: c["price"] for k, c in combos.items()} == {
        "POLO-M": "0.000000",
        "POLO-L": "2.000000",
        "POLO-XL": "2.000000",
    }
    assert combos["POLO-M"]["ean13"] == "3790000010013"
    sizes = {
        str(v["id"]): v["name"][0]["value"]
        for v in fake.data["product_option_values"]
        if any({"id": str(v["id"])} in c["associations"]["product_option_values"] for c in combos.values())
    }
    assert sorted(sizes.values()) == ["L", "M", "XL"]
    category = fake.record("categories", int(polo["id_category_default"]))
    assert category["name"][0]["value"] == "Polos"
    tea = product_by_reference(fake, "THE-VRT")
    assert (tea["product_type"], tea["price"], tea["id_tax_rules_group"]) == ("standard", "8.900000", "3")

    writes = len(fake.writes)
    again = publish_catalogue(config=config)
    assert (again["created"], again["updated"]) == (0, 0)
    assert len(fake.writes) == writes  # a re-run sends no write at all

    # The merchant enriches the description in the shop; the ERP renames the tea: the name changes,
    # the description written in the shop stays.
    tea["description"][0]["value"] = "<p>Récolté à la main</p>"
    (tmp_path / "export" / "articles.csv").write_bytes(
        ARTICLES.replace("Thé vert 100 g", "Thé vert Sencha 100 g").replace("\n", "\r\n").encode("cp1252")
    )
    third = publish_catalogue(config=config)
    assert third["updated"] == 1
    tea = product_by_reference(fake, "THE-VRT")
    assert tea["name"][0]["value"] == "Thé vert Sencha 100 g"
    assert tea["description"][0]["value"] == "<p>Récolté à la main</p>"


BRANDED = {
    "POLO-M;": "Maison Dupont;Coton piqué",
    "POLO-L;": "Maison Dupont;Coton piqué",
    "POLO-XL;": "Maison Dupont;Coton piqué",
    "THE-VRT;": "Jardins de Chine;",
}


def branded_articles(brands: dict[str, str]) -> bytes:
    lines = ARTICLES.splitlines()
    lines[0] += ";Marque;Composition"
    lines[1:] = [line + ";" + next(v for k, v in brands.items() if line.startswith(k)) for line in lines[1:]]
    return "\r\n".join([*lines, ""]).encode("cp1252")


def test_publish_catalogue_brand_and_features_from_erp_columns(fake: FakePrestaShop, tmp_path: Path) -> None:
    config = setup(tmp_path)
    text = Path(config).read_text(encoding="utf-8")
    text = text.replace(
        'subfamily = "Sous-famille"\n', 'subfamily = "Sous-famille"\nmarque = "Marque"\ncompo = "Composition"\n'
    )
    text = text.replace(
        'type = "prestashop-fake"\n',
        'type = "prestashop-fake"\nbrand_field = "brand"\nfeatures = {composition = "Composition"}\n',
    )
    text = text.replace(
        "[connections.main.catalogue]\n",
        '[connections.main.catalogue]\nfields = {description = "description", "variant.name" = "name", '
        '"custom_fields.brand" = "fields.marque", "custom_fields.composition" = "fields.compo"}\n',
    )
    Path(config).write_text(text, encoding="utf-8")
    (tmp_path / "export" / "articles.csv").write_bytes(branded_articles(BRANDED))

    first = publish_catalogue(config=config)
    assert (first["created"], first["failed"]) == (2, 0)
    polo, tea = product_by_reference(fake, "g:POLO"), product_by_reference(fake, "THE-VRT")
    assert (polo["manufacturer_name"], tea["manufacturer_name"]) == ("Maison Dupont", "Jardins de Chine")
    (entry,) = polo["associations"]["product_features"]
    assert fake.record("product_features", int(entry["id"]))["name"][0]["value"] == "Composition"  # captured 1
    assert fake.record("product_feature_values", int(entry["id_feature_value"]))["value"][0]["value"] == "Coton piqué"
    assert tea["associations"].get("product_features", []) == []

    writes = len(fake.writes)
    assert publish_catalogue(config=config)["updated"] == 0
    assert len(fake.writes) == writes  # unchanged brand and features: nothing sent

    # The ERP changes the polo's brand and drops its composition: brand moved, feature removed.
    changed = {**BRANDED, "POLO-M;": "Atelier Martin;", "POLO-L;": "Atelier Martin;", "POLO-XL;": "Atelier Martin;"}
    (tmp_path / "export" / "articles.csv").write_bytes(branded_articles(changed))
    third = publish_catalogue(config=config)
    assert (third["updated"], third["failed"]) == (1, 0)
    polo = product_by_reference(fake, "g:POLO")
    assert polo["manufacturer_name"] == "Atelier Martin"
    assert polo["associations"]["product_features"] == []
    assert [m["name"] for m in fake.data["manufacturers"]].count("Maison Dupont") == 1


def test_sync_stock_and_prices_with_a_dated_promotion(fake: FakePrestaShop, tmp_path: Path) -> None:
    config = setup(tmp_path)
    publish_catalogue(config=config)
    polo = product_by_reference(fake, "g:POLO")  # the canonical product key
    combos = {c["reference"]: str(c["id"]) for c in fake.data["combinations"] if c["id_product"] == str(polo["id"])}

    stock = sync_stock(config=config)
    assert stock["failed"] == 0

    def quantity(product: Any, attribute: str) -> str:
        return next(
            s["quantity"]
            for s in fake.data["stock_availables"]
            if (s["id_product"], s["id_product_attribute"]) == (str(product), attribute)
        )

    tea = product_by_reference(fake, "THE-VRT")
    assert quantity(polo["id"], combos["POLO-M"]) == "8"  # 10 minus 2 reserved
    assert quantity(polo["id"], combos["POLO-L"]) == "3"
    assert quantity(tea["id"], "0") == "25"
    assert sync_stock(config=config)["updated"] == 0

    prices = sync_prices(config=config, at=datetime(2026, 11, 20, tzinfo=timezone.utc))
    assert prices["failed"] == 0
    (promo,) = [r for r in fake.data["specific_prices"] if r["id_product"] == str(polo["id"])]
    assert promo["id_product_attribute"] == combos["POLO-M"]
    assert (promo["price"], promo["id_group"]) == ("29.000000", "0")
    # From 27/11 00:00 to the end of 30/11, Paris time (the shop's time zone).
    assert promo["from"] == "2026-11-27 00:00:00" and promo["to"] == "2026-11-30 23:59:59"
    again = sync_prices(config=config, at=datetime(2026, 11, 20, tzinfo=timezone.utc))
    assert again["updated"] == 0
    assert len([r for r in fake.data["specific_prices"] if r["id_product"] == str(polo["id"])]) == 1


def import_order_2_and_ship_it(fake: FakePrestaShop, tmp_path: Path, config: str) -> dict[str, Any]:
    """Imports captured order 2 into the files ERP and writes its delivery note there."""
    # Captured order 2 (check payment, awaiting payment), changed an hour ago in Paris.
    recent = (datetime.now(timezone.utc) - timedelta(hours=1)).astimezone(ZoneInfo("Europe/Paris"))
    order = fake.record("orders", 2)
    order["date_upd"] = recent.strftime("%Y-%m-%d %H:%M:%S")
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    rows = order["associations"]["order_rows"]
    store.upsert_bindings(
        "main",
        "variant",
        [
            {
                "erp_key": r["product_reference"],
                "shop_id": f"{r['product_id']}:{r['product_attribute_id']}",
                "state": "synced",
            }
            for r in rows
        ],
    )
    store.dispose()
    imported = import_orders(config=config)
    assert imported["imported"] == 1 and imported["failed"] == 0
    assert (tmp_path / "outbox" / "presta-2.csv").exists()

    lines = "".join(
        f"presta:2;BL0001;23/11/2026;Colissimo;6A99887766554;{r['product_reference']};{r['product_quantity']}\n"
        for r in rows
    )
    (tmp_path / "export" / "livraisons.csv").write_bytes(
        ("Référence web;N° BL;Date BL;Transporteur;N° suivi;Article;Qté\n" + lines).encode("cp1252")
    )
    return order


def test_orders_status_feedback_and_invoice_link(
    fake: FakePrestaShop, s3_server: dict[str, str], bucket: Any, tmp_path: Path
) -> None:
    storage = storage_toml(bucket, s3_server)
    config = setup(tmp_path, storage)
    order = import_order_2_and_ship_it(fake, tmp_path, config)
    shipped = feedback_status(config=config)
    assert (shipped["updated"], shipped["failed"], shipped["quarantined"]) == (1, 0, 0)
    assert fake.record("order_carriers", 2)["tracking_number"] == "6A99887766554"
    assert fake.record("orders", 2)["current_state"] == "4"
    assert fake.emails == [("2", "4")]  # the shipped e-mail, with its tracking number
    histories = len(fake.data["order_histories"])
    assert feedback_status(config=config)["updated"] == 0
    assert len(fake.data["order_histories"]) == histories

    total = order["total_paid_tax_incl"].split(".")
    (tmp_path / "export" / "factures.csv").write_bytes(
        f"N° facture;Type;Référence web;Date;Total TTC\nFA0001;FA;presta:2;23/11/2026;{total[0]},{total[1][:2]}\n".encode(
            "cp1252"
        )
    )
    (tmp_path / "pdf" / "FA0001.pdf").write_bytes(pdf("Facture FA0001"))
    uploaded = upload_invoices(config=config)
    assert (uploaded["uploaded"], uploaded["quarantined"]) == (1, 0)
    message, key = fake.data["customer_messages"]  # the customer's link, then its key (staff only)
    assert message["private"] == "0" and "FA0001" in message["message"] and "ref:" not in message["message"]
    assert key["private"] == "1" and key["message"].startswith("ref: ")
    assert fake.data["customer_threads"][0]["id_order"] == "2"
    again = upload_invoices(config=config)
    assert (again["uploaded"], again["already_done"]) == (0, 1)
    assert len(fake.data["customer_messages"]) == 2


def test_a_state_saved_before_the_shops_email_failed_is_never_added_twice(fake: FakePrestaShop, tmp_path: Path) -> None:
    """Live PrestaShop 8.2 without e-mail: the history row is saved, then HTTP 500 code 46."""
    config = setup(tmp_path)
    import_order_2_and_ship_it(fake, tmp_path, config)
    fake.mail_fails = True
    first = feedback_status(config=config)
    assert (first["updated"], first["quarantined"]) == (0, 1)
    (entry,) = first["quarantine"]
    assert entry["key"] == "2" and "saved state 4" in entry["reason"] and "e-mail" in entry["reason"]
    saved = [h for h in fake.data["order_histories"] if h["id_order"] == "2"]
    assert [h["id_order_state"] for h in saved][-1] == "4"

    fake.mail_fails = False  # the merchant repairs the shop's e-mail
    again = feedback_status(config=config)
    assert again["quarantined"] == 0
    assert [h for h in fake.data["order_histories"] if h["id_order"] == "2"] == saved  # no second row
    assert fake.emails == []  # and no e-mail for a state the customer may already have been told of
    assert feedback_status(config=config)["updated"] == 0


def test_flow_summaries_count_the_shop_api_calls(fake: FakePrestaShop, tmp_path: Path) -> None:
    """The summaries report the requests the PrestaShop connector sent in that run."""
    config = setup(tmp_path)
    published = publish_catalogue(config=config)
    assert published["api_calls"] == len(fake.requests) > 0
    sent = len(fake.requests)
    stock = sync_stock(config=config)
    assert stock["api_calls"] == len(fake.requests) - sent > 0
