"""Order import from a real Vendure into Dolibarr (the contract fake, tests/fixtures/contracts/dolibarr-19.0),
under Prefect: the catalogue published from Dolibarr, orders imported once, deposits paid and
deducted by the final invoice, and exactly once after a kill between the ERP write and the state write.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors import registry
from connectors.base import StockWrite
from connectors.erp.dolibarr.connector import DolibarrConnector
from connectors.erp.dolibarr.factory import build
from connectors.registry import Resolver
from connectors.shop.vendure.factory import VendureShop
from deployments.sandbox import vendure_ops as shop_ops
from deployments.sandbox.fakes.dolibarr import KEY, URL, FakeDolibarr
from flows.catalogue import publish_catalogue
from flows.orders import import_orders
from tasks.state import OrderState, StateStore
from tests.flows.helpers import shop_variants, vendure_client, write_config

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]

_CURRENT: dict[str, FakeDolibarr] = {}


def build_on_fake(options: dict[str, Any], resolver: Resolver, *, connection: str | None = None) -> DolibarrConnector:
    """The registry's factory, on the test's fake Dolibarr."""
    return build(options, resolver, connection=connection, transport=_CURRENT["fake"].transport)


@pytest.fixture
def dolibarr(monkeypatch: pytest.MonkeyPatch) -> FakeDolibarr:
    fake = FakeDolibarr()
    clothing = fake.add_category("Vêtements")
    mug = fake.add_product("D-MUG", "Mug émaillé", "12.50", description="Mug 30 cl")
    tee = fake.add_product("D-TEE", "Tee-shirt", "24.00", base="TTC")
    fake.add_category("Maison", members=(1, mug))
    fake.category_members[clothing] = {tee}
    _CURRENT["fake"] = fake
    monkeypatch.setitem(registry.ERP_CONNECTORS, "dolibarr", "tests.flows.test_orders_dolibarr_vendure:build_on_fake")
    monkeypatch.setenv("TEST_DOLIBARR_KEY", KEY)
    return fake


def setup_shop(tmp_path: Path, vendure: Any) -> str:
    erp = f'type = "dolibarr"\nurl = "{URL}"\napi_key = "env:TEST_DOLIBARR_KEY"\n[connections.main.erp.orders]\nshop = "flow"\n'
    config = write_config(
        tmp_path, erp=erp, vendure=vendure, catalogue="[connections.main.orders]\nfirst_run_hours = 1\n"
    )
    os.environ.setdefault("TEST_VENDURE_PASSWORD", vendure.password)
    published = publish_catalogue(config=str(config))
    assert published["created"] == 3 and published["quarantined"] == 0, published
    client = vendure_client(vendure)
    try:
        writes = [StockWrite(sku, v["id"], 500) for sku, v in shop_variants(vendure).items()]
        assert not VendureShop(client).write_stock(writes).errors
    finally:
        client.close()
    return str(config)


def web_orders(fake: FakeDolibarr) -> dict[str, dict[str, Any]]:
    return {str(r["ref_ext"]).split(":", 1)[1]: r for r in fake.orders.values()}


def final_invoice(fake: FakeDolibarr, order_id: str) -> dict[str, Any]:
    """The accountant's final invoice: from the order, the deposit's discount deducted, validated."""
    connector = build_on_fake({"url": URL, "api_key": "env:X"}, _KeyResolver())
    try:
        invoice = connector.client.post(f"invoices/createfromorder/{order_id}")
        # Discounts belong to the thirdparty, not to an order: the one to deduct is the one made from
        # this order's deposit (the deposit invoice linked to the order).
        deposits = {
            str(i["id"]) for i in fake.invoices.values() if i["linkedObjectsIds"] == {"commande": {"1": order_id}}
        }
        for discount in fake.discounts.values():
            if discount["fk_facture_source"] in deposits and not discount["fk_facture"]:
                connector.client.post(f"invoices/{invoice['id']}/usediscount/{discount['id']}")
        return dict(connector.client.post(f"invoices/{invoice['id']}/validate", {"notrigger": 0}))
    finally:
        connector.close()


class _KeyResolver:
    def secret(self, option: str) -> str | None:
        return KEY

    def path(self, value: str) -> str:
        return value


def test_orders_imported_once_with_deposits_deducted_by_the_final_invoice(
    dolibarr: FakeDolibarr, vendure: Any, tmp_path: Path
) -> None:
    config = setup_shop(tmp_path, vendure)
    url = vendure.shop_api_url
    first = shop_ops.place_order(url, skus_quantities={"D-MUG": 2, "D-TEE": 1}, email="jeanne@example.com")
    repeat = shop_ops.place_order(url, skus_quantities={"PEER-SKU-001": 1}, email="jeanne@example.com")
    run = import_orders(config=config)
    assert (run["imported"], run["quarantined"], run["failed"], run["payments_recorded"]) == (2, 0, 0, 2), run
    imported = web_orders(dolibarr)
    assert sorted(imported) == sorted([first["id"], repeat["id"]])
    assert imported[first["id"]]["socid"] == imported[repeat["id"]]["socid"]  # one customer, by e-mail
    for order in (first, repeat):
        row = imported[order["id"]]
        assert row["statut"] == "1" and Decimal(row["total_ttc"]) == Decimal(order["totalWithTax"]) / 100
    deposits = [i for i in dolibarr.invoices.values() if i["type"] == "3"]
    assert sorted(Decimal(d["total_ttc"]) for d in deposits) == sorted(
        Decimal(o["totalWithTax"]) / 100 for o in (first, repeat)
    )
    assert {(d["statut"], d["paye"]) for d in deposits} == {("2", "1")} and len(dolibarr.discounts) == 2

    row = imported[first["id"]]
    final = final_invoice(dolibarr, row["id"])
    deposit = next(d for d in deposits if d["linkedObjectsIds"] == {"commande": {"1": row["id"]}})
    assert Decimal(final["total_ttc"]) == Decimal(row["total_ttc"]) - Decimal(deposit["total_ttc"])

    again = import_orders(config=config)
    assert (again["imported"], again["payments_recorded"], again["failed"]) == (0, 0, 0)
    assert len(dolibarr.orders) == 2 and len(deposits) == 2


def test_run_killed_between_the_erp_write_and_the_state_write_imports_once(
    dolibarr: FakeDolibarr, vendure: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = setup_shop(tmp_path, vendure)
    order = shop_ops.place_order(vendure.shop_api_url, skus_quantities={"D-MUG": 3}, email="kill@example.com")

    class Killed(BaseException):
        """The worker dies (not an error any code would catch)."""

    real_save = StateStore.save_order_imports

    def die_when_completing(self: StateStore, connection: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if any(row.get("state") == OrderState.IMPORTED for row in rows):
            raise Killed("worker killed after Dolibarr wrote the order")
        real_save(self, connection, rows)

    monkeypatch.setattr(StateStore, "save_order_imports", die_when_completing)
    with pytest.raises(Killed):
        import_orders(config=config)
    assert list(web_orders(dolibarr)) == [order["id"]]
    monkeypatch.setattr(StateStore, "save_order_imports", real_save)

    rerun = import_orders(config=config)
    assert (rerun["imported"], rerun["reconciled"], rerun["failed"], rerun["payments_recorded"]) == (0, 1, 0, 1)
    assert list(web_orders(dolibarr)) == [order["id"]] and len(dolibarr.orders) == 1
    deposits = [i for i in dolibarr.invoices.values() if i["type"] == "3"]
    assert len(deposits) == 1 and deposits[0]["paye"] == "1"
    assert import_orders(config=config)["reconciled"] == 0
