"""Price sync, ERP -> shop: hourly and incremental.

extract prices (base, promotions with dates, customer-group prices) -> quality gate -> the
price in force now (or the promotion with its dates, for shops that schedule them) -> diff
against the last values sent -> writes in batches -> snapshot -> summary artifact.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from prefect import flow

from connectors.models import ensure_utc
from tasks.alerts import check_alerts
from tasks.context import RunContext, open_context
from tasks.dry_run import changes_markdown
from tasks.leases import RunLease, flow_lease
from tasks.prices import FLOW, check_prices, diff_against_shop, extract_prices, plan_changes, send_prices
from tasks.values import ValueReport, open_quarantine

__all__ = ["PriceSummary", "sync_prices"]


@dataclass
class PriceSummary:
    connection: str
    run_id: str
    dry_run: bool
    at: str
    read: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    failed: int = 0
    unknown_to_shop: int = 0
    promotions_in_force: int = 0
    group_prices_left_out: int = 0
    next_change: str | None = None
    api_calls: int = 0
    snapshots: str = ""
    busy: str = ""
    notices: list[str] = field(default_factory=list)
    caveats: list[dict[str, str]] = field(default_factory=list)
    """Prices written with a caveat (a tax-included price the shop cannot show to the cent)."""
    would_update: list[dict[str, Any]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    quarantine: list[dict[str, str]] = field(default_factory=list)
    changes: list[dict[str, str]] = field(default_factory=list)
    """Dry run: per variant, the price the shop holds now -> the one to write (in the shop's basis)."""
    dry_run_notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@flow(name="sync-prices", log_prints=True)
def sync_prices(
    connection: str | None = None,
    config: str | None = None,
    full: bool = False,
    keys: list[str] | None = None,
    dry_run: bool = False,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Send the prices that changed since the last run, promotions included.

    Args:
        connection: name of the ERP/shop connection in the configuration (optional if only one).
        config: configuration file (default ``$PASSERELLE_CONFIG`` or ``passerelle.toml``).
        full: send every price again, whatever was sent before (drift repair).
        keys: only these articles (ERP keys or SKUs).
        dry_run: compute and show what would be sent; write nothing to the shop or the state store.
        at: the instant whose prices are wanted (default now, UTC); with ``dry_run`` it previews
            the prices of a coming promotion.
    """
    ctx = open_context(config, connection, dry_run=dry_run)
    try:
        moment = ensure_utc(at) if at is not None else datetime.now(timezone.utc)
        with flow_lease(ctx, FLOW) as lease:
            if lease.busy:
                busy = PriceSummary(ctx.connection, ctx.run_id, ctx.dry_run, at=moment.isoformat(), busy=lease.busy)
                _report(busy)
                return busy.as_dict()
            return _run(ctx, lease, now=moment, full=full, keys=keys).as_dict()
    finally:
        ctx.close()


def _run(ctx: RunContext, lease: RunLease, *, now: datetime, full: bool, keys: list[str] | None) -> PriceSummary:
    summary = PriceSummary(connection=ctx.connection, run_id=ctx.run_id, dry_run=ctx.dry_run, at=now.isoformat())
    records = extract_prices(ctx)
    passed = check_prices(ctx, records)
    plan = plan_changes(ctx, passed, now=now, full=full, keys=keys)
    summary.read = len(records)
    summary.unchanged = plan.unchanged
    summary.unknown = plan.unknown[:100]
    summary.unknown_to_shop = len(plan.unknown)
    summary.promotions_in_force = plan.promotions_in_force
    summary.group_prices_left_out = plan.group_prices_left_out
    summary.next_change = plan.next_change.isoformat() if plan.next_change else None
    if plan.group_prices_left_out:
        # Said once (and again when the number changes), not as a failure of every hourly run;
        # the count stays in every summary.
        told = ctx.store.get_cursor(ctx.connection, FLOW, "notice-group-prices") if ctx.store else None
        if told != str(plan.group_prices_left_out):
            shop = getattr(ctx.shop, "platform", "this shop")
            summary.notices.append(
                f"{shop} has no customer-group prices: {plan.group_prices_left_out} group prices of "
                f"{', '.join(ctx.settings.prices.groups)} are not sent (base prices and promotions are)."
            )
            if ctx.store is not None and not ctx.dry_run:
                ctx.store.set_cursor(ctx.connection, FLOW, "notice-group-prices", str(plan.group_prices_left_out))
    summary.quarantine = open_quarantine(ctx, FLOW)
    summary.quarantined = len({q["key"] for q in summary.quarantine})
    if ctx.dry_run:
        summary.would_update = [
            {"key": w.key, "price": str(w.price), "regular_price": str(w.regular_price), "currency": w.currency}
            for w in plan.writes
        ]
        changes, summary.dry_run_notes = diff_against_shop(ctx, plan.writes)
        summary.changes = [c.as_dict() for c in changes]
    else:
        size = ctx.settings.prices.batch_size
        for start in range(0, len(plan.writes), size):
            lease.keep()
            done, errors, caveats = send_prices(ctx, plan.writes[start : start + size])
            summary.updated += done
            summary.failed += len(errors)
            summary.caveats += [{"key": n.key, "field": n.field, "reason": n.reason} for n in caveats]
        if plan.writes:
            summary.snapshots = ctx.snapshots.location(FLOW, "variant")
    summary.api_calls = ctx.api_calls("shop")
    _report(summary)
    check_alerts(ctx)
    return summary


def _report(summary: PriceSummary) -> None:
    facts = [f"Prices at {summary.at}; {summary.read} articles read, {summary.api_calls} shop API calls."]
    if summary.next_change:
        facts.append(f"Next promotion start or end: {summary.next_change} (the first run after it moves the price).")
    ValueReport(
        key=f"prices-{summary.connection}",
        title=f"Price sync for `{summary.connection}`",
        noun="variant prices",
        nothing=summary.busy or "Nothing to send: every price is already in the shop.",
        counts=[
            ("would update" if summary.dry_run else "updated", len(summary.would_update) or summary.updated),
            ("unchanged", summary.unchanged),
            ("quarantined", summary.quarantined),
            ("failed", summary.failed),
            ("unknown to the shop", summary.unknown_to_shop),
            ("promotions in force", summary.promotions_in_force),
            ("group prices not supported by the shop", summary.group_prices_left_out),
        ],
        facts=facts,
        snapshots=summary.snapshots,
        unknown=summary.unknown,
        unknown_total=summary.unknown_to_shop,
        notices=[*summary.notices, *summary.dry_run_notes],
        table=(
            ["variant", "price", "regular price", "currency"],
            [(w["key"], w["price"], w["regular_price"], w["currency"]) for w in summary.would_update],
        ),
        quarantine=summary.quarantine,
        caveats=summary.caveats,
        extra=changes_markdown(summary.changes),
    ).publish(anything_done=bool(summary.updated or summary.would_update or summary.failed), dry_run=summary.dry_run)
