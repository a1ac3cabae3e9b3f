"""What the value syncs (stock, prices) share: snapshots, recording the shop's answer, the summary.

A value sync writes absolute values on existing shop variants; the last value the shop accepted
is kept in ``sent_value`` so the next run sends only what changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from connectors.base import BatchResult
from connectors.errors import RecordError
from connectors.models import content_hash
from tasks.common import logger, markdown_table, publish_markdown
from tasks.context import RunContext
from tasks.snapshots import SnapshotRow
from tasks.state import QuarantineEntry

__all__ = ["Sent", "ValueReport", "open_quarantine", "record_answer", "snapshot", "value_hash"]


def value_hash(value: dict[str, Any]) -> str:
    """``content_hash`` of a value that is JSON already (str, int, bool, None, lists, dicts with str
    keys; no Decimal, no datetime, no dataclass), without its generic walk: the same digest, the one
    ``sent_value`` holds. The plans hash every article on every run, so this is their hot path."""
    return hashlib.sha256(_ENCODER.encode(value).encode()).hexdigest()


# What content_hash's json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False) builds.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def snapshot(ctx: RunContext, flow: str, entity: str, stage: str, rows: list[SnapshotRow]) -> None:
    """Parquet rows for auditors (never in a dry run)."""
    if not ctx.dry_run and rows:
        ctx.snapshots.write(run_id=ctx.run_id, flow=flow, entity=entity, stage=stage, rows=rows)


@dataclass(frozen=True, slots=True)
class Sent:
    """One value sent: its state key, the shop id it went to, and the value compared next time."""

    key: str
    shop_id: str
    value: dict[str, Any]


def record_answer(
    ctx: RunContext, *, flow: str, entity: str, sent: Sequence[Sent], result: BatchResult, record: str = "variant"
) -> tuple[int, list[RecordError]]:
    """Keep what the shop accepted (``sent_value`` rows of ``entity``), quarantine what it refused,
    snapshot its answer; ``record`` names the shop records (snapshot and quarantine entity)."""
    store = ctx.store
    assert store is not None
    failed = {e.key for e in result.errors}
    done = [s for s in sent if s.key not in failed]
    store.record_sent(
        ctx.connection,
        entity,
        [{"key": s.key, "shop_id": s.shop_id, "value": s.value, "content_hash": content_hash(s.value)} for s in done],
        run_id=ctx.run_id,
    )
    snapshot(
        ctx,
        flow,
        record,
        "answered",
        [SnapshotRow(k, None, v) for k, v in result.answers.items()]
        + [SnapshotRow(e.key, None, {"error": e.reason, "field": e.field}) for e in result.errors],
    )
    if result.errors:
        store.quarantine(ctx.connection, flow, record, [QuarantineEntry(e) for e in result.errors], run_id=ctx.run_id)
        for error in result.errors[:20]:
            logger().error("refused by the shop: %s", error)
    store.resolve_quarantine(ctx.connection, flow, record, [s.key for s in done])
    return len(done), list(result.errors)


def open_quarantine(ctx: RunContext, flow: str, limit: int = 100) -> list[dict[str, str]]:
    """The flow's open quarantine entries (refused by the gate or by the shop), newest first."""
    if ctx.store is None:
        return []
    return [
        {"key": q.record_key, "field": q.field, "reason": q.reason}
        for q in ctx.store.quarantined(connection=ctx.connection, flow=flow)
    ][:limit]


@dataclass
class ValueReport:
    """The summary artifact of a value sync (one stable key per flow and connection)."""

    key: str
    title: str
    noun: str
    nothing: str
    counts: list[tuple[str, int]]
    facts: list[str]
    snapshots: str = ""
    unknown: Sequence[str] = ()
    unknown_total: int = 0
    notices: Sequence[str] = ()
    table: tuple[list[str], list[tuple[Any, ...]]] | None = None
    quarantine: Sequence[dict[str, str]] = ()
    caveats: Sequence[dict[str, str]] = ()
    """Records written with something to know (key, field, reason), e.g. a price off by a cent."""
    extra: Sequence[str] = ()
    """More markdown lines (a dry run's per-field diff), after the table."""

    def publish(self, *, anything_done: bool, dry_run: bool) -> None:
        title = self.title + (" (dry run: nothing was written)" if dry_run else "")
        lines = [f"# {title}", "", markdown_table(["", self.noun], self.counts), ""]
        if not anything_done:
            lines.append(self.nothing)
        lines += self.facts
        for notice in self.notices:
            lines += ["", f"**Note:** {notice}"]
            logger().warning(notice)
        if self.snapshots:
            lines += ["", f"Snapshots: `{self.snapshots}`"]
        if self.unknown:
            lines += [
                "",
                "Not in the shop (publish the catalogue first; this flow never creates products): "
                + ", ".join(f"`{k}`" for k in self.unknown[:30])
                + (f" and {self.unknown_total - 30} more" if self.unknown_total > 30 else ""),
            ]
        if self.table and self.table[1]:
            lines += ["", markdown_table(self.table[0], self.table[1][:100])]
        lines += list(self.extra)
        if self.caveats:
            rows = [(c["key"], c["field"], c["reason"]) for c in self.caveats[:100]]
            lines += ["", f"## Written with a caveat ({len(self.caveats)})", ""]
            lines.append(markdown_table(["record", "field", "note"], rows))
        if self.quarantine:
            rows = [(q["key"], q["field"], q["reason"]) for q in self.quarantine]
            lines += ["", "## Quarantined", "", markdown_table(["record", "field", "reason"], rows)]
        publish_markdown(self.key, "\n".join(lines), title)
        logger().info("%s: %s", self.key, ", ".join(f"{label} {count}" for label, count in self.counts))
