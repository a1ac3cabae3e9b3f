"""Customers of web orders in Odoo: a res.partner found by its shop id, then by e-mail, or created,
with child addresses of type ``invoice`` and ``delivery`` (res.partner ``type``, ``parent_id``).

The shop id is stored as ``"<shop>:<customer id>"`` in ``orders.customer_field`` (``ref`` by
default); a customer found by e-mail gets it written, so the next order finds them by id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from connectors.erp.odoo.client import OdooClient, OdooError, m2o_id
from connectors.erp.odoo.settings import OdooSettings
from connectors.errors import RecordError, Refused
from connectors.models import Address, Order, person_name

__all__ = ["OdooParties", "Partner"]

_ADDRESS_FIELDS = ["id", "type", "name", "street", "street2", "zip", "city", "country_id"]


@dataclass(frozen=True, slots=True)
class Partner:
    id: int
    invoice: int
    delivery: int


def _norm(value: Any) -> str:
    return re.sub(r"\s+", " ", str(value or "")).strip().casefold()


def _exact(value: str) -> str:
    """``value`` as an exact ``=ilike`` pattern: Odoo hands it to SQL ILIKE, where ``_`` and ``%``
    are wildcards (``jean_m@…`` would match ``jeanXm@…``); a backslash escapes them."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class OdooParties:
    """The customer side of ``OdooOrders`` (a mixin)."""

    client: OdooClient
    settings: OdooSettings

    def _partner(self, order: Order) -> Partner:
        """The order's customer and its invoice and delivery addresses (created when missing).

        Raises:
            Refused: a country Odoo does not know, or Odoo refusing the customer's values.
        """
        partners = self.client.model("res.partner")
        field = self.settings.orders.customer_field
        customer = order.customer
        tag = f"{self.settings.orders.shop}:{customer.shop_id}" if customer.shop_id else None
        rows: list[dict[str, Any]] = []
        if tag:
            rows = partners.search_read([(field, "=", tag)], ["id", field], limit=1)
        if not rows and customer.email:
            rows = partners.search_read(
                [("email", "=ilike", _exact(customer.email.strip())), ("parent_id", "=", False)], ["id", field], limit=1
            )
        countries = self._countries(order)
        try:
            if rows:
                partner_id = int(rows[0]["id"])
                if tag and not rows[0].get(field):
                    partners.write([partner_id], {field: tag})
            else:
                partner_id = partners.create(self._customer_values(order, tag))
            invoice = self._address(partner_id, "invoice", order.billing, order, countries)
            delivery = self._address(partner_id, "delivery", order.shipping or order.billing, order, countries)
        except OdooError as exc:
            if not exc.per_record:
                raise
            raise Refused(RecordError(order.shop_id, "customer", f"Odoo refused the customer: {exc.message}")) from exc
        return Partner(partner_id, invoice or partner_id, delivery or invoice or partner_id)

    def _customer_values(self, order: Order, tag: str | None) -> dict[str, Any]:
        customer = order.customer
        name = person_name(customer.first_name, customer.last_name) or customer.email
        values: dict[str, Any] = {"name": customer.company or name, "email": customer.email, "type": "contact"}
        if customer.company:
            values["is_company"] = True
        if customer.phone:
            values["phone"] = customer.phone
        if customer.vat_number:
            values["vat"] = customer.vat_number
        if tag:
            values[self.settings.orders.customer_field] = tag
        return values

    def _countries(self, order: Order) -> dict[str, int]:
        codes = sorted({a.country.upper() for a in (order.billing, order.shipping) if a is not None and a.country})
        if not codes:
            return {}
        rows = self.client.model("res.country").search_read([("code", "in", codes)], ["id", "code"])
        found = {r["code"].upper(): int(r["id"]) for r in rows}
        missing = [c for c in codes if c not in found]
        if missing:
            raise Refused(RecordError(order.shop_id, "shipping.country", f"Odoo has no country {', '.join(missing)}"))
        return found

    def _address(
        self, partner_id: int, kind: str, address: Address | None, order: Order, countries: dict[str, int]
    ) -> int | None:
        """The child address of ``kind`` equal to ``address``, created when none is."""
        if address is None:
            return None
        values = {
            "name": person_name(address.first_name, address.last_name) or address.company or order.customer.email,
            "street": address.street,
            "street2": address.street2 or False,
            "zip": address.postal_code,
            "city": address.city,
            "country_id": countries.get(address.country.upper()) or False,
        }
        partners = self.client.model("res.partner")
        for row in partners.search_read([("parent_id", "=", partner_id), ("type", "=", kind)], _ADDRESS_FIELDS):
            same = all(_norm(row.get(k)) == _norm(values[k]) for k in ("name", "street", "street2", "zip", "city"))
            if same and m2o_id(row.get("country_id")) == (values["country_id"] or None):
                return int(row["id"])
        extra = {"phone": address.phone} if address.phone else {}
        return partners.create({**values, **extra, "parent_id": partner_id, "type": kind})
