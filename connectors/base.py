"""What a connector can do, split by capability.

A platform implements the protocols it supports; flows ask the registry for a capability and
get a clear ``Fatal`` when the configured platform lacks it. Connectors take explicit
arguments, never read the environment, and never import Prefect.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from connectors.errors import RecordError
from connectors.models import (
    Article,
    GroupPrice,
    InvoiceDocument,
    Order,
    OrderStatus,
    Payment,
    PriceRecord,
    Product,
    Promotion,
    Shipment,
    ShopRef,
    StockLevel,
)

__all__ = [
    "BatchResult",
    "DocumentLinkSink",
    "InvoiceSource",
    "StatusSink",
    "StatusSource",
    "StatusWrite",
    "CatalogueReader",
    "CatalogueSink",
    "CatalogueSource",
    "Closeable",
    "PriceCapabilities",
    "PriceReader",
    "PriceSink",
    "PriceSource",
    "PriceWrite",
    "ErpOrderRef",
    "OrderSink",
    "OrderSource",
    "ProductWrite",
    "ShopProductValues",
    "ShopVariantValues",
    "StockSink",
    "StockSource",
    "StockWrite",
]


@runtime_checkable
class Closeable(Protocol):
    def close(self) -> None: ...


@runtime_checkable
class CatalogueSource(Protocol):
    """An ERP (or export) that lists sellable articles."""

    def iter_articles(self) -> Iterator[Article]:
        """Every article the ERP sells (inactive ones with ``active=False`` or left out)."""
        ...


@dataclass(slots=True)
class ProductWrite:
    """One product to create or update in the shop, and exactly what to write.

    ``ref`` is None for a creation. ``product_fields`` names the product-level fields to write
    (every field on creation; only owned, changed ones on update, never create-only fields).
    ``create_variants`` / ``update_variants`` are variant keys of ``product.variants``;
    ``variant_fields`` names the variant fields to write on update (a created variant gets
    every field); ``disable_variants`` maps keys of variants gone from the ERP to their shop ids.
    """

    product: Product
    ref: ShopRef | None
    product_fields: frozenset[str]
    create_variants: list[str] = field(default_factory=list)
    update_variants: list[str] = field(default_factory=list)
    variant_fields: frozenset[str] = frozenset()
    disable_variants: dict[str, str] = field(default_factory=dict)
    keep_custom: frozenset[str] = frozenset()
    """Names of product custom fields not to write on this update (create-only ones: the shop keeps
    what it holds, whatever the product says), even when ``product_fields`` has ``custom_fields``."""
    keep_variant_custom: frozenset[str] = frozenset()
    """The same for the custom fields of updated variants."""
    manage_stock: bool = False
    """The stock flow owns the quantities of this connection: a variant created by this write is
    created with its stock managed by the shop and a quantity of 0 until the stock flow sends one
    (never sold without limit in between). Sinks whose shop manages stock always ignore it."""


@dataclass(slots=True)
class BatchResult:
    """What the shop answered for a batch: refs of the products it holds now, per-record errors."""

    refs: dict[str, ShopRef] = field(default_factory=dict)
    errors: list[RecordError] = field(default_factory=list)
    answers: dict[str, object] = field(default_factory=dict)
    notices: list[RecordError] = field(default_factory=list)
    """Records written, with something the operator must know (a tax-included price the shop cannot
    show to the cent): reported per record in the run's summary, never quarantined."""


@runtime_checkable
class CatalogueSink(Protocol):
    """A shop that receives products with variants."""

    platform: str

    def find_products(self, products: Sequence[Product]) -> dict[str, ShopRef]:
        """Products (and their variants) already in the shop, found by the platform's natural
        identity (slug, reference, SKU). This is how a run killed after the shop wrote but
        before the state store did adopts what it created instead of creating it twice."""
        ...

    def write_products(self, writes: Sequence[ProductWrite]) -> BatchResult:
        """Create or update a batch of products; a refused product is an error, not an exception."""
        ...

    def archive_products(self, refs: dict[str, ShopRef]) -> BatchResult:
        """Disable (never delete) products gone from the ERP."""
        ...


@dataclass(frozen=True, slots=True)
class ShopVariantValues:
    """What a shop variant holds now, in canonical terms (a dry run compares it with the ERP's).

    ``price`` is in the shop's basis: tax-included when ``price_includes_tax``; ``options`` maps the
    shop's option group names to option names; ``tax_category`` is the shop's tax category name."""

    variant_id: str
    sku: str | None
    name: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    price_includes_tax: bool = False
    enabled: bool | None = None
    tax_category: str | None = None
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ShopProductValues:
    """What a shop product holds now, in canonical terms. ``categories`` are the category paths
    the product is in (``("Clothing", "T-shirts")``), sorted; None: the shop's are not read."""

    product_id: str
    name: str | None = None
    slug: str | None = None
    description: str | None = None
    enabled: bool | None = None
    categories: tuple[tuple[str, ...], ...] | None = None
    variants: tuple[ShopVariantValues, ...] = ()


@runtime_checkable
class CatalogueReader(Protocol):
    """Optional: a catalogue sink that can read back what its products hold (for the dry run's
    per-field diff). Read only: never writes."""

    def read_products(self, product_ids: Sequence[str]) -> dict[str, ShopProductValues]:
        """The products with these shop ids, by id; one the shop no longer holds is left out."""
        ...


# -- stock and prices -------------------------------------------------------------------------


@runtime_checkable
class StockSource(Protocol):
    """An ERP (or export) that knows quantities per warehouse."""

    def warehouses(self) -> list[str]:
        """Codes of the warehouses the ERP knows (to refuse a configuration naming another one)."""
        ...

    def iter_stock(self, warehouses: Sequence[str]) -> Iterator[StockLevel]:
        """One level per stocked article and warehouse of ``warehouses`` (codes). An article
        absent from a warehouse has nothing there (it counts as 0)."""
        ...


@runtime_checkable
class PriceSource(Protocol):
    """An ERP (or export) that knows selling prices, promotions and customer-group prices."""

    def iter_prices(self, groups: Sequence[str]) -> Iterator[PriceRecord]:
        """One record per sellable article: base price, promotions, and the prices of the
        customer groups (ERP price lists) named in ``groups``."""
        ...


@dataclass(frozen=True, slots=True)
class StockWrite:
    """Set the saleable quantity of one shop variant (at one shop stock location; None: the default)."""

    key: str
    variant_id: str
    quantity: int
    location: str | None = None


@runtime_checkable
class StockSink(Protocol):
    platform: str

    def read_stock(
        self, variant_ids: Sequence[str], locations: Sequence[str | None]
    ) -> dict[tuple[str, str | None], int]:
        """Saleable quantities the shop holds now, by (variant id, location): for drift repair."""
        ...

    def write_stock(self, writes: Sequence[StockWrite]) -> BatchResult:
        """Set quantities (absolute, never deltas: a retried write is harmless); a refused
        variant is a RecordError, the others are written."""
        ...


@dataclass(frozen=True, slots=True)
class PriceCapabilities:
    """What a shop can hold besides one base price per variant."""

    promotion_dates: bool = False
    """The shop schedules a promotional price between two dates itself (else the flow sends the
    price in force at run time, and the change of price when the promotion starts or ends)."""
    group_prices: bool = False
    """The shop has prices per customer group."""
    prices_include_tax: bool = False
    owned_groups: frozenset[str] = frozenset()
    """Customer groups whose prices the sink replaces whole: a group price a write no longer carries
    is deleted from the shop (Shopify's mapped B2B price lists). The flow refuses to run when one of
    them is not among the groups it reads (``[prices] groups``), since every price of that group
    would then be deleted."""


@dataclass(frozen=True, slots=True)
class PriceWrite:
    """The prices of one shop variant, tax-excluded, in ``currency``.

    ``price`` is the price to show now (the promotion's when one is in force and the shop cannot
    schedule it); ``regular_price`` is the base price; ``promotion`` is set only for shops that
    schedule promotions; ``group_prices`` only for shops that have them.
    """

    key: str
    variant_id: str
    price: Decimal
    currency: str
    vat_rate: Decimal | None = None
    regular_price: Decimal | None = None
    promotion: Promotion | None = None
    group_prices: tuple[GroupPrice, ...] = ()
    converted: bool = False
    """The amounts were converted from tax-included ERP prices: the sink rounds them to what the shop
    stores (the currency's cents for most; PrestaShop keeps six decimals, so that the shop shows the
    ERP's tax-included price exactly)."""


@runtime_checkable
class PriceSink(Protocol):
    platform: str

    @property
    def price_capabilities(self) -> PriceCapabilities: ...

    def write_prices(self, writes: Sequence[PriceWrite]) -> BatchResult:
        """Set the prices of a batch of variants; a refused variant is a RecordError."""
        ...


@runtime_checkable
class PriceReader(Protocol):
    """Optional: a price sink that can read the prices its variants hold (for the dry run's diff)."""

    def read_prices(self, variant_ids: Sequence[str]) -> dict[str, ShopVariantValues]:
        """The variants' current prices (``price``, ``currency``, ``price_includes_tax``), by
        variant id; a variant the shop no longer holds is left out. Read only."""
        ...


# -- orders (shop -> ERP) ---------------------------------------------------------------------


@runtime_checkable
class OrderSource(Protocol):
    """A shop whose orders are imported into the ERP."""

    platform: str

    def iter_orders(self, since: datetime | None, until: datetime | None) -> Iterator[Order]:
        """Orders modified in ``[since, until)`` (aware UTC; None: open end), oldest first, read
        with the shop's own clock and time zone; orders still in the cart are left out."""
        ...

    def get_orders(self, shop_ids: Sequence[str]) -> list[Order]:
        """These orders (backfill by id); an unknown id is left out."""
        ...


@dataclass(frozen=True, slots=True)
class ErpOrderRef:
    """The ERP document an imported order became, and the ERP's own total for the comparison."""

    erp_id: str
    reference: str
    total_tax_included: Decimal
    customer_id: str | None = None


@runtime_checkable
class OrderSink(Protocol):
    """An ERP that receives web orders.

    Two optional methods let an ERP do a batch's work in fewer calls (the flow uses them when
    present; ``connectors/erp/tryton`` has both): ``import_orders(items: Sequence[tuple[Order,
    Mapping[str, str]]]) -> list[ErpOrderRef | RecordError]`` (one answer per order, as
    :meth:`import_order` would give, a refusal as its ``RecordError``), and
    ``prepare_payments(items: Sequence[tuple[ErpOrderRef, Payment]]) -> int`` (what each
    :meth:`record_payment` would do first, for all: Tryton posts the deposit invoices in one call).
    """

    platform: str

    def find_orders(self, shop_refs: Sequence[str]) -> dict[str, ErpOrderRef]:
        """ERP orders already carrying these shop references (the reconciliation of a claim
        cut off between the ERP write and the state write)."""
        ...

    def import_order(self, order: Order, products: Mapping[str, str]) -> ErpOrderRef:
        """Create the ERP order (customer matched or created, addresses, lines, shipping,
        discounts, taxes), confirmed, with ``order.reference`` and ``order.shop_id`` stored on it
        so :meth:`find_orders` finds it. ``products`` maps ``OrderLine.line_id`` -> ERP article
        key (from the catalogue bindings); a line missing from it is refused unless the ERP
        connector has a placeholder article configured. Idempotent: an order already there is
        returned as it is.

        Raises:
            Refused: the ERP will not take this order as it is (unknown article, totals too far
                apart...): the flow quarantines it with ``error``.
        """
        ...

    def record_payment(self, erp: ErpOrderRef, payment: Payment) -> str:
        """Register a settled payment of an imported order (a deposit invoice, posted and paid,
        or whatever the ERP has for it); returns the id of what was recorded. Idempotent: a
        payment already recorded returns the same id.

        Raises:
            Skip: nothing to record for this payment (not settled; an order imported unpaid,
                whose payment the ERP registers on its final invoice).
            Retryable: the ERP is not ready yet (the deposit invoice is not there so far).
        """
        ...


# -- status feedback and invoices (ERP -> shop) -------------------------------------------------


@runtime_checkable
class StatusSource(Protocol):
    """An ERP that tells what became of the web orders imported into it."""

    platform: str

    def iter_statuses(
        self, since: datetime | None, shop_order_ids: Sequence[str] | None = None
    ) -> Iterator[OrderStatus]:
        """Statuses of imported web orders whose ERP documents (order, shipments, invoices)
        changed at or after ``since`` (aware UTC; None: all), or of these shop orders only;
        oldest change first. Orders not imported from the shop are left out."""
        ...


@dataclass(frozen=True, slots=True)
class StatusWrite:
    """Move one shop order to ``status``, with its new shipments; ``notify``: the shop tells the customer."""

    shop_order_id: str
    status: str
    shipments: tuple[Shipment, ...] = ()
    notify: bool = True
    language: str = "en"
    """The language of what the customer reads (``connectors.shop.notes.CUSTOMER_TEXTS``)."""


@runtime_checkable
class StatusSink(Protocol):
    """A shop whose orders follow the ERP's statuses."""

    platform: str

    def read_statuses(self, shop_order_ids: Sequence[str]) -> dict[str, str]:
        """The canonical status of these shop orders now (``ORDER_STATUSES`` or ``"open"``);
        unknown ids are left out. The flow never moves an order backwards from what this says."""
        ...

    def write_statuses(self, writes: Sequence[StatusWrite]) -> BatchResult:
        """Apply the writes (shipments with carrier and tracking first, then the status);
        idempotent: a shipment already there (same tracking number) is not added again.
        A refused order is a RecordError, the others are written."""
        ...


@runtime_checkable
class InvoiceSource(Protocol):
    """An ERP that issues the invoices and credit notes of imported web orders."""

    platform: str

    def iter_invoices(
        self, since: datetime | None, shop_order_ids: Sequence[str] | None = None
    ) -> Iterator[InvoiceDocument]:
        """Posted invoices and credit notes of imported web orders, posted at or after ``since``."""
        ...

    def render_pdf(self, invoice: InvoiceDocument) -> bytes:
        """The document as the customer gets it (PDF bytes).

        Raises:
            Refused: the ERP cannot render it (the reason says why).
        """
        ...


@runtime_checkable
class DocumentLinkSink(Protocol):
    """A shop that can show the customer a link on their order (a public note, a document field)."""

    platform: str

    def link_document(self, shop_order_id: str, title: str, url: str, *, key: str) -> str:
        """Show ``title`` -> ``url`` to the customer on the order; idempotent on ``key`` (a link
        already there with that key is not added again, its id is returned)."""
        ...
