"""Canonical catalogue and price records -> WooCommerce REST v3 bodies (pure functions, no I/O).

Variant ids (``ShopRef.variant_ids``), one convention everywhere: ``"<product_id>"`` for the single
variant of a ``simple`` product (the product is what is sold), ``"<product_id>/<variation_id>"``
for a variation of a ``variable`` product (order lines carry the same ids, so the order import finds
the catalogue bindings). :func:`split_variant_id` reads them back.

Prices are sent in the basis the shop stores (``woocommerce_prices_include_tax``, read by the
connector): :func:`variant_price` converts a tax-included ERP price for a tax-excluded shop and the
reverse (:func:`connectors.models.shop_price`). Money travels as strings with the currency's
decimals (``"39.00"``); WooCommerce stores whatever
string it gets (the capture shows ``"abc"`` accepted with a 201 and the price silently dropped), so
every amount is checked here and a bad one is refused before anything is sent.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from connectors.models import Product, ShopPrice, Variant, currency_quantum, ensure_utc, shop_price

__all__ = [
    "BRAND_META",
    "EAN_META",
    "META_PREFIX",
    "STOCK_AT_ZERO",
    "PriceError",
    "STATUS_META",
    "is_variable",
    "money",
    "product_body",
    "split_variant_id",
    "variant_id",
    "variant_price",
    "variation_body",
    "wc_datetime",
]

META_PREFIX = "_passerelle_"
"""Prefix of the meta_data keys passerelle writes (a leading ``_`` hides them from the admin's custom fields box)."""
EAN_META = f"{META_PREFIX}ean"
"""Where the EAN goes on a WooCommerce older than 9.2, which has no ``global_unique_id`` field."""
BRAND_META = f"{META_PREFIX}brand"
"""Where the brand name goes on a WooCommerce older than 9.6, which has no Brands taxonomy."""
STATUS_META = f"{META_PREFIX}status"
"""The order meta the status sink writes with every status it sets, in the same save:
``{"status": set, "from": the status it found, "date_paid_gmt", "transaction_id"}`` as they were
before. WooCommerce stamps ``date_paid`` when an order reaches processing or completed, so neither
that status nor that date is payment evidence when passerelle set them: the order mapper reads
the payment from what the order was before (``from`` is carried over when passerelle moves an
order it moved already)."""


STOCK_AT_ZERO = {"manage_stock": True, "stock_quantity": 0}
"""What a product or variation is created with when the stock flow owns its quantities: not for
sale until the stock flow sends one (WooCommerce sells a product whose stock it does not manage
without limit). Never sent on update: the quantity is the stock flow's."""


class PriceError(ValueError):
    """An amount WooCommerce must not receive (not a number, negative, too many decimals)."""


def is_variable(product: Product) -> bool:
    """A product whose variants differ by options is ``variable``; a lone article is ``simple``."""
    return bool(product.option_groups)


def variant_id(product_id: str, variation_id: str | None = None) -> str:
    return product_id if variation_id is None else f"{product_id}/{variation_id}"


def split_variant_id(value: str) -> tuple[str, str | None]:
    """``"10/12"`` -> ("10", "12") (a variation); ``"16"`` -> ("16", None) (a simple product)."""
    product_id, _, variation = str(value).partition("/")
    return product_id, variation or None


def money(amount: Decimal | None, currency: str, *, round_to_currency: bool = False) -> str:
    """``Decimal("39")`` -> ``"39.00"``; refuses what WooCommerce would store as garbage.

    Raises:
        PriceError: not a finite, non-negative number with at most the currency's decimals.
    """
    quantum = currency_quantum(currency)
    try:
        value = Decimal(amount)  # type: ignore[arg-type]
        if not value.is_finite():
            raise InvalidOperation
    except (InvalidOperation, TypeError, ValueError):
        raise PriceError(f"{amount!r} is not a price") from None
    if value < 0:
        raise PriceError(f"{value} is negative")
    rounded = value.quantize(quantum, rounding=ROUND_HALF_UP)
    if rounded != value and not round_to_currency:
        raise PriceError(f"{value} {currency} has more decimals than the currency allows")
    return str(rounded)


def wc_datetime(value: datetime | None) -> str | None:
    """An aware datetime as WooCommerce's ``*_gmt`` fields want it (``2026-11-26T23:00:00``)."""
    return None if value is None else ensure_utc(value).strftime("%Y-%m-%dT%H:%M:%S")


def _weight(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


def _meta(custom_fields: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": k, "value": v} for k, v in sorted(custom_fields.items())]


def variant_price(variant: Variant, include_tax: bool | None) -> ShopPrice:
    """The variant's price in the basis the shop stores: ``include_tax`` is the shop's
    ``woocommerce_prices_include_tax`` (None: taxes off, the ERP's price as it is stated).

    Raises:
        PriceError: the ERP's price is not one WooCommerce should receive (see :func:`money`).
    """
    money(variant.price, variant.currency)  # the ERP's own figure, before any conversion
    assert variant.price is not None
    return shop_price(
        variant.price,
        variant.vat_rate,
        tax_included=variant.tax_included,
        shop_includes_tax=variant.tax_included if include_tax is None else include_tax,
        currency=variant.currency,
    )


def _variant_values(
    variant: Variant,
    fields: frozenset[str],
    tax_class: str | None,
    *,
    simple: bool,
    gtin: bool = True,
    include_tax: bool | None = False,
) -> dict[str, Any]:
    """What a product (simple) or a variation carries of a variant: SKU, price, EAN, tax class, weight."""
    data: dict[str, Any] = {}
    if "sku" in fields:
        data["sku"] = variant.sku
    if "price" in fields or "currency" in fields:
        data["regular_price"] = money(variant_price(variant, include_tax).amount, variant.currency)
    meta: list[dict[str, Any]] = []
    if "ean" in fields and gtin:
        data["global_unique_id"] = variant.ean or ""
    elif "ean" in fields:
        meta.append({"key": EAN_META, "value": variant.ean or ""})
    if "tax_category" in fields and tax_class is not None:
        data["tax_class"] = tax_class
    if "weight" in fields:
        data["weight"] = _weight(variant.weight)
    if "custom_fields" in fields and variant.custom_fields:
        meta += _meta(variant.custom_fields)
    if meta:
        data["meta_data"] = meta
    if "enabled" in fields and not simple:
        data["status"] = "publish" if variant.enabled else "private"
    return data


def product_body(
    product: Product,
    fields: frozenset[str],
    *,
    variant_fields: frozenset[str] = frozenset(),
    category_ids: list[int] | None = None,
    attributes: list[dict[str, Any]] | None = None,
    tax_class: str | None = None,
    product_id: str | None = None,
    gtin: bool = True,
    skip_custom_fields: set[str] | frozenset[str] = frozenset(),
    manage_stock: bool = False,
    include_tax: bool | None = False,
) -> dict[str, Any]:
    """A ``products/batch`` create (``product_id`` None) or update item with only ``fields``.

    A simple product also carries its variant's ``variant_fields``; ``attributes`` (a variable
    product's ``[{id, variation, visible, options}]``) are sent when given. Custom fields in
    ``skip_custom_fields`` (the brand, the features: written elsewhere) are not copied to meta data.
    ``manage_stock`` (a creation only): the simple product starts with its stock managed at 0.
    """
    simple = not is_variable(product)
    data: dict[str, Any] = {} if product_id is None else {"id": int(product_id)}
    if product_id is None:
        data["type"] = "simple" if simple else "variable"
    if "name" in fields:
        data["name"] = product.name
    if "slug" in fields:
        data["slug"] = product.slug
    if "description" in fields:
        data["description"] = product.description or ""
    if "enabled" in fields:
        enabled = product.enabled and (not simple or all(v.enabled for v in product.variants))
        data["status"] = "publish" if enabled else "draft"
    if "categories" in fields and category_ids is not None:
        data["categories"] = [{"id": i} for i in category_ids]
    if "images" in fields:
        data["images"] = [{"src": url} for url in product.images if url.startswith(("http://", "https://"))]
    custom = {k: v for k, v in product.custom_fields.items() if k not in skip_custom_fields}
    if "custom_fields" in fields and custom:
        data["meta_data"] = _meta(custom)
    if attributes is not None:
        data["attributes"] = attributes
    if simple and product.variants:
        values = _variant_values(
            product.variants[0], variant_fields, tax_class, simple=True, gtin=gtin, include_tax=include_tax
        )
        if "meta_data" in values and "meta_data" in data:
            data["meta_data"] = data["meta_data"] + values.pop("meta_data")
        data.update(values)
        if manage_stock and product_id is None:
            data.update(STOCK_AT_ZERO)
    return data


def variation_body(
    variant: Variant,
    fields: frozenset[str],
    *,
    attribute_ids: dict[str, int],
    tax_class: str | None,
    variation_id: str | None = None,
    gtin: bool = True,
    manage_stock: bool = False,
    include_tax: bool | None = False,
) -> dict[str, Any]:
    """A ``variations/batch`` create (``variation_id`` None: every field) or update item;
    ``manage_stock`` (a creation only): the variation starts with its stock managed at 0."""
    data: dict[str, Any] = {} if variation_id is None else {"id": int(variation_id)}
    data.update(_variant_values(variant, fields, tax_class, simple=False, gtin=gtin, include_tax=include_tax))
    if manage_stock and variation_id is None:
        data.update(STOCK_AT_ZERO)
    if "options" in fields:
        data["attributes"] = [{"id": attribute_ids[name], "option": value} for name, value in variant.options.items()]
    return data
