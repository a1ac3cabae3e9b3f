"""benchmarks/audit.py at a tiny size: behaviour, not timings (docs/benchmarks.md "Audit trail")."""

from __future__ import annotations

from pathlib import Path

from benchmarks import audit

TINY = ["--days", "2", "--skus", "60", "--products", "30", "--orders", "24", "--stock-changed", "0.05"]


def test_a_tiny_month_written_compacted_and_looked_up_locally_and_on_s3(tmp_path: Path) -> None:
    # Without --year: copying the month into a year (about 3 000 files) takes minutes even at this
    # size; the benchmark's own run measures it (docs/benchmarks.md "Audit trail").
    figures = audit.main([*TINY, "--days", "1", "--s3", "--workdir", str(tmp_path / "w")])
    written, compacted = figures["written"], figures["compacted"]
    assert figures["write"]["orders"] == 24
    # One file per (flow, entity, day) once compacted, plus the key indexes.
    assert compacted["files"] == figures["compaction"]["days"] < written["files"]
    assert compacted["bytes"] < written["bytes"] and compacted["index_files"] > 0
    for where in ("local_before_compaction", "local", "s3"):
        variant, order = figures[where]["variant"], figures[where]["order"]
        assert variant["rows"] > 0 and variant["lines"] >= variant["rows"], where
        assert order["rows"] == 4 and order["lines"] >= 4, where  # read placed, read paid, sent, answered
    # Compaction and the index lose nothing: the same rows before, after, and on S3.
    assert figures["local"]["order_without_index"]["rows"] == figures["s3"]["order_without_index"]["rows"] == 4
    before = figures["local_before_compaction"]["variant"]["rows"]
    assert figures["local"]["variant"]["rows"] == figures["s3"]["variant"]["rows"] == before


def test_unchanged_reads_are_not_written_again(tmp_path: Path) -> None:
    once = [*TINY, "--days", "1", "--phase", "write", "--no-process"]
    changed = audit.main([*once, "--workdir", str(tmp_path / "changed")])
    every = audit.main([*once, "--full-snapshot", "always", "--workdir", str(tmp_path / "every")])
    assert changed["written"]["bytes"] < every["written"]["bytes"]
    assert changed["compaction"]["rows"] * 5 < every["compaction"]["rows"]
    # What changed is all there: the orders, read, sent and answered, are written in both.
    assert changed["local_before_compaction"]["order"]["rows"] == every["local_before_compaction"]["order"]["rows"]
