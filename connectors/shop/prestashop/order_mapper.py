"""PrestaShop webservice order (+ the records it points to) -> canonical :class:`~connectors.models.Order`.

Pure, no I/O: :mod:`connectors.shop.prestashop.orders` reads the records and hands them over as
an :class:`OrderBundle`. Amounts (six-decimal strings) become Decimal quantized to the currency;
``date_add`` / ``date_upd`` (the shop's wall-clock time) become aware UTC
(:func:`~connectors.timezones.to_utc`). Lines are ``order_details`` rows, the cart rules one
order-level Discount, and the parts must add up to ``total_paid_tax_excl/incl`` (a difference, or
any gift wrapping, is a RecordError in ``Order.issues``). Payments are ``order_payments``, shared
out among the orders of one reference (``reference_total``), in the state the order's current
state gives.

Details: docs/prestashop.md (Reading orders).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from connectors.models import Address, Customer, Discount, Order, OrderLine, Payment, currency_quantum
from connectors.shop.order_checks import OrderIssues, check_totals
from connectors.shop.prestashop.common import variant_id
from connectors.timezones import to_utc

__all__ = ["OrderBundle", "StateRules", "map_order", "parse_local", "state_kind"]

_NO_DATE = "0000-00-00 00:00:00"

Record = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class StateRules:
    """Which order states mean cancelled / refunded / payment error.

    PrestaShop's defaults are ids 6, 7 and 8 (``PS_OS_CANCELED``, ``PS_OS_REFUND``, ``PS_OS_ERROR``);
    the mail template of a state names it too, whatever the shop renamed it to.
    """

    cancelled: frozenset[str] = frozenset({"6"})
    refunded: frozenset[str] = frozenset({"7"})
    error: frozenset[str] = frozenset({"8"})


_TEMPLATES = {"order_canceled": "cancelled", "refund": "refunded", "payment_error": "error"}


@dataclass(slots=True)
class OrderBundle:
    """One order and what it points to, as the webservice answered them (``display=full``)."""

    order: Record
    details: Sequence[Record] = ()
    customer: Record | None = None
    delivery: Record | None = None
    invoice: Record | None = None
    countries: Mapping[str, str] = field(default_factory=dict)
    """Country id -> ISO code."""
    currency: str | None = None
    state: Record | None = None
    carrier: Record | None = None
    payments: Sequence[Record] = ()
    reference_total: Decimal | None = None
    """Σ ``total_paid_tax_incl`` of every order with this reference (None: this order alone)."""


# -- small derived fields ---------------------------------------------------------------------


def parse_local(value: str | None) -> datetime | None:
    """A PrestaShop ``YYYY-MM-DD HH:MM:SS`` (naive, the shop's zone); None for the zero date."""
    if not value or value == _NO_DATE:
        return None
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S")


def _money(value: Any, quantum: Decimal) -> Decimal:
    try:
        return Decimal(str(value or "0")).quantize(quantum, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return Decimal(0).quantize(quantum)


def _raw(value: Any) -> Decimal:
    try:
        return Decimal(str(value or "0"))
    except InvalidOperation:
        return Decimal(0)


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _localized(value: Any, language: str) -> str | None:
    """A multilingual field (``[{"id": "1", "value": ...}]``) in ``language`` (else the first)."""
    if isinstance(value, list):
        for item in value:
            if str(item.get("id")) == language:
                return _text(item.get("value"))
        return _text(value[0].get("value")) if value else None
    return _text(value)


def _rate(excl: Decimal, incl: Decimal) -> Decimal | None:
    """The tax rate an amount pair implies (two decimals), None for a zero amount."""
    if not excl:
        return None
    return ((incl / excl - 1) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize() + 0


def state_kind(state: Record | None, rules: StateRules) -> str:
    """``cancelled``, ``refunded``, ``error``, ``paid`` or ``open`` for an order state record."""
    if state is None:
        return "open"
    ident = str(state.get("id"))
    templates = {_text(t.get("value")) for t in state.get("template") or [] if isinstance(t, Mapping)}
    for template, kind in _TEMPLATES.items():
        if template in templates:
            return kind
    if ident in rules.cancelled:
        return "cancelled"
    if ident in rules.refunded:
        return "refunded"
    if ident in rules.error:
        return "error"
    return "paid" if str(state.get("paid")) == "1" else "open"


_PAYMENT_STATE = {
    "paid": "settled",
    "open": "pending",
    "cancelled": "cancelled",
    "refunded": "refunded",
    "error": "declined",
}


# -- parts ------------------------------------------------------------------------------------


def _customer(bundle: OrderBundle, issues: OrderIssues) -> Customer:
    row = bundle.customer or {}
    email = _text(row.get("email"))
    if email is None:
        issues.add("customer", f"customer {bundle.order.get('id_customer')} was not found or has no e-mail")
    guest = str(row.get("is_guest", "0")) == "1"
    invoice = bundle.invoice or {}
    return Customer(
        email=email or "",
        shop_id=None if guest else _text(bundle.order.get("id_customer")),
        first_name=_text(row.get("firstname")),
        last_name=_text(row.get("lastname")),
        company=_text(row.get("company")) or _text(invoice.get("company")),
        vat_number=_text(invoice.get("vat_number")),
        siret=_text(row.get("siret")),
        phone=_text(invoice.get("phone")) or _text(invoice.get("phone_mobile")),
    )


def _address(row: Record | None, field: str, bundle: OrderBundle, issues: OrderIssues) -> Address | None:
    if row is None:
        issues.add(field, f"address {bundle.order.get(field)} was not found")
        return None
    country = bundle.countries.get(str(row.get("id_country")))
    if country is None or len(country) != 2:
        issues.add(field, f"country {row.get('id_country')} has no ISO code")
    return Address(
        first_name=_text(row.get("firstname")),
        last_name=_text(row.get("lastname")),
        street=_text(row.get("address1")) or "",
        postal_code=_text(row.get("postcode")) or "",
        city=_text(row.get("city")) or "",
        country=(country or "").upper(),
        street2=_text(row.get("address2")),
        company=_text(row.get("company")),
        phone=_text(row.get("phone")) or _text(row.get("phone_mobile")),
    )


def _detail_rate(detail: Record) -> Decimal | None:
    """The tax rate of an order_details row from its ``taxes`` association, when PrestaShop sent one."""
    taxes = (detail.get("associations") or {}).get("taxes") or []
    rates = [t.get("rate") for t in taxes if isinstance(t, Mapping) and t.get("rate") not in (None, "")]
    if len(rates) == 1:
        return Decimal(str(rates[0])).normalize() + 0
    return None


def _line(row: Record, detail: Record | None, quantum: Decimal) -> OrderLine:
    """One order line from its order_details row, or from the order's ``order_rows`` entry."""
    source = detail or row
    quantity = Decimal(str(source.get("product_quantity") or "0"))
    unit = _money(source.get("unit_price_tax_excl"), quantum)
    if detail is not None:
        total = _money(detail.get("total_price_tax_excl"), quantum)
        total_incl = _money(detail.get("total_price_tax_incl"), quantum)
    else:
        total = (quantity * unit).quantize(quantum, rounding=ROUND_HALF_UP)
        total_incl = (quantity * Decimal(str(row.get("unit_price_tax_incl") or "0"))).quantize(
            quantum, rounding=ROUND_HALF_UP
        )
    # The unit prices keep PrestaShop's six decimals: the rate they imply is not blurred by rounding.
    raw_excl, raw_incl = (_raw(source.get("unit_price_tax_excl")), _raw(source.get("unit_price_tax_incl")))
    rate = (
        (_detail_rate(detail) if detail is not None else None)
        or _rate(raw_excl, raw_incl)
        or _rate(total, total_incl)
        or Decimal(0)
    )
    # The shop variant id of the catalogue, stock and price sinks: "<id_product>:<id_product_attribute>"
    # (0 without combination), so an order line finds the catalogue binding of what it sold.
    product = _text(source.get("product_id"))
    variant = variant_id(product, _text(source.get("product_attribute_id")) or "0") if product else None
    return OrderLine(
        line_id=str(source.get("id")),
        sku=_text(source.get("product_reference")),
        name=_text(source.get("product_name")) or "",
        quantity=quantity,
        unit_price=unit,
        vat_rate=rate,
        total=total,
        total_tax_included=total_incl,
        discount=max(Decimal(0), (quantity * unit).quantize(quantum) - total),
        variant_id=variant,
    )


def _lines(bundle: OrderBundle, quantum: Decimal) -> list[OrderLine]:
    details = {str(d.get("id")): d for d in bundle.details}
    rows = (bundle.order.get("associations") or {}).get("order_rows") or []
    lines = [_line(r, details.pop(str(r.get("id")), None), quantum) for r in rows]
    # Rows the order's association did not list (it is a summary) still come from order_details.
    lines += [_line(d, d, quantum) for d in details.values()]
    return lines


def _shipping_rate(order: Record, excl: Decimal, incl: Decimal) -> Decimal | None:
    """``carrier_tax_rate`` when it agrees with the amounts, else the rate the amounts imply."""
    stated = Decimal(str(order.get("carrier_tax_rate") or "0"))
    implied = _rate(excl, incl)
    if implied is None:
        return stated.normalize() + 0 if stated else None
    return stated.normalize() + 0 if abs(stated - implied) < Decimal("0.01") else implied


def _payments(bundle: OrderBundle, kind: str, currency: str, quantum: Decimal, tz: tzinfo) -> list[Payment]:
    own_total = _money(bundle.order.get("total_paid_tax_incl"), quantum)
    share = Decimal(1)
    if bundle.reference_total and bundle.reference_total != own_total:
        share = own_total / bundle.reference_total
    rows = list(bundle.payments)
    if not rows:
        # PrestaShop records an order_payment only when money comes in: an order awaiting a
        # cheque or a transfer has none. Its payment module still names the method the import
        # rules are keyed by, and its total is what is due.
        rows = [{"payment_method": bundle.order.get("payment"), "amount": bundle.order.get("total_paid_tax_incl")}]
    payments = []
    for row in rows:
        paid_at = parse_local(_text(row.get("date_add")))
        payment = Payment(
            method=_text(row.get("payment_method")) or _text(bundle.order.get("payment")) or "",
            amount=(Decimal(str(row.get("amount") or "0")) * share).quantize(quantum, rounding=ROUND_HALF_UP),
            state=_PAYMENT_STATE[kind],
            transaction_id=_text(row.get("transaction_id")),
            paid_at=to_utc(paid_at, tz) if paid_at else None,
        )
        if kind == "refunded":
            # The money was taken, then given back: a settled payment and its refund (paid 0).
            payments.append(replace(payment, state="settled"))
        payments.append(payment)
    return payments


# -- the order --------------------------------------------------------------------------------


def map_order(bundle: OrderBundle, tz: tzinfo, *, language: str = "1", rules: StateRules | None = None) -> Order:
    """The canonical order of ``bundle``; what cannot be read goes to ``Order.issues``."""
    rules = rules or StateRules()
    order = bundle.order
    issues = OrderIssues(str(order.get("id")))
    currency = (bundle.currency or "").upper()
    if len(currency) != 3:
        issues.add("currency", f"currency {order.get('id_currency')} has no ISO code")
        currency = currency or "XXX"
    quantum = currency_quantum(currency)
    created = parse_local(_text(order.get("date_add")))
    updated = parse_local(_text(order.get("date_upd"))) or created
    if created is None or updated is None:
        issues.add("date_add", f"unreadable dates {order.get('date_add')!r} / {order.get('date_upd')!r}")
        created = updated = created or updated or datetime(1970, 1, 1)
    kind = state_kind(bundle.state, rules)
    if bundle.state is None:
        issues.add("current_state", f"order state {order.get('current_state')} was not found")
    discounts = []
    discount, discount_incl = (
        _money(order.get("total_discounts_tax_excl"), quantum),
        _money(order.get("total_discounts_tax_incl"), quantum),
    )
    if discount or discount_incl:
        discounts.append(Discount("cart rules", discount, discount_incl))
    shipping, shipping_incl = (
        _money(order.get("total_shipping_tax_excl"), quantum),
        _money(order.get("total_shipping_tax_incl"), quantum),
    )
    if _money(order.get("total_wrapping_tax_incl"), quantum):
        issues.add("total_wrapping", "gift wrapping has no place in the canonical order")
    result = Order(
        shop_id=str(order.get("id")),
        reference=_text(order.get("reference")) or str(order.get("id")),
        state=(_localized((bundle.state or {}).get("name"), language) or str(order.get("current_state"))),
        created_at=to_utc(created, tz),
        updated_at=to_utc(updated, tz),
        currency=currency,
        customer=_customer(bundle, issues),
        billing=_address(bundle.invoice, "id_address_invoice", bundle, issues),
        shipping=_address(bundle.delivery, "id_address_delivery", bundle, issues),
        lines=_lines(bundle, quantum),
        total=_money(order.get("total_paid_tax_excl"), quantum),
        total_tax_included=_money(order.get("total_paid_tax_incl"), quantum),
        shipping_method=_text((bundle.carrier or {}).get("name")),
        shipping_price=shipping,
        shipping_price_tax_included=shipping_incl,
        shipping_vat_rate=_shipping_rate(order, shipping, shipping_incl),
        discounts=discounts,
        payments=_payments(bundle, kind, currency, quantum, tz),
        cancelled=kind == "cancelled",
    )
    check_totals(result, issues, platform="PrestaShop", labels=("total_paid_tax_excl", "total_paid_tax_incl"))
    result.issues = issues.items
    return result
