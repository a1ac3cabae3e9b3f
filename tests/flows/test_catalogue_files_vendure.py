"""Catalogue publish from a GesCom CSV export (cp1252, ';', decimal commas) to a real Vendure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deployments.cli import app
from flows.catalogue import publish_catalogue
from tests.flows.helpers import shop_products, vendure_client, write_config

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]

# An EBP/Sage-style export: French headers, ';' separator, decimal commas, cp1252 accents.
EXPORT = """Référence;Désignation;Modèle;Libellé modèle;Couleur;Taille;Prix de vente HT;Taux TVA;Code barre;Poids;Famille;Sous-famille
POLO-BL-M;Polo piqué bleu M;POLO;Polo piqué;Bleu;M;39,00;20,00;3790000010013;0,250;Vêtements;Polos
POLO-BL-L;Polo piqué bleu L;POLO;Polo piqué;Bleu;L;39,00;20,00;3790000010020;0,250;Vêtements;Polos
POLO-RG-M;Polo piqué rouge M;POLO;Polo piqué;Rouge;M;39,00;20,00;3790000010037;0,250;Vêtements;Polos
POLO-RG-L;Polo piqué rouge L;POLO;Polo piqué;Rouge;L;39,00;20,00;3790000010038;0,250;Vêtements;Polos
THE-VRT;Thé vert 100 g;;;;;8,90;5,5;;0,1;Épicerie;Thé
CAFE-ETH;Café d'Éthiopie 250 g;;;;;1 012,50;5,5;;0,25;Épicerie;Café
CAFE-ETH;Café d'Éthiopie 1 kg (doublon);;;;;32,00;5,5;;1;Épicerie;Café
MUG;Mug émaillé;;;;;12,00;20;;0,4;Maison;Cuisine
"""

FILES_ERP = """type = "files"
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
colour = "Couleur"
size = "Taille"
[connections.main.erp.extra]
family = "Famille"
subfamily = "Sous-famille"
"""


def test_cp1252_export_publishes_and_quarantines_bad_ean_and_duplicate_sku(vendure, tmp_path: Path) -> None:
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "articles.csv").write_bytes(EXPORT.replace("\n", "\r\n").encode("cp1252"))
    config = write_config(
        tmp_path, erp=FILES_ERP, vendure=vendure, catalogue='categories = [["fields.family", "fields.subfamily"]]'
    )

    summary = publish_catalogue(config=str(config))

    assert summary["read"] == 8
    assert summary["created"] == 3  # the polo (3 good variants), the tea, the mug
    reasons = {(q["key"], q["field"]): q["reason"] for q in summary["quarantine"]}
    assert "expected 7" in reasons[("POLO-RG-L", "ean")]  # 379000001003 has check digit 7, not 8
    assert ("CAFE-ETH", "sku") in reasons  # both rows of the duplicate are held back
    products = {p["name"]: p for p in shop_products(vendure)}
    assert set(products) == {"Polo piqué", "Thé vert 100 g", "Mug émaillé"}
    polo = products["Polo piqué"]
    assert {v["sku"]: v["price"] for v in polo["variants"]} == {"POLO-BL-M": 3900, "POLO-BL-L": 3900, "POLO-RG-M": 3900}
    assert {f["code"] for f in polo["facetValues"]} == {"vetements", "vetements-polos"}
    assert products["Thé vert 100 g"]["variants"][0]["taxCategory"]["name"] == "Reduced Tax"

    runner = CliRunner()
    listed = runner.invoke(app, ["quarantine", "list", "-c", str(config)])
    assert listed.exit_code == 0 and "POLO-RG-L" in listed.output and "CAFE-ETH" in listed.output
    history = runner.invoke(app, ["audit", "history", "article", "MUG", "-c", str(config)])
    assert history.exit_code == 0 and "read" in history.output
    sent = runner.invoke(app, ["audit", "history", "variant", "POLO-BL-M", "-c", str(config), "--json"])
    rows = [json.loads(line) for line in sent.output.splitlines()]
    assert sent.exit_code == 0 and [r["stage"] for r in rows] == ["sent"]
    assert rows[0]["payload"]["price"] == "39.00" and rows[0]["payload"]["action"] == "create"

    # Fix the export: the duplicate goes, the EAN is corrected -> both publish, quarantine closes.
    fixed = EXPORT.replace("3790000010038", "3790000010044").replace(
        "CAFE-ETH;Café d'Éthiopie 1 kg (doublon);;;;;32,00;5,5;;1;Épicerie;Café\n", ""
    )
    (tmp_path / "export" / "articles.csv").write_bytes(fixed.encode("cp1252"))
    second = publish_catalogue(config=str(config))
    assert (second["created"], second["updated"], second["quarantined"]) == (1, 1, 0)
    listed = runner.invoke(app, ["quarantine", "list", "-c", str(config)])
    assert "quarantine is empty" in listed.output


def test_a_create_only_custom_field_keeps_the_shops_value_when_other_fields_change(vendure, tmp_path: Path) -> None:
    export = (
        "Référence;Désignation;Prix de vente HT;Taux TVA;Marque;Matière\nBOL;Bol en grès;14,00;20;Atelier Nord;Grès\n"
    )
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "articles.csv").write_bytes(export.encode("cp1252"))
    erp = """type = "files"
path = "export/articles.csv"
[connections.main.erp.columns]
sku = "Référence"
name = "Désignation"
price = "Prix de vente HT"
vat_rate = "Taux TVA"
ean = ""
weight = ""
description = ""
group_key = ""
[connections.main.erp.extra]
brand = "Marque"
material = "Matière"
"""
    catalogue = """create_only = ["slug", "description", "images", "custom_fields.material"]
[connections.main.catalogue.fields]
"variant.name" = "name"
"custom_fields.brand" = "fields.brand"
"custom_fields.material" = "fields.material"
"""
    config = str(write_config(tmp_path, erp=erp, vendure=vendure, catalogue=catalogue))
    assert publish_catalogue(config=config)["created"] == 1
    client = vendure_client(vendure)
    (bowl,) = [p for p in shop_products(vendure) if p["name"] == "Bol en grès"]
    client.execute(  # the merchant rewrites the material in Vendure
        "mutation($input: UpdateProductInput!) { updateProduct(input: $input) { id } }",
        {"input": {"id": bowl["id"], "customFields": {"material": "Grès émaillé, cuit à 1280 °C"}}},
    )
    # The ERP renames the bowl, changes its brand and its material.
    (tmp_path / "export" / "articles.csv").write_bytes(
        export.replace("Bol en grès;14,00;20;Atelier Nord;Grès", "Bol à soupe;14,00;20;Atelier Sud;Faïence").encode(
            "cp1252"
        )
    )
    assert publish_catalogue(config=config)["updated"] == 1

    fields = client.query(f'{{ product(id: "{bowl["id"]}") {{ name customFields {{ brand material }} }} }}')["product"]
    client.close()
    assert fields["name"] == "Bol à soupe"
    assert fields["customFields"] == {"brand": "Atelier Sud", "material": "Grès émaillé, cuit à 1280 °C"}
