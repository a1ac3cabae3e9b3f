"""Customer-group prices from Dolibarr through the price flow, unchanged, into a Shopify Plus B2B
shop (the fakes): a price level (PRODUIT_MULTIPRICES) for resellers, and one key account's own
negotiated prices (PRODUIT_CUSTOMER_PRICES, ``customer_prices``) that win over the level where the
thirdparty has one, as Dolibarr prices that customer's orders. A second run writes nothing; a new
negotiated price is the only write of the next run."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from connectors import registry
from connectors.erp.dolibarr.connector import DolibarrConnector
from connectors.erp.dolibarr.factory import build
from connectors.registry import Resolver
from connectors.shop.shopify.client import ShopifyClient
from connectors.shop.shopify.factory import ShopifyShop
from connectors.shop.shopify.settings import ShopifySettings
from deployments.sandbox.fakes.dolibarr import KEY, URL, FakeDolibarr
from deployments.sandbox.fakes.shopify.core import SHOP, TOKEN, ShopifyFake, VirtualClock
from deployments.sandbox.fakes.shopify.price_lists import add_price_list, fixed_prices
from flows.catalogue import publish_catalogue
from flows.prices import sync_prices

pytestmark = pytest.mark.usefixtures("prefect_harness")

FAKES: dict[str, Any] = {}
AT = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)

CONFIG = f"""
[state]
url = "sqlite:///state.db"
[snapshots]
root = "snapshots"

[connections.main.erp]
type = "dolibarr-fake"
url = "{URL}"
api_key = "env:TEST_DOLIBARR_KEY"
[connections.main.erp.price_levels]
Revendeurs = 2
[connections.main.erp.customer_prices]
ACME = 1

[connections.main.shop]
type = "shopify-b2b-fake"
[connections.main.shop.price_lists]
Revendeurs = "Revendeurs FR"
ACME = "ACME SARL"

[connections.main.catalogue]
categories = []
[connections.main.catalogue.taxes.FR]
"20" = "taxable"

[connections.main.prices]
groups = ["Revendeurs", "ACME"]
"""


def build_dolibarr(options: dict[str, Any], resolver: Resolver, *, connection: str | None = None) -> DolibarrConnector:
    return build(options, resolver, connection=connection, transport=FAKES["dolibarr"].transport)


def build_shopify(options: dict[str, Any], resolver: Any) -> ShopifyShop:
    fake, clock = FAKES["shop"], FAKES["clock"]
    client = ShopifyClient(SHOP, token=TOKEN, transport=fake.transport, sleep=clock.sleep, clock=clock.now)
    return ShopifyShop(client, ShopifySettings(url=SHOP, access_token="env:SHOPIFY_ACCESS_TOKEN", **options))


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> tuple[FakeDolibarr, ShopifyFake]:
    dolibarr = FakeDolibarr()
    dolibarr.constants.add("PRODUIT_CUSTOMER_PRICES")
    level = {"multiprices": {"1": "12.50000000", "2": "10.00000000"},
             "multiprices_ttc": {"1": "15.00000000", "2": "12.00000000"},
             "multiprices_base_type": {"1": "HT", "2": "HT"}, "multiprices_tva_tx": {"1": "20.0000", "2": "20.0000"}}  # fmt: skip
    mug = dolibarr.add_product("D-MUG", "Mug émaillé", "12.50", **level)
    bowl = dolibarr.add_product("D-BOL", "Bol", "12.50", **level)
    dolibarr.add_customer_price(mug, 1, "9.00")  # thirdparty 1 (captured): ACME's negotiated mug price
    dolibarr.ids = {"mug": mug, "bowl": bowl}  # type: ignore[attr-defined]
    clock = VirtualClock()
    shop = ShopifyFake(clock=clock.now, plan="plus", b2b=True, taxes_included=False, locations=("WEB",))
    FAKES.update(dolibarr=dolibarr, shop=shop, clock=clock)
    monkeypatch.setitem(registry.ERP_CONNECTORS, "dolibarr-fake", f"{__name__}:build_dolibarr")
    monkeypatch.setitem(registry.SHOP_CONNECTORS, "shopify-b2b-fake", f"{__name__}:build_shopify")
    monkeypatch.setenv("TEST_DOLIBARR_KEY", KEY)
    return dolibarr, shop


def test_a_key_accounts_negotiated_prices_win_over_its_level_on_its_price_list(
    fakes: tuple[FakeDolibarr, ShopifyFake], tmp_path: Path
) -> None:
    dolibarr, shop = fakes
    resellers = add_price_list(shop, "Revendeurs FR", "EUR", catalog="Revendeurs")
    acme = add_price_list(shop, "ACME SARL", "EUR", catalog="ACME")
    (tmp_path / "passerelle.toml").write_text(CONFIG, encoding="utf-8")
    config = str(tmp_path / "passerelle.toml")
    assert publish_catalogue(config=config)["created"] == 3  # D-MUG, D-BOL and the captured PEER-SKU-001
    ids = {v["sku"]: v["id"] for v in shop.all("ProductVariant")}

    first = sync_prices(config=config, at=AT)

    assert (first["failed"], first["quarantined"], first["group_prices_left_out"]) == (0, 0, 0), first
    assert fixed_prices(shop, resellers) == {ids["D-MUG"]: "10.00", ids["D-BOL"]: "10.00"}
    # ACME: its own mug price. No negotiated bowl price and no level for ACME (customer_prices
    # only): no entry, so Shopify shows ACME the bowl's base price, as Dolibarr would price it.
    assert fixed_prices(shop, acme) == {ids["D-MUG"]: "9.00"}

    before = len(shop.exchanges)
    assert sync_prices(config=config, at=AT)["updated"] == 0
    assert [e for e in shop.exchanges[before:] if e.operation == "mutation"] == []

    dolibarr.add_customer_price(dolibarr.ids["bowl"], 1, "8.00")  # type: ignore[attr-defined]
    renegotiated = sync_prices(config=config, at=AT)
    assert renegotiated["updated"] == 1, renegotiated
    assert fixed_prices(shop, acme) == {ids["D-MUG"]: "9.00", ids["D-BOL"]: "8.00"}
    assert fixed_prices(shop, resellers) == {ids["D-MUG"]: "10.00", ids["D-BOL"]: "10.00"}
