"""Order import from a real Vendure into Odoo (the contract fake, deployments/sandbox/fakes/odoo),
under Prefect: the catalogue published from Odoo, orders imported once, deposits posted, paid and
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
from connectors.erp.odoo.connector import OdooConnector
from connectors.erp.odoo.factory import build
from connectors.registry import Resolver
from connectors.shop.vendure.factory import VendureShop
from deployments.sandbox import vendure_ops as shop_ops
from deployments.sandbox.fakes.odoo import OdooFake, seed_catalogue
from flows.catalogue import publish_catalogue
from flows.orders import import_orders
from tasks.state import OrderState, StateStore
from tests.flows.helpers import shop_variants, vendure_client, write_config

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]

_CURRENT: dict[str, OdooFake] = {}


def build_on_fake(options: dict[str, Any], resolver: Resolver, *, connection: str | None = None) -> OdooConnector:
    """The registry's factory, on the test's fake Odoo."""
    return build(options, resolver, connection=connection, transport=_CURRENT["fake"].transport, max_retries=0)


@pytest.fixture
def odoo(monkeypatch: pytest.MonkeyPatch) -> OdooFake:
    fake = OdooFake()
    fake.ids = seed_catalogue(fake)  # type: ignore[attr-defined]
    _CURRENT["fake"] = fake
    monkeypatch.setitem(registry.ERP_CONNECTORS, "odoo", "tests.flows.test_orders_odoo_vendure:build_on_fake")
    monkeypatch.setenv("TEST_ODOO_KEY", fake.api_key)
    return fake


def setup_shop(tmp_path: Path, vendure: Any, fake: OdooFake) -> str:
    erp = (
        f'type = "odoo"\nurl = "https://odoo.test"\ndatabase = "{fake.database}"\nlogin = "{fake.login}"\n'
        'api_key = "env:TEST_ODOO_KEY"\n[connections.main.erp.orders]\nshop = "flow"\n'
    )
    config = write_config(
        tmp_path, erp=erp, vendure=vendure, catalogue="[connections.main.orders]\nfirst_run_hours = 1\n"
    )
    os.environ.setdefault("TEST_VENDURE_PASSWORD", vendure.password)
    published = publish_catalogue(config=str(config))
    assert published["created"] == 2 and published["quarantined"] == 0, published
    client = vendure_client(vendure)
    try:
        writes = [StockWrite(sku, v["id"], 500) for sku, v in shop_variants(vendure).items()]
        assert not VendureShop(client).write_stock(writes).errors
    finally:
        client.close()
    return str(config)


def web_orders(fake: OdooFake) -> dict[str, dict[str, Any]]:
    rows = fake.read(
        "sale.order",
        sorted(fake.tables["sale.order"]),
        ["client_order_ref", "state", "amount_total", "partner_id", "invoice_ids"],
    )
    return {str(r["client_order_ref"]).split(":", 1)[1]: r for r in rows}


def deposits(fake: OdooFake) -> list[dict[str, Any]]:
    return fake.read(
        "account.move", sorted(fake.tables["account.move"]), ["state", "amount_total", "payment_state", "ref"]
    )


def final_invoice(fake: OdooFake, order_id: int) -> dict[str, Any]:
    """The accountant's regular invoice (``sale.advance.payment.inv``, 'delivered', down payments deducted)."""
    context = {"active_model": "sale.order", "active_ids": [order_id]}
    before = set(web_orders_by_id(fake)[order_id]["invoice_ids"])
    wizard = fake.call("sale.advance.payment.inv", "create", [{"advance_payment_method": "delivered"}], {}, context)
    fake.call("sale.advance.payment.inv", "create_invoices", [[wizard]], {}, context)
    (new,) = set(web_orders_by_id(fake)[order_id]["invoice_ids"]) - before
    return fake.read("account.move", [new], ["amount_total"])[0]


def web_orders_by_id(fake: OdooFake) -> dict[int, dict[str, Any]]:
    return {r["id"]: r for r in web_orders(fake).values()}


def test_orders_imported_once_with_deposits_deducted_by_the_final_invoice(
    odoo: OdooFake, vendure: Any, tmp_path: Path
) -> None:
    config = setup_shop(tmp_path, vendure, odoo)
    url = vendure.shop_api_url
    first = shop_ops.place_order(url, skus_quantities={"TEE-RED-S": 2, "MUG": 1}, email="jeanne@example.com")
    repeat = shop_ops.place_order(url, skus_quantities={"TEE-BLUE-M": 1}, email="JEANNE@example.com")
    run = import_orders(config=config)
    assert (run["imported"], run["quarantined"], run["failed"], run["payments_recorded"]) == (2, 0, 0, 2), run
    imported = web_orders(odoo)
    assert sorted(imported) == sorted([first["id"], repeat["id"]])
    assert imported[first["id"]]["partner_id"] == imported[repeat["id"]]["partner_id"]  # one customer, by e-mail
    for order in (first, repeat):
        row = imported[order["id"]]
        assert row["state"] == "sale"
        assert Decimal(str(row["amount_total"])).quantize(Decimal("0.01")) == Decimal(order["totalWithTax"]) / 100
    paid = deposits(odoo)
    assert sorted(Decimal(str(d["amount_total"])) for d in paid) == sorted(
        Decimal(o["totalWithTax"]) / 100 for o in (first, repeat)
    )
    assert {(d["state"], d["payment_state"]) for d in paid} == {("posted", "in_payment")}

    row = imported[first["id"]]
    deposit = next(d for d in paid if d["id"] in row["invoice_ids"])
    final = final_invoice(odoo, row["id"])
    assert Decimal(str(final["amount_total"])) == Decimal(str(row["amount_total"])) - Decimal(
        str(deposit["amount_total"])
    )

    again = import_orders(config=config)
    assert (again["imported"], again["payments_recorded"], again["failed"]) == (0, 0, 0)
    assert len(odoo.tables["sale.order"]) == 2 and len(odoo.tables["account.payment"]) == 2


def test_run_killed_between_the_erp_write_and_the_state_write_imports_once(
    odoo: OdooFake, vendure: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = setup_shop(tmp_path, vendure, odoo)
    order = shop_ops.place_order(vendure.shop_api_url, skus_quantities={"MUG": 3}, email="kill@example.com")

    class Killed(BaseException):
        """The worker dies (not an error any code would catch)."""

    real_save = StateStore.save_order_imports

    def die_when_completing(self: StateStore, connection: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if any(row.get("state") == OrderState.IMPORTED for row in rows):
            raise Killed("worker killed after Odoo confirmed the order")
        real_save(self, connection, rows)

    monkeypatch.setattr(StateStore, "save_order_imports", die_when_completing)
    with pytest.raises(Killed):
        import_orders(config=config)
    assert list(web_orders(odoo)) == [order["id"]]
    monkeypatch.setattr(StateStore, "save_order_imports", real_save)

    rerun = import_orders(config=config)
    assert (rerun["imported"], rerun["reconciled"], rerun["failed"], rerun["payments_recorded"]) == (0, 1, 0, 1), rerun
    assert list(web_orders(odoo)) == [order["id"]] and len(odoo.tables["sale.order"]) == 1
    [deposit] = deposits(odoo)
    assert deposit["payment_state"] == "in_payment" and len(odoo.tables["account.payment"]) == 1
    assert import_orders(config=config)["reconciled"] == 0
