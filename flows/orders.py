"""Order import, shop -> ERP: every web order once and only once.

read the window (from the cursor, minus an overlap) + the orders followed by id -> import rules
(paid / authorised / always / never per payment method) -> quality gate -> catalogue bindings ->
per batch of ``orders.batch_size`` (one Prefect task): claim, reconcile, ERP write (the ERP's
batch method when it has one), complete, deposits for settled payments -> cursor -> summary
artifact. See ``docs/orders.md``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from prefect import flow
from prefect.utilities.annotations import quote

from connectors.errors import Fatal, PasserelleError
from connectors.models import Order, ensure_utc
from tasks.alerts import check_alerts
from tasks.common import logger
from tasks.context import RunContext, open_context
from tasks.dry_run import changes_markdown, order_changes
from tasks.leases import LeaseLost, RunLease, flow_lease
from tasks.orders import (
    ENTITY,
    FLOW,
    Outcome,
    Window,
    gate_orders,
    import_batch,
    import_decision,
    import_orders_batch,
    line_articles,
    plan_window,
    quarantine_orders,
    read_orders,
    set_waiting,
)
from tasks.state import OrderState, utcnow
from tasks.values import ValueReport, open_quarantine
from tasks.windows import stored_cursor

__all__ = ["OrderSummary", "import_orders"]


@dataclass
class OrderSummary:
    connection: str
    run_id: str
    dry_run: bool
    since: str | None = None
    until: str | None = None
    read: int = 0
    imported: int = 0
    reconciled: int = 0
    already_imported: int = 0
    waiting: int = 0
    skipped: int = 0
    quarantined: int = 0
    failed: int = 0
    payments_recorded: int = 0
    cursor: str | None = None
    api_calls_shop: int = 0
    api_calls_erp: int = 0
    snapshots: str = ""
    busy: str = ""
    orders: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    quarantine: list[dict[str, str]] = field(default_factory=list)
    changes: list[dict[str, str]] = field(default_factory=list)
    """Dry run: per order, what the ERP would receive (``tasks.dry_run.order_changes``)."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class OrdersFailed(PasserelleError):
    """Some orders could not be imported for a transient reason (after retries): the next run
    takes them again (their claims and the cursor say so)."""


@flow(name="import-orders", log_prints=True)
def import_orders(
    connection: str | None = None,
    config: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    order_ids: list[str] | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Import the web orders placed or changed since the last run into the ERP, exactly once.

    Args:
        connection: name of the ERP/shop connection in the configuration (optional if only one).
        config: configuration file (default ``$PASSERELLE_CONFIG`` or ``passerelle.toml``).
        since: backfill from this time (aware; the cursor does not move).
        until: backfill up to this time, excluded (default: now).
        order_ids: only these shop orders (their shop ids), whatever their time.
        dry_run: read and decide, show what would be imported; write nothing anywhere.
    """
    ctx = open_context(config, connection, dry_run=dry_run)
    try:
        with flow_lease(ctx, FLOW) as lease:
            return _run(ctx, lease, since=since, until=until, order_ids=order_ids or []).as_dict()
    finally:
        ctx.close()


def _run(
    ctx: RunContext, lease: RunLease, *, since: datetime | None, until: datetime | None, order_ids: list[str]
) -> OrderSummary:
    summary = OrderSummary(connection=ctx.connection, run_id=ctx.run_id, dry_run=ctx.dry_run, busy=lease.busy)
    if lease.busy:
        _report(summary)
        return summary
    _import(ctx, lease, summary, since=since, until=until, order_ids=order_ids)
    _report(summary)
    check_alerts(ctx)
    if summary.failed:
        raise OrdersFailed(
            f"{summary.failed} orders could not be imported (see the summary artifact); the next run takes them again"
        )
    return summary


def _import(
    ctx: RunContext,
    lease: RunLease,
    summary: OrderSummary,
    *,
    since: datetime | None,
    until: datetime | None,
    order_ids: list[str],
) -> None:
    settings = ctx.settings.orders
    store = ctx.store
    now = utcnow()
    window: Window | None = None
    if not order_ids:
        cursor = stored_cursor(store, ctx.connection, FLOW, ENTITY)
        window = plan_window(cursor, now, settings, since=since, until=until)
        summary.since = window.since.isoformat() if window.since else None
        summary.until = window.until.isoformat() if window.until else None
    follow: list[str] = []
    if store is not None and not order_ids:
        followed = store.followed_orders(ctx.connection, changed_after=now - timedelta(days=settings.follow_days))
        discarded = {
            q.record_key
            for q in store.quarantined(connection=ctx.connection, flow=FLOW, entity=ENTITY, status="discarded")
        }
        follow = [r.shop_order_id for r in followed if r.shop_order_id not in discarded]
    orders = read_orders(ctx, window, order_ids, follow)
    summary.read = len(orders)
    passed, refused = gate_orders(orders)
    known = store.order_imports(ctx.connection, [o.shop_id for o in orders]) if store else {}
    # An order imported already is never quarantined for what the gate says now.
    refused = {k: v for k, v in refused.items() if not (k in known and known[k].state == OrderState.IMPORTED)}
    gated = {o.shop_id for o in passed}
    passed += [o for o in orders if o.shop_id not in gated and o.shop_id not in refused]
    variant_ids = sorted({line.variant_id for o in passed for line in o.lines if line.variant_id})
    variant_keys = (
        {shop_id: b.erp_key for shop_id, b in store.bindings_by_shop_id(ctx.connection, "variant", variant_ids).items()}
        if store
        else {}
    )
    todo: list[Order] = []
    for order in passed:
        row = known.get(order.shop_id)
        if row is not None and row.state == OrderState.IMPORTED:
            todo.append(order)  # payments and changes after the import
            continue
        decision = import_decision(order, settings)
        if decision.action == "import":
            todo.append(order)
            continue
        if decision.action == "wait":
            summary.waiting += 1
        else:
            summary.skipped += 1
        summary.orders.append(
            _line(order, "waiting" if decision.action == "wait" else "not to import", decision.reason)
        )
        if not ctx.dry_run and store is not None and (row is None or row.state != OrderState.SKIPPED):
            set_waiting(ctx, order, decision)
    if ctx.dry_run:
        summary.quarantined = len(refused)
        summary.quarantine = [
            {"key": k, "field": e.field, "reason": e.reason} for k, errors in refused.items() for e in errors
        ]
        for order in todo:
            row = known.get(order.shop_id)
            if row is not None and row.state == OrderState.IMPORTED:
                summary.already_imported += 1
                continue
            products = line_articles(order, variant_keys)
            unbound = [line.sku or line.line_id for line in order.lines if line.line_id not in products]
            note = (
                f"unbound SKU {', '.join(map(str, unbound))}: refused unless the ERP has a placeholder"
                if unbound
                else ""
            )
            summary.orders.append(_line(order, "would import", note or import_decision(order, settings).reason))
            summary.changes += [c.as_dict() for c in order_changes(order, products)]
        summary.api_calls_shop = ctx.api_calls("shop")
        summary.api_calls_erp = ctx.api_calls("erp")
        return
    assert store is not None
    quarantine_orders(ctx, orders, refused)
    summary.quarantined += len(refused)
    failed_at: datetime | None = None
    cursor_to = window.until if window is not None and window.incremental else None
    size = settings.batch_size
    for start in range(0, len(todo), size):
        lease.keep()  # renewed per batch; a run that lost it stops here
        batch = todo[start : start + size]
        try:
            # quote(): Prefect passes the values through without walking them (see import_batch).
            outcomes = import_batch(quote(ctx), quote(lease), quote(batch), quote(variant_keys))  # type: ignore[call-overload]
        except (Fatal, LeaseLost):
            raise  # configuration: every order would fail the same way; or another run goes on
        except Exception as exc:  # noqa: BLE001 - the batch failed after its retries: each order alone
            logger().warning("batch of %d orders failed (%s): importing them one by one", len(batch), exc)
            outcomes = [_alone(ctx, lease, order, variant_keys) for order in batch]
        for order, outcome in zip(batch, outcomes, strict=True):
            if outcome.result == "failed":
                failed_at = min(failed_at or order.updated_at, order.updated_at)
            _count(summary, order, outcome)
    if cursor_to is not None:
        # Committed up to the window's end, or up to the first order that failed (half-open: it
        # is read again). Never backwards.
        target = min(cursor_to, ensure_utc(failed_at)) if failed_at else cursor_to
        previous = store.get_cursor(ctx.connection, FLOW, ENTITY)
        if previous is None or datetime.fromisoformat(previous) < target:
            store.set_cursor(ctx.connection, FLOW, ENTITY, target.isoformat())
        summary.cursor = target.isoformat()
    summary.quarantine = open_quarantine(ctx, FLOW)
    summary.api_calls_shop = ctx.api_calls("shop")
    summary.api_calls_erp = ctx.api_calls("erp")
    if summary.imported or summary.reconciled or summary.payments_recorded:
        summary.snapshots = ctx.snapshots.location(FLOW, ENTITY)


def _alone(ctx: RunContext, lease: RunLease, order: Order, variant_keys: dict[str, str]) -> Outcome:
    """One order of a batch that failed, on its own: what fails now is this order's alone."""
    try:
        (outcome,) = import_orders_batch(ctx, lease, [order], variant_keys)
    except (Fatal, LeaseLost):
        raise
    except Exception as exc:  # noqa: BLE001 - one order's failure never stops the others
        logger().error("order %s not imported: %s", order.reference, exc)
        return Outcome(order.shop_id, order.reference, "failed", notes=[f"{type(exc).__name__}: {exc}"])
    return outcome


def _line(order: Order, status: str, detail: str, erp: str = "") -> dict[str, Any]:
    return {
        "order": order.reference,
        "shop_id": order.shop_id,
        "status": status,
        "erp": erp,
        "total": f"{order.total_tax_included} {order.currency}",
        "detail": detail,
    }


def _count(summary: OrderSummary, order: Order, outcome: Outcome) -> None:
    erp = outcome.erp.reference if outcome.erp else ""
    summary.payments_recorded += len(outcome.payments)
    summary.notes += outcome.notes
    if outcome.result == "imported":
        summary.imported += 1
    elif outcome.result == "reconciled":
        summary.reconciled += 1
    elif outcome.result == "already":
        summary.already_imported += 1
        if not outcome.payments and not outcome.notes and not outcome.errors:
            return
    elif outcome.result == "quarantined":
        summary.quarantined += 1
    else:
        summary.failed += 1
    detail = "; ".join([*(e.reason for e in outcome.errors), *outcome.notes])
    if outcome.payments:
        detail = f"payment recorded as {', '.join(outcome.payments)}" + (f"; {detail}" if detail else "")
    summary.orders.append(_line(order, outcome.result, detail, erp))


def _report(summary: OrderSummary) -> None:
    counts = [
        ("imported", summary.imported),
        ("adopted after a cut-off run", summary.reconciled),
        ("already imported", summary.already_imported),
        ("waiting for payment", summary.waiting),
        ("not to import", summary.skipped),
        ("quarantined", summary.quarantined),
        ("failed (next run)", summary.failed),
        ("payments recorded", summary.payments_recorded),
    ]
    window = f"window [{summary.since or 'start'}, {summary.until or 'now'})" if summary.until else "orders by id"
    facts = [
        f"{summary.read} orders read ({window}); {summary.api_calls_shop} shop and {summary.api_calls_erp} ERP API calls."
    ]
    if summary.cursor:
        facts.append(f"Next run reads from {summary.cursor} minus the overlap.")
    ValueReport(
        key=f"orders-{summary.connection}",
        title=f"Order import for `{summary.connection}`",
        noun="orders",
        nothing=summary.busy or "No order to import.",
        counts=counts,
        facts=facts,
        snapshots=summary.snapshots,
        notices=list(dict.fromkeys(summary.notes))[:50],
        table=(
            ["order", "status", "ERP", "total", "detail"],
            [(o["order"], o["status"], o["erp"], o["total"], o["detail"]) for o in summary.orders],
        ),
        quarantine=summary.quarantine,
        extra=changes_markdown(summary.changes),
    ).publish(
        anything_done=bool(summary.imported or summary.reconciled or summary.payments_recorded or summary.orders),
        dry_run=summary.dry_run,
    )
