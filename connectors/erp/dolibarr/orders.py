"""Dolibarr as an order sink: a web order becomes one validated sales order (``/orders``), a
settled payment a deposit invoice (type 3) validated, paid and made a discount (credit
available) that the final invoice deducts (invoice_final_with_deposit_line.json: the
"(DEPOSIT)" line, ``fk_remise_except``).

Keys: the order's ``ref_ext`` is ``"<shop>:<shop order id>"`` (searched with ``sqlfilters``
before every create), ``ref_client`` the shop's human reference; the thirdparty's ``ref_ext`` is
``"<shop>:c:<customer id>"`` (or the extrafield ``customer_extrafield``); a deposit's ``ref_ext`` is
``"<shop>:<order id>:pay:<transaction id>"``. Details: docs/dolibarr.md (Orders).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from connectors.base import ErpOrderRef
from connectors.erp.dolibarr.client import DolibarrClient, path_part, sql_any
from connectors.erp.dolibarr.order_rules import (
    OrderRefused,
    deposit_lines,
    discount_rate,
    line_body,
    order_rates,
    total_adjustment,
)
from connectors.erp.dolibarr.settings import DolibarrSettings
from connectors.errors import RecordError, Skip
from connectors.http import HttpError
from connectors.models import Address, Order, Payment, person_name

__all__ = ["DRAFT", "DolibarrOrders", "OrderRefused"]

DRAFT = "0"
"""Commande::STATUS_DRAFT; 1 validated, 2 shipment in process, 3 closed, -1 cancelled (commande.class.php)."""
_CHUNK = 20


def _ref(row: Mapping[str, Any]) -> ErpOrderRef:
    return ErpOrderRef(
        erp_id=str(row["id"]),
        reference=str(row.get("ref") or row["id"]),
        total_tax_included=Decimal(str(row.get("total_ttc") or 0)).quantize(Decimal("0.01")),
        customer_id=str(row.get("socid")) if row.get("socid") else None,
    )


class DolibarrOrders:
    """``OrderSink`` over Dolibarr's REST API (mixed into ``DolibarrConnector``)."""

    client: DolibarrClient
    settings: DolibarrSettings

    def _tag(self, shop_id: str) -> str:
        return f"{self.settings.orders.shop}:{shop_id}"

    # -- OrderSink -------------------------------------------------------------------------------
    def find_orders(self, shop_refs: Sequence[str]) -> dict[str, ErpOrderRef]:
        """Validated (or later, or cancelled) orders of these shop ids: one search per 20 ids."""
        wanted = {self._tag(ref): ref for ref in dict.fromkeys(shop_refs)}
        found: dict[str, ErpOrderRef] = {}
        tags = list(wanted)
        for start in range(0, len(tags), _CHUNK):
            rows = self.client.iter_list(
                "orders", sqlfilters=sql_any("t.ref_ext", tags[start : start + _CHUNK]), page_size=100
            )
            for row in rows:  # by rowid: the first order of a reference wins
                if str(row.get("statut")) != DRAFT and row.get("ref_ext") in wanted:
                    found.setdefault(wanted[row["ref_ext"]], _ref(row))
        return found

    def import_order(self, order: Order, products: Mapping[str, str]) -> ErpOrderRef:
        """Create and validate the sales order of ``order``; idempotent on its ``ref_ext``.

        A draft left by an import cut short is deleted and made again.

        Raises:
            OrderRefused: an unbound article, a total too far from the shop's, Dolibarr refusing it.
        """
        tag = self._tag(order.shop_id)
        existing = list(self.client.iter_list("orders", sqlfilters=sql_any("t.ref_ext", [tag])))
        done = [r for r in existing if str(r.get("statut")) != DRAFT]
        if done:
            return _ref(done[0])
        for draft in existing:
            self.client.delete(f"orders/{draft['id']}")
        lines = self._lines(order, products)
        socid, shipping_contact = self._customer(order)
        body = {
            "socid": socid,
            "date": int(order.created_at.timestamp()),
            "ref_client": order.reference,
            "ref_ext": tag,
            "note_private": f"Web order {order.reference} ({self.settings.orders.shop} {order.shop_id})",
            "lines": lines,
        }
        try:
            order_id = int(self.client.post("orders", body))
        except HttpError as exc:
            if exc.status in (401, 403):  # the key or its permissions: the run's problem, not the order's
                raise
            raise _refused(order, "order", exc) from exc
        try:
            row = self.client.get(f"orders/{order_id}")
            difference = total_adjustment(
                order.shop_id,
                Decimal(str(row["total_ttc"])),
                order.total_tax_included,
                self.settings.orders.total_tolerance,
            )
            if difference:
                self.client.post(
                    f"orders/{order_id}/lines",
                    {"desc": self.settings.orders.adjustment_label, "qty": "1", "subprice": str(difference),
                     "tva_tx": "0", "product_type": 1},
                )  # fmt: skip
            if shipping_contact:
                self.client.post(f"orders/{order_id}/contact/{shipping_contact}/SHIPPING")
            validate: dict[str, Any] = {"notrigger": 0}
            if self.settings.orders.warehouse:
                validate["idwarehouse"] = int(self._warehouse_id(self.settings.orders.warehouse))
            self.client.post(f"orders/{order_id}/validate", validate)
            row = self.client.get(f"orders/{order_id}")
        except (OrderRefused, HttpError) as exc:
            self.client.delete(f"orders/{order_id}")
            if isinstance(exc, OrderRefused) or exc.status in (401, 403):
                raise
            raise _refused(order, "order", exc) from exc
        return _ref(row)

    def record_payment(self, erp: ErpOrderRef, payment: Payment) -> str:
        """The deposit invoice of ``payment``: created, validated, paid, made a discount; each step
        checked before it is done, so a run cut off between two steps is completed. Returns its id.

        Raises:
            Skip: the payment's state gets no deposit (``deposit_states``).
        """
        if payment.state not in self.settings.orders.deposit_states:
            raise Skip(f"payment {payment.transaction_id or payment.method} is {payment.state}: no deposit")
        row = self.client.get(f"orders/{erp.erp_id}")
        key = f"{row.get('ref_ext') or erp.reference}:pay:{payment.transaction_id or payment.method}"
        found = list(self.client.iter_list("invoices", sqlfilters=sql_any("t.ref_ext", [key])))
        invoice = found[0] if found else None
        if invoice is None:
            total = Decimal(str(row.get("total_ttc") or 0))
            ratio = min(Decimal(1), payment.amount / total) if total else Decimal(1)
            label = (
                f"{self.settings.orders.deposit_label} {payment.transaction_id or payment.method} ({row.get('ref')})"
            )
            body = {
                "socid": int(row["socid"]),
                "type": 3,
                "ref_ext": key,
                "date": int((payment.paid_at or datetime.now(timezone.utc)).timestamp()),
                "origin": "commande",
                "origin_id": int(erp.erp_id),
                "note_public": label,
                "lines": deposit_lines(row.get("lines") or [], ratio, label),
            }
            invoice = self.client.get(f"invoices/{int(self.client.post('invoices', body))}")
        invoice_id = str(invoice["id"])
        if str(invoice.get("statut")) == "0":
            self.client.post(f"invoices/{invoice_id}/validate", {"notrigger": 0})
            invoice = self.client.get(f"invoices/{invoice_id}")
        if str(invoice.get("paye")) != "1" and not self.client.get(f"invoices/{invoice_id}/payments"):
            paid = payment.paid_at or datetime.now(timezone.utc)
            self.client.post(
                f"invoices/{invoice_id}/payments",
                {"datepaye": int(paid.timestamp()), "paymentid": self.settings.orders.payment_mode_id,
                 "closepaidinvoices": "yes", "accountid": self.settings.orders.bank_account_id,
                 "num_payment": payment.transaction_id or "", "comment": key},
            )  # fmt: skip
        if self.client.find(f"invoices/{invoice_id}/discount") is None:
            self.client.post(f"invoices/{invoice_id}/markAsCreditAvailable")
        return invoice_id

    # -- parts -------------------------------------------------------------------------------------
    def _lines(self, order: Order, products: Mapping[str, str]) -> list[dict[str, Any]]:
        lines = []
        for line in order.lines:
            product = products.get(line.line_id)
            if product is None:
                raise OrderRefused(
                    RecordError(order.shop_id, f"lines.{line.sku or line.line_id}",
                                "no Dolibarr product is bound to this shop variant (publish the catalogue first)")
                )  # fmt: skip
            lines.append(line_body(line, product))
        if order.shipping_price or order.shipping_method:
            shipping: dict[str, Any] = {
                "desc": order.shipping_method or "Shipping",
                "qty": "1",
                "subprice": str(order.shipping_price),
                "tva_tx": str(order.shipping_vat_rate or 0),
                "product_type": 1,
            }
            if self.settings.orders.shipping_product:
                shipping["fk_product"] = int(self._product_id(self.settings.orders.shipping_product))
            lines.append(shipping)
        rates = order_rates(order)
        for discount in order.discounts:
            lines.append(
                {"desc": discount.description + (f" ({discount.code})" if discount.code else ""), "qty": "1",
                 "subprice": str(-discount.amount), "tva_tx": str(discount_rate(discount, rates)), "product_type": 1}
            )  # fmt: skip
        return lines

    def _customer(self, order: Order) -> tuple[int, int | None]:
        """(thirdparty id, shipping contact id or None): by shop id, then e-mail, else created."""
        customer = order.customer
        found: Any = None
        if customer.shop_id:
            code = self.settings.orders.customer_extrafield
            field, value = (f"ef.{code}", customer.shop_id) if code else ("t.ref_ext", self._customer_tag(order))
            found = next(iter(self.client.iter_list("thirdparties", sqlfilters=sql_any(field, [value]))), None)
        if found is None and customer.email:
            found = self.client.find(f"thirdparties/email/{path_part(customer.email)}")
        billing = order.billing or order.shipping
        if found is None:
            body: dict[str, Any] = {
                "name": customer.company or person_name(customer.first_name, customer.last_name) or customer.email,
                "email": customer.email,
                "client": 1,
                "code_client": "auto",
                "phone": customer.phone,
                "tva_intra": customer.vat_number,
                "idprof2": customer.siret,
            }
            if customer.shop_id:
                if self.settings.orders.customer_extrafield:
                    body["array_options"] = {f"options_{self.settings.orders.customer_extrafield}": customer.shop_id}
                else:
                    body["ref_ext"] = self._customer_tag(order)
            if billing:
                body.update(self._address(billing))
            socid = int(self.client.post("thirdparties", {k: v for k, v in body.items() if v is not None}))
        else:
            socid = int(found["id"])
        contact = None
        if order.shipping and order.billing and order.shipping != order.billing:
            contact = self._contact(socid, order.shipping, customer.email)
        return socid, contact

    def _customer_tag(self, order: Order) -> str:
        return f"{self.settings.orders.shop}:c:{order.customer.shop_id}"

    def _contact(self, socid: int, address: Address, email: str) -> int:
        """The thirdparty's contact at this address (found again by name, street and zip), or a new one."""
        wanted = self._address(address)
        for row in self.client.iter_list("contacts", {"thirdparty_ids": socid}):
            if (row.get("lastname"), row.get("address"), row.get("zip")) == (
                address.last_name or address.company or "-",
                wanted["address"],
                wanted["zip"],
            ):
                return int(row["id"])
        body = {"socid": socid, "lastname": address.last_name or address.company or "-",
                "firstname": address.first_name, "email": email, "phone_pro": address.phone, **wanted}  # fmt: skip
        return int(self.client.post("contacts", {k: v for k, v in body.items() if v is not None}))

    def _address(self, address: Address) -> dict[str, Any]:
        street = "\n".join(p for p in (address.street, address.street2) if p)
        return {"address": street, "zip": address.postal_code, "town": address.city,
                "country_id": self._country_id(address.country)}  # fmt: skip

    def _country_id(self, code: str) -> int:
        cache: dict[str, int] = self.__dict__.setdefault("_countries", {})
        if code not in cache:
            row = self.client.find(f"setup/dictionary/countries/byCode/{path_part(code.upper())}")
            cache[code] = int(row["id"]) if row else 0
        return cache[code]

    def _product_id(self, ref: str) -> str:
        cache: dict[str, str] = self.__dict__.setdefault("_product_ids", {})
        if ref not in cache:
            row = self.client.get(f"products/ref/{path_part(ref)}")
            cache[ref] = str(row["id"])
        return cache[ref]

    def _warehouse_id(self, ref: str) -> str:
        rows = self.client.iter_list("warehouses", sqlfilters=sql_any("t.ref", [ref]))
        for row in rows:
            return str(row["id"])
        raise OrderRefused(RecordError(ref, "warehouse", f"Dolibarr has no warehouse {ref!r} (orders.warehouse)"))


def _refused(order: Order, what: str, exc: HttpError) -> OrderRefused:
    return OrderRefused(
        RecordError(order.shop_id, what, f"Dolibarr refused the {what} (HTTP {exc.status}): {exc.body[:300]}")
    )
