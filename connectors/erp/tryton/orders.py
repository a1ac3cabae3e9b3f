"""Tryton as an order sink: a web order becomes one confirmed sale.sale, a payment a paid deposit.

Keys. The sale's ``reference`` (the customer's reference field) is ``"<shop>:<shop order id>"``
(``TrytonOrderSettings.shop``), never the human order code, which a shop may give two orders
made from one cart: that code goes to ``description``. The party carries the shop's customer id
as a ``party.identifier`` without type (Tryton 8.2 allows it and checks no format) whose code is
``"<shop>:<customer id>"``.

Customer. One search: the party with that identifier, else a party with that e-mail (a contact
mechanism of type email, compared case-insensitively), so a repeat buyer (or a guest who
ordered before) never becomes a second party; when found by e-mail it gets the identifier. Else
it is created with its name (the company name when there is one), e-mail, phone and addresses.
The VAT number (``eu_vat``) and SIRET (``fr_siret``, tied to the invoice address) are added in
calls of their own: Tryton validates them, and a refused number must not lose the order; it goes
to a note on the party, the sale's comment and ``order.issues``. An address equal to one of the
party's (street, postal code, city, country, recipient) is reused, otherwise created.

Lines. ``create`` runs no on_change, so everything Tryton's client would fill is written: the
product's sale unit, its customer taxes (those of its accounting category, so the taxes are
Tryton's own), the shop's tax-excluded unit price. A line-level discount is written as the net
unit price (price digits: 4), the shop's price and discount in the line's note: Tryton 8.2
without ``sale_discount`` has no discount field, ``sale_promotion`` itself lowers the unit price
the same way, and the margin per product stays right (a separate discount line would book it
against no product). Shipping is a line of the shipping service product at the shop's
tax-excluded price (``shipment_cost_method`` is None so Tryton adds no cost line of its own; the
carrier of that product, when there is one, still goes on the shipment). An order-level discount
is a negative line of the discount product per VAT group of the goods, shared in proportion of
their amounts, so each rate's base goes down as the shop's did; a shipping discount (told apart
by its tax-included amount, the canonical ``Discount`` does not say) is one line at the
shipping's taxes.

Totals. After ``quote`` (Tryton's promotions apply then) the sale's total is compared with the
shop's: a difference within ``total_tolerance`` becomes a line of the adjustment product (back to
draft, add, quote again); a larger one deletes the sale and refuses the order
(:class:`OrderRefused`, both totals in the reason). Then ``confirm`` (Tryton processes the sale:
deposit invoice, shipment). A sale left in draft or quotation by a run cut short is deleted and
made again; a confirmed (or later, even cancelled) one is returned as it is.

Deposit. An order with a payment in ``deposit_states`` gets the advance payment term (100 % of
the total, shipping blocked until paid): processing creates the deposit invoice (draft).
:meth:`TrytonOrders.record_payment` posts it and pays it with the pay wizard, the payment's
transaction id in the payment move's description, which makes it idempotent. Tryton's final
invoice then recalls the deposit with a negative line.

Calls per order: about 7 lookups once per connector (warehouse, service products, carriers,
terms, currencies, taxes; the payment method and countries when first needed); then 1 search of
an existing sale, 1 read of the products, 1 search of the party (a new one: +3, create, its
e-mail's id, its addresses; a known one: +1 when an address is new, +1 when it gets the shop id),
+1 per VAT number or SIRET, then create, quote, read, confirm (+4 with an adjustment): 7 for a
repeat buyer, 10 for a new one. ``record_payment``: 2 reads, post, the wizard (create, execute,
delete; +1 execute for a partial payment): 6; 2 when already recorded.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from connectors.base import ErpOrderRef
from connectors.erp.references import prefix_or_default
from connectors.erp.tryton.client import TrytonClient, TrytonError
from connectors.errors import Fatal, RecordError, Refused, Retryable, Skip
from connectors.models import Address, Order, OrderLine, Payment, currency_quantum, ensure_utc

if TYPE_CHECKING:
    from connectors.erp.tryton.catalogue import TrytonSettings

__all__ = [
    "IMPORTED_STATES",
    "OrderRefused",
    "TrytonOrderSettings",
    "TrytonOrders",
    "discount_shares",
    "net_unit_price",
    "total_adjustment",
]

# A sale in one of these states is the order, imported: never made again (a cancelled one was
# an operator's decision). Draft and quotation are steps of an import cut short.
IMPORTED_STATES = ["confirmed", "processing", "done", "cancelled"]
PRICE_QUANTUM = Decimal("0.0001")  # Tryton's default price digits (16, 4)
_SEARCH_CHUNK = 500
_SHIPPING = "<shipping>"  # key of the shipping line's taxes beside the line ids
K = TypeVar("K", bound=Hashable)


class OrderRefused(Refused):
    """Tryton cannot take this order as it is: the flow quarantines it with ``error``."""


def _rate_key(rate: Decimal) -> str:
    """A rate in percent as a key: "19" for 19.0000, "5.5" for 5.50."""
    return f"{rate.normalize():f}"


class TrytonOrderSettings(BaseModel):
    """How web orders become sales (``[connections.<name>.options.orders]``)."""

    model_config = ConfigDict(extra="forbid")
    shop: str = Field(default="", validate_default=True)
    """Prefix of the sale reference and of the customer identifier: ``"<shop>:<id>"``. Default: the
    connection's name (``connectors.erp.references``); two connections on one Tryton database
    cannot share it. Sales imported before 2026-07 carry ``vendure``: set it to keep them."""
    warehouse: str = "WH"
    """Code of the warehouse that ships web orders."""
    shipping_product: str = "SHIP-COLISSIMO"
    """Code of the service product of the shipping line."""
    shipping_products: dict[str, str] = Field(default_factory=dict)
    """Shop shipping method name -> service product code, when it is not ``shipping_product``."""
    discount_product: str = "WEB-DISCOUNT"
    placeholder_product: str | None = None
    """Code of the product a line gets when its shop variant is bound to no Tryton article (the
    shop's SKU and name go to the line's description and the sale's comment); None: such an
    order is refused (quarantined) until the catalogue binds the article. Its customer taxes are
    the line's: give it the VAT most web articles have (a different rate shows as a total
    difference, quarantined)."""
    adjustment_product: str = "WEB-ADJUST"
    """Service product of the rounding line (best without VAT: its amount is the difference)."""
    total_tolerance: Decimal = Decimal("0.05")
    """Largest difference between Tryton's total and the shop's made up by an adjustment line."""
    advance_payment_term: str = "Web order paid"
    """Name of the sale.advance_payment_term of orders paid online (the deposit invoice)."""
    deposit_states: list[str] = Field(default_factory=lambda: ["settled", "authorized"])
    """Payment states that give an order the advance payment term; others (cash on delivery,
    bank transfer) get Tryton's default terms and no deposit."""
    payment_term: str | None = None
    """Name of the payment term of the sales; None: Tryton's default customer payment term."""
    payment_method: str = "Card (web)"
    """Name of the account.invoice.payment.method that pays deposits."""
    payment_methods: dict[str, str] = Field(default_factory=dict)
    """Shop payment method -> Tryton payment method name, when it is not ``payment_method``."""
    vat_identifier_type: str = "eu_vat"
    siret_identifier_type: str = "fr_siret"
    destination_taxes: dict[str, dict[str, str]] = Field(default_factory=dict)
    """Destination country (ISO code) -> VAT rate the shop charged (percent) -> name of the Tryton
    tax a line shipped there at that rate gets instead of its product's customer taxes (EU OSS: a
    French shop charges German VAT on a parcel to Berlin). Example: ``{DE = {"19" = "DE VAT 19%
    (OSS)", "7" = "DE VAT 7% (OSS)"}}``."""
    vat_rate_tolerance: Decimal = Decimal("0.05")
    """Largest difference (percentage points) between the rate the shop charged on a line and its
    Tryton taxes' rate that is still the same tax; a larger one refuses the order unless
    ``destination_taxes`` maps it."""

    _shop = field_validator("shop", mode="before")(prefix_or_default)

    @field_validator("destination_taxes")
    @classmethod
    def _destinations(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        cleaned: dict[str, dict[str, str]] = {}
        for country, taxes in value.items():
            if not re.fullmatch(r"[A-Za-z]{2}", country):
                raise ValueError(f"destination_taxes: {country!r} is not a two-letter country code")
            for rate in taxes:
                try:
                    Decimal(rate)
                except ArithmeticError:
                    raise ValueError(f"destination_taxes.{country}: {rate!r} is not a rate in percent") from None
            cleaned[country.upper()] = {_rate_key(Decimal(r)): name for r, name in taxes.items()}
        return cleaned


# -- pure rules ---------------------------------------------------------------------------------


def net_unit_price(line: OrderLine) -> Decimal:
    """Tax-excluded unit price after the line's discount, to Tryton's price digits."""
    if not line.discount or not line.quantity:
        return line.unit_price.quantize(PRICE_QUANTUM, ROUND_HALF_UP)
    gross = line.unit_price * line.quantity
    return ((gross - line.discount) / line.quantity).quantize(PRICE_QUANTUM, ROUND_HALF_UP)


def discount_shares(amount: Decimal, bases: Mapping[K, Decimal], quantum: Decimal) -> dict[K, Decimal]:
    """Split ``amount`` over ``bases`` in proportion, rounded to ``quantum``; the last takes the rest.

    Used for an order-level discount over the VAT groups of the goods (French practice: a
    global discount lowers each rate's base pro rata).
    """
    keys = [k for k, base in bases.items() if base]
    total = sum((bases[k] for k in keys), Decimal(0))
    if not keys or not total:
        return {}
    shares: dict[K, Decimal] = {}
    left = amount
    for key in keys[:-1]:
        share = (amount * bases[key] / total).quantize(quantum, ROUND_HALF_UP)
        shares[key] = share
        left -= share
    shares[keys[-1]] = left
    return shares


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


def _person(first: str | None, last: str | None) -> str:
    return " ".join(p for p in (first, last) if p).strip()


def _like(value: str) -> str:
    """``value`` as an exact ``ilike`` pattern (Tryton escapes with a backslash)."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# -- the sink ---------------------------------------------------------------------------------


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
class _Party:
    id: int
    invoice_address: int
    shipment_address: int
    contact: int | None


class TrytonOrders:
    """``OrderSink`` over Tryton JSON-RPC (mixed into ``TrytonConnector``)."""

    client: TrytonClient
    settings: TrytonSettings
    _orders_setup: _Setup | None

    # -- OrderSink -------------------------------------------------------------------------------
    def find_orders(self, shop_refs: Sequence[str]) -> dict[str, ErpOrderRef]:
        """Imported sales (confirmed or later) of these shop order ids: one search per 500 ids."""
        wanted = {self._tag(ref): ref for ref in dict.fromkeys(shop_refs)}
        found: dict[str, ErpOrderRef] = {}
        tags = list(wanted)
        for start in range(0, len(tags), _SEARCH_CHUNK):
            rows = self.client.model("sale.sale").search_read(
                [("reference", "in", tags[start : start + _SEARCH_CHUNK]), ("state", "in", IMPORTED_STATES)],
                ["id", "number", "reference", "total_amount", "party"],
            )
            for row in rows:  # by id: the first sale of a reference wins
                found.setdefault(wanted[row["reference"]], _ref(row))
        return found

    def import_order(self, order: Order, products: Mapping[str, str]) -> ErpOrderRef:
        """Create the confirmed sale of ``order`` (see the module docstring); idempotent.

        Details Tryton refused without refusing the order (a VAT number) are appended to
        ``order.issues``.

        Raises:
            OrderRefused: an unbound or unknown article, an unknown currency, a total too far
                from the shop's, or Tryton refusing the sale.
            Fatal: the ``orders`` settings name something Tryton does not have.
        """
        sales = self.client.model("sale.sale")
        tag = self._tag(order.shop_id)
        existing = sales.search_read(
            [("reference", "=", tag)], ["id", "number", "reference", "total_amount", "party", "state"]
        )
        done = [r for r in existing if r["state"] in IMPORTED_STATES]
        if done:
            return _ref(done[0])
        self._discard([int(r["id"]) for r in existing])
        setup = self._setup()
        currency = setup.currencies.get(order.currency.upper())
        if currency is None:
            raise OrderRefused(RecordError(order.shop_id, "currency", f"Tryton has no currency {order.currency}"))
        notes: list[str] = []
        goods = self._products(order, products, setup, notes)
        self._countries(order, setup)
        taxes = self._line_taxes(order, goods, setup)
        try:
            party = self._party(order, setup, notes)
        except TrytonError as exc:  # a party detail not caught closer (each call names its field)
            raise _refusal(order, "customer", "the customer", exc) from exc
        values = self._sale_values(order, setup, currency, party, goods, taxes, notes)
        try:
            (sale_id,) = sales.create([values])
        except TrytonError as exc:
            raise _refusal(order, "sale", "the sale", exc) from exc
        try:
            row = self._quote(sale_id)
            try:
                difference = total_adjustment(
                    order.shop_id, row["total_amount"], order.total_tax_included, self.settings.orders.total_tolerance
                )
            except OrderRefused as refused:
                hints = _vat_mismatches(order, taxes, setup)
                if hints:
                    reason = f"{refused.error.reason}; VAT differs: {'; '.join(hints)}"
                    raise OrderRefused(replace(refused.error, reason=reason)) from None
                raise
            if difference:
                sales.draft([sale_id])
                sales.write([sale_id], {"lines": [["create", [self._adjustment_line(setup, difference, values)]]]})
                row = self._quote(sale_id)
            sales.confirm([sale_id])
        except (TrytonError, OrderRefused) as exc:
            self._discard([sale_id])
            if isinstance(exc, OrderRefused):
                raise
            raise _refusal(order, "sale", "the sale", exc) from exc
        return ErpOrderRef(
            erp_id=str(sale_id),
            reference=row["number"] or tag,
            total_tax_included=row["total_amount"],
            customer_id=str(party.id),
        )

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

    # -- sale ----------------------------------------------------------------------------------
    def _tag(self, shop_id: str) -> str:
        return f"{self.settings.orders.shop}:{shop_id}"

    def _quote(self, sale_id: int) -> dict[str, Any]:
        sales = self.client.model("sale.sale")
        sales.quote([sale_id])
        (row,) = sales.read([sale_id], ["id", "number", "reference", "total_amount", "party"])
        return row

    def _discard(self, ids: Sequence[int]) -> None:
        """Delete sales of an import cut short (draft, or quotation sent back to draft first)."""
        sales = self.client.model("sale.sale")
        try:
            rows = sales.read(list(ids), ["id", "state"]) if ids else []
            quoted = [r["id"] for r in rows if r["state"] == "quotation"]
            if quoted:
                sales.draft(quoted)  # a button refuses records in a state it does not leave
            removable = [r["id"] for r in rows if r["state"] in ("draft", "quotation")]
            if removable:
                sales.delete(removable)
        except TrytonError:
            pass  # best effort: the next import of this order finds and discards it again

    def _sale_values(
        self,
        order: Order,
        setup: _Setup,
        currency: int,
        party: _Party,
        goods: Mapping[str, dict[str, Any]],
        line_taxes: Mapping[str, tuple[int, ...]],
        notes: list[str],
    ) -> dict[str, Any]:
        opts = self.settings.orders
        quantum = currency_quantum(order.currency)
        lines: list[dict[str, Any]] = []
        bases: dict[tuple[int, ...], Decimal] = {}
        for line in order.lines:
            product = goods[line.line_id]
            price = net_unit_price(line)
            taxes = line_taxes[line.line_id]
            bases[taxes] = bases.get(taxes, Decimal(0)) + line.total
            values = _line(product, line.quantity, price, _line_description(line), taxes)
            if line.discount:
                values["note"] = f"Shop: {line.quantity} x {line.unit_price} - discount {line.discount}"
            lines.append(values)
        shipping = self._shipping_product(order, setup)
        shipping_taxes = line_taxes[_SHIPPING]
        if order.shipping_price or order.shipping_method:
            lines.append(
                _line(
                    shipping,
                    Decimal(1),
                    order.shipping_price.quantize(PRICE_QUANTUM, ROUND_HALF_UP),
                    order.shipping_method or shipping["rec_name"],
                    shipping_taxes,
                )
            )
        discount = setup.products[opts.discount_product]
        for item in order.discounts:
            label = (
                f"{item.description} ({item.code})"
                if item.code and item.code not in item.description
                else item.description
            )
            amount = abs(item.amount)
            shares = discount_shares(amount, bases, quantum) or {_taxes(discount): amount}
            # A shipping discount (free shipping) lowers the shipping's base, not the goods': the
            # shop's tax-included amount tells which one it reduced.
            on_shipping = {shipping_taxes: amount}
            if (
                order.shipping_price
                and amount <= order.shipping_price
                and _with_tax(on_shipping, setup.tax_rates, quantum) == abs(item.amount_tax_included)
                and _with_tax(shares, setup.tax_rates, quantum) != abs(item.amount_tax_included)
            ):
                shares = on_shipping
            for taxes, share in shares.items():
                rate = " + ".join(f"{(setup.tax_rates.get(t, Decimal(0)) * 100).normalize():f} %" for t in taxes)
                text = f"{label} (VAT {rate})" if len(shares) > 1 and rate else label
                lines.append(_line(discount, Decimal(1), -share, text, taxes))
        for sequence, values in enumerate(lines, start=1):
            values["sequence"] = sequence
        carrier = setup.carriers.get(shipping["id"])
        deposit = any(p.state in opts.deposit_states for p in order.payments)
        created = ensure_utc(order.created_at).astimezone(ZoneInfo(self.settings.timezone))
        comment = [f"Web order {order.reference} ({self._tag(order.shop_id)}), placed {created:%Y-%m-%d %H:%M %Z}."]
        comment += [
            f"Payment: {p.method} {p.state} {p.amount} {order.currency}"
            + (f", transaction {p.transaction_id}" if p.transaction_id else "")
            for p in order.payments
        ]
        comment += notes
        values = {
            "company": setup.company,
            "party": party.id,
            "invoice_address": party.invoice_address,
            "shipment_address": party.shipment_address,
            "contact": party.contact,
            "currency": currency,
            "warehouse": setup.warehouse,
            "reference": self._tag(order.shop_id),
            "description": order.reference,
            "sale_date": created.date(),
            "advance_payment_term": setup.advance_term if deposit else None,
            "carrier": carrier,
            "shipment_cost_method": None,  # the shop's shipping line, not Tryton's carrier price
            "comment": "\n".join(comment),
            "lines": [["create", lines]],
        }
        if setup.payment_term is not None:
            values["payment_term"] = setup.payment_term
        return values

    def _shipping_product(self, order: Order, setup: _Setup) -> dict[str, Any]:
        opts = self.settings.orders
        return setup.products[opts.shipping_products.get(order.shipping_method or "", opts.shipping_product)]

    def _line_taxes(
        self, order: Order, goods: Mapping[str, Mapping[str, Any]], setup: _Setup
    ) -> dict[str, tuple[int, ...]]:
        """The Tryton taxes of each line (by line id) and of the shipping (``_SHIPPING``): the tax
        ``destination_taxes`` maps the shipping country and the shop's rate to, else the product's
        customer taxes when their rate is the shop's (within ``vat_rate_tolerance``).

        Raises:
            OrderRefused: the shop charged another rate on a line with an amount, unmapped.
        """
        items: list[tuple[str, str, Mapping[str, Any], Decimal | None, Decimal]] = [
            (line.line_id, f"lines[{index}].vat_rate", goods[line.line_id], line.vat_rate, line.total)
            for index, line in enumerate(order.lines)
        ]
        shipping = self._shipping_product(order, setup)
        items.append((_SHIPPING, "shipping_vat_rate", shipping, order.shipping_vat_rate, order.shipping_price))
        address = order.shipping or order.billing
        country = (address.country or "").upper() if address else ""
        found: dict[str, tuple[int, ...]] = {}
        for key, field_name, product, rate, amount in items:
            own = _taxes(product)
            if rate is None:
                found[key] = own
                continue
            mapped = setup.destination_taxes.get((country, _rate_key(rate)))
            if mapped is not None:
                found[key] = (mapped,)
                continue
            tryton = _percent(own, setup)
            if abs(tryton - rate) <= self.settings.orders.vat_rate_tolerance or not amount:
                found[key] = own
                continue
            where = f" (shipped to {country})" if country else ""
            raise OrderRefused(
                RecordError(
                    order.shop_id,
                    field_name,
                    f"VAT differs: the shop charged {_rate_key(rate)} %{where}, the customer taxes of "
                    f"{product.get('code') or product['rec_name']} in Tryton are {_rate_key(tryton)} %; map the "
                    f"shop's rate to a Tryton tax with orders.destination_taxes.{country or '<country>'}."
                    f'"{_rate_key(rate)}" = "<tax name>", or correct the VAT of one of them',
                )
            )
        return found

    def _adjustment_line(self, setup: _Setup, difference: Decimal, sale: Mapping[str, Any]) -> dict[str, Any]:
        """A line of the adjustment product whose tax-included amount is ``difference``."""
        product = setup.products[self.settings.orders.adjustment_product]
        taxes = _taxes(product)
        rate = sum((setup.tax_rates.get(t, Decimal(0)) for t in taxes), Decimal(0))
        price = (difference / (1 + rate)).quantize(PRICE_QUANTUM, ROUND_HALF_UP)
        values = _line(product, Decimal(1), price, f"Rounding difference with the shop's total ({difference:+})", taxes)
        values["sequence"] = len(sale["lines"][0][1]) + 1
        return values

    def _products(
        self, order: Order, products: Mapping[str, str], setup: _Setup, notes: list[str]
    ) -> dict[str, dict[str, Any]]:
        """The product.product row of each line (one read), or the order is refused."""
        placeholder = self.settings.orders.placeholder_product
        found: dict[str, dict[str, Any]] = {}
        for index, line in enumerate(order.lines):
            if line.line_id in products:
                continue
            if placeholder is None:
                raise OrderRefused(
                    RecordError(order.shop_id, f"lines[{index}].sku", f"no ERP article bound to SKU {line.sku!r}")
                )
            found[line.line_id] = setup.products[placeholder]
            note = f"line {index + 1}: SKU {line.sku!r} ({line.name}) has no Tryton article: {placeholder} used"
            notes.append(note[0].upper() + note[1:] + ".")
            order.issues.append(RecordError(order.shop_id, f"lines[{index}].sku", note, check="placeholder"))
        ids = sorted({int(products[line.line_id]) for line in order.lines if line.line_id in products})
        rows = {
            r["id"]: r
            for r in self.client.model("product.product").search_read(
                [("id", "in", ids)], _PRODUCT_FIELDS, context={"active_test": False}
            )
        }
        for index, line in enumerate(order.lines):
            if line.line_id not in products:
                continue
            row = rows.get(int(products[line.line_id]))
            if row is None or not row.get("active", True):
                raise OrderRefused(
                    RecordError(
                        order.shop_id,
                        f"lines[{index}].sku",
                        f"Tryton product {products[line.line_id]} (SKU {line.sku!r}) is missing or inactive",
                    )
                )
            found[line.line_id] = row
        return found

    # -- customer ------------------------------------------------------------------------------
    def _party(self, order: Order, setup: _Setup, notes: list[str]) -> _Party:
        """The order's party, matched by shop customer id then e-mail, else created."""
        customer = order.customer
        parties = self.client.model("party.party")
        key = f"{self.settings.orders.shop}:{customer.shop_id}" if customer.shop_id else None
        email = customer.email.strip()
        clauses: list[Any] = []
        if key:
            clauses.append(("identifiers", "where", [("type", "=", None), ("code", "=", key)]))
        if email:
            clauses.append(("contact_mechanisms", "where", [("type", "=", "email"), ("value", "ilike", _like(email))]))
        rows = parties.search_read(["OR", *clauses], _PARTY_FIELDS) if clauses else []
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

    def _create_party(self, order: Order, name: str, notes: list[str]) -> tuple[int, int | None]:
        """Create the party (1 call); when Tryton refuses its e-mail or phone, without them."""
        customer = order.customer
        parties = self.client.model("party.party")
        base: dict[str, Any] = {"name": name}
        if customer.shop_id:
            key = f"{self.settings.orders.shop}:{customer.shop_id}"
            base["identifiers"] = [["create", [{"type": None, "code": key}]]]
        person = _person(customer.first_name, customer.last_name)
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
                    [{"resource": f"party.party,{party_id}", "message": f"Web order {order.reference}: {field_name}: {reason}"}]
                )
            except TrytonError:
                pass  # the sale's comment still says it

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

    # -- configuration -------------------------------------------------------------------------
    def _setup(self) -> _Setup:
        """Warehouse, service products, carriers, terms, currencies and tax rates: read once."""
        cached: _Setup | None = getattr(self, "_orders_setup", None)
        if cached is not None:
            return cached
        opts = self.settings.orders
        client = self.client
        warehouses = client.model("stock.location").search_read(
            [("type", "=", "warehouse"), ("code", "=", opts.warehouse)], ["id"]
        )
        if not warehouses:
            raise Fatal(
                f"Tryton has no warehouse with code {opts.warehouse!r}.",
                resolution="set orders.warehouse of the Tryton connection to the code of a warehouse.",
            )
        codes = sorted(
            {opts.shipping_product, opts.discount_product, opts.adjustment_product, *opts.shipping_products.values()}
            | ({opts.placeholder_product} if opts.placeholder_product else set())
        )
        rows = client.model("product.product").search_read([("code", "in", codes)], _PRODUCT_FIELDS)
        products = {r["code"]: r for r in rows}
        missing = [c for c in codes if c not in products]
        if missing:
            raise Fatal(
                f"Tryton has no product with code {', '.join(map(repr, missing))} (shipping, discount, adjustment, placeholder).",
                resolution="create these salable service products or set the orders.*_product codes of the "
                "Tryton connection.",
            )
        carriers = {
            int(r["carrier_product"]): int(r["id"])
            for r in client.model("carrier").search_read([], ["id", "carrier_product"])
            if r.get("carrier_product")
        }
        terms = client.model("sale.advance_payment_term").search_read(
            [("name", "=", opts.advance_payment_term)], ["id"]
        )
        if not terms:
            raise Fatal(
                f"Tryton has no advance payment term {opts.advance_payment_term!r}.",
                resolution="create it (Sales > Configuration > Advance Payment Terms) or set "
                "orders.advance_payment_term of the Tryton connection.",
            )
        payment_term = None
        if opts.payment_term is not None:
            found = client.model("account.invoice.payment_term").search_read([("name", "=", opts.payment_term)], ["id"])
            if not found:
                raise Fatal(
                    f"Tryton has no payment term {opts.payment_term!r}.",
                    resolution="set orders.payment_term to the name of a Tryton payment term, or leave it out.",
                )
            payment_term = int(found[0]["id"])
        currencies = {
            r["code"]: int(r["id"]) for r in client.model("currency.currency").search_read([], ["id", "code"])
        }
        rates = {
            int(r["id"]): r["rate"] or Decimal(0)
            for r in client.model("account.tax").search_read([("type", "=", "percentage")], ["id", "rate"])
        }
        destination: dict[tuple[str, str], int] = {}
        for country, mapping in opts.destination_taxes.items():
            for rate, name in mapping.items():
                taxes = client.model("account.tax").search_read([("name", "=", name)], ["id", "rate", "type"])
                if len(taxes) != 1 or taxes[0]["type"] != "percentage" or _rate_key(taxes[0]["rate"] * 100) != rate:
                    seen = ", ".join(f"{t['type']} {_rate_key((t['rate'] or Decimal(0)) * 100)} %" for t in taxes)
                    raise Fatal(
                        f'orders.destination_taxes.{country}."{rate}" names {name!r}: Tryton needs exactly one '
                        f"percentage tax of that name at {rate} % (found: {seen or 'none'}).",
                        resolution="create the tax in Tryton (Accounting > Taxes) or correct the name or rate "
                        "in the Tryton connection's orders settings.",
                    )
                destination[(country, rate)] = int(taxes[0]["id"])
        if not client.context:
            client.login()
        setup = _Setup(
            company=int(client.context["company"]),
            warehouse=int(warehouses[0]["id"]),
            products=products,
            carriers=carriers,
            advance_term=int(terms[0]["id"]),
            payment_term=payment_term,
            tax_rates=rates,
            currencies=currencies,
            destination_taxes=destination,
        )
        self._orders_setup = setup
        return setup


# -- mapping helpers ------------------------------------------------------------------------------

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
        or _person(customer.first_name, customer.last_name)
        or (_person(billing.first_name, billing.last_name) if billing else "")
        or customer.email
    )


def _address_values(address: Address, party_name: str, country: int | None) -> dict[str, Any]:
    street = "\n".join(s for s in (address.street, address.street2) if s)
    recipient = address.company or _person(address.first_name, address.last_name)
    if address.company and _person(address.first_name, address.last_name):
        recipient = f"{address.company}, {_person(address.first_name, address.last_name)}"
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
