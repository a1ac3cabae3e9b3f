"""Dolibarr as a status source: what became of the web orders ``orders.py`` made.

Web orders are the validated orders (``statut`` != 0) whose ``ref_ext`` is ``"<shop>:<shop order
id>"``. Status, first rule that holds: ``refunded`` (validated credit notes bring the order's
invoices to zero or less), ``cancelled`` (``statut`` -1, Commande::STATUS_CANCELED), ``delivered``
(3, STATUS_CLOSED), ``shipped`` (2, STATUS_SHIPMENTONPROCESS, or a validated shipment), else
``processing`` (1, STATUS_VALIDATED); constants of htdocs/commande/class/commande.class.php.
Parcels: the order's validated or closed shipments (``/shipments``: ``origin_id``,
``tracking_number``, ``shipping_method``, lines ``product_ref`` x ``qty_shipped``). Incremental on
``t.tms`` of the order, its shipments and its invoices (``since`` included). Details:
docs/dolibarr.md (Statuses and invoices).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from connectors.erp.dolibarr.client import DolibarrClient, sql_any
from connectors.erp.dolibarr.invoices import CREDIT_NOTE, DolibarrInvoices, WebInvoice, epoch, tms_filter
from connectors.erp.dolibarr.settings import DolibarrSettings
from connectors.errors import RecordError
from connectors.models import OrderStatus, Shipment, ShipmentLine, ensure_utc

__all__ = ["DolibarrFeedback", "order_status"]

CANCELED, DRAFT, VALIDATED, SHIPPING, CLOSED = "-1", "0", "1", "2", "3"
"""Commande::STATUS_CANCELED, STATUS_DRAFT, STATUS_VALIDATED, STATUS_SHIPMENTONPROCESS, STATUS_CLOSED."""
SHIPMENT_LEFT = ("1", "2")
"""Expedition::STATUS_VALIDATED, STATUS_CLOSED (expedition.class.php): the parcel left."""
_CHUNK = 20


def order_status(statut: str, shipped: bool, refunded: bool) -> str:
    """The canonical status of a web order (rules in the module docstring)."""
    if refunded:
        return "refunded"
    if statut == CANCELED:
        return "cancelled"
    if statut == CLOSED:
        return "delivered"
    if statut == SHIPPING or shipped:
        return "shipped"
    return "processing"


class DolibarrFeedback(DolibarrInvoices):
    """``StatusSource`` over Dolibarr's REST API (mixed into ``DolibarrConnector``; the credit
    notes come from ``DolibarrInvoices``)."""

    client: DolibarrClient
    settings: DolibarrSettings

    def iter_statuses(
        self, since: datetime | None, shop_order_ids: Sequence[str] | None = None
    ) -> Iterator[OrderStatus]:
        """Statuses of web orders whose order, shipments or invoices changed at or after
        ``since`` (aware UTC; None: all), of these shop orders only when given; oldest change first."""
        shop = self.settings.orders.shop
        since = ensure_utc(since) if since is not None else None
        orders: dict[str, dict[str, Any]] = {}
        if shop_order_ids is not None:
            tags = [f"{shop}:{i}" for i in dict.fromkeys(shop_order_ids)]
            filters = [sql_any("t.ref_ext", tags[s : s + _CHUNK]) for s in range(0, len(tags), _CHUNK)]
        else:
            filters = [f"(t.ref_ext:like:'{shop}:%')"]
        changed = tms_filter(since)
        for text in filters:
            query = f"{text} and {changed}" if changed and shop_order_ids is None else text
            for row in self.client.iter_list("orders", sqlfilters=query):
                self._keep(orders, row)
        if since is not None and shop_order_ids is None:
            moved = [str(s.get("origin_id")) for s in self.client.iter_list("shipments", sqlfilters=changed)
                     if s.get("origin") in (None, "commande") and s.get("origin_id")]  # fmt: skip
            moved += [o for i in self.web_invoices(since) for o in i.order_ids]
            missing = [i for i in dict.fromkeys(moved) if i not in orders]
            for start in range(0, len(missing), _CHUNK):
                for row in self.client.iter_list(
                    "orders", sqlfilters=sql_any("t.rowid", missing[start : start + _CHUNK])
                ):
                    self._keep(orders, row)
        if not orders:
            return
        socids = sorted({str(r["socid"]) for r in orders.values() if r.get("socid")}, key=int)
        shipments: dict[str, list[dict[str, Any]]] = {}
        for start in range(0, len(socids), _CHUNK):
            params = {"thirdparty_ids": ",".join(socids[start : start + _CHUNK])}
            for row in self.client.iter_list("shipments", params):
                if row.get("origin") in (None, "commande") and str(row.get("origin_id")) in orders:
                    shipments.setdefault(str(row["origin_id"]), []).append(row)
        invoices: dict[str, list[WebInvoice]] = {}
        for invoice in self.web_invoices(None, socids):
            for order_id in invoice.order_ids:
                invoices.setdefault(order_id, []).append(invoice)
        statuses = [self._status(row, shipments.get(i, []), invoices.get(i, [])) for i, row in orders.items()]
        statuses.sort(key=lambda s: (s.changed_at, s.shop_order_id))
        yield from statuses

    def _keep(self, orders: dict[str, dict[str, Any]], row: dict[str, Any]) -> None:
        if str(row.get("statut")) != DRAFT and self._shop_id(row.get("ref_ext")) is not None:
            orders.setdefault(str(row["id"]), row)

    def _status(self, row: dict[str, Any], shipments: list[dict[str, Any]], invoices: list[WebInvoice]) -> OrderStatus:
        shop_id = self._shop_id(row.get("ref_ext")) or str(row["id"])
        left = [s for s in shipments if str(s.get("statut")) in SHIPMENT_LEFT]
        credited = -sum((i.total for i in invoices if str(i.row.get("type")) == CREDIT_NOTE), Decimal(0))
        net = sum((i.total for i in invoices), Decimal(0))
        refunded = credited > 0 and net <= 0
        issues: list[RecordError] = []
        status = order_status(str(row.get("statut")), bool(left), refunded)
        if credited > 0 and net > 0:
            issues.append(RecordError(shop_id, "status", f"credit notes of {credited} against {net + credited} "
                                      f"invoiced: a partial refund, the order stays {status}", check="partial_refund"))  # fmt: skip
        moments = [epoch(row.get("date_modification")) or epoch(row.get("date_validation"))]
        moments += [epoch(s.get("date_modification")) for s in shipments]
        moments += [epoch(i.row.get("date_modification")) for i in invoices if i.kind == "credit_note"]
        parcels = [
            Shipment(
                erp_id=str(s["id"]),
                carrier=str(s.get("shipping_method") or "") or None,
                tracking_number=str(s.get("tracking_number") or "") or None,
                tracking_url=str(s.get("tracking_url") or "") or None,
                shipped_at=epoch(s.get("date_shipping")) or epoch(s.get("date_valid")),
                delivered_at=epoch(s.get("date_delivery")) if str(s.get("statut")) == "2" else None,
                lines=_lines(s),
            )
            for s in sorted(left, key=lambda s: int(s["id"]))
        ]
        return OrderStatus(
            shop_order_id=shop_id,
            erp_reference=str(row.get("ref") or row["id"]),
            status=status,
            changed_at=max(m for m in moments if m is not None),
            shipments=parcels,
            issues=issues,
        )


def _lines(shipment: dict[str, Any]) -> list[ShipmentLine]:
    """Quantities per product ref (``ExpeditionLigne``: ``product_ref``, ``qty_shipped``)."""
    quantities: dict[str, Decimal] = {}
    for line in shipment.get("lines") or []:
        ref = line.get("product_ref") or line.get("ref")
        if ref and line.get("qty_shipped") not in (None, ""):
            quantities[ref] = quantities.get(ref, Decimal(0)) + Decimal(str(line["qty_shipped"]))
    return [ShipmentLine(k, v.quantize(Decimal(1)) if v == v.to_integral_value() else v) for k, v in quantities.items()]
