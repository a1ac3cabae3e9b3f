"""WooCommerce REST v3 order JSON -> canonical :class:`~connectors.models.Order` (pure, no I/O).

Money is Decimal from the strings, never float; times are the ``*_gmt`` fields, read as UTC.
WooCommerce keeps line amounts tax-excluded, ``subtotal`` before coupons and ``total`` after: a
canonical line carries the ``subtotal``; each ``coupon_lines`` entry (and a negative fee) is an
order ``Discount``, its exact amount taken from the lines' ``subtotal - total``; a positive fee is
a RecordError in ``Order.issues``; the totals must add up
(:func:`connectors.shop.order_checks.check_totals`). Payments come from the status and
``refunds``; when the status is the one passerelle set (the ``_passerelle_status`` meta), the
payment is read from the status and ``date_paid_gmt`` the order had before.

Details: docs/woocommerce.md (Reading orders; the ``_passerelle_status`` paragraph).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import Any

from connectors.models import Address, Customer, Discount, Order, OrderLine, Payment, currency_quantum
from connectors.shop.order_checks import OrderIssues, check_totals
from connectors.shop.woocommerce.mapper import STATUS_META, variant_id

__all__ = ["PAYMENT_STATES", "map_order", "money", "parse_gmt"]

PAYMENT_STATES = {
    "pending": "pending",
    "on-hold": "pending",
    "processing": "settled",
    "completed": "settled",
    "refunded": "settled",  # settled first, then refunded: the refunds follow as ``refunded`` payments
    "cancelled": "cancelled",
    "failed": "declined",
}
"""WooCommerce order status -> canonical state of the order's payment."""

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_UNIT = Decimal("0.000001")


def parse_gmt(value: str) -> datetime:
    """A ``*_gmt`` time (``2026-11-22T21:43:14``, UTC without offset) -> aware UTC datetime."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


def money(value: Any) -> Decimal:
    """A WooCommerce amount (string; ``""``/None: 0) as Decimal, never through float."""
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, float):
        value = repr(value)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _rate(value: Any) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value)).normalize()


# -- parts of the order -----------------------------------------------------------------------


def _customer(payload: Mapping[str, Any], issues: OrderIssues) -> Customer:
    """``customer_id`` 0 is a guest checkout; the e-mail is the billing address's."""
    billing = payload.get("billing") or {}
    email = _text(billing.get("email"))
    if email is None:
        issues.add("customer.email", "the order's billing address has no e-mail")
    customer_id = int(payload.get("customer_id") or 0)
    return Customer(
        email=email or "",
        shop_id=str(customer_id) if customer_id else None,
        first_name=_text(billing.get("first_name")),
        last_name=_text(billing.get("last_name")),
        company=_text(billing.get("company")),
        phone=_text(billing.get("phone")),
    )


def _address(row: Mapping[str, Any] | None, field: str, issues: OrderIssues) -> Address | None:
    """A billing/shipping address; None when WooCommerce holds no street, city nor postcode."""
    if not row or not any(_text(row.get(k)) for k in ("address_1", "city", "postcode")):
        return None
    country = (_text(row.get("country")) or "").upper()
    if not _COUNTRY.match(country):
        issues.add(f"{field}.country", f"country code {row.get('country')!r} is not ISO 3166-1 alpha-2")
    for key, label in (("address_1", "street"), ("city", "city")):
        if not _text(row.get(key)):
            issues.add(f"{field}.{label}", "missing")
    return Address(
        first_name=_text(row.get("first_name")),
        last_name=_text(row.get("last_name")),
        street=_text(row.get("address_1")) or "",
        street2=_text(row.get("address_2")),
        postal_code=_text(row.get("postcode")) or "",
        city=_text(row.get("city")) or "",
        country=country,
        company=_text(row.get("company")),
        phone=_text(row.get("phone")),
    )


def _tax_rates(payload: Mapping[str, Any]) -> dict[str, Decimal | None]:
    """``tax_lines``: rate id -> ``rate_percent`` (None when the server does not send it)."""
    return {str(t.get("rate_id")): _rate(t.get("rate_percent")) for t in payload.get("tax_lines") or []}


def vat_rate(
    taxes: list[Mapping[str, Any]], amount: Decimal, tax: Decimal, rates: Mapping[str, Decimal | None]
) -> Decimal | None:
    """The VAT rate of a line (or shipping line) from its ``taxes`` and the order's ``tax_lines``.

    No tax applied: 0. One rate: its ``rate_percent``, or the rate the amounts give when the server
    sends none (WooCommerce before 5.7). More than one rate (compound taxes): None.
    """
    applied = [t for t in taxes if money(t.get("total")) or money(t.get("subtotal"))]
    if not applied:
        return Decimal(0) if not tax else None
    ids = {str(t.get("id")) for t in applied}
    if len(ids) > 1:
        return None
    rate = rates.get(ids.pop())
    if rate is None and amount:
        rate = (tax * 100 / amount).quantize(Decimal("0.01")).normalize()
    return rate


def _line(row: Mapping[str, Any], rates: Mapping[str, Decimal | None], issues: OrderIssues) -> OrderLine:
    """One ``line_items`` entry, before coupons (see the module docstring)."""
    quantity = Decimal(str(row["quantity"]))
    subtotal, subtotal_tax = money(row.get("subtotal")), money(row.get("subtotal_tax"))
    unit = subtotal / quantity if quantity else subtotal
    if unit != unit.quantize(_UNIT, rounding=ROUND_CEILING):
        unit = unit.quantize(_UNIT, rounding=ROUND_CEILING)  # the sub-cent rest becomes the line discount
    rate = vat_rate(list(row.get("taxes") or []), subtotal, subtotal_tax, rates)
    if rate is None:
        issues.add(f"lines[{row.get('id')}].vat_rate", "the line has several taxes or an unknown rate")
    # ShopRef.variant_ids' convention (mapper.variant_id): "<product>/<variation>" or "<product>"
    product_id, variation_id = int(row.get("product_id") or 0), int(row.get("variation_id") or 0)
    variant = variant_id(str(product_id), str(variation_id) if variation_id else None) if product_id else None
    return OrderLine(
        line_id=str(row["id"]),
        sku=_text(row.get("sku")),
        name=_text(row.get("name")) or "",
        quantity=quantity,
        unit_price=unit,
        vat_rate=rate,
        total=subtotal,
        total_tax_included=subtotal + subtotal_tax,
        discount=quantity * unit - subtotal,
        variant_id=variant,
    )


def _discounts(payload: Mapping[str, Any], currency: str) -> list[Discount]:
    """Coupons (exact amounts taken from the lines) and negative fees, positive amounts."""
    lines = payload.get("line_items") or []
    exact = sum((money(r.get("subtotal")) - money(r.get("total")) for r in lines), Decimal(0))
    exact_tax = sum((money(r.get("subtotal_tax")) - money(r.get("total_tax")) for r in lines), Decimal(0))
    coupons = [
        Discount(
            description=_text(c.get("code")) or "coupon",
            amount=money(c.get("discount")),
            amount_tax_included=money(c.get("discount")) + money(c.get("discount_tax")),
            code=_text(c.get("code")),
        )
        for c in payload.get("coupon_lines") or []
    ]
    if exact or exact_tax:
        if not coupons:
            coupons.append(Discount("Discount", Decimal(0), Decimal(0)))
        largest = max(coupons, key=lambda d: d.amount)
        largest.amount += exact - sum((d.amount for d in coupons), Decimal(0))
        largest.amount_tax_included += exact + exact_tax - sum((d.amount_tax_included for d in coupons), Decimal(0))
    result = [d for d in coupons if d.amount or d.amount_tax_included]
    for fee in payload.get("fee_lines") or []:
        total, tax = money(fee.get("total")), money(fee.get("total_tax"))
        if total < 0:
            result.append(Discount(_text(fee.get("name")) or "fee", -total, -(total + tax)))
    quantum = currency_quantum(currency)
    for d in result:
        d.amount, d.amount_tax_included = d.amount.quantize(quantum), d.amount_tax_included.quantize(quantum)
    return result


def _fees(payload: Mapping[str, Any], currency: str, issues: OrderIssues) -> tuple[Decimal, Decimal]:
    """Positive fees: an issue each (no place in the canonical order); their sum, for the total check."""
    total = tax = Decimal(0)
    for fee in payload.get("fee_lines") or []:
        amount, fee_tax = money(fee.get("total")), money(fee.get("total_tax"))
        if amount > 0:
            total, tax = total + amount, tax + fee_tax
            issues.add("fee_lines", f"fee {fee.get('name')!r} of {amount} {currency}: the canonical order has no fees")
    return total, tax


def _shipping(
    payload: Mapping[str, Any], rates: Mapping[str, Decimal | None], issues: OrderIssues
) -> tuple[str | None, Decimal, Decimal, Decimal | None]:
    """(method titles, price, price with tax, VAT rate) of the ``shipping_lines``."""
    lines = payload.get("shipping_lines") or []
    price = sum((money(s.get("total")) for s in lines), Decimal(0))
    tax = sum((money(s.get("total_tax")) for s in lines), Decimal(0))
    found = {
        vat_rate(list(s.get("taxes") or []), money(s.get("total")), money(s.get("total_tax")), rates)
        for s in lines
        if money(s.get("total"))
    }
    rate = next(iter(found)) if len(found) == 1 else None
    if len(found) > 1 or (found and rate is None):
        issues.add("shipping", f"shipping VAT rate cannot be read: {sorted(map(str, found))}")
    titles = [t for t in (_text(s.get("method_title")) or _text(s.get("method_id")) for s in lines) if t]
    return (", ".join(dict.fromkeys(titles)) or None), price, price + tax, rate


def _payment_evidence(payload: Mapping[str, Any], status: str) -> tuple[str, Any]:
    """(the status that says whether the order is paid, its ``date_paid_gmt``): the order's own,
    or the ones it had before passerelle set its status (see the module docstring)."""
    marker = next((m.get("value") for m in payload.get("meta_data") or [] if m.get("key") == STATUS_META), None)
    if not isinstance(marker, dict) or marker.get("status") != status or status == "cancelled":
        return status, payload.get("date_paid_gmt")
    before = str(marker.get("from") or "pending")
    transaction = _text(payload.get("transaction_id"))
    if transaction and transaction != _text(marker.get("transaction_id")) and PAYMENT_STATES.get(before) == "pending":
        return "processing", None  # the merchant recorded the payment's reference since: paid, date unknown
    return before, marker.get("date_paid_gmt")


def _payments(payload: Mapping[str, Any], status: str, total: Decimal, issues: OrderIssues) -> list[Payment]:
    """The order's payment (from its status, or the one before passerelle set it) and its refunds."""
    evidence, paid = _payment_evidence(payload, status)
    state = PAYMENT_STATES.get(evidence)
    if state is None:
        issues.add("status", f"WooCommerce status {status!r} is not an order to import")
        return []
    method = _text(payload.get("payment_method")) or _text(payload.get("payment_method_title")) or "manual"
    result = [
        Payment(
            method=method,
            amount=total,
            state=state,
            transaction_id=_text(payload.get("transaction_id")),
            paid_at=parse_gmt(paid) if paid and state == "settled" else None,
        )
    ]
    for refund in payload.get("refunds") or []:
        result.append(
            Payment(method=method, amount=abs(money(refund.get("total"))), state="refunded", transaction_id=None)
        )
    return result


# -- the order --------------------------------------------------------------------------------


def map_order(payload: Mapping[str, Any]) -> Order:
    """One WooCommerce order -> canonical Order; what cannot be read is in ``Order.issues``."""
    currency = str(payload["currency"])
    status = str(payload["status"])
    issues = OrderIssues(str(payload["id"]))
    rates = _tax_rates(payload)
    total_tax_included = money(payload.get("total"))
    method, shipping, shipping_with_tax, shipping_rate = _shipping(payload, rates, issues)
    fees, fees_tax = _fees(payload, currency, issues)
    order = Order(
        shop_id=str(payload["id"]),
        reference=_text(payload.get("number")) or str(payload["id"]),
        state=status,
        created_at=parse_gmt(payload["date_created_gmt"]),
        updated_at=parse_gmt(payload.get("date_modified_gmt") or payload["date_created_gmt"]),
        currency=currency,
        customer=_customer(payload, issues),
        billing=_address(payload.get("billing"), "billing", issues),
        shipping=_address(payload.get("shipping"), "shipping", issues),
        lines=[_line(row, rates, issues) for row in payload.get("line_items") or []],
        total=total_tax_included - money(payload.get("total_tax")),
        total_tax_included=total_tax_included,
        shipping_method=method,
        shipping_price=shipping,
        shipping_price_tax_included=shipping_with_tax,
        shipping_vat_rate=shipping_rate,
        discounts=_discounts(payload, currency),
        payments=_payments(payload, status, total_tax_included, issues),
        cancelled=status == "cancelled",
    )
    check_totals(order, issues, platform="WooCommerce", extra=(fees, fees + fees_tax))
    order.issues = issues.items
    return order
