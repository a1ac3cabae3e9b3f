"""Stock and price benchmark: 100 000 SKUs, 1 % changed, written to Vendure on loopback.

The pure rules of ``tasks.stock`` and ``tasks.prices`` (``compute_targets``, the gates, the plans
against the values sent last time) are called directly, then ``VendureValues.write_stock`` /
``write_prices`` in batches of 100 through the real ``VendureShop``, against the loopback Vendure
of ``benchmarks/loopback_vendure.py``. Reported per side: API calls, wall, CPU, shop and engine
time per run and per stage; then a run where nothing changed; the load average before and after.
Peak memory only with ``--tracemalloc`` (it slows Python down several times: a run of its own).
No Prefect runs, state store or snapshots.

Run:  uv run python benchmarks/stock.py [--skus 100000] [--changed 0.01] [--latency 0.02]
          [--only stock|prices] [--tracemalloc]

CPU is this process's (``time.process_time``): the loopback Vendure runs in a child process,
unless ``--url`` names one in this process (the tests), whose CPU is then counted too.

Details and figures: docs/benchmarks.md (section "Stock and prices").
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol, TypeVar

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.loopback_vendure import PASSWORD, USERNAME, Loopback, Phase, ShopMeter, loopback, peak_rss_mib
from connectors.base import BatchResult, PriceCapabilities
from connectors.models import PriceRecord, Promotion, StockLevel, content_hash, minor_units
from connectors.shop.vendure.client import VendureClient
from connectors.shop.vendure.factory import VendureShop
from tasks.prices import gate_prices, plan_prices, write_value
from tasks.settings import StockFeed, StockSettings
from tasks.stock import compute_targets, gate_targets, plan_stock

BATCH = 100
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
SETTINGS = StockSettings(feeds=[StockFeed(warehouses=["WH1", "WH2"])], safety_stock=1)


class _Keyed(Protocol):
    @property
    def key(self) -> str: ...


W = TypeVar("W", bound=_Keyed)


def changed_indices(n: int, fraction: float) -> set[int]:
    """round(n * fraction) indices spread evenly over 0..n-1."""
    k = round(n * fraction)
    return {i * n // k for i in range(k)} if k else set()


def stock_levels(n: int, changed: set[int]) -> list[StockLevel]:
    """Two warehouses per SKU, some reserved; a changed SKU has 5 more in WH1."""
    out: list[StockLevel] = []
    for i in range(n):
        key, sku = str(i), f"SKU-{i:06d}"
        out.append(
            StockLevel(key, sku, "WH1", Decimal(10 + i % 50 + (5 if i in changed else 0)), reserved=Decimal(i % 3))
        )
        out.append(StockLevel(key, sku, "WH2", Decimal(i % 7)))
    return out


def price_records(n: int, changed: set[int]) -> list[PriceRecord]:
    """Tax-excluded EUR prices; every 25th SKU has a promotion in force; a changed SKU costs 1.00 more."""
    out: list[PriceRecord] = []
    for i in range(n):
        bump = Decimal("1.00") if i in changed else Decimal(0)
        promotions = (
            [Promotion(Decimal("15.00") + bump, NOW - timedelta(days=1), NOW + timedelta(days=10), "winter")]
            if i % 25 == 0
            else []
        )
        out.append(
            PriceRecord(
                str(i),
                f"SKU-{i:06d}",
                Decimal("19.90") + i % 7 + bump,
                "EUR",
                vat_rate=Decimal("20"),
                promotions=promotions,
            )
        )
    return out


def allocated(i: int) -> int:
    """Units the shop's own orders hold (Vendure's stockAllocated)."""
    return i % 4


def vendure(url: str) -> VendureShop:
    return VendureShop(VendureClient(url, username=USERNAME, password=PASSWORD))


def send(items: Sequence[W], write: Callable[[Sequence[W]], BatchResult]) -> tuple[list[W], BatchResult]:
    """Write in batches of 100 (as flows/stock.py and flows/prices.py do): (accepted writes, all answers)."""
    merged = BatchResult()
    for start in range(0, len(items), BATCH):
        result = write(items[start : start + BATCH])
        merged.errors += result.errors
        merged.answers.update(result.answers)
    failed = {e.key for e in merged.errors}
    return [w for w in items if w.key not in failed], merged


class Stages:
    """Wall and CPU seconds per stage of one run, and of the whole run ("total")."""

    def __init__(self) -> None:
        self.times: dict[str, tuple[float, float]] = {}
        self._started = (time.perf_counter(), time.process_time())
        self._last = self._started

    def mark(self, stage: str) -> None:
        now = (time.perf_counter(), time.process_time())
        self.times[stage] = (now[0] - self._last[0], now[1] - self._last[1])
        self._last = now

    def close(self) -> dict[str, tuple[float, float]]:
        self.times["total"] = (self._last[0] - self._started[0], self._last[1] - self._started[1])
        return self.times


Run = tuple[Phase, dict[str, tuple[float, float]], Any, BatchResult]
"""The shop's view of a run, (wall, CPU) seconds per stage and in total, the plan, the shop's answers."""


def stock_run(
    meter: ShopMeter, name: str, levels: list[StockLevel], variant_ids: dict[str, str], sent: dict[str, str]
) -> Run:
    shop = vendure(meter.shop.url)
    with meter.phase(name, lambda: [shop.client]) as phase:
        stages = Stages()
        targets, issues = compute_targets(levels, SETTINGS.resolved_feeds(), SETTINGS)
        stages.mark("rules")
        passed, rejected = gate_targets(targets, issues)
        stages.mark("gate (GX)")
        plan = plan_stock(passed, variant_ids, sent)
        stages.mark("plan")
        done, result = send(plan.writes, shop.write_stock)
        for w in done:  # what send_stock records in sent_value
            sent[w.key] = content_hash(plan.targets[w.key].value)
        stages.mark("send (shop included)")
    shop.close()
    assert not rejected, rejected[:3]
    return phase, stages.close(), plan, result


def price_run(
    meter: ShopMeter, name: str, records: list[PriceRecord], variant_ids: dict[str, str], sent: dict[str, str]
) -> Run:
    shop = vendure(meter.shop.url)
    with meter.phase(name, lambda: [shop.client]) as phase:
        stages = Stages()
        passed, rejected = gate_prices(records, currency="EUR")
        stages.mark("gate (GX)")
        # The capabilities are asked first, as tasks/prices.py plan_changes does (Vendure: a request).
        plan = plan_prices(passed, variant_ids, sent, now=NOW, capabilities=shop.price_capabilities)
        stages.mark("plan")
        done, result = send(plan.writes, shop.write_prices)
        for w in done:  # what send_prices records in sent_value
            sent[w.key] = content_hash(write_value(w))
        stages.mark("send (shop included)")
    shop.close()
    assert not rejected, rejected[:3]
    return phase, stages.close(), plan, result


def report(side: str, n: int, changed: int, runs: list[Run]) -> None:
    print(f"{side}: {n} SKUs, {changed} changed")
    for phase, stages, plan, result in runs:
        wall, cpu = stages["total"]
        print(f"  {phase.line()}")
        print(f"    CPU {cpu:.2f} s (wall {wall:.2f} s, shop {phase.shop:.2f} s)")
        print(
            f"    {len(plan.writes)} to write, {plan.unchanged} unchanged, {len(result.errors)} refused; "
            + ", ".join(f"{k} {w:.2f} s wall / {c:.2f} s CPU" for k, (w, c) in stages.items() if k != "total")
        )


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} ({os.cpu_count()} cores)"


def check_store(shop: Loopback, expected: dict[str, tuple[str, int]]) -> list[str]:
    """Written values the shop does not hold (``expected``: variant id -> ("stock" | "price", value))."""
    rows = shop.variants(sorted(expected, key=int))
    wrong: list[str] = []
    for variant_id, (what, value) in expected.items():
        row = rows.get(variant_id)
        got = None if row is None else (row["stockOnHand"] - row["stockAllocated"] if what == "stock" else row["price"])
        if got != value:
            wrong.append(f"{variant_id}: {what} {got} instead of {value}")
    return wrong


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description="stock and price benchmark against a loopback Vendure")
    parser.add_argument("--skus", type=int, default=100_000)
    parser.add_argument("--changed", type=float, default=0.01, help="fraction of the SKUs that changed")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds the loopback shop takes per request")
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="peak memory per run with tracemalloc (it slows Python down several times: time without it)",
    )
    parser.add_argument("--no-tracemalloc", action="store_true", help="the default: kept for older commands")
    parser.add_argument("--only", choices=["stock", "prices"], help="one side only (default: both)")
    parser.add_argument("--url", help="an already running loopback Vendure (default: start one in a child process)")
    args = parser.parse_args(argv)
    n = args.skus
    import great_expectations  # noqa: F401 - import cost is paid once per worker, not per run

    changed = changed_indices(n, args.changed)
    sides = [args.only] if args.only else ["stock", "prices"]
    load_before = os.getloadavg()
    print(f"before: {load_average()}")
    with loopback(args.url, latency=args.latency) as shop_server:
        meter = ShopMeter(shop_server)
        # The shop and the state store as the previous run left them (not measured).
        previous, issues = compute_targets(stock_levels(n, set()), SETTINGS.resolved_feeds(), SETTINGS)
        assert not issues
        prices_before = price_records(n, set())
        ids = shop_server.seed(
            [
                [t.sku, int(t.quantity) + allocated(i), allocated(i), minor_units(r.price or Decimal(0), "EUR")]
                for i, (t, r) in enumerate(zip(previous, prices_before, strict=True))
            ]
        )
        variant_ids = {str(i): variant_id for i, variant_id in enumerate(ids)}
        stock_sent = {t.state_key: content_hash(t.value) for t in previous}
        capabilities = PriceCapabilities()
        first = plan_prices(prices_before, variant_ids, {}, now=NOW, capabilities=capabilities, full=True)
        price_sent = {w.key: content_hash(write_value(w)) for w in first.writes}
        held = shop_server.stats()["store"]["variants"]
        del previous, prices_before, first
        print(f"loopback Vendure on 127.0.0.1: {held} variants, {args.latency * 1000:.0f} ms per request")

        if args.tracemalloc:
            tracemalloc.start()
        stock_runs: list[Run] = []
        price_runs: list[Run] = []
        stock_written: dict[str, tuple[str, int]] = {}
        price_written: dict[str, tuple[str, int]] = {}
        if "stock" in sides:
            levels = stock_levels(n, changed)
            stock_runs.append(stock_run(meter, "stock", levels, variant_ids, stock_sent))
            stock_runs.append(stock_run(meter, "stock, nothing changed", levels, variant_ids, stock_sent))
            stock_written = {w.variant_id: ("stock", w.quantity) for w in stock_runs[0][2].writes}
            del levels
            report("stock", n, len(changed), stock_runs)

        if "prices" in sides:
            records = price_records(n, changed)
            price_runs.append(price_run(meter, "prices", records, variant_ids, price_sent))
            price_runs.append(price_run(meter, "prices, nothing changed", records, variant_ids, price_sent))
            price_written = {w.variant_id: ("price", minor_units(w.price, "EUR")) for w in price_runs[0][2].writes}
            del records
            report("prices", n, len(changed), price_runs)
        tracemalloc.stop()
        rss = peak_rss_mib()
        wrong = check_store(shop_server, stock_written) + check_store(shop_server, price_written)
        held = shop_server.stats()["store"]["variants"]
    phases = [r[0] for r in stock_runs + price_runs]
    refused = [sample for p in phases for sample in p.refused]
    print(f"documents refused by the schema: {sum(p.invalid + p.bad_input for p in phases)}")
    print(f"written values not found in the shop: {len(wrong)} {wrong[:5]}")
    print(f"ru_maxrss {rss:.0f} MiB (whole process: imports, Great Expectations, inputs)")
    print(f"after: {load_average()}")
    for sample in refused:
        print(f"REFUSED ({sample['kind']}): {sample['errors']}\n{sample['document'][:2000]}")
    return {
        "skus": n,
        "changed": len(changed),
        "store_variants": held,
        "stock": stock_runs,
        "prices": price_runs,
        "expected_update_calls": math.ceil(len(changed) / BATCH),
        "wrong": wrong,
        "ru_maxrss_mib": rss,
        "cpu": {r[0].name: r[1]["total"][1] for r in stock_runs + price_runs},
        "load_average": (load_before, os.getloadavg()),
    }


if __name__ == "__main__":
    main()
