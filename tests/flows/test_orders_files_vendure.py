"""Order import from a real Vendure into a files ERP (Sage/EBP import folder): dry run, backfill
by id, an article the ERP does not know, personal data masked in snapshots, one run at a time."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
import pytest

from connectors.base import ProductWrite, StockWrite
from connectors.erp.files.reader import read_csv
from connectors.models import Product, Variant
from connectors.shop.vendure.factory import VendureShop
from deployments.sandbox import vendure_ops as shop_ops
from flows.catalogue import publish_catalogue
from flows.orders import import_orders
from tasks.state import OrderState, StateStore
from tests.flows.helpers import shop_variants, vendure_client, write_config

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]

EXPORT = """Référence;Désignation;Prix de vente HT;Taux TVA
MUG;Mug émaillé;12,00;20
THE-VRT;Thé vert 100 g;8,90;5,5
"""
FILES_ERP = """type = "files"
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
processed = ["imported"]
"""


@pytest.fixture
def shop(vendure: Any, tmp_path: Path) -> dict[str, Any]:
    """The export published to Vendure (bindings in the state store), stock in the shop, and a
    product the ERP never had (created in Vendure by hand)."""
    (tmp_path / "export").mkdir()
    (tmp_path / "outbox").mkdir()
    (tmp_path / "imported").mkdir()
    (tmp_path / "export" / "articles.csv").write_bytes(EXPORT.encode("cp1252"))
    config = str(write_config(tmp_path, erp=FILES_ERP, vendure=vendure))
    assert publish_catalogue(config=config)["created"] == 2
    client = vendure_client(vendure)
    try:
        connector = VendureShop(client)
        gift = Variant(
            key="GIFT-CARD",
            sku="GIFT-CARD",
            name="Carte cadeau",
            price=Decimal("20"),
            currency="EUR",
            vat_rate=Decimal("20"),
            tax_category="Standard Tax",
        )
        hand_made = ProductWrite(
            product=Product(key="hand", name="Carte cadeau", slug="carte-cadeau", variants=[gift]),
            ref=None,
            product_fields=frozenset({"name", "slug", "description", "enabled", "option_groups", "categories"}),
            create_variants=[gift.key],
        )
        assert not connector.write_products([hand_made]).errors
        writes = [StockWrite(sku, v["id"], 100) for sku, v in shop_variants(vendure).items()]
        assert not connector.write_stock(writes).errors
    finally:
        client.close()
    return {"config": config, "url": vendure.shop_api_url}


def outbox(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "outbox").iterdir())


def test_dry_run_writes_nothing_then_orders_become_files_once(shop: dict[str, Any], tmp_path: Path) -> None:
    mug = shop_ops.place_order(shop["url"], skus_quantities={"MUG": 2, "THE-VRT": 1}, email="lea@example.com")

    dry = import_orders(config=shop["config"], dry_run=True)
    assert dry["dry_run"] and [o["status"] for o in dry["orders"]] == ["would import"]
    assert outbox(tmp_path) == [] and not (tmp_path / "snapshots" / "flow=import-orders").exists()
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}", migrate=False)
    try:
        assert store.order_imports("main", [mug["id"]]) == {}  # no claim either
    finally:
        store.dispose()

    run = import_orders(config=shop["config"])
    assert (run["imported"], run["payments_recorded"]) == (1, 1)
    assert outbox(tmp_path) == [f"vendure-{mug['id']}.csv"]  # paid at import: the deposit is in the order file
    rows = [row for _, row in read_csv(tmp_path / "outbox" / f"vendure-{mug['id']}.csv", encoding="cp1252")]
    types = [next(iter(row.values())) for row in rows]
    assert types.count("A") == 1  # one deposit row: the card payment

    # The ERP imports the file and moves it: the order is still known, never written again.
    (tmp_path / "outbox" / f"vendure-{mug['id']}.csv").rename(tmp_path / "imported" / f"vendure-{mug['id']}.csv")
    again = import_orders(config=shop["config"])
    assert (again["imported"], again["already_imported"]) == (0, 1) and outbox(tmp_path) == []

    # Personal data is masked in the snapshot of what was read; amounts are not.
    rows = ds.dataset(tmp_path / "snapshots", format="parquet", partitioning="hive").to_table().to_pylist()
    read = [json.loads(r["payload"]) for r in rows if r["flow"] == "import-orders" and r["stage"] == "read"]
    assert read and all(p["customer"]["email"].startswith("masked:") for p in read)
    assert Decimal(read[0]["total_tax_included"]) * 100 == int(mug["totalWithTax"])


def test_unknown_article_quarantines_the_order_and_the_others_go_on(shop: dict[str, Any], tmp_path: Path) -> None:
    gift = shop_ops.place_order(shop["url"], skus_quantities={"GIFT-CARD": 1}, email="noe@example.com")
    tea = shop_ops.place_order(shop["url"], skus_quantities={"THE-VRT": 3}, email="noe@example.com")
    run = import_orders(config=shop["config"])
    assert (run["imported"], run["quarantined"]) == (1, 1)
    [entry] = [q for q in run["quarantine"] if q["key"] == gift["id"]]
    assert entry["field"] == "lines[0].sku" and "GIFT-CARD" in entry["reason"]
    assert outbox(tmp_path) == [f"vendure-{tea['id']}.csv"]

    # Re-read by id by every run until it passes or an operator discards it; never lost.
    again = import_orders(config=shop["config"])
    assert again["quarantined"] == 1 and again["imported"] == 0


def test_backfill_by_order_id_leaves_the_cursor_alone_and_a_second_run_waits(
    shop: dict[str, Any], tmp_path: Path
) -> None:
    first = shop_ops.place_order(shop["url"], skus_quantities={"MUG": 1}, email="ines@example.com")
    second = shop_ops.place_order(shop["url"], skus_quantities={"MUG": 1}, email="ines@example.com")
    backfill = import_orders(config=shop["config"], order_ids=[second["id"]])
    assert backfill["imported"] == 1 and outbox(tmp_path) == [f"vendure-{second['id']}.csv"]
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}", migrate=False)
    try:
        assert store.get_cursor("main", "import-orders", "order") is None
        # Another run holds the lease: this one says so and does nothing.
        assert store.acquire_lease("import-orders:main", "someone-else", ttl=timedelta(minutes=5))
        busy = import_orders(config=shop["config"])
        assert busy["busy"] and busy["imported"] == 0 and len(outbox(tmp_path)) == 1
        store.release_lease("import-orders:main", "someone-else")
        run = import_orders(config=shop["config"])
        assert (run["imported"], run["already_imported"]) == (1, 1)
        assert sorted(outbox(tmp_path)) == sorted([f"vendure-{first['id']}.csv", f"vendure-{second['id']}.csv"])
        assert store.get_cursor("main", "import-orders", "order") is not None
        assert {r.state for r in store.order_imports("main", [first["id"], second["id"]]).values()} == {
            OrderState.IMPORTED
        }
    finally:
        store.dispose()
