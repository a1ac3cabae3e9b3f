"""benchmarks/shops.py at a small size (45 products, 105 variants, latency 0): behaviour, not timings.

The request counts asserted here are the ones docs/benchmarks.md explains: what a step costs per
product, per variant or per batch on each platform.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest

from benchmarks import shops
from benchmarks.shopify_throttle import replay
from deployments.sandbox.fakes.shopify.catalogue import variants_of
from deployments.sandbox.fakes.shopify.core import PLANS

PRODUCTS = 45
CHANGED = 0.1


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, Any]]:
    return shops.main(["--products", str(PRODUCTS), "--latency", "0", "--changed", str(CHANGED), "--quiet"])


def value_batches(result: dict[str, Any], keys: list[str]) -> Iterator[list[str]]:
    """The shop variant ids of ``keys``, in batches of 100 as the benchmark sends them."""
    ids = result["bindings"].variant_ids()
    for start in range(0, len(keys), shops.VALUES_BATCH):
        yield [ids[k] for k in keys[start : start + shops.VALUES_BATCH]]


def all_variant_keys(result: dict[str, Any]) -> list[str]:
    return [v.key for p in result["catalogue"] for v in p.variants]


@pytest.mark.parametrize("platform", shops.PLATFORMS)
def test_nothing_refused_and_every_product_created(results: dict[str, dict[str, Any]], platform: str) -> None:
    result = results[platform]
    for step in result["steps"].values():
        assert step.refused == [], (step.name, step.refused[:2])
        assert step.errors == [], (step.name, step.errors[:2])
    simple = math.ceil(PRODUCTS / 3)
    assert result["variants"] == simple + 3 * (PRODUCTS - simple)
    assert result["first_bindings"] == (PRODUCTS, result["variants"])
    fake, bindings = result["fake"], result["bindings"]
    renamed = set(result["changed_products"])
    for product in result["catalogue"]:
        pid = bindings.products[product.key].shop_id
        vids = [bindings.variants[v.key].shop_id for v in product.variants]
        if platform == "prestashop":
            row = fake.record("products", int(pid))
            assert row["name"][0]["value"] == product.name
            assert (product.key in renamed) == row["name"][0]["value"].endswith("(2027)")
            combos = {str(c["id"]) for c in fake.data["combinations"] if c["id_product"] == pid}
            assert {v.split(":")[1] for v in vids} == (combos or {"0"})
        elif platform == "shopify":
            row = fake.get("Product", pid)
            assert row["title"] == product.name
            assert set(vids) == {v["id"] for v in variants_of(fake, pid)}
        else:
            row = fake.products[int(pid)]
            assert row["name"] == product.name and row["type"] == ("variable" if product.option_groups else "simple")
            assert set(vids) == ({f"{pid}/{i}" for i in row["variations"]} if product.option_groups else {pid})


@pytest.mark.parametrize("platform", shops.PLATFORMS)
def test_a_rerun_with_nothing_changed_sends_nothing(results: dict[str, dict[str, Any]], platform: str) -> None:
    rerun = results[platform]["steps"]["rerun"]
    assert (rerun.writes, rerun.calls) == (0, 0)


def test_prestashop_republish_writes_only_the_changed_products(results: dict[str, dict[str, Any]]) -> None:
    result = results["prestashop"]
    step = result["steps"]["republish"]
    changed = [p for p in result["catalogue"] if p.key in result["changed_products"]]
    assert len(changed) == 4 and {len(p.variants) for p in changed} == {1, 3}  # simple and with sizes
    combinations = sum(len(p.variants) for p in changed if p.option_groups)
    assert step.writes == len(changed)
    # the product PUT back whole (after a read), each changed combination likewise
    assert step.resource("PUT", "products/{id}") == len(changed)
    assert step.resource("PUT", "combinations/{id}") == combinations
    assert step.method("POST") == step.method("DELETE") == 0


def test_woocommerce_republish_writes_only_the_changed_products(results: dict[str, dict[str, Any]]) -> None:
    result = results["woocommerce"]
    step = result["steps"]["republish"]
    changed = [p for p in result["catalogue"] if p.key in result["changed_products"]]
    assert step.writes == len(changed) == 4
    # one products batch for all of them, one variations batch per product with sizes
    assert step.resource("POST", "products/batch") == 1
    assert step.resource("POST", "products/{id}/variations/batch") == sum(1 for p in changed if p.option_groups)
    assert step.method("POST") == 1 + sum(1 for p in changed if p.option_groups)


def test_publish_costs(results: dict[str, dict[str, Any]]) -> None:
    presta, woo = results["prestashop"]["steps"]["publish"], results["woocommerce"]["steps"]["publish"]
    variable = PRODUCTS - math.ceil(PRODUCTS / 3)
    # PrestaShop: one POST per product and per combination (no batch writes)
    assert presta.resource("POST", "products") == PRODUCTS
    assert presta.resource("POST", "combinations") == 3 * variable
    # WooCommerce: products 100 per batch (50 per publish batch here), variations one batch per product
    assert woo.resource("POST", "products/batch") == math.ceil(PRODUCTS / shops.CATALOGUE_BATCH)
    assert woo.resource("POST", "products/{id}/variations/batch") == variable


@pytest.mark.parametrize("platform", shops.PLATFORMS)
def test_stock_writes_every_variant_then_only_the_changed(results: dict[str, dict[str, Any]], platform: str) -> None:
    result = results[platform]
    everything, changed = result["steps"]["stock"], result["steps"]["stock_changed"]
    keys = all_variant_keys(result)
    assert everything.writes == len(keys) and changed.writes == len(result["changed_variants"]) == 10
    if platform == "prestashop":
        # per batch of 100 variants: the stock rows of 50 products per read; one PUT per variant
        for step, sent in ((everything, keys), (changed, result["changed_variants"])):
            reads = sum(math.ceil(len({v.split(":")[0] for v in b}) / 50) for b in value_batches(result, sent))
            assert step.resource("GET", "stock_availables") == reads
            assert step.resource("PUT", "stock_availables/{id}") == len(sent)
    elif platform == "shopify":
        # per batch of 100 variants: one nodes read, one inventorySetQuantities (at most 250 a call);
        # right after the publish every inventory item is stocked at the location first, one by one
        for step, sent in ((everything, keys), (changed, result["changed_variants"])):
            batches = math.ceil(len(sent) / shops.VALUES_BATCH)
            assert step.resource("query", "nodes") == step.resource("mutation", "inventorySetQuantities") == batches
            assert step.resource("query", "location") == 1  # the primary location, once per run
        # the items the catalogue created are stocked 50 a request (aliased mutations)
        assert everything.resource("mutation", "inventoryActivate") == math.ceil(len(keys) / 50)
        assert changed.resource("mutation", "inventoryActivate") == 0
    else:
        # per batch of 100 variants: one products batch for the simple ones, one per parent for variations
        for step, sent in ((everything, keys), (changed, result["changed_variants"])):
            batches = list(value_batches(result, sent))
            assert step.resource("POST", "products/batch") == sum(any("/" not in v for v in b) for b in batches)
            parents = sum(len({v.split("/")[0] for v in b if "/" in v}) for b in batches)
            assert step.resource("POST", "products/{id}/variations/batch") == parents
            assert step.method("GET") == 0


def test_prestashop_price_reads_are_per_batch_not_per_variant(results: dict[str, dict[str, Any]]) -> None:
    result = results["prestashop"]
    keys = all_variant_keys(result)
    batches = list(value_batches(result, keys))
    assert len(batches) == 2
    step = result["steps"]["prices"]
    products = sum(math.ceil(len({v.split(":")[0] for v in b}) / 50) for b in batches)
    combinations = sum(math.ceil(len({v for v in b if not v.endswith(":0")}) / 50) for b in batches)
    assert step.resource("GET", "products") == step.resource("GET", "specific_prices") == products
    assert step.resource("GET", "combinations") == combinations
    assert step.method("GET") == products * 2 + combinations < len(keys) / 10
    # the catalogue already holds these prices: only the promotions (every 25th variant) are written
    assert step.method("PUT") == 0
    assert step.resource("POST", "specific_prices") == math.ceil(len(keys) / 25)
    changed = result["steps"]["prices_changed"]
    assert changed.writes == len(result["changed_variants"])
    promoted = sum(1 for i, _ in enumerate(keys) if i % 25 == 0 and keys[i] in result["changed_variants"])
    # one PUT per changed base price (product or combination impact), one per changed promotion row
    assert changed.method("PUT") == changed.writes + promoted


def test_woocommerce_prices_every_variant_is_written(results: dict[str, dict[str, Any]]) -> None:
    result = results["woocommerce"]
    step = result["steps"]["prices"]
    batches = list(value_batches(result, all_variant_keys(result)))
    parents = sum(len({v.split("/")[0] for v in b if "/" in v}) for b in batches)
    assert step.resource("POST", "products/{id}/variations/batch") == parents
    assert step.resource("POST", "products/batch") == sum(any("/" not in v for v in b) for b in batches)
    assert step.resource("GET", "data/currencies/current") == 1  # the shop's currency, read once per run


@pytest.mark.parametrize("key", ["shopify", "shopify-plus"])
def test_shopify_documents_and_cost_points(results: dict[str, dict[str, Any]], key: str) -> None:
    result = results[key]
    steps = result["steps"]
    publish = steps["publish"]
    # one productSet per product (a THROTTLED answer is sent again), the SKU lookups 50 SKUs a query
    assert publish.resource("mutation", "productSet") - publish.throttled == PRODUCTS
    skus = [math.ceil(len({v.sku for p in b for v in p.variants}) / 50) for b in batches(result["catalogue"])]
    assert publish.resource("query", "productVariants") == sum(skus)
    changed = [p for p in result["catalogue"] if p.key in result["changed_products"]]
    republish = steps["republish"]
    # an update reads the product and its variants, then sends one productSet
    for resource in (("query", "product"), ("query", "productVariants"), ("mutation", "productSet")):
        assert republish.resource(*resource) == len(changed)
    for step in steps.values():
        # the client's sum of actualQueryCost is what the fake charged: it never refunds
        assert step.used == step.points
        assert all(c.actual <= c.requested for c in step.costs)
    # productSet asks back as many variants as the product has: at most 20 points for 1 to 3 variants
    assert max(c.requested for c in publish.costs if c.name == "mutation productSet") <= 20
    assert publish.actual <= publish.points


def batches(catalogue: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(catalogue), shops.CATALOGUE_BATCH):
        yield catalogue[start : start + shops.CATALOGUE_BATCH]


def test_shopify_throttle_waits_on_the_virtual_clock(results: dict[str, dict[str, Any]]) -> None:
    standard, plus = results["shopify"], results["shopify-plus"]
    assert (standard["plan"], plus["plan"]) == ("standard", "plus")
    for result in (standard, plus):
        bucket, restore = PLANS[result["plan"]]
        for step in result["steps"].values():
            # the bucket replayed with the fake's rule waits what the client waited against the fake
            modelled = replay(step.costs, bucket, restore, refunds=False).waited
            # (the replay also waits before a document's first use, whose cost the client cannot know yet)
            assert modelled == pytest.approx(step.waited, rel=0.05, abs=2.0), step.name
    # what a publish costs beyond a full standard bucket is waited at its restore rate of 100 points/s
    publish = standard["steps"]["publish"]
    beyond = max(0.0, (publish.points - PLANS["standard"][0]) / PLANS["standard"][1])
    assert publish.waited == pytest.approx(beyond, rel=0.05, abs=1.0)
    assert plus["steps"]["publish"].waited <= publish.waited / 10 + 1.0


def test_shopify_prices_write_only_what_differs(results: dict[str, dict[str, Any]]) -> None:
    result = results["shopify"]
    keys = all_variant_keys(result)
    step, changed = result["steps"]["prices"], result["steps"]["prices_changed"]
    parents = {v.key: p.key for p in result["catalogue"] for v in p.variants}
    assert step.resource("query", "nodes") == math.ceil(len(keys) / shops.VALUES_BATCH)
    # the published prices are right: only the promotions (every 25th variant) differ, one bulk update per product
    promoted = [
        {parents[k] for i, k in enumerate(keys[start : start + shops.VALUES_BATCH], start) if i % 25 == 0}
        for start in range(0, len(keys), shops.VALUES_BATCH)
    ]
    assert step.resource("mutation", "productVariantsBulkUpdate") == sum(len(p) for p in promoted)
    per_batch = [
        {parents[k] for k in result["changed_variants"][start : start + shops.VALUES_BATCH]}
        for start in range(0, len(result["changed_variants"]), shops.VALUES_BATCH)
    ]
    assert changed.resource("mutation", "productVariantsBulkUpdate") == sum(len(p) for p in per_batch)
