"""Prefect tasks of the catalogue flow. Each is a thin wrapper: the rules live in
grouping / mapping / quality / diff, the wire formats in the connectors.

Tasks work on batches, never on one record (a task run costs ~5-7 ms of orchestration).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from prefect import task

from connectors.base import CatalogueReader, CatalogueSink, CatalogueSource, ProductWrite
from connectors.errors import RecordError
from connectors.models import Article, Product, ShopRef, content_hash, to_jsonable
from connectors.registry import require
from tasks.common import TASK_OPTIONS, logger
from tasks.context import RunContext
from tasks.diff import BindingView, CataloguePlan, Ownership, plan_catalogue
from tasks.dry_run import FieldChange, format_value, product_changes, product_record, variant_record
from tasks.grouping import GroupingRules, group_articles
from tasks.mapping import MappingRules, map_groups
from tasks.prices import ENTITY as PRICE_ENTITY
from tasks.quality import CatalogueChecks, GateResult, gate_products
from tasks.settings import ConnectionSettings
from tasks.snapshots import SnapshotRow
from tasks.state import BindingState, QuarantineEntry
from tasks.stock import ENTITY as STOCK_ENTITY

__all__ = [
    "BatchOutcome",
    "Built",
    "ShopDiff",
    "archive_products",
    "build_products",
    "check_quality",
    "diff_against_shop",
    "extract_articles",
    "plan_changes",
    "publish_batch",
]

FLOW = "catalogue"

PRICE_OWNED_BY_PRICE_FLOW = frozenset({"variant.price", "variant.currency"})
"""What the catalogue leaves to sync-prices after creation when that flow runs for the connection."""


def catalogue_ownership(settings: ConnectionSettings) -> Ownership:
    """The fields the catalogue writes on update: every field but the create-only ones, and but the
    price when the price flow runs for this connection (one owner per field: otherwise any ERP edit
    of a variant would put the base price back over the promotion sync-prices sent)."""
    create_only = frozenset(settings.catalogue.create_only)
    if settings.configures("prices"):
        create_only |= PRICE_OWNED_BY_PRICE_FLOW
    return Ownership(create_only)


def _snapshot(ctx: RunContext, entity: str, stage: str, rows: list[SnapshotRow]) -> None:
    if not ctx.dry_run and rows:
        ctx.snapshots.write(run_id=ctx.run_id, flow=FLOW, entity=entity, stage=stage, rows=rows)


@task(name="extract-articles", **TASK_OPTIONS)
def extract_articles(ctx: RunContext) -> list[Article]:
    """Read every article from the ERP and snapshot what was read."""
    source: CatalogueSource = require(ctx.erp, CatalogueSource, what="list catalogue articles")
    articles = list(source.iter_articles())
    _snapshot(ctx, "article", "read", [SnapshotRow(a.key, content_hash(a), a) for a in articles])
    logger().info("read %d articles from %s", len(articles), getattr(source, "platform", "the ERP"))
    return articles


@dataclass(slots=True)
class Built:
    products: list[Product]
    issues: dict[str, list[RecordError]]
    article_keys: set[str]
    product_keys: set[str]


@task(name="group-and-map", cache_policy=TASK_OPTIONS["cache_policy"])
def build_products(ctx: RunContext, articles: list[Article], keys: Sequence[str] | None = None) -> Built:
    """Group variants and map them to shop products; ``keys`` keeps only the products that
    contain one of those article keys, SKUs or group keys (whole groups, so siblings stay)."""
    s = ctx.settings.catalogue
    active = [a for a in articles if a.active]
    groups = group_articles(
        active,
        GroupingRules(group_field=s.group_field, reference_pattern=s.reference_pattern, attributes=tuple(s.attributes)),
    )
    products = map_groups(
        groups,
        MappingRules(
            currency=s.currency,
            country=s.country,
            fields=s.fields,
            categories=tuple(tuple(c) for c in s.categories),
            category_separator=s.category_separator,
            taxes=s.taxes.get(s.country, {}),
            attribute_labels=s.attribute_labels,
        ),
    )
    if keys:
        wanted = set(keys)
        products = [
            p
            for p, g in zip(products, groups, strict=True)
            if p.key in wanted
            or g.key.split(":", 1)[-1] in wanted
            or any(a.key in wanted or a.sku in wanted for a in g.articles)
        ]
    return Built(
        products=products,
        issues={a.key: a.issues for a in active if a.issues},
        article_keys={a.key for a in active},
        product_keys={g.key for g in groups},
    )


@task(name="quality-gate", cache_policy=TASK_OPTIONS["cache_policy"])
def check_quality(ctx: RunContext, built: Built) -> GateResult:
    """Great Expectations suite on every variant; refused records go to quarantine, the
    records that pass again close their old quarantine entries."""
    s = ctx.settings.catalogue
    result = gate_products(
        built.products,
        CatalogueChecks(vat_rates=frozenset(s.vat_rates), currency=s.currency, country=s.country),
        issues=built.issues,
    )
    passed_keys = [v.key for p in result.passed for v in p.variants]
    if not ctx.dry_run and ctx.store is not None:
        ctx.store.quarantine(ctx.connection, FLOW, "article", result.rejected, run_id=ctx.run_id)
        ctx.store.resolve_quarantine(ctx.connection, FLOW, "article", passed_keys)
    _snapshot(
        ctx,
        "article",
        "rejected",
        [
            SnapshotRow(
                e.error.key,
                None,
                {"field": e.error.field, "reason": e.error.reason, "check": e.error.check, "record": e.payload},
            )
            for e in result.rejected
        ],
    )
    for entry in result.rejected[:20]:
        logger().warning("quarantined %s", entry.error)
    if len(result.rejected) > 20:
        logger().warning("... and %d more quarantine entries", len(result.rejected) - 20)
    return result


def _views(bindings: dict[str, Any]) -> dict[str, BindingView]:
    return {
        k: BindingView(
            key=k,
            shop_id=b.shop_id,
            content_hash=b.content_hash,
            state=b.state,
            parent_key=b.parent_key,
            data=b.payload,
        )
        for k, b in bindings.items()
    }


@task(name="plan-changes", cache_policy=TASK_OPTIONS["cache_policy"])
def plan_changes(ctx: RunContext, gate: GateResult, built: Built, *, full: bool, partial: bool) -> CataloguePlan:
    """Diff against the bindings: only what changed is sent; gone products are archived."""
    s = ctx.settings.catalogue
    store = ctx.store
    product_bindings = _views(store.bindings(ctx.connection, "product")) if store else {}
    variant_bindings = _views(store.bindings(ctx.connection, "variant")) if store else {}
    plan = plan_catalogue(
        gate.passed,
        product_bindings,
        variant_bindings,
        ownership=catalogue_ownership(ctx.settings),
        read_article_keys=built.article_keys,
        read_product_keys=built.product_keys,
        full=full,
        archive_missing=s.archive_missing and not partial,
    )
    if ctx.settings.configures("stock"):
        for write in plan.writes:
            write.manage_stock = True  # new variants wait at 0 for the stock flow's quantity
    return plan


@dataclass(slots=True)
class BatchOutcome:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)
    failed: list[RecordError] = field(default_factory=list)
    notices: list[RecordError] = field(default_factory=list)


def _write_payload(write: ProductWrite, ownership: Ownership) -> dict[str, Any]:
    """What was sent for one product, as the snapshot records it."""
    product = write.product
    return {
        "action": "create" if write.ref is None else "update",
        "shop_id": write.ref.product_id if write.ref else None,
        "product_fields": {f: to_jsonable(getattr(product, f)) for f in sorted(write.product_fields)},
        "create_variants": [to_jsonable(v) for v in product.variants if v.key in write.create_variants],
        "update_variants": [
            {f: to_jsonable(getattr(v, f)) for f in ("key", *sorted(write.variant_fields))}
            for v in product.variants
            if v.key in write.update_variants
        ],
        "disable_variants": dict(write.disable_variants),
    }


def _variant_rows(writes: list[ProductWrite], ownership: Ownership) -> list[SnapshotRow]:
    """One row per variant sent, keyed by the ERP article key, so an auditor can follow one SKU."""
    rows: list[SnapshotRow] = []
    for write in writes:
        for variant in write.product.variants:
            if variant.key in write.create_variants or variant.key in write.update_variants:
                action = "create" if variant.key in write.create_variants else "update"
                rows.append(
                    SnapshotRow(
                        variant.key,
                        ownership.variant_hash(variant),
                        {"action": action, "product": write.product.key, **to_jsonable(variant)},
                    )
                )
        for key, shop_id in write.disable_variants.items():
            rows.append(SnapshotRow(key, None, {"action": "disable", "product": write.product.key, "shop_id": shop_id}))
    return rows


@task(name="publish-batch", **TASK_OPTIONS)
def publish_batch(ctx: RunContext, writes: list[ProductWrite]) -> BatchOutcome:
    """Create / update one batch in the shop, exactly once.

    1. claim: a ``pending`` binding (with the slug) is committed before a product is created;
    2. reconcile: products already in the shop (a previous attempt was cut off after the shop
       wrote) are found by slug / SKU and updated instead of created again;
    3. write the batch; 4. bind what the shop answered. A retry of this task starts again at 1
       and is therefore harmless.
    """
    store = ctx.store
    assert store is not None, "publish_batch never runs in a dry run"
    shop: CatalogueSink = require(ctx.shop, CatalogueSink, what="receive catalogue products")
    ownership = catalogue_ownership(ctx.settings)
    outcome = BatchOutcome()

    creates = [w for w in writes if w.ref is None]
    if creates:
        store.upsert_bindings(
            ctx.connection,
            "product",
            [
                {"erp_key": w.product.key, "state": BindingState.PENDING, "data": {"slug": w.product.slug}}
                for w in creates
            ],
        )
        found = shop.find_products([w.product for w in creates])
        if found:
            writes = [_adopt(w, found[w.product.key], ownership) if w.product.key in found else w for w in writes]
            outcome.adopted = sorted(found)
            logger().info("adopted %d products already in the shop (an earlier run was cut off)", len(found))

    _snapshot(
        ctx,
        "product",
        "sent",
        [SnapshotRow(w.product.key, ownership.product_hash(w.product), _write_payload(w, ownership)) for w in writes],
    )
    _snapshot(ctx, "variant", "sent", _variant_rows(writes, ownership))
    result = shop.write_products(writes)
    failed_keys = {e.key for e in result.errors}
    product_rows: list[dict[str, Any]] = []
    variant_rows: list[dict[str, Any]] = []
    for write in writes:
        product = write.product
        ref = result.refs.get(product.key)
        if ref is None:
            continue
        product_ok = product.key not in failed_keys
        product_rows.append(
            {
                "erp_key": product.key,
                "shop_id": ref.product_id,
                "state": BindingState.SYNCED if product_ok else BindingState.PENDING,
                "content_hash": ownership.product_hash(product) if product_ok else None,
                "data": {"slug": product.slug},
            }
        )
        for variant in product.variants:
            shop_id = ref.variant_ids.get(variant.key)
            if shop_id is None or variant.key in failed_keys:
                continue
            variant_rows.append(
                {
                    "erp_key": variant.key,
                    "shop_id": shop_id,
                    "parent_key": product.key,
                    "state": BindingState.SYNCED,
                    "content_hash": ownership.variant_hash(variant),
                }
            )
        for key, shop_id in write.disable_variants.items():
            if key not in failed_keys:
                variant_rows.append(
                    {"erp_key": key, "shop_id": shop_id, "parent_key": product.key, "state": BindingState.ARCHIVED}
                )
        if product_ok:
            (outcome.created if write.ref is None else outcome.updated).append(product.key)
    store.upsert_bindings(ctx.connection, "variant", variant_rows)
    store.upsert_bindings(ctx.connection, "product", product_rows)
    _forget_overwritten_values(ctx, writes)
    if result.errors:
        outcome.failed = list(result.errors)
        payloads = {w.product.key: _write_payload(w, ownership) for w in writes}
        store.quarantine(
            ctx.connection,
            FLOW,
            "product",
            [QuarantineEntry(e, payloads.get(e.key)) for e in result.errors],
            run_id=ctx.run_id,
        )
        for error in result.errors[:20]:
            logger().error("refused by the shop: %s", error)
    _snapshot(
        ctx,
        "product",
        "answered",
        [
            SnapshotRow(k, None, {"product_id": r.product_id, "variant_ids": r.variant_ids})
            for k, r in result.refs.items()
        ]
        + [SnapshotRow(e.key, None, {"error": e.reason, "field": e.field}) for e in result.errors],
    )
    ok = [w.product.key for w in writes if w.product.key not in failed_keys]
    store.resolve_quarantine(ctx.connection, FLOW, "product", ok)
    outcome.notices = [n for n in result.notices if n.key not in failed_keys]
    for notice in outcome.notices[:20]:
        logger().warning("written with a caveat: %s", notice)
    return outcome


def _forget_overwritten_values(ctx: RunContext, writes: Sequence[ProductWrite]) -> None:
    """What the value flows last sent no longer holds for the variants this batch wrote a price to
    (created, adopted, or updated with the price) or created (a new shop variant has no stock yet):
    their next runs send these variants again instead of believing the shop holds their value. A
    refused write is forgotten too: one value sent again is harmless, one believed in place is not."""
    assert ctx.store is not None
    priced = [
        key for w in writes for key in [*w.create_variants, *(w.update_variants if "price" in w.variant_fields else [])]
    ]
    ctx.store.forget_sent(ctx.connection, PRICE_ENTITY, priced)
    ctx.store.forget_sent(ctx.connection, STOCK_ENTITY, [k for w in writes for k in w.create_variants], locations=True)


def _adopt(write: ProductWrite, ref: ShopRef, ownership: Ownership) -> ProductWrite:
    """A product found in the shop: update it (owned fields only) and create only missing variants."""
    known = set(ref.variant_ids)
    return replace(
        write,
        ref=ref,
        product_fields=ownership.product_fields,
        create_variants=[v.key for v in write.product.variants if v.key not in known],
        update_variants=[v.key for v in write.product.variants if v.key in known],
        variant_fields=ownership.variant_fields,
    )


@task(name="archive-products", **TASK_OPTIONS)
def archive_products(ctx: RunContext, refs: dict[str, ShopRef]) -> list[str]:
    """Disable products gone from the ERP (never delete: orders and history point at them)."""
    store = ctx.store
    assert store is not None
    shop: CatalogueSink = require(ctx.shop, CatalogueSink, what="archive catalogue products")
    result = shop.archive_products(refs)
    failed = {e.key for e in result.errors}
    done = [k for k in refs if k not in failed]
    store.upsert_bindings(ctx.connection, "product", [{"erp_key": k, "state": BindingState.ARCHIVED} for k in done])
    store.upsert_bindings(
        ctx.connection,
        "variant",
        [{"erp_key": vk, "state": BindingState.ARCHIVED} for k in done for vk in refs[k].variant_ids],
    )
    _snapshot(ctx, "product", "archived", [SnapshotRow(k, None, {"product_id": refs[k].product_id}) for k in done])
    if result.errors:
        store.quarantine(
            ctx.connection, FLOW, "product", [QuarantineEntry(e) for e in result.errors], run_id=ctx.run_id
        )
    return done


@dataclass(slots=True)
class ShopDiff:
    """The dry run's plan made against the shop: what would be created, updated, left alone, field by field."""

    creates: list[str] = field(default_factory=list)
    updates: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    changes: list[FieldChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    read: bool = True
    """False: the shop could not be read back; the diff is the state store's plan."""


@task(name="diff-against-shop", **TASK_OPTIONS)
def diff_against_shop(ctx: RunContext, products: list[Product], plan: CataloguePlan) -> ShopDiff:
    """Dry run: ask the shop what it holds for every product the run would create, update or leave
    (bound or not: a binding whose product is gone from the shop, or an empty shop, is a creation)
    and compare the owned fields. Reads only; a sink without a product read gets the plan of the
    state store with a note."""
    shop: CatalogueSink = require(ctx.shop, CatalogueSink, what="receive catalogue products")
    ownership = catalogue_ownership(ctx.settings)
    diff = ShopDiff()
    archive = [FieldChange(f"product {k}", "", None, None, action="archive") for k in sorted(plan.archive)]
    if not isinstance(shop, CatalogueReader):
        diff.read = False
        diff.notes.append(
            f"shop values not read: {type(shop).__name__} has no product read (diff against the state store)"
        )
        diff.creates = [w.product.key for w in plan.creates]
        diff.updates = [w.product.key for w in plan.updates]
        diff.unchanged = list(plan.unchanged)
        for write in plan.writes:
            diff.changes += _planned_changes(write)
        diff.changes += archive
        return diff
    store = ctx.store
    product_bindings = store.bindings(ctx.connection, "product") if store else {}
    variant_bindings = store.bindings(ctx.connection, "variant") if store else {}
    bound = {p.key: product_bindings[p.key].shop_id for p in products if p.key in product_bindings}
    found = shop.find_products(products) if products else {}
    ids = {pid for pid in bound.values() if pid} | {ref.product_id for ref in found.values()}
    held = shop.read_products(sorted(ids)) if ids else {}
    for product in products:
        shop_id = bound.get(product.key)
        gone = ""
        values = held.get(shop_id) if shop_id else None
        if values is None and product.key in found:
            values = held.get(found[product.key].product_id)
        if values is None and shop_id:
            gone = f"bound to shop product {shop_id}, which the shop no longer holds"
        variant_ids: dict[str, str] = {}
        for v in product.variants:
            vb = variant_bindings.get(v.key)
            if vb is not None and vb.shop_id:
                variant_ids[v.key] = vb.shop_id
        if product.key in found:
            variant_ids.update(found[product.key].variant_ids)
        changes = product_changes(product, values, ownership=ownership, variant_ids=variant_ids, gone=gone)
        if values is None:
            diff.creates.append(product.key)
        elif changes:
            diff.updates.append(product.key)
        else:
            diff.unchanged.append(product.key)
        diff.changes += changes
    diff.changes += archive
    logger().info(
        "dry run against %s: would create %d, would update %d, unchanged %d",
        getattr(shop, "platform", "the shop"),
        len(diff.creates),
        len(diff.updates),
        len(diff.unchanged),
    )
    return diff


def _planned_changes(write: ProductWrite) -> list[FieldChange]:
    """What a write would send, as changes whose old value is unknown (the shop was not read)."""
    product = write.product
    record = product_record(product)
    if write.ref is None:
        return [FieldChange(record, "", None, None, action="create", detail=f"{len(product.variants)} variants")]
    changes = [
        FieldChange(record, name, "(not read)", format_value(getattr(product, name)))
        for name in sorted(write.product_fields)
    ]
    for variant in product.variants:
        if variant.key in write.create_variants:
            changes.append(FieldChange(variant_record(variant), "", None, None, action="create", detail=record))
        elif variant.key in write.update_variants:
            changes += [
                FieldChange(variant_record(variant), name, "(not read)", format_value(getattr(variant, name)))
                for name in sorted(write.variant_fields)
            ]
    return changes
