"""Vendure as a catalogue sink: products, option groups, variants, facets, tax categories.

A batch of products costs two or three Admin API requests whatever its size:
  A. (only for updates that add variants) read the products' option groups;
  B. create products, option groups and missing options (aliased, one document);
  C. attach option groups, update products, create and update variants (aliased, one document).
Each aliased operation fails alone: its product gets a RecordError, its neighbours go on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from connectors.base import BatchResult, ProductWrite
from connectors.errors import Fatal, RecordError
from connectors.models import Product, ShopRef
from connectors.shop.vendure.client import Operation, VendureClient
from connectors.shop.vendure.mapper import (
    ChannelInfo,
    category_values,
    channel_price,
    option_code,
    product_input,
    variant_create_input,
    variant_update_input,
)

__all__ = ["VendureCatalogue"]

_LOOKUP_TAKE = 100
_PRODUCTS_PER_LOOKUP = 25

SETUP_QUERY = """
query Setup($facet: String!) {
  activeChannel { id code pricesIncludeTax defaultCurrencyCode defaultLanguageCode }
  taxCategories(options: {take: 100}) { items { id name } }
  globalSettings { serverConfig { customFieldConfig {
    Product { ... on CustomField { name type } }
    ProductVariant { ... on CustomField { name type } }
  } } }
  facets(options: {filter: {code: {eq: $facet}}, take: 1}) { items { id code values { id code } } }
}
"""

FIND_QUERY = """
query Find($slugs: [String!]!, $skus: [String!]!, $take: Int!) {
  products(options: {filter: {slug: {in: $slugs}}, take: $take}) { items { id slug variants { id sku } } }
  productVariants(options: {filter: {sku: {in: $skus}}, take: $take}) { items { id sku product { id slug } } }
}
"""

OPTION_GROUP_SELECTION = "id code name options { id code }"


@dataclass(slots=True)
class _Groups:
    """Option groups of one shop product: attribute name -> (group id, option code -> option id)."""

    by_name: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)
    by_code: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # group id -> its name in the channel's language

    def find(self, product: Product, name: str) -> tuple[str, dict[str, str]] | None:
        """The group of attribute ``name``: by the code passerelle gave it, else by its display name
        (a group created before display names came from the settings is named after the code)."""
        found = self.by_code.get(f"{product.slug}-{option_code(name)}")
        if found is None:
            found = self.by_name.get(product.option_label(name)) or self.by_name.get(name)
        return found


class VendureCatalogue:
    """CatalogueSink for the Vendure Admin API."""

    platform = "Vendure"

    def __init__(
        self,
        client: VendureClient,
        *,
        language: str | None = None,
        category_facet: str = "category",
        category_facet_name: str = "Category",
    ) -> None:
        self.client = client
        self.language = language
        self.category_facet = category_facet
        self.category_facet_name = category_facet_name
        self._channel: ChannelInfo | None = None
        self._tax_categories: dict[str, str] = {}
        self._product_fields: frozenset[str] = frozenset()
        self._variant_fields: dict[str, str] = {}
        self._facet_id: str | None = None
        self._facet_values: dict[str, str] = {}

    @property
    def stats(self) -> Any:
        return self.client.stats

    def close(self) -> None:
        self.client.close()

    # -- setup -------------------------------------------------------------------------------
    @property
    def channel(self) -> ChannelInfo:
        if self._channel is None:
            self._load_setup()
        assert self._channel is not None
        return self._channel

    def _load_setup(self) -> None:
        data = self.client.query(SETUP_QUERY, {"facet": self.category_facet})
        ch = data["activeChannel"]
        self._channel = ChannelInfo(
            currency=ch["defaultCurrencyCode"],
            prices_include_tax=bool(ch["pricesIncludeTax"]),
            language=self.language or ch["defaultLanguageCode"],
        )
        self._tax_categories = {t["name"]: t["id"] for t in data["taxCategories"]["items"]}
        config = data["globalSettings"]["serverConfig"]["customFieldConfig"]
        self._product_fields = frozenset(f["name"] for f in config.get("Product") or [])
        self._variant_fields = {f["name"]: str(f["type"]).lower() for f in config.get("ProductVariant") or []}
        facets = data["facets"]["items"]
        if facets:
            self._facet_id = facets[0]["id"]
            self._facet_values = {v["code"]: v["id"] for v in facets[0]["values"]}

    def _check_custom_fields(self, products: Sequence[Product]) -> None:
        unknown = {k for p in products for k in p.custom_fields} - self._product_fields
        unknown_v = {k for p in products for v in p.variants for k in v.custom_fields} - set(self._variant_fields)
        if unknown or unknown_v:
            raise Fatal(
                "the mapping writes custom fields this Vendure does not define: "
                + ", ".join(
                    [f"Product.{k}" for k in sorted(unknown)] + [f"ProductVariant.{k}" for k in sorted(unknown_v)]
                )
                + ".",
                resolution="declare them in the Vendure config (customFields) or remove them from [catalogue.fields].",
            )

    def _category_ids(self, products: Sequence[Product]) -> dict[tuple[str, ...], list[str]]:
        """Facet value ids of every category path, creating the facet and values that are missing."""
        paths = {path for p in products for path in p.categories}
        if not paths:
            return {}
        wanted: dict[str, str] = {}
        for path in paths:
            for code, name in category_values(path):
                wanted.setdefault(code, name)
        missing = {c: n for c, n in wanted.items() if c not in self._facet_values}
        if self._facet_id is None:
            data = self.client.execute(
                "mutation Facet($input: CreateFacetInput!) { createFacet(input: $input) { id values { id code } } }",
                {
                    "input": {
                        "code": self.category_facet,
                        "isPrivate": False,
                        "translations": [{"languageCode": self.channel.language, "name": self.category_facet_name}],
                        "values": [
                            {"code": c, "translations": [{"languageCode": self.channel.language, "name": n}]}
                            for c, n in sorted(missing.items())
                        ],
                    }
                },
            )
            self._facet_id = data["createFacet"]["id"]
            self._facet_values.update({v["code"]: v["id"] for v in data["createFacet"]["values"]})
        elif missing:
            data = self.client.execute(
                "mutation Values($input: [CreateFacetValueInput!]!) { createFacetValues(input: $input) { id code } }",
                {
                    "input": [
                        {
                            "facetId": self._facet_id,
                            "code": c,
                            "translations": [{"languageCode": self.channel.language, "name": n}],
                        }
                        for c, n in sorted(missing.items())
                    ]
                },
            )
            self._facet_values.update({v["code"]: v["id"] for v in data["createFacetValues"]})
        return {path: [self._facet_values[c] for c, _ in category_values(path)] for path in paths}

    # -- CatalogueSink -------------------------------------------------------------------------
    def find_products(self, products: Sequence[Product]) -> dict[str, ShopRef]:
        found: dict[str, ShopRef] = {}
        for start in range(0, len(products), _PRODUCTS_PER_LOOKUP):
            chunk = products[start : start + _PRODUCTS_PER_LOOKUP]
            skus = [v.sku for p in chunk for v in p.variants if v.sku]
            by_slug: dict[str, dict[str, Any]] = {}
            by_sku: dict[str, dict[str, Any]] = {}
            # First page carries the slugs; more pages only when the chunk has over 100 SKUs.
            for i in range(0, max(len(skus), 1), _LOOKUP_TAKE):
                data = self.client.query(
                    FIND_QUERY,
                    {
                        "slugs": [p.slug for p in chunk] if i == 0 else [],
                        "skus": skus[i : i + _LOOKUP_TAKE],
                        "take": _LOOKUP_TAKE,
                    },
                )
                by_slug.update({item["slug"]: item for item in data["products"]["items"]})
                by_sku.update({item["sku"]: item for item in data["productVariants"]["items"]})
            for product in chunk:
                ref = _match(product, by_slug, by_sku)
                if ref is not None:
                    found[product.key] = ref
        return found

    def write_products(self, writes: Sequence[ProductWrite]) -> BatchResult:
        result, lost = self._write(writes)
        if lost:
            # Vendure applied part of these products without answering (a later operation of the
            # same document failed and took the answers with it): read back what the shop holds
            # and complete them now, so one product's refusal costs its neighbours nothing.
            by_key = {w.product.key: w for w in writes}
            found = self.find_products([by_key[k].product for k in sorted(lost)])
            retry = [_completion(by_key[k], found[k]) for k in sorted(lost) if k in found]
            completed, lost_again = self._write(retry)
            result.refs.update(completed.refs)
            result.errors += completed.errors
            result.notices += [n for n in completed.notices if n not in result.notices]
            for key in sorted((lost - set(found)) | lost_again):
                result.errors.append(
                    RecordError(
                        key,
                        "product",
                        "Vendure applied part of this product without answering: the next run completes it",
                        check="platform",
                    )
                )
        return result

    def _write(self, writes: Sequence[ProductWrite]) -> tuple[BatchResult, set[str]]:
        """Requests B and C; also the keys of products Vendure applied (in part) without answering."""
        result = BatchResult()
        if not writes:
            return result, set()
        channel = self.channel
        self._check_custom_fields([w.product for w in writes])
        categories = self._category_ids([w.product for w in writes if "categories" in w.product_fields])
        for write in writes:
            missing = [v.tax_category for v in write.product.variants if v.tax_category not in self._tax_categories]
            if missing and (write.create_variants or write.update_variants):
                result.errors.append(
                    RecordError(
                        write.product.key,
                        "tax_category",
                        f"Vendure has no tax category named {missing[0]!r} (known: {', '.join(sorted(self._tax_categories))})",
                        check="platform",
                    )
                )
        refused = {e.key for e in result.errors}
        writes = [w for w in writes if w.product.key not in refused]
        result.notices += _price_notices(writes, channel)
        groups = self._existing_groups(writes)

        # Request B: products, option groups, missing options, then product updates.
        ops_b: list[Operation] = []
        updates_b: list[Operation] = []
        owner: dict[str, str] = {}
        for i, write in enumerate(writes):
            product = write.product
            if write.ref is None:
                ops_b.append(
                    Operation(
                        f"p{i}",
                        "createProduct",
                        {
                            "input": (
                                "CreateProductInput!",
                                product_input(
                                    product,
                                    write.product_fields,
                                    channel=channel,
                                    facet_value_ids=_facet_ids(product, categories),
                                    custom_fields=self._product_fields,
                                ),
                            )
                        },
                        "id",
                    )
                )
                owner[f"p{i}"] = product.key
            elif write.product_fields:
                # Last in request B: Vendure 3.7.3 refuses an updateProduct followed, in the same
                # document, by a createProductOptionGroup or an addOptionGroupToProduct ("UNIQUE
                # constraint failed: product.id"; seen completing products a cut-off run created).
                updates_b.append(
                    Operation(
                        f"u{i}",
                        "updateProduct",
                        {
                            "input": (
                                "UpdateProductInput!",
                                product_input(
                                    product,
                                    write.product_fields,
                                    channel=channel,
                                    facet_value_ids=_facet_ids(product, categories),
                                    custom_fields=self._product_fields - write.keep_custom,
                                    product_id=write.ref.product_id,
                                ),
                            )
                        },
                        "id",
                    )
                )
                owner[f"u{i}"] = product.key
            known = groups.get(write.ref.product_id, _Groups()) if write.ref else _Groups()
            values = _option_values(write)
            for j, name in enumerate(product.option_groups):
                if (existing := known.find(product, name)) is not None:
                    group_id, options = existing
                    label = product.option_label(name)
                    if label != name and known.names.get(group_id) == name:
                        # A group an earlier passerelle named by its code ("size"): customers read
                        # that code; it gets the label. A name given in Vendure is left alone.
                        ops_b.append(
                            Operation(
                                f"r{i}_{j}",
                                "updateProductOptionGroup",
                                {
                                    "input": (
                                        "UpdateProductOptionGroupInput!",
                                        {
                                            "id": group_id,
                                            "translations": [{"languageCode": channel.language, "name": label}],
                                        },
                                    )
                                },
                                "id",
                            )
                        )
                        owner[f"r{i}_{j}"] = product.key
                    for k, value in enumerate(sorted(values.get(name, set()) - set(options))):
                        ops_b.append(
                            Operation(
                                f"o{i}_{j}_{k}",
                                "createProductOption",
                                {
                                    "input": (
                                        "CreateProductOptionInput!",
                                        {
                                            "productOptionGroupId": group_id,
                                            "code": value,
                                            "translations": [
                                                {"languageCode": channel.language, "name": _label(product, name, value)}
                                            ],
                                        },
                                    )
                                },
                                "id code",
                            )
                        )
                        owner[f"o{i}_{j}_{k}"] = product.key
                    continue
                ops_b.append(
                    Operation(
                        f"g{i}_{j}",
                        "createProductOptionGroup",
                        {
                            "input": (
                                "CreateProductOptionGroupInput!",
                                {
                                    "code": f"{product.slug}-{option_code(name)}",
                                    "translations": [
                                        {"languageCode": channel.language, "name": product.option_label(name)}
                                    ],
                                    "options": [
                                        {
                                            "code": code,
                                            "translations": [
                                                {"languageCode": channel.language, "name": _label(product, name, code)}
                                            ],
                                        }
                                        for code in sorted(values.get(name, set()))
                                    ],
                                },
                            )
                        },
                        OPTION_GROUP_SELECTION,
                    )
                )
                owner[f"g{i}_{j}"] = product.key
        answer_b = self.client.batch("mutation", ops_b + updates_b)
        failed = self._collect_errors(answer_b.errors, owner, result)
        lost = {owner[alias] for alias in answer_b.lost} - failed

        # Request C: attach groups, update products, variants.
        ops_c: list[Operation] = []
        owner = {}
        product_ids: dict[str, str] = {}
        variant_owner: dict[str, list[str]] = {}
        for i, write in enumerate(writes):
            product = write.product
            if product.key in failed or product.key in lost:
                continue
            product_id = write.ref.product_id if write.ref else answer_b.data[f"p{i}"]["id"]
            product_ids[product.key] = product_id
            known = groups.get(product_id, _Groups()) if write.ref else _Groups()
            option_ids: dict[str, tuple[str, dict[str, str]]] = {
                name: found for name in product.option_groups if (found := known.find(product, name)) is not None
            }
            for j, name in enumerate(product.option_groups):
                created = answer_b.data.get(f"g{i}_{j}")
                if created is not None:
                    option_ids[name] = (created["id"], {o["code"]: o["id"] for o in created["options"]})
                    ops_c.append(
                        Operation(
                            f"a{i}_{j}",
                            "addOptionGroupToProduct",
                            {"productId": ("ID!", product_id), "optionGroupId": ("ID!", created["id"])},
                            "id",
                        )
                    )
                    owner[f"a{i}_{j}"] = product.key
                k = 0
                while (new := answer_b.data.get(f"o{i}_{j}_{k}")) is not None:
                    option_ids[name][1][new["code"]] = new["id"]
                    k += 1
            by_key = {v.key: v for v in product.variants}
            creates = [
                variant_create_input(
                    by_key[key],
                    product_id=product_id,
                    option_ids=[
                        option_ids[name][1][option_code(by_key[key].options.get(name, ""))]
                        for name in product.option_groups
                    ],
                    tax_category_id=self._tax_categories.get(by_key[key].tax_category or ""),
                    channel=channel,
                    custom_fields=self._variant_fields,
                    manage_stock=write.manage_stock,
                )
                for key in write.create_variants
            ]
            if creates:
                ops_c.append(
                    Operation(
                        f"v{i}",
                        "createProductVariants",
                        {"input": ("[CreateProductVariantInput!]!", creates)},
                        "id sku",
                    )
                )
                owner[f"v{i}"] = product.key
                variant_owner[f"v{i}"] = list(write.create_variants)
            updates = [
                variant_update_input(
                    by_key[key],
                    write.variant_fields,
                    variant_id=write.ref.variant_ids[key],
                    tax_category_id=self._tax_categories.get(by_key[key].tax_category or ""),
                    channel=channel,
                    custom_fields={k: v for k, v in self._variant_fields.items() if k not in write.keep_variant_custom},
                )
                for key in write.update_variants
                if write.ref is not None
            ]
            if write.ref is not None and "options" in write.variant_fields:
                for data, key in zip(updates, write.update_variants, strict=True):
                    data["optionIds"] = [
                        option_ids[name][1][option_code(by_key[key].options.get(name, ""))]
                        for name in product.option_groups
                    ]
            updates += [{"id": shop_id, "enabled": False} for shop_id in write.disable_variants.values()]
            if updates:
                ops_c.append(
                    Operation(
                        f"w{i}", "updateProductVariants", {"input": ("[UpdateProductVariantInput!]!", updates)}, "id"
                    )
                )
                owner[f"w{i}"] = product.key
        answer_c = self.client.batch("mutation", ops_c)
        failed |= self._collect_errors(answer_c.errors, owner, result)
        lost |= {owner[alias] for alias in answer_c.lost} - failed

        for i, write in enumerate(writes):
            key = write.product.key
            if key not in product_ids or key in lost:
                continue
            variant_ids = dict(write.ref.variant_ids) if write.ref else {}
            for vk in write.disable_variants:
                variant_ids.pop(vk, None)
            created = answer_c.data.get(f"v{i}") or []
            by_sku = {item["sku"]: item["id"] for item in created if item}
            for vk in variant_owner.get(f"v{i}", []):
                sku = next(v.sku for v in write.product.variants if v.key == vk)
                if sku in by_sku:
                    variant_ids[vk] = by_sku[sku]
            result.refs[key] = ShopRef(product_id=product_ids[key], variant_ids=variant_ids)
        return result, lost

    def archive_products(self, refs: dict[str, ShopRef]) -> BatchResult:
        result = BatchResult()
        keys = list(refs)
        ops = [
            Operation(
                f"x{i}",
                "updateProduct",
                {"input": ("UpdateProductInput!", {"id": refs[k].product_id, "enabled": False})},
                "id",
            )
            for i, k in enumerate(keys)
        ]
        answer = self.client.batch("mutation", ops)
        self._collect_errors(answer.errors, {f"x{i}": k for i, k in enumerate(keys)}, result)
        for i, k in enumerate(keys):
            if f"x{i}" in answer.data:
                result.refs[k] = refs[k]
        return result

    # -- helpers -------------------------------------------------------------------------------
    def _existing_groups(self, writes: Sequence[ProductWrite]) -> dict[str, _Groups]:
        """Option groups of the existing products that will get new or re-optioned variants."""
        ids = sorted(
            {
                w.ref.product_id
                for w in writes
                if w.ref is not None
                and w.product.option_groups
                and (w.create_variants or (w.update_variants and "options" in w.variant_fields))
            }
        )
        if not ids:
            return {}
        ops = [
            Operation(f"q{i}", "product", {"id": ("ID!", pid)}, f"id optionGroups {{ {OPTION_GROUP_SELECTION} }}")
            for i, pid in enumerate(ids)
        ]
        answer = self.client.batch("query", ops)
        groups: dict[str, _Groups] = {}
        for i, pid in enumerate(ids):
            data = answer.data.get(f"q{i}")
            if not data:
                continue
            g = _Groups()
            for group in data["optionGroups"]:
                entry = (group["id"], {o["code"]: o["id"] for o in group["options"]})
                g.by_name[group["name"]] = entry
                g.by_code[group["code"]] = entry
                g.names[group["id"]] = group["name"]
            groups[pid] = g
        return groups

    @staticmethod
    def _collect_errors(errors: dict[str, str], owner: dict[str, str], result: BatchResult) -> set[str]:
        failed: set[str] = set()
        for alias, message in errors.items():
            key = owner.get(alias, alias)
            if key not in failed:
                result.errors.append(
                    RecordError(key, _FIELD_OF.get(alias[0], "product"), f"Vendure: {message}", check="platform")
                )
            failed.add(key)
        return failed


_FIELD_OF = {
    "p": "product",
    "u": "product",
    "g": "options",
    "o": "options",
    "a": "options",
    "v": "variants",
    "w": "variants",
    "x": "enabled",
}


def _completion(write: ProductWrite, ref: ShopRef) -> ProductWrite:
    """What is left to write of ``write`` once Vendure holds ``ref``: the variants it asked to
    create that the shop does not have (what was applied of the rest needs no second write)."""
    wanted = set(write.create_variants) if write.ref is not None else {v.key for v in write.product.variants}
    return replace(
        write,
        ref=ref,
        product_fields=frozenset(),
        create_variants=[v.key for v in write.product.variants if v.key in wanted and v.key not in ref.variant_ids],
        update_variants=[],
        disable_variants={},
    )


def _price_notices(writes: Sequence[ProductWrite], channel: ChannelInfo) -> list[RecordError]:
    """Variants whose price this batch writes and the channel cannot show as the ERP states it."""
    notices: list[RecordError] = []
    for write in writes:
        priced = set(write.create_variants) | (set(write.update_variants) if "price" in write.variant_fields else set())
        for variant in write.product.variants:
            if variant.key in priced and variant.price is not None:
                price = channel_price(variant, channel)
                if not price.exact:
                    notices.append(price.notice(variant.key, channel.currency, variant.vat_rate))
    return notices


def _facet_ids(product: Product, categories: dict[tuple[str, ...], list[str]]) -> list[str]:
    ids: list[str] = []
    for path in product.categories:
        for value_id in categories.get(path, []):
            if value_id not in ids:
                ids.append(value_id)
    return ids


def _option_values(write: ProductWrite) -> dict[str, set[str]]:
    """Option codes needed by the variants this write creates or re-options."""
    keys = set(write.create_variants) | (set(write.update_variants) if "options" in write.variant_fields else set())
    if write.ref is None:
        keys = {v.key for v in write.product.variants}
    values: dict[str, set[str]] = {}
    for variant in write.product.variants:
        if variant.key in keys:
            for name in write.product.option_groups:
                values.setdefault(name, set()).add(option_code(variant.options.get(name, "")))
    return values


def _label(product: Product, name: str, code: str) -> str:
    """Display name of an option: the ERP's value whose code it is."""
    for variant in product.variants:
        value = variant.options.get(name, "")
        if option_code(value) == code:
            return value
    return code


def _match(product: Product, by_slug: dict[str, dict[str, Any]], by_sku: dict[str, dict[str, Any]]) -> ShopRef | None:
    item = by_slug.get(product.slug)
    if item is not None:
        product_id = item["id"]
    else:
        owners = Counter(by_sku[v.sku]["product"]["id"] for v in product.variants if v.sku in by_sku)
        if not owners:
            return None
        product_id = owners.most_common(1)[0][0]
    variant_ids = {
        v.key: by_sku[v.sku]["id"]
        for v in product.variants
        if v.sku in by_sku and by_sku[v.sku]["product"]["id"] == product_id
    }
    return ShopRef(product_id=product_id, variant_ids=variant_ids)
