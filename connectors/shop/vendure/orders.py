"""Vendure as an order source: placed orders of a time window, or by id, as canonical Orders.

Window: times are UTC; an order's modification time is the later of ``updatedAt`` and
``orderPlacedAt`` (:func:`~connectors.shop.vendure.order_mapper.changed_at`: Vendure 3.7 does not
move ``updatedAt`` on a state change). Only placed orders (``active = false`` with an
``orderPlacedAt``). Bounds compare with the millisecond before them, so ``[since, until)`` holds on
SQLite too. A window is listed in one request (a consistent snapshot), split in halves when it
holds more than ``order_list_take``; the orders are then read by id, ``order_detail_take`` at a
time, oldest first.

Details: docs/platforms.md (Vendure); docs/orders.md (What one run does).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from connectors.errors import Fatal
from connectors.models import Order, ensure_utc
from connectors.shop.vendure.client import VendureClient
from connectors.shop.vendure.order_mapper import changed_at, map_order, parse_time

__all__ = ["ORDER_FIELDS", "VendureOrders", "window_filter"]

ADDRESS = "fullName company streetLine1 streetLine2 city postalCode countryCode phoneNumber"
DISCOUNT = "adjustmentSource type description amount amountWithTax"
ORDER_FIELDS = f"""fragment PasserelleOrder on Order {{
  id code state active createdAt updatedAt orderPlacedAt currencyCode
  customer {{ id emailAddress firstName lastName phoneNumber user {{ id }} }}
  billingAddress {{ {ADDRESS} }}
  shippingAddress {{ {ADDRESS} }}
  lines {{
    id quantity unitPrice taxRate
    discountedLinePrice discountedLinePriceWithTax proratedLinePrice proratedLinePriceWithTax
    productVariant {{ id sku name }}
    discounts {{ {DISCOUNT} }}
  }}
  shippingLines {{
    shippingMethod {{ code name }}
    price priceWithTax discountedPrice discountedPriceWithTax
    discounts {{ {DISCOUNT} }}
  }}
  surcharges {{ id description sku price priceWithTax taxRate }}
  couponCodes
  promotions {{ id couponCode }}
  total totalWithTax
  taxSummary {{ description taxRate }}
  payments {{
    id method amount state transactionId createdAt updatedAt
    refunds {{ id total state method transactionId updatedAt }}
  }}
}}"""
"""What :func:`~connectors.shop.vendure.order_mapper.map_order` reads (Admin API)."""

STUB = "id updatedAt orderPlacedAt"
LIST_WINDOW = f"""query OrderWindow($options: OrderListOptions!) {{
  orders(options: $options) {{ totalItems items {{ {STUB} }} }}
}}"""
WINDOW_END = f"""query OrderWindowEnd($filter: OrderFilterParameter!) {{
  byUpdate: orders(options: {{filter: $filter, sort: {{updatedAt: DESC}}, take: 1}}) {{ items {{ {STUB} }} }}
  byPlacement: orders(options: {{filter: $filter, sort: {{orderPlacedAt: DESC}}, take: 1}}) {{ items {{ {STUB} }} }}
}}"""
READ_ORDERS = f"""query Orders($options: OrderListOptions!) {{
  orders(options: $options) {{ items {{ ...PasserelleOrder }} }}
}}
{ORDER_FIELDS}"""
DOCUMENTS = (LIST_WINDOW, WINDOW_END, READ_ORDERS)

PLACED: list[dict[str, Any]] = [{"active": {"eq": False}}, {"orderPlacedAt": {"isNull": False}}]
"""Orders out of the cart: inactive and placed."""

_MS = timedelta(milliseconds=1)


def _floor_ms(value: datetime) -> datetime:
    value = ensure_utc(value)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def gql_time(value: datetime) -> str:
    """Aware datetime -> the UTC ISO string Vendure parses, floored to the millisecond."""
    value = _floor_ms(value)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def window_filter(since: datetime | None, until: datetime | None) -> dict[str, Any]:
    """OrderFilterParameter of the placed orders with ``since <= max(updatedAt, orderPlacedAt) < until``."""
    clauses = list(PLACED)
    if since is not None:
        after = gql_time(since - _MS)
        clauses.append({"_or": [{"updatedAt": {"after": after}}, {"orderPlacedAt": {"after": after}}]})
    if until is not None:
        last = gql_time(until - _MS)
        for name in ("updatedAt", "orderPlacedAt"):
            clauses.append({"_or": [{name: {"before": last}}, {name: {"eq": last}}]})
    return {"_and": clauses}


def _order_key(stub: dict[str, Any]) -> tuple[datetime, int, str]:
    """Oldest first; ids compare as numbers when they are (``"9"`` before ``"10"``)."""
    ident = str(stub["id"])
    return changed_at(stub), len(ident), ident


class VendureOrders:
    """OrderSource for the Vendure Admin API (mixed into the Vendure shop connector).

    The administrator of the connection needs the ReadOrder permission.
    """

    client: VendureClient
    platform = "Vendure"
    order_list_take = 1000
    """Orders one window listing may hold (Vendure's Admin API list limit); more: the window is split."""
    order_detail_take = 50
    """Orders read per request."""

    def iter_orders(self, since: datetime | None, until: datetime | None) -> Iterator[Order]:
        """Placed orders whose modification time is in ``[since, until)`` (aware; None: open end),
        oldest first. An order modified while being read comes with its newer ``updated_at``."""
        if since is not None and until is not None and _floor_ms(since) >= _floor_ms(until):
            return
        stubs = sorted(self._list(since, until), key=_order_key)
        ids = list(dict.fromkeys(str(s["id"]) for s in stubs))
        for start in range(0, len(ids), self.order_detail_take):
            yield from self._read(ids[start : start + self.order_detail_take])

    def get_orders(self, shop_ids: Sequence[str]) -> list[Order]:
        """These orders, in the order asked; unknown ids and carts are left out."""
        ids = list(dict.fromkeys(str(i) for i in shop_ids))
        found: list[Order] = []
        for start in range(0, len(ids), self.order_detail_take):
            found += self._read(ids[start : start + self.order_detail_take])
        return found

    # -- listing ----------------------------------------------------------------------------
    def _list(self, since: datetime | None, until: datetime | None) -> list[dict[str, Any]]:
        """Ids and times of the window's orders, each window or half-window in one request."""
        options = {
            "filter": window_filter(since, until),
            "sort": {"updatedAt": "ASC", "id": "ASC"},
            "take": self.order_list_take,
        }
        data = self.client.query(LIST_WINDOW, {"options": options})["orders"]
        items: list[dict[str, Any]] = data["items"]
        if int(data["totalItems"]) <= len(items):
            return items
        # Split at the middle of the orders' times; the outer halves keep an open end open.
        low = _floor_ms(since) if since is not None else parse_time(items[0]["updatedAt"])
        high = _floor_ms(until) if until is not None else self._window_end(since) + 2 * _MS
        if high - low <= _MS:
            raise Fatal(
                f"more than {self.order_list_take} Vendure orders changed within one millisecond at {gql_time(low)}.",
                resolution="import these orders by id (order_ids) or raise the Admin API list limit and order_list_take.",
            )
        middle = _floor_ms(low + (high - low) / 2)
        return self._list(since, middle) + self._list(middle, until)

    def _window_end(self, since: datetime | None) -> datetime:
        """The latest modification time in an open-ended window (to find its middle)."""
        data = self.client.query(WINDOW_END, {"filter": window_filter(since, None)})
        stubs = data["byUpdate"]["items"] + data["byPlacement"]["items"]
        return max(changed_at(s) for s in stubs)

    # -- reading ----------------------------------------------------------------------------
    def _read(self, ids: Sequence[str]) -> list[Order]:
        """Placed orders by id, mapped, in the order of ``ids`` (missing ones left out)."""
        if not ids:
            return []
        options = {"filter": {"_and": [*PLACED, {"id": {"in": list(ids)}}]}, "take": len(ids)}
        rows = self.client.query(READ_ORDERS, {"options": options})["orders"]["items"]
        by_id = {str(row["id"]): row for row in rows}
        return [map_order(by_id[i]) for i in ids if i in by_id]
