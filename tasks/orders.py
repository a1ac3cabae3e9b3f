"""Order import tasks: shop orders -> ERP orders, exactly once (the rules they apply:
:mod:`tasks.order_rules`).

Exactly once. Before the ERP is written, the order's ``order_import`` row is ``claimed`` by the
run holding the lease; after, it is ``imported`` with the ERP's reference. A run cut off between
the two leaves a claim: the next attempt first asks the ERP for an order carrying the shop's id
(``OrderSink.find_orders``) and adopts it. Details: ``docs/orders.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Literal

from prefect import task

from connectors.base import ErpOrderRef, OrderSink, OrderSource
from connectors.errors import RecordError, Refused, Skip
from connectors.models import Order, content_hash, to_jsonable
from connectors.registry import require
from tasks.common import TASK_OPTIONS, logger
from tasks.context import RunContext
from tasks.leases import RunLease
from tasks.order_rules import (
    Decision,
    gate_orders,
    import_decision,
    import_hash,
    line_articles,
    order_checks,
    payment_key,
)
from tasks.snapshots import SnapshotRow
from tasks.state import OrderImport, OrderState, QuarantineEntry, utcnow
from tasks.values import snapshot
from tasks.windows import Window, plan_window

__all__ = [
    "ENTITY",
    "FLOW",
    "Decision",
    "Outcome",
    "Window",
    "gate_orders",
    "import_decision",
    "import_one",
    "line_articles",
    "order_checks",
    "payment_key",
    "plan_window",
    "read_orders",
    "record_payments",
]

FLOW = "import-orders"
ENTITY = "order"
CANCELLED_AFTER_IMPORT = "cancelled in the shop after it was imported"


# -- which orders, when -----------------------------------------------------------------------


# -- quality gate -----------------------------------------------------------------------------


# -- tasks ------------------------------------------------------------------------------------


def _snapshot(ctx: RunContext, entity: str, stage: str, rows: list[SnapshotRow]) -> None:
    snapshot(ctx, FLOW, entity, stage, rows)


@task(name="read-orders", **TASK_OPTIONS)
def read_orders(
    ctx: RunContext, window: Window | None, order_ids: Sequence[str], follow_ids: Sequence[str]
) -> list[Order]:
    """Orders of the window (oldest first), then those asked by id and those followed, each once
    (the newest read wins)."""
    source: OrderSource = require(ctx.shop, OrderSource, what="read orders")
    orders: dict[str, Order] = {}
    if window is not None:
        for order in source.iter_orders(window.since, window.until):
            orders[order.shop_id] = order
    extra = [i for i in dict.fromkeys([*order_ids, *follow_ids]) if i not in orders]
    if extra:
        for order in source.get_orders(extra):
            orders[order.shop_id] = order
    found = list(orders.values())
    _snapshot(ctx, ENTITY, "read", [SnapshotRow(o.shop_id, content_hash(o), to_jsonable(o)) for o in found])
    logger().info("read %d orders (%d by id)", len(found), len(extra))
    return found


@dataclass(slots=True)
class Outcome:
    """What became of one order in this run."""

    shop_id: str
    reference: str
    result: Literal["imported", "reconciled", "already", "quarantined", "failed"]
    erp: ErpOrderRef | None = None
    errors: list[RecordError] = field(default_factory=list)
    payments: list[str] = field(default_factory=list)
    """Payments recorded in the ERP in this run (ERP ids)."""
    notes: list[str] = field(default_factory=list)


def _ref(row: OrderImport) -> ErpOrderRef:
    return ErpOrderRef(
        erp_id=row.erp_id or "",
        reference=row.erp_reference or "",
        total_tax_included=Decimal(row.erp_total or "0"),
    )


def _still_followed(order: Order, recorded: Mapping[str, str]) -> bool:
    """Keep re-reading an imported order while money may still arrive or be left to record."""
    if order.cancelled:
        return False
    for payment in order.payments:
        if payment.state in ("authorized", "pending"):
            return True
        if payment.state == "settled" and payment_key(payment) not in recorded:
            return True
    return False


def _quarantine(ctx: RunContext, order: Order, errors: Sequence[RecordError]) -> None:
    store = ctx.store
    assert store is not None
    payload = {"reference": order.reference, "total_tax_included": str(order.total_tax_included)}
    store.quarantine(ctx.connection, FLOW, ENTITY, [QuarantineEntry(e, payload) for e in errors], run_id=ctx.run_id)
    store.save_order_import(
        ctx.connection,
        order.shop_id,
        reference=order.reference,
        state=OrderState.QUARANTINED,
        reason="; ".join(e.reason for e in errors)[:2000],
        follow=True,
        run_id=ctx.run_id,
        shop_changed_at=order.updated_at,
        shop_total=str(order.total_tax_included),
        currency=order.currency,
    )
    _snapshot(
        ctx,
        ENTITY,
        "rejected",
        [SnapshotRow(order.shop_id, None, {"field": e.field, "reason": e.reason}) for e in errors],
    )
    for error in errors:
        logger().warning("order %s quarantined: %s", order.reference, error)


def quarantine_orders(ctx: RunContext, orders: Iterable[Order], refused: Mapping[str, list[RecordError]]) -> None:
    """Quarantine the orders the gate refused (an order already imported is only reported)."""
    for order in orders:
        if order.shop_id in refused:
            _quarantine(ctx, order, refused[order.shop_id])


def set_waiting(ctx: RunContext, order: Order, decision: Decision) -> None:
    """Remember an order that is not importable yet, so later runs re-read it by id."""
    assert ctx.store is not None
    ctx.store.save_order_import(
        ctx.connection,
        order.shop_id,
        reference=order.reference,
        state=OrderState.WAITING if decision.action == "wait" else OrderState.SKIPPED,
        reason=decision.reason,
        follow=decision.action == "wait",
        run_id=ctx.run_id,
        shop_changed_at=order.updated_at,
        shop_total=str(order.total_tax_included),
        currency=order.currency,
    )


@task(name="import-order", **TASK_OPTIONS)
def import_one(ctx: RunContext, lease: RunLease, order: Order, products: dict[str, str]) -> Outcome:
    """Claim, reconcile, write the ERP order, complete the claim, then record settled payments.

    A ``Refused`` order is quarantined (re-read by later runs, imported once it passes).
    A ``Retryable`` error is retried by Prefect from the claim: the reconciliation makes it safe.
    Only the holder of the run's ``lease`` claims or records a payment: a run that lost it stops
    with ``LeaseLost`` before its next ERP write.
    """
    store = ctx.store
    assert store is not None
    sink: OrderSink = require(ctx.erp, OrderSink, what="receive orders")
    outcome = Outcome(order.shop_id, order.reference, "imported")
    row = store.order_imports(ctx.connection, [order.shop_id]).get(order.shop_id)
    erp: ErpOrderRef | None = None
    if row is not None and row.state == OrderState.IMPORTED:
        outcome.result = "already"
        erp = _ref(row)
    elif row is not None and row.state == OrderState.CLAIMED:
        # A run (or a try) was cut off after claiming: the ERP may have the order already.
        erp = sink.find_orders([order.shop_id]).get(order.shop_id)
        if erp is not None:
            outcome.result = "reconciled"
            logger().warning(
                "order %s was in the ERP already (%s) from a run cut off before it recorded it: adopted",
                order.reference,
                erp.reference,
            )
    if erp is None:
        claimed = store.claim_order(
            ctx.connection,
            order.shop_id,
            run_id=ctx.run_id,
            lease=lease.name,
            reference=order.reference,
            shop_changed_at=order.updated_at,
            shop_total=str(order.total_tax_included),
            currency=order.currency,
        )
        if not claimed:  # imported meanwhile by another run
            row = store.order_imports(ctx.connection, [order.shop_id])[order.shop_id]
            outcome.result, erp = "already", _ref(row)
    if erp is None:
        _snapshot(
            ctx,
            ENTITY,
            "sent",
            [SnapshotRow(order.shop_id, content_hash(order), {"products": products, **to_jsonable(order)})],
        )
        try:
            erp = sink.import_order(order, products)
        except Refused as refused:
            _quarantine(ctx, order, [refused.error])
            outcome.result = "quarantined"
            outcome.errors.append(refused.error)
            return outcome
    outcome.erp = erp
    outcome.notes += [str(issue) for issue in order.issues]
    if outcome.result != "already":
        store.save_order_import(
            ctx.connection,
            order.shop_id,
            reference=order.reference,
            state=OrderState.IMPORTED,
            reason=None,
            erp_id=erp.erp_id,
            erp_reference=erp.reference,
            erp_total=str(erp.total_tax_included),
            order_hash=import_hash(order),
            follow=True,
            run_id=ctx.run_id,
            imported_at=utcnow(),
            shop_changed_at=order.updated_at,
        )
        store.resolve_quarantine(ctx.connection, FLOW, ENTITY, [order.shop_id])
        _snapshot(ctx, ENTITY, "answered", [SnapshotRow(order.shop_id, None, to_jsonable(erp))])
        logger().info(
            "order %s -> ERP %s (%s %s)", order.reference, erp.reference, erp.total_tax_included, order.currency
        )
    record_payments(ctx, lease, sink, order, erp, outcome)
    return outcome


def record_payments(
    ctx: RunContext, lease: RunLease, sink: OrderSink, order: Order, erp: ErpOrderRef, outcome: Outcome
) -> None:
    """Record each settled payment not recorded yet (a deposit invoice in the ERP); a payment the
    ERP has nothing to record for (``Skip``) is remembered with the reason, said once. The lease
    is renewed before each one (``LeaseLost``: another run holds it, nothing recorded)."""
    store = ctx.store
    assert store is not None
    row = store.order_imports(ctx.connection, [order.shop_id]).get(order.shop_id)
    recorded = row.recorded_payments if row else {}
    changed = False
    for payment in order.payments:
        key = payment_key(payment)
        if payment.state != "settled" or key in recorded:
            continue
        lease.keep()
        try:
            recorded[key] = sink.record_payment(erp, payment)
            # Kept at once: a run stopped before the next payment (LeaseLost) never records this one twice.
            store.save_order_import(ctx.connection, order.shop_id, payments=recorded)
            outcome.payments.append(recorded[key])
            _snapshot(
                ctx,
                "payment",
                "answered",
                [
                    SnapshotRow(
                        f"{order.shop_id}:{key}", None, {"payment": to_jsonable(payment), "erp_id": recorded[key]}
                    )
                ],
            )
        except Skip as skip:
            recorded[key] = f"skipped: {skip}"
            outcome.notes.append(f"payment {key}: {skip}")
        except Refused as refused:  # left unrecorded: the order stays followed, tried again next run
            error = replace(refused.error, key=order.shop_id, field=f"payments[{key}]")
            outcome.errors.append(error)
            logger().warning("order %s: payment %s not recorded: %s", order.reference, key, error.reason)
            continue
        changed = True
    follow = _still_followed(order, recorded)
    previous_hash = row.order_hash if row else None
    current_hash = import_hash(order)
    if outcome.result == "already" and previous_hash and previous_hash != current_hash:
        outcome.notes.append(
            f"order {order.reference} changed in the shop after it was imported as {erp.reference}: "
            "the ERP order was not changed (amend it there)"
        )
    reason = row.reason if row else None
    if outcome.result == "already" and order.cancelled and reason != CANCELLED_AFTER_IMPORT:
        reason = CANCELLED_AFTER_IMPORT
        changed = True
        outcome.notes.append(
            f"order {order.reference} was cancelled in the shop after it was imported as {erp.reference}: "
            "cancel it in the ERP"
        )
    if changed or row is None or row.follow != follow or previous_hash != current_hash:
        store.save_order_import(
            ctx.connection,
            order.shop_id,
            payments=recorded,
            reason=reason,
            follow=follow,
            order_hash=current_hash,
            shop_changed_at=order.updated_at,
        )
