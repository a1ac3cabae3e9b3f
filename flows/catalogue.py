"""Catalogue publish, ERP -> shop: articles become products with variants.

extract -> group variants -> map -> quality gate -> diff against bindings -> create / update
in batches -> archive what the ERP dropped -> snapshot -> summary artifact.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from prefect import flow

from tasks.alerts import check_alerts
from tasks.catalogue import (
    FLOW,
    archive_products,
    build_products,
    check_quality,
    diff_against_shop,
    extract_articles,
    plan_changes,
    publish_batch,
)
from tasks.common import logger, markdown_table, publish_markdown
from tasks.context import RunContext, open_context
from tasks.dry_run import changes_markdown
from tasks.leases import RunLease, flow_lease

__all__ = ["CatalogueSummary", "publish_catalogue"]


@dataclass
class CatalogueSummary:
    connection: str
    run_id: str
    dry_run: bool
    read: int = 0
    products: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    archived: int = 0
    quarantined: int = 0
    failed: int = 0
    api_calls: int = 0
    snapshots: str = ""
    busy: str = ""
    would_create: list[str] = field(default_factory=list)
    would_update: list[str] = field(default_factory=list)
    would_archive: list[str] = field(default_factory=list)
    quarantine: list[dict[str, str]] = field(default_factory=list)
    notices: list[dict[str, str]] = field(default_factory=list)
    """Records written with a caveat (a tax-included price the shop cannot show to the cent)."""
    changes: list[dict[str, str]] = field(default_factory=list)
    """Dry run: per record and field, what the shop holds -> what the run would write
    (``tasks.dry_run.FieldChange.as_dict``)."""
    dry_run_notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@flow(name="publish-catalogue", log_prints=True)
def publish_catalogue(
    connection: str | None = None,
    config: str | None = None,
    full: bool = False,
    keys: list[str] | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Publish the ERP catalogue to the shop.

    Args:
        connection: name of the ERP/shop connection in the configuration (optional if only one).
        config: configuration file (default ``$PASSERELLE_CONFIG`` or ``passerelle.toml``).
        full: send every owned field of every product, even unchanged ones (repairs drift).
        keys: only these products (article keys, SKUs or group keys); nothing is archived.
        dry_run: compute and show what would be sent; write nothing to the shop or the state store.
    """
    ctx = open_context(config, connection, dry_run=dry_run)
    try:
        with flow_lease(ctx, FLOW) as lease:
            if lease.busy:
                busy = CatalogueSummary(ctx.connection, ctx.run_id, ctx.dry_run, busy=lease.busy)
                _report(busy)
                return busy.as_dict()
            return _run(ctx, lease, full=full, keys=keys).as_dict()
    finally:
        ctx.close()


def _run(ctx: RunContext, lease: RunLease, *, full: bool, keys: list[str] | None) -> CatalogueSummary:
    summary = CatalogueSummary(connection=ctx.connection, run_id=ctx.run_id, dry_run=ctx.dry_run)
    articles = extract_articles(ctx)
    built = build_products(ctx, articles, keys)
    gate = check_quality(ctx, built)
    plan = plan_changes(ctx, gate, built, full=full, partial=bool(keys))
    summary.read = len(articles)
    summary.products = len(built.products)
    summary.unchanged = len(plan.unchanged)
    summary.quarantined = len(gate.rejected_keys)
    summary.quarantine = [{"key": e.error.key, "field": e.error.field, "reason": e.error.reason} for e in gate.rejected]
    if ctx.dry_run:
        # The plan made against the live shop (read only), field by field.
        diff = diff_against_shop(ctx, gate.passed, plan)
        summary.would_create = diff.creates
        summary.would_update = diff.updates
        summary.unchanged = len(diff.unchanged)
        summary.would_archive = sorted(plan.archive)
        summary.changes = [c.as_dict() for c in diff.changes]
        summary.dry_run_notes = diff.notes
    else:
        size = max(1, ctx.settings.catalogue.batch_size)
        for start in range(0, len(plan.writes), size):
            lease.keep()
            outcome = publish_batch(ctx, plan.writes[start : start + size])
            summary.created += len(outcome.created)
            summary.updated += len(outcome.updated)
            summary.failed += len(outcome.failed)
            summary.quarantine += [{"key": e.key, "field": e.field, "reason": e.reason} for e in outcome.failed]
            summary.notices += [{"key": e.key, "field": e.field, "reason": e.reason} for e in outcome.notices]
        if plan.archive:
            lease.keep()
            summary.archived = len(archive_products(ctx, plan.archive))
        summary.snapshots = ctx.snapshots.location(FLOW, "product")
    summary.api_calls = ctx.api_calls("shop")
    _report(summary)
    check_alerts(ctx)
    return summary


def _report(summary: CatalogueSummary) -> None:
    if summary.dry_run:
        title = f"Catalogue dry run for `{summary.connection}`: nothing was written"
        counts = [
            ("would create", len(summary.would_create)),
            ("would update", len(summary.would_update)),
            ("unchanged", summary.unchanged),
            ("would archive", len(summary.would_archive)),
            ("quarantined", summary.quarantined),
        ]
    else:
        title = f"Catalogue publish for `{summary.connection}`"
        counts = [
            ("created", summary.created),
            ("updated", summary.updated),
            ("unchanged", summary.unchanged),
            ("archived", summary.archived),
            ("quarantined", summary.quarantined),
            ("failed", summary.failed),
        ]
    lines = [f"# {title}", "", markdown_table(["", "products"], counts), ""]
    if summary.busy:
        lines += [summary.busy, ""]
    lines.append(
        f"{summary.read} articles read, {summary.products} products after grouping, {summary.api_calls} shop API calls."
    )
    if summary.snapshots:
        lines += ["", f"Snapshots: `{summary.snapshots}`"]
    if summary.dry_run:
        for label, keys in (
            ("create", summary.would_create),
            ("update", summary.would_update),
            ("archive", summary.would_archive),
        ):
            if keys:
                lines += [
                    "",
                    f"Would {label}: "
                    + ", ".join(f"`{k}`" for k in keys[:50])
                    + (f" and {len(keys) - 50} more" if len(keys) > 50 else ""),
                ]
        for note in summary.dry_run_notes:
            lines += ["", f"**Note:** {note}"]
        lines += changes_markdown(summary.changes)
    if summary.notices:
        lines += [
            "",
            f"## Written with a caveat ({len(summary.notices)})",
            "",
            markdown_table(
                ["record", "field", "note"], [(n["key"], n["field"], n["reason"]) for n in summary.notices[:100]]
            ),
        ]
    if summary.quarantine:
        lines += [
            "",
            "## Quarantined",
            "",
            markdown_table(
                ["record", "field", "reason"], [(q["key"], q["field"], q["reason"]) for q in summary.quarantine[:100]]
            ),
        ]
    publish_markdown(f"catalogue-{summary.connection}", "\n".join(lines), title)
    logger().info("catalogue %s: %s", summary.connection, ", ".join(f"{label} {count}" for label, count in counts))
