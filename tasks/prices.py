"""Price sync rules and tasks: ERP prices -> what each variant should cost in the shop now.

Rules (pure functions):
- a promotion is in force in ``[starts_at, ends_at)``; when several are, the lowest price wins
  (the customer gets the best one, as the ERP's own sale would);
- a shop that schedules promotions itself (``PriceCapabilities.promotion_dates``) gets the
  base price and the current or next promotion with its dates; another shop gets the price in
  force at run time, so the hourly run moves the price when a promotion starts or ends;
- customer-group prices go only to shops that hold them; for the others the run says once
  how many were left out, it does not fail;
- only prices that differ from the last ones the shop accepted are sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from prefect import task

from connectors.base import PriceCapabilities, PriceReader, PriceSink, PriceSource, PriceWrite, ShopVariantValues
from connectors.errors import Fatal, RecordError
from connectors.models import (
    PriceRecord,
    Promotion,
    content_hash,
    currency_quantum,
    ensure_utc,
    shop_price,
    to_jsonable,
)
from connectors.registry import require
from tasks.common import TASK_OPTIONS, logger
from tasks.context import RunContext
from tasks.dry_run import FieldChange, price_text
from tasks.quality import Check, price_decimals, run_checks
from tasks.snapshots import SnapshotRow
from tasks.state import QuarantineEntry
from tasks.values import Sent, record_answer, snapshot, value_hash

__all__ = [
    "FLOW",
    "PricePlan",
    "active_promotion",
    "check_prices",
    "diff_against_shop",
    "extract_prices",
    "gate_prices",
    "next_change",
    "plan_changes",
    "plan_prices",
    "price_changes",
    "price_write",
    "send_prices",
    "shop_amount",
    "write_hash",
    "write_value",
]

FLOW = "prices"
ENTITY = "price"


def _in_force(promo: Promotion, now: datetime) -> bool:
    return (promo.starts_at is None or promo.starts_at <= now) and (promo.ends_at is None or now < promo.ends_at)


def active_promotion(record: PriceRecord, now: datetime) -> Promotion | None:
    """The promotion in force at ``now`` (the lowest price when several are)."""
    current = [p for p in record.promotions if _in_force(p, now)]
    return min(current, key=lambda p: p.price) if current else None


def upcoming_promotion(record: PriceRecord, now: datetime) -> Promotion | None:
    """The promotion in force now, else the next one to start (for shops that schedule them)."""
    current = active_promotion(record, now)
    if current is not None:
        return current
    later = [p for p in record.promotions if p.starts_at is not None and p.starts_at > now]
    return min(later, key=lambda p: (p.starts_at, p.price)) if later else None


def next_change(records: Iterable[PriceRecord], now: datetime) -> datetime | None:
    """The next instant a promotion starts or ends: when the price in force changes by itself."""
    instants = [
        moment
        for r in records
        for p in r.promotions
        for moment in (p.starts_at, p.ends_at)
        if moment is not None and moment > now
    ]
    return min(instants) if instants else None


def _tax_excluded(amount: Decimal, record: PriceRecord) -> Decimal:
    """Sinks take tax-excluded amounts; an ERP price that includes VAT is converted exactly."""
    if not record.tax_included or record.vat_rate is None:
        return amount
    return (amount / (1 + record.vat_rate / Decimal(100))).quantize(Decimal("0.000001"))


def price_write(
    record: PriceRecord, variant_id: str, now: datetime, capabilities: PriceCapabilities, *, key: str | None = None
) -> PriceWrite:
    """What the shop should hold for one variant at ``now``."""
    assert record.price is not None
    base = _tax_excluded(record.price, record)
    promotion: Promotion | None = None
    if capabilities.promotion_dates:
        upcoming = upcoming_promotion(record, now)
        if upcoming is not None:
            promotion = Promotion(
                price=_tax_excluded(upcoming.price, record),
                starts_at=upcoming.starts_at,
                ends_at=upcoming.ends_at,
                name=upcoming.name,
            )
        price = base
    else:
        current = active_promotion(record, now)
        price = _tax_excluded(current.price, record) if current is not None else base
    groups = (
        tuple(replace(g, price=_tax_excluded(g.price, record)) for g in record.group_prices)
        if capabilities.group_prices
        else ()
    )
    return PriceWrite(
        key=key or record.key,
        variant_id=variant_id,
        price=price,
        currency=record.currency,
        vat_rate=record.vat_rate,
        regular_price=base,
        promotion=promotion,
        group_prices=groups,
        converted=record.tax_included and record.vat_rate is not None,
    )


def _json(value: Any) -> Any:
    """``to_jsonable`` of one field, without its dataclass check for the usual types."""
    kind = type(value)
    if kind is Decimal:
        return str(value)
    if value is None or kind is str or kind is bool:
        return value
    return to_jsonable(value)


def write_value(write: PriceWrite) -> dict[str, Any]:
    """What is compared with the last value sent (the variant id is not part of it): the
    ``to_jsonable`` form of the write without ``key`` and ``variant_id``, built field by field
    (the generic walk was most of a run's time when nothing changed)."""
    return {
        "price": _json(write.price),
        "currency": _json(write.currency),
        "vat_rate": _json(write.vat_rate),
        "regular_price": _json(write.regular_price),
        "promotion": None if write.promotion is None else to_jsonable(write.promotion),
        "group_prices": [to_jsonable(g) for g in write.group_prices],
        "converted": _json(write.converted),
    }


def write_hash(write: PriceWrite) -> str:
    """``content_hash(write_value(write))``, as ``sent_value`` holds it."""
    return value_hash(write_value(write))


# -- quality gate ------------------------------------------------------------------------------


def price_checks(currency: str, max_decimals: int) -> list[Check]:
    import great_expectations.expectations as gxe

    return [
        Check(
            "price_present",
            "price",
            lambda: gxe.ExpectColumnValuesToNotBeNull(column="price"),
            lambda r: "price is missing",
        ),
        Check(
            "price_non_negative",
            "price",
            lambda: gxe.ExpectColumnValuesToBeBetween(column="price", min_value=0),
            lambda r: f"price {r['price_text']} is negative",
        ),
        Check(
            "price_decimals",
            "price",
            lambda: gxe.ExpectColumnValuesToBeBetween(column="price_decimals", max_value=max_decimals),
            lambda r: f"price {r['price_text']} has more than {max_decimals} decimals",
        ),
        Check(
            "currency",
            "currency",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="currency", value_set=[currency]),
            lambda r: f"currency {r['currency']!r} is not the shop's currency {currency}",
        ),
        Check(
            "promo_price_non_negative",
            "promotions",
            lambda: gxe.ExpectColumnValuesToBeBetween(column="lowest_promo_price", min_value=0),
            lambda r: f"promotional price {min(p.price for p in r['record'].promotions)} is negative",
        ),
        Check(
            "promo_dates_ordered",
            "promotions",
            lambda: gxe.ExpectColumnValuesToBeNull(column="promo_dates_wrong"),
            lambda r: f"promotion {r['promo_dates_wrong']} ends before it starts",
        ),
        Check(
            "group_price_non_negative",
            "group_prices",
            lambda: gxe.ExpectColumnValuesToBeBetween(column="lowest_group_price", min_value=0),
            lambda r: (
                "customer-group price "
                + ", ".join(f"{g.group} {g.price}" for g in r["record"].group_prices if g.price < 0)
                + " is negative"
            ),
        ),
    ]


def _price_row(record: PriceRecord) -> dict[str, Any]:
    wrong = [
        f"{p.name or 'without a name'} ({p.starts_at:%Y-%m-%d %H:%M} -> {p.ends_at:%Y-%m-%d %H:%M} UTC)"
        for p in record.promotions
        if p.starts_at is not None and p.ends_at is not None and p.ends_at <= p.starts_at
    ]
    return {
        "key": record.key,
        "sku": record.sku,
        "record": record,
        "price": float(record.price) if record.price is not None else None,  # GX compares numbers
        "price_text": str(record.price),
        "price_decimals": price_decimals(record.price),
        "currency": record.currency,
        "lowest_promo_price": float(min(p.price for p in record.promotions)) if record.promotions else None,
        "promo_dates_wrong": "; ".join(wrong) or None,
        "lowest_group_price": float(min(g.price for g in record.group_prices)) if record.group_prices else None,
    }


def gate_prices(
    records: Sequence[PriceRecord], *, currency: str, max_decimals: int = 2
) -> tuple[list[PriceRecord], list[QuarantineEntry]]:
    failures = run_checks("prices", [_price_row(r) for r in records], price_checks(currency, max_decimals))
    refused: dict[str, list[RecordError]] = {r.key: list(r.issues) for r in records if r.issues}
    for index, errors in failures.items():
        key = records[index].key
        read_fields = {e.field for e in refused.get(key, ()) if e.check == "parse"}
        refused.setdefault(key, []).extend(e for e in errors if e.field not in read_fields)
    # Serialised for the refused records only (for all of them it cost more than the checks).
    payloads = {r.key: r for r in records if r.key in refused}
    rejected = [
        QuarantineEntry(e, payload)
        for key, errors in refused.items()
        for payload in [to_jsonable(payloads[key]) if key in payloads else None]
        for e in errors
    ]
    return [r for r in records if r.key not in refused], rejected


# -- plan --------------------------------------------------------------------------------------


@dataclass(slots=True)
class PricePlan:
    writes: list[PriceWrite] = field(default_factory=list)
    unchanged: int = 0
    unknown: list[str] = field(default_factory=list)
    promotions_in_force: int = 0
    group_prices_left_out: int = 0
    next_change: datetime | None = None


def plan_prices(
    records: Sequence[PriceRecord],
    variant_ids: Mapping[str, str],
    sent: Mapping[str, str],
    *,
    now: datetime,
    capabilities: PriceCapabilities,
    full: bool = False,
) -> PricePlan:
    now = ensure_utc(now)
    plan = PricePlan(next_change=next_change(records, now))
    for record in records:
        variant_id = variant_ids.get(record.key)
        if variant_id is None:
            plan.unknown.append(record.sku or record.key)
            continue
        if not capabilities.group_prices:
            plan.group_prices_left_out += len(record.group_prices)
        if active_promotion(record, now) is not None:
            plan.promotions_in_force += 1
        write = price_write(record, variant_id, now, capabilities)
        if full or sent.get(record.key) != write_hash(write):
            plan.writes.append(write)
        else:
            plan.unchanged += 1
    plan.unknown.sort()
    return plan


def check_owned_groups(capabilities: PriceCapabilities, groups: Sequence[str]) -> None:
    """Refuse a run that would delete a whole group's prices: the shop replaces the prices of
    ``capabilities.owned_groups`` whole, so each must be among the groups read from the ERP."""
    missing = sorted(capabilities.owned_groups - set(groups))
    if missing:
        raise Fatal(
            f"the shop's price settings map the customer groups {', '.join(missing)}, which the price flow "
            "does not read: every price of them would be deleted from the shop.",
            resolution="add them to [prices] groups of the connection, or remove their mapping from the shop's "
            "settings (Shopify: price_lists).",
        )


# -- tasks -------------------------------------------------------------------------------------


def _snapshot(ctx: RunContext, entity: str, stage: str, rows: list[SnapshotRow]) -> None:
    snapshot(ctx, FLOW, entity, stage, rows)


@task(name="extract-prices", **TASK_OPTIONS)
def extract_prices(ctx: RunContext) -> list[PriceRecord]:
    source: PriceSource = require(ctx.erp, PriceSource, what="read prices")
    records = list(source.iter_prices(ctx.settings.prices.groups))
    _snapshot(ctx, "price", "read", [SnapshotRow(r.key, content_hash(r), r) for r in records])
    logger().info("read the prices of %d articles", len(records))
    return records


@task(name="check-prices", cache_policy=TASK_OPTIONS["cache_policy"])
def check_prices(ctx: RunContext, records: list[PriceRecord]) -> list[PriceRecord]:
    """Quality gate: price present, >= 0, at most 2 decimals, shop currency, promotions that end after they start."""
    passed, rejected = gate_prices(records, currency=ctx.settings.catalogue.currency)
    if not ctx.dry_run and ctx.store is not None:
        ctx.store.quarantine(ctx.connection, FLOW, "article", rejected, run_id=ctx.run_id)
        ctx.store.resolve_quarantine(ctx.connection, FLOW, "article", [r.key for r in passed])
    _snapshot(
        ctx,
        "price",
        "rejected",
        [SnapshotRow(e.error.key, None, {"field": e.error.field, "reason": e.error.reason}) for e in rejected],
    )
    return passed


@task(name="plan-prices", **TASK_OPTIONS)
def plan_changes(
    ctx: RunContext, records: list[PriceRecord], *, now: datetime, full: bool, keys: list[str] | None
) -> PricePlan:
    if keys:
        wanted = set(keys)
        records = [r for r in records if r.key in wanted or r.sku in wanted]
    shop: PriceSink = require(ctx.shop, PriceSink, what="receive prices")
    check_owned_groups(shop.price_capabilities, ctx.settings.prices.groups)
    variant_ids: dict[str, str] = {}
    sent: dict[str, str] = {}
    if ctx.store is not None:
        variant_ids = {k: b.shop_id for k, b in ctx.store.bindings(ctx.connection, "variant").items() if b.shop_id}
        sent = ctx.store.sent_hashes(ctx.connection, ENTITY)
    return plan_prices(records, variant_ids, sent, now=now, capabilities=shop.price_capabilities, full=full)


@task(name="send-prices", **TASK_OPTIONS)
def send_prices(ctx: RunContext, writes: list[PriceWrite]) -> tuple[int, list[RecordError], list[RecordError]]:
    """Write one batch; record what the shop accepted, quarantine what it refused; also what it
    accepted with a caveat (a tax-included price it cannot show to the cent)."""
    shop: PriceSink = require(ctx.shop, PriceSink, what="receive prices")
    _snapshot(ctx, "variant", "sent", [SnapshotRow(w.key, write_hash(w), w) for w in writes])
    result = shop.write_prices(writes)
    sent = [Sent(w.key, w.variant_id, write_value(w)) for w in writes]
    done, errors = record_answer(ctx, flow=FLOW, entity=ENTITY, sent=sent, result=result)
    refused = {e.key for e in errors}
    return done, errors, [n for n in result.notices if n.key not in refused]


def shop_amount(write: PriceWrite, *, includes_tax: bool) -> Decimal:
    """The price a write puts in a shop whose prices include tax or not (the shop's basis)."""
    if write.converted:
        rate = write.vat_rate or Decimal(0)
        erp_price = (write.price * (1 + rate / 100)).quantize(currency_quantum(write.currency), rounding=ROUND_HALF_UP)
        return shop_price(
            erp_price, write.vat_rate, tax_included=True, shop_includes_tax=includes_tax, currency=write.currency
        ).amount
    return shop_price(
        write.price, write.vat_rate, tax_included=False, shop_includes_tax=includes_tax, currency=write.currency
    ).amount


def price_changes(
    writes: Sequence[PriceWrite], held: Mapping[str, ShopVariantValues] | None, *, includes_tax: bool
) -> list[FieldChange]:
    """One change per planned write: the price the shop holds -> the one to write, in the shop's
    basis (``held`` None: the shop could not be read; the old value is then unknown). Pure."""
    changes: list[FieldChange] = []
    for w in writes:
        record = f"price {w.key}"
        new = price_text(shop_amount(w, includes_tax=includes_tax), w.currency, includes_tax)
        detail = ""
        if held is None:
            old = "(not read)"
        elif w.variant_id not in held:
            old, detail = "(none)", f"variant {w.variant_id} not found in the shop"
        else:
            value = held[w.variant_id]
            old = price_text(value.price, value.currency, value.price_includes_tax)
            if old == new:
                detail = "the shop already holds it"
        if w.regular_price is not None and w.regular_price != w.price:
            detail = "; ".join(filter(None, [f"promotion (regular {w.regular_price} {w.currency} tax excl.)", detail]))
        changes.append(FieldChange(record, "price", old, new, detail=detail))
        if w.promotion is not None:
            promo = f"{w.promotion.price} {w.currency} tax excl. from {w.promotion.starts_at} to {w.promotion.ends_at}"
            changes.append(FieldChange(record, "promotion", "(not read)", promo))
        for group in w.group_prices:
            changes.append(
                FieldChange(record, f"group price {group.group}", "(not read)", f"{group.price} {w.currency} tax excl.")
            )
    return changes


@task(name="diff-prices-against-shop", **TASK_OPTIONS)
def diff_against_shop(ctx: RunContext, writes: list[PriceWrite]) -> tuple[list[FieldChange], list[str]]:
    """Dry run: the prices the shop holds now for the planned writes -> the ones a run would write
    (read only); a sink without a price read gets the planned values with a note."""
    if not writes:
        return [], []
    shop: PriceSink = require(ctx.shop, PriceSink, what="receive prices")
    includes_tax = shop.price_capabilities.prices_include_tax
    if not isinstance(shop, PriceReader):
        note = f"shop values not read: {type(shop).__name__} has no price read"
        return price_changes(writes, None, includes_tax=includes_tax), [note]
    held = shop.read_prices(sorted({w.variant_id for w in writes}))
    return price_changes(writes, held, includes_tax=includes_tax), []
