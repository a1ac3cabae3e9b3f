"""Shopify Admin GraphQL ``Order`` -> canonical :class:`~connectors.models.Order` (pure, no I/O).

Amounts are the ``shopMoney`` of each MoneyBag (the shop's currency, ``currencyCode``), Decimal
from the strings. Shopify stores prices in the shop's tax basis (``taxesIncluded``) and each line's
``taxLines`` after its discounts; canonical lines are tax-excluded before discounts, so with the
line's rate ``r``: a line-specific discount (allocation ``EACH`` or a selection other than
``ALL``) is the line's ``discount``; an order-wide one (``ACROSS`` on ``ALL`` line items, a
discount code on the cart) is an order :class:`Discount`, its tax-excluded part taken per line so
that every sum is exact. Shipping is its ``discountedPriceSet`` (a shipping discount lowers it).
Several tax lines on one line (a US state and county) count as their summed rate.

Payments come from the ``transactions`` only (never from a status, and passerelle writes none:
it cancels without refunding): a successful SALE or CAPTURE is ``settled``, an AUTHORIZATION not
captured (nor voided) is ``authorized``, a REFUND is ``refunded``, a pending one ``pending``, a
failed one ``declined``; an order without any transaction is one ``pending`` payment of its total
(a manual payment method: bank deposit, cash on delivery).

Ids: ``Order.shop_id`` is the number of the order's gid (``gid://shopify/Order/5512`` -> ``5512``,
the id of the admin's URL, as the other shops' numeric ids); ``reference`` is its ``name``
(``#1001``), what the merchant and the customer see.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any

from connectors.models import Address, Customer, Discount, Order, OrderLine, Payment, currency_quantum
from connectors.shop.order_checks import OrderIssues, check_totals

__all__ = ["ORDER_FIELDS", "canonical_status", "gid_number", "map_order", "order_gid", "parse_time"]

_UNIT = Decimal("0.000001")
_COUNTRY = re.compile(r"^[A-Z]{2}$")

MONEY = "shopMoney { amount }"
TAX_LINES = f"taxLines {{ rate ratePercentage priceSet {{ {MONEY} }} }}"
LINE_FIELDS = f"""
  id sku name quantity
  variant {{ id }}
  originalUnitPriceSet {{ {MONEY} }}
  discountAllocations {{ allocatedAmountSet {{ {MONEY} }} discountApplication {{ index }} }}
  {TAX_LINES}
"""
ADDRESS = "firstName lastName company address1 address2 zip city countryCodeV2 phone"
DISCOUNTS_PAGE = 10
SHIPPING_PAGE = 5
TRANSACTIONS_PAGE = 50
TRANSACTIONS_READ = TRANSACTIONS_PAGE + 1
"""One more transaction than kept: ``Order.transactions`` is a list without pageInfo, so a 51st says
the order holds more than one read shows. An order over any of these pages is refused (its
issues), never imported with a discount, a shipping line or a payment missing."""
ORDER_FIELDS = f"""
  id name createdAt updatedAt cancelledAt currencyCode taxesIncluded
  displayFinancialStatus displayFulfillmentStatus email paymentGatewayNames
  customer {{ id firstName lastName phone }}
  billingAddress {{ {ADDRESS} }}
  shippingAddress {{ {ADDRESS} }}
  totalPriceSet {{ {MONEY} }}
  totalTaxSet {{ {MONEY} }}
  discountApplications(first: {DISCOUNTS_PAGE}) {{
    pageInfo {{ hasNextPage }}
    nodes {{
      index allocationMethod targetSelection targetType
      ... on DiscountCodeApplication {{ code }}
      ... on AutomaticDiscountApplication {{ title }}
      ... on ManualDiscountApplication {{ title }}
      ... on ScriptDiscountApplication {{ title }}
    }}
  }}
  shippingLines(first: {SHIPPING_PAGE}) {{
    pageInfo {{ hasNextPage }} nodes {{ title discountedPriceSet {{ {MONEY} }} {TAX_LINES} }}
  }}
  transactions(first: {TRANSACTIONS_READ}) {{
    id kind status gateway processedAt createdAt amountSet {{ {MONEY} }} parentTransaction {{ id }}
  }}
"""
"""The Order fields the mapper reads (the line items are read apart: ``lineItems`` connection)."""


def gid_number(value: str) -> str:
    """``gid://shopify/Order/5512`` -> ``5512`` (a plain number stays as it is)."""
    return str(value).rsplit("/", 1)[-1].split("?", 1)[0]


def order_gid(shop_id: str) -> str:
    """The global id of an order from its number (or its gid)."""
    text = str(shop_id).strip()
    return text if text.startswith("gid://") else f"gid://shopify/Order/{text}"


def parse_time(value: str) -> datetime:
    """A Shopify DateTime (ISO 8601, ``Z``) -> aware UTC."""
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


def canonical_status(order: Mapping[str, Any]) -> str:
    """``cancelledAt`` -> cancelled; ``displayFinancialStatus`` REFUNDED -> refunded;
    ``displayFulfillmentStatus`` FULFILLED -> shipped, PARTIALLY_FULFILLED / IN_PROGRESS ->
    processing; anything else -> open."""
    if order.get("cancelledAt"):
        return "cancelled"
    if order.get("displayFinancialStatus") == "REFUNDED":
        return "refunded"
    fulfillment = order.get("displayFulfillmentStatus")
    if fulfillment == "FULFILLED":
        return "shipped"
    if fulfillment in {"PARTIALLY_FULFILLED", "IN_PROGRESS"}:
        return "processing"
    return "open"


def _money(bag: Mapping[str, Any] | None) -> Decimal:
    if not bag:
        return Decimal(0)
    return Decimal(str((bag.get("shopMoney") or {}).get("amount") or "0"))


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _rate(tax_lines: list[Mapping[str, Any]]) -> Decimal:
    """The summed percentage of ``taxLines`` (0 without any)."""
    total = Decimal(0)
    for tax in tax_lines:
        if tax.get("ratePercentage") is not None:
            total += Decimal(str(tax["ratePercentage"]))
        elif tax.get("rate") is not None:
            total += Decimal(str(tax["rate"])) * 100
    return total.quantize(Decimal(1)) if total == total.to_integral_value() else total.normalize()


def _net(amount: Decimal, rate: Decimal, included: bool, quantum: Decimal) -> Decimal:
    """The tax-excluded part of an amount in the shop's basis (to the currency's quantum)."""
    if not included or not rate:
        return amount
    return (amount / (1 + rate / 100)).quantize(quantum, rounding=ROUND_HALF_UP)


def _gross(amount: Decimal, rate: Decimal, included: bool, quantum: Decimal) -> Decimal:
    if included or not rate:
        return amount
    return (amount * (1 + rate / 100)).quantize(quantum, rounding=ROUND_HALF_UP)


def _customer(payload: Mapping[str, Any], issues: OrderIssues) -> Customer:
    row = payload.get("customer") or {}
    email = _text(payload.get("email"))
    if email is None:
        issues.add("customer.email", "the order has no e-mail")
    billing = payload.get("billingAddress") or {}
    return Customer(
        email=email or "",
        shop_id=gid_number(row["id"]) if row.get("id") else None,
        first_name=_text(row.get("firstName")) or _text(billing.get("firstName")),
        last_name=_text(row.get("lastName")) or _text(billing.get("lastName")),
        company=_text(billing.get("company")),
        phone=_text(row.get("phone")) or _text(billing.get("phone")),
    )


def _address(row: Mapping[str, Any] | None, field: str, issues: OrderIssues) -> Address | None:
    if not row or not any(_text(row.get(k)) for k in ("address1", "city", "zip")):
        return None
    country = (_text(row.get("countryCodeV2")) or "").upper()
    if not _COUNTRY.match(country):
        issues.add(f"{field}.country", "the country code is not ISO 3166-1 alpha-2")
    for key, label in (("address1", "street"), ("city", "city")):
        if not _text(row.get(key)):
            issues.add(f"{field}.{label}", "missing")
    return Address(
        first_name=_text(row.get("firstName")),
        last_name=_text(row.get("lastName")),
        street=_text(row.get("address1")) or "",
        street2=_text(row.get("address2")),
        postal_code=_text(row.get("zip")) or "",
        city=_text(row.get("city")) or "",
        country=country,
        company=_text(row.get("company")),
        phone=_text(row.get("phone")),
    )


def _order_wide(application: Mapping[str, Any] | None) -> bool:
    """A discount on the whole cart (spread ACROSS all line items), not one line's own."""
    return bool(
        application
        and application.get("allocationMethod") == "ACROSS"
        and application.get("targetSelection") == "ALL"
        and application.get("targetType") == "LINE_ITEM"
    )


def _application_label(application: Mapping[str, Any]) -> tuple[str, str | None]:
    code = _text(application.get("code"))
    return (code or _text(application.get("title")) or "Discount"), code


def map_order(payload: Mapping[str, Any], lines: Sequence[Mapping[str, Any]] | None = None) -> Order:
    """One Shopify order (``ORDER_FIELDS``) and its line items (``lines``, else
    ``payload["lineItems"]["nodes"]``) -> canonical Order; what cannot be read is in ``issues``."""
    shop_id = gid_number(payload["id"])
    issues = OrderIssues(shop_id)
    currency = str(payload["currencyCode"])
    quantum = currency_quantum(currency)
    included = bool(payload.get("taxesIncluded"))
    rows = lines if lines is not None else list((payload.get("lineItems") or {}).get("nodes") or [])
    applications = {int(a["index"]): a for a in (payload.get("discountApplications") or {}).get("nodes") or [] if a}
    if ((payload.get("discountApplications") or {}).get("pageInfo") or {}).get("hasNextPage"):
        issues.add("discounts", f"more than {DISCOUNTS_PAGE} discount applications: not read whole")
    if ((payload.get("shippingLines") or {}).get("pageInfo") or {}).get("hasNextPage"):
        issues.add("shipping", f"more than {SHIPPING_PAGE} shipping lines: not read whole")
    if len(payload.get("transactions") or []) > TRANSACTIONS_PAGE:
        issues.add("payments", f"more than {TRANSACTIONS_PAGE} transactions: not read whole")
    discounts: dict[int, Discount] = {}
    order_lines: list[OrderLine] = []
    for row in rows:
        quantity = Decimal(int(row["quantity"]))
        tax_lines = list(row.get("taxLines") or [])
        rate = _rate(tax_lines)
        tax = sum((_money(t.get("priceSet")) for t in tax_lines), Decimal(0))
        unit_shop = _money(row.get("originalUnitPriceSet"))
        gross_before = unit_shop * quantity  # the shop's basis, before discounts
        own = Decimal(0)  # this line's own discounts, shop basis
        shares: list[tuple[int, Decimal]] = []  # order-wide discounts allocated to this line
        for allocation in row.get("discountAllocations") or []:
            amount = _money(allocation.get("allocatedAmountSet"))
            index = int((allocation.get("discountApplication") or {}).get("index", -1))
            if _order_wide(applications.get(index)):
                shares.append((index, amount))
            else:
                own += amount
        spread = sum((a for _, a in shares), Decimal(0))
        after_all = gross_before - own - spread  # shop basis, after every discount
        net_after = after_all - tax if included else after_all
        # the order-wide discounts' tax-excluded and tax-included parts on this line
        for index, amount in shares:
            net_share = _net(amount, rate, included, quantum)
            gross_share = _gross(amount, rate, included, quantum)
            label, code = _application_label(applications[index])
            entry = discounts.setdefault(index, Discount(label, Decimal(0), Decimal(0), code))
            entry.amount += net_share
            entry.amount_tax_included += gross_share
        net_spread = sum((_net(a, rate, included, quantum) for _, a in shares), Decimal(0))
        gross_spread = sum((_gross(a, rate, included, quantum) for _, a in shares), Decimal(0))
        total = net_after + net_spread
        total_tax_included = net_after + tax + gross_spread
        unit = unit_shop / (1 + rate / 100) if included and rate else unit_shop
        if unit != unit.quantize(_UNIT, rounding=ROUND_CEILING):
            unit = unit.quantize(_UNIT, rounding=ROUND_CEILING)  # the sub-cent rest becomes the line discount
        sku = _text(row.get("sku"))
        if sku is None:
            issues.add(f"lines[{gid_number(row['id'])}].sku", "the line has no SKU")
        order_lines.append(
            OrderLine(
                line_id=gid_number(row["id"]),
                sku=sku,
                name=_text(row.get("name")) or "",
                quantity=quantity,
                unit_price=unit,
                vat_rate=rate,
                total=total,
                total_tax_included=total_tax_included,
                discount=quantity * unit - total,
                # the variant's gid, as the catalogue's bindings hold it (ShopRef.variant_ids)
                variant_id=(row.get("variant") or {}).get("id"),
            )
        )

    method, shipping, shipping_tti, shipping_rate = _shipping(payload, included, issues)
    total_tti = _money(payload.get("totalPriceSet"))
    order = Order(
        shop_id=shop_id,
        reference=_text(payload.get("name")) or shop_id,
        state=_state(payload),
        created_at=parse_time(payload["createdAt"]),
        updated_at=parse_time(payload.get("updatedAt") or payload["createdAt"]),
        currency=currency,
        customer=_customer(payload, issues),
        billing=_address(payload.get("billingAddress"), "billing", issues),
        shipping=_address(payload.get("shippingAddress"), "shipping", issues),
        lines=order_lines,
        total=total_tti - _money(payload.get("totalTaxSet")),
        total_tax_included=total_tti,
        shipping_method=method,
        shipping_price=shipping,
        shipping_price_tax_included=shipping_tti,
        shipping_vat_rate=shipping_rate,
        discounts=[discounts[i] for i in sorted(discounts)],
        payments=_payments(payload, total_tti),
        cancelled=bool(payload.get("cancelledAt")),
    )
    check_totals(order, issues, platform="Shopify", labels=("totalPriceSet - totalTaxSet", "totalPriceSet"))
    order.issues = issues.items
    return order


def _state(payload: Mapping[str, Any]) -> str:
    """Shopify's own words: ``cancelled``, else ``<financial>/<fulfillment>`` (``paid/fulfilled``)."""
    if payload.get("cancelledAt"):
        return "cancelled"
    financial = str(payload.get("displayFinancialStatus") or "pending").lower()
    return f"{financial}/{str(payload.get('displayFulfillmentStatus') or 'unfulfilled').lower()}"


def _shipping(
    payload: Mapping[str, Any], included: bool, issues: OrderIssues
) -> tuple[str | None, Decimal, Decimal, Decimal | None]:
    lines = list((payload.get("shippingLines") or {}).get("nodes") or [])
    price = tax = Decimal(0)
    rates: set[Decimal] = set()
    for line in lines:
        amount = _money(line.get("discountedPriceSet"))
        line_tax = sum((_money(t.get("priceSet")) for t in line.get("taxLines") or []), Decimal(0))
        price += amount
        tax += line_tax
        if amount:
            rates.add(_rate(list(line.get("taxLines") or [])))
    if len(rates) > 1:
        issues.add("shipping", "the shipping lines have different tax rates")
    rate = next(iter(rates)) if len(rates) == 1 else (Decimal(0) if not rates else None)
    excluded = price - tax if included else price
    titles = [t for t in (_text(line.get("title")) for line in lines) if t]
    return (", ".join(dict.fromkeys(titles)) or None), excluded, excluded + tax, rate


def _payments(payload: Mapping[str, Any], total: Decimal) -> list[Payment]:
    """Canonical payments from the transactions (see the module docstring)."""
    transactions = list(payload.get("transactions") or [])
    if not transactions:
        gateways = list(payload.get("paymentGatewayNames") or [])
        return [Payment(method=gateways[0] if gateways else "manual", amount=total, state="pending")]
    ok = [t for t in transactions if t.get("status") == "SUCCESS"]
    captured: dict[str, Decimal] = {}
    voided: set[str] = set()
    for t in ok:
        parent = (t.get("parentTransaction") or {}).get("id")
        if parent and t.get("kind") == "CAPTURE":
            captured[parent] = captured.get(parent, Decimal(0)) + _money(t.get("amountSet"))
        if parent and t.get("kind") == "VOID":
            voided.add(parent)
    result: list[Payment] = []
    for t in transactions:
        kind, status = t.get("kind"), t.get("status")
        amount = _money(t.get("amountSet"))
        method = _text(t.get("gateway")) or "manual"
        at = t.get("processedAt") or t.get("createdAt")
        ident = gid_number(t["id"]) if t.get("id") else None
        if kind not in {"SALE", "CAPTURE", "AUTHORIZATION", "REFUND"}:
            continue  # VOID, CHANGE, SUGGESTED_REFUND: no money moved by themselves
        if status in {"FAILURE", "ERROR"}:
            if kind in {"SALE", "AUTHORIZATION"}:
                result.append(Payment(method, amount, "declined", ident))
            continue
        if status != "SUCCESS":
            if kind in {"SALE", "CAPTURE", "AUTHORIZATION"}:
                result.append(Payment(method, amount, "pending", ident))
            continue
        if kind in {"SALE", "CAPTURE"}:
            result.append(Payment(method, amount, "settled", ident, parse_time(at) if at else None))
        elif kind == "REFUND":
            result.append(Payment(method, amount, "refunded", ident, parse_time(at) if at else None))
        elif kind == "AUTHORIZATION" and t.get("id") not in voided:
            held = amount - captured.get(str(t.get("id")), Decimal(0))
            if held > 0:
                result.append(Payment(method, held, "authorized", ident))
        elif kind == "AUTHORIZATION":
            result.append(Payment(method, amount, "cancelled", ident))
    return result
