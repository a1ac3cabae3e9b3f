"""Shopify as a status sink and a document link sink.

Statuses read: :func:`~connectors.shop.shopify.order_mapper.canonical_status` (cancelled,
refunded, FULFILLED -> shipped, partly fulfilled -> processing, else open). Writes, per order,
after one read of the order (its fulfillments and open fulfillment orders):

- shipped / delivered: one ``fulfillmentCreate`` per new tracking number, over the open
  fulfillment orders (the shipment's lines when it lists them, else everything left), with
  ``trackingInfo {number, company, url}`` and ``notifyCustomer`` from the settings. The tracking
  number is the idempotency key: a fulfillment already holding it is not created again (a run
  killed after Shopify wrote finds it). A shipment without tracking number fulfils what is left
  only when nothing was fulfilled yet.
- cancelled: ``orderCancel`` with ``refund: false`` (passerelle never moves money: the payment
  evidence stays Shopify's transactions), ``restock: true``, ``reason: OTHER``.
- never backwards (:func:`connectors.models.moves_forward`); ``processing`` writes nothing (Shopify
  has no such state to set), ``refunded`` is refused (a refund is the merchant's, in Shopify).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectors.base import BatchResult, StatusWrite
from connectors.errors import RecordError, Refused
from connectors.models import Shipment, moves_forward
from connectors.shop.notes import link_key
from connectors.shop.shopify.base import ShopifyBase
from connectors.shop.shopify.client import user_errors
from connectors.shop.shopify.order_mapper import canonical_status, gid_number, order_gid

__all__ = ["METAFIELD_NAMESPACE", "ShopifyFeedback"]

METAFIELD_NAMESPACE = "passerelle"

STATUS = """
query OrderStatuses($ids: [ID!]!) {
  nodes(ids: $ids) {
    __typename
    ... on Order { id cancelledAt displayFinancialStatus displayFulfillmentStatus }
  }
}
"""
"""What :meth:`ShopifyFeedback.read_statuses` reads (a few points per order)."""

STATE = """
query OrderState($id: ID!) {
  order(id: $id) {
    id cancelledAt displayFinancialStatus displayFulfillmentStatus
    fulfillments(first: 50) { id trackingInfo { number } }
    fulfillmentOrders(first: 10) {
      nodes { id status lineItems(first: 50) { nodes { id sku remainingQuantity } } }
    }
  }
}
"""
"""One order before a write (about 540 points: one order per request)."""

STATUS_PAGE = 50
"""Orders per status read."""

CREATE = """
mutation Ship($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id trackingInfo { number } }
    userErrors { field message }
  }
}
"""

CANCEL = """
mutation Cancel($orderId: ID!, $notify: Boolean, $note: String) {
  orderCancel(orderId: $orderId, refund: false, restock: true, reason: OTHER, notifyCustomer: $notify, staffNote: $note) {
    job { id }
    orderCancelUserErrors { field message code }
  }
}
"""

LINK_READ = """
query OrderLink($id: ID!, $key: String!) {
  order(id: $id) { id metafield(namespace: "passerelle", key: $key) { id value } }
}
"""

LINK_SET = """
mutation Link($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) { metafields { id key value } userErrors { field message code } }
}
"""

_OPEN = {"OPEN", "IN_PROGRESS"}


def _metafield_key(key: str) -> str:
    """``invoice_<key>`` in Shopify's key alphabet (letters, digits, ``_``, ``-``; 64 at most)."""
    cleaned = "".join(c if c.isalnum() or c in "_-" else "_" for c in key)
    return f"invoice_{cleaned}"[:64]


class ShopifyFeedback(ShopifyBase):
    """StatusSink and DocumentLinkSink (scopes ``write_merchant_managed_fulfillment_orders``, ``write_orders``)."""

    def _state(self, oid: str) -> dict[str, Any] | None:
        return self.client.execute(STATE, {"id": order_gid(oid)}).get("order")

    def read_statuses(self, shop_order_ids: Sequence[str]) -> dict[str, str]:
        """Canonical status of these orders (numbers or gids, answered by number); unknown ids left out."""
        gids = list(dict.fromkeys(order_gid(i) for i in shop_order_ids if str(i).strip()))
        found: dict[str, str] = {}
        for start in range(0, len(gids), STATUS_PAGE):
            data = self.client.execute(STATUS, {"ids": gids[start : start + STATUS_PAGE]})
            for node in data.get("nodes") or []:
                if node and node.get("__typename") == "Order":
                    found[gid_number(node["id"])] = canonical_status(node)
        return found

    def write_statuses(self, writes: Sequence[StatusWrite]) -> BatchResult:
        """Fulfillments with tracking, then the status; see the module docstring.

        ``answers[order id]``: ``before``, ``fulfillments`` (tracking numbers fulfilled now),
        ``moved_to`` (``cancelled``) or nothing new.
        """
        result = BatchResult()
        merged: dict[str, StatusWrite] = {}
        for w in writes:
            oid = gid_number(w.shop_order_id)
            earlier = merged.get(oid)
            shipments = (earlier.shipments if earlier else ()) + w.shipments
            merged[oid] = StatusWrite(oid, w.status, shipments, w.notify, w.language)
        for oid, w in merged.items():
            row = self._state(oid) if oid.isdigit() else None
            if row is None:
                result.errors.append(RecordError(oid, "order", f"no order {oid} in Shopify", "shop"))
                continue
            try:
                result.answers[oid] = self._write_one(oid, row, w)
            except Refused as exc:
                result.errors.append(exc.error)
        return result

    def _write_one(self, oid: str, row: dict[str, Any], w: StatusWrite) -> dict[str, Any]:
        before = canonical_status(row)
        answer: dict[str, Any] = {"before": before}
        if w.status in {"shipped", "delivered"} and before not in {"cancelled", "refunded"}:
            done = self._ship(oid, row, w)
            if done:
                answer["fulfillments"] = done
        elif w.status == "cancelled" and moves_forward(before, "cancelled"):
            data = self.client.execute(
                CANCEL,
                {"orderId": row["id"], "notify": self.settings.notify_customer and w.notify,
                 "note": "passerelle: cancelled in the ERP"},
                mutation=True,
            )  # fmt: skip
            errors = user_errors({"userErrors": (data.get("orderCancel") or {}).get("orderCancelUserErrors")})
            if errors:
                raise Refused(RecordError(oid, f"status.{errors[0][0]}", f"Shopify refused the cancellation: {errors[0][1]}", "shop"))  # fmt: skip
            answer["moved_to"] = "cancelled"
        elif w.status == "refunded" and moves_forward(before, "refunded"):
            raise Refused(RecordError(oid, "status", "a refund is made in Shopify by the merchant, not by passerelle", "shop"))  # fmt: skip
        return answer

    def _ship(self, oid: str, row: dict[str, Any], w: StatusWrite) -> list[str]:
        known = {t.get("number") for f in row.get("fulfillments") or [] for t in f.get("trackingInfo") or []}
        orders = [fo for fo in (row.get("fulfillmentOrders") or {}).get("nodes") or [] if fo["status"] in _OPEN]
        shipments: list[Shipment] = list(w.shipments)
        if not shipments and not row.get("fulfillments"):
            shipments = [Shipment("", None, None)]  # shipped without a parcel: fulfil what is left
        done: list[str] = []
        for s in shipments:
            if s.tracking_number and s.tracking_number in known:
                continue
            if not s.tracking_number and row.get("fulfillments"):
                continue  # nothing to tell it from the fulfillments already there
            groups = self._groups(orders, s)
            if not groups:
                continue  # everything is fulfilled already
            fulfillment: dict[str, Any] = {
                "lineItemsByFulfillmentOrder": groups,
                "notifyCustomer": bool(self.settings.notify_customer and w.notify),
            }
            if s.tracking_number:
                tracking = {"number": s.tracking_number, "company": s.carrier, "url": s.tracking_url}
                fulfillment["trackingInfo"] = {k: v for k, v in tracking.items() if v}
            data = self.client.execute(CREATE, {"fulfillment": fulfillment}, mutation=True)
            payload = data.get("fulfillmentCreate") or {}
            errors = user_errors(payload)
            if errors or not payload.get("fulfillment"):
                field, message = errors[0] if errors else ("fulfillment", "no fulfillment in the answer")
                raise Refused(RecordError(oid, f"shipments.{field}", f"Shopify refused the fulfillment: {message}", "shop"))  # fmt: skip
            done.append(s.tracking_number or "")
            if s.tracking_number:
                known.add(s.tracking_number)
            self._consume(orders, groups)
        return done

    @staticmethod
    def _groups(orders: list[dict[str, Any]], s: Shipment) -> list[dict[str, Any]]:
        """``lineItemsByFulfillmentOrder`` of a shipment: its lines by SKU, else every open
        fulfillment order whole (``fulfillmentOrderLineItems`` left out: all that remains)."""
        wanted = {line.sku: int(line.quantity) for line in s.lines}
        if not wanted:
            return [{"fulfillmentOrderId": fo["id"]} for fo in orders if fo["status"] in _OPEN]
        groups = []
        for fo in orders:
            items = []
            for item in (fo.get("lineItems") or {}).get("nodes") or []:
                left = int(item.get("remainingQuantity") or 0)
                quantity = left if not wanted else min(left, wanted.get(item.get("sku") or "", 0))
                if quantity > 0:
                    items.append({"id": item["id"], "quantity": quantity})
                    if wanted:
                        wanted[item["sku"]] -= quantity
            if items:
                groups.append({"fulfillmentOrderId": fo["id"], "fulfillmentOrderLineItems": items})
        return groups

    @staticmethod
    def _consume(orders: list[dict[str, Any]], groups: list[dict[str, Any]]) -> None:
        whole = {g["fulfillmentOrderId"] for g in groups if "fulfillmentOrderLineItems" not in g}
        taken = {i["id"]: i["quantity"] for g in groups for i in g.get("fulfillmentOrderLineItems") or []}
        for fo in orders:
            if fo["id"] in whole:
                fo["status"] = "CLOSED"
                continue
            for item in (fo.get("lineItems") or {}).get("nodes") or []:
                item["remainingQuantity"] = int(item.get("remainingQuantity") or 0) - taken.get(item["id"], 0)

    def link_document(self, shop_order_id: str, title: str, url: str, *, key: str) -> str:
        """The order metafield ``passerelle.invoice_<key>`` (type ``url``) holding the document's URL;
        returns the metafield's id. A metafield, not an order note: a note is staff-facing and copied
        into e-mails, while a metafield is shown in the customer account by the theme's app block or
        a customer-account extension (``title`` is the block's label), with no customer-visible
        note and no internal key shown. Idempotent on ``key``: a metafield with that key and URL is
        not written again (a new URL for the same key replaces it).

        Raises:
            Refused: no such order, a key/title/URL on several lines, or Shopify's userErrors.
        """
        key = link_key(shop_order_id, title, url, key)
        oid = gid_number(shop_order_id)
        if not oid.isdigit():
            raise Refused(RecordError(shop_order_id, "order", "not a Shopify order id"))
        mkey = _metafield_key(key)
        data = self.client.execute(LINK_READ, {"id": order_gid(oid), "key": mkey})
        order = data.get("order")
        if order is None:
            raise Refused(RecordError(oid, "order", f"no order {oid} in Shopify", "shop"))
        existing = order.get("metafield")
        if existing and existing.get("value") == url:
            return str(existing["id"])
        answer = self.client.execute(
            LINK_SET,
            {"metafields": [{"ownerId": order["id"], "namespace": METAFIELD_NAMESPACE, "key": mkey,
                             "type": "url", "value": url}]},
            mutation=True,
        )  # fmt: skip
        payload = answer.get("metafieldsSet") or {}
        errors = user_errors(payload)
        written = payload.get("metafields") or []
        if errors or not written:
            field, message = errors[0] if errors else ("metafields", "no metafield in the answer")
            raise Refused(RecordError(oid, f"document.{field}", f"Shopify refused the link: {message}", "shop"))
        return str(written[0]["id"])
