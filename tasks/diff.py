"""Change detection: what to create, update, leave alone or archive, from content hashes.

Passerelle owns a set of fields in the shop (everything it writes except the create-only
ones). Each binding stores the SHA-256 of those fields as last sent; a product whose hash is
unchanged is not sent at all. Create-only fields (by default slug, description, images) are
written when the product is created and never again, so enrichment done in the shop survives.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.base import ProductWrite
from connectors.models import Product, ShopRef, Variant, content_hash

__all__ = ["BindingView", "CataloguePlan", "Ownership", "PRODUCT_FIELDS", "VARIANT_FIELDS", "plan_catalogue"]

PRODUCT_FIELDS = ("name", "slug", "description", "categories", "images", "enabled", "custom_fields", "option_groups")
VARIANT_FIELDS = (
    "sku",
    "name",
    "price",
    "currency",
    "options",
    "ean",
    "tax_category",
    "weight",
    "enabled",
    "custom_fields",
)


@dataclass(frozen=True, slots=True)
class BindingView:
    """What the diff needs of a stored binding (kept apart from the ORM so the diff stays pure)."""

    key: str
    shop_id: str | None
    content_hash: str | None
    state: str
    parent_key: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Ownership:
    """Which fields passerelle writes on update. ``create_only`` holds product field names
    (``description``, ``custom_fields.material``) and variant ones prefixed ``variant.``."""

    create_only: frozenset[str] = frozenset({"slug", "description", "images"})

    @property
    def product_fields(self) -> frozenset[str]:
        return frozenset(f for f in PRODUCT_FIELDS if f not in self.create_only)

    @property
    def variant_fields(self) -> frozenset[str]:
        return frozenset(f for f in VARIANT_FIELDS if f"variant.{f}" not in self.create_only)

    @property
    def keep_custom(self) -> frozenset[str]:
        """Product custom fields that are create-only (``custom_fields.brand`` -> ``brand``)."""
        return frozenset(f.removeprefix("custom_fields.") for f in self.create_only if f.startswith("custom_fields."))

    @property
    def keep_variant_custom(self) -> frozenset[str]:
        prefix = "variant.custom_fields."
        return frozenset(f.removeprefix(prefix) for f in self.create_only if f.startswith(prefix))

    def product_payload(self, product: Product) -> dict[str, Any]:
        data = {f: getattr(product, f) for f in sorted(self.product_fields)}
        if "custom_fields" in data:
            data["custom_fields"] = {
                k: v for k, v in data["custom_fields"].items() if f"custom_fields.{k}" not in self.create_only
            }
        return data

    def variant_payload(self, variant: Variant) -> dict[str, Any]:
        data = {f: getattr(variant, f) for f in sorted(self.variant_fields)}
        if "custom_fields" in data:
            data["custom_fields"] = {
                k: v for k, v in data["custom_fields"].items() if f"variant.custom_fields.{k}" not in self.create_only
            }
        if "price" in data and variant.tax_included:
            # The price's basis is part of the price; left out when tax-excluded, so the hashes of
            # catalogues that never had tax-included prices stay what they were.
            data["tax_included"] = True
        return data

    def product_hash(self, product: Product) -> str:
        return content_hash(self.product_payload(product))

    def variant_hash(self, variant: Variant) -> str:
        return content_hash(self.variant_payload(variant))


@dataclass(slots=True)
class CataloguePlan:
    writes: list[ProductWrite] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    archive: dict[str, ShopRef] = field(default_factory=dict)

    @property
    def creates(self) -> list[ProductWrite]:
        return [w for w in self.writes if w.ref is None]

    @property
    def updates(self) -> list[ProductWrite]:
        return [w for w in self.writes if w.ref is not None]


def plan_catalogue(
    products: Iterable[Product],
    product_bindings: Mapping[str, BindingView],
    variant_bindings: Mapping[str, BindingView],
    *,
    ownership: Ownership,
    read_article_keys: set[str],
    read_product_keys: set[str],
    full: bool = False,
    archive_missing: bool = True,
) -> CataloguePlan:
    """Compare the products to publish with what was last sent.

    Args:
        products: products that passed the quality gate (refused variants already removed).
        read_article_keys / read_product_keys: everything the ERP returned, refused or not: a
            record in quarantine still exists in the ERP, so it is never disabled or archived.
        full: send every owned field of every bound product, whatever the hashes say (drift repair).
        archive_missing: archive bound products the ERP no longer returns.
    """
    plan = CataloguePlan()
    by_parent: dict[str, list[BindingView]] = {}
    for vb in variant_bindings.values():
        if vb.parent_key is not None:
            by_parent.setdefault(vb.parent_key, []).append(vb)
    all_product_fields = frozenset(PRODUCT_FIELDS)
    for product in products:
        binding = product_bindings.get(product.key)
        if binding is None or binding.shop_id is None:
            if binding is not None and binding.data.get("slug"):
                product.slug = str(binding.data["slug"])  # the slug claimed before a run was cut off
            plan.writes.append(
                ProductWrite(
                    product=product,
                    ref=None,
                    product_fields=all_product_fields,
                    create_variants=[v.key for v in product.variants],
                    variant_fields=frozenset(VARIANT_FIELDS),
                )
            )
            continue
        siblings = by_parent.get(product.key, [])
        # Archived variants were only disabled in the shop (never deleted): one back in the ERP is
        # re-enabled in place, since the shop refuses a second variant with the same options.
        ref = ShopRef(
            product_id=binding.shop_id,
            variant_ids={vb.key: vb.shop_id for vb in siblings if vb.shop_id is not None},
        )
        write = ProductWrite(
            product=product,
            ref=ref,
            product_fields=frozenset(),
            variant_fields=ownership.variant_fields,
            keep_custom=ownership.keep_custom,
            keep_variant_custom=ownership.keep_variant_custom,
        )
        if full or binding.state != "synced" or binding.content_hash != ownership.product_hash(product):
            write.product_fields = ownership.product_fields
        wanted = {v.key for v in product.variants}
        for variant in product.variants:
            found = variant_bindings.get(variant.key)
            if found is None or found.shop_id is None or found.parent_key != product.key:
                write.create_variants.append(variant.key)
            elif full or found.state != "synced" or found.content_hash != ownership.variant_hash(variant):
                write.update_variants.append(variant.key)
        for vb in siblings:
            if vb.key not in wanted and vb.key not in read_article_keys and vb.shop_id and vb.state != "archived":
                write.disable_variants[vb.key] = vb.shop_id
        if write.product_fields or write.create_variants or write.update_variants or write.disable_variants:
            plan.writes.append(write)
        else:
            plan.unchanged.append(product.key)
    if archive_missing:
        for key, binding in product_bindings.items():
            if key in read_product_keys or binding.state == "archived" or binding.shop_id is None:
                continue
            plan.archive[key] = ShopRef(
                product_id=binding.shop_id,
                variant_ids={vb.key: vb.shop_id for vb in by_parent.get(key, []) if vb.shop_id},
            )
    return plan
