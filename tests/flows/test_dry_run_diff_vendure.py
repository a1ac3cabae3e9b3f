"""Dry runs against a real Vendure: the plan made against the live shop, field by field, and
nothing written to the shop or the state store (issue 16, item 4)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from connectors.shop.vendure.client import VendureClient
from deployments.sandbox import vendure_ops as shop_ops
from deployments.summaries import print_summary
from flows.catalogue import publish_catalogue
from flows.orders import import_orders
from flows.prices import sync_prices
from flows.stock import sync_stock
from tests.flows.helpers import shop_products, shop_variants, vendure_client, write_config
from tests.flows.test_orders_files_vendure import shop  # noqa: F401 - the fixture: a Vendure with stock, files ERP

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]

ARTICLES = """Référence;Désignation;Modèle;Libellé modèle;Couleur;Taille;Prix de vente HT;Taux TVA;Famille
POLO-BL-M;Polo piqué bleu M;POLO;Polo piqué;Bleu;M;39,00;20,00;Vêtements
POLO-BL-L;Polo piqué bleu L;POLO;Polo piqué;Bleu;L;39,00;20,00;Vêtements
THE-VRT;Thé vert 100 g;;;;;8,90;5,5;Épicerie
MUG;Mug émaillé;;;;;12,00;20;Maison
"""

STOCK = """Référence;Dépôt;Quantité;Réservé
POLO-BL-M;WEB;10,000;0,000
POLO-BL-L;WEB;3,000;0,000
THE-VRT;WEB;25,000;0,000
MUG;WEB;7,000;0,000
"""

ERP = """type = "files"
path = "export/articles.csv"
[connections.main.erp.columns]
sku = "Référence"
name = "Désignation"
group_key = "Modèle"
group_name = "Libellé modèle"
price = "Prix de vente HT"
vat_rate = "Taux TVA"
description = ""
ean = ""
weight = ""
[connections.main.erp.attributes]
colour = "Couleur"
size = "Taille"
[connections.main.erp.extra]
family = "Famille"
[connections.main.erp.stock]
path = "export/stock.csv"
[connections.main.erp.stock.columns]
sku = "Référence"
warehouse = "Dépôt"
quantity = "Quantité"
reserved = "Réservé"
"""

CATALOGUE = 'categories = [["fields.family"]]'
VALUES = """categories = []
[connections.main.stock]
warehouses = ["WEB"]
[connections.main.prices]
groups = []
"""


def write(folder: Path, name: str, text: str) -> None:
    (folder / "export").mkdir(exist_ok=True)
    (folder / "export" / name).write_bytes(text.replace("\n", "\r\n").encode("cp1252"))


@pytest.fixture
def shop_writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every GraphQL mutation sent to Vendure (the login excepted) while the test runs."""
    writes: list[str] = []
    original = VendureClient._post

    def recording(self: VendureClient, query: str, variables: dict[str, Any], **kwargs: Any) -> Any:
        if query.lstrip().startswith("mutation") and "login(" not in query:
            writes.append(query)
        return original(self, query, variables, **kwargs)

    monkeypatch.setattr(VendureClient, "_post", recording)
    return writes


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""


def test_an_empty_shop_would_get_everything_then_a_product_edited_by_hand_shows_its_field_diff(
    vendure, tmp_path: Path, shop_writes: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """One Vendure for both halves (a start costs 15-30 s of the suite): first empty, then published."""
    write(tmp_path, "articles.csv", ARTICLES)
    config = str(write_config(tmp_path, erp=ERP, vendure=vendure, catalogue=CATALOGUE))

    empty = publish_catalogue(config=config, dry_run=True)

    assert len(empty["would_create"]) == 3 and empty["would_update"] == [] and empty["unchanged"] == 0
    creates = [c for c in empty["changes"] if c["action"] == "create"]
    assert len(creates) == 3 and {c["action"] for c in empty["changes"]} == {"create"}
    assert any("2 variants" in c["detail"] and "POLO-BL-M" in c["record"] for c in creates)
    assert empty["api_calls"] > 0  # the shop was asked
    assert shop_writes == [] and shop_products(vendure) == []
    assert not (tmp_path / "state.db").exists()
    print_summary(empty)
    out = capsys.readouterr().out
    assert "would create 3" in out and "would create product" in out and "(SKU POLO-BL-M, 2 variants)" in out

    assert publish_catalogue(config=config)["created"] == 3
    products = {p["name"]: p for p in shop_products(vendure)}
    client = vendure_client(vendure)
    try:
        # By hand in the Vendure admin: the polo renamed (owned: passerelle puts it back), its
        # description enriched (create-only: passerelle never writes it again, so no diff), the
        # mug deleted (its binding points at nothing: a dry run says it would be created again).
        client.execute(
            "mutation($input: UpdateProductInput!) { updateProduct(input: $input) { id } }",
            {
                "input": {
                    "id": products["Polo piqué"]["id"],
                    "translations": [{"languageCode": "en", "name": "Polo (soldes)", "description": "Coton bio"}],
                }
            },
        )
        client.execute(
            "mutation($id: ID!) { deleteProduct(id: $id) { result } }", {"id": products["Mug émaillé"]["id"]}
        )
    finally:
        client.close()
    state = tmp_path / "state.db"
    before = digest(state)
    shop_writes.clear()

    summary = publish_catalogue(config=config, dry_run=True)

    changes = summary["changes"]
    updates = [c for c in changes if c["action"] == "update"]
    assert [(c["field"], c["old"], c["new"]) for c in updates] == [("name", '"Polo (soldes)"', '"Polo piqué"')]
    assert "POLO-BL-M" in updates[0]["record"]
    creates = [c for c in changes if c["action"] == "create"]
    assert len(creates) == 1 and "MUG" in creates[0]["record"] and "no longer holds" in creates[0]["detail"]
    assert len(summary["would_update"]) == 1 and len(summary["would_create"]) == 1 and summary["unchanged"] == 1
    assert shop_writes == [] and digest(state) == before
    assert {p["name"] for p in shop_products(vendure)} == {"Polo (soldes)", "Thé vert 100 g"}

    print_summary(summary)
    out = capsys.readouterr().out
    assert "would update product" in out and ': name "Polo (soldes)" -> "Polo piqué"' in out


def test_stock_and_price_dry_runs_show_the_shops_value_and_the_new_one(
    vendure, tmp_path: Path, shop_writes: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "articles.csv", ARTICLES)
    write(tmp_path, "stock.csv", STOCK)
    config = str(write_config(tmp_path, erp=ERP, vendure=vendure, catalogue=VALUES))
    assert publish_catalogue(config=config)["created"] == 3
    assert sync_stock(config=config)["updated"] == 4
    assert sync_prices(config=config)["updated"] == 4
    write(tmp_path, "stock.csv", STOCK.replace("THE-VRT;WEB;25,000", "THE-VRT;WEB;30,000"))
    write(tmp_path, "articles.csv", ARTICLES.replace("MUG;Mug émaillé;;;;;12,00", "MUG;Mug émaillé;;;;;13,50"))
    state = tmp_path / "state.db"
    before = digest(state)
    shop_writes.clear()

    stock = sync_stock(config=config, dry_run=True)
    prices = sync_prices(config=config, dry_run=True)

    assert [(c["record"], c["field"], c["old"], c["new"]) for c in stock["changes"]] == [
        ("stock THE-VRT", "quantity", "25", "30")
    ]
    assert [(c["record"], c["field"], c["old"], c["new"]) for c in prices["changes"]] == [
        ("price MUG", "price", "12.00 EUR tax excl.", "13.50 EUR tax excl.")
    ]
    assert shop_writes == [] and digest(state) == before
    variants = shop_variants(vendure)
    assert variants["THE-VRT"]["stockOnHand"] == 25 and variants["MUG"]["price"] == 1200

    print_summary(stock)
    print_summary(prices)
    out = capsys.readouterr().out
    assert "would update stock THE-VRT: quantity 25 -> 30" in out
    assert "would update price MUG: price 12.00 EUR tax excl. -> 13.50 EUR tax excl." in out


def test_orders_dry_run_lists_what_the_erp_would_receive(
    shop: dict[str, Any],  # noqa: F811 - the imported fixture
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    placed = shop_ops.place_order(shop["url"], skus_quantities={"MUG": 2, "THE-VRT": 1}, email="lea@example.com")
    state = tmp_path / "state.db"
    before = digest(state)

    dry = import_orders(config=shop["config"], dry_run=True)

    assert [o["status"] for o in dry["orders"]] == ["would import"]
    sent = [(c["field"], c["new"]) for c in dry["changes"] if placed["code"] in c["record"]]
    fields = [f for f, _ in sent]
    assert fields[0] == "customer" and fields.count("line") == 2 and "total" in fields
    lines = [new for f, new in sent if f == "line"]
    assert any(line.startswith("MUG x 2 x ") and "tax excl." in line for line in lines)
    assert not any("lea@example.com" in new for _, new in sent)
    assert digest(state) == before and list((tmp_path / "outbox").iterdir()) == []  # nothing claimed or written

    print_summary(dry)
    out = capsys.readouterr().out
    assert f"would send order {placed['code']}" in out and ": line MUG x 2 x " in out
