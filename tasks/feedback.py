"""Status feedback rules and tasks: ERP order statuses and parcels -> the shop's orders.

Rules (pure): which statuses are sent (settings), never backwards (processing < shipped <
delivered; cancelled only before shipping; refunded from anything), never over a status someone
set by hand in the shop (unless ``overwrite_manual``), tracking URL from the carrier's page when
the ERP has none, and a quality gate on the tracking numbers of known carriers. What was last
sent per order is kept in ``sent_value`` (entity ``order_status``): an unchanged status costs no
shop request at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from prefect import task

from connectors.base import StatusSink, StatusSource, StatusWrite
from connectors.errors import RecordError
from connectors.models import FINAL_STATUSES, ORDER_STATUSES, OrderStatus, content_hash, status_rank, to_jsonable
from connectors.registry import require
from tasks.common import TASK_OPTIONS, logger
from tasks.context import RunContext
from tasks.quality import Check, run_checks
from tasks.settings import FeedbackSettings
from tasks.snapshots import SnapshotRow
from tasks.state import QuarantineEntry
from tasks.values import Sent, record_answer, snapshot

__all__ = [
    "ENTITY",
    "record_in_shop",
    "FLOW",
    "StatusPlan",
    "feedback_checks",
    "gate_statuses",
    "plan_statuses",
    "read_statuses",
    "send_statuses",
    "status_value",
    "with_tracking_urls",
]

FLOW = "feedback-status"
ENTITY = "order_status"


def status_value(status: OrderStatus) -> dict[str, Any]:
    """What is compared with the last value sent: the status and the parcels' tracking numbers."""
    return {
        "status": status.status,
        "tracking": sorted(s.tracking_number or f"shipment:{s.erp_id}" for s in status.shipments),
    }


def with_tracking_urls(status: OrderStatus, settings: FeedbackSettings) -> OrderStatus:
    """Fill the tracking URL of parcels from the carrier's page (``tracking_urls``) when the ERP has none."""
    pages = {k.casefold(): v for k, v in settings.tracking_urls.items()}
    shipments = []
    for shipment in status.shipments:
        page = pages.get((shipment.carrier or "").casefold())
        if shipment.tracking_url is None and page and shipment.tracking_number:
            shipment = replace(shipment, tracking_url=page.replace("{tracking}", shipment.tracking_number))
        shipments.append(shipment)
    return replace(status, shipments=shipments)


# -- quality gate ------------------------------------------------------------------------------


def feedback_checks() -> list[Check]:
    import great_expectations.expectations as gxe

    return [
        Check(
            "status",
            "status",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="status", value_set=list(ORDER_STATUSES)),
            lambda r: f"status {r['status']!r} is not one of {', '.join(ORDER_STATUSES)}",
        ),
        Check(
            "tracking_number",
            "shipments.tracking_number",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="bad_tracking", value_set=[""]),
            lambda r: str(r["bad_tracking"]),
        ),
    ]


def _bad_tracking(status: OrderStatus, patterns: Mapping[str, re.Pattern[str]]) -> str:
    problems = []
    for shipment in status.shipments:
        pattern = patterns.get((shipment.carrier or "").casefold())
        number = shipment.tracking_number
        if pattern is not None and number and not pattern.fullmatch(number.replace(" ", "")):
            problems.append(f"{shipment.carrier} tracking number {number!r} does not look like one ({pattern.pattern})")
    return "; ".join(problems)


def gate_statuses(
    statuses: Sequence[OrderStatus], settings: FeedbackSettings
) -> tuple[list[OrderStatus], list[QuarantineEntry]]:
    """Great Expectations on every status read; refused orders by their errors (plus what the
    ERP connector could not read, ``OrderStatus.issues``)."""
    patterns = {k.casefold(): re.compile(v) for k, v in settings.tracking_patterns.items()}
    rows = [{"key": s.shop_order_id, "status": s.status, "bad_tracking": _bad_tracking(s, patterns)} for s in statuses]
    failures = run_checks("feedback", rows, feedback_checks())
    refused: dict[str, list[RecordError]] = {s.shop_order_id: list(s.issues) for s in statuses if s.issues}
    for index, errors in failures.items():
        status = statuses[index]
        refused.setdefault(status.shop_order_id, []).extend(
            RecordError(status.shop_order_id, e.field, f"ERP order {status.erp_reference}: {e.reason}", check=e.check)
            for e in errors
        )
    entries = [
        QuarantineEntry(e, {"erp_reference": s.erp_reference})
        for s in statuses
        for e in refused.get(s.shop_order_id, [])
    ]
    return [s for s in statuses if s.shop_order_id not in refused], entries


# -- plan ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class StatusPlan:
    writes: list[StatusWrite] = field(default_factory=list)
    statuses: dict[str, OrderStatus] = field(default_factory=dict)
    unchanged: int = 0
    left: list[tuple[str, str, str]] = field(default_factory=list)
    """(shop order id, ERP status, why it is not sent)."""
    in_shop: list[OrderStatus] = field(default_factory=list)
    """Statuses the shop shows already (nothing to send): recorded as sent, so the next runs do
    not ask the shop about them again until the ERP changes."""


def decide(
    status: OrderStatus, shop_now: str | None, last_sent: Mapping[str, Any] | None, settings: FeedbackSettings
) -> tuple[bool, str]:
    """Whether to send ``status`` to an order the shop shows as ``shop_now``, and why not."""
    target = status.status
    if shop_now is None:
        return False, "the shop does not have this order"
    if shop_now in FINAL_STATUSES:
        return False, f"{shop_now} in the shop: final"
    sent_status = last_sent.get("status") if last_sent else None
    by_hand = shop_now not in ("open", "processing") and shop_now != sent_status
    if by_hand and not settings.overwrite_manual and shop_now != target:
        return False, f"set to {shop_now} in the shop by hand (overwrite_manual = false)"
    if target == "cancelled":
        if status_rank(shop_now) >= status_rank("shipped"):
            return False, f"{shop_now} in the shop already: cancel it there by hand"
        return True, ""
    if target == "refunded":
        return True, ""
    if status_rank(target) < status_rank(shop_now):
        return False, f"{shop_now} in the shop: never moved back to {target}"
    new_parcels = set(status_value(status)["tracking"]) - set((last_sent or {}).get("tracking", []))
    if status_rank(target) == status_rank(shop_now) and not (target == "shipped" and new_parcels):
        return False, f"{shop_now} in the shop already"
    return True, ""


def plan_statuses(
    statuses: Sequence[OrderStatus],
    sent: Mapping[str, str],
    last_values: Mapping[str, Mapping[str, Any]],
    shop_now: Mapping[str, str],
    settings: FeedbackSettings,
    *,
    language: str = "en",
) -> StatusPlan:
    """The writes: changed since the last value sent, enabled by the settings, and allowed by
    :func:`decide` against what the shop shows now."""
    plan = StatusPlan()
    for status in statuses:
        key = status.shop_order_id
        if sent.get(key) == content_hash(status_value(status)):
            plan.unchanged += 1
            continue
        if not settings.statuses.get(status.status, False):
            plan.left.append((key, status.status, "not sent (feedback.statuses)"))
            continue
        go, why = decide(status, shop_now.get(key), last_values.get(key), settings)
        if not go:
            if shop_now.get(key) == status.status and not status.shipments:
                plan.in_shop.append(status)
            else:
                plan.left.append((key, status.status, why))
            continue
        plan.statuses[key] = status
        plan.writes.append(
            StatusWrite(
                shop_order_id=key,
                status=status.status,
                shipments=tuple(status.shipments),
                notify=settings.notify.get(status.status, True),
                language=language,
            )
        )
    return plan


def changed_keys(statuses: Iterable[OrderStatus], sent: Mapping[str, str]) -> list[str]:
    """Shop order ids whose status or parcels differ from what was last sent."""
    return [s.shop_order_id for s in statuses if sent.get(s.shop_order_id) != content_hash(status_value(s))]


# -- tasks --------------------------------------------------------------------------------------


def _snapshot(ctx: RunContext, stage: str, rows: list[SnapshotRow]) -> None:
    snapshot(ctx, FLOW, ENTITY, stage, rows)


@task(name="read-statuses", **TASK_OPTIONS)
def read_statuses(ctx: RunContext, since: datetime | None, order_ids: Sequence[str] | None) -> list[OrderStatus]:
    source: StatusSource = require(ctx.erp, StatusSource, what="tell order statuses")
    found = [with_tracking_urls(s, ctx.settings.feedback) for s in source.iter_statuses(since, order_ids or None)]
    _snapshot(ctx, "read", [SnapshotRow(s.shop_order_id, content_hash(s), to_jsonable(s)) for s in found])
    logger().info("read %d order statuses from the ERP", len(found))
    return found


@task(name="plan-statuses", **TASK_OPTIONS)
def plan_feedback(ctx: RunContext, statuses: list[OrderStatus]) -> StatusPlan:
    """Compare with the last values sent; ask the shop only about the orders that changed."""
    sent: dict[str, str] = ctx.store.sent_hashes(ctx.connection, ENTITY) if ctx.store else {}
    keys = changed_keys(statuses, sent)
    last = {k: v.payload for k, v in ctx.store.sent_values(ctx.connection, ENTITY, keys).items()} if ctx.store else {}
    shop_now: dict[str, str] = {}
    if keys:
        sink: StatusSink = require(ctx.shop, StatusSink, what="receive order statuses")
        shop_now = sink.read_statuses(keys)
    return plan_statuses(statuses, sent, last, shop_now, ctx.settings.feedback, language=ctx.settings.language)


@task(name="send-statuses", **TASK_OPTIONS)
def send_statuses(
    ctx: RunContext, writes: list[StatusWrite], statuses: dict[str, OrderStatus]
) -> tuple[int, list[RecordError], list[str]]:
    """Write one batch; keep what the shop accepted, quarantine what it refused. Returns the
    count written, the refusals, and what the merchant must settle by hand (money to refund,
    authorised payments to void after a cancellation)."""
    sink: StatusSink = require(ctx.shop, StatusSink, what="receive order statuses")
    _snapshot(ctx, "sent", [SnapshotRow(w.shop_order_id, None, to_jsonable(w)) for w in writes])
    result = sink.write_statuses(writes)
    sent = [Sent(w.shop_order_id, w.shop_order_id, status_value(statuses[w.shop_order_id])) for w in writes]
    done, errors = record_answer(ctx, flow=FLOW, entity=ENTITY, sent=sent, result=result, record="order")
    return done, errors, settle_by_hand(result.answers, statuses)


def settle_by_hand(answers: Mapping[str, Any], statuses: Mapping[str, OrderStatus]) -> list[str]:
    """Notes for the merchant from the shop's answers: passerelle never moves money itself."""
    notes = []
    for key, answer in answers.items():
        if not isinstance(answer, Mapping):
            continue
        erp = statuses[key].erp_reference if key in statuses else "?"
        if answer.get("refund_due"):
            notes.append(f"order {key} (ERP {erp}) cancelled: refund {answer['refund_due']} to the customer by hand")
        if answer.get("authorized_payments"):
            notes.append(f"order {key} (ERP {erp}) cancelled: void its authorised payment(s) by hand")
    return notes


def record_in_shop(ctx: RunContext, statuses: Sequence[OrderStatus]) -> None:
    """Remember statuses the shop shows already, as if sent (see ``StatusPlan.in_shop``)."""
    if ctx.dry_run or ctx.store is None or not statuses:
        return
    rows = [
        {
            "key": s.shop_order_id,
            "shop_id": s.shop_order_id,
            "value": status_value(s),
            "content_hash": content_hash(status_value(s)),
        }
        for s in statuses
    ]
    ctx.store.record_sent(ctx.connection, ENTITY, rows, run_id=ctx.run_id)
