"""Stock and prices from a real Tryton (two warehouses, a sale reservation, sale_promotion,
price lists) to a real Vendure, under Prefect."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from connectors.erp.tryton.client import TrytonClient
from deployments.sandbox import tryton_ops as ops
from flows.catalogue import publish_catalogue
from flows.prices import sync_prices
from flows.stock import sync_stock
from tests.flows.helpers import shop_variants, tryton_erp, write_config

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]

SETTINGS = """
[connections.main.stock]
warehouses = ["WH"]
safety_stock = 2
[connections.main.prices]
groups = ["Wholesale"]
"""


@pytest.fixture(scope="module")
def tryton_shop() -> Iterator[object]:
    """Its own Tryton (this module writes stock and prices; the shared demo one stays read-only)."""
    from deployments.demo.catalogue import demo_catalogue
    from deployments.sandbox.tryton import TrytonSandbox

    sandbox = TrytonSandbox(admin_password="tryton-stock-secret")
    sandbox.start()
    sandbox.seed(demo_catalogue())
    os.environ["TEST_TRYTON_PASSWORD"] = sandbox.password
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def erp(tryton_shop) -> Iterator[TrytonClient]:
    client = TrytonClient(tryton_shop.url, tryton_shop.database, login=tryton_shop.login, password=tryton_shop.password)
    try:
        yield client
    finally:
        client.close()


def stock(vendure: object, *skus: str) -> list[int]:
    variants = shop_variants(vendure)
    return [variants[s]["stockOnHand"] for s in skus]


def test_stock_follows_tryton_warehouses_reservations_and_safety_stock(
    tryton_shop, erp, vendure, tmp_path: Path
) -> None:
    config = str(write_config(tmp_path, erp=tryton_erp(tryton_shop), vendure=vendure, catalogue=SETTINGS))
    publish_catalogue(config=config)
    ops.seed_demo_stock(
        erp,
        {
            "TSH-ORG-BLACK-S": {"WH": 20, "STORE": 5},
            "TSH-ORG-BLACK-M": {"WH": 8},
            "TSH-ORG-WHITE-S": {"WH": 1},  # below the safety stock: 0, never negative
            "MUG-ENA": {"STORE": 30},  # only in the shop floor: not for the web
            "BK-SEW": {"WH": 12},
        },
    )

    first = sync_stock(config=config)
    assert first["failed"] == 0 and first["quarantined"] == 0
    assert stock(vendure, "TSH-ORG-BLACK-S", "TSH-ORG-BLACK-M", "TSH-ORG-WHITE-S", "MUG-ENA", "BK-SEW") == [
        18,
        6,
        0,
        0,
        10,
    ]
    assert sync_stock(config=config)["updated"] == 0

    # Three stock levels change in Tryton: exactly those three variants are written.
    ops.set_stock(erp, "TSH-ORG-BLACK-M", "WH", 3)
    ops.set_stock(erp, "BK-SEW", "WH", 40)
    ops.set_stock(erp, "MUG-ENA", "WH", 6)
    ops.set_stock(erp, "TSH-ORG-BLACK-S", "STORE", 50)  # not a web warehouse: nothing to send
    changed = sync_stock(config=config)
    assert changed["updated"] == 3
    assert stock(vendure, "TSH-ORG-BLACK-M", "BK-SEW", "MUG-ENA", "TSH-ORG-BLACK-S") == [1, 38, 4, 18]
    assert sync_stock(config=config)["updated"] == 0

    # A customer order confirmed in Tryton reserves 5 black S: the web shop sells 5 fewer.
    ops.reserve(erp, "TSH-ORG-BLACK-S", "WH", 5)
    reserved = sync_stock(config=config)
    assert reserved["updated"] == 1 and stock(vendure, "TSH-ORG-BLACK-S") == [13]


def test_prices_follow_tryton_list_prices_and_promotions_and_report_group_prices(
    tryton_shop, erp, vendure, tmp_path: Path
) -> None:
    config = str(write_config(tmp_path, erp=tryton_erp(tryton_shop), vendure=vendure, catalogue=SETTINGS))
    publish_catalogue(config=config)
    ops.add_promotion(erp, "Black Friday mugs", ["MUG-CER"], "unit_price * 0.8", date(2026, 11, 27), date(2026, 11, 30))
    ops.set_group_price(erp, "Wholesale", "MUG-CER", "unit_price * 0.7")

    def price(sku: str) -> int:
        return shop_variants(vendure)[sku]["price"]

    base = sync_prices(config=config, at=datetime(2026, 11, 20, tzinfo=timezone.utc))
    assert base["failed"] == 0 and price("MUG-CER") == 950
    assert base["next_change"] == "2026-11-26T23:00:00+00:00"  # midnight in Paris
    assert base["group_prices_left_out"] >= 1 and "Wholesale" in base["notices"][0]

    during = sync_prices(config=config, at=datetime(2026, 11, 28, 12, tzinfo=timezone.utc))
    assert during["updated"] == 1 and price("MUG-CER") == 760 and during["notices"] == []

    after = sync_prices(config=config, at=datetime(2026, 12, 1, tzinfo=timezone.utc))
    assert after["updated"] == 1 and price("MUG-CER") == 950

    ops.set_list_price(erp, "BK-SEW", "26.90")
    repriced = sync_prices(config=config, at=datetime(2026, 12, 1, tzinfo=timezone.utc))
    assert repriced["updated"] == 1 and price("BK-SEW") == 2690
