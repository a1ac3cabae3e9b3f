"""Vendure as a status sink and a document link sink: what the ERP did with an order, shown in the shop.

Vendure's order state is read as a canonical status (:func:`canonical_status`). A shipment becomes
a ``manual-fulfillment`` fulfillment (``method`` = carrier, ``trackingCode``) moved forward only
(Pending -> Shipped -> Delivered); a tracking URL goes into an order note; ``cancelled`` is
``cancelOrder``. A pure planner (:func:`plan_write`) decides from one read of the orders; a batch
costs at most three requests. Idempotent: the same parcel is never added twice, and notes end with
a line ``ref: <key>``. A refused order (an ErrorResult) is a RecordError; the other orders go on.

Details: docs/vendure-feedback.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.base import BatchResult, StatusWrite
from connectors.errors import Fatal, RecordError, Refused
from connectors.models import FINAL_STATUSES, ORDER_STATUSES, Shipment, from_minor_units
from connectors.shop.notes import customer_text, link_key, link_text, split_key
from connectors.shop.notes import note_key as text_key
from connectors.shop.vendure.client import Operation, VendureClient

__all__ = [
    "DOCUMENTS",
    "FULFILLMENT_HANDLER",
    "OrderPlan",
    "VendureFeedback",
    "canonical_status",
    "note_key",
    "plan_write",
]

FULFILLMENT_HANDLER = "manual-fulfillment"

STATE_STATUS = {
    "PaymentAuthorized": "open",
    "PaymentSettled": "processing",
    "PartiallyShipped": "shipped",
    "Shipped": "shipped",
    "PartiallyDelivered": "delivered",
    "Delivered": "delivered",
    "Cancelled": "cancelled",
}
"""Vendure order state -> canonical status (other states: see :func:`canonical_status`)."""

FULFILLABLE = frozenset({"PaymentSettled", "PartiallyShipped", "Shipped", "PartiallyDelivered", "Delivered"})
"""Order states from which Vendure moves the order when its fulfillments move."""
TARGET_FULFILLMENT_STATE = {"shipped": "Shipped", "delivered": "Delivered"}
MOVES_TO = {"Shipped": frozenset({"Pending"}), "Delivered": frozenset({"Pending", "Shipped"})}
"""Fulfillment states moved forward to a target state (never back)."""

PLACED: list[dict[str, Any]] = [{"active": {"eq": False}}, {"orderPlacedAt": {"isNull": False}}]
NOTES = '{filter: {type: {eq: "ORDER_NOTE"}}, take: 1000}'
STATUS_FIELDS = (
    "id state active orderPlacedAt currencyCode fulfillments { id state }"
    " payments { id state amount refunds { total state } }"
)
READ_STATUSES = f"""query FeedbackStatuses($options: OrderListOptions!) {{
  orders(options: $options) {{ items {{ {STATUS_FIELDS} }} }}
}}"""
READ_FOR_WRITE = f"""query FeedbackOrders($options: OrderListOptions!) {{
  orders(options: $options) {{ items {{
    id state active orderPlacedAt currencyCode
    lines {{ id quantity productVariant {{ sku }} }}
    fulfillments {{ id state method trackingCode lines {{ orderLineId quantity }} }}
    payments {{ id state amount refunds {{ total state }} }}
    history(options: {NOTES}) {{ items {{ id isPublic data }} }}
  }} }}
}}"""
READ_NOTES = f"""query FeedbackNotes($id: ID!) {{
  order(id: $id) {{ id active orderPlacedAt history(options: {NOTES}) {{ items {{ id isPublic data }} }} }}
}}"""
ADD_NOTE = """mutation FeedbackNote($text: AddNoteToOrderInput!, $key: AddNoteToOrderInput!) {
  text: addNoteToOrder(input: $text) { id }
  key: addNoteToOrder(input: $key) {
    id history(options: {filter: {type: {eq: "ORDER_NOTE"}}, sort: {id: DESC}, take: 50}) { items { id data } }
  }
}"""
"""A note the customer reads and, in the same request, the private note holding its key (Vendure runs
a document's mutations one after the other: no run can stop between them)."""
RESULT = "__typename ... on ErrorResult { errorCode message }"
FULFILLMENT_RESULT = f"{RESULT} ... on Fulfillment {{ id state }}"
CANCEL_RESULT = f"{RESULT} ... on Order {{ id state }}"
_FIELD = {"add": "shipments", "move": "status", "cancel": "status", "note": "tracking_url"}
"""RecordError field of a refused operation, by kind."""


# -- pure: reading -------------------------------------------------------------------------------


def _live(row: dict[str, Any]) -> list[dict[str, Any]]:
    """Fulfillments of an order that count (a cancelled one ships nothing)."""
    return [f for f in row.get("fulfillments") or [] if f["state"] != "Cancelled"]


def _refunds(payment: dict[str, Any], states: Iterable[str]) -> int:
    return sum(int(r["total"]) for r in payment.get("refunds") or [] if r["state"] in states)


def settled_left(row: dict[str, Any]) -> int:
    """Minor units the customer paid (settled payments) and did not get back (refunds not failed)."""
    return sum(
        int(p["amount"]) - _refunds(p, ("Pending", "Settled"))
        for p in row.get("payments") or []
        if p["state"] == "Settled"
    )


def canonical_status(row: dict[str, Any]) -> str:
    """The canonical status of a placed Vendure order (``ORDER_STATUSES`` or ``"open"``).

    A settled payment refunded in full (settled refunds) reads ``refunded`` whatever the state;
    a partial refund changes nothing. States of Vendure's order process without a canonical
    match (Modifying, ArrangingAdditionalPayment, custom ones) read from the fulfillments, else ``open``.
    """
    settled = [p for p in row.get("payments") or [] if p["state"] == "Settled"]
    paid = sum(int(p["amount"]) for p in settled)
    if paid > 0 and sum(_refunds(p, ("Settled",)) for p in settled) >= paid:
        return "refunded"
    if row["state"] in STATE_STATUS:
        return STATE_STATUS[row["state"]]
    states = {f["state"] for f in _live(row)}
    return "delivered" if "Delivered" in states else "shipped" if "Shipped" in states else "open"


def note_key(entry: dict[str, Any]) -> str | None:
    """The key of a note passerelle wrote (history entry of type ORDER_NOTE), else None."""
    return text_key(str((entry.get("data") or {}).get("note") or ""))


def noted(row: dict[str, Any]) -> dict[str, str]:
    """History entry id of every passerelle note of an order, by key."""
    found: dict[str, str] = {}
    for entry in (row.get("history") or {}).get("items") or []:
        key = note_key(entry)
        if key is not None:
            found.setdefault(key, str(entry["id"]))
    return found


# -- pure: planning ------------------------------------------------------------------------------


@dataclass(slots=True)
class NewFulfillment:
    """A fulfillment to add: ``lines`` are OrderLineInputs; ``note`` is added once it exists."""

    key: str
    method: str
    tracking_code: str
    lines: list[dict[str, Any]]
    note: str | None = None


@dataclass(slots=True)
class OrderPlan:
    """What to send Vendure for one StatusWrite (see :func:`plan_write`)."""

    shop_order_id: str
    before: str
    add: list[NewFulfillment] = field(default_factory=list)
    to_state: str | None = None
    """Fulfillment state every fulfillment (existing in ``move``, and the added ones) moves forward to."""
    move: list[str] = field(default_factory=list)
    cancel_fulfillments: list[str] = field(default_factory=list)
    cancel: bool = False
    notes: list[str] = field(default_factory=list)
    public: bool = True
    language: str = "en"
    errors: list[RecordError] = field(default_factory=list)
    answer: dict[str, Any] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.add or self.move or self.cancel_fulfillments or self.cancel or self.notes)


def _error(plan: OrderPlan, name: str, reason: str) -> OrderPlan:
    plan.errors.append(RecordError(plan.shop_order_id, name, reason, "shop"))
    return plan


def _remaining(row: dict[str, Any]) -> dict[str, int]:
    """Quantity of each order line in no live fulfillment yet."""
    left = {str(line["id"]): int(line["quantity"]) for line in row.get("lines") or []}
    for fulfillment in _live(row):
        for fl in fulfillment.get("lines") or []:
            left[str(fl["orderLineId"])] = left.get(str(fl["orderLineId"]), 0) - int(fl["quantity"])
    return left


def _map_lines(shipment: Shipment, row: dict[str, Any], left: dict[str, int]) -> list[dict[str, Any]] | str:
    """OrderLineInputs of a shipment (by SKU; several lines of one SKU filled in order), or why not.

    An empty shipment is every line's remaining quantity. More than what remains is left for
    Vendure to refuse (ItemsAlreadyFulfilledError)."""
    if not shipment.lines:
        return [{"orderLineId": line_id, "quantity": qty} for line_id, qty in left.items() if qty > 0]
    by_sku: dict[str, list[str]] = {}
    for line in row.get("lines") or []:
        by_sku.setdefault(str(line["productVariant"]["sku"]), []).append(str(line["id"]))
    taken: dict[str, int] = {}
    for item in shipment.lines:
        if item.quantity <= 0 or item.quantity != item.quantity.to_integral_value():
            return f"quantity {item.quantity} of {item.sku} is not a whole positive number"
        if item.sku not in by_sku:
            return f"SKU {item.sku} is not in the order"
        wanted = int(item.quantity)
        ids = by_sku[item.sku]
        for line_id in ids:
            share = min(wanted, max(left.get(line_id, 0) - taken.get(line_id, 0), 0))
            taken[line_id] = taken.get(line_id, 0) + share
            wanted -= share
        if wanted:
            taken[ids[0]] = taken.get(ids[0], 0) + wanted
    return [{"orderLineId": line_id, "quantity": qty} for line_id, qty in taken.items() if qty > 0]


def _same_lines(fulfillment: dict[str, Any], lines: list[dict[str, Any]]) -> bool:
    have = {str(fl["orderLineId"]): int(fl["quantity"]) for fl in fulfillment.get("lines") or []}
    return have == {str(fl["orderLineId"]): int(fl["quantity"]) for fl in lines}


def _untracked_match(fulfillment: dict[str, Any], method: str, lines: list[dict[str, Any]]) -> bool:
    return (
        not (fulfillment.get("trackingCode") or "").strip()
        and fulfillment.get("method") == method
        and _same_lines(fulfillment, lines)
    )


def _plan_shipments(plan: OrderPlan, write: StatusWrite, row: dict[str, Any], title: str) -> None:
    """Fulfillments to add for the write's shipments (those not in Vendure yet), and their notes."""
    live = _live(row)
    left = _remaining(row)
    notes = noted(row)
    seen: set[str] = set()
    shipments = list(write.shipments)
    if not shipments and not live:
        # The ERP says shipped but sent no parcel: one fulfillment of everything, or Vendure cannot move.
        shipments = [Shipment(erp_id="", carrier=None, tracking_number=None)]
    for shipment in shipments:
        tracking = (shipment.tracking_number or "").strip()
        method = (shipment.carrier or "").strip()
        key = tracking or f"erp:{shipment.erp_id}"
        if key in seen:
            continue
        seen.add(key)
        found = next((f for f in live if tracking and (f.get("trackingCode") or "").strip() == tracking), None)
        lines: list[dict[str, Any]] = []
        if found is None:
            mapped = _map_lines(shipment, row, left)
            if isinstance(mapped, str):
                _error(plan, "shipments", f"shipment {shipment.erp_id}: {mapped}")
                continue
            lines = mapped
            if not tracking:  # no tracking code: the same carrier and lines are the same parcel
                found = next((f for f in live if _untracked_match(f, method, lines)), None)
        note = None
        if shipment.tracking_url and f"tracking:{key}" not in notes:
            label = " ".join(part for part in (method, tracking) if part)
            note = link_text(f"{title} ({label})" if label else title, shipment.tracking_url, f"tracking:{key}")
        if found is not None:
            plan.answer.setdefault("fulfillments", {})[key] = str(found["id"])
            if note:
                plan.notes.append(note)
            continue
        if not lines:
            if tracking:
                _error(
                    plan,
                    "shipments",
                    f"shipment {shipment.erp_id} ({tracking}): every line is already fulfilled in Vendure",
                )
            continue  # nothing left to ship and no tracking code to show: already there
        for fl in lines:
            left[fl["orderLineId"]] = left.get(fl["orderLineId"], 0) - fl["quantity"]
        plan.add.append(NewFulfillment(key, method, tracking, lines, note))


def plan_write(write: StatusWrite, row: dict[str, Any] | None, *, tracking_title: str | None = None) -> OrderPlan:
    """What to send Vendure so that the order ``row`` (read by ``READ_FOR_WRITE``) follows ``write``.

    Forward only: fulfillments move Pending -> Shipped -> Delivered and the order follows them;
    a cancelled or refunded order is left alone; a shipped one is never cancelled (a return is the
    merchant's); money is never moved (a refund due is reported in ``answer``, or as an error for a
    ``refunded`` write). Shipments are added whenever new, even to an order reading further on
    (a second parcel of a partly delivered order).
    """
    plan = OrderPlan(write.shop_order_id, "open", public=write.notify, language=write.language)
    if row is None:
        return _error(plan, "order", f"no placed order {write.shop_order_id} in Vendure")
    plan.before = before = canonical_status(row)
    target = write.status
    currency = str(row.get("currencyCode") or "EUR")
    due = settled_left(row)
    if target not in ORDER_STATUSES:
        return _error(plan, "status", f"unknown status {target!r} (expected one of {', '.join(ORDER_STATUSES)})")
    if target == "refunded":
        if before == "refunded" or due <= 0:
            plan.answer["skipped"] = "nothing paid is left to refund in Vendure"
        else:
            _error(
                plan,
                "status",
                f"refunded in the ERP but {from_minor_units(due, currency)} {currency} is still paid in Vendure: "
                "passerelle never moves money; refund the order in Vendure's admin",
            )
        return plan
    if before in FINAL_STATUSES:
        plan.answer["skipped"] = f"the order is {before} in Vendure"
        return plan
    if target == "processing":
        plan.answer["skipped"] = "Vendure 3.7 has no state for an order being prepared"
        return plan
    live = _live(row)
    if target == "cancelled":
        if any(f["state"] in ("Shipped", "Delivered") for f in live):
            return _error(plan, "status", "already shipped in Vendure: handle the return and refund in Vendure's admin")
        plan.cancel_fulfillments = [str(f["id"]) for f in live]
        plan.cancel = True
        if due > 0:
            plan.answer["refund_due"] = f"{from_minor_units(due, currency)} {currency}"
        authorised = [str(p["id"]) for p in row.get("payments") or [] if p["state"] == "Authorized"]
        if authorised:
            plan.answer["authorized_payments"] = authorised
        return plan
    if row["state"] not in FULFILLABLE:
        hint = "settle (capture) the payment in Vendure first" if row["state"] == "PaymentAuthorized" else "wait"
        return _error(plan, "status", f"Vendure cannot ship an order in state {row['state']}: {hint}")
    plan.to_state = TARGET_FULFILLMENT_STATE[target]
    _plan_shipments(plan, write, row, tracking_title or customer_text("tracking", write.language))
    plan.move = [str(f["id"]) for f in live if f["state"] in MOVES_TO[plan.to_state]]
    if plan.empty and not plan.errors:
        plan.answer["skipped"] = f"already {before} in Vendure"
    return plan


# -- documents -----------------------------------------------------------------------------------


def op_add(alias: str, order_lines: list[dict[str, Any]], method: str, tracking_code: str) -> Operation:
    arguments = [{"name": "method", "value": method}]  # NOT NULL in Vendure's database: always sent
    if tracking_code:
        arguments.append({"name": "trackingCode", "value": tracking_code})
    value = {"lines": order_lines, "handler": {"code": FULFILLMENT_HANDLER, "arguments": arguments}}
    return Operation(alias, "addFulfillmentToOrder", {"input": ("FulfillOrderInput!", value)}, FULFILLMENT_RESULT)


def op_move(alias: str, fulfillment_id: str, state: str) -> Operation:
    return Operation(
        alias,
        "transitionFulfillmentToState",
        {"id": ("ID!", fulfillment_id), "state": ("String!", state)},
        FULFILLMENT_RESULT,
    )


def op_cancel(alias: str, order_id: str, reason: str) -> Operation:
    value = {"orderId": order_id, "cancelShipping": True, "reason": reason}
    return Operation(alias, "cancelOrder", {"input": ("CancelOrderInput!", value)}, CANCEL_RESULT)


def op_note(alias: str, order_id: str, text: str, public: bool) -> Operation:
    value = {"id": order_id, "note": text, "isPublic": public}
    return Operation(alias, "addNoteToOrder", {"input": ("AddNoteToOrderInput!", value)}, "id")


def op_notes(alias: str, order_id: str, text: str, public: bool) -> list[Operation]:
    """A planned note (its last line the key) as Vendure gets it: the text where the customer reads
    it (``public``), then its key line in a private note next to it, in the same batch."""
    body, key = split_key(text)
    ops = [op_note(alias, order_id, body, public)]
    if key is not None:
        ops.append(op_note(f"{alias}k", order_id, key, False))
    return ops


DOCUMENTS = (READ_STATUSES, READ_FOR_WRITE, READ_NOTES, ADD_NOTE)
"""Fixed documents; the batch documents are built from the ``op_*`` operations."""


# -- the sink ------------------------------------------------------------------------------------


class VendureFeedback:
    """StatusSink and DocumentLinkSink for the Vendure Admin API (mixed into the Vendure shop connector).

    The administrator of the connection needs the ReadOrder and UpdateOrder permissions.
    """

    client: VendureClient
    platform = "Vendure"
    feedback_read_take = 100
    """Orders read per request."""
    tracking_title: str | None = None
    """Title of the note carrying a tracking URL (followed by carrier and tracking number); None:
    "Track your parcel" in the write's language (``connectors.shop.notes.CUSTOMER_TEXTS``)."""
    cancel_reason: str | None = None
    """Reason of a cancellation, shown in the order's history (public in Vendure); None: the text
    in the write's language."""

    def _rows(self, document: str, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Placed orders by id, ``feedback_read_take`` per request."""
        unique = list(dict.fromkeys(str(i) for i in ids))
        rows: dict[str, dict[str, Any]] = {}
        for start in range(0, len(unique), self.feedback_read_take):
            page = unique[start : start + self.feedback_read_take]
            options = {"filter": {"_and": [*PLACED, {"id": {"in": page}}]}, "take": len(page)}
            for row in self.client.query(document, {"options": options})["orders"]["items"]:
                rows[str(row["id"])] = row
        return rows

    def read_statuses(self, shop_order_ids: Sequence[str]) -> dict[str, str]:
        """Canonical status of these placed orders (one request per 100); unknown ids and carts left out."""
        return {oid: canonical_status(row) for oid, row in self._rows(READ_STATUSES, shop_order_ids).items()}

    def write_statuses(self, writes: Sequence[StatusWrite]) -> BatchResult:
        """Apply the writes; see :func:`plan_write`. Three requests per batch of up to 100 orders: the
        read, then one document with every operation that needs no answer (fulfillments to add,
        moves of existing ones, cancellations, notes), then one with the moves and notes of the
        fulfillments just added; fewer when there is less to do (the read only when nothing changed).
        An operation that throws (not an ErrorResult) costs one more request for the ones after it.

        ``answers[order id]``: ``before`` (canonical status read), ``fulfillments`` (shipment key ->
        fulfillment id), ``moved_to``, ``notes``, ``cancelled``, ``refund_due`` / ``authorized_payments``
        (what the merchant must settle by hand after a cancellation) or ``skipped`` (why nothing was sent).
        """
        result = BatchResult()
        merged: dict[str, StatusWrite] = {}
        for w in writes:  # the same order twice: the later status, every shipment
            earlier = merged.get(w.shop_order_id)
            shipments = (earlier.shipments if earlier else ()) + w.shipments
            merged[w.shop_order_id] = StatusWrite(w.shop_order_id, w.status, shipments, w.notify, w.language)
        if not merged:
            return result
        rows = self._rows(READ_FOR_WRITE, list(merged))
        plans = [plan_write(w, rows.get(oid), tracking_title=self.tracking_title) for oid, w in merged.items()]
        sent: dict[str, tuple[OrderPlan, str, str]] = {}  # alias -> (plan, kind of operation, what it is)

        def add(plan: OrderPlan, kind: str, operation: Operation, what: str = "") -> Operation:
            sent[operation.alias] = (plan, kind, what)
            return operation

        first: list[Operation] = []
        for i, plan in enumerate(plans):
            oid = plan.shop_order_id
            first += [
                add(plan, "move", op_move(f"o{i}x{j}", f, "Cancelled"), f"fulfillment {f} to Cancelled: ")
                for j, f in enumerate(plan.cancel_fulfillments)
            ]
            reason = self.cancel_reason or customer_text("cancelled", plan.language)
            first += [add(plan, "cancel", op_cancel(f"o{i}c", oid, reason))] if plan.cancel else []
            first += [
                add(plan, "add", op_add(f"o{i}a{j}", new.lines, new.method, new.tracking_code), f"shipment {new.key}: ")
                for j, new in enumerate(plan.add)
            ]
            first += [
                add(plan, "move", op_move(f"o{i}m{j}", f, plan.to_state or ""), f"fulfillment {f} to {plan.to_state}: ")
                for j, f in enumerate(plan.move)
            ]
            first += [
                add(plan, "note", op)
                for j, t in enumerate(plan.notes)
                for op in op_notes(f"o{i}n{j}", oid, t, plan.public)
            ]
        data, errors = self._mutate(first)
        then: list[Operation] = []
        for i, plan in enumerate(plans):
            for j, new in enumerate(plan.add):
                created = data.get(f"o{i}a{j}")
                if not created:
                    continue
                plan.answer.setdefault("fulfillments", {})[new.key] = str(created["id"])
                fid = str(created["id"])
                then.append(
                    add(
                        plan,
                        "move",
                        op_move(f"o{i}t{j}", fid, plan.to_state or ""),
                        f"fulfillment {fid} to {plan.to_state}: ",
                    )
                )
                if new.note:
                    then += [
                        add(plan, "note", op) for op in op_notes(f"o{i}p{j}", plan.shop_order_id, new.note, plan.public)
                    ]
        later_data, later_errors = self._mutate(then)
        data.update(later_data)
        errors.update(later_errors)
        for alias, (plan, kind, what) in sent.items():
            if alias in errors:
                plan.errors.append(RecordError(plan.shop_order_id, _FIELD[kind], what + errors[alias], "shop"))
            elif kind == "move" and (data.get(alias) or {}).get("state") != "Cancelled":
                plan.answer["moved_to"] = plan.to_state
            elif kind == "cancel":
                plan.answer["cancelled"] = True
            elif kind == "note":
                plan.answer["notes"] = plan.answer.get("notes", 0) + 1
        for plan in plans:
            result.errors += plan.errors
            result.answers[plan.shop_order_id] = {"before": plan.before, **plan.answer}
        return result

    def _mutate(self, operations: list[Operation]) -> tuple[dict[str, Any], dict[str, str]]:
        """Send aliased mutations (``VendureClient.batch`` sends again what a throwing one stopped);
        those Vendure applied without answering are reported, and the next run finds them (every
        write here is idempotent)."""
        answer = self.client.batch("mutation", operations)
        errors = dict(answer.errors)
        for alias in answer.lost:
            errors[alias] = (
                "no answer: Vendure stopped the batch at another operation's error "
                "(this one may have been applied; the next run checks)"
            )
        return answer.data, errors

    def link_document(self, shop_order_id: str, title: str, url: str, *, key: str) -> str:
        """A public note ``title: url`` on the order (the customer sees it in their account) and a
        private one with its key; returns the key note's history entry id. Idempotent: a note
        already carrying ``key`` (a private key note, or the key line of a note written before) is
        returned as it is. Two requests (one when the note is there already).

        Raises:
            Refused: no placed order with this id, or a key / title / URL on more than one line.
        """
        key = link_key(shop_order_id, title, url, key)
        order = self.client.query(READ_NOTES, {"id": shop_order_id})["order"]
        if order is None or order.get("active") or not order.get("orderPlacedAt"):
            raise Refused(RecordError(shop_order_id, "order", f"no placed order {shop_order_id} in Vendure", "shop"))
        existing = noted(order).get(key)
        if existing is not None:
            return existing
        body, line = split_key(link_text(title, url, key))
        added = self.client.execute(
            ADD_NOTE,
            {
                "text": {"id": shop_order_id, "note": body, "isPublic": True},
                "key": {"id": shop_order_id, "note": line, "isPublic": False},
            },
        )
        for entry in added["key"]["history"]["items"]:
            if note_key(entry) == key:
                return str(entry["id"])
        raise Fatal(
            f"Vendure added the note {key!r} to order {shop_order_id} but does not list it.",
            resolution="check the order's history in Vendure's admin; the next run will not add it twice.",
        )
