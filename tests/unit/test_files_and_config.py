"""GesCom export reading (encodings, decimal commas, XML) and configuration secrets."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from connectors.erp.files import FilesCatalogue, FilesSettings
from connectors.errors import Fatal
from deployments.config import load_config

COLUMNS = {
    "sku": "Référence",
    "name": "Désignation",
    "price": "Prix HT",
    "vat_rate": "TVA",
    "ean": "EAN",
    "weight": "Poids",
    "group_key": "Modèle",
    "description": None,
}
CSV = "Référence;Désignation;Prix HT;TVA;EAN;Poids;Modèle\nA1;Thé vert;1\u00a0234,50;5,5 %;;0,1;\nA2;Café;abc;20;;;\n\nA3;Crème brûlée;3,20;5,5;;;\n"


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8-sig"])
def test_csv_encodings_and_decimal_commas(tmp_path: Path, encoding: str) -> None:
    (tmp_path / "a.csv").write_bytes(CSV.encode(encoding))
    articles = list(FilesCatalogue(FilesSettings(path=str(tmp_path / "a.csv"), columns=COLUMNS)).iter_articles())
    assert [a.sku for a in articles] == ["A1", "A2", "A3"]
    assert articles[0].name == "Thé vert" and articles[0].price == D("1234.50") and articles[0].vat_rate == D("5.5")
    assert articles[2].name == "Crème brûlée"
    (issue,) = articles[1].issues
    assert (issue.key, issue.field) == ("A2", "price") and "line 3" in issue.reason and "'abc'" in issue.reason


def test_xml_export(tmp_path: Path) -> None:
    (tmp_path / "a.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?><Articles><Article code="X1"><Designation>Bol</Designation>'
        "<Prix>4,50</Prix><Image>a.jpg</Image><Image>b.jpg</Image></Article></Articles>",
        encoding="utf-8",
    )
    settings = FilesSettings(
        path=str(tmp_path / "a.xml"),
        columns={"sku": "@code", "name": "Designation", "price": "Prix", "images": "Image", "description": None},
    )
    (article,) = FilesCatalogue(settings).iter_articles()
    assert (article.sku, article.price, article.images) == ("X1", D("4.50"), ("a.jpg", "b.jpg"))


def test_missing_export_is_fatal_with_resolution(tmp_path: Path) -> None:
    with pytest.raises(Fatal, match="Resolution"):
        list(FilesCatalogue(FilesSettings(path=str(tmp_path / "none*.csv"))).iter_articles())


def _config(tmp_path: Path, password: str) -> Path:
    file = tmp_path / "p.toml"
    file.write_text(f"""[state]\nurl = "sqlite:///state.db"\n[connections.main.erp]\ntype = "files"\npath = "x.csv"\n
[connections.main.shop]\ntype = "vendure"\nurl = "http://127.0.0.1:1/admin-api"\nusername = "u"\npassword = "{password}"\n""")
    return file


def test_secrets_by_reference_only(tmp_path: Path, monkeypatch) -> None:
    cfg = load_config(_config(tmp_path, "env:SHOP_PW"))
    monkeypatch.setenv("SHOP_PW", "s3cr3t")
    assert cfg.secret("env:SHOP_PW", what="shop").get_secret_value() == "s3cr3t"
    monkeypatch.delenv("SHOP_PW")
    with pytest.raises(Fatal, match="SHOP_PW"):
        cfg.secret("env:SHOP_PW", what="shop")
    with pytest.raises(Fatal, match="in clear"):
        load_config(_config(tmp_path, "plaintext")).secret("plaintext", what="shop")
    assert cfg.state_url() == f"sqlite:///{tmp_path / 'state.db'}"
    with pytest.raises(Fatal, match="no connection named"):
        cfg.connection("other")
