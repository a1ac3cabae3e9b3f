"""The files connector as an order sink: one order file per web order, dropped in an outbox folder.

A merchant whose ERP has no API imports web orders from files: Sage 100's "import de pièces", EBP's
"import paramétrable". Passerelle writes one file per order in ``outbox``; the ERP's import reads
it and, as any scheduled import does, moves it to an archive folder (``processed``). The file is
the only thing the two sides share, so it is also the only record of what was written: there is
no database to ask and no answer to read back.

Layout (CSV; see ``docs/files-orders.md``). A header line of column names, then one header row
(document type, the shop reference ``"<shop>:<order id>"``, the shop's order code, date, customer,
addresses, currency, totals), one row per ordered line, a shipping row, one row per order-level
discount and VAT rate, an adjustment row when the shop's parts do not add up to its total, and one
deposit row per payment settled at import time (the "facture d'acompte": the ERP's final invoice
deducts it). ``row_type`` (``E`` / ``L`` / ``A``) tells the ERP's import which is which, and the
shop reference is on every row so an import that groups rows by document can. XML holds the same
rows as ``<header>``, ``<line kind=...>`` and ``<deposit>`` elements of one ``<order>``, with field
names as tags (column names are CSV headers and need not be valid XML names).

Exactly once. The file name is made from the shop order id (``file_name``), so finding an order is
finding its name: in ``outbox`` (exact name) and in the ``processed`` folders (a name that contains
it, so an ERP that adds a date or a suffix when it archives is still understood). A file is written
under a temporary name in the same folder, flushed, then hard-linked to its name (which fails if
the name exists: two writers cannot both place it) or, where the share has no hard links,
``os.replace``'d: the ERP never sees half a file. Temporary names start with ``.`` and end with
``.tmp``: no import pattern takes them, and a leftover of a killed write is neither the order nor
an obstacle (it is removed before the next attempt). The ERP must move or rename imported files,
never delete them: a deleted file is an order passerelle can no longer see.

Payments. A payment settled after the import gets a deposit file of its own, ``<order file
name>-deposit-<transaction id>`` (a hash of method, amount and time without a transaction id), with
the order's header row and one deposit row: its name makes it idempotent. Whether a payment was
already exported inside the order file is read back from that file (its deposit rows): the file is
what the ERP got, so no second record (a sidecar, a journal) can disagree with it or be lost apart
from it. The price is that columns renamed after a file was written make it unreadable (a Fatal,
never a duplicate).

Totals. A files ERP computes nothing passerelle can read: ``ErpOrderRef.total_tax_included`` is the
shop's total as written in the file, and no comparison of totals is possible.
"""

from __future__ import annotations

import codecs
import csv
import errno
import glob
import hashlib
import io
import os
import re
import secrets
import string
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connectors.base import ErpOrderRef
from connectors.erp.files.reader import ExportFormat, read_csv, read_xml
from connectors.erp.files.values import parse_decimal
from connectors.erp.references import prefix_or_default
from connectors.errors import Fatal, RecordError, Refused, Retryable, Skip
from connectors.models import Address, Discount, Order, OrderLine, Payment, currency_quantum, ensure_utc
from connectors.timezones import TimeZoneName

if TYPE_CHECKING:
    from connectors.erp.files.catalogue import FilesSettings

__all__ = ["FilesOrders", "OrderColumns", "OrderExportSettings", "RowTypes", "order_rows", "split_discount"]

_ADDRESS = ("company", "name", "street", "street2", "postal_code", "city", "country", "phone")
HEADER_FIELDS = (
    "document_type",
    "reference",
    "order_number",
    "date",
    "account",
    "email",
    "first_name",
    "last_name",
    "company",
    "vat_number",
    "siret",
    "phone",
    *(f"billing_{f}" for f in _ADDRESS),
    *(f"shipping_{f}" for f in _ADDRESS),
    "carrier",
    "currency",
    "total",
    "total_tax_included",
)
LINE_FIELDS = (
    "article",
    "description",
    "quantity",
    "unit_price",
    "discount",
    "vat_rate",
    "line_total",
    "line_total_tax_included",
)
DEPOSIT_FIELDS = ("article", "description", "deposit_amount", "payment_method", "transaction_id", "payment_date")
_PLACEHOLDERS = {"shop", "id", "date"}
_SAFE = re.compile(r"[A-Za-z0-9_-]")
_ENCODED = r"[A-Za-z0-9%_-]+?"
_MAX_KEY = 40


# -- settings ---------------------------------------------------------------------------------------


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
    document_type: str = "BC"
    """``document_type`` of order files (what the ERP import creates: a bon de commande)."""
    deposit_document_type: str = "AC"
    """``document_type`` of the deposit files of payments settled after the import."""
    row_types: RowTypes = Field(default_factory=RowTypes)
    columns: OrderColumns = Field(default_factory=OrderColumns)
    header_on_every_row: bool = False
    """Repeat the header's fields on every row (imports that read one row per line, as EBP's can)."""
    shipping_article: str = "PORT"
    shipping_articles: dict[str, str] = Field(default_factory=dict)
    """Shop shipping method code -> article code, when it is not ``shipping_article``."""
    discount_article: str = "REMISE"
    adjustment_article: str = "ECART"
    """Article of the row making up a difference between the shop's parts and its total."""
    placeholder_article: str | None = None
    """Article of a line whose SKU is bound to no ERP article (the SKU goes in the description);
    unset: such an order is refused until the article exists."""
    deposit_article: str = "ACOMPTE"
    deposit_label: str = "Acompte web"
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


# -- the rows of an order (pure) --------------------------------------------------------------------


@dataclass(slots=True)
class _Row:
    kind: str  # header, line or deposit
    values: dict[str, str]
    line_kind: str = ""  # goods, shipping, discount or adjustment (the XML ``kind`` attribute)


def split_discount(discount: Discount, order: Order) -> list[tuple[Decimal | None, Decimal, Decimal]]:
    """(VAT rate, tax-excluded, tax-included amount) of the rows of an order-level discount, positive.

    French practice: a discount on the whole order lowers each VAT rate's base in proportion, so
    it is one row per rate of the goods, the last taking the rounding so the rows add up to the
    shop's figures exactly. A shipping discount (free shipping: the canonical ``Discount`` does not
    say) is told apart by its tax-included amount, which is the shipping's rate applied to it.
    """
    quantum = currency_quantum(order.currency)
    amount, amount_ti = abs(discount.amount), abs(discount.amount_tax_included)
    bases: dict[Decimal | None, Decimal] = {}
    for line in order.lines:
        rate = line.vat_rate.normalize() if line.vat_rate is not None else None
        bases[rate] = bases.get(rate, Decimal(0)) + line.total
    keys = [k for k, base in bases.items() if base]
    total = sum((bases[k] for k in keys), Decimal(0))
    shares: list[tuple[Decimal | None, Decimal]] = []
    left = amount
    for key in keys[:-1]:
        share = (amount * bases[key] / total).quantize(quantum, ROUND_HALF_UP)
        shares.append((key, share))
        left -= share
    shares.append((keys[-1] if keys else None, left))
    ship = order.shipping_vat_rate
    if (
        order.shipping_price
        and ship is not None
        and amount <= order.shipping_price
        and _with_vat(amount, ship, quantum) == amount_ti
        and sum((_with_vat(share, rate, quantum) for rate, share in shares), Decimal(0)) != amount_ti
    ):
        return [(ship.normalize(), amount, amount_ti)]
    rows = []
    left_ti = amount_ti
    for index, (rate, share) in enumerate(shares):
        share_ti = left_ti if index == len(shares) - 1 else _with_vat(share, rate, quantum)
        left_ti -= share_ti
        rows.append((rate, share, share_ti))
    return rows


def order_rows(order: Order, articles: Mapping[str, tuple[str, str]], s: OrderExportSettings) -> list[_Row]:
    """Every row of the order file: header, lines, shipping, discounts, adjustment, deposits.

    ``articles`` maps ``OrderLine.line_id`` -> (article code, description).
    """
    money = _Money(order.currency, s.decimal_separator)
    rows = [_Row("header", _header(order, s, money))]
    for line in order.lines:
        article, description = articles[line.line_id]
        rows.append(_line(money, "goods", article, description, line, line.vat_rate))
    if order.shipping_price or order.shipping_method:
        method = order.shipping_method or ""
        article = s.shipping_articles.get(method, s.shipping_article)
        shipping = _Amounts(order.shipping_price, order.shipping_price_tax_included)
        rows.append(_line(money, "shipping", article, method or "Frais de port", shipping, order.shipping_vat_rate))
    for discount in order.discounts:
        label = discount.description
        if discount.code and discount.code not in label:
            label = f"{label} ({discount.code})"
        shares = split_discount(discount, order)
        for rate, amount, amount_ti in shares:
            text = f"{label} (TVA {_number(rate, ',')} %)" if len(shares) > 1 and rate is not None else label
            rows.append(_line(money, "discount", s.discount_article, text, _Amounts(-amount, -amount_ti), rate))
    parts = _Amounts(
        sum((line.total for line in order.lines), order.shipping_price)
        - sum((abs(d.amount) for d in order.discounts), Decimal(0)),
        sum((line.total_tax_included for line in order.lines), order.shipping_price_tax_included)
        - sum((abs(d.amount_tax_included) for d in order.discounts), Decimal(0)),
    )
    gap = _Amounts(order.total - parts.total, order.total_tax_included - parts.total_tax_included)
    if gap.total or gap.total_tax_included:  # the rows must add up to the shop's totals, whatever it rounded
        text = "Écart avec le total de la boutique"
        rows.append(_line(money, "adjustment", s.adjustment_article, text, gap, None))
    rows += [_Row("deposit", _deposit(p, s, money)) for p in order.payments if p.state == "settled"]
    return rows


@dataclass(slots=True)
class _Amounts:
    """A one-unit row's amounts (shipping, discount share, adjustment) in the shape of a line."""

    total: Decimal
    total_tax_included: Decimal
    quantity: Decimal = Decimal(1)
    discount: Decimal = Decimal(0)

    @property
    def unit_price(self) -> Decimal:
        return self.total


@dataclass(slots=True)
class _Money:
    currency: str | None
    separator: str

    def __call__(self, amount: Decimal) -> str:
        """Decimal as the ERP reads it: the currency's decimals at least (never rounded away), the
        configured separator, no thousands separator, never through float."""
        if self.currency:
            quantized = amount.quantize(currency_quantum(self.currency))
            amount = quantized if quantized == amount else amount
        return _number(amount, self.separator, normalize=False)


def _number(value: Decimal | None, separator: str, *, normalize: bool = True) -> str:
    if value is None:
        return ""
    text = format(value.normalize() if normalize else value, "f")
    return text.replace(".", separator)


def _with_vat(amount: Decimal, rate: Decimal | None, quantum: Decimal) -> Decimal:
    if rate is None:
        return amount
    return amount + (amount * rate / 100).quantize(quantum, ROUND_HALF_UP)


def _person(first: str | None, last: str | None) -> str:
    return " ".join(p for p in (first, last) if p).strip()


def _header(order: Order, s: OrderExportSettings, money: _Money) -> dict[str, str]:
    customer = order.customer
    billing = order.billing or order.shipping
    shipping = order.shipping or order.billing
    zone = ZoneInfo(s.timezone)
    values = {
        "document_type": s.document_type,
        "reference": f"{s.shop}:{order.shop_id}",
        "order_number": order.reference,
        "date": ensure_utc(order.created_at).astimezone(zone).strftime(s.date_format),
        "account": f"{s.shop}:{customer.shop_id}" if customer.shop_id else s.guest_account,
        "email": customer.email,
        "first_name": customer.first_name or (billing.first_name if billing else None) or "",
        "last_name": customer.last_name or (billing.last_name if billing else None) or "",
        "company": customer.company or (billing.company if billing else None) or "",
        "vat_number": customer.vat_number or "",
        "siret": customer.siret or "",
        "phone": customer.phone or (billing.phone if billing else None) or "",
        "carrier": order.shipping_method or "",
        "currency": order.currency,
        "total": money(order.total),
        "total_tax_included": money(order.total_tax_included),
    }
    for prefix, address in (("billing", billing), ("shipping", shipping)):
        values |= {f"{prefix}_{k}": v for k, v in _address(address).items()}
    return values


def _address(address: Address | None) -> dict[str, str]:
    if address is None:
        return dict.fromkeys(_ADDRESS, "")
    return {
        "company": address.company or "",
        "name": _person(address.first_name, address.last_name),
        "street": address.street,
        "street2": address.street2 or "",
        "postal_code": address.postal_code,
        "city": address.city,
        "country": address.country.upper(),
        "phone": address.phone or "",
    }


def _line(
    money: _Money, kind: str, article: str, description: str, line: OrderLine | _Amounts, rate: Decimal | None
) -> _Row:
    values = {
        "article": article,
        "description": description,
        "quantity": _number(line.quantity, money.separator),
        "unit_price": money(line.unit_price),
        "discount": money(line.discount) if line.discount else "",
        "vat_rate": _number(rate, money.separator),
        "line_total": money(line.total),
        "line_total_tax_included": money(line.total_tax_included),
    }
    return _Row("line", values, kind)


def _deposit(payment: Payment, s: OrderExportSettings, money: _Money) -> dict[str, str]:
    return {
        "article": s.deposit_article,
        "description": _deposit_label(payment, s),
        "deposit_amount": money(payment.amount),
        "payment_method": s.payment_methods.get(payment.method, payment.method),
        "transaction_id": payment.transaction_id or "",
        "payment_date": _local(payment.paid_at, s).strftime(s.date_format) if payment.paid_at else "",
    }


def _deposit_label(payment: Payment, s: OrderExportSettings) -> str:
    """The deposit's description, with the exact time of payment: without a transaction id, this
    is what tells two payments of the same method and amount apart when the file is read back."""
    when = f" {_local(payment.paid_at, s):%d/%m/%Y %H:%M:%S}" if payment.paid_at else ""
    return f"{s.deposit_label} {s.payment_methods.get(payment.method, payment.method)}{when}"


def _local(value: datetime | None, s: OrderExportSettings) -> datetime:
    assert value is not None
    return ensure_utc(value).astimezone(ZoneInfo(s.timezone))


# -- file names -------------------------------------------------------------------------------------


def _quote(value: str) -> str:
    """A value in a file name: letters, digits, '-' and '_' kept, anything else %-encoded (UTF-8),
    so the name is portable (Windows shares) and the id reads back exactly."""
    return "".join(c if c.isascii() and _SAFE.match(c) else "".join(f"%{b:02X}" for b in c.encode()) for c in value)


def _payment_key(payment: Payment) -> str:
    """The part of a deposit file's name that identifies the payment."""
    if payment.transaction_id and len(_quote(payment.transaction_id)) <= _MAX_KEY:
        return _quote(payment.transaction_id)
    paid = ensure_utc(payment.paid_at).isoformat() if payment.paid_at else "-"
    identity = payment.transaction_id or f"{payment.method}|{format(payment.amount.normalize(), 'f')}|{paid}"
    return "h" + hashlib.sha256(identity.encode()).hexdigest()[:16]


@dataclass(slots=True)
class _Names:
    """File names of one configuration, and the expressions that recognise them in a folder."""

    s: OrderExportSettings
    order: re.Pattern[str] = field(init=False)
    deposit: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        stem = ""
        for literal, name, _, _ in string.Formatter().parse(self.s.file_name):
            stem += re.escape(literal)
            if name == "shop":
                stem += re.escape(self.s.shop)
            elif name == "id":
                stem += f"(?P<id>{_ENCODED})"
            elif name == "date":
                stem += r"\d{8}"
        suffix = re.escape(self.s.suffix)
        self.order = re.compile(f"(?<![A-Za-z0-9]){stem}{suffix}")
        self.deposit = re.compile(f"(?<![A-Za-z0-9]){stem}-deposit-(?P<key>{_ENCODED}){suffix}")

    def of_order(self, order: Order) -> str:
        day = ensure_utc(order.created_at).astimezone(ZoneInfo(self.s.timezone)).strftime("%Y%m%d")
        return self.s.file_name.format(shop=self.s.shop, id=_quote(order.shop_id), date=day) + self.s.suffix

    def of_deposit(self, order_file: str, payment: Payment) -> str:
        return f"{order_file.removesuffix(self.s.suffix)}-deposit-{_payment_key(payment)}{self.s.suffix}"


@dataclass(slots=True)
class _Written:
    """What a scan of the outbox and the processed folders found, by shop order id."""

    orders: dict[str, tuple[Path, str]] = field(default_factory=dict)
    """shop order id -> (where the file is now, the name passerelle gave it)."""
    deposits: dict[tuple[str, str], tuple[Path, str]] = field(default_factory=dict)

    def add(self, path: Path, names: _Names, *, exact: bool) -> None:
        """Classify one file: in the outbox the name is passerelle's own (exact); in a processed
        folder the ERP may have prefixed or suffixed it (``20260705-vendure-42.csv.done``)."""
        name = path.name
        if name.startswith(".") and name.endswith(".tmp"):
            return  # a write in progress, or the leftover of a killed one
        match = names.deposit.fullmatch(name) if exact else names.deposit.search(name)
        if match is not None:
            self.deposits.setdefault((unquote(match["id"]), match["key"]), (path, match.group(0)))
            return
        match = names.order.fullmatch(name) if exact else names.order.search(name)
        if match is not None:
            self.orders.setdefault(unquote(match["id"]), (path, match.group(0)))


# -- the sink ---------------------------------------------------------------------------------------


class FilesOrders:
    """``OrderSink`` of the files connector (mixed into ``FilesConnector``)."""

    settings: FilesSettings

    def find_orders(self, shop_refs: Sequence[str]) -> dict[str, ErpOrderRef]:
        """Order files already written for these shop order ids (not prefixed), in the outbox or
        taken by the ERP (``processed``): one scan of the folders whatever the number of ids.

        Raises:
            Fatal: no ``orders`` settings, a missing outbox or processed folder, a file unreadable.
        """
        s = self._orders()
        written = self._scan(s)
        return {
            shop_id: self._ref(s, shop_id, *written.orders[shop_id])
            for shop_id in dict.fromkeys(shop_refs)
            if shop_id in written.orders
        }

    def import_order(self, order: Order, products: Mapping[str, str]) -> ErpOrderRef:
        """Write the order file of ``order`` (see the module docstring); idempotent.

        ``products`` maps line ids to ERP article codes. The returned ``total_tax_included`` is the
        shop's: a files ERP computes nothing passerelle can read back. Characters the encoding
        cannot hold (a name in another script) are transliterated and noted in ``order.issues``, as
        is a line written with the placeholder article.

        Raises:
            Refused: no lines, an unbound line without ``placeholder_article``, a currency not in
                ``currencies``.
            Fatal: no ``orders`` settings; the outbox missing or not writable.
            Retryable: the outbox could not be written for another reason (a share gone away).
        """
        s = self._orders()
        names = _Names(s)
        written = self._scan(s)
        if order.shop_id in written.orders:
            return self._ref(s, order.shop_id, *written.orders[order.shop_id])
        _check(order, s)
        rows = order_rows(order, _articles(order, products, s), s)
        data, changed = _serialise(rows, s)
        order.issues += [
            RecordError(order.shop_id, f, f"not representable in {s.encoding}: transliterated", check="platform")
            for f in changed
        ]
        name = names.of_order(order)
        if not _place(Path(s.outbox), name, data):  # another writer placed it meanwhile
            return self._ref(s, order.shop_id, Path(s.outbox) / name, name)
        header = rows[0].values
        account = header["account"] if s.format == "xml" or s.columns.account else ""  # as find_orders reads it
        return ErpOrderRef(name, header["reference"], order.total_tax_included, account or None)

    def record_payment(self, erp: ErpOrderRef, payment: Payment) -> str:
        """Export a settled payment as a deposit; returns the name of the file that holds it.

        A payment settled at import time is in the order file already (its name is returned);
        a later one gets a deposit file with the order's header row and one deposit row. The
        same payment (same transaction id; without one, same method, amount and time) always
        gives the same file, written once.

        Raises:
            Skip: the payment is not settled.
            Fatal: the order file cannot be found (an ERP that deletes imported files, or a
                processed folder missing from the settings) or read back.
        """
        if payment.state != "settled":
            raise Skip(f"payment {payment.transaction_id or payment.method} is {payment.state}, not settled")
        s = self._orders()
        names = _Names(s)
        shop_id = erp.reference.removeprefix(f"{s.shop}:")
        written = self._scan(s)
        if shop_id not in written.orders:
            raise Fatal(
                f"the order file {erp.erp_id} ({erp.reference}) is neither in the outbox nor in a processed folder.",
                resolution="make the ERP's import move imported files (not delete them) and list that folder in "
                "processed of [connections.<name>.erp.orders].",
            )
        path, order_file = written.orders[shop_id]
        header, deposits = _read_back(path, s)
        if any(_same_payment(row, payment, s) for row in deposits):
            return order_file
        name = names.of_deposit(order_file, payment)
        if (shop_id, _payment_key(payment)) in written.deposits:
            return written.deposits[shop_id, _payment_key(payment)][1]
        money = _Money(header.get("currency") or None, s.decimal_separator)
        header = {**header, "document_type": s.deposit_document_type}
        data, _ = _serialise([_Row("header", header), _Row("deposit", _deposit(payment, s, money))], s)
        _place(Path(s.outbox), name, data)
        return name

    # -- helpers ---------------------------------------------------------------------------------
    def _orders(self) -> OrderExportSettings:
        if self.settings.orders is None:
            raise Fatal(
                "the files connector has no order outbox configured.",
                resolution="add a [connections.<name>.erp.orders] table with the outbox folder the ERP imports "
                "orders from (see docs/files-orders.md).",
            )
        return self.settings.orders

    def _scan(self, s: OrderExportSettings) -> _Written:
        """Every order and deposit file in the outbox, then in the processed folders.

        The outbox is listed first on purpose: a file the ERP moves while we scan is either still
        in the outbox when we list it, or already in its processed folder when we list that (a
        move, or a copy then a delete, never leaves it in neither place over that order).
        """
        names = _Names(s)
        written = _Written()
        outbox = Path(s.outbox)
        if not outbox.is_dir():
            raise Fatal(
                f"the order outbox {outbox} is not a folder.",
                resolution="create it (or mount the share the ERP imports from), or fix outbox in "
                "[connections.<name>.erp.orders].",
            )
        for path in _files(outbox):
            written.add(path, names, exact=True)
        for entry in s.processed:
            if glob.has_magic(entry):
                folders = [Path(m) for m in sorted(glob.glob(entry, recursive=True))]
            elif Path(entry).is_dir():
                folders = [Path(entry)]
            else:
                raise Fatal(
                    f"the processed folder {entry} does not exist: orders the ERP already took could be written again.",
                    resolution="create it (or mount its share), or fix processed in [connections.<name>.erp.orders].",
                )
            for folder in folders:
                for path in _files(folder) if folder.is_dir() else [folder]:
                    written.add(path, names, exact=False)
        return written

    def _ref(self, s: OrderExportSettings, shop_id: str, path: Path, name: str) -> ErpOrderRef:
        """The ref of an order file found on disk: its total and account read back from it."""
        header, _ = _read_back(path, s)
        try:
            total = parse_decimal(header.get("total_tax_included", ""), decimal_separator=s.decimal_separator)
        except ValueError as exc:
            raise _unreadable(path, f"its total: {exc}") from None
        return ErpOrderRef(name, f"{s.shop}:{shop_id}", total, header.get("account") or None)


def _check(order: Order, s: OrderExportSettings) -> None:
    """Refuse what the ERP could not import: an order without lines, a currency it does not keep."""
    if not order.lines:
        raise Refused(RecordError(order.shop_id, "lines", "the order has no lines"))
    if s.currencies and order.currency.upper() not in {c.upper() for c in s.currencies}:
        accepted = ", ".join(s.currencies)
        raise Refused(RecordError(order.shop_id, "currency", f"{order.currency} is not one of {accepted}"))


def _articles(order: Order, products: Mapping[str, str], s: OrderExportSettings) -> dict[str, tuple[str, str]]:
    """(article code, description) of each line; an unbound line takes the placeholder article
    (its SKU in the description, a note in ``order.issues``) or refuses the order."""
    found: dict[str, tuple[str, str]] = {}
    for index, line in enumerate(order.lines):
        article = products.get(line.line_id)
        if article:
            found[line.line_id] = (article, line.name)
        elif s.placeholder_article:
            found[line.line_id] = (s.placeholder_article, f"{line.name} [{line.sku or 'sans référence'}]")
            reason = f"SKU {line.sku!r} is bound to no ERP article: written as {s.placeholder_article}"
            order.issues.append(RecordError(order.shop_id, f"lines[{index}].sku", reason, check="platform"))
        else:
            reason = f"no ERP article bound to SKU {line.sku!r}"
            raise Refused(RecordError(order.shop_id, f"lines[{index}].sku", reason))
    return found


# -- serialisation, reading back, placing -----------------------------------------------------------


def _cell(value: str, encoding: str | None) -> str:
    """One line of text (imports read a row per line) the encoding can hold: an unencodable
    character loses its accent (NFKD), else becomes '?'."""
    text = " ".join(value.split())
    if encoding is None:
        return text
    try:
        text.encode(encoding)
        return text
    except UnicodeEncodeError:
        pass
    kept = []
    for char in text:
        try:
            char.encode(encoding)
            kept.append(char)
        except UnicodeEncodeError:
            base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
            kept.append(base if base and base.isascii() else "?")
    return "".join(kept)


def _serialise(rows: Sequence[_Row], s: OrderExportSettings) -> tuple[bytes, list[str]]:
    """The file's bytes, and the fields whose text had to be transliterated (CSV only)."""
    if s.format == "xml":
        return _xml(rows, s), []
    columns = s.columns.enabled()
    codes = {"header": s.row_types.header, "line": s.row_types.line, "deposit": s.row_types.deposit}
    header = rows[0].values
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=s.delimiter, lineterminator="\r\n")
    writer.writerow([name for _, name in columns])
    changed: list[str] = []
    for row in rows:
        values = {**header, **row.values} if s.header_on_every_row and row.kind != "header" else row.values
        values = {**values, "row_type": codes[row.kind], "reference": header["reference"]}
        cells = []
        for name, _ in columns:
            cell = _cell(values.get(name, ""), s.encoding)
            if cell != " ".join(values.get(name, "").split()) and name not in changed:
                changed.append(name)
            cells.append(cell)
        writer.writerow(cells)
    return buffer.getvalue().encode(s.encoding), changed


def _xml(rows: Sequence[_Row], s: OrderExportSettings) -> bytes:
    """One ``<order>``: a ``<header>``, ``<line kind=...>``s and ``<deposit>``s, field names as
    tags; characters the encoding cannot hold become character references (nothing is lost)."""
    root = ET.Element(s.record_tag)
    fields = {"header": HEADER_FIELDS, "line": LINE_FIELDS, "deposit": DEPOSIT_FIELDS}
    for row in rows:
        element = ET.SubElement(root, row.kind, {"kind": row.line_kind} if row.line_kind else {})
        for name in fields[row.kind]:
            ET.SubElement(element, name).text = _cell(row.values.get(name, ""), None)
    ET.indent(root)
    buffer = io.BytesIO()
    name = codecs.lookup(s.encoding).name
    declared = {"cp1252": "windows-1252", "utf-8-sig": "utf-8"}.get(name, name)
    ET.ElementTree(root).write(buffer, encoding=declared, xml_declaration=True)
    return buffer.getvalue()


def _read_back(path: Path, s: OrderExportSettings) -> tuple[dict[str, str], list[dict[str, str]]]:
    """(header, deposit rows) of an order file passerelle wrote, by field name."""
    try:
        if s.format == "xml":
            headers = [row for _, row in read_xml(path, record_tag="header")]
            deposits = [row for _, row in read_xml(path, record_tag="deposit")]
        else:
            by_column = {name: f for f, name in s.columns.enabled()}
            rows = [
                {by_column[k]: v for k, v in row.items() if k in by_column}
                for _, row in read_csv(path, encoding=s.encoding, delimiter=s.delimiter)
            ]
            headers = [r for r in rows if r.get("row_type") == s.row_types.header]
            deposits = [r for r in rows if r.get("row_type") == s.row_types.deposit]
    except (OSError, UnicodeDecodeError, csv.Error, ET.ParseError) as exc:
        raise _unreadable(path, str(exc)) from None
    if not headers:
        raise _unreadable(path, f"no header row (row type {s.row_types.header!r} in {s.columns.row_type!r})")
    return headers[0], deposits


def _unreadable(path: Path, why: str) -> Fatal:
    return Fatal(
        f"the order file {path} cannot be read back ({why}).",
        resolution="the orders settings (format, encoding, columns, row types) must stay those the file was "
        "written with: restore them in [connections.<name>.erp.orders], or move the file out of the way "
        "after checking the ERP has the order.",
    )


def _same_payment(row: Mapping[str, str], payment: Payment, s: OrderExportSettings) -> bool:
    """A deposit row read back is this payment: same transaction id, or, without one, same
    method, amount and description (which carries the time of payment to the second)."""
    encoding = None if s.format == "xml" else s.encoding
    if payment.transaction_id:
        return row.get("transaction_id") == _cell(payment.transaction_id, encoding)
    if row.get("transaction_id"):
        return False
    method = s.payment_methods.get(payment.method, payment.method)
    try:
        amount = parse_decimal(row.get("deposit_amount", ""), decimal_separator=s.decimal_separator)
    except ValueError:
        return False
    return (
        row.get("payment_method") == _cell(method, encoding)
        and amount == payment.amount
        and row.get("description") == _cell(_deposit_label(payment, s), encoding)
    )


def _files(folder: Path) -> Iterator[Path]:
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_file():
                yield Path(entry.path)


def _place(folder: Path, name: str, data: bytes) -> bool:
    """Write ``folder/name`` atomically; False when a file of that name appeared meanwhile.

    Temporary file in the same folder (same file system: the link and the rename are atomic),
    flushed to disk, then hard-linked to its name, which refuses an existing name; on a share
    without hard links, renamed over it (a concurrent writer of the same order wrote the same
    bytes). Leftovers of killed writes of this name are removed first.
    """
    for stale in folder.glob(f".{glob.escape(name)}.*.tmp"):
        with suppress(OSError):
            stale.unlink()
    temporary = folder / f".{name}.{secrets.token_hex(4)}.tmp"
    target = folder / name
    try:
        # Not mkstemp: its 0600 mode would hide the file from an ERP running as another user.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, target)
        except FileExistsError:
            return False
        except OSError:
            os.replace(temporary, target)
        _sync_folder(folder)
        return True
    except OSError as exc:
        if not isinstance(exc, PermissionError) and exc.errno != errno.EROFS:
            raise Retryable(f"writing {target} failed: {exc}") from exc
        raise Fatal(
            f"cannot write in the order outbox {folder}: {exc}.",
            resolution="give the passerelle worker write access to it, or fix outbox in "
            "[connections.<name>.erp.orders].",
        ) from None
    finally:
        with suppress(OSError):
            temporary.unlink()


def _sync_folder(folder: Path) -> None:
    """Make the new name durable (POSIX; Windows and some shares cannot open a folder)."""
    with suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
