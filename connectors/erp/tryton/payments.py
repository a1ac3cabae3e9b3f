"""A settled web payment in Tryton: the sale's deposit invoice posted and paid with the pay wizard,
the payment's transaction id in the payment move's description (what makes it idempotent).
Details: ``docs/orders.md`` ("Deposit")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from connectors.base import ErpOrderRef
from connectors.erp.tryton.client import TrytonError
from connectors.erp.tryton.order_rules import (
    OrderRefused,
    _payment_description,
    _Setup,
)
from connectors.errors import Fatal, RecordError, Retryable, Skip
from connectors.models import Payment, ensure_utc

if TYPE_CHECKING:
    pass
from connectors.erp.tryton.order_setup import TrytonOrderSetup

__all__ = ["TrytonPayments"]


class TrytonPayments(TrytonOrderSetup):
    """``record_payment`` of :class:`~connectors.erp.tryton.orders.TrytonOrders` (a mixin)."""

    def record_payment(self, erp: ErpOrderRef, payment: Payment) -> str:
        """Post and pay the sale's deposit invoice for ``payment``; returns the invoice id.

        Idempotent: a payment whose description (method and transaction id) is already on a
        deposit, or a deposit already paid, returns that deposit without paying again.

        Raises:
            Skip: the payment is not settled, or the sale has no deposit (imported unpaid).
            Retryable: Tryton has not processed the sale yet (no deposit invoice so far).
        """
        if payment.state != "settled":
            raise Skip(f"payment {payment.transaction_id or payment.method} is {payment.state}, not settled")
        (sale,) = self.client.model("sale.sale").read(
            [int(erp.erp_id)], ["id", "state", "advance_payment_lines", "advance_payment_invoices"]
        )
        if not sale["advance_payment_lines"]:
            raise Skip(
                f"sale {erp.reference} has no advance payment term (imported unpaid): its payment is "
                "registered on its invoice in Tryton"
            )
        if not sale["advance_payment_invoices"]:
            raise Retryable(f"Tryton has not processed sale {erp.reference} yet: no deposit invoice so far.")
        description = _payment_description(payment)
        invoices = self.client.model("account.invoice").read(
            sorted(sale["advance_payment_invoices"]),
            ["id", "state", "party", "currency", "company", "payment_lines.move.description"],
        )
        invoices.sort(key=lambda r: r["id"])
        for invoice in invoices:
            lines = invoice.get("payment_lines.") or []
            if any((line.get("move.") or {}).get("description") == description for line in lines):
                return str(invoice["id"])
        unpaid = [i for i in invoices if i["state"] in ("draft", "validated", "posted")]
        if not unpaid:
            paid = [i for i in invoices if i["state"] == "paid"]
            if paid:
                return str(paid[-1]["id"])
            raise Skip(f"the deposit invoices of sale {erp.reference} are cancelled")
        invoice = unpaid[0]
        try:
            if invoice["state"] != "posted":
                self.client.model("account.invoice").post([invoice["id"]])
            self._pay(invoice, payment, description)
        except TrytonError as exc:
            if not exc.per_record:
                raise
            raise OrderRefused(
                RecordError(erp.reference, "payments", f"Tryton refused the deposit's payment: {exc.message}")
            ) from exc
        return str(invoice["id"])

    def prepare_payments(self, items: Sequence[tuple[ErpOrderRef, Payment]]) -> int:
        """Post, in one call, the deposit invoices :meth:`record_payment` would post one by one
        for these payments (the first unpaid deposit of each sale whose payment is not on a
        deposit yet); returns how many. Posting in one call takes 0.17 s per invoice on the
        sandbox instead of 0.46 s. A refusal leaves them to :meth:`record_payment`, each then
        refused or not on its own.
        """
        wanted = [(erp, p) for erp, p in items if p.state == "settled"]
        if not wanted:
            return 0
        sales = self.client.model("sale.sale").read(
            sorted({int(erp.erp_id) for erp, _ in wanted}), ["id", "advance_payment_invoices"]
        )
        deposits = {int(s["id"]): sorted(s["advance_payment_invoices"] or []) for s in sales}
        ids = sorted({i for invoices in deposits.values() for i in invoices})
        rows = {
            int(r["id"]): r
            for r in (
                self.client.model("account.invoice").read(ids, ["id", "state", "payment_lines.move.description"])
                if ids
                else []
            )
        }
        to_post: list[int] = []
        for erp, payment in wanted:
            invoices = [rows[i] for i in deposits.get(int(erp.erp_id), []) if i in rows]
            description = _payment_description(payment)
            if any(
                (line.get("move.") or {}).get("description") == description
                for invoice in invoices
                for line in invoice.get("payment_lines.") or []
            ):
                continue
            unpaid = [i for i in invoices if i["state"] in ("draft", "validated", "posted")]
            if unpaid and unpaid[0]["state"] != "posted" and int(unpaid[0]["id"]) not in to_post:
                to_post.append(int(unpaid[0]["id"]))
        if not to_post:
            return 0
        try:
            self.client.model("account.invoice").post(to_post)
        except TrytonError as exc:
            if not exc.per_record:
                raise
            return 0  # one of them is refused: each is posted (or refused) by record_payment
        return len(to_post)

    # -- payment -------------------------------------------------------------------------------
    def _pay(self, invoice: Mapping[str, Any], payment: Payment, description: str) -> None:
        """The pay wizard (``account.invoice.pay``) as the client runs it: start -> choice [-> ask -> pay]."""
        setup = self._setup()
        method = self.settings.orders.payment_methods.get(payment.method, self.settings.orders.payment_method)
        method_id = self._payment_method(setup, method)
        context = {"active_model": "account.invoice", "active_id": invoice["id"], "active_ids": [invoice["id"]]}
        start: dict[str, Any] = {
            "payee": invoice["party"],
            "amount": payment.amount,
            "currency": invoice["currency"],
            "company": invoice["company"],
            "description": description,
            "payment_method": method_id,
            "date": self._payment_date(payment),
        }
        wizard = "wizard.account.invoice.pay"
        session, _, _ = self.client.call(f"{wizard}.create", context=context)
        try:
            result = self.client.call(f"{wizard}.execute", session, {"start": start}, "choice", context=context)
            view = (result or {}).get("view") or {}
            if view.get("state") == "ask":
                defaults = view.get("defaults") or {}
                ask = {"type": defaults.get("type") or "partial", "lines": defaults.get("lines") or []}
                self.client.call(f"{wizard}.execute", session, {"start": start, "ask": ask}, "pay", context=context)
        finally:
            self.client.call(f"{wizard}.delete", session, context=context)

    def _payment_date(self, payment: Payment) -> date:
        when = ensure_utc(payment.paid_at) if payment.paid_at else datetime.now(ZoneInfo("UTC"))
        return when.astimezone(ZoneInfo(self.settings.timezone)).date()

    def _payment_method(self, setup: _Setup, name: str) -> int:
        if name not in setup.payment_methods:
            rows = self.client.model("account.invoice.payment.method").search_read([("name", "=", name)], ["id"])
            if not rows:
                raise Fatal(
                    f"Tryton has no invoice payment method {name!r}.",
                    resolution="create it (Accounting > Configuration > Payment Methods) or set "
                    "orders.payment_method / orders.payment_methods of the Tryton connection.",
                )
            setup.payment_methods[name] = int(rows[0]["id"])
        return setup.payment_methods[name]
