"""The rules of the order import that need no shop, ERP or state: which orders to import now
(``import_decision``), the quality gate (``gate_orders``), the line bindings, the keys of a
payment and of an order's imported content. The tasks using them: :mod:`tasks.orders`; the rules
in words: ``docs/orders.md``."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from connectors.errors import RecordError
from connectors.models import Order, Payment, content_hash, ensure_utc
from tasks.quality import Check, run_checks
from tasks.settings import OrderSettings

__all__ = [
    "Decision",
    "email_fault",
    "gate_orders",
    "import_decision",
    "import_hash",
    "line_articles",
    "order_checks",
    "payment_key",
]


_RANK = {"never": 0, "paid": 1, "authorized": 2, "always": 3}


_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def email_fault(value: str) -> str:
    """What is wrong with an e-mail address, without repeating it (reasons reach logs and artifacts)."""
    if not value.strip():
        return "empty"
    if any(c.isspace() for c in value):
        return "contains a space"
    if value.count("@") != 1:
        return "no @" if "@" not in value else "more than one @"
    local, domain = value.split("@")
    if not local:
        return "nothing before the @"
    return "no dot in the domain" if "." not in domain else "domain ends or starts with a dot"


@dataclass(frozen=True, slots=True)
class Decision:
    action: Literal["import", "wait", "skip"]
    reason: str


def import_decision(order: Order, settings: OrderSettings) -> Decision:
    """Import now, wait (re-read later), or never, by the rule of the order's payment methods.

    The rule of each live payment's method (``rules``, else ``import_when``); ``never`` on any of
    them wins, otherwise the most permissive one applies (a gift card settled and a bank
    transfer pending: the transfer's ``always``). An order with nothing to pay is paid.
    """
    if order.cancelled:
        return Decision("skip", f"cancelled in the shop ({order.state}) before it was imported")
    live = [p for p in order.payments if p.state not in ("declined", "cancelled")]
    named = [(p.method, settings.rules.get(p.method, settings.import_when)) for p in live]
    for method, rule in named:
        if rule == "never":
            return Decision("skip", f"payment method {method!r} is set to never import")
    rules = [rule for _, rule in named] or [settings.import_when]
    rule = max(rules, key=_RANK.__getitem__)
    if rule == "never":
        return Decision("skip", "import_when is never and no payment method rule says otherwise")
    if rule == "always":
        return Decision("import", "imported as soon as placed (rule: always)")
    settled = order.paid_amount
    held = settled + sum((p.amount for p in live if p.state == "authorized"), Decimal(0))
    covered, word = (settled, "paid") if rule == "paid" else (held, "authorised")
    if order.total_tax_included <= 0 or covered >= order.total_tax_included:
        return Decision("import", f"{word} ({covered} of {order.total_tax_included} {order.currency})")
    return Decision(
        "wait", f"waiting until {word}: {covered} of {order.total_tax_included} {order.currency} so far (rule: {rule})"
    )


def payment_key(payment: Payment) -> str:
    """What identifies one payment across runs (its transaction id, else its method, amount, time)."""
    if payment.transaction_id:
        return f"{payment.method}:{payment.transaction_id}"
    paid = ensure_utc(payment.paid_at).isoformat() if payment.paid_at else "-"
    return f"{payment.method}:{payment.amount}:{paid}"


def import_hash(order: Order) -> str:
    """Hash of what the ERP received (lines, amounts, customer, addresses), not of states or
    payments: a different hash after the import means the order was edited in the shop."""
    return content_hash(
        {
            "lines": order.lines,
            "total": order.total_tax_included,
            "shipping": order.shipping_price_tax_included,
            "discounts": order.discounts,
            "customer": order.customer,
            "billing": order.billing,
            "shipping_address": order.shipping,
        }
    )


def order_checks() -> list[Check]:
    import great_expectations.expectations as gxe

    return [
        Check(
            "email",
            "customer.email",
            lambda: gxe.ExpectColumnValuesToMatchRegex(column="email", regex=_EMAIL),
            lambda r: f"customer e-mail is not an address ({email_fault(r['email'])})",
        ),
        Check(
            "has_lines",
            "lines",
            lambda: gxe.ExpectColumnValuesToBeBetween(column="line_count", min_value=1),
            lambda r: "the order has no lines",
        ),
        Check(
            "quantities",
            "lines.quantity",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="bad_quantity", value_set=[""]),
            lambda r: f"{r['bad_quantity']}: a quantity must be a whole number of at least 1",
        ),
        Check(
            "vat_rates",
            "lines.vat_rate",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="no_vat", value_set=[""]),
            lambda r: f"{r['no_vat']} has no VAT rate",
        ),
        Check(
            "currency",
            "currency",
            lambda: gxe.ExpectColumnValuesToMatchRegex(column="currency", regex=r"^[A-Z]{3}$"),
            lambda r: f"currency {r['currency']!r} is not an ISO 4217 code",
        ),
        Check(
            "total",
            "total_tax_included",
            lambda: gxe.ExpectColumnValuesToBeBetween(column="total", min_value=0),
            lambda r: f"total {r['total']} is negative",
        ),
        Check(
            "billing_address",
            "billing",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="billing_problem", value_set=[""]),
            lambda r: str(r["billing_problem"]),
        ),
        Check(
            "shipping_address",
            "shipping",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="shipping_problem", value_set=[""]),
            lambda r: str(r["shipping_problem"]),
        ),
    ]


def _address_problem(order: Order, which: str) -> str:
    address = order.billing if which == "billing" else order.shipping
    if address is None:
        if which == "shipping" and not order.shipping_method:
            return ""  # nothing to ship (a service, a download)
        if which == "billing" and order.shipping is not None:
            return ""  # invoiced to the delivery address
        return f"no {which} address"
    missing = [name for name in ("street", "postal_code", "city", "country") if not getattr(address, name)]
    if missing:
        return f"{which} address without {', '.join(missing)}"
    if not re.fullmatch(r"[A-Z]{2}", address.country):
        return f"{which} country {address.country!r} is not an ISO 3166 code"
    return ""


def _gate_row(order: Order) -> dict[str, Any]:
    bad_quantity = [
        f"lines[{i}] ({line.sku or line.name}) quantity {line.quantity}"
        for i, line in enumerate(order.lines)
        if line.quantity < 1 or line.quantity != line.quantity.to_integral_value()
    ]
    no_vat = [f"lines[{i}] ({line.sku or line.name})" for i, line in enumerate(order.lines) if line.vat_rate is None]
    return {
        "key": order.shop_id,
        "email": order.customer.email or "",
        "line_count": len(order.lines),
        "bad_quantity": "; ".join(bad_quantity),
        "no_vat": "; ".join(no_vat),
        "currency": order.currency,
        "total": float(order.total_tax_included),  # GX compares numbers; the Decimal stays in the order
        "billing_problem": _address_problem(order, "billing"),
        "shipping_problem": _address_problem(order, "shipping"),
    }


def gate_orders(orders: Sequence[Order]) -> tuple[list[Order], dict[str, list[RecordError]]]:
    """Great Expectations on every order read, plus what the shop connector could not read
    (``Order.issues``): refused orders by shop id, with every reason."""
    failures = run_checks("orders", [_gate_row(o) for o in orders], order_checks())
    refused: dict[str, list[RecordError]] = {}
    for order in orders:
        if order.issues:
            refused.setdefault(order.shop_id, []).extend(order.issues)
    for index, errors in failures.items():
        shop_id = orders[index].shop_id
        refused.setdefault(shop_id, []).extend(
            RecordError(shop_id, e.field, f"order {orders[index].reference}: {e.reason}", check=e.check) for e in errors
        )
    return [o for o in orders if o.shop_id not in refused], refused


def line_articles(order: Order, variant_keys: Mapping[str, str]) -> dict[str, str]:
    """``OrderLine.line_id`` -> ERP article key through the catalogue bindings (shop variant id
    -> ERP key); unbound lines are left out (the ERP sink refuses them or uses its placeholder)."""
    return {
        line.line_id: variant_keys[line.variant_id]
        for line in order.lines
        if line.variant_id is not None and line.variant_id in variant_keys
    }
