"""Invoice upload rules and tasks: posted invoices and credit notes -> PDF -> object storage ->
a link the customer sees on the shop order.

An invoice is rendered once: what was uploaded and linked is kept in ``sent_value`` (entity
``invoice``, by ERP id, with the PDF's SHA-256 and storage key), so a re-run renders nothing,
uploads nothing and links nothing. The storage key is content-addressed
(:mod:`connectors.storage`), and the shop link is idempotent on ``invoice:<erp id>:<sha>``: a
run cut off after the upload or after the link repeats neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from prefect import task

from connectors.base import DocumentLinkSink, InvoiceSource
from connectors.errors import Fatal, RecordError, Refused
from connectors.models import InvoiceDocument, content_hash, to_jsonable
from connectors.registry import require
from connectors.storage import DocumentStore
from tasks.common import TASK_OPTIONS, logger
from tasks.context import RunContext
from tasks.quality import Check, run_checks
from tasks.settings import invoice_title
from tasks.snapshots import SnapshotRow
from tasks.state import QuarantineEntry
from tasks.values import snapshot

__all__ = [
    "ENTITY",
    "FLOW",
    "Uploaded",
    "document_store",
    "done_key",
    "pdf_checks",
    "pdf_problem",
    "read_invoices",
    "upload_one",
]

FLOW = "upload-invoices"
ENTITY = "invoice"
MIN_PDF_BYTES = 200


def done_key(invoice: InvoiceDocument) -> str:
    """What ``sent_value`` keeps per document and order (one invoice may cover two web orders)."""
    return f"{invoice.erp_id}@{invoice.shop_order_id}"


def pdf_problem(content: bytes) -> str:
    """Why ``content`` is not a PDF a customer can open ("" when it is one)."""
    if not content:
        return "the PDF is empty"
    if not content.startswith(b"%PDF-"):
        return f"not a PDF (starts with {content[:8]!r})"
    if len(content) < MIN_PDF_BYTES:
        return f"the PDF is only {len(content)} bytes"
    if b"%%EOF" not in content[-1024:]:
        return "the PDF is truncated (no %%EOF at its end)"
    return ""


def pdf_checks() -> list[Check]:
    import great_expectations.expectations as gxe

    return [
        Check(
            "pdf",
            "pdf",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="pdf_problem", value_set=[""]),
            lambda r: str(r["pdf_problem"]),
        ),
        Check(
            "kind",
            "kind",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="kind", value_set=["invoice", "credit_note"]),
            lambda r: f"kind {r['kind']!r} is neither invoice nor credit_note",
        ),
        Check(
            "order",
            "shop_order_id",
            lambda: gxe.ExpectColumnValuesToNotBeNull(column="shop_order_id"),
            lambda r: "the invoice names no shop order",
        ),
    ]


def document_store(ctx: RunContext) -> DocumentStore:
    """The bucket of ``[connections.<name>.invoices.storage]`` (credentials resolved here)."""
    storage = ctx.settings.invoices.storage
    if storage is None:
        raise Fatal(
            "no storage is configured for invoice PDFs.",
            resolution=f"add [connections.{ctx.connection}.invoices.storage] with bucket (and endpoint_url, "
            "region, access_key / secret_key as env: or block: references, or public_base_url).",
        )
    where = f"connections.{ctx.connection}.invoices.storage"
    access = ctx.config.secret(storage.access_key, what=f"{where}.access_key")
    secret = ctx.config.secret(storage.secret_key, what=f"{where}.secret_key")
    return DocumentStore(
        storage.bucket,
        prefix=storage.prefix,
        public_base_url=storage.public_base_url,
        url_expiry_days=storage.url_expiry_days,
        endpoint_url=storage.endpoint_url,
        region=storage.region,
        access_key=access.get_secret_value() if access else None,
        secret_key=secret.get_secret_value() if secret else None,
    )


@task(name="read-invoices", **TASK_OPTIONS)
def read_invoices(ctx: RunContext, since: datetime | None, order_ids: Sequence[str] | None) -> list[InvoiceDocument]:
    source: InvoiceSource = require(ctx.erp, InvoiceSource, what="give invoices")
    found = list(source.iter_invoices(since, order_ids or None))
    snapshot(ctx, FLOW, ENTITY, "read", [SnapshotRow(i.erp_id, content_hash(i), to_jsonable(i)) for i in found])
    logger().info("read %d posted invoices and credit notes", len(found))
    return found


@dataclass(slots=True)
class Uploaded:
    invoice: InvoiceDocument
    result: str
    """``uploaded`` (new object and link), ``linked`` (the object was there: link only), ``quarantined``."""
    key: str = ""
    errors: list[RecordError] = field(default_factory=list)


@task(name="upload-invoice", **TASK_OPTIONS)
def upload_one(ctx: RunContext, invoice: InvoiceDocument, store: DocumentStore) -> Uploaded:
    """Render, check, upload (unless the same bytes are there), link on the shop order, record."""
    source: InvoiceSource = require(ctx.erp, InvoiceSource, what="give invoices")
    shop: DocumentLinkSink = require(ctx.shop, DocumentLinkSink, what="show documents to customers")
    state = ctx.store
    assert state is not None
    if invoice.issues:  # what the ERP connector could not read: no guessing on a customer's invoice
        return _refuse(ctx, invoice, list(invoice.issues))
    try:
        content = source.render_pdf(invoice)
    except Refused as refused:
        return _refuse(ctx, invoice, [refused.error])
    row = {
        "key": invoice.erp_id,
        "pdf_problem": pdf_problem(content),
        "kind": invoice.kind,
        "shop_order_id": invoice.shop_order_id or None,
    }
    failures = run_checks("invoices", [row], pdf_checks())
    if failures:
        errors = [
            RecordError(invoice.erp_id, e.field, f"{invoice.number}: {e.reason}", check=e.check) for e in failures[0]
        ]
        return _refuse(ctx, invoice, errors)
    stored = store.put(
        invoice.shop_order_id,
        invoice.number,
        content,
        metadata={"invoice": invoice.number, "order": invoice.shop_order_id, "kind": invoice.kind},
    )
    title = invoice_title(ctx.settings, invoice.kind, invoice.number)
    link_id = shop.link_document(
        invoice.shop_order_id, title, stored.url, key=f"invoice:{invoice.erp_id}:{stored.sha256[:16]}"
    )
    value: dict[str, Any] = {
        "key": stored.key,
        "sha256": stored.sha256,
        "link": link_id,
        "order": invoice.shop_order_id,
    }
    state.record_sent(
        ctx.connection,
        ENTITY,
        [{"key": done_key(invoice), "shop_id": link_id, "value": value, "content_hash": stored.sha256}],
        run_id=ctx.run_id,
    )
    state.resolve_quarantine(ctx.connection, FLOW, ENTITY, [invoice.erp_id])
    # The storage key and hash only: a pre-signed URL carries a signature, never snapshot it.
    snapshot(ctx, FLOW, ENTITY, "sent", [SnapshotRow(invoice.erp_id, stored.sha256, {**to_jsonable(invoice), **value})])
    logger().info(
        "%s %s -> %s (%s)", invoice.kind, invoice.number, stored.key, "uploaded" if stored.uploaded else "already there"
    )
    return Uploaded(invoice, "uploaded" if stored.uploaded else "linked", key=stored.key)


def _refuse(ctx: RunContext, invoice: InvoiceDocument, errors: list[RecordError]) -> Uploaded:
    assert ctx.store is not None
    payload = {"number": invoice.number, "order": invoice.shop_order_id}
    ctx.store.quarantine(ctx.connection, FLOW, ENTITY, [QuarantineEntry(e, payload) for e in errors], run_id=ctx.run_id)
    snapshot(
        ctx,
        FLOW,
        ENTITY,
        "rejected",
        [SnapshotRow(e.key, None, {"field": e.field, "reason": e.reason}) for e in errors],
    )
    for error in errors:
        logger().warning("invoice %s quarantined: %s", invoice.number, error)
    return Uploaded(invoice, "quarantined", errors=errors)
