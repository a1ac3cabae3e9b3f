"""Order import tasks: shop orders -> ERP orders, exactly once (the rules they apply:
:mod:`tasks.order_rules`).

Exactly once. Before the ERP is written, the order's ``order_import`` row is ``claimed`` by the
run holding the lease; after, it is ``imported`` with the ERP's reference. A run cut off between
the two leaves a claim: the next attempt first asks the ERP for an order carrying the shop's id
(``OrderSink.find_orders``) and adopts it. Details: ``docs/orders.md``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal, Protocol, runtime_checkable

from prefect import task

from connectors.base import ErpOrderRef, OrderSink, OrderSource
from connectors.errors import Fatal, RecordError, Refused, Retryable, Skip
from connectors.models import Order, Payment, content_hash, to_jsonable
from connectors.registry import require
from tasks.common import TASK_OPTIONS, logger
from tasks.context import RunContext
from tasks.leases import LeaseLost, RunLease
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
    "import_batch",
    "import_decision",
    "import_orders_batch",
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


@runtime_checkable
class _Batch(Protocol):
    def import_orders(self, items: Sequence[tuple[Order, Mapping[str, str]]]) -> list[ErpOrderRef | RecordError]: ...


@runtime_checkable
class _PaymentBatch(Protocol):
    def prepare_payments(self, items: Sequence[tuple[ErpOrderRef, Payment]]) -> int: ...


PAYMENT_RETRY_DELAYS = (1.0, 4.0, 10.0)
"""Seconds before each new try of a payment the ERP is not ready for (``Retryable``) in the same
run; after the last one it is left to the next run (the order stays followed)."""


@task(name="import-orders", **TASK_OPTIONS)
def import_batch(ctx: RunContext, lease: RunLease, orders: list[Order], variant_keys: dict[str, str]) -> list[Outcome]:
    """One Prefect task per batch of orders (:func:`import_orders_batch`); a ``Retryable`` error
    is retried by Prefect from the claims: the reconciliation makes it safe. Call it with its
    arguments wrapped in ``prefect.utilities.annotations.quote``: Prefect then does not walk
    every order's fields looking for futures (a third of the engine's time per order)."""
    return import_orders_batch(ctx, lease, orders, variant_keys)


def import_orders_batch(
    ctx: RunContext, lease: RunLease, orders: Sequence[Order], variant_keys: Mapping[str, str]
) -> list[Outcome]:
    """Claim, reconcile, write the ERP orders, complete the claims, then record settled payments,
    for a batch of orders with one state transaction per step and the ERP's batch method when it
    has one (``import_orders``: fewer calls than one ``import_order`` per order).

    A refused order is quarantined (re-read by later runs, imported once it passes); an order
    whose write failed otherwise is ``failed`` (its claim stays: the next run reconciles it).
    Only the holder of the run's ``lease`` claims or records a payment: a run that lost it stops
    with ``LeaseLost`` before its next ERP write.

    Raises:
        Retryable: the ERP could not be reached for the batch (Prefect tries it again).
        Fatal, LeaseLost: nothing more can be imported in this run.
    """
    store = ctx.store
    assert store is not None
    sink: OrderSink = require(ctx.erp, OrderSink, what="receive orders")
    outcomes = {o.shop_id: Outcome(o.shop_id, o.reference, "imported") for o in orders}
    rows = store.order_imports(ctx.connection, outcomes)
    erp: dict[str, ErpOrderRef] = {}
    for order in orders:
        row = rows.get(order.shop_id)
        if row is not None and row.state == OrderState.IMPORTED:
            outcomes[order.shop_id].result = "already"
            erp[order.shop_id] = _ref(row)
    cut_off = [o for o in orders if (r := rows.get(o.shop_id)) is not None and r.state == OrderState.CLAIMED]
    if cut_off:
        # Runs (or tries) cut off after claiming: the ERP may have these orders already.
        found = sink.find_orders([o.shop_id for o in cut_off])
        for order in cut_off:
            if order.shop_id in found:
                erp[order.shop_id] = found[order.shop_id]
                outcomes[order.shop_id].result = "reconciled"
                logger().warning(
                    "order %s was in the ERP already (%s) from a run cut off before it recorded it: adopted",
                    order.reference,
                    found[order.shop_id].reference,
                )
    to_claim = [o for o in orders if o.shop_id not in erp]
    # What this run is about to send (an order another run imports meanwhile is then "already").
    products = {o.shop_id: line_articles(o, variant_keys) for o in to_claim}
    _snapshot(
        ctx,
        ENTITY,
        "sent",
        [
            SnapshotRow(o.shop_id, content_hash(o), {"products": products[o.shop_id], **to_jsonable(o)})
            for o in to_claim
        ],
    )

    def claim(batch: Sequence[Order]) -> list[Order]:
        """Claim these orders (one transaction, under the lease); those another run imported
        meanwhile are "already"."""
        claimed = store.claim_orders(
            ctx.connection,
            [
                {
                    "shop_order_id": o.shop_id,
                    "reference": o.reference,
                    "shop_changed_at": o.updated_at,
                    "shop_total": str(o.total_tax_included),
                    "currency": o.currency,
                }
                for o in batch
            ],
            run_id=ctx.run_id,
            lease=lease.name,
        )
        lost = [o.shop_id for o in batch if o.shop_id not in claimed]
        if lost:
            rows.update(store.order_imports(ctx.connection, lost))
            for shop_id in lost:
                outcomes[shop_id].result, erp[shop_id] = "already", _ref(rows[shop_id])
        return [o for o in batch if o.shop_id in claimed]

    answers: list[tuple[Order, ErpOrderRef | RecordError | Exception]] = []
    stopped: BaseException | None = None
    if isinstance(sink, _Batch):
        # One claim and one ERP call for the batch: the lease covers the batch's write.
        items = [(o, products[o.shop_id]) for o in claim(to_claim)]
        if items:
            answers = list(zip([o for o, _ in items], sink.import_orders(items), strict=True))
    else:
        # One by one, each order claimed just before its write: a run that lost its lease (or
        # whose ERP went away) stops before its next write, and keeps what was written.
        for order in to_claim:
            try:
                if not claim([order]):
                    continue
                answers.append((order, _write_one(sink, order, products[order.shop_id])))
            except (Retryable, Fatal, LeaseLost) as exc:
                stopped = exc
                break
    refused: list[tuple[Order, list[RecordError]]] = []
    for order, answer in answers:
        outcome = outcomes[order.shop_id]
        if isinstance(answer, ErpOrderRef):
            erp[order.shop_id] = answer
        elif isinstance(answer, RecordError):
            outcome.result = "quarantined"
            outcome.errors.append(answer)
            refused.append((order, [answer]))
        else:
            outcome.result = "failed"
            outcome.notes.append(f"{type(answer).__name__}: {answer}")
            logger().error("order %s not imported: %s", order.reference, answer)
    _quarantine_many(ctx, refused)
    done = [o for o in orders if o.shop_id in erp and outcomes[o.shop_id].result != "already"]
    now = utcnow()
    store.save_order_imports(
        ctx.connection,
        [
            {
                "shop_order_id": o.shop_id,
                "reference": o.reference,
                "state": OrderState.IMPORTED,
                "reason": None,
                "erp_id": erp[o.shop_id].erp_id,
                "erp_reference": erp[o.shop_id].reference,
                "erp_total": str(erp[o.shop_id].total_tax_included),
                "order_hash": import_hash(o),
                "follow": True,
                "run_id": ctx.run_id,
                "imported_at": now,
                "shop_changed_at": o.updated_at,
            }
            for o in done
        ],
    )
    if done:
        store.resolve_quarantine(ctx.connection, FLOW, ENTITY, [o.shop_id for o in done])
        _snapshot(ctx, ENTITY, "answered", [SnapshotRow(o.shop_id, None, to_jsonable(erp[o.shop_id])) for o in done])
        logger().info(
            "%d orders -> ERP: %s",
            len(done),
            ", ".join(
                f"{o.reference} -> {erp[o.shop_id].reference} ({erp[o.shop_id].total_tax_included} {o.currency})"
                for o in done
            ),
        )
    if stopped is not None:
        raise stopped  # what the ERP took is recorded above; the rest waits for the next run or try
    for order in orders:
        if order.shop_id in erp:
            outcomes[order.shop_id].erp = erp[order.shop_id]
            outcomes[order.shop_id].notes += [str(issue) for issue in order.issues]
    record_payments(ctx, lease, sink, [o for o in orders if o.shop_id in erp], erp, outcomes)
    return [outcomes[o.shop_id] for o in orders]


def _write_one(sink: OrderSink, order: Order, products: Mapping[str, str]) -> ErpOrderRef | RecordError | Exception:
    """The ERP's answer to one order: its ERP order, why it refused it, or what failed (an
    order's own failure, neither ``Retryable`` nor ``Fatal``, which stop the batch)."""
    try:
        return sink.import_order(order, products)
    except Refused as refused:
        return refused.error
    except (Retryable, Fatal, LeaseLost):
        raise
    except Exception as exc:  # noqa: BLE001 - one order's failure never stops the others
        return exc


def _quarantine_many(ctx: RunContext, refused: Sequence[tuple[Order, Sequence[RecordError]]]) -> None:
    """Quarantine these orders and keep their import rows (``quarantined``, followed): one
    transaction each for the quarantine and the rows, one snapshot file."""
    if not refused:
        return
    store = ctx.store
    assert store is not None
    entries = [
        QuarantineEntry(e, {"reference": o.reference, "total_tax_included": str(o.total_tax_included)})
        for o, errors in refused
        for e in errors
    ]
    store.quarantine(ctx.connection, FLOW, ENTITY, entries, run_id=ctx.run_id)
    store.save_order_imports(
        ctx.connection,
        [
            {
                "shop_order_id": o.shop_id,
                "reference": o.reference,
                "state": OrderState.QUARANTINED,
                "reason": "; ".join(e.reason for e in errors)[:2000],
                "follow": True,
                "run_id": ctx.run_id,
                "shop_changed_at": o.updated_at,
                "shop_total": str(o.total_tax_included),
                "currency": o.currency,
            }
            for o, errors in refused
        ],
    )
    _snapshot(
        ctx,
        ENTITY,
        "rejected",
        [SnapshotRow(o.shop_id, None, {"field": e.field, "reason": e.reason}) for o, errors in refused for e in errors],
    )
    for order, errors in refused:
        for error in errors:
            logger().warning("order %s quarantined: %s", order.reference, error)


def record_payments(
    ctx: RunContext,
    lease: RunLease,
    sink: OrderSink,
    orders: Sequence[Order],
    erp: Mapping[str, ErpOrderRef],
    outcomes: Mapping[str, Outcome],
) -> None:
    """Record each settled payment not recorded yet (a deposit invoice in the ERP); a payment the
    ERP has nothing to record for (``Skip``) is remembered with the reason, said once; one the
    ERP is not ready for (``Retryable``) is tried again after ``PAYMENT_RETRY_DELAYS``, then left
    to the next run. The lease is renewed before each one (``LeaseLost``: another run holds it).
    What was recorded is kept in one transaction at the end, and kept too when the batch stops
    half-way (``record_payment`` is idempotent: a payment recorded but not kept is found again).
    """
    store = ctx.store
    assert store is not None
    rows = store.order_imports(ctx.connection, [o.shop_id for o in orders])
    recorded = {o.shop_id: dict(rows[o.shop_id].recorded_payments) if o.shop_id in rows else {} for o in orders}
    updates: dict[str, dict[str, Any]] = {}
    snapshots: list[SnapshotRow] = []
    pending = [(o, p) for o in orders for p in o.payments if p.state == "settled"]
    pending = [(o, p) for o, p in pending if payment_key(p) not in recorded[o.shop_id]]
    if pending and isinstance(sink, _PaymentBatch):
        lease.keep()
        try:
            sink.prepare_payments([(erp[o.shop_id], p) for o, p in pending])
        except (Fatal, LeaseLost):
            raise
        except Exception as exc:  # noqa: BLE001 - each payment is then recorded (or refused) on its own
            logger().warning("payments of %d orders recorded one by one: %s", len(pending), exc)
    try:
        for delay in (0.0, *PAYMENT_RETRY_DELAYS):
            if not pending:
                break
            if delay:
                time.sleep(delay)
            later: list[tuple[Order, Payment]] = []
            for order, payment in pending:
                key = payment_key(payment)
                outcome = outcomes[order.shop_id]
                lease.keep()
                try:
                    recorded[order.shop_id][key] = sink.record_payment(erp[order.shop_id], payment)
                except Retryable:
                    later.append((order, payment))
                    continue
                except Skip as skip:
                    recorded[order.shop_id][key] = f"skipped: {skip}"
                    outcome.notes.append(f"payment {key}: {skip}")
                except Refused as refused:  # left unrecorded: the order stays followed, tried again next run
                    error = replace(refused.error, key=order.shop_id, field=f"payments[{key}]")
                    outcome.errors.append(error)
                    logger().warning("order %s: payment %s not recorded: %s", order.reference, key, error.reason)
                    continue
                else:
                    outcome.payments.append(recorded[order.shop_id][key])
                    snapshots.append(
                        SnapshotRow(
                            f"{order.shop_id}:{key}",
                            None,
                            {"payment": to_jsonable(payment), "erp_id": recorded[order.shop_id][key]},
                        )
                    )
                updates[order.shop_id] = {"payments": recorded[order.shop_id]}
            pending = later
        for order, payment in pending:
            note = f"payment {payment_key(payment)}: the ERP is not ready to record it yet; the next run tries again"
            outcomes[order.shop_id].notes.append(note)
    finally:
        if updates:
            store.save_order_imports(ctx.connection, [{"shop_order_id": k, **v} for k, v in updates.items()])
            updates.clear()
        _snapshot(ctx, "payment", "answered", snapshots)
    for order in orders:
        _follow_up(
            order,
            rows.get(order.shop_id),
            recorded[order.shop_id],
            erp[order.shop_id],
            outcomes[order.shop_id],
            updates,
        )
    store.save_order_imports(ctx.connection, [{"shop_order_id": k, **v} for k, v in updates.items()])


def _follow_up(
    order: Order,
    row: OrderImport | None,
    recorded: dict[str, str],
    erp: ErpOrderRef,
    outcome: Outcome,
    updates: dict[str, dict[str, Any]],
) -> None:
    """What the import row of an order must say after this run (``updates``), and the notes of
    an order changed or cancelled in the shop after its import."""
    follow = _still_followed(order, recorded)
    previous_hash = row.order_hash if row else None
    current_hash = import_hash(order)
    before = row.recorded_payments if row else {}
    changed = recorded != before
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
        updates[order.shop_id] = {
            "payments": recorded,
            "reason": reason,
            "follow": follow,
            "order_hash": current_hash,
            "shop_changed_at": order.updated_at,
        }
