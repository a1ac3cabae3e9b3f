"""The customer of a web order in Tryton: its party (matched by the shop's customer id, then by
e-mail, else created), addresses, e-mail, phone, VAT number and SIRET. ``docs/orders.md``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.erp.tryton.client import TrytonClient, TrytonError
from connectors.erp.tryton.order_rules import (
    _PARTY_FIELDS,
    OrderRefused,
    _address_values,
    _BatchCache,
    _like,
    _norm,
    _Party,
    _party_name,
    _refusal,
    _same_address,
    _scrubbed,
    _Setup,
)
from connectors.errors import RecordError
from connectors.models import Order, person_name

if TYPE_CHECKING:
    from connectors.erp.tryton.settings import TrytonSettings

__all__ = ["TrytonParties"]


class TrytonParties:
    """The party side of :class:`~connectors.erp.tryton.orders.TrytonOrders` (a mixin)."""

    client: TrytonClient
    settings: TrytonSettings

    # -- customer ------------------------------------------------------------------------------
    def _party(self, order: Order, setup: _Setup, notes: list[str]) -> _Party:
        """The order's party, matched by shop customer id then e-mail, else created."""
        customer = order.customer
        key = self._customer_key(order)
        email = customer.email.strip()
        rows = self._parties_of(key, email)
        rows.sort(key=lambda r: (not any(i.get("code") == key for i in r["identifiers."]), r["id"]))
        name = _party_name(order)
        if rows:
            row = rows[0]
            party_id = int(row["id"])
            if key and not any(i.get("code") == key for i in row["identifiers."]):
                try:
                    self.client.model("party.identifier").create([{"party": party_id, "type": None, "code": key}])
                except TrytonError as exc:
                    raise _refusal(order, "customer.shop_id", "the customer's shop id", exc) from exc
            known = row["addresses."]
            contact = next(
                (
                    int(c["id"])
                    for c in row["contact_mechanisms."]
                    if c["type"] == "email" and _norm(c["value"]) == _norm(email)
                ),
                None,
            )
        else:
            party_id, contact = self._create_party(order, name, notes)
            known = []
        invoice_id, shipment_id = self._addresses(order, party_id, name, known, setup, notes)
        types = {i.get("type") for i in (rows[0]["identifiers."] if rows else [])}
        opts = self.settings.orders
        if customer.vat_number and opts.vat_identifier_type not in types:
            self._identifier(
                order, party_id, opts.vat_identifier_type, customer.vat_number, None, "customer.vat_number", notes
            )
        if customer.siret and opts.siret_identifier_type not in types and invoice_id:
            self._identifier(
                order, party_id, opts.siret_identifier_type, customer.siret, invoice_id, "customer.siret", notes
            )
        return _Party(party_id, invoice_id, shipment_id, contact)

    def _customer_key(self, order: Order) -> str | None:
        """The party identifier (no type) that binds the shop's customer, if it has an id."""
        shop_id = order.customer.shop_id
        return f"{self.settings.orders.shop}:{shop_id}" if shop_id else None

    def _parties_of(self, key: str | None, email: str) -> list[dict[str, Any]]:
        """The parties with this customer key or e-mail (case-insensitive, as Tryton's ``ilike``):
        from the batch's search when it has them (``_BatchCache``), else searched (1 call). Either
        way the key and e-mail are then marked dirty: this order may create or change the party."""
        cache: _BatchCache | None = getattr(self, "_batch_cache", None)
        wanted = {w for w in (key, email.lower() if email else None) if w}
        if cache is not None and wanted <= cache.searched and not wanted & cache.dirty:
            rows = [
                r
                for r in cache.parties
                if any(i.get("type") is None and i.get("code") == key for i in r["identifiers."])
                or (
                    email
                    and any(
                        c["type"] == "email" and str(c["value"]).lower() == email.lower()
                        for c in r["contact_mechanisms."]
                    )
                )
            ]
        else:
            clauses: list[Any] = []
            if key:
                clauses.append(("identifiers", "where", [("type", "=", None), ("code", "=", key)]))
            if email:
                clauses.append(
                    ("contact_mechanisms", "where", [("type", "=", "email"), ("value", "ilike", _like(email))])
                )
            rows = self.client.model("party.party").search_read(["OR", *clauses], _PARTY_FIELDS) if clauses else []
        if cache is not None:
            cache.dirty |= wanted
        return rows

    def _create_party(self, order: Order, name: str, notes: list[str]) -> tuple[int, int | None]:
        """Create the party (1 call); when Tryton refuses its e-mail or phone, without them."""
        customer = order.customer
        parties = self.client.model("party.party")
        base: dict[str, Any] = {"name": name}
        if customer.shop_id:
            key = f"{self.settings.orders.shop}:{customer.shop_id}"
            base["identifiers"] = [["create", [{"type": None, "code": key}]]]
        person = person_name(customer.first_name, customer.last_name)
        mechanisms: list[dict[str, Any]] = []
        if customer.email.strip():
            email = customer.email.strip()
            mechanisms.append({"type": "email", "value": email, "name": person if person != name else None})
        if customer.phone:
            mechanisms.append({"type": "phone", "value": customer.phone})
        try:
            (party_id,) = parties.create([{**base, "contact_mechanisms": [["create", mechanisms]]}])
        except TrytonError:
            try:
                (party_id,) = parties.create([base])
            except TrytonError as exc:
                raise _refusal(order, "customer", "the customer", exc) from exc
            for mechanism in mechanisms:
                field_name = f"customer.{mechanism['type']}"
                self._optional(
                    order, "party.contact_mechanism", {**mechanism, "party": party_id}, party_id, field_name, notes
                )
        mechanisms_rows = self.client.model("party.contact_mechanism").search_read(
            [("party", "=", party_id), ("type", "=", "email")], ["id"]
        )
        return int(party_id), (int(mechanisms_rows[0]["id"]) if mechanisms_rows else None)

    def _countries(self, order: Order, setup: _Setup) -> None:
        """Tryton's id of each address's country (1 search when one is new to the connector).

        Raises:
            OrderRefused: Tryton has no such country (its address would lose it).
        """
        wanted = [(f, a) for f, a in (("billing", order.billing), ("shipping", order.shipping)) if a is not None]
        codes = sorted({a.country.upper() for _, a in wanted if a.country and a.country.upper() not in setup.countries})
        if codes:
            rows = self.client.model("country.country").search_read([("code", "in", codes)], ["id", "code"])
            found = {r["code"]: int(r["id"]) for r in rows}
            setup.countries.update({c: found[c] for c in found})
        for field_name, address in wanted:
            code = (address.country or "").upper()
            if code and setup.countries.get(code) is None:
                raise OrderRefused(
                    RecordError(
                        order.shop_id,
                        f"{field_name}.country",
                        f"Tryton has no country {code}: import Tryton's countries (trytond_import_countries) "
                        f"or create {code} in Administration > Countries; the address would lose it",
                    )
                )

    def _addresses(
        self,
        order: Order,
        party_id: int,
        name: str,
        known: list[dict[str, Any]],
        setup: _Setup,
        notes: list[str],
    ) -> tuple[int, int]:
        """Invoice and delivery address ids: the party's equal ones, else created (1 call)."""
        billing = order.billing or order.shipping
        shipping = order.shipping or order.billing
        chosen: list[int | None] = []  # known id, or -(1 + index) into to_create
        to_create: list[dict[str, Any]] = []
        fields_of: list[str] = []  # the order's field each address to create comes from
        for address, flag, field_name in (
            (billing, "invoice", "billing" if order.billing else "shipping"),
            (shipping, "delivery", "shipping" if order.shipping else "billing"),
        ):
            if address is None:
                chosen.append(None)
                continue
            values = _address_values(address, name, setup.countries.get(address.country.upper()))
            match = next((int(r["id"]) for r in known if _same_address(r, values)), None)
            if match is None:
                index = next((i for i, v in enumerate(to_create) if _same_address(v, values)), None)
                if index is None:
                    to_create.append({**values, "party": party_id, flag: True})
                    fields_of.append(field_name)
                    index = len(to_create) - 1
                else:
                    to_create[index][flag] = True
                match = -1 - index
            chosen.append(match)
        addresses = self.client.model("party.address")
        try:
            created = [int(i) for i in addresses.create(to_create)] if to_create else []
        except TrytonError as exc:
            where = fields_of[0] if len(set(fields_of)) == 1 else "billing and shipping"
            if exc.per_record and len(to_create) > 1:  # which one: each alone (nothing was saved)
                for values, field_name in zip(to_create, fields_of, strict=True):
                    try:
                        addresses.create([values])
                    except TrytonError as alone:
                        raise _refusal(order, field_name, f"the {field_name} address", alone) from alone
            raise _refusal(order, where, f"the {where} address", exc) from exc
        ids = [created[-1 - i] if i is not None and i < 0 else i for i in chosen]
        invoice, shipment = ids[0] or ids[1], ids[1] or ids[0]
        if invoice is None or shipment is None:  # an order without any address
            if known:
                return int(known[0]["id"]), int(known[0]["id"])
            try:
                (only,) = addresses.create([{"party": party_id}])
            except TrytonError as exc:
                raise _refusal(order, "shipping", "an empty address", exc) from exc
            notes.append("The order had no address.")
            return int(only), int(only)
        return invoice, shipment

    def _identifier(
        self,
        order: Order,
        party_id: int,
        type_: str,
        code: str,
        address: int | None,
        field_name: str,
        notes: list[str],
    ) -> None:
        values: dict[str, Any] = {"party": party_id, "type": type_, "code": code}
        if address is not None:
            values["address"] = address
        self._optional(order, "party.identifier", values, party_id, field_name, notes)

    def _optional(
        self,
        order: Order,
        model: str,
        values: dict[str, Any],
        party_id: int,
        field_name: str,
        notes: list[str],
    ) -> None:
        """Create a detail of the party; Tryton refusing it is noted, not fatal to the order."""
        try:
            self.client.model(model).create([values])
        except TrytonError as exc:
            if not exc.per_record:
                raise
            reason = f"Tryton refused it and the order went on without it: {_scrubbed(exc.message, order)}"
            order.issues.append(RecordError(order.shop_id, field_name, reason, check="platform"))
            notes.append(f"{field_name}: {reason}")
            try:
                self.client.model("ir.note").create(
                    [
                        {
                            "resource": f"party.party,{party_id}",
                            "message": f"Web order {order.reference}: {field_name}: {reason}",
                        }
                    ]
                )
            except TrytonError:
                pass  # the sale's comment still says it
