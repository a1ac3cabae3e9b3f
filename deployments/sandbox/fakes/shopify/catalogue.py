"""The fake Shopify's products: ``shop``, ``products``, ``product``, ``productVariants``,
``productSet``, ``productUpdate``, ``productVariantsBulkUpdate``.

Data (shared with ``inventory.py``): a ``Product`` record holds ``title``, ``handle``,
``descriptionHtml``, ``vendor``, ``productType``, ``tags``, ``status``, ``options`` (``[{id, name,
position, values: [names]}]``), ``_metafields`` (``[{namespace, key, type, value}]``) and
``_files``; a ``ProductVariant`` record holds ``id``, ``sku``, ``barcode``, ``price``,
``compareAtPrice``, ``title``, ``selectedOptions``, ``productId`` and ``inventoryItemId``; an
``InventoryItem`` record ``id``, ``sku``, ``tracked``, ``variantId`` (and ``measurement``).

Sources of the rules (each repeated where it is enforced):
- the schema (2025-01): ``Mutation.productSet`` ("all existing entries not included will be
  deleted. ... Omitted fields will not be updated"), ``ProductSetInput.productOptions``
  ("maximum of 3 per product"), the codes of ``ProductSetUserErrorCode`` and
  ``ProductVariantsBulkUpdateUserErrorCode`` with their descriptions, ``allowPartialUpdates``;
- shopify.dev changelog "The product variant limit is now 2048 for all merchants";
- shopify.dev "Search syntax" (usage/search-syntax): ``field:value`` terms joined by ``OR``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from graphql import GraphQLError

import deployments.sandbox.fakes.shopify.inventory  # noqa: F401  (variants get their inventory items)
from deployments.sandbox.fakes.shopify.core import (
    ShopifyFake,
    connection,
    gid_number,
    mutation,
    query,
    shape,
    shape_of,
    user_error,
)

__all__ = ["MAX_OPTIONS", "MAX_VARIANTS", "max_variants", "product_of", "variants_of"]

MAX_OPTIONS = 3
"""Schema, ProductSetInput.productOptions: "maximum of 3 per product" (OPTIONS_OVER_LIMIT)."""
MAX_VARIANTS = 2048
"""shopify.dev changelog "The product variant limit is now 2048 for all merchants" (VARIANTS_OVER_LIMIT)."""


def max_variants(fake: ShopifyFake) -> int:
    """The shop's variant limit: 2 048, or what a test sets in ``fake.max_product_variants`` (a shop
    still at the historical 100, changelog above)."""
    return int(fake.__dict__.get("max_product_variants", MAX_VARIANTS))


def variants_of(fake: ShopifyFake, product_id: str) -> list[dict[str, Any]]:
    rows = [v for v in fake.all("ProductVariant") if v.get("productId") == product_id]
    return sorted(rows, key=lambda v: (v.get("position") or 0, gid_number(v["id"])))


def product_of(fake: ShopifyFake, sku: str) -> dict[str, Any] | None:
    variant = next((v for v in fake.all("ProductVariant") if v.get("sku") == sku), None)
    return fake.get("Product", variant["productId"]) if variant else None


# -- views ------------------------------------------------------------------------------------------


def _product_shape(fake: ShopifyFake, record: dict[str, Any]) -> dict[str, Any]:
    pid = record["id"]

    def variants(info: Any, **page: Any) -> dict[str, Any]:
        page.pop("reverse", None)
        page.pop("sortKey", None)
        return connection([shape(fake, v) for v in variants_of(fake, pid)], **page)

    def options(info: Any, first: int | None = None) -> list[dict[str, Any]]:
        rows = record.get("options") or [
            {"id": f"{pid}-o", "name": "Title", "position": 1, "values": ["Default Title"]}
        ]
        return [
            {
                "__typename": "ProductOption",
                "id": o["id"],
                "name": o["name"],
                "position": o["position"],
                "values": list(o["values"]),
                "optionValues": [
                    {"__typename": "ProductOptionValue", "id": f"{o['id']}-{n}", "name": v, "hasVariants": True}
                    for n, v in enumerate(o["values"])
                ],
            }
            for o in rows[: first or None]
        ]

    def metafields(
        info: Any, namespace: str | None = None, keys: list[str] | None = None, **page: Any
    ) -> dict[str, Any]:
        page.pop("reverse", None)
        rows = [
            {"__typename": "Metafield", "id": f"{pid}/m{n}", **m}
            for n, m in enumerate(record.get("_metafields") or [])
            if namespace is None or m["namespace"] == namespace
        ]
        return connection(rows, **page)

    def metafield(info: Any, key: str, namespace: str | None = None) -> dict[str, Any] | None:
        return next(
            ({"__typename": "Metafield", "id": f"{pid}/m", **m} for m in record.get("_metafields") or []
             if m["key"] == key and m["namespace"] == (namespace or "$app")),
            None,
        )  # fmt: skip

    return {
        "legacyResourceId": gid_number(pid),
        "variants": variants,
        "options": options,
        "metafields": metafields,
        "metafield": metafield,
        "tags": list(record.get("tags") or []),
        "totalVariants": len(variants_of(fake, pid)),
        "hasOnlyDefaultVariant": not record.get("options"),
    }


def _variant_shape(fake: ShopifyFake, record: dict[str, Any]) -> dict[str, Any]:
    product = fake.get("Product", record.get("productId") or "")
    return {
        "legacyResourceId": gid_number(record["id"]),
        "product": lambda info: shape(fake, product),
        "displayName": f"{(product or {}).get('title', '')} - {record.get('title', '')}",
    }


shape_of("Product", _product_shape)
shape_of("ProductVariant", _variant_shape)


# -- search syntax ------------------------------------------------------------------------------------

_TERM = re.compile(r'(\w+):("(?:[^"\\]|\\.)*"|\S+)')


def _terms(text: str | None) -> dict[str, set[str]]:
    """``sku:"A" OR sku:B`` -> {"sku": {"a", "b"}} (Shopify's search is case-insensitive). Only
    OR-joined ``field:value`` terms (stricter than Shopify: anything else is an error)."""
    found: dict[str, set[str]] = {}
    if not text:
        return found
    rest = _TERM.sub("", text).replace(" OR ", " ").strip()
    if rest:
        raise GraphQLError(f"the fake reads only field:value terms joined by OR, not {rest!r} (stricter than Shopify)")
    for name, value in _TERM.findall(text):
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        found.setdefault(name, set()).add(value.casefold())
    return found


def _filter(rows: list[dict[str, Any]], text: str | None, fields: dict[str, Any]) -> list[dict[str, Any]]:
    terms = _terms(text)
    for name in terms:
        if name not in fields:
            raise GraphQLError(f"the fake does not filter on {name!r} (stricter than Shopify)")
    if not terms:
        return rows
    # OR between every term (the only connective the fake reads)
    return [r for r in rows if any(str(fields[n](r)).casefold() in values for n, values in terms.items())]


_PAGE = ("first", "after", "last", "before")


# -- queries ---------------------------------------------------------------------------------------------


@query("shop")
def _shop(fake: ShopifyFake, info: Any) -> dict[str, Any]:
    return {
        "__typename": "Shop",
        "id": "gid://shopify/Shop/1",
        "name": "passerelle test",
        "currencyCode": fake.currency,
        "taxesIncluded": fake.taxes_included,
        "myshopifyDomain": fake.shop.removeprefix("https://"),
        "resourceLimits": {
            "__typename": "ShopResourceLimits",
            "maxProductOptions": MAX_OPTIONS,
            "maxProductVariants": max_variants(fake),
            "locationLimit": 1000,
            "redirectLimitReached": False,
        },
    }


@query("product")
def _product(fake: ShopifyFake, info: Any, id: str) -> dict[str, Any] | None:
    return shape(fake, fake.get("Product", id))


@query("products")
def _products(fake: ShopifyFake, info: Any, **args: Any) -> dict[str, Any]:
    rows = sorted(fake.all("Product"), key=lambda r: gid_number(r["id"]))
    fields = {
        "handle": lambda r: r.get("handle"),
        "id": lambda r: gid_number(r["id"]),
        "status": lambda r: r.get("status"),
        "sku": lambda r: " ".join(str(v.get("sku")) for v in variants_of(fake, r["id"])),
    }
    rows = _filter(rows, args.get("query"), fields)
    page = {k: args.get(k) for k in _PAGE}
    return connection([shape(fake, r) for r in rows], reverse=bool(args.get("reverse")), **page)


@query("productVariants")
def _product_variants(fake: ShopifyFake, info: Any, **args: Any) -> dict[str, Any]:
    rows = sorted(fake.all("ProductVariant"), key=lambda r: gid_number(r["id"]))
    fields = {
        "sku": lambda r: r.get("sku"),
        "barcode": lambda r: r.get("barcode"),
        "id": lambda r: gid_number(r["id"]),
        "product_id": lambda r: gid_number(r.get("productId") or "0"),
    }
    rows = _filter(rows, args.get("query"), fields)
    page = {k: args.get(k) for k in _PAGE}
    return connection([shape(fake, r) for r in rows], reverse=bool(args.get("reverse")), **page)


# -- productSet ------------------------------------------------------------------------------------------


def _money(value: Any) -> Decimal | None:
    try:
        return None if value is None else Decimal(str(value))
    except InvalidOperation:
        return None


def _check_set(fake: ShopifyFake, input: dict[str, Any], product: dict[str, Any] | None) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    handle = input.get("handle")
    if handle:
        # ProductSetUserErrorCode.HANDLE_NOT_UNIQUE: "Handle already in use. Please provide a new handle."
        if any(p["handle"] == handle and p["id"] != (product or {}).get("id") for p in fake.all("Product")):
            errors.append(user_error(["input", "handle"], f"Handle '{handle}' already in use. Please provide a new handle.", "HANDLE_NOT_UNIQUE"))  # fmt: skip
    options = input.get("productOptions")
    variants = input.get("variants")
    if variants is not None and options is None:
        # PRODUCT_OPTIONS_INPUT_MISSING: "Must specify product options when updating variants."
        errors.append(user_error(["input", "productOptions"], "Must specify product options when updating variants.", "PRODUCT_OPTIONS_INPUT_MISSING"))  # fmt: skip
        return errors
    if options is not None and variants is None:
        # VARIANTS_INPUT_MISSING: "Must specify variants when updating options."
        errors.append(user_error(["input", "variants"], "Must specify variants when updating options.", "VARIANTS_INPUT_MISSING"))  # fmt: skip
        return errors
    if options is None or variants is None:
        return errors
    if len(options) > MAX_OPTIONS:  # schema: productOptions "maximum of 3 per product"
        errors.append(user_error(["input", "productOptions"], f"Can only specify a maximum of {MAX_OPTIONS} options.", "OPTIONS_OVER_LIMIT"))  # fmt: skip
        return errors
    names = [o.get("name") for o in options]
    if len(set(names)) != len(names):  # DUPLICATED_OPTION_NAME
        errors.append(user_error(["input", "productOptions"], "Duplicated option name.", "DUPLICATED_OPTION_NAME"))
        return errors
    for i, option in enumerate(options):
        values = [v.get("name") for v in option.get("values") or []]
        if not values:  # OPTION_VALUES_MISSING
            errors.append(user_error(["input", "productOptions", str(i), "values"], "Each option must have at least one option value specified.", "OPTION_VALUES_MISSING"))  # fmt: skip
        elif len(set(values)) != len(values):  # DUPLICATED_OPTION_VALUE
            errors.append(user_error(["input", "productOptions", str(i), "values"], "Duplicated option value.", "DUPLICATED_OPTION_VALUE"))  # fmt: skip
    if errors:
        return errors
    if len(variants) > max_variants(fake):  # changelog: 2048 variants per product
        errors.append(user_error(["input", "variants"], "Number of product variants exceeds shop limit.", "VARIANTS_OVER_LIMIT"))  # fmt: skip
        return errors
    allowed = {o["name"]: {v["name"] for v in o["values"]} for o in options}
    combos: set[tuple[tuple[str, str], ...]] = set()
    for i, variant in enumerate(variants):
        path = ["input", "variants", str(i)]
        vid = variant.get("id")
        if vid is not None:
            held = fake.get("ProductVariant", vid)
            if held is None or (product is not None and held.get("productId") != product["id"]) or product is None:
                # PRODUCT_VARIANT_DOES_NOT_EXIST: "Product variant does not exist."
                errors.append(user_error([*path, "id"], "Product variant does not exist.", "PRODUCT_VARIANT_DOES_NOT_EXIST"))  # fmt: skip
                continue
        chosen = {v.get("optionName"): v.get("name") for v in variant.get("optionValues") or []}
        unknown = [n for n in chosen if n not in allowed]
        if unknown:  # OPTION_DOES_NOT_EXIST
            errors.append(user_error([*path, "optionValues"], f"Option does not exist: {unknown[0]}.", "OPTION_DOES_NOT_EXIST"))  # fmt: skip
            continue
        if set(chosen) != set(allowed):  # every option needs a value (INVALID_VARIANT, stricter than Shopify's wording)
            errors.append(user_error([*path, "optionValues"], "The variant must have a value for every option.", "INVALID_VARIANT"))  # fmt: skip
            continue
        bad = [f"{n}: {v}" for n, v in chosen.items() if v not in allowed[n]]
        if bad:  # OPTION_VALUE_DOES_NOT_EXIST
            errors.append(user_error([*path, "optionValues"], f"Option value does not exist: {bad[0]}.", "OPTION_VALUE_DOES_NOT_EXIST"))  # fmt: skip
            continue
        combo = tuple(sorted(chosen.items()))
        if combo in combos:
            # DUPLICATED_VALUE ("Duplicated value."): two variants with one combination of options
            errors.append(user_error([*path, "optionValues"], "The variant already exists with these options.", "DUPLICATED_VALUE"))  # fmt: skip
            continue
        combos.add(combo)
        for name in ("price", "compareAtPrice"):
            amount = _money(variant.get(name)) if variant.get(name) is not None else None
            if variant.get(name) is not None and (amount is None or amount < 0):
                # INVALID_VARIANT: a negative price (productVariantsBulkUpdate's NEGATIVE_PRICE_VALUE:
                # "Price cannot take a negative value."; the message is that one)
                errors.append(user_error([*path, name], "Price cannot take a negative value.", "INVALID_VARIANT"))
    return errors


def _apply_variants(fake: ShopifyFake, product: dict[str, Any], input: dict[str, Any]) -> None:
    options = input["productOptions"]
    product["options"] = [
        {
            "id": fake.new_id("ProductOption"),
            "name": o["name"],
            "position": n,
            "values": [v["name"] for v in o["values"]],
        }
        for n, o in enumerate(options, start=1)
    ]
    if [o["name"] for o in options] == ["Title"]:
        product["options"] = []  # the default option: Shopify's "hasOnlyDefaultVariant"
    order = [o["name"] for o in options]
    kept: set[str] = set()
    for position, row in enumerate(input["variants"], start=1):
        chosen = {v["optionName"]: v["name"] for v in row["optionValues"]}
        selected = [{"name": n, "value": chosen[n]} for n in order]
        record = fake.get("ProductVariant", row["id"]) if row.get("id") else None
        if record is None:
            record = fake.add(
                "ProductVariant",
                {
                    "sku": None,
                    "barcode": None,
                    "price": "0.00",
                    "compareAtPrice": None,
                    "taxable": True,
                    "productId": product["id"],
                },  # schema: ProductVariant.taxable, true unless set
            )
            item = fake.add("InventoryItem", {"sku": None, "tracked": False, "variantId": record["id"]})
            record["inventoryItemId"] = item["id"]
        record.update(selectedOptions=selected, title=" / ".join(s["value"] for s in selected), position=position)
        for name in ("sku", "barcode", "taxable"):
            if name in row:
                record[name] = row[name]
        for name in ("price", "compareAtPrice"):
            if name in row:
                amount = _money(row[name])
                record[name] = None if amount is None else f"{amount:.2f}"
        item = fake.get("InventoryItem", record["inventoryItemId"])
        assert item is not None
        item["sku"] = record.get("sku")
        given = row.get("inventoryItem") or {}
        if "tracked" in given:
            item["tracked"] = bool(given["tracked"])
        if "measurement" in given:
            item["measurement"] = given["measurement"]
        kept.add(record["id"])
    # Mutation.productSet: variants "not included will be deleted"
    for variant in variants_of(fake, product["id"]):
        if variant["id"] not in kept:
            fake.store["ProductVariant"].pop(variant["id"], None)
            fake.store.get("InventoryItem", {}).pop(variant.get("inventoryItemId") or "", None)


@mutation("productSet")
def _product_set(fake: ShopifyFake, info: Any, input: dict[str, Any], synchronous: bool = True) -> dict[str, Any]:
    product = None
    if input.get("id") is not None:
        product = fake.get("Product", input["id"])
        if product is None:  # PRODUCT_DOES_NOT_EXIST
            return {"product": None, "productSetOperation": None, "userErrors": [user_error(["input", "id"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")]}  # fmt: skip
    elif not input.get("title"):
        # creating needs a title (ProductSetUserErrorCode.INVALID_PRODUCT; "Title can't be blank")
        return {"product": None, "productSetOperation": None, "userErrors": [user_error(["input", "title"], "Title can't be blank", "INVALID_PRODUCT")]}  # fmt: skip
    elif input.get("variants") is None:
        # the new product model: a product is created with its options and variants (stricter than Shopify,
        # which creates the default variant)
        return {"product": None, "productSetOperation": None, "userErrors": [user_error(["input", "variants"], "Must specify variants.", "VARIANTS_INPUT_MISSING")]}  # fmt: skip
    errors = _check_set(fake, input, product)
    if errors:
        return {"product": None, "productSetOperation": None, "userErrors": errors}
    if product is None:
        title = str(input["title"])
        handle = input.get("handle") or re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
        product = fake.add(
            "Product",
            {"title": title, "handle": handle, "descriptionHtml": "", "vendor": "", "productType": "", "tags": [],
             "status": "ACTIVE", "options": [], "_metafields": [], "_files": []},
        )  # fmt: skip
    for name in ("title", "handle", "descriptionHtml", "vendor", "productType", "status"):
        if name in input and input[name] is not None:
            product[name] = input[name]
    if input.get("tags") is not None:
        product["tags"] = sorted(dict.fromkeys(input["tags"]))  # Shopify answers tags sorted
    if input.get("metafields") is not None:  # a list field: set
        product["_metafields"] = [
            {"namespace": m.get("namespace") or "$app", "key": m["key"], "type": m.get("type") or "single_line_text_field",
             "value": m["value"]}
            for m in input["metafields"]
        ]  # fmt: skip
    if input.get("files") is not None:
        product["_files"] = [f.get("originalSource") for f in input["files"]]
    if input.get("variants") is not None:
        _apply_variants(fake, product, input)
    if not synchronous:
        return {"product": None, "productSetOperation": {"id": fake.new_id("ProductSetOperation"), "status": "COMPLETE"}, "userErrors": []}  # fmt: skip
    return {"product": shape(fake, product), "productSetOperation": None, "userErrors": []}


@mutation("productUpdate")
def _product_update(fake: ShopifyFake, info: Any, product: dict[str, Any] | None = None, **args: Any) -> dict[str, Any]:
    fields = product or args.get("input") or {}
    record = fake.get("Product", fields.get("id") or "")
    if record is None:  # UserError: "Product does not exist"
        return {"product": None, "userErrors": [user_error(["id"], "Product does not exist")]}
    handle = fields.get("handle")
    if handle and any(p["handle"] == handle and p["id"] != record["id"] for p in fake.all("Product")):
        return {"product": None, "userErrors": [user_error(["handle"], f"Handle '{handle}' already in use.")]}
    for name in ("title", "handle", "descriptionHtml", "vendor", "productType", "status"):
        if fields.get(name) is not None:
            record[name] = fields[name]
    if fields.get("tags") is not None:
        record["tags"] = sorted(dict.fromkeys(fields["tags"]))
    return {"product": shape(fake, record), "userErrors": []}


@mutation("productVariantsBulkUpdate")
def _variants_bulk_update(
    fake: ShopifyFake,
    info: Any,
    productId: str,
    variants: list[dict[str, Any]],
    allowPartialUpdates: bool = False,
    **args: Any,
) -> dict[str, Any]:
    """Rules: the codes of ProductVariantsBulkUpdateUserErrorCode; ``allowPartialUpdates`` (schema):
    without it any error prevents every variant from updating."""
    product = fake.get("Product", productId)
    if product is None:
        return {"product": None, "productVariants": None, "userErrors": [user_error(["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")]}  # fmt: skip
    if len(variants) > 250:  # API limits: input arrays of at most 250
        raise GraphQLError("The input array size is greater than the maximum allowed of 250.", extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"})  # fmt: skip
    errors: list[dict[str, Any]] = []
    good: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for i, row in enumerate(variants):
        path = ["variants", str(i)]
        if not row.get("id"):
            errors.append(user_error([*path, "id"], "Product variant is missing ID attribute.", "PRODUCT_VARIANT_ID_MISSING"))  # fmt: skip
            continue
        record = fake.get("ProductVariant", row["id"])
        if record is None:
            errors.append(user_error([*path, "id"], "Product variant does not exist.", "PRODUCT_VARIANT_DOES_NOT_EXIST"))  # fmt: skip
            continue
        if record.get("productId") != productId:
            errors.append(user_error([*path, "id"], "Input must be for this product.", "MUST_BE_FOR_THIS_PRODUCT"))
            continue
        if row.get("inventoryQuantities") is not None:
            errors.append(user_error([*path, "inventoryQuantities"], "Inventory quantities cannot be provided during update.", "NO_INVENTORY_QUANTITES_DURING_UPDATE"))  # fmt: skip
            continue
        bad = False
        for name in ("price", "compareAtPrice"):
            if row.get(name) is not None:
                amount = _money(row[name])
                if amount is None or amount < 0:
                    errors.append(user_error([*path, name], "Price cannot take a negative value.", "NEGATIVE_PRICE_VALUE"))  # fmt: skip
                    bad = True
        if not bad:
            good.append((record, row))
    if errors and not allowPartialUpdates:
        return {"product": None, "productVariants": None, "userErrors": errors}
    for record, row in good:
        for name in ("price", "compareAtPrice"):
            if name in row:
                amount = _money(row[name])
                record[name] = None if amount is None else f"{amount:.2f}"
        if "barcode" in row:
            record["barcode"] = row["barcode"]
    return {
        "product": shape(fake, product),
        "productVariants": [shape(fake, record) for record, _ in good],
        "userErrors": errors,
    }
