"""Catalogue, stock and prices from Odoo (the contract fake, deployments/sandbox/fakes/odoo) to a
real Vendure, under Prefect, the flows unchanged: a configurable template's variants with their
SKU, EAN and price_extra, a tax-included list price, quants per warehouse minus reserved and
safety stock, a dated pricelist rule as a promotion and a pricelist as a customer group (which
Vendure cannot hold: reported as left out). A second run of each flow writes nothing.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from connectors import registry
from connectors.erp.odoo.connector import OdooConnector
from connectors.erp.odoo.factory import build
from connectors.registry import Resolver
from deployments.sandbox.fakes.odoo import OdooFake, seed_catalogue
from flows.catalogue import publish_catalogue
from flows.prices import sync_prices
from flows.stock import sync_stock
from tests.flows.helpers import shop_products, shop_variants, write_config

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]

_CURRENT: dict[str, OdooFake] = {}

SETTINGS = """
[connections.main.stock]
warehouses = ["WH"]
safety_stock = 1
[connections.main.prices]
groups = ["Pro"]
"""


def build_on_fake(options: dict[str, Any], resolver: Resolver, *, connection: str | None = None) -> OdooConnector:
    """The registry's factory, on the test's fake Odoo."""
    return build(options, resolver, connection=connection, transport=_CURRENT["fake"].transport, max_retries=0)


@pytest.fixture
def odoo(monkeypatch: pytest.MonkeyPatch) -> OdooFake:
    """seed_catalogue: a Tee template (Red S, Blue M at +2.00, an archived Red M; 20 % VAT excluded),
    a Mug (12.00, 20 % VAT included), a shipping service; warehouses WH (a shelf under its stock)
    and WH2; pricelists Public and Pro. Here: July's 20 % off the Tee on Public, 10 % off for Pro."""
    fake = OdooFake()
    ids = seed_catalogue(fake)
    fake.seed(
        "product.pricelist.item",
        pricelist_id=ids["public"],
        applied_on="1_product",
        product_tmpl_id=ids["tee"],
        compute_price="percentage",
        percent_price=20.0,
        date_start="2026-07-01 00:00:00",
        date_end="2026-07-31 23:59:59",
    )
    fake.seed("product.pricelist.item", pricelist_id=ids["pro"], applied_on="3_global", compute_price="percentage",
              percent_price=10.0)  # fmt: skip
    fake.ids = ids  # type: ignore[attr-defined]
    _CURRENT["fake"] = fake
    monkeypatch.setitem(
        registry.ERP_CONNECTORS, "odoo", "tests.flows.test_catalogue_stock_prices_odoo_vendure:build_on_fake"
    )
    monkeypatch.setenv("TEST_ODOO_KEY", fake.api_key)
    return fake


def config_for(tmp_path: Path, vendure: Any, fake: OdooFake, settings: str = SETTINGS) -> str:
    erp = (
        f'type = "odoo"\nurl = "https://odoo.test"\ndatabase = "{fake.database}"\nlogin = "{fake.login}"\n'
        'api_key = "env:TEST_ODOO_KEY"\npromotion_pricelist = "Public"'
    )
    return str(write_config(tmp_path, erp=erp, vendure=vendure, catalogue=settings))


def prices(vendure: Any, *skus: str) -> list[tuple[int, int]]:
    variants = shop_variants(vendure)
    return [(variants[s]["price"], variants[s]["priceWithTax"]) for s in skus]


def test_catalogue_publishes_odoo_variants_with_sku_ean_and_price_basis(
    odoo: OdooFake, vendure: Any, tmp_path: Path
) -> None:
    config = config_for(tmp_path, vendure, odoo, settings="")

    first = publish_catalogue(config=config)

    assert (first["created"], first["failed"], first["quarantined"]) == (2, 0, 0), first
    products = {p["name"]: p for p in shop_products(vendure)}
    assert sorted(products) == ["Mug", "Tee"]  # no service (shipping, discount) in the shop
    tee = products["Tee"]
    assert [g["name"] for g in tee["optionGroups"]] == ["Colour", "Size"]  # Odoo's attribute names
    variants = {v["sku"]: v for v in tee["variants"]}
    assert sorted(variants) == ["TEE-BLUE-M", "TEE-RED-S"]  # the archived Red M is not sold
    assert variants["TEE-RED-S"]["customFields"]["ean"] == "4006381333931"
    assert variants["TEE-RED-S"]["taxCategory"]["name"] == "Standard Tax"
    assert {f["code"] for f in tee["facetValues"]} >= {"all-clothing-t-shirts"}
    # Blue's price_extra (+2.00) reaches the shop; the Mug's 12.00 includes its VAT: 10.00 + 20 %.
    assert prices(vendure, "TEE-RED-S", "TEE-BLUE-M", "MUG") == [(2000, 2400), (2200, 2640), (1000, 1200)]

    second = publish_catalogue(config=config)
    assert (second["created"], second["updated"], second["archived"], second["unchanged"]) == (0, 0, 0, 2), second

    # The Tee's list price changes in Odoo (the catalogue owns prices without a [prices] table):
    # its two variants move, the Mug is not written.
    odoo.tables["product.template"][odoo.ids["tee"]]["list_price"] = 21.0  # type: ignore[attr-defined]
    edited = publish_catalogue(config=config)
    assert (edited["created"], edited["updated"], edited["unchanged"]) == (0, 1, 1), edited
    assert prices(vendure, "TEE-RED-S", "TEE-BLUE-M", "MUG") == [(2100, 2520), (2300, 2760), (1000, 1200)]


def test_stock_sums_the_warehouse_locations_minus_reserved_and_safety_stock(
    odoo: OdooFake, vendure: Any, tmp_path: Path
) -> None:
    config = config_for(tmp_path, vendure, odoo)
    publish_catalogue(config=config)

    first = sync_stock(config=config)

    assert (first["failed"], first["quarantined"]) == (0, 0), first
    variants = shop_variants(vendure)
    # Red S: WH's stock 10 (3 reserved) + its shelf 5; WH2's 2 and the customers' location do not count.
    # Blue M: 4.5 on hand, 0.5 reserved: 4 - 1 = 3. The Mug has no quant: 0.
    assert [variants[s]["stockOnHand"] for s in ("TEE-RED-S", "TEE-BLUE-M", "MUG")] == [15 - 3 - 1, 3, 0]
    assert sync_stock(config=config)["updated"] == 0

    # A delivery reserves 4 more Red S in Odoo; stock arrives in WH2 (not a web warehouse).
    quant = next(q for q in odoo.tables["stock.quant"].values() if q["location_id"] == odoo.ids["wh_stock"])  # type: ignore[attr-defined]
    quant["reserved_quantity"] = 7.0
    odoo.seed("stock.quant", product_id=odoo.ids["mug"], location_id=odoo.ids["wh2_stock"], quantity=9.0)  # type: ignore[attr-defined]
    changed = sync_stock(config=config)
    assert changed["updated"] == 1, changed
    assert [shop_variants(vendure)[s]["stockOnHand"] for s in ("TEE-RED-S", "MUG")] == [15 - 7 - 1, 0]
    assert sync_stock(config=config)["updated"] == 0


def test_prices_follow_the_dated_pricelist_rule_and_report_group_prices_left_out(
    odoo: OdooFake, vendure: Any, tmp_path: Path
) -> None:
    config = config_for(tmp_path, vendure, odoo)
    publish_catalogue(config=config)

    june = sync_prices(config=config, at=datetime(2026, 6, 20, tzinfo=timezone.utc))
    assert (june["failed"], june["quarantined"]) == (0, 0), june
    assert prices(vendure, "TEE-RED-S", "TEE-BLUE-M", "MUG") == [(2000, 2400), (2200, 2640), (1000, 1200)]
    assert june["next_change"] == "2026-07-01T00:00:00+00:00"  # the rule's date_start (Odoo stores UTC)
    # Pro's 10 % off (one price per variant) has no place in Vendure: counted and said once.
    assert june["group_prices_left_out"] == 3 and "Pro" in june["notices"][0]
    again = sync_prices(config=config, at=datetime(2026, 6, 20, tzinfo=timezone.utc))
    assert again["updated"] == 0 and again["notices"] == []

    july = sync_prices(config=config, at=datetime(2026, 7, 10, tzinfo=timezone.utc))
    assert july["updated"] == 2 and july["promotions_in_force"] == 2, july
    assert prices(vendure, "TEE-RED-S", "TEE-BLUE-M", "MUG") == [(1600, 1920), (1760, 2112), (1000, 1200)]
    assert sync_prices(config=config, at=datetime(2026, 7, 11, tzinfo=timezone.utc))["updated"] == 0

    august = sync_prices(config=config, at=datetime(2026, 8, 1, tzinfo=timezone.utc))
    assert august["updated"] == 2
    assert prices(vendure, "TEE-RED-S", "TEE-BLUE-M") == [(2000, 2400), (2200, 2640)]

    # The Mug's list price changes in Odoo (still VAT included): the shop shows the new price.
    odoo.tables["product.template"][odoo.ids["mug_tmpl"]]["list_price"] = 13.2  # type: ignore[attr-defined]
    repriced = sync_prices(config=config, at=datetime(2026, 8, 1, tzinfo=timezone.utc))
    assert repriced["updated"] == 1 and prices(vendure, "MUG") == [(1100, 1320)]
