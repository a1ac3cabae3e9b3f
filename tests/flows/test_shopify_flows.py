"""Every flow, unchanged, with Shopify as the shop (the fake that executes every document against
Shopify's 2025-01 schema) and a files ERP (GesCom exports): catalogue, stock, prices, order import
(exactly once after a crash between the ERP write and the state write), status feedback and
invoice links (moto's S3 on loopback)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors import registry
from connectors.shop.shopify.client import ShopifyClient
from connectors.shop.shopify.factory import ShopifyShop
from connectors.shop.shopify.settings import ShopifySettings
from deployments.sandbox.fakes.shopify import orders as shop_orders
from deployments.sandbox.fakes.shopify.core import SHOP, TOKEN, ShopifyFake, VirtualClock
from deployments.sandbox.fakes.shopify.inventory import quantities
from flows.catalogue import publish_catalogue
from flows.feedback import feedback_status
from flows.invoices import upload_invoices
from flows.orders import import_orders
from flows.prices import sync_prices
from flows.stock import sync_stock
from tasks.state import OrderState, StateStore
from tests.flows.helpers import GESCOM_DOCUMENTS, pdf, storage_toml

pytestmark = pytest.mark.usefixtures("prefect_harness")

FAKE: dict[str, Any] = {}

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
shop = "shopify"
"""
    + GESCOM_DOCUMENTS
    + """
[connections.main.shop]
type = "shopify-fake"

[connections.main.catalogue]
attributes = ["size"]
categories = []
[connections.main.catalogue.taxes.FR]  # Shopify computes the rate from its tax regions: taxable or exempt
"20" = "taxable"
"5.5" = "taxable"

[connections.main.stock]
warehouses = ["WEB"]
safety_stock = 1
[connections.main.orders.rules]
shopify_payments = "always"
"""
)


def build_fake(options: dict[str, Any], resolver: Any) -> ShopifyShop:
    fake, clock = FAKE["shop"], FAKE["clock"]
    client = ShopifyClient(SHOP, token=TOKEN, transport=fake.transport, sleep=clock.sleep, clock=clock.now)
    return ShopifyShop(client, ShopifySettings(url=SHOP, access_token="env:SHOPIFY_ACCESS_TOKEN", **options))


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> ShopifyFake:
    clock = VirtualClock()
    FAKE["clock"] = clock
    FAKE["shop"] = ShopifyFake(clock=clock.now, taxes_included=False, locations=("WEB",))
    monkeypatch.setitem(registry.SHOP_CONNECTORS, "shopify-fake", f"{__name__}:build_fake")
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


def variants(fake: ShopifyFake) -> dict[str, dict[str, Any]]:
    return {v["sku"]: v for v in fake.all("ProductVariant")}


def test_catalogue_stock_and_prices_reach_shopify_and_a_rerun_writes_nothing(fake: ShopifyFake, tmp_path: Path) -> None:
    config = setup(tmp_path)

    first = publish_catalogue(config=config)

    assert (first["created"], first["quarantined"], first["failed"]) == (2, 0, 0)
    assert first["api_calls"] > 0
    polo = next(p for p in fake.all("Product") if p["title"] == "Polo piqué")
    found = variants(fake)
    assert {found["POLO-M"]["productId"], found["POLO-L"]["productId"]} == {polo["id"]}
    assert Decimal(str(found["POLO-M"]["price"])) == Decimal("39.00")
    assert sorted(found) == ["POLO-L", "POLO-M", "THE-VRT"]
    assert all(v["taxable"] for v in found.values())

    writes = fake.calls()
    again = publish_catalogue(config=config)
    assert again["created"] == again["updated"] == 0
    assert not [e for e in fake.exchanges[writes:] if e.operation == "mutation"]

    stock = sync_stock(config=config)
    assert (stock["updated"], stock["failed"]) == (3, 0)
    levels = quantities(fake)
    web = fake.locations()[0]["id"]
    by_sku = {sku: levels[(v["inventoryItemId"], web)]["available"] for sku, v in variants(fake).items()}
    assert by_sku == {"POLO-M": 7, "POLO-L": 2, "THE-VRT": 24}  # WEB - reserved - safety stock 1
    assert sync_stock(config=config)["updated"] == 0

    prices = sync_prices(config=config, at=datetime(2026, 11, 28, 12, tzinfo=timezone.utc))
    assert prices["failed"] == 0
    medium = variants(fake)["POLO-M"]
    # Shopify has no dated price: the promotion in force is the price, the regular one is compareAtPrice
    assert (Decimal(str(medium["price"])), Decimal(str(medium["compareAtPrice"]))) == (
        Decimal("29.00"),
        Decimal("39.00"),
    )


def test_a_publish_killed_after_shopify_wrote_creates_no_duplicate(
    fake: ShopifyFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shopify creates the products, then the worker dies before the state store records them: the
    next run finds them by SKU and binds them, exactly once."""
    config = setup(tmp_path)
    real_write = ShopifyShop.write_products

    def write_then_die(self: ShopifyShop, writes: Any) -> Any:
        real_write(self, writes)
        raise RuntimeError("worker killed (simulated) after Shopify answered")

    monkeypatch.setattr(ShopifyShop, "write_products", write_then_die)
    with pytest.raises(RuntimeError, match="worker killed"):
        publish_catalogue(config=config)
    assert sorted(variants(fake)) == ["POLO-L", "POLO-M", "THE-VRT"]
    monkeypatch.setattr(ShopifyShop, "write_products", real_write)

    rerun = publish_catalogue(config=config)

    assert (rerun["created"], rerun["failed"]) == (0, 0)
    assert len(fake.all("Product")) == 2 and len(fake.all("ProductVariant")) == 3
    assert sync_stock(config=config)["updated"] == 3  # the adopted variants are bound
    again = publish_catalogue(config=config)
    assert (again["created"], again["updated"]) == (0, 0)


def place(fake: ShopifyFake, **options: Any) -> dict[str, Any]:
    shop_orders.set_clock(fake, datetime.now(timezone.utc) - timedelta(hours=1))
    order = shop_orders.place_order(fake, lines=[("THE-VRT", 2, "8.90")], tax_rate="5.5", **options)
    shop_orders.pay(fake, order)
    return order


def test_an_order_is_imported_once_shipped_with_tracking_and_gets_its_invoice_link_once(
    fake: ShopifyFake, s3_server: dict[str, str], bucket: Any, tmp_path: Path
) -> None:
    config = setup(tmp_path, storage_toml(bucket, s3_server))
    publish_catalogue(config=config)
    order = place(fake)
    number = order["id"].rsplit("/", 1)[-1]

    imported = import_orders(config=config)
    assert (imported["imported"], imported["quarantined"]) == (1, 0)
    assert imported["api_calls_shop"] > 0
    assert (tmp_path / "outbox" / f"shopify-{number}.csv").exists()
    assert import_orders(config=config)["imported"] == 0

    (tmp_path / "export" / "livraisons.csv").write_bytes(
        "Référence web;N° BL;Date BL;Transporteur;N° suivi;Article;Qté\n"
        f"shopify:{number};BL0001;23/11/2026;Colissimo;6A99887766554;THE-VRT;2\n".encode("cp1252")
    )
    shipped = feedback_status(config=config)
    assert (shipped["updated"], shipped["failed"], shipped["quarantined"]) == (1, 0, 0)
    (fulfillment,) = order["_fulfillments"]
    assert fulfillment["trackingInfo"][0]["number"] == "6A99887766554" and fulfillment["_notify"]
    assert order["displayFulfillmentStatus"] == "FULFILLED"
    assert feedback_status(config=config)["updated"] == 0
    assert len(order["_fulfillments"]) == 1

    (tmp_path / "export" / "factures.csv").write_bytes(
        f"N° facture;Type;Référence web;Date;Total TTC\nFA0001;FA;shopify:{number};23/11/2026;24,78\n".encode("cp1252")
    )
    (tmp_path / "pdf" / "FA0001.pdf").write_bytes(pdf("Facture FA0001"))
    uploaded = upload_invoices(config=config)
    assert (uploaded["uploaded"], uploaded["quarantined"]) == (1, 0)
    (stored,) = list(bucket.objects.all())
    assert stored.get()["Body"].read() == pdf("Facture FA0001")
    links = [m for (namespace, _), m in order["_metafields"].items() if namespace == "passerelle"]
    assert len(links) == 1 and links[0]["value"].startswith("http")
    again = upload_invoices(config=config)
    assert (again["uploaded"], again["already_done"]) == (0, 1)
    assert len([m for (namespace, _), m in order["_metafields"].items() if namespace == "passerelle"]) == 1


def test_a_run_killed_between_the_erp_write_and_the_state_write_imports_the_order_once(
    fake: ShopifyFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = setup(tmp_path)
    publish_catalogue(config=config)
    order = place(fake)
    number = order["id"].rsplit("/", 1)[-1]

    class Killed(BaseException):
        """The worker dies (not an error any code would catch)."""

    real_save = StateStore.save_order_imports

    def die_when_completing(self: StateStore, connection: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if any(row.get("state") == OrderState.IMPORTED for row in rows):
            raise Killed("worker killed after the order file was written")
        real_save(self, connection, rows)

    monkeypatch.setattr(StateStore, "save_order_imports", die_when_completing)
    with pytest.raises(Killed):
        import_orders(config=config)
    assert [p.name for p in (tmp_path / "outbox").iterdir()] == [f"shopify-{number}.csv"]
    monkeypatch.setattr(StateStore, "save_order_imports", real_save)

    rerun = import_orders(config=config)
    assert (rerun["imported"], rerun["reconciled"], rerun["failed"]) == (0, 1, 0)
    assert [p.name for p in (tmp_path / "outbox").iterdir()] == [f"shopify-{number}.csv"]
