"""The files connector as an invoice source: the invoice PDFs a GesCom exports into a folder.

One PDF per invoice and credit note in ``folder``; the web order of each comes from an **index**
export (CSV or XML: number, type, order reference, date, currency, total, optionally the PDF's
name) or from the **file name** alone (``name_pattern``, named groups ``number`` and ``order``).
The kind comes from ``invoice_types`` / ``credit_note_types`` (a credit note's total is negative).
Problems go to the flow's quarantine, not to a log: :meth:`FilesInvoices.render_pdf` refuses an
invoice with ``issues`` or a missing, ambiguous or non-PDF file, naming the file, line and column.
An invoice is read when its date, its PDF or its index file changed at or after ``since``.

Details: docs/files-feedback.md (sections "Invoice PDFs", "Time windows").
"""

from __future__ import annotations

import fnmatch
import glob
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path, PureWindowsPath
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from connectors.erp.files.feedback import modified_at, parse_export_date, shop_prefix, web_order_id
from connectors.erp.files.reader import export_rows, match_files, pick
from connectors.erp.files.settings import InvoiceColumns, InvoiceExportSettings
from connectors.erp.files.values import fold, parse_decimal
from connectors.errors import Fatal, RecordError, Refused, Retryable
from connectors.models import InvoiceDocument

if TYPE_CHECKING:
    from connectors.erp.files.settings import FilesSettings

__all__ = ["FilesInvoices", "InvoiceColumns", "InvoiceExportSettings", "invoice_kind"]

_WORDS = re.compile(r"[\s_.,;()\[\]]+")
_ALNUM = re.compile(r"[^0-9A-Za-z]+")


# -- settings ------------------------------------------------------------------------------------


# -- rules (pure) -----------------------------------------------------------------------------------


def invoice_kind(type_code: str | None, number: str, settings: InvoiceExportSettings) -> str | None:
    """``invoice`` or ``credit_note``; None for another document type. Without a type, a number
    starting with a credit note code made of letters (``AV00012``) is a credit note."""
    if type_code:
        code = fold(type_code)
        if code in {fold(t) for t in settings.credit_note_types}:
            return "credit_note"
        if code in {fold(t) for t in settings.invoice_types}:
            return "invoice"
        return None
    prefixes = [fold(t) for t in settings.credit_note_types if t.isalpha()]
    return "credit_note" if any(fold(number).startswith(p) for p in prefixes) else "invoice"


# -- the PDF folder -------------------------------------------------------------------------------


class _Folder:
    """The PDFs of ``folder`` matching ``pattern``, listed once, looked up by name, number or word."""

    def __init__(self, settings: InvoiceExportSettings) -> None:
        self.root, self.pattern = Path(settings.folder), settings.pattern
        self.name_pattern = re.compile(settings.name_pattern) if settings.name_pattern else None
        self.pdfs = self._list()
        self.by_name: dict[str, list[Path]] = {}
        self.by_word: dict[str, list[Path]] = {}
        self.by_number: dict[str, list[Path]] = {}
        for pdf in self.pdfs:
            self.by_name.setdefault(pdf.name.casefold(), []).append(pdf)
            words = {pdf.stem, *_WORDS.split(pdf.stem), *_ALNUM.split(pdf.stem)} - {""}
            for word in words:
                self.by_word.setdefault(word.casefold(), []).append(pdf)
            if self.name_pattern and (match := self.name_pattern.fullmatch(pdf.name)):
                self.by_number.setdefault(match["number"].casefold(), []).append(pdf)

    def _list(self) -> list[Path]:
        if not self.root.is_dir():
            raise Fatal(
                f"the invoice folder {self.root} does not exist (or is not a folder).",
                resolution="mount the share, or set invoices.folder to the folder the ERP exports invoice PDFs into.",
            )
        wanted = self.pattern.casefold()
        try:
            files = self.root.rglob("*") if "/" in self.pattern else self.root.iterdir()
            found = [p for p in files if fnmatch.fnmatchcase(p.relative_to(self.root).as_posix().casefold(), wanted)]
            return sorted(p for p in found if p.is_file())
        except OSError as exc:
            raise Retryable(f"cannot list the invoice folder {self.root}: {exc}") from exc

    def find(self, number: str, file_cell: str | None, where: str) -> tuple[Path | None, str]:
        """The PDF of invoice ``number``, or None and why."""
        if file_cell is not None:
            name = PureWindowsPath(file_cell).name
            found, how = self.by_name.get(name.casefold(), []), f"named {name!r} ({where})"
        elif self.name_pattern is not None:
            found, how = self.by_number.get(number.casefold(), []), "whose name_pattern number is it"
        else:
            found, how = self.by_word.get(number.casefold(), []), "whose name is the number or holds it as a word"
        if len(found) == 1:
            return found[0], ""
        if found:
            return None, f"several PDFs of invoice {number} in {self.root}: {', '.join(p.name for p in found)}"
        return None, f"no PDF of invoice {number} in {self.root} (pattern {self.pattern!r}, a PDF {how})"


# -- reading ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Found:
    invoice: InvoiceDocument
    pdf: Path | None
    problem: str
    """Why there is no PDF to render ("" when ``pdf`` is set)."""
    touched: datetime
    """The latest modification time of its PDF and of the index file holding it."""


@dataclass(slots=True)
class _Entry:
    """The index rows of one invoice number."""

    kind: str
    origin: str
    touched: datetime
    orders: dict[str, str] = field(default_factory=dict)
    """Web order id -> the first row naming it."""
    total: Decimal | None = None
    currency: str | None = None
    posted_at: datetime | None = None
    file: str | None = None
    issues: list[RecordError] = field(default_factory=list)


class FilesInvoices:
    """``InvoiceSource`` of the files connector (mixed into ``FilesConnector``)."""

    settings: FilesSettings
    _invoice_pdfs: dict[tuple[str, str], _Found]

    def iter_invoices(
        self, since: datetime | None, shop_order_ids: Sequence[str] | None = None
    ) -> Iterator[InvoiceDocument]:
        """Invoices and credit notes of web orders dated, or whose PDF or index file was written,
        at or after ``since`` (aware UTC; None: all); of these shop orders only when given (``""``:
        those naming no order). Oldest first; an invoice of several orders comes once per order.

        Raises:
            Fatal: no invoice export configured, the folder or the index is missing, or a column.
        """
        found = self._scan_invoices()
        wanted = set(shop_order_ids) if shop_order_ids is not None else None
        for one in sorted(
            found.values(), key=lambda f: (f.invoice.posted_at, f.invoice.number, f.invoice.shop_order_id)
        ):
            if wanted is not None and one.invoice.shop_order_id not in wanted:
                continue
            if since is None or one.invoice.posted_at >= since or one.touched >= since:
                yield one.invoice

    def render_pdf(self, invoice: InvoiceDocument) -> bytes:
        """The bytes of the invoice's PDF, as the ERP exported it.

        Raises:
            Refused: the invoice has issues (no order, a bad date or total), or its PDF is missing,
                ambiguous, empty or not a PDF: the reason names the invoice and the way out.
            Retryable: the folder cannot be read for now (a share gone for a moment).
        """
        if invoice.issues:
            fields = ", ".join(dict.fromkeys(e.field for e in invoice.issues))
            reasons = "; ".join(e.reason for e in invoice.issues)
            raise Refused(RecordError(invoice.erp_id, fields, f"invoice {invoice.number}: {reasons}", check="parse"))
        key = (invoice.erp_id, invoice.shop_order_id)
        found = getattr(self, "_invoice_pdfs", {}).get(key)
        if found is None or (found.pdf is not None and not found.pdf.exists()):
            found = self._scan_invoices().get(key)  # not read by this connector yet, or renamed since
        if found is None:
            raise Refused(_pdf_error(invoice, "it is no longer in the invoice export"))
        if found.pdf is None:
            raise Refused(_pdf_error(invoice, found.problem))
        try:
            content = found.pdf.read_bytes()
        except FileNotFoundError:
            raise Refused(_pdf_error(invoice, f"its PDF {found.pdf} is gone")) from None
        except OSError as exc:
            raise Retryable(f"cannot read the PDF of invoice {invoice.number} ({found.pdf}): {exc}") from exc
        if not content:
            raise Refused(_pdf_error(invoice, f"its PDF {found.pdf.name} is empty"))
        if not content.startswith(b"%PDF-"):
            raise Refused(_pdf_error(invoice, f"{found.pdf.name} is not a PDF (starts with {content[:8]!r})"))
        return content

    def _invoices(self) -> InvoiceExportSettings:
        if self.settings.invoices is None:
            raise Fatal(
                "the files connector has no invoice export configured.",
                resolution="add a [connections.<name>.erp.invoices] table with the PDF folder and the index "
                "(or a name_pattern).",
            )
        return self.settings.invoices

    def _scan_invoices(self) -> dict[tuple[str, str], _Found]:
        """Every invoice of the export by (number, order); kept for :meth:`render_pdf`."""
        s = self._invoices()
        folder = _Folder(s)
        found = self._from_index(s, folder) if s.index is not None else self._from_names(s, folder)
        self._invoice_pdfs = found
        return found

    def _from_index(self, s: InvoiceExportSettings, folder: _Folder) -> dict[tuple[str, str], _Found]:
        assert s.index is not None
        c, zone, shop = s.columns, ZoneInfo(s.timezone), shop_prefix(self.settings)
        entries: dict[str, _Entry] = {}
        required = [c.number, c.kind, c.order, c.date, c.currency, c.total, c.file]
        for file in match_files(s.index, what="invoice index"):
            touched = modified_at(file)
            for origin, row in export_rows(glob.escape(str(file)), s, what="invoice index", required=required):
                number = pick(row, c.number)
                kind = invoice_kind(pick(row, c.kind), number or "", s) if number else None
                if number is None or kind is None:
                    continue  # a totals row, or another document type (delivery note, order)
                reference = pick(row, c.order)
                order = web_order_id(reference, shop, s.references)
                if order is None and (reference is not None or s.references == "prefixed"):
                    continue  # not a web order of this shop (references = "prefixed")
                entry = entries.get(number)
                if entry is None:
                    entry = entries[number] = _Entry(kind, origin, touched)
                    self._read_values(entry, number, row, origin, zone)
                else:
                    entry.touched = max(entry.touched, touched)
                    self._check_total(entry, number, row, origin)
                if order is not None:
                    entry.orders.setdefault(order, origin)
        found: dict[tuple[str, str], _Found] = {}
        for number, entry in entries.items():
            pdf, problem = folder.find(number, entry.file, entry.origin)
            touched = max(entry.touched, modified_at(pdf)) if pdf else entry.touched
            if not entry.orders:
                reason = f"no web order in column {c.order!r} ({entry.origin})"
                entry.issues.append(RecordError(number, "shop_order_id", reason, check="parse"))
            for order in entry.orders or [""]:
                invoice = InvoiceDocument(
                    erp_id=number,
                    number=number,
                    kind=entry.kind,
                    shop_order_id=order,
                    posted_at=entry.posted_at or (modified_at(pdf) if pdf else entry.touched),
                    currency=(entry.currency or self.settings.currency).upper(),
                    total_tax_included=_signed(entry.total or Decimal(0), entry.kind),
                    issues=list(entry.issues),
                )
                found[number, order] = _Found(invoice, pdf, problem, touched)
        return found

    def _read_values(self, entry: _Entry, number: str, row: dict[str, str], origin: str, zone: ZoneInfo) -> None:
        s, c = self._invoices(), self._invoices().columns
        entry.currency, entry.file = pick(row, c.currency), pick(row, c.file)
        if (text := pick(row, c.date)) is not None:
            try:
                entry.posted_at = parse_export_date(text, zone)
            except ValueError as exc:
                entry.issues.append(
                    RecordError(number, "posted_at", f"column {c.date!r} ({origin}): {exc}", check="parse")
                )
        if (text := pick(row, c.total)) is not None:
            try:
                entry.total = parse_decimal(text, decimal_separator=s.decimal_separator)
            except ValueError as exc:
                reason = f"column {c.total!r} ({origin}): {exc}"
                entry.issues.append(RecordError(number, "total_tax_included", reason, check="parse"))

    def _check_total(self, entry: _Entry, number: str, row: dict[str, str], origin: str) -> None:
        """A later row of the same invoice (one row per line) must repeat the document's total."""
        s, c = self._invoices(), self._invoices().columns
        text = pick(row, c.total)
        if text is None or entry.total is None:
            return
        try:
            total = parse_decimal(text, decimal_separator=s.decimal_separator)
        except ValueError:
            total = None
        if total != entry.total:
            reason = (
                f"column {c.total!r}: {text!r} ({origin}) differs from {entry.total} ({entry.origin}); "
                "columns.total must be the invoice's total TTC, not a line's"
            )
            entry.issues.append(RecordError(number, "total_tax_included", reason, check="parse"))

    def _from_names(self, s: InvoiceExportSettings, folder: _Folder) -> dict[tuple[str, str], _Found]:
        assert folder.name_pattern is not None
        zone, shop = ZoneInfo(s.timezone), shop_prefix(self.settings)
        found: dict[tuple[str, str], _Found] = {}
        for pdf in folder.pdfs:
            match = folder.name_pattern.fullmatch(pdf.name)
            if match is None:
                continue  # another document in the folder
            groups = match.groupdict()
            number = groups["number"]
            kind = invoice_kind(groups.get("kind"), number, s)
            order = web_order_id(groups.get("order"), shop, s.references)
            if kind is None or (order is None and groups.get("order")):
                continue
            touched = modified_at(pdf)
            issues: list[RecordError] = []
            posted_at = touched
            if groups.get("date"):
                try:
                    posted_at = parse_export_date(groups["date"], zone)
                except ValueError as exc:
                    issues.append(RecordError(number, "posted_at", f"file name {pdf.name!r}: {exc}", check="parse"))
            if order is None:
                if s.references == "prefixed":
                    continue
                issues.append(
                    RecordError(number, "shop_order_id", f"file name {pdf.name!r} names no order", check="parse")
                )
            invoice = InvoiceDocument(
                erp_id=number,
                number=number,
                kind=kind,
                shop_order_id=order or "",
                posted_at=posted_at,
                currency=self.settings.currency.upper(),
                total_tax_included=Decimal(0),
                issues=issues,
            )
            key = (number, order or "")
            if key in found:
                twice = found[key]
                problem = f"several PDFs of invoice {number}: {twice.pdf.name if twice.pdf else '?'}, {pdf.name}"
                found[key] = _Found(twice.invoice, None, problem, max(twice.touched, touched))
                continue
            found[key] = _Found(invoice, pdf, "", touched)
        return found


def _signed(total: Decimal, kind: str) -> Decimal:
    """A credit note's total is negative (as Tryton's), whatever sign the export writes."""
    return -abs(total) if kind == "credit_note" else total


def _pdf_error(invoice: InvoiceDocument, reason: str) -> RecordError:
    return RecordError(invoice.erp_id, "pdf", f"invoice {invoice.number}: {reason}", check="render")
