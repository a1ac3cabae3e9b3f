"""Dolibarr as an invoice source: validated customer invoices of the web orders ``orders.py`` made.

Invoices (``/invoices``) of type 0 (standard), 3 (deposit) and 2 (credit note), validated (``statut``
1 unpaid, 2 paid, 3 abandoned: ``Facture::STATUS_*``), linked to a web order (``ref_ext``
``"<shop>:<shop order id>"``): by ``linkedObjectsIds.commande`` (``GET /invoices/{id}``: the list
does not carry it, invoices.json), a credit note through the invoice it corrects
(``fk_facture_source``). ``posted_at`` is ``date_validation``; reads are incremental on ``t.tms``.
The PDF: ``PUT /documents/builddoc`` (``modulepart=invoice``, ``original_file=<ref>/<ref>.pdf``,
swagger ``documentsBuilddocModel``), then ``GET /documents/download`` (base64 ``content``,
``api_documents.class.php`` ``index()``). Details: docs/dolibarr.md (Statuses and invoices).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from connectors.erp.dolibarr.client import DolibarrClient, sql_any
from connectors.erp.dolibarr.settings import DolibarrSettings
from connectors.errors import RecordError, Refused, Retryable
from connectors.http import HttpError
from connectors.models import InvoiceDocument, ensure_utc

__all__ = ["CREDIT_NOTE", "DolibarrInvoices", "WebInvoice", "tms_filter"]

STANDARD, CREDIT_NOTE, DEPOSIT = "0", "2", "3"
"""Facture::TYPE_STANDARD, TYPE_CREDIT_NOTE, TYPE_DEPOSIT (compta/facture/class/facture.class.php)."""
VALIDATED = ("1", "2", "3")
"""Facture::STATUS_VALIDATED, STATUS_CLOSED (paid), STATUS_ABANDONED; 0 is a draft."""
_CHUNK = 20


def tms_filter(since: datetime | None) -> str | None:
    """``(t.tms:>=:'YYYY-MM-DD HH:MM:SS')`` in UTC, or None (every record)."""
    if since is None:
        return None
    return f"(t.tms:>=:'{ensure_utc(since).strftime('%Y-%m-%d %H:%M:%S')}')"


def epoch(value: Any) -> datetime | None:
    """Dolibarr's dates travel as Unix timestamps (orders.json ``date_validation``)."""
    if value in (None, "", 0, "0"):
        return None
    return datetime.fromtimestamp(int(value), tz=timezone.utc)


@dataclass(frozen=True, slots=True)
class WebInvoice:
    """A validated customer invoice of web orders (``order_ids``: Dolibarr order rowids)."""

    row: dict[str, Any]
    order_ids: tuple[str, ...]

    @property
    def kind(self) -> str:
        return "credit_note" if str(self.row.get("type")) == CREDIT_NOTE else "invoice"

    @property
    def total(self) -> Decimal:
        return Decimal(str(self.row.get("total_ttc") or 0)).quantize(Decimal("0.01"))

    @property
    def posted_at(self) -> datetime:
        return epoch(self.row.get("date_validation")) or epoch(self.row.get("date")) or datetime.now(timezone.utc)


def linked_orders(row: Mapping[str, Any]) -> list[str]:
    """Order rowids in ``linkedObjectsIds`` (``{"commande": {"<n>": "<id>"}}``, GET /invoices/{id})."""
    links = row.get("linkedObjectsIds") or {}
    if not isinstance(links, dict):
        return []
    orders = links.get("commande") or {}
    values = orders.values() if isinstance(orders, dict) else orders
    return [str(v) for v in values]


class DolibarrInvoices:
    """``InvoiceSource`` over Dolibarr's REST API (mixed into ``DolibarrConnector``)."""

    client: DolibarrClient
    settings: DolibarrSettings

    def _shop_id(self, ref_ext: Any) -> str | None:
        prefix = f"{self.settings.orders.shop}:"
        text = str(ref_ext or "")
        rest = text[len(prefix) :] if text.startswith(prefix) else ""
        return rest if rest and ":" not in rest else None  # "<shop>:c:<id>" / ":pay:" are no orders

    def _web_orders(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """rowid -> order row, for the ids that are validated web orders of this shop."""
        found: dict[str, dict[str, Any]] = {}
        wanted = list(dict.fromkeys(ids))
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            for row in self.client.iter_list("orders", sqlfilters=sql_any("t.rowid", chunk)):
                if str(row.get("statut")) != "0" and self._shop_id(row.get("ref_ext")) is not None:
                    found[str(row["id"])] = row
        return found

    def _read_invoices(self, since: datetime | None, socids: Sequence[str] | None = None) -> list[WebInvoice]:
        """Validated invoices (types 0, 2, 3) changed at or after ``since``, with their orders."""
        params: dict[str, Any] = {}
        batches: list[str | None] = [None]
        if socids is not None:
            ids = sorted(set(socids), key=lambda s: int(s))
            batches = [",".join(ids[i : i + _CHUNK]) for i in range(0, len(ids), _CHUNK)]
        rows: list[dict[str, Any]] = []
        for batch in batches:
            if batch is not None:
                params["thirdparty_ids"] = batch
            rows += [
                r
                for r in self.client.iter_list("invoices", params, sqlfilters=tms_filter(since), page_size=100)
                if str(r.get("statut")) in VALIDATED and str(r.get("type")) in (STANDARD, CREDIT_NOTE, DEPOSIT)
            ]
        full: dict[str, dict[str, Any]] = {}

        def detail(ident: str) -> dict[str, Any]:
            if ident not in full:
                full[ident] = self.client.get(f"invoices/{ident}")
            return full[ident]

        invoices: list[WebInvoice] = []
        for row in rows:
            row = detail(str(row["id"]))
            orders = linked_orders(row)
            if not orders and str(row.get("type")) == CREDIT_NOTE and row.get("fk_facture_source"):
                orders = linked_orders(detail(str(row["fk_facture_source"])))
            if orders:
                invoices.append(WebInvoice(row, tuple(orders)))
        return invoices

    def web_invoices(self, since: datetime | None, socids: Sequence[str] | None = None) -> list[WebInvoice]:
        """Validated invoices of web orders of this shop (``order_ids`` narrowed to them), oldest first."""
        invoices = self._read_invoices(since, socids)
        orders = self._web_orders([o for i in invoices for o in i.order_ids])
        kept = [WebInvoice(i.row, tuple(o for o in i.order_ids if o in orders)) for i in invoices]
        self.__dict__["_invoice_orders"] = orders
        kept = [i for i in kept if i.order_ids]
        kept.sort(key=lambda i: (i.posted_at, int(i.row["id"])))
        return kept

    # -- InvoiceSource -----------------------------------------------------------------------------
    def iter_invoices(
        self, since: datetime | None, shop_order_ids: Sequence[str] | None = None
    ) -> Iterator[InvoiceDocument]:
        """Validated invoices, deposits and credit notes of web orders changed at or after ``since``
        (aware UTC; None: all), of these shop orders only when given; oldest first."""
        wanted = set(shop_order_ids) if shop_order_ids is not None else None
        invoices = self.web_invoices(since)
        orders: dict[str, dict[str, Any]] = self.__dict__.get("_invoice_orders", {})
        for invoice in invoices:
            row = invoice.row
            for order_id in invoice.order_ids:
                shop_id = self._shop_id(orders[order_id].get("ref_ext"))
                if shop_id is None or (wanted is not None and shop_id not in wanted):
                    continue
                yield InvoiceDocument(
                    erp_id=str(row["id"]),
                    number=str(row.get("ref") or row["id"]),
                    kind=invoice.kind,
                    shop_order_id=shop_id,
                    posted_at=invoice.posted_at,
                    currency=str(row.get("multicurrency_code") or self.settings.currency),
                    total_tax_included=invoice.total,
                )

    def render_pdf(self, invoice: InvoiceDocument) -> bytes:
        """The invoice's PDF as Dolibarr issued it: the stored ``<ref>/<ref>.pdf``
        (``GET /documents/download``), built by ``PUT /documents/builddoc`` (its default model,
        ``model_pdf``) only when none is stored. A stored document is never rebuilt: a rebuild could
        differ from what was issued (a model or the customer's address changed since).

        Raises:
            Refused: Dolibarr could not build or give it (its answer), or gave no PDF.
        """
        path = f"{invoice.number}/{invoice.number}.pdf"
        document = {"modulepart": "invoice", "original_file": path}
        try:
            try:
                answer = self.client.get("documents/download", document)
            except HttpError as exc:
                if exc.status != 404:  # 404 "File not found": never generated, build it (its answer holds it)
                    raise
                answer = self.client.put("documents/builddoc", document)
        except HttpError as exc:
            if exc.status == 401:  # the key or its permissions: the run's problem, not this invoice's
                raise
            reason = f"Dolibarr could not build the PDF of {invoice.number} (HTTP {exc.status}): {exc.body[:300]}"
            raise Refused(_pdf_error(invoice, reason)) from exc
        except Retryable as exc:  # builddoc's 500 "Error generating document" (a broken model), after retries
            reason = f"Dolibarr could not build the PDF of {invoice.number}: {str(exc)[:300]}"
            raise Refused(_pdf_error(invoice, reason)) from exc
        try:
            content = base64.b64decode(str((answer or {}).get("content") or ""), validate=True)
        except (binascii.Error, ValueError):
            content = b""
        if not content.startswith(b"%PDF-"):
            kind = (answer or {}).get("content-type")
            raise Refused(_pdf_error(invoice, f"Dolibarr gave {invoice.number} as {kind!r}, not a PDF"))
        return content


def _pdf_error(invoice: InvoiceDocument, reason: str) -> RecordError:
    return RecordError(invoice.erp_id, "pdf", reason, check="render")
