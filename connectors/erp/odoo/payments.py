"""A settled web payment in Odoo: a down payment invoice of the sale order, posted and paid.

``sale.advance.payment.inv`` (``advance_payment_method = "fixed"``, ``fixed_amount`` = the amount
paid, tax included) makes the down payment line and its draft invoice (Odoo's
``sale/wizard/sale_make_invoice_advance.py``); the invoice gets the payment's reference in ``ref``
(what makes the deposit idempotent), is posted (``action_post``) and paid through
``account.payment.register`` (``action_create_payments``, ``communication`` = the same reference,
on the journal ``orders.journal``). The final invoice ("Regular invoice", down payments deducted)
is the accountant's: it deducts the down payment.

A run cut off between the wizard and the ``ref`` write leaves a draft down payment invoice without a
reference: the next try adopts a draft invoice of the order without ``ref`` whose total is the amount.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connectors.base import ErpOrderRef
from connectors.erp.odoo.client import OdooClient, OdooError
from connectors.erp.odoo.settings import OdooSettings
from connectors.errors import Fatal, RecordError, Refused, Skip
from connectors.models import Payment, ensure_utc

__all__ = ["OdooPayments", "payment_reference"]

PAID_STATES = ("paid", "in_payment")
_MOVE_FIELDS = ["id", "name", "state", "ref", "move_type", "amount_total", "payment_state"]


def payment_reference(shop: str, order_id: str, payment: Payment) -> str:
    """``"<shop>:<order id>:<transaction id or method>"``: the deposit's key in Odoo."""
    return f"{shop}:{order_id}:{payment.transaction_id or payment.method}"


class OdooPayments:
    """``record_payment`` of ``OdooOrders`` (a mixin)."""

    client: OdooClient
    settings: OdooSettings
    _journal: int | None = None

    def record_payment(self, erp: ErpOrderRef, payment: Payment) -> str:
        """Post and pay a down payment invoice of ``payment.amount``; returns the invoice id.

        Raises:
            Skip: the payment is not settled, or deposits are off for this connection.
            Refused: Odoo refused the down payment or its payment.
        """
        if payment.state != "settled":
            raise Skip(f"payment {payment.transaction_id or payment.method} is {payment.state}, not settled")
        if not self.settings.orders.deposits:
            raise Skip("deposits are off (orders.deposits = false): the payment is registered in Odoo by hand")
        (order,) = self.client.model("sale.order").read(
            [int(erp.erp_id)], ["id", "name", "client_order_ref", "invoice_ids"]
        )
        shop_id = str(order.get("client_order_ref") or "").split(":", 1)[-1]
        reference = payment_reference(self.settings.orders.shop, shop_id, payment)
        moves = self.client.model("account.move")
        invoices = moves.read(sorted(order.get("invoice_ids") or []), _MOVE_FIELDS)
        amount = Decimal(str(payment.amount)).quantize(Decimal("0.01"), ROUND_HALF_UP)
        invoice = next((i for i in invoices if i.get("ref") == reference), None)
        if invoice is None:  # a wizard run whose ref write was cut off
            invoice = next(
                (
                    i
                    for i in invoices
                    if i["state"] == "draft"
                    and not i.get("ref")
                    and i["move_type"] == "out_invoice"
                    and _money(i["amount_total"]) == amount
                ),
                None,
            )
        try:
            if invoice is None:
                invoice = self._down_payment(int(order["id"]), amount, {int(i["id"]) for i in invoices})
            if invoice.get("ref") != reference:
                moves.write([invoice["id"]], {"ref": reference})
            if invoice["state"] == "draft":
                moves("action_post", [invoice["id"]])
            if invoice.get("payment_state") not in PAID_STATES:
                self._register(int(invoice["id"]), amount, reference, payment)
        except OdooError as exc:
            if not exc.per_record:
                raise
            raise Refused(
                RecordError(erp.reference, "payments", f"Odoo refused the down payment: {exc.message}")
            ) from exc
        return str(invoice["id"])

    def _down_payment(self, order_id: int, amount: Decimal, before: set[int]) -> dict[str, Any]:
        context = {"active_model": "sale.order", "active_ids": [order_id], "active_id": order_id}
        wizards = self.client.model("sale.advance.payment.inv")
        wizard = wizards.create(
            {"advance_payment_method": "fixed", "fixed_amount": float(amount), "sale_order_ids": [[6, 0, [order_id]]]},
            context=context,
        )
        wizards("create_invoices", [wizard], context=context)
        (order,) = self.client.model("sale.order").read([order_id], ["invoice_ids"])
        new = sorted(set(order.get("invoice_ids") or []) - before)
        if not new:
            raise Refused(RecordError(str(order_id), "payments", "Odoo made no down payment invoice"))
        (invoice,) = self.client.model("account.move").read([new[-1]], _MOVE_FIELDS)
        return invoice

    def _register(self, invoice_id: int, amount: Decimal, reference: str, payment: Payment) -> None:
        context = {"active_model": "account.move", "active_ids": [invoice_id], "active_id": invoice_id}
        paid_at = ensure_utc(payment.paid_at) if payment.paid_at else datetime.now(timezone.utc)
        register = self.client.model("account.payment.register")
        wizard = register.create(
            {
                "amount": float(amount),
                "journal_id": self._journal_id(),
                "communication": reference,
                "payment_date": paid_at.date().isoformat(),
            },
            context=context,
        )
        register("action_create_payments", [wizard], context=context)

    def _journal_id(self) -> int:
        if self._journal is None:
            code = self.settings.orders.journal
            rows = self.client.model("account.journal").search_read(
                [("code", "=", code), ("type", "in", ["bank", "cash"])], ["id"], limit=1
            )
            if not rows:
                raise Fatal(
                    f"Odoo has no bank or cash journal with the code {code!r}.",
                    resolution="set orders.journal of the Odoo connection to the code of the journal that receives web payments.",
                )
            self._journal = int(rows[0]["id"])
        return self._journal


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"), ROUND_HALF_UP)
