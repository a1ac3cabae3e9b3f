"""Status and tracking feedback, ERP -> shop: confirmed, shipped (carrier, tracking number),
delivered, cancelled, refunded, so the shop tells the customer.

read the ERP's order statuses changed since the cursor (minus an overlap) -> tracking URLs ->
quality gate -> compare with the last values sent (unchanged: no shop request) -> ask the shop
where the changed orders stand -> never backwards, never over a status set by hand -> write in
batches -> cursor -> summary artifact. See ``docs/feedback-and-invoices.md``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from prefect import flow

from tasks.alerts import check_alerts
from tasks.context import RunContext, open_context
from tasks.feedback import ENTITY, FLOW, gate_statuses, plan_feedback, read_statuses, record_in_shop, send_statuses
from tasks.leases import RunLease, flow_lease
from tasks.snapshots import SnapshotRow
from tasks.state import utcnow
from tasks.values import ValueReport, open_quarantine, snapshot
from tasks.windows import run_window

__all__ = ["FeedbackSummary", "feedback_status"]


@dataclass
class FeedbackSummary:
    connection: str
    run_id: str
    dry_run: bool
    since: str | None = None
    read: int = 0
    updated: int = 0
    unchanged: int = 0
    left_alone: int = 0
    quarantined: int = 0
    failed: int = 0
    cursor: str | None = None
    api_calls: int = 0
    snapshots: str = ""
    busy: str = ""
    writes: list[dict[str, Any]] = field(default_factory=list)
    left: list[dict[str, str]] = field(default_factory=list)
    by_hand: list[str] = field(default_factory=list)
    """What the merchant must settle by hand (refunds after a cancellation)."""
    quarantine: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@flow(name="feedback-status", log_prints=True)
def feedback_status(
    connection: str | None = None,
    config: str | None = None,
    since: datetime | None = None,
    order_ids: list[str] | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Send the ERP's order statuses and parcels that changed to the shop.

    Args:
        connection: name of the ERP/shop connection in the configuration (optional if only one).
        config: configuration file (default ``$PASSERELLE_CONFIG`` or ``passerelle.toml``).
        since: backfill: ERP changes from this time (aware; the cursor does not move).
        order_ids: only these shop orders (their shop ids), whatever their time.
        dry_run: read and decide; write nothing to the shop or the state store.
    """
    ctx = open_context(config, connection, dry_run=dry_run)
    try:
        with flow_lease(ctx, FLOW) as lease:
            if lease.busy:
                busy = FeedbackSummary(ctx.connection, ctx.run_id, ctx.dry_run, busy=lease.busy)
                _report(busy)
                return busy.as_dict()
            return _run(ctx, lease, since=since, order_ids=order_ids or []).as_dict()
    finally:
        ctx.close()


def _run(ctx: RunContext, lease: RunLease, *, since: datetime | None, order_ids: list[str]) -> FeedbackSummary:
    settings = ctx.settings.feedback
    summary = FeedbackSummary(connection=ctx.connection, run_id=ctx.run_id, dry_run=ctx.dry_run)
    store = ctx.store
    now = utcnow()
    window = run_window(store, ctx.connection, FLOW, ENTITY, now, settings, since=since, order_ids=order_ids)
    incremental = window is not None and window.incremental
    start = window.since if window is not None else None
    summary.since = start.isoformat() if start else None
    statuses = read_statuses(ctx, None if order_ids else start, order_ids)
    if incremental and store is not None:
        # Orders refused last time (gate or shop) are read again until they pass.
        seen = {s.shop_order_id for s in statuses}
        retry = sorted({q.record_key for q in store.quarantined(connection=ctx.connection, flow=FLOW)} - seen)
        if retry:
            statuses += read_statuses(ctx, None, retry)
    summary.read = len(statuses)
    passed, rejected = gate_statuses(statuses, settings)
    if not ctx.dry_run and store is not None:
        store.quarantine(ctx.connection, FLOW, "order", rejected, run_id=ctx.run_id)
        store.resolve_quarantine(ctx.connection, FLOW, "order", [s.shop_order_id for s in passed])
        snapshot(
            ctx,
            FLOW,
            ENTITY,
            "rejected",
            [SnapshotRow(e.error.key, None, {"field": e.error.field, "reason": e.error.reason}) for e in rejected],
        )
    plan = plan_feedback(ctx, passed)
    summary.unchanged = plan.unchanged
    summary.left_alone = len(plan.left)
    summary.left = [{"order": k, "status": s, "why": why} for k, s, why in plan.left[:100]]
    summary.writes = [
        {
            "order": w.shop_order_id,
            "erp": plan.statuses[w.shop_order_id].erp_reference,
            "status": w.status,
            "tracking": ", ".join(s.tracking_number or "-" for s in w.shipments),
            "notify": w.notify,
        }
        for w in plan.writes
    ]
    summary.unchanged += len(plan.in_shop)
    if not ctx.dry_run:
        record_in_shop(ctx, plan.in_shop)
        size = settings.batch_size
        for first in range(0, len(plan.writes), size):
            batch = plan.writes[first : first + size]
            lease.keep()
            done, errors, by_hand = send_statuses(
                ctx, batch, {w.shop_order_id: plan.statuses[w.shop_order_id] for w in batch}
            )
            summary.updated += done
            summary.failed += len(errors)
            summary.by_hand += by_hand
        if incremental and store is not None:
            store.set_cursor(ctx.connection, FLOW, ENTITY, now.isoformat())
            summary.cursor = now.isoformat()
        if plan.writes:
            summary.snapshots = ctx.snapshots.location(FLOW, ENTITY)
    summary.quarantine = (
        open_quarantine(ctx, FLOW)
        if not ctx.dry_run
        else [{"key": e.error.key, "field": e.error.field, "reason": e.error.reason} for e in rejected]
    )
    summary.quarantined = len({q["key"] for q in summary.quarantine})
    summary.api_calls = ctx.api_calls("shop")
    _report(summary)
    check_alerts(ctx)
    return summary


def _report(summary: FeedbackSummary) -> None:
    ValueReport(
        key=f"feedback-{summary.connection}",
        title=f"Status feedback for `{summary.connection}`",
        noun="orders",
        nothing=summary.busy or "Nothing to send: every shop order shows what the ERP says.",
        counts=[
            (
                "would update" if summary.dry_run else "updated",
                len(summary.writes) if summary.dry_run else summary.updated,
            ),
            ("unchanged", summary.unchanged),
            ("left alone", summary.left_alone),
            ("quarantined", summary.quarantined),
            ("failed", summary.failed),
        ],
        facts=[
            f"{summary.read} ERP statuses read (changes since {summary.since or 'the start'}), {summary.api_calls} shop API calls."
        ],
        snapshots=summary.snapshots,
        table=(
            ["order", "ERP", "status", "tracking", "notify"],
            [(w["order"], w["erp"], w["status"], w["tracking"], w["notify"]) for w in summary.writes],
        ),
        notices=summary.by_hand
        + [f"order {x['order']}: {x['status']} not sent: {x['why']}" for x in summary.left[:20]],
        quarantine=summary.quarantine,
    ).publish(anything_done=bool(summary.updated or summary.writes or summary.failed), dry_run=summary.dry_run)
