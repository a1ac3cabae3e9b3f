"""Shopify as a stock sink, against the fake (Shopify's 2025-01 schema, inventory rules)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

import deployments.sandbox.fakes.shopify.inventory  # noqa: F401  (registers the inventory handlers)
from connectors.base import StockSink, StockWrite
from connectors.errors import Fatal
from connectors.shop.shopify.client import ShopifyClient
from connectors.shop.shopify.settings import ShopifySettings
from connectors.shop.shopify.stock import ShopifyStock
from deployments.sandbox.fakes.shopify.core import TOKEN, ShopifyFake, VirtualClock
from deployments.sandbox.fakes.shopify.inventory import add_variant, quantities

_CLOCKS: dict[int, VirtualClock] = {}


def shopify(**options: Any) -> ShopifyFake:
    """A fake on a virtual clock (the sink built by :func:`sink` sleeps on the same one)."""
    clock = VirtualClock()
    fake = ShopifyFake(clock=clock.now, **options)
    _CLOCKS[id(fake)] = clock
    return fake


def sink(fake: ShopifyFake, transport: httpx.BaseTransport | None = None, **settings: Any) -> ShopifyStock:
    clock = _CLOCKS[id(fake)]
    client = ShopifyClient(
        fake.shop, token=TOKEN, transport=transport or fake.transport, sleep=clock.sleep, clock=clock.now
    )
    return ShopifyStock(client, ShopifySettings(url=fake.shop, access_token="env:SHOPIFY_ACCESS_TOKEN", **settings))


def location_id(fake: ShopifyFake, name: str) -> str:
    return next(str(r["id"]) for r in fake.locations() if r["name"] == name)


def available(fake: ShopifyFake, variant: dict[str, Any], location: str) -> int:
    return quantities(fake)[(variant["inventoryItemId"], location)]["available"]


def test_erp_warehouses_map_to_locations_by_name_by_setting_or_the_primary_one() -> None:
    fake = shopify(locations=("Shop location", "Entrepôt Lyon", "Dépôt", "Dépôt"))
    shop_location, lyon = location_id(fake, "Shop location"), location_id(fake, "Entrepôt Lyon")
    tee = add_variant(fake, "TEE")
    stock = sink(fake, locations={"WEB": lyon})
    assert isinstance(stock, StockSink)

    result = stock.write_stock(
        [
            StockWrite("TEE", tee["id"], 3),  # None: the primary location
            StockWrite("TEE@WEB", tee["id"], 5, location="WEB"),  # the settings' mapping
        ]
    )

    assert result.errors == []
    assert (available(fake, tee, shop_location), available(fake, tee, lyon)) == (3, 5)
    assert stock.write_stock([StockWrite("TEE@L", tee["id"], 6, location="Entrepôt Lyon")]).errors == []
    assert available(fake, tee, lyon) == 6
    with pytest.raises(Fatal, match="no active location named 'Marseille'.*Resolution.*Entrepôt Lyon"):
        stock.write_stock([StockWrite("TEE@M", tee["id"], 1, location="Marseille")])
    with pytest.raises(Fatal, match="2 active locations named 'Dépôt'.*shop.locations"):
        stock.write_stock([StockWrite("TEE@D", tee["id"], 1, location="Dépôt")])
    with pytest.raises(Fatal, match="no active location gid://shopify/Location/99"):
        sink(fake, locations={"X": "gid://shopify/Location/99"}).write_stock([StockWrite("T", tee["id"], 1, "X")])


def test_quantities_are_absolute_and_read_back_per_location() -> None:
    fake = shopify(locations=("Shop location", "Entrepôt Lyon"))
    lyon = location_id(fake, "Entrepôt Lyon")
    tee, cap = add_variant(fake, "TEE", available=7), add_variant(fake, "CAP")
    stock = sink(fake)

    assert (
        stock.write_stock([StockWrite("TEE", tee["id"], 10), StockWrite("CAP@L", cap["id"], 2, "Entrepôt Lyon")]).errors
        == []
    )
    assert stock.write_stock([StockWrite("TEE", tee["id"], 4)]).errors == []  # absolute, never a delta

    primary = location_id(fake, "Shop location")
    assert available(fake, tee, primary) == 4
    assert quantities(fake)[(tee["inventoryItemId"], primary)]["on_hand"] == 4  # on hand moves with it
    assert available(fake, cap, lyon) == 2
    assert stock.read_stock([tee["id"], cap["id"], "gid://shopify/ProductVariant/999"], [None, "Entrepôt Lyon"]) == {
        (tee["id"], None): 4, (tee["id"], "Entrepôt Lyon"): 7, (cap["id"], None): 0, (cap["id"], "Entrepôt Lyon"): 2}  # fmt: skip


def test_a_second_run_with_the_same_quantities_sends_no_mutation() -> None:
    fake = shopify()
    variants = [add_variant(fake, f"SKU-{n}") for n in range(3)]
    stock = sink(fake)
    writes = [StockWrite(v["sku"], v["id"], 5) for v in variants]
    assert stock.write_stock(writes).errors == []
    assert fake.calls("inventorySetQuantities") == 1

    again = stock.write_stock(writes)

    assert again.errors == []
    assert fake.calls("inventorySetQuantities") == 1  # read, found right, nothing sent
    assert all(answer == {"available": 5, "unchanged": True} for answer in again.answers.values())


def test_an_untracked_inventory_item_is_made_tracked_before_its_quantity_is_set() -> None:
    fake = shopify()
    mug = add_variant(fake, "MUG", tracked=False, available=0)
    stock = sink(fake)
    assert stock.read_stock([mug["id"]], [None]) == {}  # sells without limit: always a difference

    result = stock.write_stock([StockWrite("MUG", mug["id"], 0)])

    assert result.errors == []
    assert fake.get("InventoryItem", mug["inventoryItemId"])["tracked"] is True  # type: ignore[index]
    assert fake.calls("inventoryItemUpdate") == 1
    assert stock.read_stock([mug["id"]], [None]) == {(mug["id"], None): 0}


def test_an_item_not_stocked_at_the_location_is_stocked_there_then_set() -> None:
    fake = shopify(locations=("Shop location", "Entrepôt Lyon"))
    lyon = location_id(fake, "Entrepôt Lyon")
    tee = add_variant(fake, "TEE", locations=[location_id(fake, "Shop location")])

    result = sink(fake).write_stock([StockWrite("TEE@L", tee["id"], 8, "Entrepôt Lyon")])

    assert result.errors == []
    assert fake.calls("inventoryActivate") == 1
    assert available(fake, tee, lyon) == 8


def test_items_to_stock_are_activated_50_a_request_and_one_refused_is_its_skus_error() -> None:
    """One request per activation made a first stock run of 10 000 products 23 000 requests: they
    go 50 aliased mutations a document (about 650 points, under the 1 000 of one query)."""
    fake = shopify(locations=("Shop location", "Entrepôt Lyon"))
    lyon = location_id(fake, "Entrepôt Lyon")
    tees = [add_variant(fake, f"TEE-{n:03}", locations=[location_id(fake, "Shop location")]) for n in range(120)]
    gone = tees[7]["inventoryItemId"]

    def handler(request: httpx.Request) -> httpx.Response:
        if "inventoryActivate" in json.loads(request.content)["query"]:
            fake.store["InventoryItem"].pop(gone, None)  # deleted in the admin between the read and the write
        return fake.handle(request)

    result = sink(fake, httpx.MockTransport(handler)).write_stock(
        [StockWrite(t["sku"], t["id"], 8, "Entrepôt Lyon") for t in tees]
    )

    assert [(e.key, e.field) for e in result.errors] == [("TEE-007", "location")]
    assert "inventory item could not be found" in result.errors[0].reason
    executed = [e for e in fake.exchanges if "inventoryActivate" in e.fields and not e.throttled]
    assert [len(e.fields) for e in executed] == [50, 50, 20]
    assert all(available(fake, t, lyon) == 8 for n, t in enumerate(tees) if n != 7)
    assert all(e.requested_cost <= 1000 for e in fake.exchanges)


def test_a_sale_between_the_read_and_the_write_is_that_skus_error_never_overwritten() -> None:
    fake = shopify()
    primary = location_id(fake, "Shop location")
    tee, cap = add_variant(fake, "TEE", available=5), add_variant(fake, "CAP", available=1)
    sold = {"done": False}
    sent: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if "inventorySetQuantities" in body["query"]:
            sent.append(body["variables"]["input"])
            if not sold["done"]:  # a customer buys one TEE just before the write arrives
                sold["done"] = True
                level = quantities(fake)[(tee["inventoryItemId"], primary)]
                level["available"] -= 1
                level["on_hand"] -= 1
        return fake.handle(request)

    result = sink(fake, httpx.MockTransport(handler)).write_stock(
        [StockWrite("TEE", tee["id"], 9), StockWrite("CAP", cap["id"], 3)]
    )

    assert [(e.key, e.field) for e in result.errors] == [("TEE", "quantity")]
    assert "changed while writing (now 4)" in result.errors[0].reason
    assert available(fake, tee, primary) == 4  # the sale stands; the next run sends 9 again
    assert available(fake, cap, primary) == 3  # the other SKU is written
    assert "CAP" in result.answers and "TEE" not in result.answers
    first = sent[0]
    assert (first["name"], first["reason"], first["ignoreCompareQuantity"]) == ("available", "correction", False)
    assert [q["compareQuantity"] for q in first["quantities"]] == [5, 1]


def test_300_skus_are_sent_in_two_calls_of_at_most_250_quantities() -> None:
    fake = shopify()
    variants = [add_variant(fake, f"SKU-{n:03}") for n in range(300)]

    result = sink(fake).write_stock([StockWrite(v["sku"], v["id"], n + 1) for n, v in enumerate(variants)])

    assert result.errors == []
    assert fake.calls("inventorySetQuantities") == 2
    primary = location_id(fake, "Shop location")
    assert [available(fake, v, primary) for v in variants] == list(range(1, 301))


def test_a_variant_gone_from_shopify_is_its_skus_error_the_others_are_written() -> None:
    fake = shopify()
    tee = add_variant(fake, "TEE")

    result = sink(fake).write_stock(
        [StockWrite("GONE", "gid://shopify/ProductVariant/999", 1), StockWrite("TEE", tee["id"], 2)]
    )

    assert [(e.key, e.field) for e in result.errors] == [("GONE", "variant")]
    assert available(fake, tee, location_id(fake, "Shop location")) == 2


def test_an_inventory_item_id_stored_as_the_variant_ref_works_too() -> None:
    fake = shopify()
    tee = add_variant(fake, "TEE", available=1)
    stock = sink(fake)

    assert stock.write_stock([StockWrite("TEE", tee["inventoryItemId"], 6)]).errors == []
    assert stock.read_stock([tee["inventoryItemId"]], [None]) == {(tee["inventoryItemId"], None): 6}
