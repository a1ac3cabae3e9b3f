"""The price flow, unchanged, with a files ERP carrying a customer-group price export (Sage's
"tarifs par catégorie tarifaire", long layout) and a Shopify Plus B2B shop (the fake): the group's
prices land on the mapped price list, and a second run writes nothing."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from connectors import registry
from connectors.shop.shopify.client import ShopifyClient
from connectors.shop.shopify.factory import ShopifyShop
from connectors.shop.shopify.settings import ShopifySettings
from deployments.sandbox.fakes.shopify.core import SHOP, TOKEN, ShopifyFake, VirtualClock
from deployments.sandbox.fakes.shopify.price_lists import add_price_list, fixed_prices, price_breaks
from flows.catalogue import publish_catalogue
from flows.prices import sync_prices

pytestmark = pytest.mark.usefixtures("prefect_harness")

FAKE: dict[str, Any] = {}

ARTICLES = """Référence;Désignation;Modèle;Libellé modèle;Taille;Prix de vente HT;Taux TVA
POLO-M;Polo piqué M;POLO;Polo piqué;M;39,00;20,00
POLO-L;Polo piqué L;POLO;Polo piqué;L;39,00;20,00
THE-VRT;Thé vert 100 g;;;;8,90;5,5
"""
GROUPS = """Référence;Catégorie tarifaire;Qté mini;Prix de vente HT
POLO-M;Revendeurs;1;30,00
POLO-M;Revendeurs;10;27,50
THE-VRT;Revendeurs;1;7,00
"""

CONFIG = """
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
description = ""
weight = ""
ean = ""
[connections.main.erp.attributes]
size = "Taille"
[connections.main.erp.prices.group_prices]
path = "export/tarifs.csv"
[connections.main.erp.prices.group_prices.columns]
sku = "Référence"
group = "Catégorie tarifaire"
min_quantity = "Qté mini"
price = "Prix de vente HT"

[connections.main.shop]
type = "shopify-b2b-fake"
[connections.main.shop.price_lists]
Revendeurs = "Revendeurs FR"

[connections.main.catalogue]
attributes = ["size"]
categories = []
[connections.main.catalogue.taxes.FR]
"20" = "taxable"
"5.5" = "taxable"

[connections.main.prices]
groups = ["Revendeurs"]
"""


def build_fake(options: dict[str, Any], resolver: Any) -> ShopifyShop:
    fake, clock = FAKE["shop"], FAKE["clock"]
    client = ShopifyClient(SHOP, token=TOKEN, transport=fake.transport, sleep=clock.sleep, clock=clock.now)
    return ShopifyShop(client, ShopifySettings(url=SHOP, access_token="env:SHOPIFY_ACCESS_TOKEN", **options))


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> ShopifyFake:
    clock = VirtualClock()
    FAKE["clock"] = clock
    FAKE["shop"] = ShopifyFake(clock=clock.now, plan="plus", b2b=True, taxes_included=False, locations=("WEB",))
    monkeypatch.setitem(registry.SHOP_CONNECTORS, "shopify-b2b-fake", f"{__name__}:build_fake")
    return FAKE["shop"]


def setup(tmp_path: Path) -> str:
    (tmp_path / "export").mkdir()
    for name, text in (("articles.csv", ARTICLES), ("tarifs.csv", GROUPS)):
        (tmp_path / "export" / name).write_bytes(text.replace("\n", "\r\n").encode("cp1252"))
    (tmp_path / "passerelle.toml").write_text(CONFIG, encoding="utf-8")
    return str(tmp_path / "passerelle.toml")


def test_customer_group_prices_land_on_the_mapped_price_list_and_a_second_run_writes_nothing(
    fake: ShopifyFake, tmp_path: Path
) -> None:
    wholesale = add_price_list(fake, "Revendeurs FR", "EUR", catalog="Revendeurs")
    export = add_price_list(fake, "Export", "EUR")
    config = setup(tmp_path)
    assert publish_catalogue(config=config)["created"] == 2
    ids = {v["sku"]: v["id"] for v in fake.all("ProductVariant")}
    at = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)

    first = sync_prices(config=config, at=at)

    assert (first["updated"], first["failed"], first["group_prices_left_out"]) == (3, 0, 0)
    assert first["notices"] == []
    assert fixed_prices(fake, wholesale) == {ids["POLO-M"]: "30.00", ids["THE-VRT"]: "7.00"}
    assert price_breaks(fake, wholesale) == {(ids["POLO-M"], 10): "27.50"}
    assert fixed_prices(fake, export) == {}  # a list passerelle does not map is never written

    before = len(fake.exchanges)
    second = sync_prices(config=config, at=at)

    assert (second["updated"], second["unchanged"], second["failed"]) == (0, 3, 0)
    assert [e for e in fake.exchanges[before:] if e.operation == "mutation"] == []


def test_a_mapped_price_list_whose_group_the_flow_does_not_read_stops_the_run_before_any_write(
    fake: ShopifyFake, tmp_path: Path
) -> None:
    """Without the group in ``[prices] groups`` the writes carry none of its prices, and the sink
    would delete every fixed price of the list: the run stops first."""
    wholesale = add_price_list(fake, "Revendeurs FR", "EUR", catalog="Revendeurs")
    config = setup(tmp_path)
    assert publish_catalogue(config=config)["created"] == 2
    ids = {v["sku"]: v["id"] for v in fake.all("ProductVariant")}
    at = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
    assert sync_prices(config=config, at=at)["failed"] == 0
    kept = fixed_prices(fake, wholesale)
    assert kept == {ids["POLO-M"]: "30.00", ids["THE-VRT"]: "7.00"}
    text = Path(config).read_text(encoding="utf-8").replace('groups = ["Revendeurs"]', "groups = []")
    Path(config).write_text(text, encoding="utf-8")
    (tmp_path / "export" / "articles.csv").write_bytes(
        ARTICLES.replace("39,00", "41,00").replace("\n", "\r\n").encode("cp1252")
    )
    before = len(fake.exchanges)

    with pytest.raises(Exception, match=r"Revendeurs.*Resolution: add them to \[prices\] groups"):
        sync_prices(config=config, at=at)

    assert [e for e in fake.exchanges[before:] if e.operation == "mutation"] == []
    assert fixed_prices(fake, wholesale) == kept
