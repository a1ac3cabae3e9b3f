"""The fake Shopify's B2B price lists: ``priceLists``, ``priceList``, ``priceListFixedPricesAdd``,
``priceListFixedPricesDelete``, ``quantityPricingByVariantUpdate``.

Data: a ``PriceList`` record holds ``name``, ``currency``, ``catalogId``, ``_adjustment`` (a
percentage decrease, the ``parent`` relative prices are computed from) and ``_fixed`` (variant id ->
``{"amount", "currencyCode"}``); a ``CompanyLocationCatalog`` record ``title`` and ``status``; a
``QuantityPriceBreak`` record ``priceListId``, ``variantId``, ``minimumQuantity`` and ``price``.
:func:`add_price_list` is the test switch that creates a list with its catalog (the merchant's work in
the admin, or ``priceListCreate``, which the fake does not implement).

Sources of the rules (each repeated where it is enforced):
- the schema (2025-01): argument and input shapes, ``PriceList.prices(originType, query)`` (search
  terms ``variant_id``, ``product_id``), the codes of ``PriceListPriceUserErrorCode`` and
  ``QuantityPricingByVariantUserErrorCode`` with their descriptions, ``quantityPricingByVariantUpdate``
  ("does not allow partial successes ... Delete operations are executed before create operations"),
  ``priceListFixedPricesAdd`` ("Any existing fixed price list prices for these variants will be
  overwritten");
- shopify.dev "Manage client company locations" (apps/build/b2b): "Only stores on the Shopify Plus plan
  can use apps with B2B features"; the ``priceLists`` / ``QuantityPriceBreak`` reference pages: "Requires
  ``read_products`` access scope. Also: The user must have a permission to view catalogs";
- shopify.dev "API limits": input arrays of at most 250 items (``MAX_INPUT_SIZE_EXCEEDED``).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from graphql import GraphQLError

from deployments.sandbox.fakes.shopify.catalogue import _filter
from deployments.sandbox.fakes.shopify.core import (
    MAX_PAGE,
    ShopifyFake,
    connection,
    gid_number,
    mutation,
    query,
    shape,
    shape_of,
    user_error,
)

__all__ = ["add_price_list", "b2b", "fixed_prices", "price_breaks"]

_PAGE = ("first", "after", "last", "before")
B2B_PLANS = frozenset({"plus", "enterprise"})
"""apps/build/b2b: "Only stores on the Shopify Plus plan can use apps with B2B features"."""


def b2b(fake: ShopifyFake) -> bool:
    """The shop has B2B catalogs and their price lists: created with ``b2b=True`` on a Plus plan."""
    return fake.b2b and fake.plan in B2B_PLANS


def add_price_list(
    fake: ShopifyFake,
    name: str,
    currency: str = "EUR",
    *,
    catalog: str | None = None,
    status: str = "ACTIVE",
    decrease: str = "0",
) -> dict[str, Any]:
    """Test switch: a price list (and its B2B catalog titled ``catalog``, by default the list's name)
    whose relative prices are the variant prices less ``decrease`` per cent."""
    held = fake.add("CompanyLocationCatalog", {"title": catalog or name, "status": status})
    return fake.add(
        "PriceList",
        {"name": name, "currency": currency, "catalogId": held["id"], "_adjustment": decrease, "_fixed": {}},
    )


def fixed_prices(fake: ShopifyFake, price_list: dict[str, Any]) -> dict[str, str]:
    """Variant id -> fixed price amount on ``price_list``."""
    return {vid: str(p["amount"]) for vid, p in price_list["_fixed"].items()}


def price_breaks(fake: ShopifyFake, price_list: dict[str, Any]) -> dict[tuple[str, int], str]:
    """(variant id, minimum quantity) -> amount of the list's quantity price breaks."""
    return {(b["variantId"], b["minimumQuantity"]): str(b["price"]["amount"]) for b in _breaks(fake, price_list["id"])}


def _breaks(fake: ShopifyFake, list_id: str, variant_id: str | None = None) -> list[dict[str, Any]]:
    rows = [
        b
        for b in fake.all("QuantityPriceBreak")
        if b["priceListId"] == list_id and (variant_id is None or b["variantId"] == variant_id)
    ]
    return sorted(rows, key=lambda b: (b["variantId"], b["minimumQuantity"]))


def _require_b2b(fake: ShopifyFake, field: str) -> None:
    """A shop without B2B: what Shopify answers was not observed (a shop with Markets may hold market price
    lists); the fake refuses every price-list field with ACCESS_DENIED in Shopify's wording for a missing
    access (stricter than Shopify)."""
    if not b2b(fake):
        raise GraphQLError(
            f"Access denied for {field} field. Required access: `read_products` access scope. Also: The user "
            "must have a permission to view catalogs. (the fake: a Shopify Plus shop with B2B)",
            extensions={"code": "ACCESS_DENIED", "documentation": "https://shopify.dev/api/usage/access-scopes"},
        )


def _max_input(rows: list[Any]) -> None:
    if len(rows) > MAX_PAGE:  # API limits: input arrays of at most 250
        raise GraphQLError(
            f"The input array size of {len(rows)} is greater than the maximum allowed of {MAX_PAGE}.",
            extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"},
        )


def _amount(money: dict[str, Any] | None) -> Decimal | None:
    try:
        return None if money is None else Decimal(str(money.get("amount")))
    except InvalidOperation:
        return None


def _money(amount: Decimal, currency: str) -> dict[str, Any]:
    return {"__typename": "MoneyV2", "amount": f"{amount:.2f}", "currencyCode": currency}


# -- views -----------------------------------------------------------------------------------------


def _break_shape(fake: ShopifyFake, record: dict[str, Any]) -> dict[str, Any]:
    return {
        "priceList": lambda info: shape(fake, fake.get("PriceList", record["priceListId"])),
        "variant": lambda info: shape(fake, fake.get("ProductVariant", record["variantId"])),
    }


def _price_list_shape(fake: ShopifyFake, record: dict[str, Any]) -> dict[str, Any]:
    list_id, currency = record["id"], record["currency"]

    def row(variant: dict[str, Any], price: dict[str, Any], origin: str) -> dict[str, Any]:
        vid = variant["id"]

        def breaks(info: Any, **args: Any) -> dict[str, Any]:
            rows = [shape(fake, b) for b in _breaks(fake, list_id, vid)] if origin == "FIXED" else []
            return connection(rows, reverse=bool(args.get("reverse")), **{k: args.get(k) for k in _PAGE})

        return {
            "__typename": "PriceListPrice",
            "originType": origin,
            "price": price,
            "compareAtPrice": None,
            "variant": shape(fake, variant),
            "quantityPriceBreaks": breaks,
            "_product": gid_number(variant.get("productId") or "0"),
            "_variant": gid_number(vid),
        }

    def prices(info: Any, originType: str | None = None, query: str | None = None, **args: Any) -> dict[str, Any]:
        variants = sorted(fake.all("ProductVariant"), key=lambda v: gid_number(v["id"]))
        rows = []
        for variant in variants:
            fixed = record["_fixed"].get(variant["id"])
            if fixed is not None and originType in (None, "FIXED"):
                rows.append(row(variant, _money(Decimal(str(fixed["amount"])), currency), "FIXED"))
            elif fixed is None and originType in (None, "RELATIVE"):
                # schema, PriceListPriceOriginType.RELATIVE: "relative to the adjustment type and value"
                base = Decimal(str(variant.get("price") or 0)) * (1 - Decimal(record["_adjustment"]) / 100)
                rows.append(row(variant, _money(base.quantize(Decimal("0.01"), ROUND_HALF_UP), currency), "RELATIVE"))
        fields = {"variant_id": lambda r: r["_variant"], "product_id": lambda r: r["_product"]}
        rows = _filter(rows, query, fields)  # schema: prices(query:) filters id, product_id, variant_id
        return connection(rows, reverse=bool(args.get("reverse")), **{k: args.get(k) for k in _PAGE})

    def quantity_rules(info: Any, **args: Any) -> dict[str, Any]:
        return connection([], **{k: args.get(k) for k in _PAGE})

    adjustment = {"type": "PERCENTAGE_DECREASE", "value": float(record["_adjustment"])}
    return {
        "catalog": lambda info: shape(fake, fake.get("CompanyLocationCatalog", record.get("catalogId") or "")),
        "fixedPricesCount": len(record["_fixed"]),
        "parent": {"adjustment": adjustment, "settings": {"compareAtMode": "ADJUSTED"}},
        "prices": prices,
        "quantityRules": quantity_rules,
    }


def _catalog_shape(fake: ShopifyFake, record: dict[str, Any]) -> dict[str, Any]:
    held = next((p for p in fake.all("PriceList") if p.get("catalogId") == record["id"]), None)
    return {"operations": [], "priceList": lambda info: shape(fake, held)}


shape_of("PriceList", _price_list_shape)
shape_of("QuantityPriceBreak", _break_shape)
shape_of("CompanyLocationCatalog", _catalog_shape)


# -- queries -----------------------------------------------------------------------------------------


@query("priceLists")
def _price_lists(fake: ShopifyFake, info: Any, **args: Any) -> dict[str, Any]:
    _require_b2b(fake, "priceLists")
    rows = sorted(fake.all("PriceList"), key=lambda r: gid_number(r["id"]))
    if args.get("sortKey") == "NAME":
        rows.sort(key=lambda r: str(r["name"]))
    return connection(
        [shape(fake, r) for r in rows], reverse=bool(args.get("reverse")), **{k: args.get(k) for k in _PAGE}
    )


@query("priceList")
def _price_list(fake: ShopifyFake, info: Any, id: str) -> dict[str, Any] | None:
    _require_b2b(fake, "priceList")
    return shape(fake, fake.get("PriceList", id))


# -- mutations ---------------------------------------------------------------------------------------


def _not_found() -> list[dict[str, Any]]:
    """Schema, PriceListPriceUserErrorCode / QuantityPricingByVariantUserErrorCode: PRICE_LIST_NOT_FOUND."""
    return [user_error(["priceListId"], "Price list does not exist.", "PRICE_LIST_NOT_FOUND")]


def _price_problem(
    fake: ShopifyFake, row: dict[str, Any], currency: str, path: list[str], codes: tuple[str, str]
) -> dict[str, Any] | None:
    """A fixed price's variant unknown, its currency not the list's, or a negative amount."""
    variant_code, currency_code = codes
    if fake.get("ProductVariant", row["variantId"]) is None:
        return user_error([*path, "variantId"], "Variant not found.", variant_code)
    for name in ("price", "compareAtPrice"):
        money = row.get(name)
        if money is not None and str(money.get("currencyCode")) != currency:
            return user_error([*path, name, "currencyCode"], "The specified currency doesn't match the price list's currency.", currency_code)  # fmt: skip
        amount = _amount(money)
        if money is not None and (amount is None or amount < 0):
            # the enums name no price rule: a negative price is refused (stricter than Shopify)
            return user_error([*path, name, "amount"], "Price must be greater than or equal to 0.", None)
    return None


@mutation("priceListFixedPricesAdd")
def _fixed_prices_add(fake: ShopifyFake, info: Any, priceListId: str, prices: list[dict[str, Any]]) -> dict[str, Any]:
    _require_b2b(fake, "priceListFixedPricesAdd")
    _max_input(prices)
    record = fake.get("PriceList", priceListId)
    if record is None:
        return {"prices": None, "userErrors": _not_found()}
    errors = []
    for i, row in enumerate(prices):
        # schema codes: VARIANT_NOT_FOUND (the enum's only variant code: Shopify's answer for an unknown
        # variant is not observed), PRICE_LIST_CURRENCY_MISMATCH
        problem = _price_problem(fake, row, record["currency"], ["prices", str(i)], ("VARIANT_NOT_FOUND", "PRICE_LIST_CURRENCY_MISMATCH"))  # fmt: skip
        if problem is not None:
            errors.append(problem)
    if errors:
        # whether Shopify adds the others is not documented: the fake adds none (stricter than Shopify)
        return {"prices": None, "userErrors": errors}
    added = []
    for row in prices:  # schema: "Any existing fixed price list prices for these variants will be overwritten"
        record["_fixed"][row["variantId"]] = {"amount": f"{Decimal(str(row['price']['amount'])):.2f}", "currencyCode": record["currency"]}  # fmt: skip
        variant = fake.get("ProductVariant", row["variantId"])
        added.append(
            {
                "__typename": "PriceListPrice",
                "originType": "FIXED",
                "price": _money(Decimal(str(row["price"]["amount"])), record["currency"]),
                "compareAtPrice": None,
                "variant": shape(fake, variant),
            }
        )
    return {"prices": added, "userErrors": []}


@mutation("priceListFixedPricesDelete")
def _fixed_prices_delete(fake: ShopifyFake, info: Any, priceListId: str, variantIds: list[str]) -> dict[str, Any]:
    _require_b2b(fake, "priceListFixedPricesDelete")
    _max_input(variantIds)
    record = fake.get("PriceList", priceListId)
    if record is None:
        return {"deletedFixedPriceVariantIds": None, "userErrors": _not_found()}
    errors = [
        # VARIANT_NOT_FOUND: "A fixed price for the specified product variant doesn't exist."
        user_error(
            ["variantIds", str(i)],
            "A fixed price for the specified product variant doesn't exist.",
            "VARIANT_NOT_FOUND",
        )
        for i, vid in enumerate(variantIds)
        if vid not in record["_fixed"]
    ]
    if errors:  # not documented either way: none deleted (stricter than Shopify)
        return {"deletedFixedPriceVariantIds": None, "userErrors": errors}
    for vid in variantIds:
        record["_fixed"].pop(vid)
        # the breaks hang on the fixed price (QUANTITY_PRICE_BREAK_ADD_PRICE_LIST_PRICE_NOT_FOUND): they go
        # with it (not observed)
        for held in _breaks(fake, record["id"], vid):
            fake.store["QuantityPriceBreak"].pop(held["id"])
    return {"deletedFixedPriceVariantIds": list(variantIds), "userErrors": []}


@mutation("quantityPricingByVariantUpdate")
def _quantity_pricing(fake: ShopifyFake, info: Any, priceListId: str, input: dict[str, Any]) -> dict[str, Any]:
    """Schema: "does not allow partial successes ... Delete operations are executed before create
    operations"; the codes of QuantityPricingByVariantUserErrorCode."""
    _require_b2b(fake, "quantityPricingByVariantUpdate")
    for rows in input.values():
        _max_input(rows or [])
    record = fake.get("PriceList", priceListId)
    if record is None:
        return {"productVariants": None, "userErrors": _not_found()}
    if input.get("quantityRulesToAdd") or input.get("quantityRulesToDeleteByVariantId"):
        raise GraphQLError("the fake does not implement quantity rules (stricter than Shopify)")
    fixed = dict(record["_fixed"])
    breaks = {b["id"]: b for b in _breaks(fake, record["id"])}
    errors = []
    for i, bid in enumerate(input["quantityPriceBreaksToDelete"]):
        if breaks.pop(bid, None) is None:
            errors.append(user_error(["input", "quantityPriceBreaksToDelete", str(i)], "Quantity price break not found.", "QUANTITY_PRICE_BREAK_DELETE_NOT_FOUND"))  # fmt: skip
    for i, vid in enumerate(input["pricesToDeleteByVariantId"]):
        if fixed.pop(vid, None) is None:
            errors.append(user_error(["input", "pricesToDeleteByVariantId", str(i)], "Fixed price's variant not found.", "PRICE_DELETE_VARIANT_NOT_FOUND"))  # fmt: skip
    seen: set[Any] = set()
    for i, row in enumerate(input["pricesToAdd"]):
        path = ["input", "pricesToAdd", str(i)]
        problem = _price_problem(fake, row, record["currency"], path, ("PRICE_ADD_VARIANT_NOT_FOUND", "PRICE_ADD_CURRENCY_MISMATCH"))  # fmt: skip
        if problem is None and row["variantId"] in seen:  # "Prices to add inputs must be unique by variant id."
            problem = user_error(path, "Prices to add inputs must be unique by variant id.", "PRICE_ADD_DUPLICATE_INPUT_FOR_VARIANT")  # fmt: skip
        if problem is not None:
            errors.append(problem)
            continue
        seen.add(row["variantId"])
        fixed[row["variantId"]] = {"amount": f"{Decimal(str(row['price']['amount'])):.2f}", "currencyCode": record["currency"]}  # fmt: skip
    new: list[dict[str, Any]] = []
    held = {(b["variantId"], b["minimumQuantity"]) for b in breaks.values()}
    seen = set()
    for i, row in enumerate(input["quantityPriceBreaksToAdd"]):
        path = ["input", "quantityPriceBreaksToAdd", str(i)]
        vid, minimum, amount = row["variantId"], int(row["minimumQuantity"]), _amount(row["price"])
        if fake.get("ProductVariant", vid) is None:
            errors.append(user_error([*path, "variantId"], "Quantity price break variant not found.", "QUANTITY_PRICE_BREAK_ADD_VARIANT_NOT_FOUND"))  # fmt: skip
        elif (vid, minimum) in seen:
            errors.append(user_error(path, "Quantity price breaks to add inputs must be unique by variant id and minimum quantity.", "QUANTITY_PRICE_BREAK_ADD_DUPLICATE_INPUT_FOR_VARIANT_AND_MIN"))  # fmt: skip
        elif str(row["price"].get("currencyCode")) != record["currency"]:
            errors.append(user_error([*path, "price", "currencyCode"], "Price list and quantity price break currency mismatch.", "QUANTITY_PRICE_BREAK_ADD_CURRENCY_MISMATCH"))  # fmt: skip
        elif vid not in fixed:  # a break hangs on the variant's fixed price on the list
            errors.append(user_error([*path, "variantId"], "Quantity price break's fixed price not found.", "QUANTITY_PRICE_BREAK_ADD_PRICE_LIST_PRICE_NOT_FOUND"))  # fmt: skip
        elif minimum < 2 or amount is None or amount < 0 or (vid, minimum) in held:
            # QUANTITY_PRICE_BREAK_ADD_INVALID ("Invalid quantity price break."): a break from 1, a negative
            # price, or a minimum the variant already has a break for (stricter than Shopify: not documented)
            errors.append(user_error(path, "Invalid quantity price break.", "QUANTITY_PRICE_BREAK_ADD_INVALID"))
        else:
            seen.add((vid, minimum))
            new.append({"priceListId": record["id"], "variantId": vid, "minimumQuantity": minimum,
                        "price": _money(amount, record["currency"])})  # fmt: skip
    if errors:  # schema: "If any of the requested resources fail to update, none ... will be updated"
        return {"productVariants": None, "userErrors": errors}
    record["_fixed"] = fixed
    # a break whose fixed price this call deleted goes with it (not observed, as priceListFixedPricesDelete)
    breaks = {bid: b for bid, b in breaks.items() if b["variantId"] in fixed}
    for bid in [b["id"] for b in _breaks(fake, record["id"]) if b["id"] not in breaks]:
        fake.store["QuantityPriceBreak"].pop(bid)
    for row in new:
        fake.add("QuantityPriceBreak", row)
    touched = dict.fromkeys([r["variantId"] for r in input["pricesToAdd"]] + [r["variantId"] for r in new])
    return {"productVariants": [shape(fake, fake.get("ProductVariant", v)) for v in touched], "userErrors": []}
