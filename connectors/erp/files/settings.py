"""Settings of the files ERP (``[connections.<name>.erp]``): the article export, and one section
per other export or folder (stock, prices, shipments, invoices, order files). Pydantic models
only, so the connector's modules import them and none imports another's settings."""

from __future__ import annotations

import codecs
import re
import string
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connectors.erp.files.reader import ExportFormat
from connectors.erp.files.values import fold
from connectors.erp.references import prefix_or_default
from connectors.models import ORDER_STATUSES
from connectors.timezones import TimeZoneName

__all__ = [
    "CONNECTOR_SETTINGS",
    "DEFAULT_STATUSES",
    "ArticleColumns",
    "FilesSettings",
    "GroupPriceColumns",
    "GroupPriceFileSettings",
    "InvoiceColumns",
    "InvoiceExportSettings",
    "OrderColumns",
    "OrderExportSettings",
    "PriceColumns",
    "PriceFileSettings",
    "References",
    "RowTypes",
    "ShipmentColumns",
    "ShipmentExportSettings",
    "StockColumns",
    "StockFileSettings",
]


References = Literal["any", "prefixed"]
"""``any``: every row is a web order's (``<shop>:<id>`` or the bare shop order id);
``prefixed``: the export lists other documents too, only ``<shop>:``-prefixed references are web orders."""


DEFAULT_STATUSES = {
    "expédié": "shipped",
    "expédiée": "shipped",
    "livré": "delivered",
    "livrée": "delivered",
    "annulé": "cancelled",
    "annulée": "cancelled",
    "en préparation": "processing",
}
"""Status cell -> canonical status (case and accents are ignored when matching)."""


class ShipmentColumns(BaseModel):
    """Export column (CSV header, XML child tag or ``@attribute``) of each shipment field."""

    model_config = ConfigDict(extra="forbid")
    order: str = "reference"
    """The web order: ``vendure:42`` as the order file carried it, or the shop order id."""
    delivery: str = "delivery"
    """The delivery note's number (bon de livraison): one shipment per number."""
    date: str = "date"
    """The ship date (date, or date and time)."""
    carrier: str | None = "carrier"
    tracking_number: str | None = "tracking_number"
    tracking_url: str | None = None
    sku: str | None = "sku"
    quantity: str | None = "quantity"
    status: str | None = None
    """Unset, or an empty cell: the row is shipped."""
    delivered_date: str | None = None
    erp_reference: str | None = None
    """The ERP's own order number, shown in the flow's summary; unset: the reference."""


class ShipmentExportSettings(ExportFormat):
    """Where the shipments export is and how to read it (``[connections.<name>.erp.shipments]``)."""

    path: str
    """A file, or a glob (``exports/livraisons_*.csv``): every match is read, in name order."""
    record_tag: str = "Shipment"
    columns: ShipmentColumns = Field(default_factory=ShipmentColumns)
    statuses: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_STATUSES))
    """Status cell -> canonical status (case and accents ignored). Replaces the defaults."""
    timezone: TimeZoneName = "Europe/Paris"
    """Time zone of dates written without an offset."""
    references: References = "any"
    """``any``: every row is a web order's; ``prefixed``: only ``<shop>:`` references are web orders
    (the export lists other documents too)."""
    shop: str = Field(default="", validate_default=True)
    """The ``"<shop>:"`` prefix of the references when the connection writes no order files
    (``orders.shop`` otherwise). Default: the connection's name (``connectors.erp.references``)."""

    _shop = field_validator("shop", mode="before")(prefix_or_default)

    @field_validator("statuses")
    @classmethod
    def _canonical(cls, value: dict[str, str]) -> dict[str, str]:
        wrong = sorted(f"{k!r} = {v!r}" for k, v in value.items() if v not in ORDER_STATUSES)
        if wrong:
            raise ValueError(f"shipments.statuses: {', '.join(wrong)}: map to one of {', '.join(ORDER_STATUSES)}")
        return value

    @model_validator(mode="after")
    def _lines(self) -> ShipmentExportSettings:
        if bool(self.columns.sku) != bool(self.columns.quantity):
            raise ValueError("shipments.columns.sku and .quantity go together: set both (lines) or neither")
        return self


_GROUPS = {"number", "order", "kind", "date"}


class InvoiceColumns(BaseModel):
    """Index column (CSV header, XML child tag or ``@attribute``) of each invoice field."""

    model_config = ConfigDict(extra="forbid")
    number: str = "number"
    kind: str | None = "type"
    """Document type (``FA`` / ``AV``); unset: from the number's prefix."""
    order: str = "reference"
    """The web order: ``vendure:42`` as the order file carried it, or the shop order id."""
    date: str | None = "date"
    """Unset or empty: the PDF's modification time."""
    currency: str | None = None
    """Unset or empty: the connection's ``currency``."""
    total: str | None = "total_tax_included"
    file: str | None = None
    """The PDF's file name (a Windows path is fine: its last part is looked up in ``folder``)."""


class InvoiceExportSettings(ExportFormat):
    """Where the invoice PDFs are and how to tell their orders (``[connections.<name>.erp.invoices]``).

    The CSV/XML settings (``format``, ``encoding``, ``delimiter``, ``decimal_separator``,
    ``record_tag``) are the index's."""

    folder: str
    """Where the ERP exports the PDFs. It must exist: a missing folder is a share not mounted."""
    pattern: str = "*.pdf"
    """The PDFs in ``folder`` (case ignored); with a ``/`` it looks into subfolders (``*/*.pdf``)."""
    index: str | None = None
    """The invoice index export (a file or a glob); unset: ``name_pattern`` says everything."""
    name_pattern: str | None = None
    """Regular expression matching a whole PDF file name, with named groups ``number`` and
    ``order`` (``order`` optional with an index), and optionally ``kind`` and ``date``."""
    record_tag: str = "Invoice"
    columns: InvoiceColumns = Field(default_factory=InvoiceColumns)
    timezone: TimeZoneName = "Europe/Paris"
    """Time zone of dates written without an offset."""
    invoice_types: list[str] = Field(default_factory=lambda: ["FA", "Facture"])
    """Values of the type column that are invoices (case and accents ignored)."""
    credit_note_types: list[str] = Field(default_factory=lambda: ["AV", "Avoir"])
    """Type codes (case and accents ignored). Sage's numeric ``DO_Type`` works too (``["6", "7"]``)."""
    references: References = "any"
    """``any``: every row is a web order's; ``prefixed``: only ``<shop>:`` references are web orders.
    ``any``: every row is a web order's; ``prefixed``: only ``<shop>:`` references are web orders."""

    @field_validator("name_pattern")
    @classmethod
    def _groups(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"invoices.name_pattern {value!r} is no regular expression: {exc}") from None
        unknown = sorted(set(compiled.groupindex) - _GROUPS)
        if "number" not in compiled.groupindex or unknown:
            raise ValueError(
                f"invoices.name_pattern {value!r}: needs a group (?P<number>...), may have order, kind and date"
                + (f" (not {', '.join(unknown)})" if unknown else "")
            )
        return value

    @model_validator(mode="after")
    def _source_of_orders(self) -> InvoiceExportSettings:
        if self.index is None and (
            self.name_pattern is None or "order" not in re.compile(self.name_pattern).groupindex
        ):
            raise ValueError(
                "invoices: set index (an invoice export naming each invoice's order) or a name_pattern "
                "with (?P<number>...) and (?P<order>...) groups"
            )
        both = {fold(t) for t in self.invoice_types} & {fold(t) for t in self.credit_note_types}
        if both:
            raise ValueError(f"invoices: {', '.join(sorted(both))} both in invoice_types and credit_note_types")
        return self


_PLACEHOLDERS = {"shop", "id", "date"}


_SAFE = re.compile(r"[A-Za-z0-9_-]")


class OrderColumns(BaseModel):
    """CSV column name of each field; ``""`` leaves an optional column out (TOML has no null).

    The defaults are the words a French GesCom import model uses; map them once in the ERP.
    The columns passerelle reads back (row type, reference, article, description, totals, the
    deposit's amount, method and transaction) cannot be left out.
    """

    model_config = ConfigDict(extra="forbid")
    row_type: str = "Type ligne"
    reference: str = "Référence web"
    document_type: str = "Type pièce"
    order_number: str = "N° commande"
    date: str = "Date"
    account: str = "Code client"
    email: str = "E-mail"
    first_name: str = "Prénom"
    last_name: str = "Nom"
    company: str = "Raison sociale"
    vat_number: str = "N° TVA intracom"
    siret: str = "SIRET"
    phone: str = "Téléphone"
    billing_company: str = "Fact. société"
    billing_name: str = "Fact. contact"
    billing_street: str = "Fact. adresse"
    billing_street2: str = "Fact. complément"
    billing_postal_code: str = "Fact. code postal"
    billing_city: str = "Fact. ville"
    billing_country: str = "Fact. pays"
    billing_phone: str = "Fact. téléphone"
    shipping_company: str = "Livr. société"
    shipping_name: str = "Livr. contact"
    shipping_street: str = "Livr. adresse"
    shipping_street2: str = "Livr. complément"
    shipping_postal_code: str = "Livr. code postal"
    shipping_city: str = "Livr. ville"
    shipping_country: str = "Livr. pays"
    shipping_phone: str = "Livr. téléphone"
    carrier: str = "Transporteur"
    currency: str = "Devise"
    total: str = "Total HT"
    total_tax_included: str = "Total TTC"
    article: str = "Code article"
    description: str = "Désignation"
    quantity: str = "Quantité"
    unit_price: str = "PU HT"
    discount: str = "Remise HT"
    vat_rate: str = "Taux TVA"
    line_total: str = "Montant HT"
    line_total_tax_included: str = "Montant TTC"
    deposit_amount: str = "Montant acompte"
    payment_method: str = "Mode de règlement"
    transaction_id: str = "N° transaction"
    payment_date: str = "Date règlement"

    @model_validator(mode="after")
    def _usable(self) -> OrderColumns:
        required = ("row_type", "reference", "article", "description", "total_tax_included", "deposit_amount")
        missing = [f for f in (*required, "payment_method", "transaction_id") if not getattr(self, f).strip()]
        if missing:
            raise ValueError(f"columns.{', columns.'.join(missing)} cannot be empty: passerelle reads them back")
        names = [name for _, name in self.enabled()]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"two fields share the column {', '.join(map(repr, twice))}")
        return self

    def enabled(self) -> list[tuple[str, str]]:
        """(field, column name) of the columns written, in file order."""
        return [(f, getattr(self, f).strip()) for f in type(self).model_fields if getattr(self, f).strip()]


class RowTypes(BaseModel):
    """Value of the ``row_type`` column of each kind of row (shipping and discounts are lines)."""

    model_config = ConfigDict(extra="forbid")
    header: str = "E"
    line: str = "L"
    deposit: str = "A"

    @model_validator(mode="after")
    def _distinct(self) -> RowTypes:
        if len({self.header, self.line, self.deposit}) != 3 or not all((self.header, self.line, self.deposit)):
            raise ValueError("row_types.header, .line and .deposit must be three different, non-empty codes")
        return self


class OrderExportSettings(ExportFormat):
    """Where and how web orders are written for the ERP (``[connections.<name>.erp.orders]``)."""

    format: str = "csv"
    encoding: str = "cp1252"
    record_tag: str = "order"
    """The root element of an XML order file."""
    outbox: str
    """Folder the ERP imports orders from. It must exist: a missing folder is most often a share
    that is not mounted, and writing elsewhere would lose orders."""
    processed: list[str] = Field(default_factory=list)
    """Folders (or globs: ``archive/*``) where the ERP's import moves the files it took. Looked in
    too, so an order the ERP already consumed is never written again."""
    shop: str = Field(default="", validate_default=True)
    """Prefix of the references (``"<shop>:<order id>"``) and of the file names. Default: the
    connection's name (``connectors.erp.references``); two connections on one ERP cannot share it.
    Order files written before 2026-07 carry ``vendure``: set it to keep finding them."""
    file_name: str = "{shop}-{id}"
    """File name without extension: ``{shop}``, ``{id}`` (the shop order id, required) and
    ``{date}`` (the order date, ``YYYYMMDD``). Not the shop's order code: it is not unique."""
    extension: str | None = None
    """None: ``csv`` or ``xml`` after the format (``txt`` for an import that wants it)."""
    timezone: TimeZoneName = "Europe/Paris"
    """Time zone of the dates written (the order's day is the merchant's, not UTC's)."""
    date_format: str = "%d/%m/%Y"
    """``strftime`` format of the dates written."""
    document_type: str = "BC"
    """``document_type`` of order files (what the ERP import creates: a bon de commande)."""
    deposit_document_type: str = "AC"
    """``document_type`` of the deposit files of payments settled after the import."""
    row_types: RowTypes = Field(default_factory=RowTypes)
    columns: OrderColumns = Field(default_factory=OrderColumns)
    header_on_every_row: bool = False
    """Repeat the header's fields on every row (imports that read one row per line, as EBP's can)."""
    shipping_article: str = "PORT"
    """Article code of the shipping line."""
    shipping_articles: dict[str, str] = Field(default_factory=dict)
    """Shop shipping method code -> article code, when it is not ``shipping_article``."""
    discount_article: str = "REMISE"
    """Article code of discount lines."""
    adjustment_article: str = "ECART"
    """Article of the row making up a difference between the shop's parts and its total."""
    placeholder_article: str | None = None
    """Article of a line whose SKU is bound to no ERP article (the SKU goes in the description);
    unset: such an order is refused until the article exists."""
    deposit_article: str = "ACOMPTE"
    """Article code of the deposit line (the payment the final invoice deducts)."""
    deposit_label: str = "Acompte web"
    """Description of the deposit line."""
    payment_methods: dict[str, str] = Field(default_factory=dict)
    """Shop payment method code -> the ERP's mode de règlement (``card = "CB"``)."""
    currencies: list[str] = Field(default_factory=list)
    """Currencies the ERP accepts; empty: any. An order in another one is refused."""
    guest_account: str = ""
    """Account code of guest orders ("" or the ERP's "client divers")."""

    @field_validator("format")
    @classmethod
    def _writable_format(cls, value: str) -> str:
        if value not in ("csv", "xml"):
            raise ValueError(f"orders.format must be 'csv' or 'xml', not {value!r}")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        if value == "auto":
            return "cp1252"
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}") from None
        return value

    _shop = field_validator("shop", mode="before")(prefix_or_default)

    @field_validator("shop")
    @classmethod
    def _plain_shop(cls, value: str) -> str:
        if not value or not all(_SAFE.match(c) for c in value):
            raise ValueError(f"orders.shop {value!r}: letters, digits, '-' and '_' only (it goes in file names)")
        return value

    @field_validator("file_name")
    @classmethod
    def _pattern(cls, value: str) -> str:
        parts = list(string.Formatter().parse(value))
        names = [name for _, name, _, _ in parts if name is not None]
        if any(spec or conversion for _, name, spec, conversion in parts if name is not None):
            raise ValueError(f"orders.file_name {value!r}: placeholders take no format ({{date}} is YYYYMMDD)")
        unknown = sorted(set(names) - _PLACEHOLDERS)
        if unknown or names.count("id") != 1:
            raise ValueError(f"orders.file_name {value!r}: needs {{id}} once, may use {{shop}} and {{date}}")
        if any(c in value for c in "/\\") or value.startswith("."):
            raise ValueError(f"orders.file_name {value!r}: a name, not a path, and not hidden")
        return value

    @model_validator(mode="after")
    def _csv_separators(self) -> OrderExportSettings:
        if len(self.delimiter) != 1 or self.delimiter == self.decimal_separator:
            raise ValueError("orders.delimiter must be one character other than the decimal separator")
        return self

    @property
    def suffix(self) -> str:
        return "." + (self.extension or self.format).lstrip(".")


# Columns that only a separate price file has: without one, the article export's columns apply.
_BASE_COLUMNS = {"key", "sku", "price", "vat_rate", "currency"}


class PriceColumns(BaseModel):
    """Export column of each price field. ``key`` to ``currency`` apply to a separate price
    file only (``prices.path``); the promotion columns apply to whichever export holds prices."""

    model_config = ConfigDict(extra="forbid")
    key: str | None = None
    sku: str = "sku"
    price: str = "price"
    vat_rate: str | None = None
    currency: str | None = None
    promo_price: str | None = None
    promo_start: str | None = None
    promo_end: str | None = None
    promo_name: str | None = None


class GroupPriceColumns(BaseModel):
    """Columns of the customer-group price export (one row per article, group, min quantity)."""

    model_config = ConfigDict(extra="forbid")
    key: str | None = None
    sku: str = "sku"
    group: str = "group"
    price: str = "price"
    min_quantity: str | None = None


class GroupPriceFileSettings(ExportFormat):
    """The customer-group price export (``[connections.<name>.erp.prices.group_prices]``)."""

    path: str
    """The group price export: a file or a glob."""
    record_tag: str = "Tarif"
    columns: GroupPriceColumns = Field(default_factory=GroupPriceColumns)


class PriceFileSettings(ExportFormat):
    """Where prices are and how to read them (``[connections.<name>.erp.prices]``)."""

    path: str | None = None
    """A price export (file or glob); unset: the article export's price and VAT columns."""
    columns: PriceColumns = Field(default_factory=PriceColumns)
    tax_included: bool | None = None
    """The export's prices (base, promotion, groups) include VAT; unset: as the article export's
    ``tax_included`` says (one GesCom exports every price in one basis)."""
    timezone: TimeZoneName = "Europe/Paris"
    """Time zone of the promotion dates and times written without an offset."""
    group_prices: GroupPriceFileSettings | None = None

    @model_validator(mode="after")
    def _base_columns_need_a_file(self) -> PriceFileSettings:
        misplaced = sorted(self.columns.model_fields_set & _BASE_COLUMNS)
        if self.path is None and misplaced:
            raise ValueError(
                f"prices.columns.{', prices.columns.'.join(misplaced)} apply to a separate price file: set "
                "prices.path, or set the article export's columns instead"
            )
        return self


class StockColumns(BaseModel):
    """Export column (CSV header, XML child tag or ``@attribute``) of each stock field."""

    model_config = ConfigDict(extra="forbid")
    key: str | None = None
    """The article's identity; unset: the SKU (as for articles)."""
    sku: str = "sku"
    warehouse: str | None = None
    """Unset: a single-warehouse export, every row belongs to ``default_warehouse``."""
    quantity: str = "quantity"
    reserved: str | None = None


class StockFileSettings(ExportFormat):
    """Where the stock export is and how to read it (``[connections.<name>.erp.stock]``)."""

    path: str
    """A file, or a glob (``exports/stock_*.csv``): every match is read, in name order."""
    record_tag: str = "Stock"
    columns: StockColumns = Field(default_factory=StockColumns)
    default_warehouse: str = "default"
    """Warehouse of the rows that name none (no warehouse column, or an empty cell)."""
    warehouse_columns: dict[str, str] = Field(default_factory=dict)
    """Wide layout: warehouse code -> its quantity column (``PRINCIPAL = "Stock PRINCIPAL"``)."""
    reserved_columns: dict[str, str] = Field(default_factory=dict)
    """Wide layout: warehouse code -> its reserved quantity column (optional)."""
    known_warehouses: list[str] = Field(default_factory=list)
    """Codes that exist even when the export has no row for them (an ERP that omits empty stock)."""

    @model_validator(mode="after")
    def _one_layout(self) -> StockFileSettings:
        if self.warehouse_columns:
            mixed = sorted(self.columns.model_fields_set & {"warehouse", "quantity", "reserved"})
            if mixed:
                raise ValueError(
                    f"columns.{', columns.'.join(mixed)} and warehouse_columns both set: with one column per "
                    "warehouse (warehouse_columns, reserved_columns) there is no warehouse or quantity column"
                )
        extra = sorted(set(self.reserved_columns) - set(self.warehouse_columns))
        if extra:
            raise ValueError(f"reserved_columns names warehouses not in warehouse_columns: {', '.join(extra)}")
        return self


class ArticleColumns(BaseModel):
    """Export column (CSV header, XML child tag or ``@attribute``) for each article field."""

    model_config = ConfigDict(extra="forbid")
    key: str | None = None
    sku: str = "sku"
    name: str = "name"
    description: str | None = "description"
    ean: str | None = "ean"
    price: str = "price"
    vat_rate: str | None = "vat_rate"
    weight: str | None = "weight"
    group_key: str | None = "group_key"
    group_name: str | None = None
    active: str | None = None
    images: str | None = None
    currency: str | None = None


class FilesSettings(ExportFormat):
    path: str | None = None
    """A file, or a glob (``exports/articles_*.csv``): every match is read, in name order.
    Unset for a connection that only reads stock or prices from their own exports."""
    currency: str = "EUR"
    """Currency (ISO 4217) of the export's prices, unless a currency column says otherwise."""
    tax_included: bool = False
    """Whether the export's price column includes VAT ("Prix de vente TTC"): true sends the shop
    the price the customer must see, whatever basis the shop stores (docs/platforms.md)."""
    columns: ArticleColumns = Field(default_factory=ArticleColumns)
    attributes: dict[str, str] = Field(default_factory=dict)
    """Variant attribute -> column (``colour = "Couleur"``); the column's name is the attribute's
    display name unless ``[catalogue] attribute_labels`` says otherwise."""
    extra: dict[str, str] = Field(default_factory=dict)
    """User-defined field (``fields.<name>`` in mappings) -> column."""
    stock: StockFileSettings | None = None
    """The stock export (``[connections.<name>.erp.stock]``)."""
    prices: PriceFileSettings | None = None
    """Where prices come from (``[connections.<name>.erp.prices]``)."""
    orders: OrderExportSettings | None = None
    """Where web orders are written for the ERP's import (``[connections.<name>.erp.orders]``)."""
    invoices: InvoiceExportSettings | None = None
    """The invoice PDFs and their index (``[connections.<name>.erp.invoices]``)."""
    shipments: ShipmentExportSettings | None = None
    """The shipments export, for order statuses (``[connections.<name>.erp.shipments]``)."""


CONNECTOR_SETTINGS = FilesSettings
"""The model of this connector's options (``connectors.registry.settings_model``)."""
