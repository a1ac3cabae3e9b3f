"""Vendure Admin API ``Order`` payload -> canonical :class:`~connectors.models.Order` (pure, no I/O).

The payload is what :data:`connectors.shop.vendure.orders.ORDER_FIELDS` selects; amounts are
integers in minor units of ``currencyCode`` (``from_minor_units``). A canonical line carries
``discountedLinePrice`` (line promotions off); the order-level and shipping discounts become
``Order.discounts`` from exact differences, the rounding cent going to the largest, so the parts
add up to ``Order.total`` exactly (checked). What the mapper cannot read (an unknown country or
payment state, a positive surcharge) is a ``RecordError`` in ``Order.issues``, never an exception.

Details: docs/platforms.md (Vendure).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connectors.models import (
    Address,
    Customer,
    Discount,
    Order,
    OrderLine,
    Payment,
    ensure_utc,
    from_minor_units,
)
from connectors.shop.order_checks import OrderIssues, check_totals

__all__ = ["PAYMENT_STATES", "changed_at", "map_order", "parse_time", "shipping_vat_rate", "split_full_name"]

PAYMENT_STATES = {
    "Created": "pending",
    "Authorized": "authorized",
    "Settled": "settled",
    "Declined": "declined",
    "Error": "declined",  # the payment handler failed: no money was taken
    "Cancelled": "cancelled",
}
"""Vendure payment state -> canonical ``Payment.state`` (refunds are mapped from ``Payment.refunds``)."""

SHIPPING_TAX = "shipping tax"
"""Description Vendure's order calculator gives every shipping tax line (``taxSummary``)."""

LINE_PROMOTION = "PROMOTION"
"""Adjustment type of a line-level (item) promotion; the others on a line are order-level."""

_COUNTRY = re.compile(r"^[A-Z]{2}$")


# -- small derived fields ---------------------------------------------------------------------


def parse_time(value: str) -> datetime:
    """Vendure DateTime (ISO 8601, ``Z``: Vendure stores and answers UTC) -> aware UTC datetime."""
    return ensure_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))


def changed_at(payload: Mapping[str, Any]) -> datetime:
    """When the order last changed: the later of ``updatedAt`` and ``orderPlacedAt``.

    Vendure 3.7 does not move ``updatedAt`` when an order changes state (placing it, settling its
    payment): ``transitionToState`` saves the order twice without reloading it and TypeORM writes
    the stale ``updatedAt`` back. ``orderPlacedAt`` covers the placement, the main change to import.
    """
    updated = parse_time(payload["updatedAt"])
    placed = payload.get("orderPlacedAt")
    return max(updated, parse_time(placed)) if placed else updated


def _rate(value: float | int | None) -> Decimal | None:
    """A GraphQL Float percentage as Decimal without binary noise (5.5 -> Decimal("5.5"))."""
    return None if value is None else Decimal(str(value))


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def split_full_name(
    full_name: str | None, first: str | None = None, last: str | None = None
) -> tuple[str | None, str | None]:
    """Vendure addresses have one ``fullName``: (first name, last name).

    When it is exactly the customer's "first last", the customer's own split is kept (multi-word
    first names); otherwise the first word is the first name and the rest the last name; a single
    word is a last name (what an ERP requires first).
    """
    name = " ".join((full_name or "").split())
    if not name:
        return None, None
    if first and last and name == f"{' '.join(first.split())} {' '.join(last.split())}":
        return first.strip(), last.strip()
    head, _, tail = name.partition(" ")
    return (head, tail) if tail else (None, head)


def shipping_vat_rate(price: int, price_with_tax: int, summary: Sequence[Mapping[str, Any]]) -> Decimal | None:
    """VAT rate of the shipping: the Admin API's ShippingLine exposes none.

    Vendure's ``taxSummary`` names the shipping rows ``shipping tax``: with one such rate, it is the
    rate. Otherwise the rate is derived from the amounts (Vendure rounds the tax-included price
    half up), preferring a rate of the order's summary that gives exactly ``price_with_tax``.
    """
    shipping_rates = {_rate(row["taxRate"]) for row in summary if row.get("description") == SHIPPING_TAX}
    if len(shipping_rates) == 1:
        return shipping_rates.pop()
    if price == 0:
        return None
    candidates = sorted({r for r in (_rate(row["taxRate"]) for row in summary) if r is not None})
    for rate in candidates:
        gross = (Decimal(price) * (100 + rate) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        if gross == price_with_tax:
            return rate
    return (Decimal(price_with_tax - price) * 100 / Decimal(price)).quantize(Decimal("0.01")).normalize()


# -- parts of the order -----------------------------------------------------------------------


def _customer(payload: Mapping[str, Any], issues: OrderIssues) -> Customer:
    """A Customer without a User is a guest checkout (``setCustomerForOrder``): ``shop_id`` None."""
    row = payload.get("customer")
    billing = payload.get("billingAddress") or {}
    shipping = payload.get("shippingAddress") or {}
    if not row:
        issues.add("customer", "the order has no customer")
        return Customer(email="")
    email = _text(row.get("emailAddress"))
    if email is None:
        issues.add("customer.email", "the customer has no e-mail address")
    return Customer(
        email=email or "",
        shop_id=str(row["id"]) if row.get("user") else None,
        first_name=_text(row.get("firstName")),
        last_name=_text(row.get("lastName")),
        company=_text(billing.get("company")) or _text(shipping.get("company")),
        phone=_text(row.get("phoneNumber")) or _text(billing.get("phoneNumber")) or _text(shipping.get("phoneNumber")),
    )


def _address(row: Mapping[str, Any] | None, field: str, customer: Customer, issues: OrderIssues) -> Address | None:
    """An OrderAddress (all of it null when never set: None)."""
    if not row or not any(_text(row.get(k)) for k in ("streetLine1", "city", "postalCode", "countryCode")):
        return None
    first, last = split_full_name(row.get("fullName"), customer.first_name, customer.last_name)
    country = (_text(row.get("countryCode")) or "").upper()
    if not _COUNTRY.match(country):
        issues.add(f"{field}.country", f"country code {row.get('countryCode')!r} is not ISO 3166-1 alpha-2")
    for key, label in (("streetLine1", "street"), ("city", "city")):
        if not _text(row.get(key)):
            issues.add(f"{field}.{label}", "missing")
    return Address(
        first_name=first,
        last_name=last,
        street=_text(row.get("streetLine1")) or "",
        street2=_text(row.get("streetLine2")),
        postal_code=_text(row.get("postalCode")) or "",
        city=_text(row.get("city")) or "",
        country=country,
        company=_text(row.get("company")),
        phone=_text(row.get("phoneNumber")),
    )


def _line(row: Mapping[str, Any], currency: str) -> OrderLine:
    """``total`` = ``discountedLinePrice``: after line-level promotions, before order-level ones."""
    variant = row.get("productVariant") or {}
    quantity = int(row["quantity"])
    total = int(row["discountedLinePrice"])
    return OrderLine(
        line_id=str(row["id"]),
        sku=_text(variant.get("sku")),
        name=_text(variant.get("name")) or "",
        quantity=Decimal(quantity),
        unit_price=from_minor_units(int(row["unitPrice"]), currency),
        vat_rate=_rate(row.get("taxRate")),
        total=from_minor_units(total, currency),
        total_tax_included=from_minor_units(int(row["discountedLinePriceWithTax"]), currency),
        discount=from_minor_units(quantity * int(row["unitPrice"]) - total, currency),
        variant_id=_text(variant.get("id")),
    )


class _DiscountGroup:
    def __init__(self, description: str, code: str | None) -> None:
        self.description = description
        self.code = code
        self.amount = 0
        self.amount_with_tax = 0


def _discounts(payload: Mapping[str, Any], issues: OrderIssues) -> list[Discount]:
    """Order-level and shipping discounts, per promotion, tax-excluded and included (positive)."""
    currency = payload["currencyCode"]
    coupons = {str(p["id"]): p.get("couponCode") for p in payload.get("promotions") or []}
    applied = set(payload.get("couponCodes") or [])
    groups: dict[str, _DiscountGroup] = {}

    def add(source: str, description: str, amount: int, amount_with_tax: int) -> None:
        kind, _, ident = source.partition(":")
        code = coupons.get(ident) if kind == "PROMOTION" else None
        group = groups.setdefault(source, _DiscountGroup(description, code if code in applied else None))
        group.amount -= amount  # Vendure's adjustments are negative
        group.amount_with_tax -= amount_with_tax

    exact = exact_with_tax = 0
    for line in payload.get("lines") or []:
        exact += int(line["discountedLinePrice"]) - int(line["proratedLinePrice"])
        exact_with_tax += int(line["discountedLinePriceWithTax"]) - int(line["proratedLinePriceWithTax"])
        for d in line.get("discounts") or []:
            if d["type"] != LINE_PROMOTION:
                add(d["adjustmentSource"], d["description"], int(d["amount"]), int(d["amountWithTax"]))
    for shipping in payload.get("shippingLines") or []:
        exact += int(shipping["price"]) - int(shipping["discountedPrice"])
        exact_with_tax += int(shipping["priceWithTax"]) - int(shipping["discountedPriceWithTax"])
        for d in shipping.get("discounts") or []:
            add(d["adjustmentSource"], d["description"], int(d["amount"]), int(d["amountWithTax"]))
    for surcharge in payload.get("surcharges") or []:
        price, price_with_tax = int(surcharge["price"]), int(surcharge["priceWithTax"])
        if price < 0:  # a reduction added by hand or by an order modification
            exact -= price
            exact_with_tax -= price_with_tax
            add(f"SURCHARGE:{surcharge['id']}", surcharge["description"], price, price_with_tax)
        elif price > 0:
            issues.add(
                "surcharges",
                f"surcharge {surcharge['description']!r} of {from_minor_units(price, currency)} {currency}: "
                "the canonical order has no place for an extra charge",
            )

    # Vendure's per-promotion figures are rounded line by line: the rounding cent goes to the largest.
    for attr, target in (("amount", exact), ("amount_with_tax", exact_with_tax)):
        residue = target - sum(getattr(g, attr) for g in groups.values())
        if residue:
            if not groups:
                groups["OTHER"] = _DiscountGroup("Discount", None)
            largest = max(groups.values(), key=lambda g: g.amount)
            setattr(largest, attr, getattr(largest, attr) + residue)
    return [
        Discount(
            description=g.description,
            amount=from_minor_units(g.amount, currency),
            amount_tax_included=from_minor_units(g.amount_with_tax, currency),
            code=g.code,
        )
        for g in groups.values()
        if g.amount or g.amount_with_tax
    ]


def _payments(payload: Mapping[str, Any], issues: OrderIssues) -> list[Payment]:
    """Payments, and their settled refunds as ``refunded`` payments (``Order.paid_amount`` subtracts them).

    ``paid_at`` of a settled payment is its ``updatedAt``: an authorised payment captured later is
    updated when it settles, so this is when the money was taken (``createdAt`` is the authorisation).
    """
    currency = payload["currencyCode"]
    result: list[Payment] = []
    for row in payload.get("payments") or []:
        state = PAYMENT_STATES.get(row["state"])
        if state is None:
            issues.add("payments", f"payment {row['id']} is in the unknown Vendure state {row['state']!r}")
            state = str(row["state"]).lower()
        result.append(
            Payment(
                method=row["method"],
                amount=from_minor_units(int(row["amount"]), currency),
                state=state,
                transaction_id=_text(row.get("transactionId")),
                paid_at=parse_time(row["updatedAt"]) if state == "settled" else None,
            )
        )
        for refund in row.get("refunds") or []:
            if refund["state"] == "Settled":
                result.append(
                    Payment(
                        method=refund.get("method") or row["method"],
                        amount=from_minor_units(int(refund["total"]), currency),
                        state="refunded",
                        transaction_id=_text(refund.get("transactionId")),
                        paid_at=parse_time(refund["updatedAt"]),
                    )
                )
    return result


def _shipping(payload: Mapping[str, Any], issues: OrderIssues) -> tuple[str | None, int, int, Decimal | None]:
    """(method code, price, price with tax, VAT rate) of the shipping lines, before shipping discounts."""
    lines = payload.get("shippingLines") or []
    price = sum(int(s["price"]) for s in lines)
    price_with_tax = sum(int(s["priceWithTax"]) for s in lines)
    codes = [s["shippingMethod"]["code"] for s in lines]
    rate = shipping_vat_rate(price, price_with_tax, payload.get("taxSummary") or [])
    if len(lines) > 1:
        rates = {shipping_vat_rate(int(s["price"]), int(s["priceWithTax"]), []) for s in lines if int(s["price"])}
        if len(rates) > 1:
            issues.add("shipping", f"{len(lines)} shipping lines with different VAT rates: {sorted(map(str, rates))}")
    return (", ".join(dict.fromkeys(codes)) or None), price, price_with_tax, rate


# -- the order --------------------------------------------------------------------------------


def map_order(payload: Mapping[str, Any]) -> Order:
    """One Vendure order -> canonical Order; what cannot be read is in ``Order.issues``."""
    currency = str(payload["currencyCode"])
    issues = OrderIssues(str(payload["id"]))
    customer = _customer(payload, issues)
    lines = [_line(row, currency) for row in payload.get("lines") or []]
    method, shipping, shipping_with_tax, shipping_rate = _shipping(payload, issues)
    discounts = _discounts(payload, issues)
    placed = payload.get("orderPlacedAt")
    order = Order(
        shop_id=str(payload["id"]),
        reference=str(payload["code"]),
        state=str(payload["state"]),
        created_at=parse_time(placed or payload["createdAt"]),
        updated_at=changed_at(payload),
        currency=currency,
        customer=customer,
        billing=_address(payload.get("billingAddress"), "billing", customer, issues),
        shipping=_address(payload.get("shippingAddress"), "shipping", customer, issues),
        lines=lines,
        total=from_minor_units(int(payload["total"]), currency),
        total_tax_included=from_minor_units(int(payload["totalWithTax"]), currency),
        shipping_method=method,
        shipping_price=from_minor_units(shipping, currency),
        shipping_price_tax_included=from_minor_units(shipping_with_tax, currency),
        shipping_vat_rate=shipping_rate,
        discounts=discounts,
        payments=_payments(payload, issues),
        cancelled=payload["state"] == "Cancelled",
    )
    check_totals(order, issues, platform="Vendure")
    order.issues = issues.items
    return order
