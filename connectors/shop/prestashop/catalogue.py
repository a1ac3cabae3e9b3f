"""PrestaShop as a catalogue sink: products, combinations, attribute groups and values, categories.

One canonical product is one PrestaShop product; a product with option groups (or several
variants) gets one combination per variant on ``product_options`` / ``product_option_values``,
whose ``price`` is an *impact* on the product's price. Products and combinations are found again
by reference (:meth:`find_products`). A PUT replaces the whole record, so an update reads it first
and sends back what passerelle does not own. Brand (``brand_field``) and features (``features``)
are the product's ``id_manufacturer`` and ``associations/product_features``, found by name or
created, and cached for the connector's life. Archiving sets ``active`` 0; nothing is deleted.

Details: docs/prestashop.md (What each flow writes: publish-catalogue; Platform limits).
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from connectors.base import BatchResult, ProductWrite
from connectors.errors import Fatal, RecordError
from connectors.models import Product, ShopRef, Variant, shop_price, slugify
from connectors.shop.prestashop.client import PrestaShopClient, WriteRefused, id_filter
from connectors.shop.prestashop.common import (
    PrestaShopOptions,
    amount,
    lang,
    parse_variant_id,
    refusal,
    variant_id,
)
from connectors.shop.prestashop.xml import language_value, writable

__all__ = ["PrestaShopCatalogue", "product_reference"]

_FILTER_CHUNK = 50
_UNFILTERABLE = set("[]|,")


def product_reference(product: Product) -> str:
    """The reference that finds a product again: its SKU when simple, its key with combinations."""
    return product.variants[0].sku if not has_combinations(product) else product.key


def has_combinations(product: Product) -> bool:
    return bool(product.option_groups) or len(product.variants) > 1


def name_key(text: str) -> str:
    """How names compare: HTML-unescaped (PrestaShop may store ``&amp;``), trimmed, case-folded."""
    return html.unescape(text).strip().casefold()


def _texts(value: Any) -> list[str]:
    """The non-empty texts of a custom field's value (a list gives several), without repeats."""
    items = value if isinstance(value, (list, tuple)) else [value]
    texts: list[str] = []
    for item in items:
        text = "" if item is None else str(item).strip()
        if text and name_key(text) not in {name_key(t) for t in texts}:
            texts.append(text)
    return texts


@dataclass(slots=True)
class Extras:
    """The brand and features of one product, resolved to PrestaShop ids."""

    brand: str | None = None
    """``id_manufacturer`` to write ("0": no brand); None: the brand is not passerelle's."""
    features: list[dict[str, str]] = field(default_factory=list)
    """``product_features`` entries of the features the settings name."""
    managed: set[str] = field(default_factory=set)
    """Ids of the features the settings name (the product's other features are left alone)."""

    def product_features(self, current: Any) -> list[dict[str, str]]:
        """The product's features: the current ones the settings do not name, then passerelle's."""
        kept = [entry for entry in _entries(current) if entry["id"] not in self.managed]
        return kept + [f for f in self.features if f not in kept]


PRICE_PLACES = 6
"""PrestaShop stores tax-excluded prices with six decimals (``products.price``, ``combinations.price``
are ``isPrice``/``isNegativePrice`` decimals(20,6))."""


def net_price(variant: Variant) -> Decimal:
    """The variant's price as PrestaShop stores it: tax-excluded, six decimals (a tax-included ERP
    price has its VAT taken off unrounded, so the shop shows the ERP's price again to the cent)."""
    return shop_price(
        variant.price,
        variant.vat_rate,
        tax_included=variant.tax_included,
        shop_includes_tax=False,
        currency=variant.currency,
        places=PRICE_PLACES,
    ).amount


def price_notices(product: Product, keys: Iterable[str]) -> list[RecordError]:
    """Notices for the variants ``keys`` whose tax-included price six decimals cannot show exactly."""
    by_key = {v.key: v for v in product.variants}
    notices = []
    for key in keys:
        v = by_key.get(key)
        if v is None:
            continue
        price = shop_price(
            v.price,
            v.vat_rate,
            tax_included=v.tax_included,
            shop_includes_tax=False,
            currency=v.currency,
            places=PRICE_PLACES,
        )
        if not price.exact:
            notices.append(price.notice(v.key, v.currency, v.vat_rate))
    return notices


class ExtraRefused(Exception):
    """A brand or feature PrestaShop refused to create: the product's error on that custom field."""

    def __init__(self, field_name: str, refused: WriteRefused) -> None:
        super().__init__(str(refused))
        self.field_name = field_name
        self.refused = refused


class PrestaShopCatalogue:
    """CatalogueSink for the PrestaShop webservice (mixed into the PrestaShop shop connector)."""

    client: PrestaShopClient
    language: str
    options: PrestaShopOptions
    platform = "PrestaShop"

    # -- lookups (read once per connector) -------------------------------------------------------
    def _lookups(self) -> dict[str, Any]:
        found: dict[str, Any] | None = getattr(self, "_catalogue_lookups", None)
        if found is None:
            taxes = {
                str(r["name"]): str(r["id"])
                for r in self.client.get("tax_rule_groups", display=["id", "name", "deleted"])
                if str(r.get("deleted", "0")) != "1"
            }
            categories = {
                (str(r["id_parent"]), language_value(r["name"], self.language).casefold()): str(r["id"])
                for r in self.client.get("categories", display=["id", "id_parent", "name"])
            }
            groups: dict[str, str] = {}
            shown: dict[str, str] = {}  # group id -> its public name, as stored
            for r in self.client.get("product_options", display=["id", "name", "public_name"]):
                shown[str(r["id"])] = language_value(r.get("public_name"), self.language)
                for text in (r.get("public_name"), r["name"]):  # what customers read first
                    groups.setdefault(language_value(text, self.language).casefold(), str(r["id"]))
            values = {
                (str(r["id_attribute_group"]), language_value(r["name"], self.language).casefold()): str(r["id"])
                for r in self.client.get("product_option_values", display=["id", "id_attribute_group", "name"])
            }
            found = {"taxes": taxes, "categories": categories, "groups": groups, "values": values, "shown": shown}
            self._catalogue_lookups = found
        return found

    def _tax_group(self, name: str | None) -> str:
        taxes = self._lookups()["taxes"]
        if name is None:
            return "0"
        if name not in taxes:
            raise Fatal(
                f"PrestaShop has no tax rule group named {name!r} (known: {', '.join(sorted(taxes))}).",
                resolution="fix connections.<name>.catalogue.taxes.<COUNTRY> to name a group of "
                "International > Taxes > Tax rules, or create it there.",
            )
        return str(taxes[name])

    def _category(self, path: tuple[str, ...]) -> str:
        """Id of the category at ``path`` under Home, creating the missing levels."""
        known = self._lookups()["categories"]
        parent = self.options.home_category
        for name in path:
            ident = known.get((parent, name.casefold()))
            if ident is None:
                ident = self.client.create(
                    "categories",
                    {
                        "id_parent": parent,
                        "active": "1",
                        "name": lang(self.language, name),
                        "link_rewrite": lang(self.language, slugify(name) or "category"),
                    },
                )
                known[(parent, name.casefold())] = ident
            parent = ident
        return parent

    def _option_value(self, product: Product, code: str, value: str) -> str:
        """Id of the attribute value ``value`` of the attribute group of option ``code``, created when
        missing. The group is found by the label customers read (``Product.option_label``, e.g.
        "Couleur") or by the code (a group an earlier version created as "colour"), and created
        with the label as its name and public name."""
        lookups = self._lookups()
        group = product.option_label(code)
        group_id = lookups["groups"].get(group.casefold()) or lookups["groups"].get(code.casefold())
        if group_id is not None and group != code and lookups["shown"].get(group_id) == code:
            self._relabel_group(group_id, group)
        if group_id is None:
            group_id = self.client.create(
                "product_options",
                {
                    "is_color_group": "0",
                    "group_type": "select",
                    "name": lang(self.language, group),
                    "public_name": lang(self.language, group),
                },
            )
            lookups["groups"][group.casefold()] = group_id
        value_id = lookups["values"].get((group_id, value.casefold()))
        if value_id is None:
            value_id = self.client.create(
                "product_option_values", {"id_attribute_group": group_id, "name": lang(self.language, value)}
            )
            lookups["values"][(group_id, value.casefold())] = value_id
        return str(value_id)

    def _relabel_group(self, group_id: str, label: str) -> None:
        """A group an earlier passerelle created named by its option code ("colour", shown to
        customers as such) gets the label as name and public name in the shop's language (the
        record read and put back whole; other languages kept). A name the merchant gave is never
        changed: only a public name that is exactly the code is."""
        lookups = self._lookups()
        rows = self.client.get("product_options", filters={"id": id_filter([group_id])})
        if rows:
            record = writable("product_options", rows[0])
            for name in ("name", "public_name"):
                record[name] = lang(self.language, label, record.get(name))
            try:
                self.client.update("product_options", group_id, record)
            except WriteRefused:  # the group still works under its code: the products go on
                pass
        lookups["shown"][group_id] = label
        lookups["groups"][label.casefold()] = group_id

    def _manufacturer(self, name: str) -> str:
        """Id of the manufacturer (brand) named ``name``, created when missing."""
        known: dict[str, str] | None = getattr(self, "_manufacturer_ids", None)
        if known is None:
            known = {
                name_key(str(r["name"])): str(r["id"]) for r in self.client.get("manufacturers", display=["id", "name"])
            }
            self._manufacturer_ids = known
        ident = known.get(name_key(name))
        if ident is None:
            ident = self.client.create("manufacturers", {"active": "1", "name": name})
            known[name_key(name)] = ident
        return ident

    def _feature(self, name: str, *, create: bool) -> str | None:
        """Id of the feature named ``name`` (None when missing and not ``create``)."""
        known: dict[str, str] | None = getattr(self, "_feature_ids", None)
        if known is None:
            known = {}
            for r in self.client.get("product_features", display=["id", "name"]):
                known.setdefault(name_key(language_value(r["name"], self.language)), str(r["id"]))
            self._feature_ids = known
        ident = known.get(name_key(name))
        if ident is None and create:
            ident = self.client.create("product_features", {"name": lang(self.language, name)})
            known[name_key(name)] = ident
        return ident

    def _feature_value(self, feature: str, value: str) -> str:
        """Id of the predefined value ``value`` of ``feature`` (``custom`` 0), created when missing;
        each feature's values are read once."""
        cache: dict[str, dict[str, str]] = getattr(self, "_feature_value_ids", None) or {}
        self._feature_value_ids = cache
        known = cache.get(feature)
        if known is None:
            known = {}
            rows = self.client.get(
                "product_feature_values",
                display=["id", "id_feature", "custom", "value"],
                filters={"id_feature": id_filter([feature])},
            )
            for r in rows:
                if str(r.get("custom", "0")) != "1":
                    known.setdefault(name_key(language_value(r["value"], self.language)), str(r["id"]))
            cache[feature] = known
        ident = known.get(name_key(value))
        if ident is None:
            ident = self.client.create(
                "product_feature_values", {"id_feature": feature, "custom": "0", "value": lang(self.language, value)}
            )
            known[name_key(value)] = ident
        return ident

    def _extras(self, product: Product, keep: frozenset[str] = frozenset()) -> Extras:
        """The product's brand and features as ids (what is missing is created); those whose custom
        field is in ``keep`` (create-only on an update) are left as the shop has them."""
        extras = Extras()
        brand_field = self.options.brand_field
        if brand_field is not None and brand_field not in keep:
            names = _texts(product.custom_fields.get(brand_field))
            try:
                extras.brand = self._manufacturer(names[0]) if names else "0"
            except WriteRefused as exc:
                raise ExtraRefused(f"custom_fields.{brand_field}", exc) from exc
        for field_name, feature_name in self.options.features.items():
            if field_name in keep:
                continue  # not managed on this write: the shop's values stay, like the merchant's
            values = _texts(product.custom_fields.get(field_name))
            try:
                feature = self._feature(feature_name, create=bool(values))
                if feature is None:
                    continue  # not in the shop and nothing to write: nothing to remove either
                extras.managed.add(feature)
                for value in values:
                    entry = {"id": feature, "id_feature_value": self._feature_value(feature, value)}
                    if entry not in extras.features:
                        extras.features.append(entry)
            except WriteRefused as exc:
                raise ExtraRefused(f"custom_fields.{field_name}", exc) from exc
        return extras

    # -- CatalogueSink -------------------------------------------------------------------------
    def find_products(self, products: Sequence[Product]) -> dict[str, ShopRef]:
        """Products by reference (SKU of a simple product, key of one with combinations) and
        combinations by reference (SKU): two reads per 50 products."""
        found: dict[str, ShopRef] = {}
        for start in range(0, len(products), _FILTER_CHUNK):
            chunk = [p for p in products[start : start + _FILTER_CHUNK] if p.variants]
            refs = [r for r in (product_reference(p) for p in chunk) if _filterable(r)]
            skus = [v.sku for p in chunk if has_combinations(p) for v in p.variants if _filterable(v.sku)]
            by_ref: dict[str, str] = {}
            if refs:
                for row in self.client.get(
                    "products", display=["id", "reference"], filters={"reference": id_filter(refs)}
                ):
                    by_ref.setdefault(str(row["reference"]), str(row["id"]))
            combos: dict[str, tuple[str, str]] = {}
            for i in range(0, len(skus), _FILTER_CHUNK):
                rows = self.client.get(
                    "combinations",
                    display=["id", "id_product", "reference"],
                    filters={"reference": id_filter(skus[i : i + _FILTER_CHUNK])},
                )
                for row in rows:
                    combos.setdefault(str(row["reference"]), (str(row["id_product"]), str(row["id"])))
            for product in chunk:
                pid = by_ref.get(product_reference(product))
                if not has_combinations(product):
                    if pid is not None:
                        found[product.key] = ShopRef(pid, {product.variants[0].key: variant_id(pid, 0)})
                    continue
                if pid is None:
                    owners = Counter(combos[v.sku][0] for v in product.variants if v.sku in combos)
                    if not owners:
                        continue
                    pid = owners.most_common(1)[0][0]
                found[product.key] = ShopRef(
                    pid,
                    {
                        v.key: variant_id(pid, combos[v.sku][1])
                        for v in product.variants
                        if v.sku in combos and combos[v.sku][0] == pid
                    },
                )
        return found

    def write_products(self, writes: Sequence[ProductWrite]) -> BatchResult:
        """One product at a time (PrestaShop has no batch writes): a refused product (or
        combination) is a RecordError, the others go on."""
        result = BatchResult()
        for write in writes:
            self._write_one(write, result)
        return result

    def archive_products(self, refs: dict[str, ShopRef]) -> BatchResult:
        """``active`` 0 on each product (read, change, PUT back)."""
        result = BatchResult()
        for key, ref in refs.items():
            rows = self.client.get("products", filters={"id": id_filter([ref.product_id])})
            if not rows:
                result.errors.append(
                    RecordError(key, "product", f"product {ref.product_id} is not in PrestaShop", "shop")
                )
                continue
            record = writable("products", rows[0])
            record["active"] = "0"
            try:
                self.client.update("products", ref.product_id, record)
            except WriteRefused as exc:
                result.errors.append(refusal(key, "enabled", exc))
                continue
            result.refs[key] = ref
        return result

    # -- one product -----------------------------------------------------------------------------
    def _write_one(self, write: ProductWrite, result: BatchResult) -> None:
        product = write.product
        taxes = {v.tax_category for v in product.variants}
        if len(taxes) > 1:
            result.errors.append(
                RecordError(product.key, "tax_category", "PrestaShop holds one tax rule group per product", "shop")
            )
            return
        tax = self._tax_group(next(iter(taxes)) if taxes else None)
        try:
            extras = self._extras(product, write.keep_custom) if "custom_fields" in write.product_fields else None
        except ExtraRefused as exc:
            result.errors.append(refusal(product.key, exc.field_name, exc.refused))
            return
        try:
            if write.ref is None:
                pid = self._create_product(write, tax, extras)
                ids: dict[str, str] = {}
            else:
                pid = write.ref.product_id
                ids = dict(write.ref.variant_ids)
                self._update_product(write, tax, extras)
        except WriteRefused as exc:
            result.errors.append(refusal(product.key, "product", exc))
            return
        try:
            if has_combinations(product):
                self._write_combinations(write, pid, ids, result)
            else:
                ids = {product.variants[0].key: variant_id(pid, 0)}
        finally:
            result.refs[product.key] = ShopRef(pid, ids)
        if write.ref is None:
            priced = [v.key for v in product.variants]
        else:
            priced = list(write.create_variants)
            if "price" in write.variant_fields:
                priced += list(write.update_variants)
        refused = {e.key for e in result.errors}
        result.notices += price_notices(product, [k for k in priced if k in ids and k not in refused])

    def _write_combinations(self, write: ProductWrite, pid: str, ids: dict[str, str], result: BatchResult) -> None:
        product = write.product
        by_key = {v.key: v for v in product.variants}
        # A product created by this write holds the lowest variant price (see _create_product):
        # no need to read it back. An existing one is read once, when a combination needs it.
        base: Decimal | None = min(net_price(v) for v in product.variants) if write.ref is None else None
        creates = write.create_variants if write.ref is not None else [v.key for v in product.variants]
        for i, key in enumerate(creates):
            base = base if base is not None else self._base_price(pid)
            try:
                cid = self._create_combination(pid, product, by_key[key], base, default=write.ref is None and i == 0)
            except WriteRefused as exc:
                result.errors.append(refusal(key, "variants", exc))
                continue
            ids[key] = variant_id(pid, cid)
        for key in write.update_variants if write.ref is not None else []:
            parsed = parse_variant_id(ids.get(key, ""))
            if parsed is None or parsed[1] == "0":
                continue
            base = base if base is not None else self._base_price(pid)
            try:
                self._update_combination(parsed[1], product, by_key[key], base, write.variant_fields)
            except WriteRefused as exc:
                result.errors.append(refusal(key, "variants", exc))
        for key, shop_id in write.disable_variants.items():
            ids.pop(key, None)
            try:
                self._disable_combination(shop_id)
            except WriteRefused as exc:
                result.errors.append(refusal(key, "enabled", exc))

    def _categories(self, product: Product) -> list[str]:
        ids: list[str] = []
        for path in product.categories:
            leaf = self._category(tuple(path))
            if leaf not in ids:
                ids.append(leaf)
        return ids or [self.options.home_category]

    def _create_product(self, write: ProductWrite, tax: str, extras: Extras | None) -> str:
        product = write.product
        combos = has_combinations(product)
        first = product.variants[0]
        categories = self._categories(product)
        record: dict[str, Any] = {
            "id_category_default": categories[0],
            "id_tax_rules_group": tax,
            "reference": product_reference(product),
            "ean13": "" if combos else first.ean or "",
            "weight": "0" if combos else amount(first.weight or Decimal(0)),
            "price": amount(min(net_price(v) for v in product.variants) if combos else net_price(first)),
            "active": "1" if product.enabled and (combos or first.enabled) else "0",
            "state": "1",
            "minimal_quantity": "1",
            "available_for_order": "1",
            "show_price": "1",
            "visibility": "both",
            "product_type": "combinations" if combos else "standard",
            "name": lang(self.language, product.name),
            "link_rewrite": lang(self.language, product.slug),
        }
        if "description" in write.product_fields and product.description:
            record["description"] = lang(self.language, product.description)
        record["associations"] = {"categories": [{"id": c} for c in categories]}
        if extras is not None:
            if extras.brand is not None:
                record["id_manufacturer"] = extras.brand
            if extras.features:
                record["associations"]["product_features"] = extras.features
        return self.client.create("products", record)

    def _update_product(self, write: ProductWrite, tax: str, extras: Extras | None) -> None:
        product = write.product
        assert write.ref is not None
        simple_key = product.variants[0].key if not has_combinations(product) else None
        variant_update = simple_key is not None and simple_key in write.update_variants
        # The tax rule group is the product's, also for a product whose combinations changed VAT rate.
        tax_update = bool(write.update_variants) and "tax_category" in write.variant_fields
        if not write.product_fields and not variant_update and not tax_update:
            return
        rows = self.client.get("products", filters={"id": id_filter([write.ref.product_id])})
        if not rows:
            raise WriteRefused(404, [f"product {write.ref.product_id} is no longer in PrestaShop (deleted by hand?)"])
        current = rows[0]
        record = writable("products", current)
        fields = write.product_fields
        if "name" in fields:
            record["name"] = lang(self.language, product.name, current.get("name"))
        if "slug" in fields:
            record["link_rewrite"] = lang(self.language, product.slug, current.get("link_rewrite"))
        if "description" in fields and product.description is not None:
            record["description"] = lang(self.language, product.description, current.get("description"))
        if "categories" in fields:
            categories = self._categories(product)
            record["id_category_default"] = categories[0]
            record.setdefault("associations", {})["categories"] = [{"id": c} for c in categories]
        if extras is not None:
            if extras.brand is not None:
                record["id_manufacturer"] = extras.brand
            current_features = (current.get("associations") or {}).get("product_features") or []
            features = extras.product_features(current_features)
            if sorted(map(_sorted_items, features)) != sorted(map(_sorted_items, _entries(current_features))):
                # Sent only when they changed: a PUT without the association leaves it as it is.
                record.setdefault("associations", {})["product_features"] = features
        if "enabled" in fields:
            record["active"] = "1" if product.enabled else "0"
        if simple_key is not None and (variant_update or fields):
            variant = product.variants[0]
            vf = write.variant_fields if variant_update else frozenset()
            if "sku" in vf:
                record["reference"] = variant.sku
            if "ean" in vf:
                record["ean13"] = variant.ean or ""
            if "weight" in vf:
                record["weight"] = amount(variant.weight or Decimal(0))
            if "price" in vf:
                record["price"] = amount(net_price(variant))
            if "enabled" in vf:
                record["active"] = "1" if product.enabled and variant.enabled else "0"
        record["id_tax_rules_group"] = tax
        if not fields and not variant_update and str(current.get("id_tax_rules_group")) == tax:
            return  # only the tax rule group could have changed, and it did not
        self.client.update("products", write.ref.product_id, record)

    def _base_price(self, product_id: str) -> Decimal:
        rows = self.client.get("products", display=["id", "price"], filters={"id": id_filter([product_id])})
        return Decimal(str(rows[0]["price"])) if rows else Decimal(0)

    def _combination_values(self, product: Product, variant: Variant) -> list[dict[str, str]]:
        return [
            {"id": self._option_value(product, name, variant.options[name])}
            for name in product.option_groups
            if variant.options.get(name)
        ]

    def _create_combination(self, pid: str, product: Product, variant: Variant, base: Decimal, *, default: bool) -> str:
        record: dict[str, Any] = {
            "id_product": pid,
            "reference": variant.sku,
            "ean13": variant.ean or "",
            "price": amount(net_price(variant) - base),
            "weight": amount(variant.weight or Decimal(0)),
            "minimal_quantity": "1",
            "default_on": "1" if default else "",  # PrestaShop keeps one default: the others are NULL
            "associations": {"product_option_values": self._combination_values(product, variant)},
        }
        return self.client.create("combinations", record)

    def _update_combination(
        self, cid: str, product: Product, variant: Variant, base: Decimal, fields: frozenset[str]
    ) -> None:
        rows = self.client.get("combinations", filters={"id": id_filter([cid])})
        if not rows:
            raise WriteRefused(404, [f"combination {cid} is no longer in PrestaShop (deleted by hand?)"])
        record = writable("combinations", rows[0])
        if "sku" in fields:
            record["reference"] = variant.sku
        if "ean" in fields:
            record["ean13"] = variant.ean or ""
        if "price" in fields:
            record["price"] = amount(net_price(variant) - base)
        if "weight" in fields:
            record["weight"] = amount(variant.weight or Decimal(0))
        if "options" in fields:
            record["associations"] = {"product_option_values": self._combination_values(product, variant)}
        self.client.update("combinations", cid, record)

    def _disable_combination(self, shop_id: str) -> None:
        """No ``active`` on a combination: its stock goes to 0 and orders are refused."""
        parsed = parse_variant_id(shop_id)
        if parsed is None:
            return
        rows = self.client.get(
            "stock_availables",
            filters={"id_product": id_filter([parsed[0]]), "id_product_attribute": id_filter([parsed[1]])},
        )
        for row in rows:
            record = writable("stock_availables", row)
            record.update(quantity="0", out_of_stock="0")
            self.client.update("stock_availables", str(row["id"]), record)


def _sorted_items(entry: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(entry.items()))


def _entries(items: Any) -> list[dict[str, str]]:
    """``product_features`` entries as read, in the shape written."""
    return [
        {"id": str(i.get("id")), "id_feature_value": str(i.get("id_feature_value"))}
        for i in (items if isinstance(items, list) else [])
    ]


def _filterable(value: str | None) -> bool:
    return bool(value) and not (set(value or "") & _UNFILTERABLE)
