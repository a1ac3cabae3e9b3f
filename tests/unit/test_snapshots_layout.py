"""Snapshots of what changed, compaction by key, retention (issue 17): local and S3."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import boto3
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tasks.snapshot_index import COMPACTED
from tasks.snapshots import SnapshotRow, SnapshotStore, s3_filesystem

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)


def read(store: SnapshotStore, rows: list[SnapshotRow], at: datetime, run_id: str = "r", **kw: str) -> int:
    return store.write(
        run_id=run_id,
        flow=kw.get("flow", "stock"),
        entity=kw.get("entity", "level"),
        stage=kw.get("stage", "read"),
        rows=rows,
        at=at,
    )


def level(key: str, qty: int) -> SnapshotRow:
    return SnapshotRow(key, f"h{qty}", {"sku": key.split("@")[0], "quantity": qty})


def data_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.parquet") if "_index" not in p.parts)


def test_a_record_read_unchanged_is_not_written_again(tmp_path: Path) -> None:
    store = SnapshotStore(str(tmp_path / "snap"))
    assert read(store, [level("A@WH1", 5), level("B@WH1", 7)], T0, "r1") == 2
    assert read(store, [level("A@WH1", 5), level("B@WH1", 8)], T0 + timedelta(minutes=10), "r2") == 1
    assert read(store, [level("A@WH1", 5), level("B@WH1", 8)], T0 + timedelta(minutes=20), "r3") == 0
    assert len(data_files(tmp_path / "snap")) == 2  # the third run wrote no file
    # Back to an older content: a change, written.
    assert read(store, [level("B@WH1", 7)], T0 + timedelta(minutes=30), "r4") == 1
    # A row without a hash, and every other stage, are always written.
    assert read(store, [SnapshotRow("A@WH1", None, {"sku": "A"})], T0 + timedelta(minutes=40), "r5") == 1
    assert read(store, [level("A@WH1", 5)], T0 + timedelta(minutes=50), "r6", stage="sent") == 1
    assert read(store, [level("A@WH1", 5)], T0 + timedelta(minutes=55), "r6", stage="sent") == 1

    history = store.history("level", "A@WH1")
    assert [(r["run_id"], r["stage"]) for r in history] == [
        ("r1", "read"),
        ("r5", "read"),
        ("r6", "sent"),
        ("r6", "sent"),
    ]
    (seen,) = store.unchanged_since("level", "A@WH1")
    assert seen["flow"] == "stock" and seen["hash"] == "h5" and seen["written_at"] == T0
    assert seen["seen_at"] == T0 + timedelta(minutes=20) and seen["seen_run"] == "r3"
    assert [r["run_id"] for r in store.history("level", "B@WH1")] == ["r1", "r2", "r4"]


def test_the_first_read_of_each_month_is_written_whole(tmp_path: Path) -> None:
    store = SnapshotStore(str(tmp_path / "snap"))
    read(store, [level("A@WH1", 5)], datetime(2026, 3, 31, 23, 50, tzinfo=timezone.utc), "march")
    assert read(store, [level("A@WH1", 5)], datetime(2026, 4, 1, 0, 0, tzinfo=timezone.utc), "april") == 1
    assert read(store, [level("A@WH1", 5)], datetime(2026, 4, 1, 0, 10, tzinfo=timezone.utc), "april2") == 0
    assert [r["run_id"] for r in store.history("level", "A@WH1")] == ["march", "april"]

    always = SnapshotStore(str(tmp_path / "always"), full_snapshot="always")
    assert read(always, [level("A@WH1", 5)], T0) == read(always, [level("A@WH1", 5)], T0 + timedelta(minutes=1)) == 1
    with pytest.raises(ValueError, match="full_snapshot"):
        SnapshotStore(str(tmp_path / "x"), full_snapshot="hourly")


def month_of_runs(store: SnapshotStore, days: int = 3) -> None:
    """A few runs a day over ``days`` days, B changing every run, A never; sent rows too."""
    for d in range(days):
        for run in range(3):
            at = T0 + timedelta(days=d, hours=run)
            run_id = f"d{d}r{run}"
            read(store, [level("A@WH1", 5), level("B@WH1", 10 * d + run)], at, run_id)
            read(
                store,
                [SnapshotRow("B", None, {"sku": "B", "quantity": 10 * d + run})],
                at,
                run_id,
                entity="variant",
                stage="sent",
            )


def test_compaction_keeps_every_row_and_history_reads_through_the_index(tmp_path: Path) -> None:
    root = tmp_path / "snap"
    store = SnapshotStore(str(root))
    month_of_runs(store)
    before = {k: store.history("level", k) for k in ("A@WH1", "B@WH1")}
    variant = store.history("variant", "B")
    assert len(data_files(root)) == 18

    done = store.compact(before=date(2026, 3, 3))  # the last day is "today": left as it is
    assert done == {"days": 4, "files": 12, "rows": 4 + 3 + 6, "months": 0}  # level: A once, B every run
    files = data_files(root)
    assert sum(f.endswith("/" + COMPACTED) for f in files) == 4 and len(files) == 4 + 6
    assert store.compact(before=date(2026, 3, 3)) == {"days": 0, "files": 0, "rows": 0, "months": 0}  # nothing twice
    table = pq.read_table(root / "flow=stock/entity=level/date=2026-03-01" / COMPACTED)
    assert table.column("key").to_pylist() == sorted(table.column("key").to_pylist())

    assert {k: store.history("level", k) for k in ("A@WH1", "B@WH1")} == before
    assert store.history("variant", "B") == variant
    assert store.history("level", "A@WH1", run_id="d0r0")[0]["payload"] == {"sku": "A", "quantity": 5}
    assert store.keys_for_sku("B") == ["B@WH1", "B"] and store.keys_for_sku("A", entity="level") == ["A@WH1"]
    assert store.query(entity="level", key="B@WH1") == before["B@WH1"]  # the full scan still works

    # A late row for a compacted day: the day is read whole until compacted again.
    read(store, [level("B@WH1", 99)], T0 + timedelta(hours=5), "late")
    assert store.history("level", "B@WH1")[-1]["run_id"] == "d2r2"
    assert "late" in [r["run_id"] for r in store.history("level", "B@WH1")]
    store.compact(before=date(2026, 3, 3))
    assert [r["run_id"] for r in store.history("level", "B@WH1")].count("late") == 1


def test_an_interrupted_compaction_holds_no_row_twice(tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "snap"
    store = SnapshotStore(str(root))
    month_of_runs(store, days=1)
    day = root / "flow=stock/entity=level/date=2026-03-01"
    shutil.copytree(day, tmp_path / "copy")
    store.compact(before=date(2026, 3, 2))
    # Killed after writing the compacted file, before deleting the small ones:
    for small in (tmp_path / "copy").iterdir():
        shutil.copy(small, day / small.name)
    assert [r["run_id"] for r in store.history("level", "B@WH1")] == ["d0r0", "d0r1", "d0r2"]
    assert [r["run_id"] for r in store.history("level", "B@WH1")] == ["d0r0", "d0r1", "d0r2"]
    store.compact(before=date(2026, 3, 2))
    assert [r["run_id"] for r in store.history("level", "B@WH1")] == ["d0r0", "d0r1", "d0r2"]
    assert len(data_files(root)) == 2


def test_a_closed_month_becomes_one_file_read_through_the_index(tmp_path: Path) -> None:
    """Once a month is over its days are merged into ``date=YYYY-MM/compacted.parquet``: the same
    rows, history and SKU look-ups, a year in twelve files; a day written late into the month is
    merged at the next compaction; a merge killed before it deleted the days holds no row twice."""
    import shutil

    root = tmp_path / "snap"
    store = SnapshotStore(str(root))
    month_of_runs(store)  # 1-3 March
    read(store, [level("B@WH1", 500)], datetime(2026, 4, 2, 9, tzinfo=timezone.utc), "april")
    before = {k: store.history("level", k) for k in ("A@WH1", "B@WH1")}
    variant = store.history("variant", "B")

    done = store.compact(before=date(2026, 4, 3))
    assert done["days"] == 7 and done["months"] == 2  # level and variant of March; April is open
    files = data_files(root)
    assert "flow=stock/entity=level/date=2026-03/" + COMPACTED in files
    assert not [f for f in files if "date=2026-03-" in f]
    assert "flow=stock/entity=level/date=2026-04-02/" + COMPACTED in files
    table = pq.read_table(root / "flow=stock/entity=level/date=2026-03" / COMPACTED)
    assert table.column("key").to_pylist() == sorted(table.column("key").to_pylist())
    assert {k: store.history("level", k) for k in ("A@WH1", "B@WH1")} == before
    assert store.history("variant", "B") == variant
    assert store.keys_for_sku("B", entity="level") == ["B@WH1"]
    index = pq.read_table(root / "_index/keys/flow=stock/entity=level/month=2026-03/keys.parquet")
    assert set(index.column("date").to_pylist()) == {"2026-03"}
    assert store.compact(before=date(2026, 4, 3))["months"] == 0  # nothing twice

    # A row written late into March: read at once, merged into the month next time.
    read(store, [level("B@WH1", 77)], T0 + timedelta(days=5), "late")
    assert "late" in [r["run_id"] for r in store.history("level", "B@WH1")]
    assert store.compact(before=date(2026, 4, 3)) == {"days": 1, "files": 1, "rows": 1, "months": 1}
    assert [r["run_id"] for r in store.history("level", "B@WH1")].count("late") == 1
    assert not [f for f in data_files(root) if "date=2026-03-" in f]

    # Killed after the month file and its index, before the days were deleted: rows held once.
    month = root / "flow=stock/entity=level/date=2026-03"
    shutil.copytree(month, tmp_path / "month")
    read(store, [level("B@WH1", 78)], T0 + timedelta(days=6), "later")
    store.compact(before=date(2026, 4, 3))
    day = root / "flow=stock/entity=level/date=2026-03-07"
    day.mkdir()
    shutil.copy(root / "flow=stock/entity=level/date=2026-03" / COMPACTED, tmp_path / "merged.parquet")
    shutil.copy(tmp_path / "month" / COMPACTED, day / COMPACTED)  # a day the merge did not delete
    runs = [r["run_id"] for r in store.history("level", "B@WH1")]
    assert runs.count("late") == 1 and runs.count("later") == 1
    store.compact(before=date(2026, 4, 3))
    assert [r["run_id"] for r in store.history("level", "B@WH1")] == runs
    assert pq.read_table(month / COMPACTED).num_rows == pq.read_table(tmp_path / "merged.parquet").num_rows

    # Retention keeps a month that ends after the first day kept, deletes one that ends before.
    assert store.apply_retention({"stock/level": 1}, now=datetime(2026, 4, 20, tzinfo=timezone.utc)) == [
        ("stock", "level", "2026-03-01", 0, 0)
    ]
    assert store.history("level", "A@WH1") == before["A@WH1"]
    assert store.apply_retention({"stock/level": 1}, now=datetime(2026, 5, 1, tzinfo=timezone.utc)) == [
        ("stock", "level", "2026-04-01", 0, 1)
    ]
    assert store.history("level", "A@WH1") == [] and [r["run_id"] for r in store.history("level", "B@WH1")] == ["april"]


def test_retention_deletes_old_days_and_the_index_entries(tmp_path: Path) -> None:
    root = tmp_path / "snap"
    store = SnapshotStore(str(root))
    old, recent = datetime(2025, 1, 10, tzinfo=timezone.utc), datetime(2026, 2, 10, tzinfo=timezone.utc)
    read(store, [level("A@WH1", 5)], old, "old")
    read(store, [SnapshotRow("O1", None, {"total": "1"})], old, "old", flow="import-orders", entity="order")
    read(store, [level("B@WH1", 1)], recent, "recent")
    store.compact(before=date(2026, 3, 1))
    now = datetime(2026, 3, 1, tzinfo=timezone.utc)

    assert store.apply_retention({"stock": 13}, now=now, dry_run=True) == [("stock", "level", "2025-02-01", 0, 1)]
    assert store.history("level", "A@WH1")  # a dry run deletes nothing
    report = store.apply_retention({"stock": 13, "import-orders/order": 120}, now=now)
    assert sorted(report) == [("import-orders", "order", "2016-03-01", 0, 0), ("stock", "level", "2025-02-01", 0, 1)]
    assert store.history("level", "A@WH1") == [] and store.keys_for_sku("A") == []
    assert [r["run_id"] for r in store.history("level", "B@WH1")] == ["recent"]
    assert store.history("order", "O1")  # ten years for orders
    assert not list((root / "_index" / "keys" / "flow=stock" / "entity=level").glob("month=2025-01"))
    # A's last row is gone: read again unchanged, it is written again.
    assert read(store, [level("A@WH1", 5)], datetime(2026, 1, 5, tzinfo=timezone.utc) + timedelta(days=60)) == 1


CONFIG = """
[snapshots]
root = "snapshots"
[snapshots.retention_months]
stock = 13
[connections.main.erp]
type = "files"
[connections.main.shop]
type = "vendure"
"""


def test_audit_compact_and_unchanged_since_in_the_history(tmp_path: Path) -> None:
    from deployments.cli import app
    from tasks.context import snapshot_store
    from tasks.settings import load_config

    config = tmp_path / "passerelle.toml"
    config.write_text(CONFIG, encoding="utf-8")
    store = snapshot_store(load_config(str(config)))
    read(store, [level("A@WH1", 5)], datetime(2024, 5, 1, tzinfo=timezone.utc), "old")
    read(store, [level("A@WH1", 5)], T0, "r1")
    read(store, [level("A@WH1", 5)], T0 + timedelta(minutes=10), "r2-0123456789")
    runner = CliRunner()

    result = runner.invoke(app, ["audit", "compact", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "compacted 2 days (2 files, 2 rows), merged 2 months" in result.output  # May 2024, March 2026
    assert "stock/level: deleted 0 days and 1 months before" in result.output

    result = runner.invoke(app, ["audit", "history", "level", "A@WH1", "-c", str(config)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 2 and "run r1" in lines[0]
    assert "unchanged" in lines[1] and "run r2-012345678" in lines[1]
    assert "unchanged since 2026-03-01 08:00:00Z" in lines[1]
    result = runner.invoke(app, ["audit", "history", "level", "A", "-c", str(config)])  # by SKU, from the index
    assert result.exit_code == 0 and "run r1" in result.output, result.output


def test_s3_compaction_history_and_retention(s3_server: dict[str, str]) -> None:
    client = boto3.client(
        "s3",
        endpoint_url=s3_server["endpoint_url"],
        region_name=s3_server["region"],
        aws_access_key_id=s3_server["access_key"],
        aws_secret_access_key=s3_server["secret_key"],
    )
    name = f"audit-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    filesystem = s3_filesystem(
        endpoint_url=s3_server["endpoint_url"],
        access_key=s3_server["access_key"],
        secret_key=s3_server["secret_key"],
        region=s3_server["region"],
    )
    store = SnapshotStore(f"s3://{name}/passerelle", filesystem=filesystem)
    month_of_runs(store, days=2)
    before = store.history("level", "B@WH1")
    assert len(before) == 6 and store.history("level", "A@WH1")[0]["run_id"] == "d0r0"
    assert store.compact(before=date(2026, 3, 3))["days"] == 4
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=name)["Contents"] if o["Key"].endswith(".parquet")]
    assert sum(k.endswith("/" + COMPACTED) for k in keys) == 4
    assert not [k for k in keys if "/_index/" not in k and not k.endswith("/" + COMPACTED)]
    assert store.history("level", "B@WH1") == before
    assert store.keys_for_sku("B", entity="level") == ["B@WH1"]
    store.apply_retention({"stock/level": 1}, now=datetime(2026, 5, 1, tzinfo=timezone.utc))
    assert store.history("level", "B@WH1") == [] and len(store.history("variant", "B")) == 6
