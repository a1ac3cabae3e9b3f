"""The order-import flow, unchanged, with WooCommerce as the shop (the contract fake: captured
payloads, WooCommerce's own parameter rules) and a files ERP: the flow fits another platform
without a line of it changing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from connectors import registry
from connectors.erp.files.reader import read_csv
from connectors.shop.woocommerce import WooCommerceShop
from connectors.shop.woocommerce.client import WooCommerceClient
from deployments.sandbox.fakes.woocommerce_fake import KEY, SECRET, SITE, FakeWooCommerce
from flows.orders import import_orders
from tasks.state import StateStore
from tests.contract.test_woocommerce_orders import taxed_order

pytestmark = pytest.mark.usefixtures("prefect_harness")

FAKE: dict[str, FakeWooCommerce] = {}


def build_fake(options: dict[str, Any], resolver: Any) -> WooCommerceShop:
    client = WooCommerceClient(
        SITE, consumer_key=KEY, consumer_secret=SECRET, transport=FAKE["shop"].transport, backoff=0.0
    )
    return WooCommerceShop(client)


def test_woocommerce_orders_into_a_files_erp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hour_ago = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(tzinfo=None, microsecond=0)
    paid = taxed_order(101, hour_ago.isoformat())
    transfer = taxed_order(102, (hour_ago + timedelta(minutes=1)).isoformat())
    transfer.update(status="on-hold", payment_method="bacs", transaction_id="", date_paid_gmt=None)
    cancelled = taxed_order(103, (hour_ago + timedelta(minutes=2)).isoformat())
    cancelled.update(status="cancelled", date_paid_gmt=None)
    FAKE["shop"] = FakeWooCommerce([paid, transfer, cancelled])
    monkeypatch.setitem(registry.SHOP_CONNECTORS, "woocommerce-fake", f"{__name__}:build_fake")
    (tmp_path / "outbox").mkdir()
    config = tmp_path / "passerelle.toml"
    config.write_text(
        """
[state]
url = "sqlite:///state.db"
[snapshots]
root = "snapshots"
[connections.main.erp]
type = "files"
[connections.main.erp.orders]
outbox = "outbox"
shop = "woo"
[connections.main.shop]
type = "woocommerce-fake"
[connections.main.orders.rules]
bacs = "always"
""",
        encoding="utf-8",
    )
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    store.upsert_bindings("main", "variant", [{"erp_key": "PEER-HOODIE-M", "shop_id": "10/12", "state": "synced"}])
    store.dispose()

    run = import_orders(config=str(config))
    assert (run["imported"], run["skipped"], run["quarantined"], run["failed"]) == (2, 1, 0, 0)
    files = sorted(p.name for p in (tmp_path / "outbox").iterdir())
    assert files == ["woo-101.csv", "woo-102.csv"]
    rows = [row for _, row in read_csv(tmp_path / "outbox" / "woo-101.csv", encoding="cp1252")]
    kinds = [next(iter(row.values())) for row in rows]
    assert kinds.count("A") == 1  # the card payment as a deposit row
    transfer_rows = [row for _, row in read_csv(tmp_path / "outbox" / "woo-102.csv", encoding="cp1252")]
    assert [next(iter(row.values())) for row in transfer_rows].count("A") == 0  # not paid yet: no deposit

    again = import_orders(config=str(config))
    # The window moved on; only the transfer, whose money is still to come, is re-read (by id).
    assert (again["imported"], again["already_imported"], again["read"]) == (0, 1, 1)
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == files
