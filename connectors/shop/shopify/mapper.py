"""Canonical products -> Shopify ``ProductSetInput`` (pure functions, no I/O).

A product is one ``productSet`` input: title, ``descriptionHtml``, ``handle`` (the slug), ``vendor``
(the brand custom field), ``productType`` (the deepest level of the first category path) and
``tags`` (every category name), ``status``, ``productOptions`` named by the option *labels*
customers read (``Product.option_label``), one variant per canonical variant (SKU, barcode = EAN,
price in the shop's tax basis, a tracked inventory item with its weight, ``optionValues``) and
metafields in the ``passerelle`` namespace: the features (``settings.features``: custom field ->
metafield key) and passerelle's own key (``passerelle.key``).

A product without options is Shopify's default one: option ``Title`` with the value ``Default
Title`` (shopify.dev "Sync product data from an external source", new product model).

Limits (checked here, so the product is refused before anything is sent):
- options: at most 3 per product (schema, ``ProductSetInput.productOptions``: "maximum of 3 per
  product"; ``ProductSetUserErrorCode.OPTIONS_OVER_LIMIT``);
- variants: at most 2 048 per product (shopify.dev changelog "The product variant limit is now 2048
  for all merchants", docs/shopify.md "Limits"; ``VARIANTS_OVER_LIMIT``), or what the shop's
  ``shop.resourceLimits { maxProductOptions maxProductVariants }`` says when it is lower (a shop
  still at the historical 100).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from connectors.models import Product, ShopPrice, Variant, currency_quantum, shop_price

__all__ = [
    "DEFAULT_OPTION",
    "KEY_METAFIELD",
    "MAX_OPTIONS",
    "MAX_VARIANTS",
    "METAFIELD_TYPE",
    "NAMESPACE",
    "MappingError",
    "check_product",
    "money",
    "option_values",
    "owned_metafields",
    "product_fields_input",
    "product_options",
    "merge_tags",
    "tags",
    "variant_input",
    "variant_price",
]

NAMESPACE = "passerelle"
"""The metafield namespace passerelle writes (features and its own key)."""
KEY_METAFIELD = "key"
"""``passerelle.key``: the canonical product key, so the merchant (and support) see which ERP record it is."""
METAFIELD_TYPE = "single_line_text_field"
TAGS_METAFIELD = "tags"
"""``passerelle.tags``: the tags passerelle set from the categories (type
``list.single_line_text_field``, a JSON array), so that a change of categories replaces those and
keeps every tag the merchant added (``productSet`` replaces the whole tag list)."""
TAGS_METAFIELD_TYPE = "list.single_line_text_field"
MAX_OPTIONS = 3
MAX_VARIANTS = 2048
DEFAULT_OPTION = ("Title", "Default Title")
WEIGHT_UNIT = "KILOGRAMS"
"""Canonical weights are in kilograms (``WeightUnit.KILOGRAMS``)."""


TAX_CATEGORIES = {"taxable": True, "exempt": False}
"""What ``catalogue.taxes.<COUNTRY>`` maps a VAT rate to on Shopify: Shopify computes the rate itself
from the shop's tax regions (and its overrides per collection); a variant is only ``taxable`` or
not (docs/shopify.md, "Taxes")."""


class MappingError(ValueError):
    """A product Shopify must not receive; ``field`` names what is wrong."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field


def check_product(product: Product, *, max_options: int = MAX_OPTIONS, max_variants: int = MAX_VARIANTS) -> None:
    """Refuse what Shopify's product model cannot hold (see the module's limits; the shop's own
    ``shop.resourceLimits`` when it is lower)."""
    if len(product.option_groups) > max_options:
        raise MappingError(
            "option_groups",
            f"{len(product.option_groups)} option groups ({', '.join(product.option_groups)}): Shopify holds "
            f"at most {max_options} options per product",
        )
    if len(product.variants) > max_variants:
        raise MappingError(
            "variants", f"{len(product.variants)} variants: this Shopify shop holds at most {max_variants} per product"
        )
    if not product.variants:
        raise MappingError("variants", "a Shopify product needs at least one variant")
    labels = [product.option_label(code) for code in product.option_groups]
    if len(set(labels)) != len(labels):
        raise MappingError("option_groups", f"two options named alike ({', '.join(labels)})")
    seen: set[tuple[str, ...]] = set()
    for variant in product.variants:
        if variant.tax_category is not None and variant.tax_category.lower() not in TAX_CATEGORIES:
            raise MappingError(
                "tax_category",
                f"variant {variant.sku}: tax category {variant.tax_category!r} is neither 'taxable' nor 'exempt' "
                "(map each VAT rate to one of them in catalogue.taxes)",
            )
        combo = tuple(variant.options.get(code) or "" for code in product.option_groups)
        if product.option_groups and "" in combo:
            missing = [c for c in product.option_groups if not variant.options.get(c)]
            raise MappingError("options", f"variant {variant.sku} has no value for {', '.join(missing)}")
        if combo in seen:
            raise MappingError("options", f"variant {variant.sku} repeats the options of another variant")
        seen.add(combo)


def money(amount: Decimal | None, currency: str) -> str:
    """``Decimal("39")`` -> ``"39.00"`` (Shopify's ``Money`` scalar is a decimal string).

    Raises:
        MappingError: not a finite, non-negative number.
    """
    try:
        value = Decimal(amount)  # type: ignore[arg-type]
        if not value.is_finite():
            raise InvalidOperation
    except (InvalidOperation, TypeError, ValueError):
        raise MappingError("price", f"{amount!r} is not a price") from None
    if value < 0:
        raise MappingError("price", f"{value} is negative")
    return str(value.quantize(currency_quantum(currency), rounding=ROUND_HALF_UP))


def variant_price(variant: Variant, taxes_included: bool) -> ShopPrice:
    """The variant's price in the shop's basis (``shop.taxesIncluded``)."""
    money(variant.price, variant.currency)  # the ERP's own figure first
    return shop_price(
        variant.price,
        variant.vat_rate,
        tax_included=variant.tax_included,
        shop_includes_tax=taxes_included,
        currency=variant.currency,
    )


def product_options(product: Product) -> list[dict[str, Any]]:
    """``productOptions``: one per option group, named by its label, with every value in use."""
    if not product.option_groups:
        return [{"name": DEFAULT_OPTION[0], "position": 1, "values": [{"name": DEFAULT_OPTION[1]}]}]
    options = []
    for position, code in enumerate(product.option_groups, start=1):
        values = list(dict.fromkeys(v.options[code] for v in product.variants if v.options.get(code)))
        options.append(
            {"name": product.option_label(code), "position": position, "values": [{"name": n} for n in values]}
        )
    return options


def option_values(product: Product, variant: Variant) -> list[dict[str, str]]:
    """A variant's ``optionValues`` (``optionName`` = the option's label)."""
    if not product.option_groups:
        return [{"optionName": DEFAULT_OPTION[0], "name": DEFAULT_OPTION[1]}]
    return [{"optionName": product.option_label(code), "name": variant.options[code]} for code in product.option_groups]


def variant_input(
    product: Product,
    variant: Variant,
    fields: frozenset[str],
    *,
    taxes_included: bool,
    variant_id: str | None = None,
) -> dict[str, Any]:
    """A ``ProductVariantSetInput`` with ``fields`` (every field for a new variant: ``variant_id``
    None). ``optionValues`` is required by the schema: always there."""
    data: dict[str, Any] = {} if variant_id is None else {"id": variant_id}
    data["optionValues"] = option_values(product, variant)
    if "sku" in fields:
        data["sku"] = variant.sku
    if "ean" in fields:
        data["barcode"] = variant.ean or ""
    if "tax_category" in fields and variant.tax_category is not None:
        data["taxable"] = TAX_CATEGORIES[variant.tax_category.lower()]
    if "price" in fields or "currency" in fields:
        data["price"] = money(variant_price(variant, taxes_included).amount, variant.currency)
    item: dict[str, Any] = {}
    if variant_id is None:
        item["tracked"] = True
    if "weight" in fields and variant.weight is not None:
        item["measurement"] = {"weight": {"value": float(variant.weight), "unit": WEIGHT_UNIT}}
    if item:
        data["inventoryItem"] = item
    return data


def tags(product: Product) -> list[str]:
    """Every category name of every path, in order, once."""
    return list(dict.fromkeys(name for path in product.categories for name in path if name))


def merge_tags(ours: list[str], held: list[str], set_before: list[str] | None) -> list[str]:
    """The tag list to send: passerelle's (``ours``, from the categories) then every tag Shopify holds
    that passerelle did not set before (the merchant's). Without the record of what passerelle set
    (a product adopted or made by hand), every held tag is kept: nothing is lost, an old category
    tag may stay until the merchant removes it."""
    before = {t.casefold() for t in set_before or []}
    mine = {t.casefold() for t in ours}
    return ours + [t for t in held if t.casefold() not in mine and t.casefold() not in before]


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def owned_metafields(
    product: Product, features: Mapping[str, str], keep: frozenset[str] = frozenset()
) -> dict[str, str]:
    """The ``passerelle`` metafields this product owns: key -> value (empty features left out, and
    those whose field is in ``keep``: create-only, the shop's value stays)."""
    values = {KEY_METAFIELD: product.key}
    for field, key in features.items():
        if field in keep:
            continue
        value = _text(product.custom_fields.get(field))
        if value:
            values[key] = value
    return values


def product_fields_input(
    product: Product,
    fields: frozenset[str],
    *,
    brand_field: str | None,
    keep_custom: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The product-level part of a ``ProductSetInput`` with only ``fields`` (no id, variants, options, metafields)."""
    data: dict[str, Any] = {}
    if "name" in fields:
        data["title"] = product.name
    if "slug" in fields:
        data["handle"] = product.slug
    if "description" in fields:
        data["descriptionHtml"] = product.description or ""
    if "categories" in fields:
        data["productType"] = product.categories[0][-1] if product.categories and product.categories[0] else ""
        data["tags"] = tags(product)
    if "enabled" in fields:
        data["status"] = "ACTIVE" if product.enabled else "DRAFT"
    if brand_field and "custom_fields" in fields and brand_field not in keep_custom:
        data["vendor"] = _text(product.custom_fields.get(brand_field))
    if "images" in fields:
        data["files"] = [
            {"originalSource": url, "contentType": "IMAGE"}
            for url in product.images
            if url.startswith(("http://", "https://"))
        ]
    return data
