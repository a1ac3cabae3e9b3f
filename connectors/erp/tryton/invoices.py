"""Tryton as an invoice source: posted invoices and credit notes of imported web orders, as PDFs.

Customer invoices (``account.invoice`` of type ``out``) with an account move, linked to a web sale
(``reference`` ``"<shop>:<shop order id>"``, see ``orders.py``) by their ``sales``, by the
``origin`` of a return sale or by the ``origin`` of their lines (the Credit wizard), all in one
search. ``kind`` is ``credit_note`` or ``invoice``; ``posted_at`` is the creation time of the
invoice's move. :meth:`TrytonInvoices.render_pdf` returns the document Tryton stored when it
posted the invoice, and refuses one stored as ODT (LibreOffice missing at posting time).

Details: docs/tryton-feedback.md (sections "Invoices", "Calls", "PDFs on a real Tryton").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from connectors.erp.tryton.client import TrytonClient, TrytonError
from connectors.errors import RecordError, Refused
from connectors.models import InvoiceDocument, ensure_utc

if TYPE_CHECKING:
    from connectors.erp.tryton.settings import TrytonSettings

__all__ = [
    "INVOICE_REPORT",
    "TrytonInvoices",
    "WebInvoice",
    "chunks",
    "invoice_kind",
    "read_web_invoices",
    "shop_order_id",
    "web_reference",
    "web_reference_clause",
]

INVOICE_REPORT = "account.invoice"
"""``report_name`` of Tryton's invoice report (``ir.action.report``)."""
CHUNK = 500
_FIELDS = [
    "id",
    "number",
    "state",
    "total_amount",
    "currency.code",
    "move.create_date",
    "sales.reference",
    "sales.origin",
    "lines.origin",
]
_LINE = "account.invoice.line,"
_SALE = "sale.sale,"


# -- references of web sales ----------------------------------------------------------------------


def web_reference(shop: str, order_id: str) -> str:
    """The sale ``reference`` of an imported web order (``orders.py``)."""
    return f"{shop}:{order_id}"


def shop_order_id(shop: str, reference: str | None) -> str | None:
    """The shop order id a sale reference carries; None for a sale that is no web order."""
    prefix = f"{shop}:"
    if reference and reference.startswith(prefix) and len(reference) > len(prefix):
        return reference[len(prefix) :]
    return None


def web_reference_clause(shop: str, references: Sequence[str] | None) -> tuple[str, Any]:
    """Operator and value matching these references, or every web reference of ``shop``."""
    if references is not None:
        return "in", list(references)
    escaped = shop.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return "like", f"{escaped}:%"


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# -- pure rules -------------------------------------------------------------------------------------


def invoice_kind(total: Decimal, line_origins: Iterable[str | None]) -> str:
    """``credit_note`` for a negative total, or a zero one made only of copies of another invoice's
    lines (Tryton's Credit wizard); else ``invoice`` (a credit of a credit note is an invoice)."""
    if total < 0:
        return "credit_note"
    origins = list(line_origins)
    if total == 0 and origins and all((o or "").startswith(_LINE) for o in origins):
        return "credit_note"
    return "invoice"


# -- reading ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WebInvoice:
    """A posted customer invoice of one or more web orders (``references``: their sale references)."""

    id: int
    number: str
    state: str
    kind: str
    total: Decimal
    currency: str
    posted_at: datetime
    references: tuple[str, ...]


def read_web_invoices(
    client: TrytonClient,
    shop: str,
    *,
    references: Sequence[str] | None = None,
    since: datetime | None = None,
    page_size: int = 1000,
) -> list[WebInvoice]:
    """Posted customer invoices of web sales (of these ``references`` only, when given), posted at
    or after ``since``, ordered by posting time then id (see the module docstring)."""
    op, value = web_reference_clause(shop, references)
    domain: list[Any] = [
        ("type", "=", "out"),
        ("move", "!=", None),
        [
            "OR",
            ("sales.reference", op, value),
            ("sales.origin.reference", op, value, "sale.sale"),
            ("lines.origin.invoice.sales.reference", op, value, "account.invoice.line"),
        ],
    ]
    if since is not None:
        domain.append(("move.create_date", ">=", ensure_utc(since)))
    rows = list(client.model("account.invoice").iter_search_read(domain, _FIELDS, page_size=page_size))

    direct: dict[int, set[str]] = {}
    returns: dict[int, set[int]] = {}  # invoice -> web sales its return sales come from
    credited: dict[int, set[int]] = {}  # invoice -> invoice lines it credits
    for row in rows:
        sales = row.get("sales.") or []
        direct[row["id"]] = {s["reference"] for s in sales if shop_order_id(shop, s.get("reference"))}
        if direct[row["id"]]:
            continue
        returns[row["id"]] = {
            int(s["origin"][len(_SALE) :]) for s in sales if (s.get("origin") or "").startswith(_SALE)
        }
        credited[row["id"]] = {
            int(line["origin"][len(_LINE) :])
            for line in row.get("lines.") or []
            if (line.get("origin") or "").startswith(_LINE)
        }
    sale_refs = _read_map(client, "sale.sale", {i for ids in returns.values() for i in ids}, ["reference"])
    line_refs = _read_map(
        client, "account.invoice.line", {i for ids in credited.values() for i in ids}, ["invoice.sales.reference"]
    )

    wanted = set(references) if references is not None else None
    found: list[WebInvoice] = []
    for row in rows:
        refs = set(direct[row["id"]])
        refs |= {sale_refs[i].get("reference") or "" for i in returns.get(row["id"], ()) if i in sale_refs}
        for line_id in credited.get(row["id"], ()):
            invoice = line_refs.get(line_id, {}).get("invoice.") or {}
            refs |= {s.get("reference") or "" for s in invoice.get("sales.") or []}
        refs = {r for r in refs if shop_order_id(shop, r) and (wanted is None or r in wanted)}
        if not refs:
            continue
        total = row["total_amount"] or Decimal(0)
        found.append(
            WebInvoice(
                id=int(row["id"]),
                number=row.get("number") or str(row["id"]),
                state=row["state"],
                kind=invoice_kind(total, [line.get("origin") for line in row.get("lines.") or []]),
                total=total,
                currency=(row.get("currency.") or {}).get("code") or "",
                posted_at=ensure_utc(row["move."]["create_date"]),
                references=tuple(sorted(refs)),
            )
        )
    found.sort(key=lambda i: (i.posted_at, i.id))
    return found


def _read_map(client: TrytonClient, model: str, ids: set[int], fields: list[str]) -> dict[int, dict[str, Any]]:
    """``id -> row`` of these records (one read per 500, none when there are none)."""
    result: dict[int, dict[str, Any]] = {}
    ordered = sorted(ids)
    for chunk in chunks(ordered):
        result.update({int(r["id"]): r for r in client.model(model).read(list(chunk), ["id", *fields])})
    return result


# -- the source -------------------------------------------------------------------------------------


class TrytonInvoices:
    """``InvoiceSource`` over Tryton JSON-RPC (mixed into ``TrytonConnector``)."""

    client: TrytonClient
    settings: TrytonSettings

    def iter_invoices(
        self, since: datetime | None, shop_order_ids: Sequence[str] | None = None
    ) -> Iterator[InvoiceDocument]:
        """Posted invoices and credit notes of imported web orders, posted at or after ``since``
        (aware UTC; None: all), of these shop orders only when given; oldest first. An invoice of
        several web orders comes once per order."""
        shop = self.settings.orders.shop
        if shop_order_ids is None:
            invoices = read_web_invoices(self.client, shop, since=since)
        else:
            references = list(dict.fromkeys(web_reference(shop, i) for i in shop_order_ids))
            by_id = {
                invoice.id: invoice
                for chunk in chunks(references)
                for invoice in read_web_invoices(self.client, shop, references=chunk, since=since)
            }
            invoices = sorted(by_id.values(), key=lambda i: (i.posted_at, i.id))
        for invoice in invoices:
            for reference in invoice.references:
                yield InvoiceDocument(
                    erp_id=str(invoice.id),
                    number=invoice.number,
                    kind=invoice.kind,
                    shop_order_id=shop_order_id(shop, reference) or reference,
                    posted_at=invoice.posted_at,
                    currency=invoice.currency,
                    total_tax_included=invoice.total,
                )

    def render_pdf(self, invoice: InvoiceDocument) -> bytes:
        """The invoice as Tryton issued it, in PDF (the document Tryton stored when it posted it).

        Raises:
            Refused: Tryton could not render it (its reason), or has it in another format than
                PDF (the report is not set to PDF, or LibreOffice was missing on the Tryton server
                when the invoice was posted): the reason says how to fix it.
        """
        try:
            invoice_id = int(invoice.erp_id)
        except ValueError:
            raise Refused(_pdf_error(invoice, f"{invoice.erp_id!r} is no Tryton invoice id")) from None
        data = {"model": "account.invoice", "id": invoice_id, "ids": [invoice_id]}
        try:
            result = self.client.call(f"report.{INVOICE_REPORT}.execute", [invoice_id], data)
        except TrytonError as exc:
            message = str(exc).split(" Resolution:", 1)[0]
            raise Refused(_pdf_error(invoice, f"Tryton could not render it: {message}")) from exc
        extension, content = result[0], result[1]
        if isinstance(content, str):
            content = content.encode()
        if extension == "pdf" and bytes(content).startswith(b"%PDF-"):
            return bytes(content)
        reason = (
            f"Tryton gives invoice {invoice.number} as {extension!r}, not PDF: it keeps the document made when "
            "the invoice was posted, which was not converted. Resolution: set the Invoice report's extension to "
            "PDF (Administration > User Interface > Actions > Reports > Invoice), install LibreOffice (soffice) "
            "on the Tryton server, then refresh this invoice's report (Invoice > Refresh Invoice Report)."
        )
        raise Refused(_pdf_error(invoice, reason))


def _pdf_error(invoice: InvoiceDocument, reason: str) -> RecordError:
    return RecordError(invoice.erp_id, "pdf", reason, check="render")
