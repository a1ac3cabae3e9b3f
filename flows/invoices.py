"""Invoice PDFs, ERP -> object storage -> the customer's order on the shop.

read the invoices and credit notes posted since the cursor (minus an overlap) and those refused
last time -> leave out those already linked -> per invoice: render the PDF, check it is one,
upload it under its content hash (never twice), link it on the shop order (idempotent), record
-> cursor -> summary artifact. See ``docs/feedback-and-invoices.md``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from prefect import flow

from connectors.errors import Fatal
from connectors.models import InvoiceDocument, ensure_utc
from tasks.alerts import check_alerts
from tasks.common import logger
from tasks.context import RunContext, open_context
from tasks.invoices import ENTITY, FLOW, document_store, done_key, read_invoices, upload_one
from tasks.leases import RunLease, flow_lease
from tasks.state import utcnow
from tasks.values import ValueReport, open_quarantine
from tasks.windows import run_window

__all__ = ["InvoiceSummary", "upload_invoices"]


@dataclass
class InvoiceSummary:
    connection: str
    run_id: str
    dry_run: bool
    since: str | None = None
    read: int = 0
    uploaded: int = 0
    linked_only: int = 0
    already_done: int = 0
    quarantined: int = 0
    failed: int = 0
    cursor: str | None = None
    api_calls: int = 0
    storage_calls: int = 0
    snapshots: str = ""
    busy: str = ""
    documents: list[dict[str, Any]] = field(default_factory=list)
    quarantine: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@flow(name="upload-invoices", log_prints=True)
def upload_invoices(
    connection: str | None = None,
    config: str | None = None,
    since: datetime | None = None,
    order_ids: list[str] | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Put the PDFs of newly posted invoices and credit notes in the customers' order pages.

    Args:
        connection: name of the ERP/shop connection in the configuration (optional if only one).
        config: configuration file (default ``$PASSERELLE_CONFIG`` or ``passerelle.toml``).
        since: backfill: invoices posted from this time (aware; the cursor does not move).
        order_ids: only the invoices of these shop orders (their shop ids).
        dry_run: list what would be uploaded; render, upload and link nothing.
    """
    ctx = open_context(config, connection, dry_run=dry_run)
    try:
        with flow_lease(ctx, FLOW) as lease:
            if lease.busy:
                busy = InvoiceSummary(ctx.connection, ctx.run_id, ctx.dry_run, busy=lease.busy)
                _report(busy)
                return busy.as_dict()
            return _run(ctx, lease, since=since, order_ids=order_ids or []).as_dict()
    finally:
        ctx.close()


def _run(ctx: RunContext, lease: RunLease, *, since: datetime | None, order_ids: list[str]) -> InvoiceSummary:
    settings = ctx.settings.invoices
    summary = InvoiceSummary(connection=ctx.connection, run_id=ctx.run_id, dry_run=ctx.dry_run)
    state = ctx.store
    now = utcnow()
    window = run_window(state, ctx.connection, FLOW, ENTITY, now, settings, since=since, order_ids=order_ids)
    incremental = window is not None and window.incremental
    start = window.since if window is not None else None
    summary.since = start.isoformat() if start else None
    invoices = read_invoices(ctx, None if order_ids else start, order_ids)
    if incremental and state is not None:
        # Refused last time (a PDF Tryton could not render): read again through their orders.
        seen = {i.erp_id for i in invoices}
        refused = [
            q
            for q in state.quarantined(connection=ctx.connection, flow=FLOW, entity=ENTITY)
            if q.record_key not in seen
        ]
        orders = sorted({str(json.loads(q.payload)["order"]) for q in refused if q.payload})
        if orders:
            wanted = {q.record_key for q in refused}
            invoices += [i for i in read_invoices(ctx, None, orders) if i.erp_id in wanted]
    summary.read = len(invoices)
    done = state.sent_hashes(ctx.connection, ENTITY) if state else {}
    todo: list[InvoiceDocument] = []
    for invoice in invoices:
        if done_key(invoice) in done:
            summary.already_done += 1
        else:
            todo.append(invoice)
    if ctx.dry_run:
        summary.documents = [_line(i, "would upload") for i in todo]
    elif todo:
        store = document_store(ctx)
        failed_at: datetime | None = None
        for invoice in todo:
            lease.keep()  # each invoice is a batch of its own: render, upload, link
            try:
                outcome = upload_one(ctx, invoice, store)
            except Fatal:
                raise
            except Exception as exc:  # noqa: BLE001 - one invoice's failure never stops the others
                summary.failed += 1
                summary.documents.append(_line(invoice, "failed", f"{type(exc).__name__}: {exc}"))
                failed_at = min(failed_at or invoice.posted_at, invoice.posted_at)
                logger().error("invoice %s not uploaded: %s", invoice.number, exc)
                continue
            if outcome.result == "uploaded":
                summary.uploaded += 1
            elif outcome.result == "linked":
                summary.linked_only += 1
            else:
                summary.quarantined += 1
            detail = "; ".join(e.reason for e in outcome.errors) or outcome.key
            summary.documents.append(_line(invoice, outcome.result, detail))
        summary.storage_calls = store.calls
        summary.snapshots = ctx.snapshots.location(FLOW, ENTITY)
        if incremental and state is not None:
            target = min(now, ensure_utc(failed_at)) if failed_at else now
            state.set_cursor(ctx.connection, FLOW, ENTITY, target.isoformat())
            summary.cursor = target.isoformat()
    elif incremental and state is not None and not ctx.dry_run:
        state.set_cursor(ctx.connection, FLOW, ENTITY, now.isoformat())
        summary.cursor = now.isoformat()
    summary.quarantine = open_quarantine(ctx, FLOW)
    summary.api_calls = ctx.api_calls("shop")
    _report(summary)
    check_alerts(ctx)
    return summary


def _line(invoice: InvoiceDocument, status: str, detail: str = "") -> dict[str, Any]:
    return {
        "number": invoice.number,
        "kind": invoice.kind,
        "order": invoice.shop_order_id,
        "total": f"{invoice.total_tax_included} {invoice.currency}",
        "status": status,
        "detail": detail,
    }


def _report(summary: InvoiceSummary) -> None:
    ValueReport(
        key=f"invoices-{summary.connection}",
        title=f"Invoice PDFs for `{summary.connection}`",
        noun="invoices and credit notes",
        nothing=summary.busy or "Nothing to upload: every posted invoice is on its order already.",
        counts=[
            (
                "would upload" if summary.dry_run else "uploaded and linked",
                len(summary.documents) if summary.dry_run else summary.uploaded,
            ),
            ("linked (PDF already stored)", summary.linked_only),
            ("already done", summary.already_done),
            ("quarantined", summary.quarantined),
            ("failed (next run)", summary.failed),
        ],
        facts=[
            f"{summary.read} documents read (posted since {summary.since or 'the start'}); "
            f"{summary.storage_calls} storage and {summary.api_calls} shop API calls."
        ],
        snapshots=summary.snapshots,
        table=(
            ["document", "kind", "order", "total", "status", "detail"],
            [(d["number"], d["kind"], d["order"], d["total"], d["status"], d["detail"]) for d in summary.documents],
        ),
        quarantine=summary.quarantine,
    ).publish(anything_done=bool(summary.documents), dry_run=summary.dry_run)
