"""The dry run's per-record, per-field diff: what the shop (or the ERP) holds now -> what a run
would write. Pure functions, no I/O: the flows read the shop, this module compares and renders.

A change is one line an operator reads::

    would update product g:12 (SKU POLO-M): name "Polo" -> "Polo piqué"
    would create product g:13 (SKU MUG, 1 variant)

Only fields passerelle owns are compared (``tasks.diff.Ownership``): create-only fields (slug,
description, ...) are never in an update's diff, since no run would write them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from connectors.base import ShopProductValues, ShopVariantValues
from connectors.models import Order, Product, Variant, shop_price
from tasks.common import markdown_table
from tasks.diff import Ownership

__all__ = [
    "FieldChange",
    "change_line",
    "change_lines",
    "changes_markdown",
    "format_value",
    "order_changes",
    "price_text",
    "product_changes",
    "product_record",
    "variant_record",
]

LINE_LIMIT = 50
"""Change lines shown on a terminal and in an artifact; the rest is counted ("... N more")."""

_PRODUCT_COMPARED = ("name", "enabled", "categories")
_VARIANT_COMPARED = ("sku", "name", "price", "enabled", "tax_category", "options")


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field of one record: ``old`` (what the shop holds now, None: nothing) -> ``new``.

    ``action`` is ``create`` (``field`` empty: the whole record), ``update``, ``archive`` or
    ``send`` (orders: what the ERP would receive); ``old`` and ``new`` are display strings."""

    record: str
    field: str
    old: str | None
    new: str | None
    action: str = "update"
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        return {k: ("" if v is None else str(v)) for k, v in asdict(self).items()}


def format_value(value: Any) -> str:
    """A value as an operator reads it: strings quoted, Decimals as they are, mappings ``k=v``."""
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}={v}" for k, v in sorted(value.items())) + "}"
    if isinstance(value, (list, tuple, set, frozenset)):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def price_text(amount: Decimal | None, currency: str | None, includes_tax: bool) -> str:
    """``39.00 EUR tax excl.``: a price always says its basis."""
    if amount is None:
        return "(none)"
    return f"{amount} {currency or ''} {'tax incl.' if includes_tax else 'tax excl.'}".replace("  ", " ")


def product_record(product: Product) -> str:
    skus = [v.sku for v in product.variants if v.sku]
    return f"product {product.key}" + (f" (SKU {skus[0]})" if skus else "")


def variant_record(variant: Variant) -> str:
    return f"variant {variant.key}" + (f" (SKU {variant.sku})" if variant.sku and variant.sku != variant.key else "")


def product_changes(
    product: Product,
    shop: ShopProductValues | None,
    *,
    ownership: Ownership,
    variant_ids: Mapping[str, str] | None = None,
    gone: str = "",
) -> list[FieldChange]:
    """The diff of one product against what the shop holds (``shop`` None: not in the shop, so
    the whole product would be created; ``gone`` says why when a binding pointed at it).

    ``variant_ids`` maps variant keys to the shop variant ids the bindings know; variants are else
    matched by SKU. Only owned fields are compared (create-only ones never are)."""
    record = product_record(product)
    if shop is None:
        count = len(product.variants)
        detail = f"{count} variant{'s' if count != 1 else ''}" + (f"; {gone}" if gone else "")
        return [FieldChange(record, "", None, None, action="create", detail=detail)]
    changes: list[FieldChange] = []
    owned = ownership.product_fields
    for name in _PRODUCT_COMPARED:
        if name not in owned:
            continue
        if name == "categories":
            if shop.categories is None:
                continue
            old_value: Any = [" / ".join(path) for path in sorted(shop.categories)]
            paths = set(product.categories)
            leaves = [p for p in paths if not any(len(o) > len(p) and o[: len(p)] == p for o in paths)]
            new_value: Any = [" / ".join(path) for path in sorted(leaves)]
        else:
            old_value, new_value = getattr(shop, name), getattr(product, name)
        if old_value != new_value:
            changes.append(FieldChange(record, name, format_value(old_value), format_value(new_value)))
    by_id = {v.variant_id: v for v in shop.variants}
    by_sku = {v.sku: v for v in shop.variants if v.sku}
    ids = variant_ids or {}
    for variant in product.variants:
        held = by_id.get(ids.get(variant.key, "")) or (by_sku.get(variant.sku) if variant.sku else None)
        if held is None:
            changes.append(FieldChange(variant_record(variant), "", None, None, action="create", detail=record))
            continue
        changes += variant_changes(product, variant, held, ownership=ownership)
    return changes


def variant_changes(
    product: Product, variant: Variant, held: ShopVariantValues, *, ownership: Ownership
) -> list[FieldChange]:
    """Owned fields of one variant that differ from what the shop variant holds."""
    record = variant_record(variant)
    owned = ownership.variant_fields
    changes: list[FieldChange] = []
    for name in _VARIANT_COMPARED:
        if name not in owned:
            continue
        if name == "price":
            if variant.price is None or held.price is None:
                continue
            currency = held.currency or variant.currency
            new_price = shop_price(
                variant.price,
                variant.vat_rate,
                tax_included=variant.tax_included,
                shop_includes_tax=held.price_includes_tax,
                currency=currency,
            ).amount
            if new_price != held.price or (held.currency or currency).upper() != variant.currency.upper():
                changes.append(
                    FieldChange(
                        record,
                        "price",
                        price_text(held.price, held.currency, held.price_includes_tax),
                        price_text(new_price, variant.currency, held.price_includes_tax),
                    )
                )
            continue
        if name == "options":
            if not product.option_groups:
                continue
            old_value: Any = dict(held.options)
            new_value: Any = {product.option_label(g): variant.options.get(g, "") for g in product.option_groups}
        else:
            old_value, new_value = getattr(held, name), getattr(variant, name)
            if name == "tax_category" and new_value is None:
                continue
        if old_value != new_value:
            changes.append(FieldChange(record, name, format_value(old_value), format_value(new_value)))
    return changes


def change_line(change: FieldChange | Mapping[str, Any]) -> str:
    """``would update product g:12 (SKU POLO-M): name "Polo" -> "Polo piqué"``."""
    c = change.as_dict() if isinstance(change, FieldChange) else {k: str(v or "") for k, v in change.items()}
    action, record, name = c.get("action", "update"), c.get("record", ""), c.get("field", "")
    detail = f" ({c['detail']})" if c.get("detail") else ""
    if action == "send":
        return f"would send {record}: {name} {c.get('new', '')}".rstrip() + detail
    if not name:
        if c.get("detail") and record.endswith(")"):
            return f"would {action} {record[:-1]}, {c['detail']})"  # product g:1 (SKU X, 2 variants)
        return f"would {action} {record}{detail}"
    old = c.get("old") or "(none)"
    return f"would {action} {record}: {name} {old} -> {c.get('new') or '(none)'}{detail}"


def change_lines(changes: Sequence[FieldChange | Mapping[str, Any]], limit: int = LINE_LIMIT) -> list[str]:
    """The first ``limit`` lines, then ``... N more``."""
    lines = [change_line(c) for c in changes[:limit]]
    if len(changes) > limit:
        lines.append(f"... {len(changes) - limit} more")
    return lines


def changes_markdown(changes: Iterable[FieldChange | Mapping[str, Any]], limit: int = 200) -> list[str]:
    """A "What would change" section of an artifact (a table capped at ``limit`` rows)."""
    rows = [c.as_dict() if isinstance(c, FieldChange) else dict(c) for c in changes]
    if not rows:
        return []
    table = [
        (
            r.get("action", ""),
            r.get("record", ""),
            r.get("field", ""),
            r.get("old", ""),
            r.get("new", ""),
            r.get("detail", ""),
        )
        for r in rows[:limit]
    ]
    lines = [
        "",
        f"## What would change ({len(rows)})",
        "",
        markdown_table(["", "record", "field", "old", "new", "note"], table),
    ]
    if len(rows) > limit:
        lines += ["", f"... {len(rows) - limit} more"]
    return lines


def order_changes(order: Order, products: Mapping[str, str]) -> list[FieldChange]:
    """What the ERP would receive for one order, one line per part (customer, lines, shipping,
    discounts, totals, deposit). Amounts say their basis; no personal value is shown (the customer
    is named by its shop id). ``products`` maps order line ids to ERP article keys."""
    record = f"order {order.reference} (shop {order.shop_id})"
    cur = order.currency
    customer = "guest" if order.customer.guest else f"shop customer {order.customer.shop_id}"
    country = order.billing.country if order.billing else (order.shipping.country if order.shipping else None)
    changes = [FieldChange(record, "customer", None, customer + (f", billing in {country}" if country else ""), "send")]
    for line in order.lines:
        article = products.get(line.line_id)
        vat = f", VAT {line.vat_rate} %" if line.vat_rate is not None else ""
        off = f", discount {line.discount} {cur} tax excl." if line.discount else ""
        changes.append(
            FieldChange(
                record,
                "line",
                None,
                f"{line.sku or line.line_id} x {line.quantity} x {line.unit_price} {cur} tax excl.{vat}{off}"
                f" = {line.total} {cur} tax excl. / {line.total_tax_included} {cur} tax incl.",
                "send",
                detail=f"ERP article {article}" if article else "no ERP article bound to this SKU",
            )
        )
    if order.shipping_method or order.shipping_price:
        changes.append(
            FieldChange(
                record,
                "shipping",
                None,
                f"{order.shipping_method or '(no method)'}: {order.shipping_price} {cur} tax excl. / "
                f"{order.shipping_price_tax_included} {cur} tax incl.",
                "send",
            )
        )
    for discount in order.discounts:
        code = f" ({discount.code})" if discount.code else ""
        changes.append(
            FieldChange(
                record,
                "discount",
                None,
                f'"{discount.description}"{code}: {discount.amount} {cur} tax excl. / '
                f"{discount.amount_tax_included} {cur} tax incl.",
                "send",
            )
        )
    changes.append(
        FieldChange(
            record, "total", None, f"{order.total} {cur} tax excl. / {order.total_tax_included} {cur} tax incl.", "send"
        )
    )
    for payment in order.payments:
        if payment.state == "settled":
            changes.append(
                FieldChange(record, "deposit", None, f"{payment.amount} {cur} tax incl. by {payment.method}", "send")
            )
    return changes
