"""Stock sync, ERP -> shop: frequent and incremental.

extract levels of the mapped warehouses -> rules (sum per shop location, minus reserved, minus
safety stock, never negative) -> quality gate -> diff against the last values sent (or against
the shop itself with ``full``) -> absolute writes in batches -> snapshot -> summary artifact.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from prefect import flow

from tasks.alerts import check_alerts
from tasks.context import RunContext, open_context
from tasks.dry_run import changes_markdown
from tasks.leases import RunLease, flow_lease
from tasks.stock import FLOW, check_stock, diff_against_shop, extract_stock, plan_changes, send_stock
from tasks.values import ValueReport, open_quarantine

__all__ = ["StockSummary", "sync_stock"]


@dataclass
class StockSummary:
    connection: str
    run_id: str
    dry_run: bool
    full: bool
    levels_read: int = 0
    articles: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    failed: int = 0
    drift: int = 0
    unknown_to_shop: int = 0
    api_calls: int = 0
    snapshots: str = ""
    busy: str = ""
    would_update: list[dict[str, Any]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    quarantine: list[dict[str, str]] = field(default_factory=list)
    changes: list[dict[str, str]] = field(default_factory=list)
    """Dry run: per variant and location, the quantity the shop sells now -> the one to write."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@flow(name="sync-stock", log_prints=True)
def sync_stock(
    connection: str | None = None,
    config: str | None = None,
    full: bool = False,
    keys: list[str] | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Send the saleable quantities that changed since the last run.

    Args:
        connection: name of the ERP/shop connection in the configuration (optional if only one).
        config: configuration file (default ``$PASSERELLE_CONFIG`` or ``passerelle.toml``).
        full: compare with what the shop holds now instead of the last values sent, so stock
            changed by hand in the shop is put back (drift repair).
        keys: only these articles (ERP keys or SKUs).
        dry_run: compute and show what would be sent; write nothing to the shop or the state store.
    """
    ctx = open_context(config, connection, dry_run=dry_run)
    try:
        # One lease for the frequent run and the nightly reconcile: they write the same quantities.
        with flow_lease(ctx, FLOW) as lease:
            if lease.busy:
                busy = StockSummary(ctx.connection, ctx.run_id, ctx.dry_run, full=full, busy=lease.busy)
                _report(busy)
                return busy.as_dict()
            return _run(ctx, lease, full=full, keys=keys).as_dict()
    finally:
        ctx.close()


def _run(ctx: RunContext, lease: RunLease, *, full: bool, keys: list[str] | None) -> StockSummary:
    summary = StockSummary(connection=ctx.connection, run_id=ctx.run_id, dry_run=ctx.dry_run, full=full)
    feeds = ctx.settings.stock.resolved_feeds()
    warehouses = sorted({w for feed in feeds for w in feed.warehouses})
    levels = extract_stock(ctx, warehouses)
    targets = check_stock(ctx, levels, feeds)
    plan = plan_changes(ctx, targets, full=full, keys=keys)
    summary.levels_read = len(levels)
    summary.articles = len({lv.key for lv in levels})
    summary.unchanged = plan.unchanged
    summary.drift = plan.drift
    summary.unknown = plan.unknown[:100]
    summary.unknown_to_shop = len(plan.unknown)
    summary.quarantine = open_quarantine(ctx, FLOW)
    summary.quarantined = len({q["key"] for q in summary.quarantine})
    if ctx.dry_run:
        summary.would_update = [
            {"key": w.key, "sku": plan.targets[w.key].sku, "quantity": w.quantity} for w in plan.writes
        ]
        summary.changes = [c.as_dict() for c in diff_against_shop(ctx, plan)]
    else:
        size = ctx.settings.stock.batch_size
        for start in range(0, len(plan.writes), size):
            batch = plan.writes[start : start + size]
            lease.keep()
            done, errors = send_stock(ctx, batch, {w.key: plan.targets[w.key] for w in batch})
            summary.updated += done
            summary.failed += len(errors)
        if plan.writes:
            summary.snapshots = ctx.snapshots.location(FLOW, "variant")
    summary.api_calls = ctx.api_calls("shop")
    _report(summary)
    check_alerts(ctx)
    return summary


def _report(summary: StockSummary) -> None:
    counts = [
        ("would update" if summary.dry_run else "updated", len(summary.would_update) or summary.updated),
        ("unchanged", summary.unchanged),
        ("quarantined", summary.quarantined),
        ("failed", summary.failed),
        ("unknown to the shop", summary.unknown_to_shop),
    ]
    if summary.full:
        counts.append(("drift found" if summary.dry_run else "drift repaired", summary.drift))
    ValueReport(
        key=f"stock-{summary.connection}",
        title=f"Stock sync for `{summary.connection}`",
        noun="variant stock levels",
        nothing=summary.busy or "Nothing to send: every saleable quantity is already in the shop.",
        counts=counts,
        facts=[
            f"{summary.levels_read} ERP levels read for {summary.articles} articles, "
            f"{summary.api_calls} shop API calls."
        ],
        snapshots=summary.snapshots,
        unknown=summary.unknown,
        unknown_total=summary.unknown_to_shop,
        table=(["variant", "SKU", "quantity"], [(w["key"], w["sku"], w["quantity"]) for w in summary.would_update]),
        quarantine=summary.quarantine,
        extra=changes_markdown(summary.changes),
    ).publish(anything_done=bool(summary.updated or summary.would_update or summary.failed), dry_run=summary.dry_run)
