"""WooCommerce as a catalogue sink: simple and variable products, global attributes, categories.

A lone article is a ``simple`` product; articles that differ by options are one ``variable``
product with global attributes (``/products/attributes`` and their terms, named by
``Product.option_label``, found by slug ``pa_<code>``, label or code) and one variation each
(``/products/<id>/variations/batch``). Products go through ``/products/batch``, 100 per request;
a refused item is a RecordError for that product. Tax classes resolve by name through
``/taxes/classes``; categories are found by (name, parent) or created. Brand (``brand_field``):
core Brands or the ``_passerelle_brand`` meta; features (``features``): non-variation attributes on
the same ``attributes`` list. Archive: ``status: draft``. Adoption (:meth:`find_products`): by SKU,
a variable product without variations by slug.

Details: docs/woocommerce.md (Brand and features; Variation attributes; What each flow writes).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from html import unescape
from typing import Any

from connectors.base import BatchResult, ProductWrite
from connectors.errors import Fatal, RecordError
from connectors.http import HttpError
from connectors.models import Product, ShopRef, slugify
from connectors.shop.woocommerce.client import MAX_PER_PAGE, WooCommerceClient
from connectors.shop.woocommerce.mapper import (
    BRAND_META,
    PriceError,
    is_variable,
    product_body,
    split_variant_id,
    variant_id,
    variant_price,
    variation_body,
)
from connectors.shop.woocommerce.tax_basis import ShopTaxBasis

__all__ = ["WooCommerceCatalogue", "item_error"]


def item_error(answer: dict[str, Any]) -> str | None:
    """The reason of a refused batch item (``{"id": 0, "error": {"code", "message"}}``), else None."""
    error = answer.get("error")
    if not error:
        return None
    reason = f"WooCommerce {error.get('code', 'error')}: {error.get('message', '')}".strip()
    holder = (error.get("data") or {}).get("resource_id")
    return f"{reason} (the SKU is held by product {holder})" if holder else reason


class WooCommerceCatalogue(ShopTaxBasis):
    """CatalogueSink for the WooCommerce REST API (the REST key needs Read/Write)."""

    client: WooCommerceClient
    platform = "WooCommerce"
    archive_status = "draft"
    brand_field: str | None = "brand"
    """The product custom field holding the brand name (None: no brand written)."""
    features: dict[str, str]
    """Product custom field -> the WooCommerce attribute (feature) name it fills."""

    # -- setup (read once per connector) ---------------------------------------------------------
    def _routes(self) -> dict[str, Any]:
        """The route index (``GET /wp-json/wc/v3``), read once per connector: what this WooCommerce
        version has (``global_unique_id``, the Brands routes)."""
        routes: dict[str, Any] | None = getattr(self, "_routes_cache", None)
        if routes is None:
            routes = self.client.get("").json().get("routes") or {}
            self._routes_cache = routes
        return routes

    def _gtin(self) -> bool:
        """Whether this WooCommerce has ``global_unique_id`` (9.2+), read from the route index once;
        older ones get the EAN in the ``_passerelle_ean`` meta instead."""
        endpoints = (self._routes().get("/wc/v3/products/batch") or {}).get("endpoints") or []
        return any("global_unique_id" in (e.get("args") or {}) for e in endpoints)

    def _has_brands(self) -> bool:
        """Whether this WooCommerce has the core Brands taxonomy (9.6+: ``/products/brands`` in the
        route index); older ones get the brand name in the ``_passerelle_brand`` meta instead."""
        return "/wc/v3/products/brands" in self._routes()

    def _brand_ids(self, names: set[str]) -> dict[str, int]:
        """Brand id by name (case-insensitive, HTML-unescaped), creating the missing ones (cached)."""
        if not names:
            return {}
        known: dict[str, int] | None = getattr(self, "_brand_cache", None)
        if known is None:
            known = {}
            for row in self.client.list("products/brands", {"hide_empty": "false"}):
                known.setdefault(_name(row["name"]), int(row["id"]))
            self._brand_cache: dict[str, int] | None = known
        ids: dict[str, int] = {}
        for name in sorted(names):
            found = known.get(_name(name))
            if found is None:
                found = int(self.client.post("products/brands", {"name": name})["id"])
                known[_name(name)] = found
            ids[name] = found
        return ids

    def _tax_classes(self) -> dict[str, str]:
        """Tax class name -> the slug a product carries (``""`` for the standard class)."""
        cached: dict[str, str] | None = getattr(self, "_tax_class_cache", None)
        if cached is None:
            rows = self.client.get("taxes/classes").json()
            cached = {row["name"]: ("" if row["slug"] == "standard" else row["slug"]) for row in rows}
            self._tax_class_cache = cached
        return cached

    def _tax_class(self, name: str | None) -> str | None:
        if name is None:
            return None
        classes = self._tax_classes()
        if name not in classes:
            raise Fatal(
                f"WooCommerce has no tax class named {name!r} (known: {', '.join(sorted(classes))}).",
                resolution="fix [connections.<n>.catalogue.taxes] to name a class of WooCommerce > Settings > Tax, "
                "or add the class there.",
            )
        return classes[name]

    def _category_ids(self, products: Sequence[Product]) -> dict[tuple[str, ...], int]:
        """The WooCommerce id of the deepest level of every category path, creating what is missing."""
        paths = sorted({path for p in products for path in p.categories if path})
        if not paths:
            return {}
        known: dict[tuple[int, str], int] | None = getattr(self, "_category_cache", None)
        if known is None:
            known = {
                (int(row["parent"]), _name(row["name"])): int(row["id"])
                for row in self.client.list("products/categories", {"hide_empty": "false"})
            }
            self._category_cache = known
        ids: dict[tuple[str, ...], int] = {}
        for path in paths:
            parent = 0
            for name in path:
                found = known.get((parent, _name(name)))
                if found is None:
                    body: dict[str, Any] = {"name": name}
                    if parent:
                        body["parent"] = parent
                    found = int(self.client.post("products/categories", body)["id"])
                    known[(parent, _name(name))] = found
                parent = found
            ids[path] = parent
        return ids

    def _attribute_ids(self, wanted: dict[str, set[str]], labels: dict[str, str] | None = None) -> dict[str, int]:
        """Global attribute ids by key (an option code or a feature name), found or created, with
        every term of ``wanted`` (key -> term names) added when missing.

        A key is found by the slug passerelle gives what it creates (``pa_<code>``), else by its
        label (``labels``: what customers read, "Taille"; the attribute a merchant created), else by
        the key itself as a name (an attribute an earlier passerelle created named by its code:
        its products and variations keep matching). A missing one is created named by its label."""
        if not wanted:
            return {}
        labels = labels or {}
        known: list[tuple[int, str, str]] | None = getattr(self, "_attribute_cache", None)
        if known is None:
            rows = self.client.get("products/attributes").json()
            known = [(int(row["id"]), _name(row["name"]), str(row.get("slug", ""))) for row in rows]
            self._attribute_cache = known
            self._raw_names: dict[int, str] = {int(row["id"]): unescape(str(row["name"])) for row in rows}
            self._terms: dict[int, set[str]] = {}
        ids: dict[str, int] = {}
        for key in sorted(wanted):
            label = labels.get(key) or key
            ident = _find_attribute(known, key, label)
            if ident is not None and key in labels and label != key and self._raw_names.get(ident) == key:
                # An attribute an earlier passerelle named by its code ("size", slug pa_size): it
                # shows that code to customers; named by its label now. A merchant's name is kept.
                self.client.put(f"products/attributes/{ident}", {"name": label})
                self._raw_names[ident] = label
                known[:] = [(i, _name(label) if i == ident else n, s) for i, n, s in known]
            if ident is None:
                ident = self._create_attribute(label, key if key in labels else None)
                self._raw_names[ident] = label
                known.append((ident, _name(label), f"pa_{_slug(key if key in labels else label)}"))
            ids[key] = ident
            if ident not in self._terms:
                rows = self.client.list(f"products/attributes/{ident}/terms", {"hide_empty": "false"})
                self._terms[ident] = {_name(row["name"]) for row in rows}
            for value in sorted(w for w in wanted[key] if w and _name(w) not in self._terms[ident]):
                self.client.post(f"products/attributes/{ident}/terms", {"name": value})
                self._terms[ident].add(_name(value))
        return ids

    def _create_attribute(self, label: str, code: str | None) -> int:
        """``POST /products/attributes`` named ``label``; an option's attribute gets its code as slug
        (``pa_colour`` for "Couleur"), so that it is found again when the label changes. A slug
        WooCommerce refuses (a reserved word, too long) falls back to the one it derives from the name."""
        if code is not None:
            try:
                return int(self.client.post("products/attributes", {"name": label, "slug": _slug(code)})["id"])
            except HttpError as exc:
                if exc.status != 400:
                    raise
        return int(self.client.post("products/attributes", {"name": label})["id"])

    def _features(self, product: Product, keep: frozenset[str] = frozenset()) -> dict[str, str]:
        """The product's features: the shop's feature (attribute) name -> its value, empty ones left
        out, and those whose field is in ``keep`` (create-only: the shop's value stays)."""
        values: dict[str, str] = {}
        for field, feature in self.features.items():
            if field in keep:
                continue
            value = _text(product.custom_fields.get(field))
            if value:
                values[feature] = value
        return values

    # -- CatalogueSink -------------------------------------------------------------------------
    def find_products(self, products: Sequence[Product]) -> dict[str, ShopRef]:
        """Products and variations by SKU (``GET /products?sku=a,b``: WooCommerce searches variations
        too when ``sku`` is given), 100 SKUs per request; a variable product none of whose variations
        exists yet (a run killed between the two batches) by its slug."""
        found: dict[str, ShopRef] = {}
        skus = list(dict.fromkeys(v.sku for p in products for v in p.variants if v.sku))
        by_sku: dict[str, dict[str, Any]] = {}
        for start in range(0, len(skus), MAX_PER_PAGE):
            chunk = skus[start : start + MAX_PER_PAGE]
            for row in self.client.list("products", {"sku": ",".join(chunk), "status": "any"}):
                by_sku[row["sku"]] = row
        for product in products:
            if not is_variable(product):
                hit = by_sku.get(product.variants[0].sku) if product.variants else None
                if hit is not None and hit.get("type") == "simple":
                    pid = str(hit["id"])
                    found[product.key] = ShopRef(pid, {product.variants[0].key: variant_id(pid)})
                continue
            rows = {v.key: by_sku[v.sku] for v in product.variants if by_sku.get(v.sku, {}).get("type") == "variation"}
            owners = Counter(str(row["parent_id"]) for row in rows.values())
            if owners:
                pid = owners.most_common(1)[0][0]
                found[product.key] = ShopRef(
                    pid, {k: variant_id(pid, str(row["id"])) for k, row in rows.items() if str(row["parent_id"]) == pid}
                )
                continue
            page = self.client.page("products", {"slug": product.slug, "status": "any"}, 1)[0]
            parent = next((r for r in page if r.get("type") == "variable"), None)
            if parent is not None:
                found[product.key] = ShopRef(str(parent["id"]), {})
        return found

    def write_products(self, writes: Sequence[ProductWrite]) -> BatchResult:
        result = BatchResult()
        if not writes:
            return result
        products = [w.product for w in writes]
        tax = {v.tax_category: self._tax_class(v.tax_category) for p in products for v in p.variants}
        categories = self._category_ids([w.product for w in writes if "categories" in w.product_fields])
        attributes_sent = [w for w in writes if self._sends_attributes(w)]
        wanted: dict[str, set[str]] = {}
        labels: dict[str, str] = {}
        for p in products:
            for name in p.option_groups if is_variable(p) else ():
                wanted.setdefault(name, set()).update(v.options.get(name) or "" for v in p.variants)
                labels.setdefault(name, p.option_label(name))
        for w in attributes_sent:
            for feature, value in self._features(w.product, w.keep_custom).items():
                wanted.setdefault(feature, set()).add(value)
        attributes = self._attribute_ids(wanted, labels)
        kept = self._merchant_attributes([w for w in attributes_sent if w.ref is not None])
        gtin = self._gtin()
        priced = {w.product.key: _priced(w) for w in writes}
        include_tax = self._prices_include_tax() if any(priced.values()) else False
        brands_route = self._has_brands()
        brand_keys = {
            w.product.key
            for w in writes
            if self.brand_field and "custom_fields" in w.product_fields and self.brand_field not in w.keep_custom
        }
        brand_names = {_text(p.custom_fields.get(self.brand_field or "")) for p in products if p.key in brand_keys}
        brand_ids = self._brand_ids(brand_names - {""}) if brands_route else {}
        own_fields = {f for f in (self.brand_field, *self.features) if f}

        creates: list[tuple[ProductWrite, dict[str, Any]]] = []
        updates: list[tuple[ProductWrite, dict[str, Any]]] = []
        variations_only: list[tuple[ProductWrite, str]] = []
        for write in writes:
            product = write.product
            # A simple product carries its one variant: every field when it is (re)bound, the
            # owned ones when it changed, none otherwise.
            variant_fields: frozenset[str] = frozenset()
            if write.ref is None or write.create_variants:
                variant_fields = _ALL_VARIANT_FIELDS
            elif write.update_variants:
                variant_fields = write.variant_fields
            try:
                body = product_body(
                    product,
                    write.product_fields,
                    variant_fields=variant_fields,
                    category_ids=[categories[p] for p in product.categories if p in categories],
                    attributes=self._product_attributes(write, attributes, kept),
                    tax_class=tax.get(product.variants[0].tax_category) if product.variants else None,
                    product_id=write.ref.product_id if write.ref else None,
                    gtin=gtin,
                    include_tax=include_tax,
                    skip_custom_fields=own_fields | write.keep_custom,
                    manage_stock=write.manage_stock,
                )
                if product.key in brand_keys:
                    _add_brand(body, _text(product.custom_fields.get(self.brand_field or "")), brand_ids,
                               route=brands_route, create=write.ref is None)  # fmt: skip
            except PriceError as exc:
                result.errors.append(RecordError(product.key, "price", str(exc), "shop"))
                continue
            if write.ref is None:
                creates.append((write, body))
            elif len(body) > 1:
                updates.append((write, body))
            elif is_variable(product):
                variations_only.append((write, write.ref.product_id))
            else:
                result.refs[product.key] = write.ref
        created, updated = self.client.batch(
            "products/batch", create=[b for _, b in creates], update=[b for _, b in updates]
        )
        parents: list[tuple[ProductWrite, str]] = list(variations_only)
        for (write, _), answer in [*zip(creates, created, strict=True), *zip(updates, updated, strict=True)]:
            reason = item_error(answer)
            if reason is not None:
                result.errors.append(RecordError(write.product.key, "product", reason, "shop"))
                continue
            pid = str(answer["id"])
            if is_variable(write.product):
                parents.append((write, pid))
            else:
                result.refs[write.product.key] = ShopRef(pid, {write.product.variants[0].key: variant_id(pid)})
            if brands_route and write.product.key in brand_keys:
                brand = _text(write.product.custom_fields.get(self.brand_field or ""))
                refused = _brand_refused(answer, brand, brand_ids.get(brand))
                if refused is not None:
                    # the record stays bound but not written (no hash): the next run sends it again,
                    # with the brands read afresh (an id of this run's cache may be gone)
                    result.errors.append(RecordError(write.product.key, "brand", refused, "shop"))
                    self._brand_cache = None
        for write, pid in parents:
            self._write_variations(write, pid, attributes, tax, result, gtin=gtin, include_tax=include_tax)
        unpriced = {e.key for e in result.errors if e.field == "price"}
        for write in writes:
            for variant in write.product.variants:
                if variant.key in priced[write.product.key] and write.product.key not in unpriced:
                    price = variant_price(variant, include_tax)
                    if not price.exact:
                        result.notices.append(price.notice(variant.key, variant.currency, variant.vat_rate))
        return result

    def _sends_attributes(self, write: ProductWrite) -> bool:
        """Whether the product's ``attributes`` list goes with this write. WooCommerce replaces the
        whole list, so it always carries both the variation attributes and the features."""
        product = write.product
        if self.features and "custom_fields" in write.product_fields:
            return True
        return is_variable(product) and (
            write.ref is None
            or bool(write.create_variants)
            or "option_groups" in write.product_fields
            or ("options" in write.variant_fields and bool(write.update_variants))
        )

    def _merchant_attributes(self, writes: Sequence[ProductWrite]) -> dict[str, list[dict[str, Any]]]:
        """The non-variation attributes the shop holds now on the products whose list this batch
        rewrites, by product id: :meth:`_product_attributes` sends back as they are those passerelle
        does not own (added by the merchant, or create-only features), since WooCommerce replaces
        the whole list. One read per 100 products, only when needed."""
        ids = sorted({w.ref.product_id for w in writes if w.ref is not None}, key=int)
        kept: dict[str, list[dict[str, Any]]] = {}
        for start in range(0, len(ids), MAX_PER_PAGE):
            chunk = ids[start : start + MAX_PER_PAGE]
            for row in self.client.list("products", {"include": ",".join(chunk), "status": "any"}):
                kept[str(row["id"])] = [
                    {k: a[k] for k in ("id", "name", "visible", "variation", "options") if k in a}
                    for a in row.get("attributes") or []
                    if not a.get("variation")
                ]
        return kept

    def _product_attributes(
        self, write: ProductWrite, attribute_ids: dict[str, int], kept: dict[str, list[dict[str, Any]]]
    ) -> list[dict[str, Any]] | None:
        """The product's ``attributes`` when they may change: the variation attributes of a variable
        product (every option value of its variants), then its features (``variation: false``), then
        what the merchant added in the shop (``kept``), unchanged."""
        if not self._sends_attributes(write):
            return None
        product = write.product
        rows: list[dict[str, Any]] = []
        for name in product.option_groups if is_variable(product) else ():
            options = sorted({v.options.get(name) or "" for v in product.variants} - {""})
            rows.append({"id": attribute_ids[name], "position": len(rows), "variation": True, "visible": True,
                         "options": options})  # fmt: skip
        used = {row["id"] for row in rows}
        for feature, value in self._features(product, write.keep_custom).items():
            ident = attribute_ids[feature]
            if ident in used:  # a feature named like a variation attribute: the variations win
                continue
            used.add(ident)
            rows.append({"id": ident, "position": len(rows), "variation": False, "visible": True, "options": [value]})
        # what passerelle owns on this product: its variation attributes and the features it writes
        owned = {_name(n) for n in product.option_groups} | {
            _name(product.option_label(n)) for n in product.option_groups
        }
        option_ids = {attribute_ids[n] for n in product.option_groups if n in attribute_ids}
        owned |= {_name(name) for field, name in self.features.items() if field not in write.keep_custom}
        for row in kept.get(write.ref.product_id, []) if write.ref is not None else []:
            if row.get("id") not in used | option_ids and _name(str(row.get("name", ""))) not in owned:
                rows.append({**row, "position": len(rows)})
        return rows

    def _write_variations(
        self,
        write: ProductWrite,
        pid: str,
        attributes: dict[str, int],
        tax: dict[str | None, str | None],
        result: BatchResult,
        *,
        gtin: bool = True,
        include_tax: bool | None = False,
    ) -> None:
        """Create, update and disable the variations of one variable product (one batch per 100)."""
        product = write.product
        by_key = {v.key: v for v in product.variants}
        keys = [v.key for v in product.variants] if write.ref is None else list(write.create_variants)
        ids = dict(write.ref.variant_ids) if write.ref is not None else {}
        creates: list[tuple[str, dict[str, Any]]] = []
        updates: list[tuple[str, dict[str, Any]]] = []
        errors: list[RecordError] = []
        try:
            for key in keys:
                v = by_key[key]
                creates.append(
                    (
                        key,
                        variation_body(
                            v,
                            _ALL_VARIANT_FIELDS,
                            attribute_ids=attributes,
                            tax_class=tax.get(v.tax_category),
                            gtin=gtin,
                            manage_stock=write.manage_stock,
                            include_tax=include_tax,
                        ),
                    )
                )
            for key in write.update_variants if write.ref is not None else []:
                v = by_key[key]
                body = variation_body(
                    v,
                    write.variant_fields,
                    attribute_ids=attributes,
                    tax_class=tax.get(v.tax_category),
                    variation_id=split_variant_id(ids[key])[1],
                    gtin=gtin,
                    include_tax=include_tax,
                )
                if len(body) > 1:
                    updates.append((key, body))
        except PriceError as exc:
            result.errors.append(RecordError(product.key, "price", str(exc), "shop"))
            return
        for key, shop_id in write.disable_variants.items():
            updates.append((key, {"id": int(split_variant_id(shop_id)[1] or 0), "status": "private"}))
            ids.pop(key, None)
        if creates or updates:
            created, updated = self.client.batch(
                f"products/{pid}/variations/batch", create=[b for _, b in creates], update=[b for _, b in updates]
            )
            for (key, _), answer in zip(creates, created, strict=True):
                reason = item_error(answer)
                if reason is not None:
                    errors.append(RecordError(product.key, "variants", f"{by_key[key].sku}: {reason}", "shop"))
                else:
                    ids[key] = variant_id(pid, str(answer["id"]))
            for (key, _), answer in zip(updates, updated, strict=True):
                reason = item_error(answer)
                if reason is not None:
                    errors.append(RecordError(product.key, "variants", f"{key}: {reason}", "shop"))
        if errors:
            result.errors.append(errors[0])
        result.refs[product.key] = ShopRef(pid, ids)

    def archive_products(self, refs: dict[str, ShopRef]) -> BatchResult:
        """``status: draft`` on each product (its variations go with it); never deleted."""
        result = BatchResult()
        keys = list(refs)
        _, updated = self.client.batch(
            "products/batch", update=[{"id": int(refs[k].product_id), "status": self.archive_status} for k in keys]
        )
        for key, answer in zip(keys, updated, strict=True):
            reason = item_error(answer)
            if reason is not None:
                result.errors.append(RecordError(key, "enabled", reason, "shop"))
            else:
                result.refs[key] = refs[key]
        return result


def _priced(write: ProductWrite) -> set[str]:
    """Keys of the variants whose price this write sends (created, re-bound, or price changed)."""
    keys = {v.key for v in write.product.variants}
    if write.ref is None:
        return keys
    changed = set(write.update_variants) if {"price", "currency"} & write.variant_fields else set()
    return (set(write.create_variants) | changed) & keys


def _name(text: str) -> str:
    """How WooCommerce names compare: it answers them HTML-escaped ("Caf&eacute; &amp; th&eacute;"), any case."""
    return unescape(text).strip().casefold()


_ALL_VARIANT_FIELDS = frozenset(
    {"sku", "name", "price", "currency", "options", "ean", "tax_category", "weight", "enabled", "custom_fields"}
)


def _brand_refused(answer: dict[str, Any], name: str, ident: int | None) -> str | None:
    """Why the product WooCommerce answered does not hold the brand just written (``name``; ``""``:
    none), else None. The answer shows the brands after the write (the REST controller prepares it
    once the insert hooks ran)."""
    held = [b for b in answer.get("brands") or [] if isinstance(b, dict)]
    if not name:
        if not held:
            return None
        kept = ", ".join(sorted(unescape(str(b.get("name", b.get("id")))) for b in held))
        return f"WooCommerce kept the brand {kept} the ERP removed (a plugin may replace the Brands REST field)"
    if [int(b.get("id", 0)) for b in held] == [ident]:
        return None
    return (
        f"WooCommerce did not set the brand {name!r} (brand id {ident}; it may have been deleted in the shop "
        "during the run): the next run finds or creates it again"
    )


def _slug(text: str) -> str:
    """A WooCommerce attribute slug without its ``pa_`` (``wc_sanitize_taxonomy_name``: ASCII, lower case, dashes)."""
    return slugify(text)[:28]


def _find_attribute(known: list[tuple[int, str, str]], key: str, label: str) -> int | None:
    """The attribute of ``key``: by slug ``pa_<key>``, else by label, else by the key as a name."""
    for matches in (
        lambda row: row[2] == f"pa_{_slug(key)}" and _slug(key) != "",
        lambda row: row[1] == _name(label),
        lambda row: row[1] == _name(key),
    ):
        found = next((row[0] for row in known if matches(row)), None)
        if found is not None:
            return found
    return None


def _text(value: Any) -> str:
    """A custom field's value as the shop shows it ("" for None or blanks)."""
    return "" if value is None else str(value).strip()


NO_BRAND = [{"id": 0}]
"""How a product's brands are removed. WooCommerce ignores ``brands: []``
(``WC_Brands::rest_api_add_brands_to_product`` writes only a non-empty list; observed on a live
10.0.2); a list holding the id 0 reaches ``wp_set_object_terms``, which skips the id
(``term_exists(0)`` is 0) and removes every brand the product had."""


def _add_brand(body: dict[str, Any], name: str, brand_ids: dict[str, int], *, route: bool, create: bool) -> None:
    """The brand on a product body: ``brands: [{id}]`` (WooCommerce 9.6+; :data:`NO_BRAND` removes
    it), else the ``_passerelle_brand`` meta (``""`` removes it). A creation without a brand sends nothing."""
    if create and not name:
        return
    if route:
        body["brands"] = [{"id": brand_ids[name]}] if name else NO_BRAND
        return
    body["meta_data"] = [*body.get("meta_data", []), {"key": BRAND_META, "value": name}]
