"""Shopify as a catalogue sink: one ``productSet`` (synchronous) per product.

``productSet`` *sets* its list fields (schema, ``Mutation.productSet``: "all existing entries not
included will be deleted"; omitted fields are left as they are). So an update first reads what
the product holds (``product`` and its variants through ``productVariants(query:
"product_id:<n>")``), then sends only what changed: product fields passerelle owns and that differ,
the metafields list (passerelle's own ``passerelle.*`` ones, with every other metafield sent back
as it is), and ``productOptions`` + ``variants`` only when a variant or an option changes — every
variant the product holds goes in that list (those passerelle does not update with their id and
option values only), so none is deleted. Shopify has no disabled variant: a variant gone from the
ERP stays in Shopify as it is, with a notice. A product where nothing changed gets no mutation.

The answer is the check: every SKU must come back with its variant id (and the price sent); the
refs (``ShopRef``: product gid, variant key -> ``ProductVariant`` gid) are what Shopify answered,
and the stock and price sinks find the inventory items from the variant ids.

Adoption (:meth:`find_products`): ``productVariants(query: "sku:A OR sku:B")``, then the product
most of a product's SKUs belong to. Archive: ``productUpdate`` with ``status`` =
``settings.archive_status`` (never deleted).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.base import BatchResult, ProductWrite
from connectors.errors import RecordError
from connectors.models import Product, ShopRef
from connectors.shop.shopify.base import ShopifyBase
from connectors.shop.shopify.client import user_errors
from connectors.shop.shopify.mapper import (
    KEY_METAFIELD,
    MAX_OPTIONS,
    MAX_VARIANTS,
    METAFIELD_TYPE,
    NAMESPACE,
    TAGS_METAFIELD,
    TAGS_METAFIELD_TYPE,
    MappingError,
    check_product,
    merge_tags,
    owned_metafields,
    product_fields_input,
    product_options,
    variant_input,
    variant_price,
)

__all__ = ["ARCHIVE", "PRODUCT", "SET", "SHOP", "VARIANTS", "ShopifyCatalogue", "sku_query"]

SHOP = """
query ShopBasis {
  shop { currencyCode taxesIncluded resourceLimits { maxProductOptions maxProductVariants } }
}
"""

PRODUCT = """
query Product($id: ID!) {
  product(id: $id) {
    id handle title descriptionHtml vendor productType tags status
    options { name position optionValues { name } }
    metafields(first: 250) { nodes { namespace key type value } }
  }
}
"""

VARIANTS = """
query Variants($first: Int!, $after: String, $query: String!) {
  productVariants(first: $first, after: $after, query: $query) {
    nodes {
      id sku barcode price compareAtPrice
      selectedOptions { name value }
      product { id }
      inventoryItem { id tracked measurement { weight { value unit } } }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

SET = """
mutation Set($input: ProductSetInput!, $variants: Int!) {
  productSet(input: $input, synchronous: true) {
    product {
      id handle status
      variants(first: $variants) { nodes { id sku price inventoryItem { id } } pageInfo { hasNextPage } }
    }
    userErrors { field message code }
  }
}
"""

ARCHIVE = """
mutation Archive($product: ProductUpdateInput!) {
  productUpdate(product: $product) {
    product { id status }
    userErrors { field message }
  }
}
"""

SKUS_PER_QUERY = 50
"""SKUs per ``productVariants`` search (a short query string; the search syntax has no documented
term limit, 50 keeps it well under any URL or query length)."""
MAX_ANSWER_VARIANTS = 250
"""The most variants one connection page holds (shopify.dev "API limits"); more are read by pages."""
VARIANT_PAGE = 100
"""Variants per page: a variant node with its options, product and inventory item costs about 6
points (rate-limits page), 100 of them stay under the 1 000 points of one query."""

_ALL_PRODUCT_FIELDS = frozenset(
    {"name", "slug", "description", "categories", "images", "enabled", "custom_fields", "option_groups"}
)
_ALL_VARIANT_FIELDS = frozenset(
    {"sku", "name", "price", "currency", "options", "ean", "tax_category", "weight", "enabled", "custom_fields"}
)


def sku_query(skus: Sequence[str]) -> str:
    """``sku:"A" OR sku:"B"`` (usage/search-syntax: a quoted value keeps spaces and colons)."""
    return " OR ".join('sku:"{}"'.format(s.replace("\\", "\\\\").replace('"', '\\"')) for s in skus)


def _number(gid: str) -> str:
    return str(gid).rsplit("/", 1)[-1]


def _decimal(value: Any) -> Decimal | None:
    try:
        return None if value is None else Decimal(str(value))
    except InvalidOperation:
        return None


def _metafield(key: str, value: str) -> dict[str, str]:
    kind = TAGS_METAFIELD_TYPE if key == TAGS_METAFIELD else METAFIELD_TYPE
    return {"namespace": NAMESPACE, "key": key, "type": kind, "value": value}


def _held_metafield(held: dict[str, Any], key: str) -> str | None:
    rows = ((held.get("metafields") or {}).get("nodes")) or []
    return next((str(m["value"]) for m in rows if m["namespace"] == NAMESPACE and m["key"] == key), None)


def _tag_list(value: str | None) -> list[str] | None:
    """A ``list.single_line_text_field`` value (a JSON array of strings), None when absent or unreadable."""
    try:
        found = json.loads(value) if value else None
    except ValueError:
        return None
    return [str(t) for t in found] if isinstance(found, list) else None


class ShopifyCatalogue(ShopifyBase):
    """CatalogueSink for the Shopify Admin GraphQL API (scope ``write_products``)."""

    # -- shop settings --------------------------------------------------------------------------
    def _catalogue_basis(self) -> dict[str, Any]:
        """``shop { currencyCode taxesIncluded }``, read once per connector."""
        basis: dict[str, Any] | None = getattr(self, "_shopify_basis", None)
        if basis is None:
            basis = dict(self.client.execute(SHOP).get("shop") or {})
            self._shopify_basis = basis
        return basis

    def _catalogue_taxes_included(self) -> bool:
        return bool(self._catalogue_basis().get("taxesIncluded"))

    # -- reading -----------------------------------------------------------------------------------
    def _catalogue_variants(self, search: str, expected: int = VARIANT_PAGE) -> Iterator[dict[str, Any]]:
        """The variants a search finds, pages sized for the ``expected`` count: a connection costs its
        page size, not what it returns (rate-limits page); more than expected are read by pages."""
        size = max(1, min(self.settings.page_size, VARIANT_PAGE, expected))
        yield from self.client.paginate(VARIANTS, {"query": search}, ("productVariants",), page_size=size)

    def _catalogue_held(
        self, product_id: str, expected: int = VARIANT_PAGE
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """What Shopify holds of a product now (None: gone) and its variants."""
        product = self.client.execute(PRODUCT, {"id": product_id}).get("product")
        if not product:
            return None, []
        return product, list(self._catalogue_variants(f"product_id:{_number(product_id)}", expected + 1))

    # -- CatalogueSink -------------------------------------------------------------------------
    def find_products(self, products: Sequence[Product]) -> dict[str, ShopRef]:
        skus = list(dict.fromkeys(v.sku for p in products for v in p.variants if v.sku))
        by_sku: dict[str, dict[str, Any]] = {}
        for start in range(0, len(skus), SKUS_PER_QUERY):
            chunk = skus[start : start + SKUS_PER_QUERY]
            for row in self._catalogue_variants(sku_query(chunk), len(chunk)):
                # the search is case-insensitive and tokenised: only an exact SKU counts
                if row.get("sku") in skus and row.get("product"):
                    by_sku.setdefault(str(row["sku"]), row)
        found: dict[str, ShopRef] = {}
        for product in products:
            rows = {v.key: by_sku[v.sku] for v in product.variants if v.sku in by_sku}
            owners = Counter(str(row["product"]["id"]) for row in rows.values())
            if not owners:
                continue
            pid = owners.most_common(1)[0][0]
            found[product.key] = ShopRef(
                pid, {k: str(row["id"]) for k, row in rows.items() if str(row["product"]["id"]) == pid}
            )
        return found

    def write_products(self, writes: Sequence[ProductWrite]) -> BatchResult:
        result = BatchResult()
        if not writes:
            return result
        taxes_included = self._catalogue_taxes_included()
        limits = self._catalogue_basis().get("resourceLimits") or {}
        self._catalogue_limits = (
            min(MAX_OPTIONS, int(limits.get("maxProductOptions") or MAX_OPTIONS)),
            min(MAX_VARIANTS, int(limits.get("maxProductVariants") or MAX_VARIANTS)),
        )
        for write in writes:
            try:
                self._catalogue_write(write, taxes_included, result)
            except MappingError as exc:
                result.errors.append(RecordError(write.product.key, exc.field, str(exc), "shop"))
        return result

    def archive_products(self, refs: dict[str, ShopRef]) -> BatchResult:
        """``productUpdate`` with ``status`` = ``archive_status`` on each product; never deleted."""
        result = BatchResult()
        status = self.settings.archive_status
        for key, ref in refs.items():
            payload = self.client.execute(
                ARCHIVE, {"product": {"id": ref.product_id, "status": status}}, mutation=True
            ).get("productUpdate")
            problems = user_errors(payload)
            product = (payload or {}).get("product") or {}
            if problems or product.get("status") != status:
                reason = "; ".join(f"{f}: {m}" for f, m in problems) or f"the status stayed {product.get('status')}"
                result.errors.append(RecordError(key, "enabled", f"Shopify refused to archive: {reason}", "shop"))
                continue
            result.refs[key] = ref
            result.answers[key] = {"status": status}
        return result

    # -- one product ---------------------------------------------------------------------------------
    def _catalogue_write(self, write: ProductWrite, taxes_included: bool, result: BatchResult) -> None:
        product = write.product
        max_options, max_variants = getattr(self, "_catalogue_limits", (MAX_OPTIONS, MAX_VARIANTS))
        check_product(product, max_options=max_options, max_variants=max_variants)
        held: dict[str, Any] | None = None
        held_variants: list[dict[str, Any]] = []
        if write.ref is not None:
            held, held_variants = self._catalogue_held(
                write.ref.product_id, max(len(write.ref.variant_ids), len(product.variants))
            )
            if held is None:
                result.errors.append(
                    RecordError(
                        product.key,
                        "product",
                        f"product {write.ref.product_id} is no longer in Shopify (deleted by hand?)",
                        "shop",
                    )
                )
                return
        creating = write.ref is None
        fields = _ALL_PRODUCT_FIELDS if creating else write.product_fields
        keep = frozenset() if creating else write.keep_custom
        data = product_fields_input(product, fields, brand_field=self.settings.brand_field or None, keep_custom=keep)
        ours: list[str] | None = list(data["tags"]) if "tags" in data else None
        if held is not None and ours is not None:
            before = _tag_list(_held_metafield(held, TAGS_METAFIELD))
            data["tags"] = merge_tags(ours, [str(t) for t in held.get("tags") or []], before)
        if held is not None:
            data = {k: v for k, v in data.items() if not _same(k, v, held)}
        metafields = self._catalogue_metafields(product, fields, keep, held, ours)
        if metafields is not None:
            data["metafields"] = metafields
        priced = self._catalogue_variants_input(write, taxes_included, held, held_variants, data, result)
        if not data:  # nothing changed: no mutation
            held_ids = _ids_by_sku(product, held_variants, write.ref)
            result.refs[product.key] = ShopRef(write.ref.product_id if write.ref else "", held_ids)
            return
        if write.ref is not None:
            data["id"] = write.ref.product_id
        # the answer asks for as many variants as the product has (a connection costs its page
        # size, not what it returns: 250 would cost 500 points for a product of 2)
        held_count = max(len(data.get("variants") or ()), len(held_variants), len(product.variants))
        count = max(1, min(MAX_ANSWER_VARIANTS, held_count))
        payload = self.client.execute(SET, {"input": data, "variants": count}, mutation=True).get("productSet")
        problems = user_errors(payload)
        answered = (payload or {}).get("product")
        if problems or not answered:
            reason = "; ".join(f"{f}: {m}" for f, m in problems) or "no product in the answer"
            field = _field(problems[0][0]) if problems else "product"
            result.errors.append(RecordError(product.key, field, f"Shopify refused the product: {reason}", "shop"))
            return
        pid = str(answered["id"])
        if "handle" in data and answered.get("handle") != data["handle"]:
            # Shopify may make a taken handle unique itself instead of refusing it (not observed)
            result.notices.append(
                RecordError(product.key, "slug", f"Shopify gave the handle {answered.get('handle')!r} instead", "shop")
            )
        connection = answered.get("variants") or {}
        nodes = list(connection.get("nodes") or [])
        if (connection.get("pageInfo") or {}).get("hasNextPage"):
            nodes = list(self._catalogue_variants(f"product_id:{_number(pid)}"))
        by_sku = {str(n.get("sku")): n for n in nodes}
        ids: dict[str, str] = {}
        wrong: list[str] = []
        for variant in product.variants:
            node = by_sku.get(variant.sku)
            if node is None:
                wrong.append(f"{variant.sku} missing")
                continue
            ids[variant.key] = str(node["id"])
            sent = priced.get(variant.key)
            if sent is not None and _decimal(node.get("price")) != Decimal(sent):
                wrong.append(f"{variant.sku} price {node.get('price')} instead of {sent}")
        result.refs[product.key] = ShopRef(pid, ids)
        result.answers[product.key] = {"product": pid, "variants": dict(ids)}
        if wrong:
            result.errors.append(
                RecordError(product.key, "variants", f"Shopify's answer differs: {'; '.join(wrong)}", "shop")
            )
            return
        for variant in product.variants:
            if variant.key in priced:
                price = variant_price(variant, taxes_included)
                if not price.exact:
                    result.notices.append(price.notice(variant.key, variant.currency, variant.vat_rate))

    def _catalogue_metafields(
        self,
        product: Product,
        fields: frozenset[str],
        keep: frozenset[str],
        held: dict[str, Any] | None,
        tags: list[str] | None,
    ) -> list[dict[str, str]] | None:
        """The ``metafields`` list to send (None: unchanged). It replaces the product's list, so
        every metafield passerelle does not own (another namespace, a create-only feature, a feature
        this write leaves alone) goes back as Shopify holds it. ``tags``: the category tags this
        write sets, recorded in ``passerelle.tags``."""
        features = self.settings.features
        wanted: dict[str, str] = {}
        owned_keys: set[str] = set()
        if held is None or "custom_fields" in fields:
            wanted.update(owned_metafields(product, features, keep))
            owned_keys |= {KEY_METAFIELD} | (set(features.values()) - {features[f] for f in keep if f in features})
        if tags is not None:
            wanted[TAGS_METAFIELD] = json.dumps(tags, ensure_ascii=False)
            owned_keys.add(TAGS_METAFIELD)
        if held is None:
            return [_metafield(k, v) for k, v in wanted.items()]
        if not owned_keys:
            return None
        rows = ((held.get("metafields") or {}).get("nodes")) or []
        current = {
            str(m["key"]): str(m["value"]) for m in rows if m["namespace"] == NAMESPACE and m["key"] in owned_keys
        }
        if current.keys() == wanted.keys() and all(
            _tag_list(current[k]) == _tag_list(v) if k == TAGS_METAFIELD else current[k] == v for k, v in wanted.items()
        ):
            return None
        others = [
            {"namespace": m["namespace"], "key": m["key"], "type": m["type"], "value": m["value"]}
            for m in rows
            if not (m["namespace"] == NAMESPACE and m["key"] in owned_keys)
        ]
        return others + [_metafield(k, v) for k, v in wanted.items()]

    def _catalogue_variants_input(
        self,
        write: ProductWrite,
        taxes_included: bool,
        held: dict[str, Any] | None,
        held_variants: list[dict[str, Any]],
        data: dict[str, Any],
        result: BatchResult,
    ) -> dict[str, str]:
        """Put ``productOptions`` and ``variants`` in ``data`` when something of them changes;
        returns the prices sent by variant key."""
        product = write.product
        fields = _ALL_PRODUCT_FIELDS if write.ref is None else write.product_fields
        if write.ref is not None and not (
            write.create_variants or write.update_variants or write.disable_variants or "option_groups" in fields
        ):
            return {}
        held_by_id = {str(v["id"]): v for v in held_variants}
        ids = dict(write.ref.variant_ids) if write.ref is not None else {}
        used: set[str] = set()
        variants: list[dict[str, Any]] = []
        for variant in product.variants:
            vid = ids.get(variant.key)
            if vid is not None and vid not in held_by_id:
                vid = None  # deleted in Shopify: created again
            if vid is None:  # a variant Shopify holds with this SKU (adopted) is updated, not doubled
                vid = next((i for i, h in held_by_id.items() if h.get("sku") == variant.sku and i not in used), None)
            if vid is None:
                variant_fields = _ALL_VARIANT_FIELDS
            elif variant.key in write.update_variants or variant.key in write.create_variants:
                variant_fields = write.variant_fields if variant.key in write.update_variants else _ALL_VARIANT_FIELDS
            else:
                variant_fields = frozenset()
            if vid is not None:
                used.add(vid)
            variants.append(
                variant_input(product, variant, variant_fields, taxes_included=taxes_included, variant_id=vid)
            )
        options = product_options(product)
        extras = []
        for vid, row in held_by_id.items():
            if vid in used:
                continue
            selected = [{"optionName": o["name"], "name": o["value"]} for o in row.get("selectedOptions") or []]
            extras.append({"id": vid, "optionValues": selected})
            for value in selected:
                option = next((o for o in options if o["name"] == value["optionName"]), None)
                if option is not None and value["name"] not in [v["name"] for v in option["values"]]:
                    option["values"].append({"name": value["name"]})
        gone = [k for k, i in write.disable_variants.items() if i in held_by_id and i not in used]
        changed = (
            held is None
            or _options_changed(options, held)
            or any(_variant_changed(v, held_by_id.get(str(v.get("id")))) for v in variants)
        )
        if not changed:
            return {}
        data["productOptions"] = options
        data["variants"] = variants + extras
        for key in gone:
            result.notices.append(
                RecordError(
                    key,
                    "enabled",
                    "Shopify has no disabled variant: it stays in the shop as it is (never deleted)",
                    "shop",
                )
            )
        return {v.key: str(i["price"]) for v, i in zip(product.variants, variants, strict=False) if "price" in i}


def _same(key: str, value: Any, held: dict[str, Any]) -> bool:
    if key == "files":
        return False
    if key == "tags":
        return sorted(value) == sorted(held.get("tags") or [])
    return bool(held.get(key) == value or (value == "" and held.get(key) in (None, "")))


def _options_changed(options: list[dict[str, Any]], held: dict[str, Any]) -> bool:
    current = [(o["name"], {v["name"] for v in o.get("optionValues") or []}) for o in held.get("options") or []]
    return current != [(o["name"], {v["name"] for v in o["values"]}) for o in options]


def _variant_changed(sent: dict[str, Any], held: dict[str, Any] | None) -> bool:
    if held is None:
        return True
    current = [(o["name"], o["value"]) for o in held.get("selectedOptions") or []]
    if current != [(o["optionName"], o["name"]) for o in sent["optionValues"]]:
        return True
    if "sku" in sent and sent["sku"] != held.get("sku"):
        return True
    if "barcode" in sent and sent["barcode"] != (held.get("barcode") or ""):
        return True
    if "price" in sent and Decimal(sent["price"]) != _decimal(held.get("price")):
        return True
    weight = ((sent.get("inventoryItem") or {}).get("measurement") or {}).get("weight")
    if weight is not None:
        item = held.get("inventoryItem") or {}
        now = ((item.get("measurement") or {}).get("weight")) or {}
        if (now.get("value"), now.get("unit")) != (weight["value"], weight["unit"]):
            return True
    return False


def _ids_by_sku(product: Product, held_variants: list[dict[str, Any]], ref: ShopRef | None) -> dict[str, str]:
    by_sku = {str(v.get("sku")): str(v["id"]) for v in held_variants}
    ids = {}
    for variant in product.variants:
        found = by_sku.get(variant.sku) or (ref.variant_ids.get(variant.key) if ref else None)
        if found:
            ids[variant.key] = found
    return ids


def _field(path: str) -> str:
    """A canonical field name for a userError path (``input.variants.0.price`` -> ``variants``)."""
    parts = [p for p in path.split(".") if p != "input"]
    name = parts[0] if parts else "product"
    return {"title": "name", "handle": "slug", "descriptionHtml": "description", "productOptions": "option_groups"}.get(
        name, name
    )
