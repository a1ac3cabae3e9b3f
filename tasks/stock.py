"""Stock sync rules and tasks: ERP levels per warehouse -> saleable quantities per shop location.

Rules (pure functions, tested without Prefect):
- each shop location is fed by a list of ERP warehouses, summed; a warehouse in no feed never
  counts (store stock stays out of the web shop);
- reserved quantities (promised to customers, not shipped) are subtracted, then the safety
  stock (per SKU or the default); the result is never negative;
- an article the ERP reported in any warehouse gets a quantity for every location (0 where it
  has nothing), so an export that drops empty lines cannot leave old stock in the shop;
- only quantities that differ from the last value the shop accepted are sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from prefect import task

from connectors.base import StockSink, StockSource, StockWrite
from connectors.errors import Fatal, RecordError
from connectors.models import StockLevel, content_hash
from connectors.registry import require
from tasks.common import TASK_OPTIONS, logger
from tasks.context import RunContext
from tasks.dry_run import FieldChange
from tasks.quality import Check, run_checks
from tasks.settings import StockFeed, StockSettings
from tasks.snapshots import SnapshotRow
from tasks.state import QuarantineEntry
from tasks.values import Sent, record_answer, snapshot, value_hash

__all__ = [
    "FLOW",
    "StockPlan",
    "StockTarget",
    "check_stock",
    "compute_targets",
    "diff_against_shop",
    "extract_stock",
    "gate_targets",
    "plan_changes",
    "plan_stock",
    "send_stock",
    "stock_changes",
]

FLOW = "stock"
ENTITY = "stock"


@dataclass(frozen=True, slots=True)
class StockTarget:
    """The quantity one shop location should sell of one article, and how it was computed."""

    key: str
    sku: str | None
    location: str | None
    quantity: Decimal
    on_hand: Decimal
    reserved: Decimal
    safety: int

    @property
    def state_key(self) -> str:
        """One last-sent value per article and shop location."""
        return self.key if self.location is None else f"{self.key}@{self.location}"

    @property
    def value(self) -> dict[str, Any]:
        return {"quantity": int(self.quantity), "location": self.location}


def compute_targets(
    levels: Iterable[StockLevel], feeds: Sequence[StockFeed], settings: StockSettings
) -> tuple[list[StockTarget], dict[str, list[RecordError]]]:
    """Saleable quantity per article and shop location, and the read issues per article."""
    on_hand: dict[tuple[str, str], Decimal] = {}
    reserved: dict[tuple[str, str], Decimal] = {}
    skus: dict[str, str | None] = {}
    issues: dict[str, list[RecordError]] = {}
    for level in levels:
        skus.setdefault(level.key, level.sku)
        if level.issues:
            issues.setdefault(level.key, []).extend(level.issues)
        cell = (level.key, level.warehouse)
        on_hand[cell] = on_hand.get(cell, Decimal(0)) + level.on_hand
        reserved[cell] = reserved.get(cell, Decimal(0)) + level.reserved
    targets: list[StockTarget] = []
    for key, sku in skus.items():
        safety = settings.safety_stock_by_sku.get(sku or "", settings.safety_stock)
        for feed in feeds:
            have = sum((on_hand.get((key, w), Decimal(0)) for w in feed.warehouses), Decimal(0))
            promised = sum((reserved.get((key, w), Decimal(0)) for w in feed.warehouses), Decimal(0))
            available = have - (promised if settings.subtract_reserved else 0) - safety
            targets.append(
                StockTarget(
                    key=key,
                    sku=sku,
                    location=feed.location,
                    quantity=max(available, Decimal(0)),
                    on_hand=have,
                    reserved=promised,
                    safety=safety,
                )
            )
    return targets, issues


def stock_checks() -> list[Check]:
    import great_expectations.expectations as gxe

    return [
        Check(
            "quantity_whole",
            "quantity",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="quantity_whole", value_set=[True]),
            lambda r: f"quantity {r['quantity']} is not a whole number of units (check the unit of the article)",
        ),
        Check(
            "quantity_non_negative",
            "quantity",
            lambda: gxe.ExpectColumnValuesToBeBetween(column="quantity", min_value=0),
            lambda r: f"quantity {r['quantity']} is negative",
        ),
    ]


def gate_targets(
    targets: Sequence[StockTarget], issues: Mapping[str, list[RecordError]]
) -> tuple[list[StockTarget], list[QuarantineEntry]]:
    """Great Expectations on every target: whole, non-negative quantities; read issues refuse the article."""
    rows = [
        {
            "key": t.key,
            "sku": t.sku,
            "quantity": float(t.quantity),  # GX compares numbers; the Decimal stays in the target
            "quantity_whole": t.quantity == t.quantity.to_integral_value(),
        }
        for t in targets
    ]
    failures = run_checks("stock", rows, stock_checks())
    refused: dict[str, list[RecordError]] = {k: list(v) for k, v in issues.items() if v}
    for index, errors in failures.items():
        refused.setdefault(targets[index].key, []).extend(errors)
    payloads = {
        t.key: {"sku": t.sku, "on_hand": str(t.on_hand), "reserved": str(t.reserved)}
        for t in targets
        if t.key in refused
    }
    rejected = [QuarantineEntry(e, payloads.get(key)) for key, errors in refused.items() for e in errors]
    return [t for t in targets if t.key not in refused], rejected


@dataclass(slots=True)
class StockPlan:
    writes: list[StockWrite] = field(default_factory=list)
    targets: dict[str, StockTarget] = field(default_factory=dict)
    """state key -> target, for the writes."""
    unchanged: int = 0
    unknown: list[str] = field(default_factory=list)
    """SKUs (or keys) the shop does not know: reported, never created."""
    drift: int = 0


def plan_stock(
    targets: Sequence[StockTarget],
    variant_ids: Mapping[str, str],
    sent: Mapping[str, str],
    *,
    shop_now: Mapping[tuple[str, str | None], int] | None = None,
) -> StockPlan:
    """What to send: targets whose value differs from the last one sent (or, with ``shop_now``
    from a full reconciliation, from what the shop holds). ``value_hash`` is ``content_hash`` of the
    value (JSON already), as ``sent_value`` holds it."""
    plan = StockPlan()
    for t in targets:
        variant_id = variant_ids.get(t.key)
        if variant_id is None:
            plan.unknown.append(t.sku or t.key)
            continue
        quantity = int(t.quantity)
        if shop_now is not None:
            changed = shop_now.get((variant_id, t.location)) != quantity
            if changed and sent.get(t.state_key) == value_hash(t.value):
                plan.drift += 1  # the shop was changed behind our back
        else:
            changed = sent.get(t.state_key) != value_hash(t.value)
        if changed:
            plan.writes.append(
                StockWrite(key=t.state_key, variant_id=variant_id, quantity=quantity, location=t.location)
            )
            plan.targets[t.state_key] = t
        else:
            plan.unchanged += 1
    plan.unknown = sorted(set(plan.unknown))
    return plan


# -- tasks -------------------------------------------------------------------------------------


def _snapshot(ctx: RunContext, entity: str, stage: str, rows: list[SnapshotRow]) -> None:
    snapshot(ctx, FLOW, entity, stage, rows)


@task(name="extract-stock", **TASK_OPTIONS)
def extract_stock(ctx: RunContext, warehouses: list[str]) -> list[StockLevel]:
    """Levels of the configured warehouses; a warehouse the ERP does not know stops the run."""
    source: StockSource = require(ctx.erp, StockSource, what="read stock levels")
    known = set(source.warehouses())
    unknown = sorted(set(warehouses) - known)
    if unknown:
        raise Fatal(
            f"the ERP has no warehouse {', '.join(unknown)}.",
            resolution=f"fix [stock] warehouses / feeds (the ERP knows: {', '.join(sorted(known)) or 'none'}).",
        )
    levels = list(source.iter_stock(warehouses))
    _snapshot(ctx, "level", "read", [SnapshotRow(f"{lv.key}@{lv.warehouse}", content_hash(lv), lv) for lv in levels])
    logger().info("read %d stock levels in %s", len(levels), ", ".join(warehouses))
    return levels


@task(name="check-stock", cache_policy=TASK_OPTIONS["cache_policy"])
def check_stock(ctx: RunContext, levels: list[StockLevel], feeds: list[StockFeed]) -> list[StockTarget]:
    """Apply the stock rules, then the quality gate; refused articles go to quarantine."""
    targets, issues = compute_targets(levels, feeds, ctx.settings.stock)
    passed, rejected = gate_targets(targets, issues)
    if not ctx.dry_run and ctx.store is not None:
        ctx.store.quarantine(ctx.connection, FLOW, "article", rejected, run_id=ctx.run_id)
        ctx.store.resolve_quarantine(ctx.connection, FLOW, "article", sorted({t.key for t in passed}))
    _snapshot(
        ctx,
        "article",
        "rejected",
        [SnapshotRow(e.error.key, None, {"field": e.error.field, "reason": e.error.reason}) for e in rejected],
    )
    return passed


@task(name="plan-stock", **TASK_OPTIONS)
def plan_changes(ctx: RunContext, targets: list[StockTarget], *, full: bool, keys: list[str] | None) -> StockPlan:
    """Compare with the last values sent (or, for ``full``, with what the shop holds now)."""
    if keys:
        wanted = set(keys)
        targets = [t for t in targets if t.key in wanted or t.sku in wanted]
    store = ctx.store
    variant_ids: dict[str, str] = {}
    sent: dict[str, str] = {}
    if store is not None:
        variant_ids = {k: b.shop_id for k, b in store.bindings(ctx.connection, "variant").items() if b.shop_id}
        sent = store.sent_hashes(ctx.connection, ENTITY)
    shop_now = None
    if full:
        shop: StockSink = require(ctx.shop, StockSink, what="receive stock levels")
        ids = sorted({variant_ids[t.key] for t in targets if t.key in variant_ids})
        shop_now = shop.read_stock(ids, sorted({t.location for t in targets}, key=lambda x: x or ""))
    return plan_stock(targets, variant_ids, sent, shop_now=shop_now)


@task(name="send-stock", **TASK_OPTIONS)
def send_stock(
    ctx: RunContext, writes: list[StockWrite], targets: dict[str, StockTarget]
) -> tuple[int, list[RecordError]]:
    """Write one batch; record what the shop accepted, quarantine what it refused."""
    shop: StockSink = require(ctx.shop, StockSink, what="receive stock levels")
    _snapshot(ctx, "variant", "sent", [SnapshotRow(w.key, value_hash(targets[w.key].value), w) for w in writes])
    result = shop.write_stock(writes)
    sent = [Sent(w.key, w.variant_id, targets[w.key].value) for w in writes]
    return record_answer(ctx, flow=FLOW, entity=ENTITY, sent=sent, result=result)


@task(name="diff-stock-against-shop", **TASK_OPTIONS)
def diff_against_shop(ctx: RunContext, plan: StockPlan) -> list[FieldChange]:
    """Dry run: the quantities the shop sells now for the planned writes -> the ones a run would
    write (read only: ``StockSink.read_stock``)."""
    if not plan.writes:
        return []
    shop: StockSink = require(ctx.shop, StockSink, what="receive stock levels")
    locations = sorted({w.location for w in plan.writes}, key=lambda x: x or "")
    held = shop.read_stock(sorted({w.variant_id for w in plan.writes}), locations)
    return stock_changes(plan, held)


def stock_changes(plan: StockPlan, held: Mapping[tuple[str, str | None], int]) -> list[FieldChange]:
    """One change per planned write: saleable quantity in the shop -> the one to write (pure)."""
    changes: list[FieldChange] = []
    for w in plan.writes:
        target = plan.targets.get(w.key)
        sku = target.sku if target is not None and target.sku else w.key
        record = f"stock {sku}" + (f" at {w.location}" if w.location else "")
        old = held.get((w.variant_id, w.location))
        detail = ""
        if old is None:
            detail = f"variant {w.variant_id} not found in the shop"
        elif old == w.quantity:
            detail = "the shop already holds it"
        changes.append(
            FieldChange(record, "quantity", "(none)" if old is None else str(old), str(w.quantity), detail=detail)
        )
    return changes
