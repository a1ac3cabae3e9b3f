"""Canonical records: the one language every connector translates to and from.

Rules that hold for every record here:
- money is ``Decimal`` with an explicit ISO 4217 currency; never float;
- tax rates are ``Decimal`` percentages (``Decimal("5.5")`` is 5.5 %);
- timestamps are timezone-aware UTC ``datetime``;
- countries are ISO 3166-1 alpha-2 codes.

Records are plain dataclasses: connectors build them, pure functions transform them, and
``to_jsonable`` turns them into the JSON written to snapshots and hashed for change detection.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connectors.errors import RecordError

__all__ = [
    "Address",
    "Article",
    "Customer",
    "Discount",
    "Order",
    "OrderLine",
    "Payment",
    "GroupPrice",
    "PriceRecord",
    "Product",
    "Promotion",
    "ShopRef",
    "StockLevel",
    "Variant",
    "content_hash",
    "currency_quantum",
    "from_minor_units",
    "ensure_utc",
    "ShopPrice",
    "shop_price",
    "minor_units",
    "person_name",
    "slugify",
    "to_jsonable",
]

# ISO 4217 minor units of the currencies merchants in our markets use; others default to 2.
_MINOR_UNITS = {"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "HUF": 2, "BHD": 3, "KWD": 3, "TND": 3}


def minor_units(amount: Decimal, currency: str) -> int:
    """Amount in the currency's minor unit (cents), refusing to silently round.

    Raises:
        ValueError: when the amount has more decimals than the currency allows.
    """
    exponent = _MINOR_UNITS.get(currency.upper(), 2)
    scaled = amount.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} {currency} has more than {exponent} decimals")
    return int(scaled)


def currency_quantum(currency: str) -> Decimal:
    """The smallest amount of ``currency``: ``Decimal("0.01")`` for EUR, ``Decimal("1")`` for JPY."""
    return Decimal(1).scaleb(-_MINOR_UNITS.get(currency.upper(), 2))


def from_minor_units(value: int, currency: str) -> Decimal:
    """Inverse of :func:`minor_units`."""
    exponent = _MINOR_UNITS.get(currency.upper(), 2)
    return Decimal(value).scaleb(-exponent)


@dataclass(frozen=True, slots=True)
class ShopPrice:
    """An ERP price converted to the basis a shop stores (tax-included or tax-excluded).

    ``amount`` is what the shop receives (rounded to what it stores); ``shown`` is the tax-included
    price its customers will see (rounded to the currency); ``exact`` is False when ``shown`` is
    not the ERP's own tax-included price: a tax-excluded shop cannot always reach a tax-included
    price to the cent (19.99 at 20 % needs 16.658333...; 16.66 shows 19.99, but 29.95 at 5.5 %
    has no two-decimal net price that gives it back).
    """

    amount: Decimal
    shown: Decimal
    exact: bool
    wanted: Decimal

    def notice(self, key: str, currency: str, vat_rate: Decimal | None) -> RecordError:
        """The per-record notice when ``exact`` is False (the record is written, not refused)."""
        rate = format(vat_rate.normalize(), "f") if vat_rate is not None else "?"
        return RecordError(
            key,
            "price",
            f"the ERP's tax-included price {self.wanted} {currency} cannot be reached on a tax-excluded shop at "
            f"{rate} % VAT: the shop shows {self.shown} ({self.amount} excluding tax); let the shop store "
            "tax-included prices for this currency (docs/platforms.md)",
            check="price_rounding",
        )


def shop_price(
    amount: Decimal,
    vat_rate: Decimal | None,
    *,
    tax_included: bool,
    shop_includes_tax: bool,
    currency: str,
    places: int | None = None,
) -> ShopPrice:
    """``amount`` (tax-included when ``tax_included``) in the shop's basis.

    ``places`` is how many decimals the shop stores (None: the currency's, 2 for EUR; PrestaShop
    stores 6). A conversion rounds half-up; the tax-included price the customer sees is rounded to
    the currency, as shops display it.

    No ``vat_rate`` counts as no tax (the catalogue's quality gate refuses articles without one).
    """
    quantum = currency_quantum(currency)
    stored = quantum if places is None else Decimal(1).scaleb(-places)
    if tax_included == shop_includes_tax:
        shown = amount if tax_included else _with_tax(amount, vat_rate, quantum)
        return ShopPrice(amount=amount, shown=shown, exact=True, wanted=shown)
    factor = 1 + (vat_rate or Decimal(0)) / Decimal(100)
    if tax_included:  # a tax-included ERP price on a tax-excluded shop
        net = (amount / factor).quantize(stored, rounding=ROUND_HALF_UP)
        shown = (net * factor).quantize(quantum, rounding=ROUND_HALF_UP)
        return ShopPrice(amount=net, shown=shown, exact=shown == amount, wanted=amount)
    gross = (amount * factor).quantize(stored, rounding=ROUND_HALF_UP)
    shown = gross.quantize(quantum, rounding=ROUND_HALF_UP)
    return ShopPrice(amount=gross, shown=shown, exact=True, wanted=shown)


def _with_tax(amount: Decimal, vat_rate: Decimal | None, quantum: Decimal) -> Decimal:
    if vat_rate is None:
        return amount
    return (amount * (1 + vat_rate / Decimal(100))).quantize(quantum, rounding=ROUND_HALF_UP)


def slugify(text: str) -> str:
    """ASCII, lowercase, dash-separated: "Tee-shirt Été" -> "tee-shirt-ete"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def ensure_utc(value: datetime) -> datetime:
    """Aware UTC datetime; a naive value is refused rather than guessed."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: a timezone is required")
    return value.astimezone(timezone.utc)


@dataclass(slots=True)
class Article:
    """One sellable item as the ERP lists it: flat, before variant grouping.

    ``key`` is the ERP's stable identity (Tryton product id, or the SKU for file exports);
    ``tax_included`` says whether ``price`` includes ``vat_rate`` (every source sets it: Tryton's
    list price excludes tax, an export's price column says so in its settings);
    ``attribute_labels`` gives the display name of each attribute code ("colour" -> "Couleur");
    ``issues`` carries what the connector could not parse, so the quality gate quarantines the
    record with the field and reason instead of the whole run failing.
    """

    key: str
    sku: str | None
    name: str | None
    description: str | None = None
    ean: str | None = None
    price: Decimal | None = None
    currency: str = "EUR"
    vat_rate: Decimal | None = None
    weight: Decimal | None = None
    group_key: str | None = None
    group_name: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    attribute_labels: dict[str, str] = field(default_factory=dict)
    tax_included: bool = False
    fields: dict[str, str] = field(default_factory=dict)
    images: tuple[str, ...] = ()
    active: bool = True
    updated_at: datetime | None = None
    issues: list[RecordError] = field(default_factory=list)


@dataclass(slots=True)
class Variant:
    """One purchasable variant of a shop product (a Vendure variant, a PrestaShop combination...).

    ``price`` is the ERP's, tax-included when ``tax_included`` (then ``vat_rate`` says which tax):
    each shop sink converts it with :func:`shop_price` to the basis the shop stores.
    """

    key: str
    sku: str
    name: str
    price: Decimal
    currency: str
    options: dict[str, str] = field(default_factory=dict)
    ean: str | None = None
    vat_rate: Decimal | None = None
    tax_category: str | None = None
    weight: Decimal | None = None
    enabled: bool = True
    custom_fields: dict[str, Any] = field(default_factory=dict)
    tax_included: bool = False


@dataclass(slots=True)
class Product:
    """A shop product: one lone article, or a group of articles that differ by options.

    ``option_groups`` are the attribute codes the variants differ by (the keys of
    ``Variant.options``); ``option_labels`` their display names for customers (code -> label;
    a code without a label is shown as it is).
    """

    key: str
    name: str
    slug: str
    variants: list[Variant]
    option_groups: list[str] = field(default_factory=list)
    option_labels: dict[str, str] = field(default_factory=dict)
    description: str | None = None
    categories: list[tuple[str, ...]] = field(default_factory=list)
    images: tuple[str, ...] = ()
    enabled: bool = True
    custom_fields: dict[str, Any] = field(default_factory=dict)

    def option_label(self, code: str) -> str:
        """What customers read for the attribute ``code`` ("colour" -> "Couleur")."""
        return self.option_labels.get(code) or code


@dataclass(frozen=True, slots=True)
class ShopRef:
    """Where a canonical record lives in the shop: the product id and one id per variant key."""

    product_id: str
    variant_ids: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class StockLevel:
    """Quantities of one article in one ERP warehouse, in the article's sale unit.

    ``reserved`` is what the ERP already promised (confirmed orders not shipped yet); the
    stock rules subtract it, with a safety stock, before anything reaches the shop.
    """

    key: str
    sku: str | None
    warehouse: str
    on_hand: Decimal
    reserved: Decimal = Decimal(0)
    updated_at: datetime | None = None
    issues: list[RecordError] = field(default_factory=list)


@dataclass(slots=True)
class Promotion:
    """A promotional price of one article, valid in ``[starts_at, ends_at)`` (open ends allowed).

    ``price`` is in the same tax basis and currency as the record's base price.
    """

    price: Decimal
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    name: str | None = None


@dataclass(slots=True)
class GroupPrice:
    """The price of one article for a customer group (an ERP price list), from ``min_quantity`` up."""

    group: str
    price: Decimal
    min_quantity: Decimal = Decimal(1)


@dataclass(slots=True)
class PriceRecord:
    """Every price of one article as the ERP states it.

    ``price`` is the base selling price; ``tax_included`` says whether it includes ``vat_rate``
    (ERPs usually store tax-excluded prices; the shop sink converts to the shop's basis).
    """

    key: str
    sku: str | None
    price: Decimal | None
    currency: str
    vat_rate: Decimal | None = None
    tax_included: bool = False
    promotions: list[Promotion] = field(default_factory=list)
    group_prices: list[GroupPrice] = field(default_factory=list)
    updated_at: datetime | None = None
    issues: list[RecordError] = field(default_factory=list)


# -- orders (shop -> ERP) ----------------------------------------------------------------------


@dataclass(slots=True)
class Address:
    """A postal address as the customer typed it (country: ISO 3166-1 alpha-2)."""

    first_name: str | None
    last_name: str | None
    street: str
    postal_code: str
    city: str
    country: str
    street2: str | None = None
    company: str | None = None
    phone: str | None = None


def person_name(first: str | None, last: str | None) -> str:
    """ "First Last" of a person's names, either may be missing ("" when both are)."""
    return " ".join(p for p in (first, last) if p).strip()


@dataclass(slots=True)
class Customer:
    """Who ordered. ``shop_id`` is None for a guest checkout; ``email`` is always there."""

    email: str
    shop_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    vat_number: str | None = None
    siret: str | None = None
    phone: str | None = None

    @property
    def guest(self) -> bool:
        return self.shop_id is None


@dataclass(slots=True)
class OrderLine:
    """One ordered variant. Amounts are per the shop, in the order's currency.

    ``unit_price`` is tax-excluded before discounts; ``discount`` is the tax-excluded discount the
    shop applied to the whole line; ``total`` = quantity x unit_price - discount (tax-excluded).
    """

    line_id: str
    sku: str | None
    name: str
    quantity: Decimal
    unit_price: Decimal
    vat_rate: Decimal | None
    total: Decimal
    total_tax_included: Decimal
    discount: Decimal = Decimal(0)
    variant_id: str | None = None


@dataclass(slots=True)
class Discount:
    """An order-level discount (coupon, promotion) as the shop applied it, tax-excluded and included."""

    description: str
    amount: Decimal
    amount_tax_included: Decimal
    code: str | None = None


@dataclass(slots=True)
class Payment:
    """A payment of the order. ``state``: ``settled`` (money taken), ``authorized`` (held, not
    captured), ``pending`` (bank transfer, cash on delivery: not paid yet), ``declined``,
    ``cancelled`` or ``refunded``."""

    method: str
    amount: Decimal
    state: str
    transaction_id: str | None = None
    paid_at: datetime | None = None


@dataclass(slots=True)
class Order:
    """A web order as the shop holds it: what the ERP must receive exactly once.

    ``shop_id`` is the shop's own unique id (two orders can share a reference when a shop makes
    two orders from one cart: never deduplicate on ``reference`` alone). Times are aware UTC.
    Totals are the shop's: the ERP's computed total is compared with ``total_tax_included``.
    """

    shop_id: str
    reference: str
    state: str
    created_at: datetime
    updated_at: datetime
    currency: str
    customer: Customer
    billing: Address | None
    shipping: Address | None
    lines: list[OrderLine]
    total: Decimal
    total_tax_included: Decimal
    shipping_method: str | None = None
    shipping_price: Decimal = Decimal(0)
    shipping_price_tax_included: Decimal = Decimal(0)
    shipping_vat_rate: Decimal | None = None
    discounts: list[Discount] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    cancelled: bool = False
    """The shop cancelled the order (``state`` is the shop's own word for it)."""
    issues: list[RecordError] = field(default_factory=list)

    @property
    def paid_amount(self) -> Decimal:
        """What the customer actually paid (settled payments, minus refunds)."""
        paid = sum((p.amount for p in self.payments if p.state == "settled"), Decimal(0))
        return paid - sum((p.amount for p in self.payments if p.state == "refunded"), Decimal(0))


# -- status feedback and invoices (ERP -> shop) -------------------------------------------------

ORDER_STATUSES = ("processing", "shipped", "delivered", "cancelled", "refunded")
"""Canonical order statuses sent back to the shop, in the order an order goes through them
(``cancelled`` and ``refunded`` end it from any earlier status)."""

STATUS_PROGRESS = ("open", "processing", "shipped", "delivered")
"""The canonical statuses an order goes through, in order (``open``: placed, nothing done yet)."""

FINAL_STATUSES = frozenset({"cancelled", "refunded"})
"""Statuses that end an order: nothing is sent over them."""


def status_rank(status: str | None) -> int:
    """How far along :data:`STATUS_PROGRESS` ``status`` is (0 for ``open`` and anything unknown)."""
    return STATUS_PROGRESS.index(status) if status in STATUS_PROGRESS else 0


def moves_forward(before: str | None, target: str) -> bool:
    """Whether sending ``target`` to an order at ``before`` moves it on, never back: one of the
    :data:`FINAL_STATUSES` ends any order not already ended; the others must rank higher."""
    if before in FINAL_STATUSES:
        return False
    return target in FINAL_STATUSES or status_rank(target) > status_rank(before)


@dataclass(slots=True)
class ShipmentLine:
    """A quantity of one ordered article in a shipment (``sku`` as the shop knows it)."""

    sku: str
    quantity: Decimal


@dataclass(slots=True)
class Shipment:
    """One parcel the ERP shipped for an order."""

    erp_id: str
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    lines: list[ShipmentLine] = field(default_factory=list)
    """What the parcel holds; empty: everything not shipped yet."""


@dataclass(slots=True)
class OrderStatus:
    """What the ERP says of one imported web order now.

    ``shop_order_id`` is the shop's id, read back from the ERP document's shop reference;
    ``status`` one of :data:`ORDER_STATUSES`; ``changed_at`` when the ERP last changed it (aware UTC).
    """

    shop_order_id: str
    erp_reference: str
    status: str
    changed_at: datetime
    shipments: list[Shipment] = field(default_factory=list)
    issues: list[RecordError] = field(default_factory=list)


@dataclass(slots=True)
class InvoiceDocument:
    """A posted invoice or credit note of an imported web order, to put in the customer's space."""

    erp_id: str
    number: str
    kind: str
    """``invoice`` or ``credit_note``."""
    shop_order_id: str
    posted_at: datetime
    currency: str
    total_tax_included: Decimal
    issues: list[RecordError] = field(default_factory=list)


def to_jsonable(value: Any) -> Any:
    """JSON-safe copy of canonical records: Decimal and datetimes as strings, tuples as lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return ensure_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def _canonical(value: Any) -> Any:
    """JSON form where equal amounts hash equally (``19.9`` and ``19.90``)."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value.is_finite() else str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return to_jsonable(value)


def content_hash(value: Any) -> str:
    """Stable SHA-256 of a record (sorted keys, normalised amounts), used to detect changes."""
    payload = json.dumps(_canonical(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()
