"""Odoo as a status and invoice source for the web orders ``orders.py`` imported.

Web orders are the sale.order records whose ``client_order_ref`` is ``"<shop>:<shop order id>"``.
Status, first rule that holds: ``cancelled`` (state ``cancel``); ``shipped`` (every outgoing
stock.picking that is not cancelled is ``done``, one at least); ``processing`` (confirmed). Odoo
records no delivery, so never ``delivered``; credit notes are reported as invoices, not as
``refunded``. Parcels: the done outgoing pickings with their ``carrier_tracking_ref``. Reads are
incremental on ``write_date`` of the order and of its pickings (``since`` included).

Invoices: posted ``out_invoice`` / ``out_refund`` moves whose lines come from a web order's lines.
The PDF is the attachment Odoo stored when the invoice was first printed or sent
(``invoice_pdf_report_id`` in 17+, ``message_main_attachment_id`` before), read over RPC: the
``/report/pdf/...`` route needs a web session, which an API key does not open
(tests/fixtures/contracts/odoo/jsonrpc_contract.json ``invoice_pdf``).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from connectors.erp.odoo.client import OdooClient, m2o_id, m2o_name, odoo_datetime, parse_datetime
from connectors.erp.odoo.settings import OdooSettings
from connectors.errors import RecordError, Refused
from connectors.models import InvoiceDocument, OrderStatus, Shipment

__all__ = ["OdooFeedback", "order_status"]

_CHUNK = 500


def order_status(state: str, pickings: Sequence[dict[str, Any]]) -> str:
    """The canonical status of a sale.order in ``state`` with its outgoing ``pickings``."""
    if state == "cancel":
        return "cancelled"
    live = [p for p in pickings if p.get("state") != "cancel"]
    if live and all(p.get("state") == "done" for p in live):
        return "shipped"
    return "processing"


class OdooFeedback:
    """``StatusSource`` and ``InvoiceSource`` over Odoo (mixed into ``OdooConnector``)."""

    client: OdooClient
    settings: OdooSettings

    def _web_domain(self, path: str = "client_order_ref") -> tuple[str, str, str]:
        return (path, "=like", f"{self.settings.orders.shop}:%")

    def _shop_id(self, reference: Any) -> str | None:
        prefix = f"{self.settings.orders.shop}:"
        text = str(reference or "")
        return text[len(prefix) :] if text.startswith(prefix) else None

    # -- statuses --------------------------------------------------------------------------------
    def iter_statuses(
        self, since: datetime | None, shop_order_ids: Sequence[str] | None = None
    ) -> Iterator[OrderStatus]:
        orders = self.client.model("sale.order")
        domain: list[Any] = [self._web_domain(), ("state", "in", ["sale", "done", "cancel"])]
        if shop_order_ids is not None:
            domain.append(("client_order_ref", "in", [f"{self.settings.orders.shop}:{i}" for i in shop_order_ids]))
        ids = set(orders.search([*domain, ("write_date", ">=", odoo_datetime(since))] if since else domain))
        has_pickings = "picking_ids" in self.client.fields("sale.order")
        if since and has_pickings:
            moved = self.client.model("stock.picking").search_read(
                [
                    ("sale_id", "!=", False),
                    ("write_date", ">=", odoo_datetime(since)),
                    self._web_domain("sale_id.client_order_ref"),
                ],
                ["sale_id"],
            )
            wanted = {m2o_id(p["sale_id"]) for p in moved} - {None}
            if wanted:
                ids |= set(orders.search([*domain, ("id", "in", sorted(i for i in wanted if i is not None))]))
        statuses: list[OrderStatus] = []
        fields = ["id", "name", "client_order_ref", "state", "write_date"] + (["picking_ids"] if has_pickings else [])
        ordered = sorted(ids)
        for start in range(0, len(ordered), _CHUNK):
            rows = orders.read(ordered[start : start + _CHUNK], fields)
            pickings = self._pickings(sorted({p for r in rows for p in r.get("picking_ids") or []}))
            for row in rows:
                shop_id = self._shop_id(row.get("client_order_ref"))
                if shop_id is None:
                    continue
                own = [pickings[p] for p in row.get("picking_ids") or [] if p in pickings]
                changed = [
                    d
                    for d in [parse_datetime(row.get("write_date"))]
                    + [parse_datetime(p.get("write_date")) for p in own]
                    if d
                ]
                statuses.append(
                    OrderStatus(
                        shop_order_id=shop_id,
                        erp_reference=row["name"],
                        status=order_status(row["state"], own),
                        changed_at=max(changed),
                        shipments=[
                            Shipment(
                                erp_id=str(p["id"]),
                                carrier=m2o_name(p.get("carrier_id")),
                                tracking_number=p.get("carrier_tracking_ref") or None,
                                tracking_url=p.get("carrier_tracking_url") or None,
                                shipped_at=parse_datetime(p.get("date_done")),
                            )
                            for p in own
                            if p.get("state") == "done"
                        ],
                    )
                )
        statuses.sort(key=lambda s: (s.changed_at, s.shop_order_id))
        yield from statuses

    def _pickings(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        if not ids:
            return {}
        rows = self.client.model("stock.picking").read(
            ids,
            [
                "id",
                "state",
                "picking_type_code",
                "carrier_id",
                "carrier_tracking_ref",
                "carrier_tracking_url",
                "date_done",
                "write_date",
            ],
        )
        return {r["id"]: r for r in rows if r.get("picking_type_code") == "outgoing"}

    # -- invoices --------------------------------------------------------------------------------
    def iter_invoices(
        self, since: datetime | None, shop_order_ids: Sequence[str] | None = None
    ) -> Iterator[InvoiceDocument]:
        path = "invoice_line_ids.sale_line_ids.order_id.client_order_ref"
        domain: list[Any] = [
            ("move_type", "in", ["out_invoice", "out_refund"]),
            ("state", "=", "posted"),
            self._web_domain(path),
        ]
        if since:
            domain.append(("write_date", ">=", odoo_datetime(since)))
        moves = self.client.model("account.move").iter_search_read(
            domain,
            ["id", "name", "move_type", "currency_id", "amount_total", "write_date", "invoice_line_ids"],
            page_size=self.settings.page_size,
        )
        lines = self.client.model("account.move.line")
        orders = self.client.model("sale.order.line")
        for move in moves:
            refs = self._move_orders(lines, orders, move.get("invoice_line_ids") or [])
            for ref in refs:
                shop_id = self._shop_id(ref)
                if shop_id is None or (shop_order_ids is not None and shop_id not in shop_order_ids):
                    continue
                yield InvoiceDocument(
                    erp_id=str(move["id"]),
                    number=move["name"],
                    kind="credit_note" if move["move_type"] == "out_refund" else "invoice",
                    shop_order_id=shop_id,
                    posted_at=parse_datetime(move.get("write_date")) or datetime.min,
                    currency=m2o_name(move.get("currency_id")) or self.settings.currency,
                    total_tax_included=Decimal(str(move.get("amount_total") or 0)).quantize(Decimal("0.01")),
                )
                break  # one document per move: the first web order it invoices

    def _move_orders(self, lines: Any, orders: Any, line_ids: list[int]) -> list[str]:
        sale_lines = sorted(
            {s for row in lines.read(line_ids, ["sale_line_ids"]) for s in row.get("sale_line_ids") or []}
        )
        order_ids = sorted(
            {i for i in (m2o_id(r["order_id"]) for r in orders.read(sale_lines, ["order_id"])) if i is not None}
        )
        rows = self.client.model("sale.order").read(order_ids, ["client_order_ref"])
        return [str(r.get("client_order_ref") or "") for r in rows]

    def render_pdf(self, invoice: InvoiceDocument) -> bytes:
        """The PDF Odoo stored for the invoice (read over RPC, base64 ``datas``).

        Raises:
            Refused: Odoo has stored no PDF for it yet, or not a PDF.
        """
        field = self.client.first_field("account.move", "invoice_pdf_report_id", "message_main_attachment_id")
        (move,) = self.client.model("account.move").read([int(invoice.erp_id)], ["id", field])
        attachment = m2o_id(move.get(field))
        if attachment is None:
            raise Refused(
                RecordError(
                    invoice.number,
                    "pdf",
                    "Odoo has stored no PDF of this invoice yet: print or send it once in Odoo (the "
                    "/report/pdf route needs a web session an API key does not open)",
                )
            )
        (row,) = self.client.model("ir.attachment").read([attachment], ["mimetype", "datas"])
        content = base64.b64decode(row.get("datas") or "")
        if row.get("mimetype") != "application/pdf" or not content.startswith(b"%PDF"):
            raise Refused(
                RecordError(invoice.number, "pdf", f"the stored document is {row.get('mimetype')}, not a PDF")
            )
        return content
