"""Stock and prices from GesCom exports (cp1252, ';', decimal commas) to a real Vendure."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from flows.catalogue import publish_catalogue
from flows.prices import sync_prices
from flows.stock import sync_stock
from tests.flows.helpers import shop_variants, write_config

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]

ARTICLES = """Référence;Désignation;Modèle;Libellé modèle;Couleur;Taille;Prix de vente HT;Taux TVA;Prix promo HT;Début promo;Fin promo
POLO-BL-M;Polo piqué bleu M;POLO;Polo piqué;Bleu;M;39,00;20,00;29,00;27/11/2026;30/11/2026
POLO-BL-L;Polo piqué bleu L;POLO;Polo piqué;Bleu;L;39,00;20,00;;;
THE-VRT;Thé vert 100 g;;;;;8,90;5,5;;;
MUG;Mug émaillé;;;;;12,00;20;;;
"""

# Sage-style stock export: one line per article, warehouse and bin; "BOUTIQUE" is the shop
# floor and must not feed the web shop.
STOCK = """Référence;Dépôt;Emplacement;Quantité;Réservé
POLO-BL-M;WEB;A-01;10,000;2,000
POLO-BL-M;WEB;A-02;3,000;0,000
POLO-BL-M;BOUTIQUE;;40,000;0,000
POLO-BL-L;WEB;A-03;2,000;0,000
THE-VRT;WEB;B-01;25,000;0,000
MUG;WEB;C-01;7,000;1,000
"""

GROUPS = """Référence;Catégorie tarifaire;Qté mini;Prix de vente HT
MUG;Revendeurs;6;9,00
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
[connections.main.erp.prices.group_prices]
path = "export/tarifs.csv"
[connections.main.erp.prices.group_prices.columns]
sku = "Référence"
group = "Catégorie tarifaire"
min_quantity = "Qté mini"
price = "Prix de vente HT"
"""

SETTINGS = """categories = []
[connections.main.stock]
warehouses = ["WEB"]
safety_stock = 1
[connections.main.prices]
groups = ["Revendeurs"]
"""


def write(folder: Path, name: str, text: str) -> None:
    (folder / "export").mkdir(exist_ok=True)
    (folder / "export" / name).write_bytes(text.replace("\n", "\r\n").encode("cp1252"))


def stock(vendure: object) -> dict[str, int]:
    return {sku: v["stockOnHand"] for sku, v in shop_variants(vendure).items()}


def test_stock_from_an_export_only_changes_are_sent_and_bad_lines_are_quarantined(vendure, tmp_path: Path) -> None:
    write(tmp_path, "articles.csv", ARTICLES)
    write(tmp_path, "stock.csv", STOCK)
    write(tmp_path, "tarifs.csv", GROUPS)
    config = str(write_config(tmp_path, erp=ERP, vendure=vendure, catalogue=SETTINGS))
    assert publish_catalogue(config=config)["created"] == 3

    first = sync_stock(config=config)
    # WEB only (BOUTIQUE's 40 polos stay in the shop floor), minus reserved, minus 1 of safety stock.
    assert stock(vendure) == {"POLO-BL-M": 10, "POLO-BL-L": 1, "THE-VRT": 24, "MUG": 5}
    assert (first["updated"], first["failed"], first["quarantined"]) == (4, 0, 0)

    again = sync_stock(config=config)
    assert (again["updated"], again["unchanged"]) == (0, 4)

    # Two lines change, one line is unreadable: exactly the two are sent, the bad one waits.
    changed = STOCK.replace("POLO-BL-L;WEB;A-03;2,000", "POLO-BL-L;WEB;A-03;0,000").replace(
        "THE-VRT;WEB;B-01;25,000", "THE-VRT;WEB;B-01;30,000"
    )
    write(tmp_path, "stock.csv", changed.replace("MUG;WEB;C-01;7,000", "MUG;WEB;C-01;sept"))
    third = sync_stock(config=config)
    assert third["updated"] == 2 and third["quarantined"] == 1
    assert third["quarantine"][0]["key"] == "MUG" and "sept" in third["quarantine"][0]["reason"]
    assert stock(vendure) == {"POLO-BL-M": 10, "POLO-BL-L": 0, "THE-VRT": 29, "MUG": 5}

    # Someone edits stock by hand in the shop: a full run puts the ERP's figure back.
    write(tmp_path, "stock.csv", changed)
    sync_stock(config=config)
    client_variants = shop_variants(vendure)
    from tests.flows.helpers import vendure_client

    client = vendure_client(vendure)
    client.execute(
        "mutation($id: ID!) { updateProductVariants(input: [{id: $id, stockOnHand: 99}]) { id } }",
        {"id": client_variants["THE-VRT"]["id"]},
    )
    client.close()
    assert sync_stock(config=config)["updated"] == 0  # incremental runs trust the last values sent
    full = sync_stock(config=config, full=True)
    assert (full["updated"], full["drift"]) == (1, 1)
    assert stock(vendure)["THE-VRT"] == 29


def test_promotion_appears_and_disappears_on_time_and_group_prices_are_reported_once(vendure, tmp_path: Path) -> None:
    write(tmp_path, "articles.csv", ARTICLES)
    write(tmp_path, "stock.csv", STOCK)
    write(tmp_path, "tarifs.csv", GROUPS)
    config = str(write_config(tmp_path, erp=ERP, vendure=vendure, catalogue=SETTINGS))
    publish_catalogue(config=config)

    def price(sku: str) -> int:
        return shop_variants(vendure)[sku]["price"]

    # Before Black Friday (the promotion starts on 27/11/2026 at midnight in Paris = 26/11 23:00 UTC).
    before = sync_prices(config=config, at=datetime(2026, 11, 26, 22, 59, tzinfo=timezone.utc))
    # The first run sends every price once (nothing recorded yet), the same values the catalogue set.
    assert price("POLO-BL-M") == 3900 and before["updated"] == 4
    assert before["next_change"] == "2026-11-26T23:00:00+00:00"
    assert before["notices"] and "Revendeurs" in before["notices"][0] and before["group_prices_left_out"] == 1

    during = sync_prices(config=config, at=datetime(2026, 11, 26, 23, 0, tzinfo=timezone.utc))
    assert price("POLO-BL-M") == 2900 and during["updated"] == 1 and during["promotions_in_force"] == 1
    assert during["notices"] == [] and during["group_prices_left_out"] == 1  # said once, counted every run

    still = sync_prices(config=config, at=datetime(2026, 11, 30, 22, 59, tzinfo=timezone.utc))
    assert still["updated"] == 0 and price("POLO-BL-M") == 2900

    # The end date is inclusive: 30/11 ends at midnight in Paris, 30/11 23:00 UTC.
    after = sync_prices(config=config, at=datetime(2026, 11, 30, 23, 0, tzinfo=timezone.utc))
    assert after["updated"] == 1 and price("POLO-BL-M") == 3900
    assert price("POLO-BL-L") == 3900 and price("MUG") == 1200

    preview = sync_prices(config=config, dry_run=True, at=datetime(2026, 11, 28, tzinfo=timezone.utc))
    assert [w["key"] for w in preview["would_update"]] == ["POLO-BL-M"] and price("POLO-BL-M") == 3900
