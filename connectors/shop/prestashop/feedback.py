"""PrestaShop as a status sink and a document link sink.

Statuses: an order's ``current_state`` read as a canonical status through the configured states.
A write puts new tracking numbers on the order's ``order_carriers`` row, then adds an
``order_histories`` row (``sendemail=1`` with ``notify``): how PrestaShop changes a state, runs its
hooks and e-mails the customer. Idempotent: no tracking number twice, no history row for the state
the order is in or its newest history row holds (PrestaShop answers 500 code 46 when the e-mail
fails after the save).

Document links: a public customer message (``customer_messages`` with ``private`` 0, in the
order's ``customer_threads`` row) ``title: url``, then a private one (``private`` 1, shown to staff
only) ``ref: <key>``: the customer never reads the key. A key already there (in a private message,
or the last line of a message written by an earlier version) is not written twice; a run stopped
between the two messages writes the link once more (never none).

Details: docs/prestashop.md (What each flow writes: feedback-status, upload-invoices).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from connectors.base import BatchResult, StatusWrite
from connectors.errors import RecordError, Refused
from connectors.shop.notes import link_key, link_text, note_key, split_key
from connectors.shop.prestashop.client import PrestaShopClient, WriteRefused, id_filter
from connectors.shop.prestashop.common import PrestaShopOptions, refusal
from connectors.shop.prestashop.order_mapper import StateRules
from connectors.shop.prestashop.xml import writable

__all__ = ["PrestaShopFeedback"]

_CHUNK = 50


class PrestaShopFeedback:
    """StatusSink and DocumentLinkSink for the PrestaShop webservice."""

    client: PrestaShopClient
    language: str
    options: PrestaShopOptions
    states: StateRules
    platform = "PrestaShop"

    def _canonical(self, state: str) -> str:
        o = self.options
        if state in self.states.cancelled or state == o.cancelled_state:
            return "cancelled"
        if state in self.states.refunded or state == o.refunded_state:
            return "refunded"
        if state == o.delivered_state:
            return "delivered"
        if state == o.shipped_state:
            return "shipped"
        if state == o.processing_state or state in o.paid_states:
            return "processing"
        return "open"

    def _target(self, status: str) -> str | None:
        o = self.options
        return {
            "processing": o.processing_state,
            "shipped": o.shipped_state,
            "delivered": o.delivered_state,
            "cancelled": o.cancelled_state,
            "refunded": o.refunded_state,
        }.get(status)

    def _orders(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        unique = [i for i in dict.fromkeys(str(i) for i in ids) if i.isdigit()]
        rows: dict[str, dict[str, Any]] = {}
        for start in range(0, len(unique), _CHUNK):
            for row in self.client.get(
                "orders",
                display=["id", "current_state", "id_customer", "id_lang"],
                filters={"id": id_filter(unique[start : start + _CHUNK])},
            ):
                rows[str(row["id"])] = row
        return rows

    # -- StatusSink ----------------------------------------------------------------------------------
    def read_statuses(self, shop_order_ids: Sequence[str]) -> dict[str, str]:
        return {oid: self._canonical(str(row["current_state"])) for oid, row in self._orders(shop_order_ids).items()}

    def write_statuses(self, writes: Sequence[StatusWrite]) -> BatchResult:
        result = BatchResult()
        orders = self._orders([w.shop_order_id for w in writes])
        carriers: dict[str, list[dict[str, Any]]] = {}
        ids = list(orders)
        for start in range(0, len(ids), _CHUNK):
            for row in self.client.get("order_carriers", filters={"id_order": id_filter(ids[start : start + _CHUNK])}):
                carriers.setdefault(str(row["id_order"]), []).append(row)
        moving = [w.shop_order_id for w in writes if self._needs_state(orders.get(w.shop_order_id), w.status)]
        latest = self._latest_histories(moving)
        for w in writes:
            oid = w.shop_order_id
            order = orders.get(oid)
            if order is None:
                result.errors.append(RecordError(oid, "order", f"no order {oid} in PrestaShop", "shop"))
                continue
            target = self._target(w.status)
            if target is None:
                result.errors.append(RecordError(oid, "status", f"no PrestaShop state for {w.status!r}", "shop"))
                continue
            answer: dict[str, Any] = {"before": self._canonical(str(order["current_state"]))}
            try:
                tracking = self._track(oid, w, carriers.get(oid, []))
                if tracking:
                    answer["tracking_number"] = tracking
                if str(order["current_state"]) != target:
                    saved = latest.get(oid)
                    if saved is not None and saved[1] == target:
                        # A row saved by an attempt whose answer was an error (see _state_saved_anyway).
                        order["current_state"] = target
                        answer.update(moved_to=target, history=saved[0], notified=False, saved_before=True)
                    else:
                        params = {"sendemail": "1"} if w.notify else None
                        history = self.client.create(
                            "order_histories", {"id_order": oid, "id_order_state": target}, params=params
                        )
                        order["current_state"] = target
                        answer.update(moved_to=target, history=history, notified=w.notify)
            except WriteRefused as exc:
                result.errors.append(self._state_saved_anyway(oid, target, latest.get(oid), exc, w.notify))
                continue
            result.answers[oid] = answer
        return result

    def _needs_state(self, order: dict[str, Any] | None, status: str) -> bool:
        target = self._target(status)
        return order is not None and target is not None and str(order["current_state"]) != target

    def _latest_histories(self, order_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """The newest ``order_histories`` row of each order: (its id, its state id).

        Read before a state is added, so that a row an earlier attempt saved is never added twice
        (nor the customer e-mailed twice): PrestaShop's OrderHistory::addWs moves the order and saves
        the row before it sends the e-mail, and answers 500 code 46 when the e-mail fails.
        """
        latest: dict[str, tuple[str, str]] = {}
        unique = list(dict.fromkeys(order_ids))
        for start in range(0, len(unique), _CHUNK):
            rows = self.client.get(
                "order_histories",
                display=("id", "id_order", "id_order_state"),
                filters={"id_order": id_filter(unique[start : start + _CHUNK])},
            )
            for row in rows:
                oid, hid = str(row["id_order"]), str(row["id"])
                if oid not in latest or int(hid) > int(latest[oid][0]):
                    latest[oid] = (hid, str(row["id_order_state"]))
        return latest

    def _state_saved_anyway(
        self, oid: str, target: str, before: tuple[str, str] | None, exc: WriteRefused, notify: bool
    ) -> RecordError:
        """The error of a refused state change, after checking whether PrestaShop saved it anyway.

        Observed on a live PrestaShop 8.2 that could not send e-mail: ``POST order_histories
        ?sendemail=1`` answered HTTP 500, code 46 "Unable to save resource", and the row was saved
        (OrderHistory::addWithemail saves, then returns false when Mail::Send fails).
        """
        if exc.status < 500:
            return refusal(oid, "status", exc)
        now = self._latest_histories([oid]).get(oid)
        if now is None or now[1] != target or (before is not None and now[0] == before[0]):
            return refusal(oid, "status", exc)
        mail = (
            "the customer e-mail was most likely not sent (PrestaShop saves the state, then sends the "
            "e-mail): check the shop's e-mail settings (Advanced parameters > E-mail) and tell the customer"
            if notify
            else "no e-mail was asked"
        )
        return RecordError(
            oid,
            "status",
            f"PrestaShop saved state {target} (order_histories {now[0]}) but answered HTTP {exc.status}: "
            f"{' / '.join(exc.messages)}; {mail}. The next run does not add the state again.",
            "shop",
        )

    def _track(self, oid: str, w: StatusWrite, rows: list[dict[str, Any]]) -> str | None:
        """Tracking numbers of the shipments on the order's carrier row; the new value or None."""
        numbers = [s.tracking_number.strip() for s in w.shipments if s.tracking_number and s.tracking_number.strip()]
        if not numbers:
            return None
        if not rows:
            raise WriteRefused(404, [f"order {oid} has no order_carriers row to hold the tracking number"])
        row = rows[0]
        current = [n.strip() for n in str(row.get("tracking_number") or "").split(",") if n.strip()]
        merged = current + [n for n in numbers if n not in current]
        if merged == current:
            return None
        record = writable("order_carriers", row)
        record["tracking_number"] = ", ".join(merged)
        self.client.update("order_carriers", str(row["id"]), record)
        row["tracking_number"] = record["tracking_number"]
        return str(record["tracking_number"])

    # -- DocumentLinkSink ------------------------------------------------------------------------------
    def link_document(self, shop_order_id: str, title: str, url: str, *, key: str) -> str:
        """A public customer message ``title: url`` on the order; returns its id (see the module docstring).

        Raises:
            Refused: no such order, a key / title / URL on more than one line, or PrestaShop refused the message.
        """
        key = link_key(shop_order_id, title, url, key)
        order = self._orders([shop_order_id]).get(str(shop_order_id))
        if order is None:
            raise Refused(RecordError(shop_order_id, "order", f"no order {shop_order_id} in PrestaShop", "shop"))
        threads = self.client.get("customer_threads", filters={"id_order": id_filter([str(shop_order_id)])})
        if threads:
            messages = self.client.get(
                "customer_messages", filters={"id_customer_thread": id_filter([str(t["id"]) for t in threads])}
            )
            for message in messages:
                if note_key(str(message.get("message") or "")) == key:
                    return str(message["id"])
        try:
            if threads:
                thread = str(threads[0]["id"])
            else:
                customers = self.client.get(
                    "customers", display=["id", "email"], filters={"id": id_filter([str(order["id_customer"])])}
                )
                thread = self.client.create(
                    "customer_threads",
                    {
                        "id_lang": str(order.get("id_lang") or self.language),
                        "id_shop": "1",
                        "id_customer": str(order["id_customer"]),
                        "id_order": str(shop_order_id),
                        "id_product": "0",
                        "id_contact": self.options.contact_id,
                        "email": customers[0]["email"] if customers else "",
                        "token": secrets.token_hex(6),
                        "status": "closed",
                    },
                )
            body, line = split_key(link_text(title, url, key))
            for text, private in ((body, "0"), (line, "1")):  # the customer's message, then its key (staff only)
                created = self.client.create(
                    "customer_messages",
                    {
                        "id_employee": self.options.employee_id,
                        "id_customer_thread": thread,
                        "message": text,
                        "private": private,
                        "read": "0",
                    },
                )
            return created
        except WriteRefused as exc:
            raise Refused(refusal(str(shop_order_id), "document", exc)) from None
