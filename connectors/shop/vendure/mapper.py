"""Canonical catalogue records -> Vendure Admin API inputs (pure functions, no I/O).

A table of direct copies would be thin here: Vendure wants translations per language,
prices in minor units and ids for tax categories, facet values and options, so each input is
built by one small function that receives the ids it needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connectors.models import Product, ShopPrice, Variant, currency_quantum, minor_units, shop_price, slugify

__all__ = [
    "ChannelInfo",
    "amount_for_channel",
    "category_values",
    "channel_price",
    "option_code",
    "price_for_channel",
    "product_input",
    "variant_create_input",
    "variant_update_input",
]


class ChannelInfo:
    """What the connector needs to know of the Vendure channel it writes to."""

    def __init__(self, *, currency: str, prices_include_tax: bool, language: str) -> None:
        self.currency = currency
        self.prices_include_tax = prices_include_tax
        self.language = language


def option_code(value: str) -> str:
    return slugify(value) or "none"


def category_values(path: tuple[str, ...]) -> list[tuple[str, str]]:
    """Facet values of one category path: one per level, so a filter on "Clothing" also finds
    "Clothing / T-shirts" (code, name)."""
    values = []
    for depth in range(1, len(path) + 1):
        prefix = path[:depth]
        values.append((slugify("-".join(prefix)), " / ".join(prefix)))
    return values


def channel_price(variant: Variant, channel: ChannelInfo) -> ShopPrice:
    """The variant's price in the channel's basis: a tax-excluded ERP price on a tax-inclusive
    channel gets its VAT, a tax-included one on a tax-exclusive channel loses it, rounded half-up
    to the currency's minor unit (the cent for EUR, the unit for JPY); same basis: as it is."""
    return shop_price(
        variant.price,
        variant.vat_rate,
        tax_included=variant.tax_included,
        shop_includes_tax=channel.prices_include_tax,
        currency=channel.currency,
    )


def price_for_channel(variant: Variant, channel: ChannelInfo) -> int:
    """:func:`channel_price` in minor units; an amount with more decimals than the currency is refused."""
    return minor_units(channel_price(variant, channel).amount, channel.currency)


def amount_for_channel(
    amount: Decimal, vat_rate: Decimal | None, channel: ChannelInfo, *, round_to_currency: bool = False
) -> int:
    """A tax-excluded amount in the channel's basis, in minor units.

    ``round_to_currency`` rounds half-up to the minor unit (for amounts converted from a
    tax-included ERP price); otherwise an amount with too many decimals is refused.
    """
    if channel.prices_include_tax and vat_rate is not None:
        amount = amount * (1 + vat_rate / Decimal(100))
        round_to_currency = True
    if round_to_currency:
        amount = amount.quantize(currency_quantum(channel.currency), rounding=ROUND_HALF_UP)
    return minor_units(amount, channel.currency)


def _translation(channel: ChannelInfo, **values: Any) -> list[dict[str, Any]]:
    return [{"languageCode": channel.language, **{k: v for k, v in values.items() if v is not None}}]


def product_input(
    product: Product,
    fields: frozenset[str],
    *,
    channel: ChannelInfo,
    facet_value_ids: list[str],
    custom_fields: frozenset[str],
    product_id: str | None = None,
) -> dict[str, Any]:
    """CreateProductInput (``product_id`` None) or UpdateProductInput with only ``fields``."""
    data: dict[str, Any] = {} if product_id is None else {"id": product_id}
    translation: dict[str, Any] = {}
    if "name" in fields:
        translation["name"] = product.name
    if "slug" in fields:
        translation["slug"] = product.slug
    if "description" in fields:
        translation["description"] = product.description or ""
    if translation or product_id is None:
        data["translations"] = _translation(channel, **translation)
    if "enabled" in fields:
        data["enabled"] = product.enabled
    if "categories" in fields:
        data["facetValueIds"] = facet_value_ids
    if "custom_fields" in fields:
        values = {k: v for k, v in product.custom_fields.items() if k in custom_fields}
        if values:
            data["customFields"] = values
    return data


def _variant_custom_fields(
    variant: Variant, custom_fields: Mapping[str, str], fields: frozenset[str]
) -> dict[str, Any]:
    """ProductVariant custom fields: the user-defined ones plus ean / weight where the shop defines them."""
    values: dict[str, Any] = {}
    if "custom_fields" in fields:
        values.update({k: v for k, v in variant.custom_fields.items() if k in custom_fields})
    if "ean" in fields and "ean" in custom_fields:
        values["ean"] = variant.ean
    if "weight" in fields and "weight" in custom_fields and variant.weight is not None:
        values["weight"] = float(variant.weight) if custom_fields["weight"] == "float" else str(variant.weight)
    return values


def variant_create_input(
    variant: Variant,
    *,
    product_id: str,
    option_ids: list[str],
    tax_category_id: str | None,
    channel: ChannelInfo,
    custom_fields: Mapping[str, str],
    manage_stock: bool = False,
) -> dict[str, Any]:
    """CreateProductVariantInput; ``manage_stock``: tracked, 0 on hand until the stock flow sends a quantity."""
    data: dict[str, Any] = {
        "productId": product_id,
        "sku": variant.sku,
        "price": price_for_channel(variant, channel),
        "optionIds": option_ids,
        "translations": _translation(channel, name=variant.name),
        "enabled": variant.enabled,
    }
    if tax_category_id is not None:
        data["taxCategoryId"] = tax_category_id
    if manage_stock:
        data.update(trackInventory="TRUE", stockOnHand=0)
    extra = _variant_custom_fields(variant, custom_fields, frozenset({"custom_fields", "ean", "weight"}))
    if extra:
        data["customFields"] = extra
    return data


def variant_update_input(
    variant: Variant,
    fields: frozenset[str],
    *,
    variant_id: str,
    tax_category_id: str | None,
    channel: ChannelInfo,
    custom_fields: Mapping[str, str],
) -> dict[str, Any]:
    data: dict[str, Any] = {"id": variant_id}
    if "sku" in fields:
        data["sku"] = variant.sku
    if "price" in fields or "currency" in fields:
        data["price"] = price_for_channel(variant, channel)
    if "name" in fields:
        data["translations"] = _translation(channel, name=variant.name)
    if "tax_category" in fields and tax_category_id is not None:
        data["taxCategoryId"] = tax_category_id
    if "enabled" in fields:
        data["enabled"] = variant.enabled
    extra = _variant_custom_fields(variant, custom_fields, fields)
    if extra:
        data["customFields"] = extra
    return data
