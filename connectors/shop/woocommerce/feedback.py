"""WooCommerce as a status sink and a document link sink: what the ERP did with an order, shown in the shop.

Statuses read (:func:`canonical_status`): ``pending`` / ``on-hold`` / ``failed`` -> ``open``,
``processing``, ``completed`` -> ``shipped``, ``cancelled``, ``refunded`` (``status_map`` for custom
statuses). Writes, per order, after one read of the order and its customer notes: new shipments
into the ``_passerelle_shipments`` / ``_passerelle_carrier`` / ``_passerelle_tracking_number`` meta;
when ``notify``, a customer note with carrier, tracking number and URL; then the status, never
backwards, with the :data:`~connectors.shop.woocommerce.mapper.STATUS_META` meta in the same save
(the payment evidence the order held before). Documents: a customer note ``title: url``. The
customer reads the text only: each note's key goes in the order meta ``_passerelle_notes`` (key ->
note id, saved right after the note); a key already there, or at the end of a note written by an
earlier version (``ref: <key>``), is not written again. A run stopped between a note and its meta
writes that note once more (never none).

Details: docs/woocommerce.md (What each flow writes; Idempotency; Platform limits: Statuses).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectors.base import BatchResult, StatusWrite
from connectors.errors import Fatal, RecordError, Refused
from connectors.http import HttpError
from connectors.models import Shipment, moves_forward
from connectors.shop.notes import customer_text, link_key, link_text, note_key, split_key
from connectors.shop.woocommerce.client import MAX_PER_PAGE, WooCommerceClient
from connectors.shop.woocommerce.mapper import META_PREFIX, STATUS_META

__all__ = ["STATUS_MAP", "WooCommerceFeedback", "canonical_status"]

STATUS_MAP = {
    "pending": "open",
    "on-hold": "open",
    "failed": "open",
    "processing": "processing",
    "completed": "shipped",
    "cancelled": "cancelled",
    "refunded": "refunded",
}
"""WooCommerce order status -> canonical status (``status_map`` in the settings adds or overrides)."""

SHIPMENTS_META = f"{META_PREFIX}shipments"
NOTES_META = f"{META_PREFIX}notes"
"""Order meta: key -> id of every customer note passerelle added (keys out of what the customer reads)."""


def canonical_status(status: str, overrides: dict[str, str] | None = None) -> str:
    """The canonical status of a WooCommerce order status (unknown custom ones read ``open``)."""
    return {**STATUS_MAP, **(overrides or {})}.get(status, "open")


def _meta(row: dict[str, Any], key: str) -> Any:
    for item in row.get("meta_data") or []:
        if item.get("key") == key:
            return item.get("value")
    return None


def _status_marker(row: dict[str, Any], target: str) -> dict[str, Any]:
    """What :data:`STATUS_META` records when passerelle moves an order to ``target``: the payment
    evidence the order held before (carried over from an earlier marker when passerelle set the
    current status too), since WooCommerce stamps ``date_paid`` on processing and completed."""
    earlier = _meta(row, STATUS_META)
    if isinstance(earlier, dict) and earlier.get("status") == row["status"]:
        origin = earlier
    else:
        origin = {"from": row["status"], "date_paid_gmt": row.get("date_paid_gmt"),
                  "transaction_id": row.get("transaction_id") or ""}  # fmt: skip
    return {
        "status": target,
        "from": origin.get("from"),
        "date_paid_gmt": origin.get("date_paid_gmt"),
        "transaction_id": origin.get("transaction_id") or "",
    }


class WooCommerceFeedback:
    """StatusSink and DocumentLinkSink for the WooCommerce REST API (the REST key needs Read/Write)."""

    client: WooCommerceClient
    platform = "WooCommerce"
    status_map: dict[str, str] = {}
    """WooCommerce status -> canonical, over :data:`STATUS_MAP` (e.g. ``{"delivered": "delivered"}``)."""
    shipped_status = "completed"
    """The WooCommerce status an order moves to when the ERP says shipped."""
    delivered_status = "completed"
    """The WooCommerce status an order moves to when the ERP says delivered (a custom one if the shop has it)."""
    tracking_title: str | None = None
    """First line of the tracking note; None: "Your order has shipped" in the write's language."""

    def _target(self, status: str) -> str | None:
        return {
            "processing": "processing",
            "shipped": self.shipped_status,
            "delivered": self.delivered_status,
            "cancelled": "cancelled",
            "refunded": "refunded",
        }.get(status)

    def _orders(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        unique = [i for i in dict.fromkeys(str(i) for i in ids) if i.isdigit()]
        rows: dict[str, dict[str, Any]] = {}
        for start in range(0, len(unique), MAX_PER_PAGE):
            chunk = unique[start : start + MAX_PER_PAGE]
            for row in self.client.list("orders", {"include": ",".join(chunk)}):
                rows[str(row["id"])] = row
        return rows

    def _customer_notes(self, order_id: str) -> list[dict[str, Any]]:
        return list(self.client.get(f"orders/{order_id}/notes", {"type": "customer"}).json())

    def read_statuses(self, shop_order_ids: Sequence[str]) -> dict[str, str]:
        """Canonical status of these orders (one request per 100); unknown ids left out."""
        return {
            oid: canonical_status(row["status"], self.status_map) for oid, row in self._orders(shop_order_ids).items()
        }

    def write_statuses(self, writes: Sequence[StatusWrite]) -> BatchResult:
        """Shipments (meta + customer note), then the status; see the module docstring.

        ``answers[order id]``: ``before`` (canonical status read), ``shipments`` (tracking numbers
        added), ``notes`` (notes added), ``moved_to`` (WooCommerce status set) or nothing new.
        """
        result = BatchResult()
        merged: dict[str, StatusWrite] = {}
        for w in writes:
            earlier = merged.get(w.shop_order_id)
            shipments = (earlier.shipments if earlier else ()) + w.shipments
            merged[w.shop_order_id] = StatusWrite(w.shop_order_id, w.status, shipments, w.notify, w.language)
        rows = self._orders(list(merged))
        for oid, w in merged.items():
            row = rows.get(oid)
            if row is None:
                result.errors.append(RecordError(oid, "order", f"no order {oid} in WooCommerce", "shop"))
                continue
            try:
                result.answers[oid] = self._write_one(row, w)
            except HttpError as exc:
                result.errors.append(RecordError(oid, "status", str(exc).split(" Resolution:")[0], "shop"))
        return result

    def _write_one(self, row: dict[str, Any], w: StatusWrite) -> dict[str, Any]:
        oid = str(row["id"])
        before = canonical_status(row["status"], self.status_map)
        answer: dict[str, Any] = {"before": before}
        recorded: list[dict[str, Any]] = list(_meta(row, SHIPMENTS_META) or [])
        keyed: dict[str, str] = dict(_meta(row, NOTES_META) or {})
        noted = set(keyed) | (self._legacy_keys(oid) if w.shipments and w.notify and not keyed else set())
        added: dict[str, str] = {}
        known = {s.get("tracking_number") for s in recorded}
        new: list[Shipment] = [s for s in w.shipments if s.tracking_number and s.tracking_number not in known]
        if new:
            recorded += [
                {
                    "erp_id": s.erp_id,
                    "carrier": s.carrier or "",
                    "tracking_number": s.tracking_number,
                    "tracking_url": s.tracking_url or "",
                }
                for s in new
            ]
            last = new[-1]
            self.client.put(
                f"orders/{oid}",
                {
                    "meta_data": [
                        {"key": SHIPMENTS_META, "value": recorded},
                        {"key": f"{META_PREFIX}carrier", "value": last.carrier or ""},
                        {"key": f"{META_PREFIX}tracking_number", "value": last.tracking_number},
                    ]
                },
            )
            answer["shipments"] = [s.tracking_number for s in new]
        if w.notify:
            for s in w.shipments:
                key = f"tracking:{s.tracking_number}"
                if not s.tracking_number or key in noted:
                    continue
                title = self.tracking_title or customer_text("shipped", w.language)
                lines = [title, f"{s.carrier or ''} {s.tracking_number}".strip()]
                if s.tracking_url:
                    lines.append(s.tracking_url)
                note = self.client.post(f"orders/{oid}/notes", {"note": "\n".join(lines), "customer_note": True})
                added[key] = str(note.get("id") or "")
                noted.add(key)
                answer["notes"] = answer.get("notes", 0) + 1
        meta = [{"key": NOTES_META, "value": {**keyed, **added}}] if added else []
        target = self._target(w.status)
        if target is not None and target != row["status"] and moves_forward(before, w.status):
            marker = {"key": STATUS_META, "value": _status_marker(row, target)}
            self.client.put(f"orders/{oid}", {"status": target, "meta_data": [marker, *meta]})
            answer["moved_to"] = target
        elif meta:
            self.client.put(f"orders/{oid}", {"meta_data": meta})
        return answer

    def _legacy_keys(self, order_id: str) -> set[str]:
        """Keys at the end of customer notes written by an earlier version (``ref: <key>``)."""
        return {k for k in (note_key(n["note"]) for n in self._customer_notes(order_id)) if k}

    def link_document(self, shop_order_id: str, title: str, url: str, *, key: str) -> str:
        """A customer note ``title: url`` (WooCommerce e-mails it and shows it on the order); returns
        the note's id. Idempotent on ``key``: the order's customer notes are read first.

        Raises:
            Refused: no such order, or a key / title / URL on more than one line.
        """
        key = link_key(shop_order_id, title, url, key)
        if not str(shop_order_id).isdigit():
            raise Refused(RecordError(shop_order_id, "order", f"{shop_order_id!r} is not a WooCommerce order id"))
        row = self._orders([shop_order_id]).get(str(shop_order_id))
        if row is None:
            raise Refused(RecordError(shop_order_id, "order", f"no order {shop_order_id} in WooCommerce", "shop"))
        keyed: dict[str, str] = dict(_meta(row, NOTES_META) or {})
        if key in keyed:
            return str(keyed[key])
        if not keyed:  # an order noted by an earlier version: its notes end with their key
            for note in self._customer_notes(shop_order_id):
                if note_key(note["note"]) == key:
                    return str(note["id"])
        body, _ = split_key(link_text(title, url, key))
        added = self.client.post(f"orders/{shop_order_id}/notes", {"note": body, "customer_note": True})
        if not added.get("id"):
            raise Fatal(
                f"WooCommerce did not return the note added to order {shop_order_id}.",
                resolution="check the order's notes in WooCommerce; the next run will not add it twice.",
            )
        self.client.put(
            f"orders/{shop_order_id}", {"meta_data": [{"key": NOTES_META, "value": {**keyed, key: str(added["id"])}}]}
        )
        return str(added["id"])
