"""Audit trail benchmark: a month of production-cadence runs through ``SnapshotStore.write``, then
``passerelle audit history`` for a variant (by SKU) and an order, cold and warm, local and on S3.

Cadence (per day): catalogue nightly on ``--products`` articles (1 % changed), stock every 10
minutes on ``--skus`` levels (``--stock-changed`` of them changed per run), prices hourly on the
same SKUs (``--prices-changed`` per run), orders every 5 minutes (``--orders`` a day, each read
when placed and again when paid, sent and answered once), statuses every 15 minutes (three per
order), invoices hourly (one per order). Every stage is written as the flows write it: the whole
read (``read``), what was sent (``sent``), the shop's answer (``answered``).

Then: files and bytes written, ``audit compact`` (one file per flow, entity and day, indexed), and
the year: the compacted days copied into every day of 2026 with their dates moved (the key index
rebuilt), so a year is measured, not extrapolated; then ``audit compact`` as it runs in 2027,
which merges each month's days into one file (``--days-only``: not, the layout of days alone). ``audit history`` is timed as an auditor
runs it: a new ``passerelle`` process (cold: interpreter, imports, the configuration, then the
store; on a folder the OS page cache is not dropped), and in one process the first call of
``history`` (cold) and the next (warm). On S3 the year is uploaded to moto's server on 127.0.0.1.

Run:  uv run python benchmarks/audit.py [--days 30] [--skus 30000] [--products 10000] [--orders 500]
      [--year [--days-only]] [--s3] [--full-snapshot monthly|always] [--workdir DIR]

Details and figures: docs/benchmarks.md (section "Audit trail").
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyarrow.fs as pafs

from tasks.snapshot_index import COMPACTED, INDEX_DIR, ROW_GROUP_ROWS, rebuild_index
from tasks.snapshots import SnapshotRow, SnapshotStore, s3_filesystem

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
MASK_KEY = "benchmark-mask-key-" + "0" * 32
ROOT = Path(__file__).resolve().parents[1]


def _hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def sku(i: int) -> str:
    return f"SKU-{i:06d}"


def erp(i: int) -> str:
    return f"P{i:06d}"


class Generator:
    """The records of every flow and the runs that read them, in time order."""

    def __init__(self, store: SnapshotStore, *, skus: int, products: int, orders: int, stock_changed: float,
                 prices_changed: float) -> None:  # fmt: skip
        self.store, self.skus, self.products, self.orders_per_day = store, skus, products, orders
        self.stock_changed, self.prices_changed = stock_changed, prices_changed
        self.qty = [10 + i % 40 for i in range(skus)]
        self.level_rows = [self._level(i) for i in range(skus)]
        self.price = [1990 + i % 500 for i in range(skus)]
        self.price_rows = [self._price(i) for i in range(skus)]
        self.article_rows = [self._article(i, 0) for i in range(products)]
        self.tick = 0
        self.order_seq = 0
        self.order_due = 0.0
        self.open_orders: list[tuple[int, datetime]] = []
        self.writes = 0

    # -- records ----------------------------------------------------------------------------------
    def _level(self, i: int) -> SnapshotRow:
        payload = {"key": erp(i), "sku": sku(i), "warehouse": "WH1", "quantity": self.qty[i], "reserved": i % 3}
        return SnapshotRow(f"{erp(i)}@WH1", _hash(payload), payload)

    def _price(self, i: int) -> SnapshotRow:
        cents = self.price[i]
        payload = {"key": erp(i), "sku": sku(i), "price": f"{cents // 100}.{cents % 100:02d}", "currency": "EUR",
                   "tax_included": True, "promotion": None, "group_prices": []}  # fmt: skip
        return SnapshotRow(erp(i), _hash(payload), payload)

    def _article(self, i: int, version: int) -> SnapshotRow:
        payload = {"key": erp(i), "sku": sku(i), "name": f"Article {i} v{version}", "price": "19.90",
                   "ean": f"{3000000000000 + i}", "vat": "20", "weight": "0.350", "group_key": f"G{i // 3}",
                   "description": f"Description of article {i}, version {version}. " * 6,
                   "attributes": {"colour": "blue", "size": "M"}}  # fmt: skip
        return SnapshotRow(erp(i), _hash(payload), payload)

    def order(self, n: int, state: str) -> dict[str, Any]:
        person = {"email": f"customer{n}@example.com", "first_name": "Camille", "last_name": f"Martin{n}",
                  "phone": "+33 6 12 34 56 78", "company": None}  # fmt: skip
        address = {"street": f"{n} rue des Tanneurs", "street2": None, "postal_code": "69004", "city": "Lyon",
                   "country": "FR", "first_name": "Camille", "last_name": f"Martin{n}"}  # fmt: skip
        lines = [{"line_id": f"L{k}", "sku": sku((n * 7 + k) % self.skus), "quantity": "1", "unit_price": "19.90",
                  "vat_rate": "20", "total": "19.90", "total_tax_included": "23.88"} for k in range(3)]  # fmt: skip
        return {"shop_id": str(100000 + n), "reference": f"WEB{n:08d}", "state": state, "currency": "EUR",
                "customer": {**person, "shop_id": str(n)}, "billing": address, "shipping": address,
                "lines": lines, "total": "59.70", "total_tax_included": "71.64"}  # fmt: skip

    # -- runs -------------------------------------------------------------------------------------
    def write(self, run_id: str, flow: str, entity: str, stage: str, rows: list[SnapshotRow], at: datetime) -> None:
        if rows:
            self.store.write(run_id=run_id, flow=flow, entity=entity, stage=stage, rows=rows, at=at)
            self.writes += 1

    def _changed(self, n: int, fraction: float) -> list[int]:
        k = max(1, round(n * fraction)) if fraction > 0 else 0
        self.tick += 1
        return [(self.tick * 7919 + j * (n // k if k else 1)) % n for j in range(k)]

    def stock(self, at: datetime) -> None:
        run = f"stock-{at:%Y%m%d%H%M}"
        changed = self._changed(self.skus, self.stock_changed)
        for i in changed:
            self.qty[i] = max(0, self.qty[i] + (1 if self.tick % 5 == 0 else -1))
            self.level_rows[i] = self._level(i)
        self.write(run, "stock", "level", "read", self.level_rows, at)
        sent = [SnapshotRow(erp(i), _hash(self.qty[i]), {"key": erp(i), "sku": sku(i), "variant_id": str(i),
                                                        "quantity": self.qty[i]}) for i in changed]  # fmt: skip
        self.write(run, "stock", "variant", "sent", sent, at)
        answered = [SnapshotRow(erp(i), None, {"id": str(i), "stockOnHand": self.qty[i]}) for i in changed]
        self.write(run, "stock", "variant", "answered", answered, at + timedelta(seconds=2))

    def prices(self, at: datetime) -> None:
        run = f"prices-{at:%Y%m%d%H%M}"
        changed = self._changed(self.skus, self.prices_changed)
        for i in changed:
            self.price[i] += 10
            self.price_rows[i] = self._price(i)
        self.write(run, "prices", "price", "read", self.price_rows, at)
        sent = [SnapshotRow(erp(i), self.price_rows[i].hash, {**self.price_rows[i].payload, "variant_id": str(i)})
                for i in changed]  # fmt: skip
        self.write(run, "prices", "variant", "sent", sent, at)
        answered = [SnapshotRow(erp(i), None, {"id": str(i), "price": self.price[i]}) for i in changed]
        self.write(run, "prices", "variant", "answered", answered, at + timedelta(seconds=2))

    def catalogue(self, at: datetime) -> None:
        run = f"catalogue-{at:%Y%m%d}"
        changed = self._changed(self.products, 0.01)
        for i in changed:
            self.article_rows[i] = self._article(i, self.tick)
        self.write(run, "catalogue", "article", "read", self.article_rows, at)
        sent = [SnapshotRow(f"g:{i // 3}", self.article_rows[i].hash, {"product": f"g:{i // 3}",
                            "variants": [self.article_rows[i].payload]}) for i in changed]  # fmt: skip
        self.write(run, "catalogue", "product", "sent", sent, at)

    def orders(self, at: datetime, per_run: float) -> None:
        run = f"orders-{at:%Y%m%d%H%M}"
        self.order_due += per_run
        due = int(self.order_due + 1e-9)
        self.order_due -= due
        new = [self.order_seq + k for k in range(due)]
        self.order_seq += due
        paid = [n for n, placed in self.open_orders if at - placed >= timedelta(minutes=30)]
        self.open_orders = [(n, p) for n, p in self.open_orders if at - p < timedelta(minutes=30)]
        self.open_orders += [(n, at) for n in new]
        read = [self.order(n, "PaymentAuthorized") for n in new] + [self.order(n, "PaymentSettled") for n in paid]
        self.write(run, "import-orders", "order", "read", [SnapshotRow(o["shop_id"], _hash(o), o) for o in read], at)
        sent = [SnapshotRow(str(100000 + n), None, {"products": {}, **self.order(n, "PaymentSettled")}) for n in paid]
        self.write(run, "import-orders", "order", "sent", sent, at)
        answered = [SnapshotRow(str(100000 + n), None, {"erp_id": n, "reference": f"SO{n:06d}"}) for n in paid]
        self.write(run, "import-orders", "order", "answered", answered, at + timedelta(seconds=3))

    def statuses(self, at: datetime, per_run: int) -> None:
        run = f"feedback-{at:%Y%m%d%H%M}"
        recent = range(max(0, self.order_seq - per_run), self.order_seq)
        rows = [SnapshotRow(str(100000 + n), _hash([n, at.isoformat()]), {"shop_order_id": str(100000 + n),
                "state": "Shipped", "tracking": f"6A{n:010d}"}) for n in recent]  # fmt: skip
        self.write(run, "feedback-status", "order_status", "read", rows, at)
        self.write(
            run, "feedback-status", "order_status", "sent", [SnapshotRow(r.key, None, r.payload) for r in rows], at
        )

    def invoices(self, at: datetime, per_run: int) -> None:
        run = f"invoices-{at:%Y%m%d%H%M}"
        recent = range(max(0, self.order_seq - per_run), self.order_seq)
        rows = [SnapshotRow(f"INV{n:07d}", _hash(n), {"erp_id": f"INV{n:07d}", "order": str(100000 + n),
                "total": "71.64", "number": f"F{n:07d}"}) for n in recent]  # fmt: skip
        self.write(run, "upload-invoices", "invoice", "read", rows, at)
        sent = [SnapshotRow(r.key, _hash(r.key), {**r.payload, "sha256": _hash(r.key), "url": "s3://docs/x.pdf"})
                for r in rows]  # fmt: skip
        self.write(run, "upload-invoices", "invoice", "sent", sent, at)

    def day(self, day: datetime) -> None:
        """One day of runs in time order (every 5 minutes; each flow on its own cadence)."""
        for minute in range(0, 24 * 60, 5):
            at = day + timedelta(minutes=minute)
            if minute == 2 * 60:
                self.catalogue(at)
            if minute % 10 == 0:
                self.stock(at)
            if minute % 60 == 30:
                self.prices(at)
                self.invoices(at, max(1, self.orders_per_day // 24))
            if minute % 15 == 0:
                self.statuses(at, max(1, 3 * self.orders_per_day // 96))
            self.orders(at, self.orders_per_day / 288)


def tree_size(fs: pafs.FileSystem, path: str) -> tuple[int, int, int, int]:
    """(data files, data bytes, index files, index bytes) under ``path``."""
    data = [0, 0]
    index = [0, 0]
    for info in fs.get_file_info(pafs.FileSelector(path, recursive=True, allow_not_found=True)):
        if info.type != pafs.FileType.File or not info.base_name.endswith(".parquet"):
            continue
        bucket = index if f"/{INDEX_DIR}/" in info.path else data
        bucket[0] += 1
        bucket[1] += info.size or 0
    return data[0], data[1], index[0], index[1]


PER_EVENT_FLOWS = {"import-orders", "feedback-status", "upload-invoices"}
"""Flows whose records are events (an order, an invoice): a copied day gets keys of its own."""


def flow_of(entity_dir: Path) -> str:
    return entity_dir.parent.name.removeprefix("flow=")


def make_year(root: Path, days: int) -> int:
    """Fill a year from the ``days`` compacted days written: the first day (the monthly full
    snapshot) becomes the first of every month, the others fill the other days in turn, their
    times moved to the new day (and the keys of orders, statuses and invoices renamed: those are
    new records every day); the key index is then rebuilt. Returns the days added."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    added = 0
    end = (START.date() + timedelta(days=days)).isoformat()
    for entity_dir in sorted(root.glob("flow=*/entity=*")):
        written = sorted(
            d.name.removeprefix("date=")
            for d in entity_dir.glob("date=*")
            if (d / COMPACTED).exists() and d.name.removeprefix("date=") < end
        )
        if not written:
            continue
        first, others = written[0], written[1:] or written
        for n in range(days, 365):
            day = START.date() + timedelta(days=n)
            source = first if day.day == 1 else others[n % len(others)]
            table = pq.read_table(entity_dir / f"date={source}" / COMPACTED)
            shift = pa.scalar(day - date.fromisoformat(source), pa.duration("us"))
            moved = pc.add(table.column("recorded_at"), shift).cast(pa.timestamp("us", tz="UTC"))
            table = table.set_column(table.schema.get_field_index("recorded_at"), "recorded_at", moved)
            if flow_of(entity_dir) in PER_EVENT_FLOWS:  # another day's orders are other orders
                keys = pc.binary_join_element_wise(table.column("key"), pa.scalar(f"~{n}"), "")
                table = table.set_column(table.schema.get_field_index("key"), "key", keys).sort_by("key")
            target = entity_dir / f"date={day.isoformat()}"
            target.mkdir(exist_ok=True)
            pq.write_table(table, target / COMPACTED, row_group_size=ROW_GROUP_ROWS, compression="zstd")
            added += 1
        flow, entity = entity_dir.parent.name.removeprefix("flow="), entity_dir.name.removeprefix("entity=")
        rebuild_index(pafs.LocalFileSystem(), str(root), flow, entity)
    return added


def merge_months(root: Path, figures: dict[str, Any]) -> None:
    """``audit compact`` on the year seen from 2027: every month of 2026 is over, so its days are
    merged into one file per (flow, entity, month); storage and time in ``figures``."""
    store = SnapshotStore(str(root), mask_key=MASK_KEY)
    seconds, done = timed(lambda: store.compact(before=date(2027, 1, 1)))
    files, size, ifiles, isize = tree_size(pafs.LocalFileSystem(), str(root))
    figures["year_months"] = {"seconds": round(seconds, 1), "months": done["months"], "files": files,
                              "bytes": size, "index_files": ifiles, "index_bytes": isize}  # fmt: skip


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def write_config(folder: Path, root: str, s3: dict[str, str] | None) -> Path:
    lines = ["[snapshots]", f'root = "{root}"', 'mask_key = "env:BENCH_MASK_KEY"']
    if s3 is not None:
        lines += ["[snapshots.s3]", f'endpoint_url = "{s3["endpoint_url"]}"', 'region = "us-east-1"',
                  'access_key = "env:AWS_ACCESS_KEY_ID"', 'secret_key = "env:AWS_SECRET_ACCESS_KEY"']  # fmt: skip
    lines += ["[state]", f'url = "sqlite:///{folder}/state.db"',
              "[connections.main.erp]", 'type = "files"', "[connections.main.shop]", 'type = "vendure"']  # fmt: skip
    config = folder / f"passerelle-{'s3' if s3 else 'local'}.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


PROCESS = True
"""Time a new ``passerelle`` process too (``--no-process``: only the look-ups in this process)."""


def time_history(store: SnapshotStore, config: Path, entity: str, key: str) -> dict[str, Any]:
    """A new ``passerelle audit history`` process (wall, rows), then in this process the lookup the
    command makes: first call (cold) and second (warm)."""
    if not PROCESS:
        return _time_lookup(store, entity, key, {"process_s": None, "lines": None})
    env = {**os.environ, "BENCH_MASK_KEY": MASK_KEY}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "deployments.cli", "audit", "history", entity, key, "-c", str(config)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    process = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"audit history {entity} {key} failed: {done.stderr or done.stdout}")
    return _time_lookup(store, entity, key, {"process_s": round(process, 2), "lines": len(done.stdout.splitlines())})


def _time_lookup(store: SnapshotStore, entity: str, key: str, process: dict[str, Any]) -> dict[str, Any]:

    def lookup() -> list[dict[str, Any]]:
        rows = store.history(entity, key)
        if not rows:
            for erp_key in store.keys_for_sku(key, entity=entity):
                rows += store.history(entity, erp_key)
        return rows

    cold, rows = timed(lookup)
    warm, _ = timed(lookup)
    return {**process, "cold_s": round(cold, 3), "warm_s": round(warm, 3), "rows": len(rows)}


def time_scan(store: SnapshotStore, entity: str, key: str) -> dict[str, Any]:
    """The layout without the key index: every compacted day of the entity opened, row groups
    pruned by their key statistics (what DuckDB, Athena or Spark do on the same files)."""
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    def scan() -> int:
        files = [p for f, e in store._partitions(None, entity) for d in store._days(f, e).values() for p in d.files]
        table = ds.dataset(files, format="parquet", filesystem=store.fs).to_table(filter=pc.field("key") == key)
        return int(table.num_rows)

    store._listings.clear()
    cold, rows = timed(scan)
    warm, _ = timed(scan)
    return {"cold_s": round(cold, 3), "warm_s": round(warm, 3), "rows": rows}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description="audit trail benchmark: a month of snapshots, audit history")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--skus", type=int, default=30_000)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=500, help="orders a day")
    parser.add_argument("--stock-changed", type=float, default=0.002, help="share of levels changed per stock run")
    parser.add_argument("--prices-changed", type=float, default=0.001, help="share of prices changed per price run")
    parser.add_argument("--full-snapshot", default="monthly")
    parser.add_argument("--year", action="store_true", help="copy the compacted month into a year, then time")
    parser.add_argument("--s3", action="store_true", help="also time on moto's S3 server on 127.0.0.1")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--phase", choices=["all", "write", "time"], default="all",
        help="write: generate, compact (and copy into a year) only; time: time the look-ups of a --workdir written before",
    )  # fmt: skip
    parser.add_argument("--no-process", action="store_true", help="time the look-ups in this process only")
    parser.add_argument("--days-only", action="store_true",
                        help="with --year: leave the year in days (no month merge), the layout before months were merged")  # fmt: skip
    args = parser.parse_args(argv)
    global PROCESS
    PROCESS = not args.no_process
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="passerelle-audit-"))
    workdir.mkdir(parents=True, exist_ok=True)
    root = workdir / "snapshots"
    saved = workdir / "figures.json"
    if args.phase == "time":
        figures = json.loads(saved.read_text(encoding="utf-8"))
        if args.year:
            figures["year_days_added"] = make_year(root, args.days)
            files, size, ifiles, isize = tree_size(pafs.LocalFileSystem(), str(root))
            figures["year"] = {"files": files, "bytes": size, "index_files": ifiles, "index_bytes": isize}
            if not args.days_only:
                merge_months(root, figures)
        return _time(figures, root, workdir, args)
    if root.exists():
        shutil.rmtree(root)
    store = SnapshotStore(str(root), mask_key=MASK_KEY, full_snapshot=args.full_snapshot)
    gen = Generator(store, skus=args.skus, products=args.products, orders=args.orders,
                    stock_changed=args.stock_changed, prices_changed=args.prices_changed)  # fmt: skip
    figures: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}}

    start = time.perf_counter()
    for d in range(args.days):
        gen.day(START + timedelta(days=d))
    figures["write"] = {"seconds": round(time.perf_counter() - start, 1), "write_calls": gen.writes,
                        "orders": gen.order_seq}  # fmt: skip
    fs = pafs.LocalFileSystem()
    files, size, ifiles, isize = tree_size(fs, str(root))
    figures["written"] = {"files": files, "bytes": size, "index_files": ifiles, "index_bytes": isize}

    variant_sku, order_id = sku(args.skus // 2 + 1), str(100000 + gen.order_seq // 2)
    config = write_config(workdir, str(root), None)
    figures["local_before_compaction"] = {
        "variant": time_history(store, config, "variant", variant_sku),
        "order": time_history(store, config, "order", order_id),
    }
    seconds, done = timed(lambda: store.compact(before=(START + timedelta(days=args.days)).date()))
    files, size, ifiles, isize = tree_size(fs, str(root))
    figures["compaction"] = {"seconds": round(seconds, 1), **done}
    figures["compacted"] = {"files": files, "bytes": size, "index_files": ifiles, "index_bytes": isize}
    if args.year:
        figures["year_days_added"] = make_year(root, args.days)
        files, size, ifiles, isize = tree_size(fs, str(root))
        figures["year"] = {"files": files, "bytes": size, "index_files": ifiles, "index_bytes": isize}
        if not args.days_only:
            merge_months(root, figures)
    figures["keys"] = {"variant_sku": variant_sku, "order": order_id}
    saved.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    if args.phase == "write":
        return _report(figures, args)
    return _time(figures, root, workdir, args)


def _time(figures: dict[str, Any], root: Path, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    variant_sku, order_id = figures["keys"]["variant_sku"], figures["keys"]["order"]
    config = write_config(workdir, str(root), None)
    store = SnapshotStore(str(root), mask_key=MASK_KEY)
    figures["local"] = {
        "variant": time_history(store, config, "variant", variant_sku),
        "order": time_history(store, config, "order", order_id),
        "order_without_index": time_scan(store, "order", order_id),
    }
    if args.s3:
        figures["s3"] = s3_figures(root, workdir, variant_sku, order_id)
    (workdir / "figures.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return _report(figures, args)


def _report(figures: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for name, value in figures.items():
            print(f"{name}: {value}")
    return figures


def s3_figures(root: Path, workdir: Path, variant_sku: str, order_id: str) -> dict[str, Any]:
    """Upload the compacted tree to moto's S3 server on 127.0.0.1 and time the look-ups there."""
    import boto3
    from moto.server import ThreadedMotoServer

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        s3 = {"endpoint_url": f"http://{host}:{port}"}
        boto3.client("s3", endpoint_url=s3["endpoint_url"], region_name="us-east-1").create_bucket(Bucket="audit")
        filesystem = s3_filesystem(endpoint_url=s3["endpoint_url"], access_key=os.environ["AWS_ACCESS_KEY_ID"],
                                   secret_key=os.environ["AWS_SECRET_ACCESS_KEY"], region="us-east-1")  # fmt: skip
        seconds, _ = timed(lambda: pafs.copy_files(str(root), "audit/passerelle", source_filesystem=pafs.LocalFileSystem(),
                                                   destination_filesystem=filesystem, use_threads=True))  # fmt: skip
        store = SnapshotStore("s3://audit/passerelle", filesystem=filesystem, mask_key=MASK_KEY)
        config = write_config(workdir, "s3://audit/passerelle", s3)
        return {
            "upload_s": round(seconds, 1),
            "variant": time_history(store, config, "variant", variant_sku),
            "order": time_history(store, config, "order", order_id),
            "order_without_index": time_scan(store, "order", order_id),
        }
    finally:
        server.stop()


if __name__ == "__main__":
    main()
