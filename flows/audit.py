"""The nightly upkeep of the audit snapshots, as a Prefect deployment (``snapshots-nightly``).

load the configuration -> compact every past day into one file sorted by key and indexed, merge
every month that is over into one file -> delete what is older than ``[snapshots]
retention_months`` -> summary artifact. The same work as ``passerelle audit compact``
(``tasks.snapshots.upkeep``); the layout and the retention rules: docs/snapshots.md.

It concerns the installation's snapshot store, not one connection: one deployment for every
connection. A failure (S3 unreachable, a file it cannot read) fails the run, so the "run failed"
alert reaches the operator; everything it left is picked up by the next run (compaction and
retention are safe to interrupt anywhere).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, task

from tasks.common import logger, markdown_table, publish_markdown
from tasks.settings import load_config
from tasks.snapshot_config import snapshot_store
from tasks.snapshots import upkeep

__all__ = ["compact_snapshots"]


@task(name="compact-and-retain", retries=2, retry_delay_seconds=[30, 120])
def _upkeep(config: str | None, before: date | None, retention: bool, dry_run: bool) -> dict[str, Any]:
    cfg = load_config(config)
    store = snapshot_store(cfg)
    done = upkeep(store, cfg.snapshots.retention_months, before=before, retention=retention, dry_run=dry_run)
    done["uri"] = store.uri
    return done


@flow(name="compact-snapshots", log_prints=True)
def compact_snapshots(
    config: str | None = None,
    before: date | None = None,
    retention: bool = True,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Compact the snapshots and apply their retention (see the module docstring).

    Args:
        config: the configuration file (default: ``PASSERELLE_CONFIG``).
        before: compact the days before this one (default: today, UTC).
        retention: also delete what is older than ``[snapshots] retention_months``.
        dry_run: compact nothing, delete nothing; report what retention would delete.
    """
    load_config(config)  # a missing or invalid file fails at once (Fatal, with its Resolution), not retried
    done: dict[str, Any] = _upkeep(config, before, retention, dry_run)
    log = logger()
    compacted = done["compacted"]
    if compacted is not None:
        log.info(
            "compacted %s days (%s files, %s rows), merged %s months under %s",
            compacted["days"],
            compacted["files"],
            compacted["rows"],
            compacted["months"],
            done["uri"],
        )
    if retention and not done["retention_configured"]:
        log.info("no retention configured ([snapshots] retention_months): everything is kept")
    verb = "would delete" if dry_run else "deleted"
    for r in done["retention"]:
        log.info("%s/%s: %s %s days and %s months before %s", r["flow"], r["entity"], verb, r["days"],
                 r["months"], r["first_kept"])  # fmt: skip
    lines = [f"# Snapshot upkeep{' (dry run)' if dry_run else ''}", "", f"Store: `{done['uri']}`", ""]
    if compacted is not None:
        lines += [markdown_table(["days compacted", "small files", "rows", "months merged"],
                                 [[compacted["days"], compacted["files"], compacted["rows"], compacted["months"]]]), ""]  # fmt: skip
    if done["retention"]:
        lines.append(
            markdown_table(
                ["flow", "entity", "first day kept", f"days {verb}", f"months {verb}"],
                [[r["flow"], r["entity"], r["first_kept"], r["days"], r["months"]] for r in done["retention"]],
            )
        )
    elif retention:
        lines.append("No retention configured: everything is kept.")
    publish_markdown("snapshot-upkeep", "\n".join(lines), "Snapshot compaction and retention")
    return done
