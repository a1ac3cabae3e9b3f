"""PrestaShop as an order source: orders of a time window, or by id, as canonical Orders.

Window: ``date_upd`` is the shop's wall-clock time; the UTC window ``[since, until)`` is read
through widened local bounds (:func:`~connectors.timezones.local_bounds`,
:func:`~connectors.timezones.within`), so an order of the repeated autumn hour is read by two
windows, never by none. Paging is by keyset on (``date_upd``, id), never offsets, asking
:attr:`PrestaShopOrders.order_list_take` + 1 records at a time (more orders than that within one
second: Fatal). The orders are then read by id, ``order_detail_take`` at a time, oldest first.

Details: docs/prestashop.md (Reading orders).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from connectors.errors import Fatal
from connectors.models import Order
from connectors.shop.prestashop.client import PrestaShopClient, id_filter, interval_filter, local_text
from connectors.shop.prestashop.order_mapper import OrderBundle, StateRules, map_order, parse_local
from connectors.timezones import local_bounds, within

__all__ = ["PrestaShopOrders"]

_EARLIEST = datetime(1970, 1, 1)
_LATEST = datetime(9999, 12, 31, 23, 59, 59)
_SORT = ("date_upd_ASC", "id_ASC")


class PrestaShopOrders:
    """OrderSource for the PrestaShop webservice (mixed into the PrestaShop shop connector).

    The webservice key needs GET on :data:`~connectors.shop.prestashop.client.READ_RESOURCES`.
    """

    platform = "PrestaShop"
    order_list_take = 1000
    """Orders one listing answer holds."""
    order_detail_take = 50
    """Orders read per request."""

    def __init__(
        self,
        client: PrestaShopClient,
        *,
        timezone: str | tzinfo = "Europe/Paris",
        language: str = "1",
        states: StateRules | None = None,
    ) -> None:
        self.client = client
        self.tz = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
        self.language = str(language)
        self.states = states or StateRules()
        self._cache: dict[str, dict[str, dict[str, Any]]] = {}

    def close(self) -> None:
        self.client.close()

    # -- OrderSource ------------------------------------------------------------------------
    def iter_orders(self, since: datetime | None, until: datetime | None) -> Iterator[Order]:
        """Orders whose ``date_upd`` is in ``[since, until)`` (aware; None: open end), oldest first."""
        if since is not None and until is not None and since >= until:
            return
        low, high = local_bounds(since, until, self.tz)
        stubs = [
            s
            for s in self._list(low or _EARLIEST, high or _LATEST)
            if (when := parse_local(s.get("date_upd"))) is not None and within(when, self.tz, since, until)
        ]
        ids = [str(s["id"]) for s in stubs]
        for start in range(0, len(ids), self.order_detail_take):
            yield from self._read(ids[start : start + self.order_detail_take])

    def get_orders(self, shop_ids: Sequence[str]) -> list[Order]:
        """These orders, in the order asked; unknown ids are left out."""
        ids = list(dict.fromkeys(str(i) for i in shop_ids if str(i).isdigit()))
        found: list[Order] = []
        for start in range(0, len(ids), self.order_detail_take):
            found += self._read(ids[start : start + self.order_detail_take])
        return found

    # -- listing ----------------------------------------------------------------------------
    def _list(self, low: datetime, high: datetime) -> list[dict[str, Any]]:
        """Ids and ``date_upd`` of the orders with ``low <= date_upd <= high`` (naive), by keyset."""
        seen: set[str] = set()
        stubs: list[dict[str, Any]] = []
        start = local_text(low)
        while True:
            page = self.client.get(
                "orders",
                display=["id", "date_upd"],
                filters={"date_upd": interval_filter(start, local_text(high))},
                sort=_SORT,
                limit=(0, self.order_list_take + 1),
                date=True,
            )
            for stub in page[: self.order_list_take]:
                if str(stub["id"]) not in seen:
                    seen.add(str(stub["id"]))
                    stubs.append(stub)
            if len(page) <= self.order_list_take:
                return stubs
            following = str(page[-1]["date_upd"])
            if following == start:
                raise Fatal(
                    f"more than {self.order_list_take} PrestaShop orders have date_upd {start}.",
                    resolution="import these orders by id (order_ids) or raise order_list_take.",
                )
            start = following

    # -- reading ----------------------------------------------------------------------------
    def _read(self, ids: Sequence[str]) -> list[Order]:
        """Orders by id, mapped, in the order of ``ids`` (missing ones left out)."""
        if not ids:
            return []
        rows = self.client.get("orders", filters={"id": id_filter(ids)})
        by_id = {str(r["id"]): r for r in rows}
        rows = [by_id[i] for i in ids if i in by_id]
        if not rows:
            return []
        details: dict[str, list[dict[str, Any]]] = {}
        for detail in self.client.get("order_details", filters={"id_order": id_filter(by_id)}):
            details.setdefault(str(detail.get("id_order")), []).append(detail)
        customers = self._records("customers", {str(r.get("id_customer")) for r in rows})
        addresses = self._records(
            "addresses", {str(r.get(f)) for r in rows for f in ("id_address_delivery", "id_address_invoice")}
        )
        countries = self._cached("countries", {str(a.get("id_country")) for a in addresses.values()})
        currencies = self._cached("currencies", {str(r.get("id_currency")) for r in rows})
        states = self._cached("order_states", {str(r.get("current_state")) for r in rows})
        carriers = self._cached("carriers", {str(r.get("id_carrier")) for r in rows})
        references = {str(r.get("reference")) for r in rows if r.get("reference")}
        payments: dict[str, list[dict[str, Any]]] = {}
        totals: dict[str, Decimal] = {}
        if references:
            for payment in self.client.get(
                "order_payments", filters={"order_reference": id_filter(sorted(references))}
            ):
                payments.setdefault(str(payment.get("order_reference")), []).append(payment)
            # Orders of one cart share a reference and its payments (even those not read here).
            for sibling in self.client.get(
                "orders",
                display=["id", "reference", "total_paid_tax_incl"],
                filters={"reference": id_filter(sorted(references))},
            ):
                ref = str(sibling.get("reference"))
                totals[ref] = totals.get(ref, Decimal(0)) + Decimal(str(sibling.get("total_paid_tax_incl") or "0"))
        iso = {k: str(v.get("iso_code") or "") for k, v in countries.items()}
        orders = []
        for row in rows:
            ref = str(row.get("reference"))
            bundle = OrderBundle(
                order=row,
                details=details.get(str(row["id"]), []),
                customer=customers.get(str(row.get("id_customer"))),
                delivery=addresses.get(str(row.get("id_address_delivery"))),
                invoice=addresses.get(str(row.get("id_address_invoice"))),
                countries=iso,
                currency=str((currencies.get(str(row.get("id_currency"))) or {}).get("iso_code") or "") or None,
                state=states.get(str(row.get("current_state"))),
                carrier=carriers.get(str(row.get("id_carrier"))),
                payments=payments.get(ref, []),
                reference_total=totals.get(ref),
            )
            orders.append(map_order(bundle, self.tz, language=self.language, rules=self.states))
        return orders

    def _records(self, resource: str, ids: set[str]) -> dict[str, dict[str, Any]]:
        wanted = sorted(i for i in ids if i.isdigit() and i != "0")
        if not wanted:
            return {}
        return {str(r["id"]): r for r in self.client.get(resource, filters={"id": id_filter(wanted)})}

    def _cached(self, resource: str, ids: set[str]) -> dict[str, dict[str, Any]]:
        """Small reference tables (countries, currencies, states, carriers), read once per connector."""
        cache = self._cache.setdefault(resource, {})
        missing = {i for i in ids if i not in cache}
        if missing:
            cache.update(self._records(resource, missing))
        return {i: cache[i] for i in ids if i in cache}
