"""Rules of the Tryton order sink that need no server: amounts, discount shares, the values of a
sale's lines and addresses, what a refusal says. ``docs/orders.md`` tells the whole mapping."""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

from connectors.base import ErpOrderRef
from connectors.erp.amounts import discount_shares
from connectors.erp.tryton.client import TrytonError
from connectors.errors import RecordError, Refused
from connectors.models import Address, Order, OrderLine, Payment, person_name

__all__ = ["IMPORTED_STATES", "PRICE_QUANTUM", "OrderRefused", "discount_shares", "net_unit_price", "total_adjustment"]


# A sale in one of these states is the order, imported: never made again (a cancelled one was
# an operator's decision). Draft and quotation are steps of an import cut short.
IMPORTED_STATES = ["confirmed", "processing", "done", "cancelled"]


PRICE_QUANTUM = Decimal("0.0001")  # Tryton's default price digits (16, 4)


_SHIPPING = "<shipping>"  # key of the shipping line's taxes beside the line ids


K = TypeVar("K", bound=Hashable)


class OrderRefused(Refused):
    """Tryton cannot take this order as it is: the flow quarantines it with ``error``."""


def net_unit_price(line: OrderLine) -> Decimal:
    """Tax-excluded unit price after the line's discount, to Tryton's price digits."""
    if not line.discount or not line.quantity:
        return line.unit_price.quantize(PRICE_QUANTUM, ROUND_HALF_UP)
    gross = line.unit_price * line.quantity
    return ((gross - line.discount) / line.quantity).quantize(PRICE_QUANTUM, ROUND_HALF_UP)


def total_adjustment(key: str, erp_total: Decimal, shop_total: Decimal, tolerance: Decimal) -> Decimal:
    """What to add to the ERP's total to reach the shop's (0 when equal).

    Raises:
        OrderRefused: the difference is larger than ``tolerance`` (both totals in the reason).
    """
    difference = shop_total - erp_total
    if abs(difference) > tolerance:
        raise OrderRefused(
            RecordError(
                key,
                "total_tax_included",
                f"Tryton computes {erp_total} tax included, the shop {shop_total}: "
                f"{difference:+} is more than the tolerance of {tolerance}",
                check="totals",
            )
        )
    return difference


def _norm(value: Any) -> str:
    return re.sub(r"\s+", " ", str(value or "")).strip().casefold()


def _like(value: str) -> str:
    """``value`` as an exact ``ilike`` pattern (Tryton escapes with a backslash)."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(slots=True)
class _Setup:
    """Ids read once per connector: they are configuration, not data."""

    company: int
    warehouse: int
    products: dict[str, dict[str, Any]]
    carriers: dict[int, int]  # carrier product id -> carrier id
    advance_term: int
    payment_term: int | None
    tax_rates: dict[int, Decimal]
    currencies: dict[str, int]
    destination_taxes: dict[tuple[str, str], int] = field(default_factory=dict)  # (country, rate key) -> tax
    countries: dict[str, int | None] = field(default_factory=dict)
    payment_methods: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class _BatchCache:
    """What :meth:`TrytonOrders._prefetch` read for a batch: products by id, and the parties of
    the batch's customer keys and e-mails (``searched``); a key or e-mail whose party an order
    of the batch may have changed is ``dirty`` (searched again)."""

    products: dict[int, dict[str, Any]] = field(default_factory=dict)
    parties: list[dict[str, Any]] = field(default_factory=list)
    searched: set[str] = field(default_factory=set)
    dirty: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _Party:
    id: int
    invoice_address: int
    shipment_address: int
    contact: int | None


_PRODUCT_FIELDS = [
    "id",
    "code",
    "rec_name",
    "active",
    "sale_uom",
    "default_uom",
    "account_category.customer_taxes_used",
]


_PARTY_FIELDS = [
    "id",
    "name",
    "identifiers.type",
    "identifiers.code",
    "addresses.street_unstructured",
    "addresses.postal_code",
    "addresses.city",
    "addresses.country",
    "addresses.party_name",
    "contact_mechanisms.type",
    "contact_mechanisms.value",
]


def _ref(row: Mapping[str, Any]) -> ErpOrderRef:
    return ErpOrderRef(
        erp_id=str(row["id"]),
        reference=row.get("number") or row["reference"],
        total_tax_included=row["total_amount"],
        customer_id=str(row["party"]) if row.get("party") is not None else None,
    )


def _taxes(product: Mapping[str, Any]) -> tuple[int, ...]:
    category = product.get("account_category.") or {}
    return tuple(sorted(int(t) for t in category.get("customer_taxes_used") or []))


def _line(
    product: Mapping[str, Any], quantity: Decimal, unit_price: Decimal, description: str, taxes: tuple[int, ...]
) -> dict[str, Any]:
    return {
        "type": "line",
        "product": product["id"],
        "quantity": float(quantity),
        "unit": product.get("sale_uom") or product["default_uom"],
        "unit_price": unit_price,
        "description": description,
        "taxes": [["add", list(taxes)]],
    }


def _line_description(line: OrderLine) -> str:
    return f"{line.name} [{line.sku}]" if line.sku and line.sku not in line.name else line.name


def _party_name(order: Order) -> str:
    customer = order.customer
    billing = order.billing or order.shipping
    return (
        customer.company
        or (billing.company if billing else None)
        or person_name(customer.first_name, customer.last_name)
        or (person_name(billing.first_name, billing.last_name) if billing else "")
        or customer.email
    )


def _address_values(address: Address, party_name: str, country: int | None) -> dict[str, Any]:
    street = "\n".join(s for s in (address.street, address.street2) if s)
    recipient = address.company or person_name(address.first_name, address.last_name)
    if address.company and person_name(address.first_name, address.last_name):
        recipient = f"{address.company}, {person_name(address.first_name, address.last_name)}"
    return {
        "street_unstructured": street,
        "postal_code": address.postal_code,
        "city": address.city,
        "country": country,
        "party_name": recipient if _norm(recipient) != _norm(party_name) else None,
    }


def _same_address(row: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    return all(
        _norm(row.get(k)) == _norm(values.get(k)) for k in ("street_unstructured", "postal_code", "city", "party_name")
    ) and (row.get("country") or None) == (values.get("country") or None)


def _with_tax(shares: Mapping[tuple[int, ...], Decimal], rates: Mapping[int, Decimal], quantum: Decimal) -> Decimal:
    """Tax-included total of amounts per group of taxes (percentage taxes, rounded per group)."""
    return sum(
        (
            share
            + (share * sum((rates.get(t, Decimal(0)) for t in taxes), Decimal(0))).quantize(quantum, ROUND_HALF_UP)
            for taxes, share in shares.items()
        ),
        Decimal(0),
    )


def _percent(taxes: Sequence[int], setup: _Setup) -> Decimal:
    """The rate in percent of a group of percentage taxes."""
    return sum((setup.tax_rates.get(t, Decimal(0)) for t in taxes), Decimal(0)) * 100


def _vat_mismatches(order: Order, taxes: Mapping[str, tuple[int, ...]], setup: _Setup) -> list[str]:
    """Lines whose shop VAT rate is not Tryton's: the likely cause of a total far off."""
    found = []
    for line in order.lines:
        tryton = _percent(taxes[line.line_id], setup)
        if line.vat_rate is not None and tryton != line.vat_rate:
            found.append(
                f"{line.sku or line.name}: shop {line.vat_rate.normalize():f} %, Tryton {tryton.normalize():f} %"
            )
    return found


def _private_values(order: Order) -> list[str]:
    """What identifies the customer in an order: never repeated in a message passerelle keeps."""
    customer = order.customer
    values = [customer.email, customer.phone, customer.vat_number, customer.siret, customer.company]
    values += [customer.first_name, customer.last_name, customer.shop_id]
    for address in (order.billing, order.shipping):
        if address is not None:
            values += [address.first_name, address.last_name, address.street, address.street2, address.company]
            values += [address.postal_code, address.city, address.phone]
    return sorted({v.strip() for v in values if v and len(v.strip()) > 1}, key=len, reverse=True)


def _scrubbed(message: str, order: Order) -> str:
    """Tryton's message without the customer's values (its messages quote the value and the record)."""
    for value in _private_values(order):
        message = message.replace(value, "…")
    return re.sub(r"…(?:[\s,]*…)+", "…", message)


def _refusal(order: Order, field_name: str, what: str, exc: TrytonError) -> OrderRefused | TrytonError:
    """The order's refusal for a call Tryton refused on its values; the error itself when it is not
    about the values (an unknown model, a server error): that stops the run."""
    if not exc.per_record:
        return exc
    reason = f"Tryton refused {what}: {_scrubbed(exc.message, order)}"
    return OrderRefused(RecordError(order.shop_id, field_name, reason))


def _payment_description(payment: Payment) -> str:
    """The payment move's description: what makes :meth:`TrytonOrders.record_payment` idempotent."""
    reference = payment.transaction_id or (payment.paid_at.isoformat() if payment.paid_at else "no transaction id")
    return f"Web payment {payment.method} {reference}"
