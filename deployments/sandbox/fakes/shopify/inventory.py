"""The fake Shopify's locations and inventory: ``locations``, ``location``, ``inventoryItem(s)``,
``nodes`` / ``node``, ``inventorySetQuantities``, ``inventoryItemUpdate``, ``inventoryActivate``.

Data (shared with ``catalogue.py``): a ``ProductVariant`` record holds ``inventoryItemId``, an
``InventoryItem`` record holds ``id``, ``sku``, ``tracked``, ``variantId``; quantities live in
:func:`quantities` keyed ``(inventory item id, location id)`` -> ``{"available": n, "on_hand": n}``
(a key present means the item is stocked at that location, Shopify's "inventory level").

Sources of the rules (each repeated where it is enforced):
- the schema (2025-01 introspection): argument and input shapes, the codes of
  ``InventorySetQuantitiesUserErrorCode`` and their descriptions;
- shopify.dev "inventorySetQuantities" (2025-01 reference) and "Manage inventory quantities and
  states" (apps/build/orders-fulfillment/inventory-management-apps/manage-quantities-states):
  the quantity names, the reasons, ``compareQuantity`` and ``ignoreCompareQuantity``;
- shopify.dev "API limits": input arrays of at most 250 items (``MAX_INPUT_SIZE_EXCEEDED``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from graphql import GraphQLError

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

__all__ = ["QUANTITY_NAMES", "REASONS", "add_variant", "level", "quantities", "view"]

QUANTITY_NAMES = frozenset(
    {"available", "committed", "damaged", "incoming", "on_hand", "quality_control", "reserved", "safety_stock"}
)
"""manage-quantities-states, "Inventory states": the names ``InventoryLevel.quantities`` accepts."""
SETTABLE_NAMES = frozenset({"available", "on_hand"})
"""InventorySetQuantitiesInput.name (schema): "The only accepted values are: `available` or `on_hand`"."""
REASONS = frozenset(
    {
        "correction",
        "cycle_count_available",
        "damaged",
        "movement_created",
        "movement_updated",
        "movement_received",
        "movement_canceled",
        "other",
        "promotion",
        "quality_control",
        "received",
        "reservation_created",
        "reservation_deleted",
        "reservation_updated",
        "restock",
        "safety_stock",
        "shrinkage",
    }
)
"""manage-quantities-states, "Set inventory quantities on hand": the possible reasons (the
schema's InventorySetQuantitiesInput.reason links there)."""
MAX_QUANTITY = 1_000_000_000
"""InventorySetQuantitiesUserErrorCode.INVALID_QUANTITY_TOO_HIGH: "can't be higher than 1,000,000,000"."""


def quantities(fake: ShopifyFake) -> dict[tuple[str, str], dict[str, int]]:
    """The fake's inventory levels: (inventory item id, location id) -> quantities by name."""
    found: dict[tuple[str, str], dict[str, int]] = fake.__dict__.setdefault("quantities", {})
    return found


def add_variant(
    fake: ShopifyFake,
    sku: str,
    *,
    tracked: bool = True,
    available: int = 0,
    locations: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Seed a product variant and its inventory item (stocked at ``locations``: ids, default every
    active location, with ``available``), without the catalogue module. Returns the variant record."""
    product = fake.add("Product", {"title": sku, "status": "ACTIVE"})
    variant = fake.add(
        "ProductVariant",
        {
            "sku": sku,
            "barcode": None,
            "price": "0.00",
            "compareAtPrice": None,
            "title": "Default Title",
            "selectedOptions": [{"name": "Title", "value": "Default Title"}],
            "productId": product["id"],
        },
    )
    item = fake.add("InventoryItem", {"sku": sku, "tracked": tracked, "variantId": variant["id"]})
    variant["inventoryItemId"] = item["id"]
    ids = list(locations) if locations is not None else [loc["id"] for loc in fake.locations() if loc["isActive"]]
    for location_id in ids:
        quantities(fake)[(item["id"], location_id)] = {"available": available, "on_hand": available}
    return variant


def level(fake: ShopifyFake, item_id: str, location_id: str) -> dict[str, int] | None:
    return quantities(fake).get((item_id, location_id))


# -- views: records shaped like the schema's objects (a callable value takes the field's arguments)


def _location_view(fake: ShopifyFake, record: dict[str, Any]) -> dict[str, Any]:
    view = {
        "activatable": True,
        "deactivatable": True,
        "deletable": False,
        "hasActiveInventory": True,
        "isFulfillmentService": False,
        "isPrimary": False,
        "shipsInventory": True,
        "legacyResourceId": gid_number(record["id"]),
        **record,
    }
    view["inventoryLevel"] = lambda info, inventoryItemId: _level_view(fake, inventoryItemId, record["id"])
    return view


def _level_view(fake: ShopifyFake, item_id: str, location_id: str) -> dict[str, Any] | None:
    held = level(fake, item_id, location_id)
    if held is None:
        return None  # schema: ``inventoryLevel`` is nullable: the item is not stocked there

    def named(info: Any, names: list[str]) -> list[dict[str, Any]]:
        unknown = sorted(set(names) - QUANTITY_NAMES)
        if unknown:
            raise GraphQLError(f"Invalid quantity names: {', '.join(unknown)} (manage-quantities-states).")
        return [
            {
                "__typename": "InventoryQuantity",
                "id": f"gid://shopify/InventoryQuantity/{gid_number(item_id)}?location_id={gid_number(location_id)}&name={n}",
                "name": n,
                "quantity": held.get(n, 0),
                "updatedAt": None,
            }
            for n in names
        ]

    return {
        "__typename": "InventoryLevel",
        # Shopify's inventory level ids: gid://shopify/InventoryLevel/<location>?inventory_item_id=<item>
        "id": f"gid://shopify/InventoryLevel/{gid_number(location_id)}?inventory_item_id={gid_number(item_id)}",
        "quantities": named,
        "item": lambda info: _item_view(fake, fake.get("InventoryItem", item_id)),
        "location": lambda info: _location_view(fake, fake.get("Location", location_id) or {}),
        "canDeactivate": True,
    }


def _item_view(fake: ShopifyFake, record: dict[str, Any] | None) -> dict[str, Any] | None:
    if record is None:
        return None
    item_id = record["id"]

    def levels(info: Any, **page: Any) -> dict[str, Any]:
        page.pop("query", None)
        held = [
            _level_view(fake, item_id, location["id"])
            for location in fake.locations()
            if level(fake, item_id, location["id"]) is not None
        ]
        return connection(held, **page)

    return {
        "requiresShipping": True,
        "duplicateSkuCount": 0,
        "legacyResourceId": gid_number(item_id),
        **record,
        "inventoryLevel": lambda info, locationId: _level_view(fake, item_id, locationId),
        "inventoryLevels": levels,
        "variant": lambda info: _variant_view(fake, fake.get("ProductVariant", record.get("variantId") or "")),
    }


def _variant_view(fake: ShopifyFake, record: dict[str, Any] | None) -> dict[str, Any] | None:
    if record is None:
        return None
    return {
        **record,
        "inventoryItem": lambda info: _item_view(fake, fake.get("InventoryItem", record.get("inventoryItemId") or "")),
    }


for _kind, _shaper in (("Location", _location_view), ("InventoryItem", _item_view), ("ProductVariant", _variant_view)):
    shape_of(_kind, _shaper)  # type: ignore[arg-type]


def view(fake: ShopifyFake, record: dict[str, Any] | None) -> dict[str, Any] | None:
    """Any record as the schema's object, with every module's computed fields (core.shape)."""
    return shape(fake, record)


# -- search syntax (usage/search-syntax): ``field:value`` terms joined by OR -----------------------

_TERM = re.compile(r"(\w+):(\"[^\"]*\"|\S+)")


def _terms(text: str | None) -> dict[str, set[str]]:
    """``sku:A OR sku:"B C"`` -> {"sku": {"A", "B C"}}. Only OR-joined equality terms (stricter than
    Shopify: a query the fake cannot read is an error, never a silent "match all")."""
    found: dict[str, set[str]] = {}
    if not text:
        return found
    rest = _TERM.sub("", text).replace(" OR ", " ").replace("(", " ").replace(")", " ").strip()
    if rest:
        raise GraphQLError(f"the fake reads only field:value terms joined by OR, not {rest!r} (stricter than Shopify)")
    for name, value in _TERM.findall(text):
        found.setdefault(name, set()).add(value.strip('"'))
    return found


def _matches(record: dict[str, Any], terms: dict[str, set[str]], fields: dict[str, str]) -> bool:
    for name, values in terms.items():
        key = fields.get(name)
        if key is None:
            raise GraphQLError(f"the fake does not filter on {name!r} (stricter than Shopify)")
        value = str(record.get(key))
        if key == "id":
            value = str(gid_number(value))
        if value not in values:
            return False
    return True


# -- queries ----------------------------------------------------------------------------------------


@query("locations")
def locations(fake: ShopifyFake, info: Any, **args: Any) -> dict[str, Any]:
    """Active locations (``includeInactive`` adds the others), sorted by id or name."""
    rows = [r for r in fake.locations() if r.get("isActive") or args.get("includeInactive")]
    terms = _terms(args.get("query"))
    rows = [r for r in rows if _matches(r, terms, {"name": "name", "id": "id"})]
    if args.get("sortKey") == "NAME":
        rows.sort(key=lambda r: str(r["name"]))
    else:
        rows.sort(key=lambda r: gid_number(r["id"]))
    page = {k: args.get(k) for k in ("first", "after", "last", "before")}
    return connection([_location_view(fake, r) for r in rows], reverse=bool(args.get("reverse")), **page)


@query("location")
def location(fake: ShopifyFake, info: Any, id: str | None = None) -> dict[str, Any] | None:
    """QueryRoot.location (schema): "If no ID is provided, the primary location of the Shop is
    returned" (the fake's primary is its first location)."""
    if id is None:
        rows = sorted(fake.locations(), key=lambda r: gid_number(r["id"]))
        return _location_view(fake, rows[0]) if rows else None
    record = fake.get("Location", id)
    return _location_view(fake, record) if record else None


@query("inventoryItem")
def inventory_item(fake: ShopifyFake, info: Any, id: str) -> dict[str, Any] | None:
    return _item_view(fake, fake.get("InventoryItem", id))


@query("inventoryItems")
def inventory_items(fake: ShopifyFake, info: Any, **args: Any) -> dict[str, Any]:
    """Filterable by ``sku`` and ``id`` (the schema's filter table); sorted by id."""
    terms = _terms(args.get("query"))
    rows = [r for r in fake.all("InventoryItem") if _matches(r, terms, {"sku": "sku", "id": "id"})]
    rows.sort(key=lambda r: gid_number(r["id"]))
    page = {k: args.get(k) for k in ("first", "after", "last", "before")}
    return connection([_item_view(fake, r) for r in rows], reverse=bool(args.get("reverse")), **page)


def _too_many(size: int) -> GraphQLError:
    # shopify.dev "API limits" / usage limits: "Input arguments that accept an array have a
    # maximum size of 250"; the error code is MAX_INPUT_SIZE_EXCEEDED.
    return GraphQLError(
        f"The input array size of {size} is greater than the maximum allowed of {MAX_PAGE}.",
        extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"},
    )


# -- mutations ----------------------------------------------------------------------------------------


@mutation("inventorySetQuantities")
def inventory_set_quantities(fake: ShopifyFake, info: Any, input: dict[str, Any]) -> dict[str, Any]:
    """Set ``available`` or ``on_hand`` of items at locations (absolute).

    Rules (schema InventorySetQuantitiesInput / InventoryQuantityInput, the codes of
    InventorySetQuantitiesUserErrorCode, and the inventorySetQuantities reference page):
    - at most 250 quantities (API limits: MAX_INPUT_SIZE_EXCEEDED, the whole document refused);
    - ``name`` available or on_hand (INVALID_NAME), ``reason`` one of REASONS (INVALID_REASON);
    - each ``compareQuantity`` must equal the stored quantity of ``name`` (COMPARE_QUANTITY_STALE)
      unless ``ignoreCompareQuantity``; missing without it: COMPARE_QUANTITY_REQUIRED;
    - an unknown item (INVALID_INVENTORY_ITEM) or location (INVALID_LOCATION), an item not stocked
      at the location (ITEM_NOT_STOCKED_AT_LOCATION), a negative or too high quantity, a pair
      given twice (NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR);
    - an item whose inventory is not tracked: refused with NON_MUTABLE_INVENTORY_ITEM ("stricter
      than Shopify", not observed: the enum has no code of its own for it, and Shopify keeps no
      quantity an untracked item sells by);
    - any userError: nothing is applied (not observed; the stricter reading of a single
      adjustment group per call).
    Setting ``available`` moves ``on_hand`` by the same delta and conversely (manage-quantities-states).
    """
    rows = list(input.get("quantities") or [])
    if len(rows) > MAX_PAGE:
        raise _too_many(len(rows))
    name, reason = input.get("name"), input.get("reason")
    ignore = bool(input.get("ignoreCompareQuantity"))
    errors: list[dict[str, Any]] = []
    if name not in SETTABLE_NAMES:
        errors.append(
            user_error(["input", "name"], "The quantity name must be either 'available' or 'on_hand'.", "INVALID_NAME")
        )
    if reason not in REASONS:
        errors.append(user_error(["input", "reason"], "The specified reason is invalid.", "INVALID_REASON"))
    seen: set[tuple[str, str]] = set()
    for index, row in enumerate(rows):
        path = ["input", "quantities", str(index)]
        item_id, location_id, quantity = row["inventoryItemId"], row["locationId"], int(row["quantity"])
        item = fake.get("InventoryItem", item_id)
        place = fake.get("Location", location_id)
        if item is None:
            errors.append(
                user_error(
                    [*path, "inventoryItemId"],
                    "The specified inventory item could not be found.",
                    "INVALID_INVENTORY_ITEM",
                )
            )
            continue
        if place is None or not place.get("isActive"):
            errors.append(
                user_error([*path, "locationId"], "The specified location could not be found.", "INVALID_LOCATION")
            )
            continue
        if (item_id, location_id) in seen:
            errors.append(
                user_error(
                    path,
                    "The combination of inventoryItemId and locationId must be unique.",
                    "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                )
            )
            continue
        seen.add((item_id, location_id))
        if quantity < 0:
            errors.append(
                user_error([*path, "quantity"], "The quantity can't be negative.", "INVALID_QUANTITY_NEGATIVE")
            )
            continue
        if quantity > MAX_QUANTITY:
            errors.append(
                user_error(
                    [*path, "quantity"],
                    "The total quantity can't be higher than 1,000,000,000.",
                    "INVALID_QUANTITY_TOO_HIGH",
                )
            )
            continue
        if not item.get("tracked"):
            errors.append(
                user_error(
                    [*path, "inventoryItemId"],
                    "The inventory item is not tracked: its quantities cannot be set.",
                    "NON_MUTABLE_INVENTORY_ITEM",
                )
            )
            continue
        held = level(fake, item_id, location_id)
        if held is None:
            errors.append(
                user_error(
                    [*path, "locationId"],
                    "The specified inventory item is not stocked at the location.",
                    "ITEM_NOT_STOCKED_AT_LOCATION",
                )
            )
            continue
        if not ignore and name in SETTABLE_NAMES:
            compare = row.get("compareQuantity")
            if compare is None:
                errors.append(
                    user_error(
                        [*path, "compareQuantity"],
                        "The compareQuantity argument must be given to each quantity or ignored using "
                        "ignoreCompareQuantity.",
                        "COMPARE_QUANTITY_REQUIRED",
                    )
                )
            elif int(compare) != held.get(str(name), 0):
                errors.append(
                    user_error(
                        [*path, "compareQuantity"],
                        "The compareQuantity value does not match persisted value.",
                        "COMPARE_QUANTITY_STALE",
                    )
                )
    if errors:
        return {"inventoryAdjustmentGroup": None, "userErrors": errors}
    other = "on_hand" if name == "available" else "available"
    changes: list[dict[str, Any]] = []
    for row in rows:
        held = quantities(fake)[(row["inventoryItemId"], row["locationId"])]
        delta = int(row["quantity"]) - held.get(str(name), 0)
        if delta == 0:
            continue
        held[str(name)] = int(row["quantity"])
        held[other] = held.get(other, 0) + delta
        for changed in (str(name), other):
            changes.append(
                {
                    "name": changed,
                    "delta": delta,
                    "quantityAfterChange": held[changed],
                    "ledgerDocumentUri": None,
                    "item": _item_view(fake, fake.get("InventoryItem", row["inventoryItemId"])),
                    "location": _location_view(fake, fake.get("Location", row["locationId"]) or {}),
                    "_item": row["inventoryItemId"],
                    "_location": row["locationId"],
                }
            )
    if not changes:
        # Not observed: Shopify's group for a call that changes nothing (the fake answers none).
        return {"inventoryAdjustmentGroup": None, "userErrors": []}

    def filtered(
        info: Any,
        inventoryItemIds: list[str] | None = None,
        locationIds: list[str] | None = None,
        quantityNames: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        return [
            c
            for c in changes
            if (inventoryItemIds is None or c["_item"] in inventoryItemIds)
            and (locationIds is None or c["_location"] in locationIds)
            and (quantityNames is None or c["name"] in quantityNames)
        ]

    group = fake.add(
        "InventoryAdjustmentGroup",
        {
            "reason": reason,
            "referenceDocumentUri": input.get("referenceDocumentUri"),
            "createdAt": "2025-01-01T00:00:00Z",
        },
    )
    return {"inventoryAdjustmentGroup": {**group, "changes": filtered}, "userErrors": []}


@mutation("inventoryItemUpdate")
def inventory_item_update(fake: ShopifyFake, info: Any, id: str, input: dict[str, Any]) -> dict[str, Any]:
    """Update an inventory item (the fake keeps ``tracked`` and ``sku``; schema InventoryItemInput)."""
    record = fake.get("InventoryItem", id)
    if record is None:
        return {"inventoryItem": None, "userErrors": [user_error(["id"], "The product couldn't be found.")]}
    for key in ("tracked", "sku"):
        if input.get(key) is not None:
            record[key] = input[key]
    return {"inventoryItem": _item_view(fake, record), "userErrors": []}


@mutation("inventoryActivate")
def inventory_activate(
    fake: ShopifyFake,
    info: Any,
    inventoryItemId: str,
    locationId: str,
    available: int | None = None,
    onHand: int | None = None,
    stockAtLegacyLocation: bool | None = None,
) -> dict[str, Any]:
    """Stock an item at a location (an existing level is left as it is: the reference page says
    ``available`` is only applied when the item is not stocked there yet)."""
    if fake.get("InventoryItem", inventoryItemId) is None:
        return {
            "inventoryLevel": None,
            "userErrors": [user_error(["inventoryItemId"], "The specified inventory item could not be found.")],
        }
    place = fake.get("Location", locationId)
    if place is None or not place.get("isActive"):
        return {"inventoryLevel": None, "userErrors": [user_error(["locationId"], "The location could not be found.")]}
    key = (inventoryItemId, locationId)
    if key not in quantities(fake):
        start = int(available if available is not None else onHand or 0)
        quantities(fake)[key] = {"available": start, "on_hand": start}
    return {"inventoryLevel": _level_view(fake, inventoryItemId, locationId), "userErrors": []}
