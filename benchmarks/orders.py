"""Order import benchmark: the flow's own code path, engine alone and into a real Tryton.

Runs ``flows.orders._run`` (the body of the ``import-orders`` flow: read, gate, bindings, claims,
ERP writes, state rows, payments, snapshots, cursor, summary) inside a Prefect flow run of a
temporary Prefect server, with a SQLite state store and local snapshots in a temporary folder.
The shop is an in-memory ``OrderSource`` of ``--orders`` generated web orders (3 lines,
shipping, a coupon, paid by card: a deposit each), so no shop time is counted.

- ``engine``: the ERP is a sink that answers at once (it counts its calls). The figure is the
  engine's own cost per order: CPU (``time.process_time`` of this process: the Prefect server
  runs in a child) and wall.
- ``tryton``: the ERP is the real ``TrytonConnector`` against a real Tryton 8.2 on 127.0.0.1
  (``deployments/sandbox/tryton.py``, its own process): ERP calls per order (the connector's
  count), wall per order and orders per hour for one worker, and this process's CPU per order.
  ``--per-order`` hides the connector's batch method (``import_orders``), so the flow falls
  back to one ``import_order`` per order: the comparison.

Run:  uv run python benchmarks/orders.py [--orders 2000] [--tryton-orders 200] [--only engine|tryton]
          [--per-order] [--batch-size 50]

Details and figures: docs/benchmarks.md (section "Order import").
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.base import ErpOrderRef
from connectors.models import Address, Customer, Discount, Order, OrderLine, Payment

START = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)
PASSWORD = "bench-orders-secret"
ARTICLES = [("B-TSH-RED-M", Decimal("16.58")), ("B-BOOK", Decimal("28.34")), ("B-MUG", Decimal("10.00"))]
VAT = {"B-TSH-RED-M": Decimal(20), "B-BOOK": Decimal("5.5"), "B-MUG": Decimal(20)}
CUSTOMERS = 50
"""Distinct buyers: every 50th order is a new customer's, the others repeat customers'."""


def web_order(i: int) -> Order:
    """Order ``i`` (negative: the warm-up's): 3 lines, shipping 5.00 net, a 5.00 net coupon (20 %), paid by card."""
    q = Decimal(1 + i % 3)
    lines = []
    for n, (sku, price) in enumerate(ARTICLES):
        quantity = q if n == 0 else Decimal(1)
        net = (price * quantity).quantize(Decimal("0.01"))
        gross = (net * (1 + VAT[sku] / 100)).quantize(Decimal("0.01"))
        lines.append(OrderLine(f"{i}-{n}", sku, sku, quantity, price, VAT[sku], net, gross, variant_id=f"v-{sku}"))
    net = sum((line.total for line in lines), Decimal(0))
    gross = sum((line.total_tax_included for line in lines), Decimal(0))
    customer = i % CUSTOMERS if i >= CUSTOMERS or i < 0 else i
    home = Address("Jeanne", f"Martin{customer}", f"{customer} rue de la Paix", "75002", "Paris", "FR")
    at = START + timedelta(seconds=10 * i)
    total = gross + Decimal(6) - Decimal(6)
    return Order(
        shop_id=str(100000 + i), reference=f"W{100000 + i}", state="PaymentSettled", created_at=at, updated_at=at,
        currency="EUR",
        customer=Customer(email=f"buyer{customer}@example.com", shop_id=f"c{customer}", first_name="Jeanne",
                          last_name=f"Martin{customer}"),
        billing=home, shipping=home, lines=lines, total=net + Decimal(5) - Decimal(5), total_tax_included=total,
        shipping_method="Colissimo", shipping_price=Decimal(5), shipping_price_tax_included=Decimal(6),
        shipping_vat_rate=Decimal(20), discounts=[Discount("Coupon", Decimal(5), Decimal(6), code="WELCOME")],
        payments=[Payment("card", total, "settled", transaction_id=f"tx-{i}", paid_at=at)],
    )  # fmt: skip


@dataclass
class Stats:
    calls: int = 0


class MemoryShop:
    """An ``OrderSource`` over a list (no shop time)."""

    platform = "memory"

    def __init__(self, orders: Sequence[Order]) -> None:
        self.orders = list(orders)
        self.stats = Stats()

    def iter_orders(self, since: datetime | None, until: datetime | None) -> Iterator[Order]:
        self.stats.calls += 1
        for order in self.orders:
            if (since is None or order.updated_at >= since) and (until is None or order.updated_at < until):
                yield order

    def get_orders(self, shop_ids: Sequence[str]) -> list[Order]:
        self.stats.calls += 1
        wanted = set(shop_ids)
        return [o for o in self.orders if o.shop_id in wanted]


class InstantErp:
    """An ``OrderSink`` that answers at once, with its batch method (one call per batch)."""

    platform = "instant"

    def __init__(self) -> None:
        self.stats = Stats()
        self.orders: dict[str, ErpOrderRef] = {}

    def find_orders(self, shop_refs: Sequence[str]) -> dict[str, ErpOrderRef]:
        self.stats.calls += 1
        return {r: self.orders[r] for r in shop_refs if r in self.orders}

    def import_order(self, order: Order, products: Mapping[str, str]) -> ErpOrderRef:
        self.stats.calls += 1
        ref = ErpOrderRef(str(len(self.orders) + 1), f"S{len(self.orders) + 1}", order.total_tax_included, "1")
        self.orders[order.shop_id] = ref
        return ref

    def import_orders(self, items: Sequence[tuple[Order, Mapping[str, str]]]) -> list[ErpOrderRef]:
        self.stats.calls += 1
        calls = self.stats.calls
        refs = [self.import_order(order, products) for order, products in items]
        self.stats.calls = calls
        return refs

    def record_payment(self, erp: ErpOrderRef, payment: Payment) -> str:
        self.stats.calls += 1
        return f"pay-{erp.erp_id}"


class OneByOne:
    """The connector without its batch method: the flow imports one order per call."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.platform = inner.platform
        self.stats = inner.stats
        self.find_orders = inner.find_orders
        self.import_order = inner.import_order
        self.record_payment = inner.record_payment

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()


def config_file(folder: Path, erp: str, batch_size: int) -> Path:
    path = folder / "passerelle.toml"
    path.write_text(
        f"""
[state]
url = "sqlite:///{folder / "state.db"}"

[snapshots]
root = "{folder / "snapshots"}"

[connections.main.erp]
{erp}

[connections.main.shop]
type = "vendure"
url = "http://127.0.0.1:1/admin-api"
username = "unused"
password = "unused"

[connections.main.orders]
first_run_hours = 1
batch_size = {batch_size}
""",
        encoding="utf-8",
    )
    return path


def bind(folder: Path, keys: Mapping[str, str]) -> None:
    """The catalogue bindings the order lines resolve through (as a catalogue publish leaves them)."""
    from tasks.state import StateStore

    store = StateStore(f"sqlite:///{folder / 'state.db'}")
    try:
        store.upsert_bindings("main", "variant", [{"erp_key": keys[sku], "shop_id": f"v-{sku}"} for sku in keys])
    finally:
        store.dispose()


def run(config: Path, shop: MemoryShop, erp: Any, n: int) -> dict[str, Any]:
    """One flow run of ``import-orders`` over the shop's orders; its measures."""
    from prefect import flow

    from flows.orders import _run
    from tasks.context import open_context
    from tasks.leases import flow_lease

    measured: dict[str, Any] = {}
    erp.stats.calls = 0

    @flow(name="bench-import-orders")
    def bench() -> dict[str, Any]:
        ctx = open_context(str(config), None)
        ctx._connectors.update({"shop": shop, "erp": erp})
        try:
            cpu, wall = time.process_time(), time.perf_counter()
            with flow_lease(ctx, "import-orders") as lease:
                summary = _run(
                    ctx, lease, since=START - timedelta(hours=1), until=START + timedelta(days=30), order_ids=[]
                )
            measured.update(cpu=time.process_time() - cpu, wall=time.perf_counter() - wall)
            return summary.as_dict()
        finally:
            ctx._connectors.clear()
            ctx.close()

    summary = bench()
    measured.update(
        imported=summary["imported"],
        failed=summary["failed"],
        quarantined=summary["quarantined"],
        payments=summary["payments_recorded"],
        erp_calls=summary["api_calls_erp"],
        n=n,
    )
    return measured


def line(label: str, m: Mapping[str, Any]) -> str:
    n = max(m["n"], 1)
    per_hour = 3600 / (m["wall"] / n) if m["wall"] else float("inf")
    return (
        f"{label:<34} {m['n']:>6} orders  imported {m['imported']:>5}  payments {m['payments']:>5}  "
        f"failed {m['failed']}  quarantined {m['quarantined']}  ERP calls {m['erp_calls']:>6} "
        f"({m['erp_calls'] / n:.2f}/order)  wall {m['wall']:7.2f} s ({1000 * m['wall'] / n:6.1f} ms/order, "
        f"{per_hour:,.0f}/h)  CPU {m['cpu']:6.2f} s ({1000 * m['cpu'] / n:5.2f} ms/order)"
    )


def time_calls(client: Any) -> dict[str, list[float]]:
    """Count and time the client's JSON-RPC calls by method (Tryton's time, as seen from here)."""
    methods: dict[str, list[float]] = {}
    call = client.call

    def timed(method: str, *params: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return call(method, *params, **kwargs)
        finally:
            entry = methods.setdefault(method, [0, 0.0])
            entry[0] += 1
            entry[1] += time.perf_counter() - started

    client.call = timed
    return methods


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min) {five:.2f} (5 min) on {os.cpu_count()} cores"


def engine(n: int, batch_size: int, per_order: bool) -> list[str]:
    out = []
    with tempfile.TemporaryDirectory(prefix="bench-orders-") as tmp:
        folder = Path(tmp)
        orders = [web_order(i) for i in range(n)]
        config = config_file(
            folder, 'type = "tryton"\nurl = "http://127.0.0.1:1"\ndatabase = "unused"\npassword = "unused"', batch_size
        )
        bind(folder, {sku: f"erp-{sku}" for sku, _ in ARTICLES})
        erp: Any = InstantErp()
        if per_order:
            erp = OneByOne(erp)
        warm = [web_order(i) for i in range(-20, 0)]
        cold = run(config, MemoryShop(warm), erp, len(warm))
        out.append(line("engine, warm-up (imports, GX)", cold))
        first = run(config, MemoryShop(orders), erp, n)
        out.append(line("engine, new orders" + (" (per order)" if per_order else ""), first))
        again = run(config, MemoryShop(orders), erp, n)
        out.append(line("engine, the same orders again", again))
    return out


def tryton(n: int, batch_size: int, per_order: bool) -> list[str]:
    from connectors.erp.tryton.client import TrytonClient
    from connectors.erp.tryton.factory import build
    from deployments.sandbox.tryton import TrytonSandbox
    from tasks.settings import ConfigResolver, load_config

    out = []
    with tempfile.TemporaryDirectory(prefix="bench-orders-tryton-") as tmp:
        folder = Path(tmp)
        sandbox = TrytonSandbox(admin_password=PASSWORD, workdir=folder / "tryton")
        started = time.perf_counter()
        sandbox.start()
        try:
            templates = [
                {"code": sku, "name": sku, "list_price": str(price), "vat": str(VAT[sku]), "categories": ["Web"],
                 "attribute_set": None, "weight": "0.5", "weight_uom": "kg",
                 "products": [{"suffix_code": "", "attributes": {}, "cost_price": "1.00"}]}
                for sku, price in ARTICLES
            ]  # fmt: skip
            sandbox.seed({"templates": templates}, mode="orm")
            out.append(f"Tryton started and seeded in {time.perf_counter() - started:.1f} s")
            client = TrytonClient(sandbox.url, sandbox.database, login=sandbox.login, password=sandbox.password)
            try:
                rows = client.model("product.product").search_read(
                    [("code", "in", [sku for sku, _ in ARTICLES])], ["id", "code"]
                )
            finally:
                client.close()
            keys = {r["code"]: str(r["id"]) for r in rows}
            os.environ["BENCH_TRYTON_PASSWORD"] = sandbox.password
            erp_block = (
                f'type = "tryton"\nurl = "{sandbox.url}"\ndatabase = "{sandbox.database}"\nlogin = "admin"\n'
                'password = "env:BENCH_TRYTON_PASSWORD"\n[connections.main.erp.orders]\nshop = "bench"\n'
            )
            config = config_file(folder, erp_block, batch_size)
            orders = [web_order(i) for i in range(n)]
            bind(folder, keys)
            cfg = load_config(str(config))
            _, settings = cfg.connection(None)
            options = settings.erp.options()
            connector = build(options, ConfigResolver(cfg, options, "connections.main.erp"), connection="main")
            erp: Any = OneByOne(connector) if per_order else connector
            methods = time_calls(connector.client)
            try:
                first = run(config, MemoryShop(orders), erp, n)
                out.append(line("Tryton, new orders" + (" (per order)" if per_order else ""), first))
                out += [
                    f"    {name:<48} {count:>5} calls {seconds:7.2f} s"
                    for name, (count, seconds) in sorted(methods.items(), key=lambda kv: -kv[1][1])[:12]
                ]
                methods.clear()
                connector.client.stats.calls = 0
                again = run(config, MemoryShop(orders), erp, n)
                out.append(line("Tryton, the same orders again", again))
            finally:
                connector.close()
        finally:
            sandbox.stop()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=2000, help="orders of the engine run")
    parser.add_argument("--tryton-orders", type=int, default=200, help="orders of the Tryton run")
    parser.add_argument("--batch-size", type=int, default=50, help="orders.batch_size")
    parser.add_argument("--only", choices=["engine", "tryton"])
    parser.add_argument("--per-order", action="store_true", help="hide the ERP's batch method")
    args = parser.parse_args(argv)

    from prefect.testing.utilities import prefect_test_harness

    print(load_average())
    with prefect_test_harness(server_startup_timeout=120):
        if args.only in (None, "engine"):
            for text in engine(args.orders, args.batch_size, args.per_order):
                print(text, flush=True)
        if args.only in (None, "tryton"):
            for text in tryton(args.tryton_orders, args.batch_size, args.per_order):
                print(text, flush=True)
    print(load_average())


if __name__ == "__main__":
    main()
