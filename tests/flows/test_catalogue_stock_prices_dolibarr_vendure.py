"""Catalogue, stock and prices from Dolibarr (the contract fake, tests/fixtures/contracts/dolibarr-19.0)
to a real Vendure, under Prefect, the flows unchanged: products in their own price basis (HT or
TTC), categories as facets, real stock per warehouse minus the safety stock, and a price level
(PRODUIT_MULTIPRICES) as a customer group, which Vendure cannot hold: reported as left out.
A second run of each flow writes nothing.

Left out by the connector, not by the flows (connectors/erp/dolibarr, docs/dolibarr.md): reserved
stock (Dolibarr's virtual stock is per product, not per warehouse: ``reserved`` is 0) and
promotions (Dolibarr has no dated prices). Variants: test_dolibarr_catalogue.py; customer prices
into price lists: test_dolibarr_customer_prices_shopify.py.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from connectors import registry
from connectors.erp.dolibarr.connector import DolibarrConnector
from connectors.erp.dolibarr.factory import build
from connectors.registry import Resolver
from deployments.sandbox.fakes.dolibarr import KEY, URL, FakeDolibarr
from flows.catalogue import publish_catalogue
from flows.prices import sync_prices
from flows.stock import sync_stock
from tests.flows.helpers import shop_products, shop_variants, write_config

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]

_CURRENT: dict[str, FakeDolibarr] = {}

SETTINGS = """
[connections.main.stock]
warehouses = ["WH-MAIN"]
safety_stock = 1
[connections.main.prices]
groups = ["Revendeurs"]
"""
AT = datetime(2026, 11, 20, tzinfo=timezone.utc)


def build_on_fake(options: dict[str, Any], resolver: Resolver, *, connection: str | None = None) -> DolibarrConnector:
    """The registry's factory, on the test's fake Dolibarr."""
    return build(options, resolver, connection=connection, transport=_CURRENT["fake"].transport)


@pytest.fixture
def dolibarr(monkeypatch: pytest.MonkeyPatch) -> FakeDolibarr:
    """The captured PEER-SKU-001 (20.00 HT) and two products: a mug priced HT, with a reseller level
    (2), and a tee priced TTC; categories Vêtements and Maison; warehouses WH-MAIN (captured) and
    BOUTIQUE (the shop floor, not for the web)."""
    fake = FakeDolibarr()
    clothing = fake.add_category("Vêtements")
    mug = fake.add_product(
        "D-MUG",
        "Mug émaillé",
        "12.50",
        description="Mug 30 cl",
        multiprices={"1": "12.50000000", "2": "10.00000000"},
        multiprices_ttc={"1": "15.00000000", "2": "12.00000000"},
        multiprices_base_type={"1": "HT", "2": "HT"},
        multiprices_tva_tx={"1": "20.0000", "2": "20.0000"},
    )
    tee = fake.add_product("D-TEE", "Tee-shirt", "24.00", base="TTC")
    fake.add_category("Maison", members=(1, mug))
    fake.category_members[clothing] = {tee}
    fake.ids = {"mug": mug, "tee": tee, "main": 1, "shop": fake.add_warehouse("BOUTIQUE")}  # type: ignore[attr-defined]
    _CURRENT["fake"] = fake
    monkeypatch.setitem(
        registry.ERP_CONNECTORS, "dolibarr", "tests.flows.test_catalogue_stock_prices_dolibarr_vendure:build_on_fake"
    )
    monkeypatch.setenv("TEST_DOLIBARR_KEY", KEY)
    return fake


def config_for(tmp_path: Path, vendure: Any, settings: str = SETTINGS) -> str:
    erp = f'type = "dolibarr"\nurl = "{URL}"\napi_key = "env:TEST_DOLIBARR_KEY"\n[connections.main.erp.price_levels]\nRevendeurs = 2'
    return str(write_config(tmp_path, erp=erp, vendure=vendure, catalogue=settings))


def prices(vendure: Any, *skus: str) -> list[tuple[int, int]]:
    variants = shop_variants(vendure)
    return [(variants[s]["price"], variants[s]["priceWithTax"]) for s in skus]


def test_catalogue_publishes_dolibarr_products_in_their_price_basis(
    dolibarr: FakeDolibarr, vendure: Any, tmp_path: Path
) -> None:
    config = config_for(tmp_path, vendure, settings="")

    first = publish_catalogue(config=config)

    assert (first["created"], first["failed"], first["quarantined"]) == (3, 0, 0), first
    products = {p["variants"][0]["sku"]: p for p in shop_products(vendure)}
    assert sorted(products) == ["D-MUG", "D-TEE", "PEER-SKU-001"]
    assert all(len(p["variants"]) == 1 and p["optionGroups"] == [] for p in products.values())
    assert products["D-MUG"]["name"] == "Mug émaillé" and "Mug 30 cl" in products["D-MUG"]["description"]
    assert products["D-MUG"]["variants"][0]["taxCategory"]["name"] == "Standard Tax"
    assert {f["code"] for f in products["D-TEE"]["facetValues"]} == {"vetements"}
    assert {f["code"] for f in products["PEER-SKU-001"]["facetValues"]} == {"maison"}
    # D-MUG 12.50 HT; D-TEE 24.00 TTC: 20.00 + 20 % in the shop, the customer pays 24.00.
    assert prices(vendure, "D-MUG", "D-TEE", "PEER-SKU-001") == [(1250, 1500), (2000, 2400), (2000, 2400)]

    second = publish_catalogue(config=config)
    assert (second["created"], second["updated"], second["archived"], second["unchanged"]) == (0, 0, 0, 3), second

    # Taken off sale in Dolibarr (tosell = 0): the shop stops selling it; nothing else is written.
    dolibarr.products[dolibarr.ids["tee"]].update(status="0", date_modification="2026-11-23 10:00:00")  # type: ignore[attr-defined]
    off = publish_catalogue(config=config)
    assert (off["created"], off["unchanged"], off["failed"]) == (0, 2, 0), off
    tee = next(p for p in shop_products(vendure) if p["variants"][0]["sku"] == "D-TEE")
    assert tee["enabled"] is False or tee["variants"][0]["enabled"] is False


def test_stock_follows_the_web_warehouse_minus_safety_stock(
    dolibarr: FakeDolibarr, vendure: Any, tmp_path: Path
) -> None:
    ids = dolibarr.ids  # type: ignore[attr-defined]
    dolibarr.set_stock(ids["mug"], ids["main"], "7")
    dolibarr.set_stock(ids["mug"], ids["shop"], "40")  # the shop floor: not for the web
    dolibarr.set_stock(ids["tee"], ids["shop"], "12")
    config = config_for(tmp_path, vendure)
    publish_catalogue(config=config)

    first = sync_stock(config=config)

    assert (first["failed"], first["quarantined"]) == (0, 0), first
    variants = shop_variants(vendure)
    assert [variants[s]["stockOnHand"] for s in ("D-MUG", "D-TEE", "PEER-SKU-001")] == [6, 0, 0]
    assert sync_stock(config=config)["updated"] == 0

    dolibarr.set_stock(ids["tee"], ids["main"], "5")
    dolibarr.set_stock(ids["mug"], ids["shop"], "2")
    changed = sync_stock(config=config)
    assert changed["updated"] == 1, changed
    assert [shop_variants(vendure)[s]["stockOnHand"] for s in ("D-MUG", "D-TEE")] == [6, 4]
    assert sync_stock(config=config)["updated"] == 0


def test_prices_follow_dolibarr_and_report_the_price_level_left_out(
    dolibarr: FakeDolibarr, vendure: Any, tmp_path: Path
) -> None:
    config = config_for(tmp_path, vendure)
    publish_catalogue(config=config)

    first = sync_prices(config=config, at=AT)

    assert (first["failed"], first["quarantined"], first["next_change"]) == (0, 0, None), first
    assert prices(vendure, "D-MUG", "D-TEE", "PEER-SKU-001") == [(1250, 1500), (2000, 2400), (2000, 2400)]
    # The reseller level (10.00 HT for the mug) has no place in Vendure: counted and said once.
    assert first["group_prices_left_out"] == 1 and "Revendeurs" in first["notices"][0]
    again = sync_prices(config=config, at=AT)
    assert (again["updated"], again["notices"]) == (0, [])

    # A new TTC price in Dolibarr (price_ttc, price recomputed as Product::updatePrice does).
    dolibarr.products[dolibarr.ids["tee"]].update(  # type: ignore[attr-defined]
        price_ttc="26.40000000", price="22.00000000", date_modification="2026-11-23 10:00:00"
    )
    repriced = sync_prices(config=config, at=AT)
    assert repriced["updated"] == 1 and prices(vendure, "D-TEE", "D-MUG") == [(2200, 2640), (1250, 1500)]
    assert sync_prices(config=config, at=AT)["updated"] == 0
