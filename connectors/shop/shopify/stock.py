"""Shopify as a stock sink: absolute ``available`` quantities per location.

A shop variant's stock is its inventory item's level at a location. The sink reads the levels it
is going to set (``nodes`` on the variant ids the catalogue stored: each variant's inventory item,
``tracked``, and ``inventoryLevel(locationId).quantities(names: ["available"])``), then sends
``inventorySetQuantities`` (name ``available``, reason ``correction``, at most 250 quantities a
call) with ``compareQuantity`` = the quantity read: a sale made in between makes Shopify answer
``COMPARE_QUANTITY_STALE`` and that SKU is reported (with what Shopify holds now) and sent again by
the next run, never overwritten blindly. An item whose inventory is not tracked is made tracked
first (``inventoryItemUpdate``); one not stocked at the location is stocked there
(``inventoryActivate``) with nothing, then set like the others. A quantity already right is not
sent.

Locations: a feed's ``location`` is a Shopify location name, or a key of the settings' ``locations``
(name -> ``gid://shopify/Location/<n>``) when names are ambiguous; ``None`` is the shop's primary
location (``QueryRoot.location`` without an id).

Details: docs/shopify.md (What each flow writes; API versions: 2026-04 replaces ``compareQuantity``
by ``changeFromQuantity``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.base import BatchResult, StockWrite
from connectors.errors import Fatal, RecordError
from connectors.shop.shopify.base import ShopifyBase
from connectors.shop.shopify.client import user_errors

__all__ = ["MAX_QUANTITIES", "ShopifyStock"]

MAX_QUANTITIES = 250
"""shopify.dev "API limits": input arrays hold at most 250 items (``quantities`` included)."""
REASON = "correction"
"""manage-quantities-states, "Set inventory quantities on hand": the reason of a count from elsewhere."""

LOCATIONS = """
query Locations($first: Int!, $after: String) {
  locations(first: $first, after: $after) {
    nodes { id name isActive }
    pageInfo { hasNextPage endCursor }
  }
}
"""

PRIMARY = "query Primary { location { id name } }"

SET = """
mutation Set($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { id }
    userErrors { field message code }
  }
}
"""

TRACK = """
mutation Track($id: ID!) {
  inventoryItemUpdate(id: $id, input: {tracked: true}) {
    inventoryItem { id tracked }
    userErrors { field message }
  }
}
"""

ACTIVATIONS_PER_REQUEST = 50
"""Aliased ``inventoryActivate`` mutations per document: about 13 points each (a mutation 10, the
level, its quantities and the user errors), 650 points, under the 1 000 of one query (rate-limits
page) and a third of a Standard bucket. One per request made a first stock run of 10 000 products
23 000 requests (docs/benchmarks.md)."""


def _activate_document(count: int) -> str:
    """``count`` aliased ``inventoryActivate`` mutations (``a0`` ...), item ``$i<n>`` at ``$l<n>``; GraphQL
    runs a mutation's root fields one after the other, each with its own ``userErrors``."""
    params = ", ".join(f"$i{n}: ID!, $l{n}: ID!" for n in range(count))
    fields = "\n".join(
        f"  a{n}: inventoryActivate(inventoryItemId: $i{n}, locationId: $l{n}) {{\n"
        '    inventoryLevel { quantities(names: ["available"]) { name quantity } }\n'
        "    userErrors { field message }\n  }"
        for n in range(count)
    )
    return f"mutation Activate({params}) {{\n{fields}\n}}"


ACTIVATE = _activate_document(1)


def _read_document(count: int) -> str:
    """``nodes`` on variant (or inventory item) ids with the levels at ``count`` locations."""
    params = "".join(f", $l{i}: ID!" for i in range(count))
    levels = " ".join(
        f'l{i}: inventoryLevel(locationId: $l{i}) {{ quantities(names: ["available"]) {{ name quantity }} }}'
        for i in range(count)
    )
    return (
        f"query Stock($ids: [ID!]!{params}) {{\n"
        "  nodes(ids: $ids) {\n"
        "    __typename\n"
        "    ... on ProductVariant { id inventoryItem { ...Item } }\n"
        "    ... on InventoryItem { ...Item }\n"
        "  }\n"
        "}\n"
        f"fragment Item on InventoryItem {{ id tracked {levels} }}\n"
    )


@dataclass(slots=True)
class _Item:
    """What Shopify holds for one variant: its inventory item and ``available`` per location id
    (None: not stocked there)."""

    item_id: str
    tracked: bool
    available: dict[str, int | None] = field(default_factory=dict)


def _available(level: Any) -> int | None:
    if not level:
        return None
    for quantity in level.get("quantities") or []:
        if quantity.get("name") == "available":
            return int(quantity["quantity"])
    return 0


class ShopifyStock(ShopifyBase):
    """StockSink for the Shopify Admin GraphQL API (mixed into the Shopify shop connector)."""

    # -- locations ------------------------------------------------------------------------------
    def _locations(self) -> dict[str, list[str]]:
        """Active locations: name -> ids (read once per connector)."""
        found: dict[str, list[str]] | None = getattr(self, "_shopify_locations", None)
        if found is None:
            found = {}
            size = max(1, min(self.settings.page_size, 250))
            for row in self.client.paginate(LOCATIONS, {}, ("locations",), page_size=size):
                if row.get("isActive", True):
                    found.setdefault(str(row["name"]), []).append(str(row["id"]))
            self._shopify_locations = found
        return found

    def _primary(self) -> str:
        primary: str | None = getattr(self, "_shopify_primary", None)
        if primary is None:
            row = self.client.execute(PRIMARY).get("location")
            if not row:
                raise Fatal(
                    "Shopify has no primary location.",
                    resolution="name the shop location in [stock.feeds] location (docs/shopify.md).",
                )
            primary = str(row["id"])
            self._shopify_primary = primary
        return primary

    def _location_ids(self, names: Sequence[str | None]) -> dict[str | None, str]:
        """Shopify location ids of feed locations: the settings' ``locations`` first, else by name."""
        wanted = list(dict.fromkeys(names))
        resolved: dict[str | None, str] = {}
        if None in wanted:
            resolved[None] = self._primary()
        named = [n for n in wanted if n is not None]
        if not named:
            return resolved
        found = self._locations()
        active = {i for ids in found.values() for i in ids}
        known = ", ".join(sorted(found)) or "none"
        for name in named:
            configured = self.settings.locations.get(name)
            if configured is not None:
                if configured not in active:
                    raise Fatal(
                        f"Shopify has no active location {configured} (locations.{name} in the Shopify settings).",
                        resolution=f"fix [connections.<c>.shop.locations] (Shopify's active locations: {known}).",
                    )
                resolved[name] = configured
                continue
            ids = found.get(name) or []
            if not ids:
                raise Fatal(
                    f"Shopify has no active location named {name!r}.",
                    resolution=f"create it in Shopify, fix [stock.feeds] location, or map it in "
                    f"[connections.<c>.shop.locations] (known: {known}).",
                )
            if len(ids) > 1:
                raise Fatal(
                    f"Shopify has {len(ids)} active locations named {name!r}.",
                    resolution=f'map it to one id in [connections.<c>.shop.locations] ({name} = "{ids[0]}").',
                )
            resolved[name] = ids[0]
        return resolved

    # -- reading ----------------------------------------------------------------------------------
    def _read(self, ids: Sequence[str], location_ids: Sequence[str]) -> dict[str, _Item]:
        """Inventory items and ``available`` levels of variant (or inventory item) ids; an id
        Shopify does not know is left out."""
        places = list(dict.fromkeys(location_ids))
        document = _read_document(len(places))
        # A node costs about 2 + 2 per location (rate-limits page): stay well under 1 000 a query.
        chunk = max(1, min(MAX_QUANTITIES, 900 // (2 + 2 * len(places))))
        unique = list(dict.fromkeys(ids))
        found: dict[str, _Item] = {}
        for start in range(0, len(unique), chunk):
            page = unique[start : start + chunk]
            variables: dict[str, Any] = {"ids": page, **{f"l{i}": p for i, p in enumerate(places)}}
            data = self.client.execute(document, variables)
            for asked, node in zip(page, data.get("nodes") or [], strict=False):
                if not node:
                    continue
                item = node.get("inventoryItem") if node.get("__typename") == "ProductVariant" else node
                if not item or not item.get("id"):
                    continue
                found[asked] = _Item(
                    item_id=str(item["id"]),
                    tracked=bool(item.get("tracked")),
                    available={p: _available(item.get(f"l{i}")) for i, p in enumerate(places)},
                )
        return found

    def read_stock(
        self, variant_ids: Sequence[str], locations: Sequence[str | None]
    ) -> dict[tuple[str, str | None], int]:
        """``available`` by (variant id, location); 0 where the item is not stocked at it. An item
        whose inventory is not tracked is left out (it sells without limit: always a difference)."""
        if not variant_ids or not locations:
            return {}
        location_ids = self._location_ids(locations)
        current = self._read(variant_ids, [location_ids[n] for n in locations])
        found: dict[tuple[str, str | None], int] = {}
        for variant_id, item in current.items():
            if not item.tracked:
                continue
            for name in locations:
                found[(variant_id, name)] = item.available.get(location_ids[name]) or 0
        return found

    # -- writing ----------------------------------------------------------------------------------
    def write_stock(self, writes: Sequence[StockWrite]) -> BatchResult:
        result = BatchResult()
        if not writes:
            return result
        location_ids = self._location_ids([w.location for w in writes])
        current = self._read([w.variant_id for w in writes], list(location_ids.values()))
        pending: list[StockWrite] = []
        seen: set[tuple[str, str]] = set()
        for w in writes:
            item = current.get(w.variant_id)
            if item is None:
                result.errors.append(
                    RecordError(
                        w.key,
                        "variant",
                        f"variant {w.variant_id} is no longer in Shopify (deleted by hand?): publish the catalogue",
                        "shop",
                    )
                )
                continue
            pair = (item.item_id, location_ids[w.location])
            if pair in seen:
                result.errors.append(
                    RecordError(w.key, "location", "the same variant and location twice in one batch", "shop")
                )
                continue
            seen.add(pair)
            if w.quantity < 0:
                result.errors.append(
                    RecordError(w.key, "quantity", f"Shopify refuses a negative quantity ({w.quantity})", "shop")
                )
                continue
            pending.append(w)
        pending = self._track(pending, current, result)
        pending = self._activate(pending, current, location_ids, result)
        to_send: list[StockWrite] = []
        for w in pending:
            item = current[w.variant_id]
            if item.tracked and item.available.get(location_ids[w.location]) == w.quantity:
                result.answers[w.key] = {"available": w.quantity, "unchanged": True}
            else:
                to_send.append(w)
        for start in range(0, len(to_send), MAX_QUANTITIES):
            self._set(to_send[start : start + MAX_QUANTITIES], current, location_ids, result, retry=True)
        return result

    def _track(self, writes: list[StockWrite], current: dict[str, _Item], result: BatchResult) -> list[StockWrite]:
        """Make untracked inventory items tracked (Shopify sells an untracked item without limit)."""
        refused: dict[str, str] = {}
        for item_id in dict.fromkeys(
            current[w.variant_id].item_id for w in writes if not current[w.variant_id].tracked
        ):
            payload = self.client.execute(TRACK, {"id": item_id}, mutation=True).get("inventoryItemUpdate") or {}
            problems = user_errors(payload)
            if problems or not (payload.get("inventoryItem") or {}).get("tracked"):
                refused[item_id] = "; ".join(f"{f}: {m}" for f, m in problems) or "tracked stayed false"
        kept = []
        for w in writes:
            item = current[w.variant_id]
            if item.item_id in refused:
                result.errors.append(
                    RecordError(
                        w.key, "tracked", f"Shopify refused to track the inventory: {refused[item.item_id]}", "shop"
                    )
                )
                continue
            item.tracked = True
            kept.append(w)
        return kept

    def _activate(
        self,
        writes: list[StockWrite],
        current: dict[str, _Item],
        location_ids: dict[str | None, str],
        result: BatchResult,
    ) -> list[StockWrite]:
        """Stock items at the locations where they are not stocked yet (with nothing),
        :data:`ACTIVATIONS_PER_REQUEST` a request; a refused one is its SKU's error."""
        needed = list(
            dict.fromkeys(
                (current[w.variant_id].item_id, location_ids[w.location])
                for w in writes
                if current[w.variant_id].available.get(location_ids[w.location]) is None
            )
        )
        refused: dict[tuple[str, str], str] = {}
        for start in range(0, len(needed), ACTIVATIONS_PER_REQUEST):
            chunk = needed[start : start + ACTIVATIONS_PER_REQUEST]
            variables: dict[str, Any] = {}
            for n, (item_id, place) in enumerate(chunk):
                variables[f"i{n}"], variables[f"l{n}"] = item_id, place
            data = self.client.execute(_activate_document(len(chunk)), variables, mutation=True)
            for n, (item_id, place) in enumerate(chunk):
                payload = data.get(f"a{n}") or {}
                problems = user_errors(payload)
                if problems or not payload.get("inventoryLevel"):
                    refused[(item_id, place)] = (
                        "; ".join(f"{f}: {m}" for f, m in problems) or "no inventory level in the answer"
                    )
                    continue
                items = [i for i in current.values() if i.item_id == item_id]
                for item in items:
                    item.available[place] = _available(payload["inventoryLevel"]) or 0
        kept = []
        for w in writes:
            place = location_ids[w.location]
            reason = refused.get((current[w.variant_id].item_id, place))
            if reason is not None:
                result.errors.append(
                    RecordError(
                        w.key, "location", f"Shopify refused to stock it at {w.location or place}: {reason}", "shop"
                    )
                )
                continue
            kept.append(w)
        return kept

    def _set(
        self,
        writes: list[StockWrite],
        current: dict[str, _Item],
        location_ids: dict[str | None, str],
        result: BatchResult,
        *,
        retry: bool,
    ) -> None:
        """One ``inventorySetQuantities`` call; the quantities Shopify refused are their SKUs'
        errors, the others are read again and sent once more if still needed (Shopify may have
        applied none of the call)."""
        if not writes:
            return
        quantities = [
            {
                "inventoryItemId": current[w.variant_id].item_id,
                "locationId": location_ids[w.location],
                "quantity": int(w.quantity),
                "compareQuantity": current[w.variant_id].available.get(location_ids[w.location]) or 0,
            }
            for w in writes
        ]
        variables = {
            "input": {"name": "available", "reason": REASON, "ignoreCompareQuantity": False, "quantities": quantities}
        }
        payload = self.client.execute(SET, variables, mutation=True).get("inventorySetQuantities") or {}
        errors = payload.get("userErrors") or []
        if not errors:
            for w in writes:
                result.answers[w.key] = {"available": int(w.quantity), "location": location_ids[w.location]}
            return
        by_index: dict[int, list[dict[str, Any]]] = {}
        general: list[dict[str, Any]] = []
        for error in errors:
            path = [str(p) for p in error.get("field") or []]
            if len(path) >= 3 and path[1] == "quantities" and path[2].isdigit() and int(path[2]) < len(writes):
                by_index.setdefault(int(path[2]), []).append(error)
            else:
                general.append(error)
        refused = set(range(len(writes))) if general else set(by_index)
        others = [w for i, w in enumerate(writes) if i not in refused]
        fresh = self._read([w.variant_id for w in writes], list(dict.fromkeys(location_ids.values())))
        for i, w in enumerate(writes):
            if i not in refused:
                continue
            place = location_ids[w.location]
            now = (fresh.get(w.variant_id) or _Item("", False)).available.get(place)
            text = "; ".join(str(e.get("message")) for e in by_index.get(i, general))
            codes = {str(e.get("code")) for e in by_index.get(i, general)}
            if "COMPARE_QUANTITY_STALE" in codes:
                reason = (
                    f"Shopify's available quantity at {w.location or 'the primary location'} changed while "
                    f"writing (now {now}): not overwritten, sent again next run"
                )
                field_name = "quantity"
            else:
                reason = f"Shopify refused the quantity: {text}"
                field_name = "stock"
            result.errors.append(RecordError(w.key, field_name, reason, "shop"))
        if not others:
            return
        again: list[StockWrite] = []
        for w in others:
            item = fresh.get(w.variant_id)
            place = location_ids[w.location]
            if item is not None and item.available.get(place) == w.quantity:
                result.answers[w.key] = {"available": int(w.quantity), "location": place}
                continue
            if item is not None:
                current[w.variant_id] = item
            again.append(w)
        if not retry:
            for w in again:
                result.errors.append(
                    RecordError(w.key, "stock", "Shopify did not apply the quantity (refused with others)", "shop")
                )
            return
        self._set(again, current, location_ids, result, retry=False)
