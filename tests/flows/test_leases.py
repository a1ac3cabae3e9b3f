"""Run leases with real flow runs under Prefect: one writing run per (flow, connection).

Two runs overlap for real here: the first one is held inside a platform write (an ERP sink or a
shop sink that blocks until the test lets it go) while the second one starts, in another thread,
as a second Prefect flow run. The shop is the WooCommerce contract fake, the ERP the files
connector (GesCom exports): no server needed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from connectors import registry
from connectors.base import BatchResult, ErpOrderRef, StockWrite
from connectors.erp.files.factory import build as build_files
from connectors.models import Order
from connectors.shop.woocommerce import WooCommerceShop
from connectors.shop.woocommerce.client import WooCommerceClient
from deployments.sandbox.fakes.woocommerce_fake import KEY, SECRET, SITE, FakeWooCommerce
from flows.catalogue import publish_catalogue
from flows.feedback import feedback_status
from flows.invoices import upload_invoices
from flows.orders import import_orders
from flows.prices import sync_prices
from flows.stock import sync_stock
from tasks.state import Lease, StateStore
from tests.contract.test_woocommerce_orders import taxed_order
from tests.flows.test_woocommerce_flows import setup as woo_setup

pytestmark = pytest.mark.usefixtures("prefect_harness")

TTL_SECONDS = 1.0


@dataclass
class Gate:
    """Holds the first platform write until the test releases it; records every write."""

    block: bool = True
    entered: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    writes: list[str] = field(default_factory=list)

    def __call__(self, what: str) -> None:
        self.writes.append(what)
        if self.block and not self.entered.is_set():
            self.entered.set()
            assert self.release.wait(30), "the test never released the blocked write"


STATE: dict[str, Any] = {}


def build_erp(options: dict[str, Any], resolver: Any, **named: Any) -> Any:
    """The files ERP whose order writes go through the gate (a slow Tryton, say)."""
    erp = build_files(options, resolver, **named)
    gate: Gate = STATE["erp_gate"]
    write = erp.import_order

    def import_order(order: Order, products: Mapping[str, str]) -> ErpOrderRef:
        gate(order.shop_id)
        return write(order, products)

    erp.import_order = import_order
    return erp


def build_shop(options: dict[str, Any], resolver: Any) -> WooCommerceShop:
    """The WooCommerce fake whose stock writes go through the gate (a slow shop)."""
    client = WooCommerceClient(
        SITE, consumer_key=KEY, consumer_secret=SECRET, transport=STATE["shop"].transport, backoff=0.0
    )
    shop = WooCommerceShop(client)
    gate: Gate = STATE["shop_gate"]
    write = shop.write_stock

    def write_stock(writes: Sequence[StockWrite]) -> BatchResult:
        gate(",".join(f"{w.key}={w.quantity}" for w in writes))
        return write(writes)

    shop.write_stock = write_stock  # type: ignore[method-assign]
    return shop


@pytest.fixture
def gates(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Gate, Gate]]:
    STATE.update(erp_gate=Gate(block=False), shop_gate=Gate(block=False))
    monkeypatch.setitem(registry.ERP_CONNECTORS, "files-gated", f"{__name__}:build_erp")
    monkeypatch.setitem(registry.SHOP_CONNECTORS, "woocommerce-fake", f"{__name__}:build_shop")
    yield STATE["erp_gate"], STATE["shop_gate"]
    STATE["erp_gate"].release.set()
    STATE["shop_gate"].release.set()


class Run(threading.Thread):
    """A flow run in a thread of its own (Prefect gives it its own flow run id)."""

    def __init__(self, target: Callable[..., dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(daemon=True)
        self._target_flow, self._kwargs = target, kwargs
        self.result: dict[str, Any] | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self._target_flow(**self._kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            self.error = exc

    def outcome(self) -> dict[str, Any]:
        self.join(60)
        assert not self.is_alive(), "the first run did not finish"
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


def orders_config(tmp_path: Path, ttl: float = TTL_SECONDS) -> str:
    (tmp_path / "outbox").mkdir(exist_ok=True)
    config = tmp_path / "passerelle.toml"
    config.write_text(
        f"""
[state]
url = "sqlite:///state.db"
lease_seconds = {ttl}
[snapshots]
root = "snapshots"
[connections.main.erp]
type = "files-gated"
[connections.main.erp.orders]
outbox = "outbox"
shop = "woo"
[connections.main.shop]
type = "woocommerce-fake"
""",
        encoding="utf-8",
    )
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    store.upsert_bindings("main", "variant", [{"erp_key": "PEER-HOODIE-M", "shop_id": "10/12", "state": "synced"}])
    store.dispose()
    return str(config)


def two_paid_orders() -> FakeWooCommerce:
    hour_ago = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(tzinfo=None, microsecond=0)
    return FakeWooCommerce([taxed_order(101, hour_ago.isoformat()), taxed_order(102, (hour_ago + timedelta(minutes=1)).isoformat())])  # fmt: skip


def set_lease(tmp_path: Path, name: str, holder: str, *, seconds: float) -> None:
    """Write a lease row as another run (or a run that took over) leaves it."""
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    with store.engine.begin() as conn:
        conn.execute(sa.delete(Lease).where(Lease.name == name))  # type: ignore[arg-type]
        conn.execute(
            sa.insert(Lease).values(
                name=name, holder=holder, expires_at=datetime.now(timezone.utc) + timedelta(seconds=seconds)
            )
        )
    store.dispose()


def test_a_slow_order_run_keeps_its_lease_past_the_ttl_and_a_second_run_writes_nothing(
    gates: tuple[Gate, Gate], tmp_path: Path
) -> None:
    erp_gate, _ = gates
    erp_gate.block = True
    STATE["shop"] = two_paid_orders()
    config = orders_config(tmp_path)

    first = Run(import_orders, config=config)
    first.start()
    assert erp_gate.entered.wait(60), "the first run never reached the ERP"
    time.sleep(TTL_SECONDS * 3)  # the first run's lease would have expired three times over

    second = import_orders(config=config)
    assert second["busy"] and "nothing done" in second["busy"]
    assert (second["read"], second["imported"], second["reconciled"]) == (0, 0, 0)

    erp_gate.release.set()
    done = first.outcome()
    assert (done["imported"], done["failed"]) == (2, 0)
    # Each web order written to the ERP once: a second write would be a second sale in Tryton.
    assert erp_gate.writes == ["101", "102"]
    # The first run released its lease: the next run runs (and finds nothing new to write).
    third = import_orders(config=config)
    assert not third["busy"] and erp_gate.writes == ["101", "102"]


def test_an_order_run_that_lost_its_lease_stops_before_its_next_erp_write(
    gates: tuple[Gate, Gate], tmp_path: Path
) -> None:
    erp_gate, _ = gates
    erp_gate.block = True
    STATE["shop"] = two_paid_orders()
    config = orders_config(tmp_path)

    first = Run(import_orders, config=config)
    first.start()
    assert erp_gate.entered.wait(60)
    # Meanwhile another run took the lease over (it found this one dead, or its lease expired).
    set_lease(tmp_path, "import-orders:main", "another-run", seconds=600)
    erp_gate.release.set()
    with pytest.raises(Exception, match="lease"):
        first.outcome()
    assert erp_gate.writes == ["101"]  # the write under way completed; the next one never started
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    imports = store.order_imports("main", ["101", "102"])
    assert imports["101"].state == "imported"  # what the ERP took is recorded, not lost
    assert "102" not in imports or imports["102"].state != "claimed"
    store.dispose()

    set_lease(tmp_path, "import-orders:main", "another-run", seconds=-1)  # that run ended
    after = import_orders(config=config)
    assert (after["imported"], after["already_imported"]) == (1, 1)
    assert erp_gate.writes == ["101", "102"]


def prefect_flow_run(state: str) -> str:
    """A flow run the Prefect API knows, in ``state`` (what a run left behind)."""
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.states import Completed, Crashed, Running

    @flow(name="import-orders")
    def placeholder() -> None:
        """Never run: only its flow runs exist."""

    made = {"Crashed": Crashed, "Completed": Completed, "Running": Running}[state]
    with get_client(sync_client=True) as client:
        run = client.create_flow_run(placeholder, state=made())
    return str(run.id)


def test_a_lease_whose_run_prefect_knows_is_over_is_taken_over_at_once(
    gates: tuple[Gate, Gate], tmp_path: Path
) -> None:
    STATE["shop"] = two_paid_orders()
    config = orders_config(tmp_path, ttl=600)

    running = prefect_flow_run("Running")
    set_lease(tmp_path, "import-orders:main", running, seconds=600)
    assert import_orders(config=config)["busy"]  # still running: its lease stands
    set_lease(tmp_path, "import-orders:main", "cron-job-7", seconds=600)
    assert import_orders(config=config)["busy"]  # not a flow run Prefect knows: wait for the expiry
    gates[0].block = False
    for state in ("Crashed", "Completed"):
        set_lease(tmp_path, "import-orders:main", prefect_flow_run(state), seconds=600)
        run = import_orders(config=config)
        assert not run["busy"]
    assert gates[0].writes == ["101", "102"]


def test_two_overlapping_stock_runs_the_second_does_nothing_and_says_so(
    gates: tuple[Gate, Gate], tmp_path: Path
) -> None:
    _, shop_gate = gates
    STATE["shop"] = FakeWooCommerce([])
    config = woo_setup(tmp_path)
    publish_catalogue(config=config)

    shop_gate.block = True
    # The nightly reconcile (full) and the every-10-minutes run share one lease: same quantities.
    nightly = Run(sync_stock, config=config, full=True)
    nightly.start()
    assert shop_gate.entered.wait(60)
    frequent = sync_stock(config=config)
    assert frequent["busy"] and "nothing done" in frequent["busy"]
    assert (frequent["updated"], frequent["levels_read"]) == (0, 0)
    preview = sync_stock(config=config, dry_run=True)  # a dry run takes no lease
    assert not preview["busy"] and preview["would_update"]

    shop_gate.release.set()
    assert nightly.outcome()["updated"] == 3
    assert len(shop_gate.writes) == 1  # only the nightly run wrote
    assert sync_stock(config=config)["busy"] == ""  # released at the end


@pytest.mark.parametrize(
    ("flow", "lease"),
    [
        (publish_catalogue, "catalogue"),
        (sync_stock, "stock"),
        (sync_prices, "prices"),
        (import_orders, "import-orders"),
        (feedback_status, "feedback-status"),
        (upload_invoices, "upload-invoices"),
    ],
)
def test_every_writing_flow_waits_for_the_run_holding_its_lease(
    gates: tuple[Gate, Gate],
    tmp_path: Path,
    flow: Callable[..., dict[str, Any]],
    lease: str,
) -> None:
    STATE["shop"] = FakeWooCommerce([taxed_order(101)])
    config = woo_setup(tmp_path)
    # Empty GesCom exports, for the dry runs of the feedback and invoice flows.
    (tmp_path / "export" / "livraisons.csv").write_text(
        "Référence web;N° BL;Date BL;Transporteur;N° suivi;Article;Qté\n", encoding="cp1252"
    )
    (tmp_path / "export" / "factures.csv").write_text(
        "N° facture;Type;Référence web;Date;Total TTC\n", encoding="cp1252"
    )
    set_lease(tmp_path, f"{lease}:main", "another-run", seconds=600)

    summary = flow(config=config)
    assert "another-run" in summary["busy"] and "nothing done" in summary["busy"]
    assert STATE["shop"].requests == []  # not even a read
    assert not list((tmp_path / "outbox").iterdir())
    assert flow(config=config, dry_run=True)["busy"] == ""  # a dry run takes no lease
