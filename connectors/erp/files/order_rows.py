"""The rows of an order file and their bytes: header, lines, shipping, discounts per VAT rate, the
adjustment and the deposits (``order_rows``), written as CSV or XML in the file's encoding. No
I/O; the layout is in ``docs/files-orders.md``."""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from connectors.erp.files.settings import OrderExportSettings
from connectors.errors import RecordError, Refused
from connectors.models import Address, Discount, Order, OrderLine, Payment, currency_quantum, ensure_utc, person_name

__all__ = ["DEPOSIT_FIELDS", "HEADER_FIELDS", "LINE_FIELDS", "order_rows", "split_discount"]


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


_ENCODED = r"[A-Za-z0-9%_-]+?"


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
        "name": person_name(address.first_name, address.last_name),
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
