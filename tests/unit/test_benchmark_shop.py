"""The shop side of the benchmarks at small sizes, against the loopback Vendure: behaviour, not timings.

Both benchmarks' ``main`` run in this process against a loopback Vendure in a thread (latency 0),
which validates every document against the recorded Vendure 3.7 schema.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from benchmarks import catalogue, stock
from benchmarks.loopback_vendure import LoopbackVendure
from connectors.models import minor_units


@pytest.fixture
def shop() -> Iterator[LoopbackVendure]:
    server = LoopbackVendure(latency=0)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def assert_schema_accepted_everything(shop: LoopbackVendure) -> None:
    stats = shop.api.stats
    assert stats.requests > 0
    assert (stats.invalid, stats.bad_input, stats.forbidden) == (0, 0, 0), stats.refused[:1]
    assert stats.errors == 0, stats.error_samples[:3]


def test_catalogue_publish_rerun_and_update(shop: LoopbackVendure) -> None:
    result = catalogue.main(
        ["--articles", "300", "--latency", "0", "--batch-size", "50", "--no-tracemalloc", "--url", shop.url]
    )

    assert_schema_accepted_everything(shop)
    assert result["errors"] == []
    products = result["products"]
    assert result["passed"] == products == result["published"] == result["store_after_publish"]["products"]
    assert result["published_variants"] == result["variants"] == result["store_after_publish"]["variants"] == 300
    publish = result["publish"]
    assert publish.calls == publish.client_calls
    sizes = [min(50, products - start) for start in range(0, products, 50)]
    # every batch creates: one lookup per 25 new products, then the two aliased documents
    assert publish.operations["Find"] == sum(math.ceil(size / 25) for size in sizes)
    assert publish.operations["Batch"] == 2 * len(sizes)
    assert publish.fields["createProduct"] == products
    assert publish.fields["createProductVariants"] == products

    rerun = result["rerun"]
    assert result["rerun_writes"] == 0
    assert (rerun.calls, rerun.client_calls) == (0, 0)

    update, changed = result["update"], result["changed_families"]
    assert changed >= 1 and result["update_writes"] == changed
    for field in ("updateProduct", "updateProductVariants", "product", "createProductOption", "createProductVariants"):
        assert update.fields[field] == changed, field
    assert result["store"]["variants"] == 300 + changed  # one new size per changed family


def test_stock_and_prices_send_only_what_changed(shop: LoopbackVendure) -> None:
    result = stock.main(
        ["--skus", "2000", "--changed", "0.06", "--latency", "0", "--no-tracemalloc", "--url", shop.url]
    )

    assert_schema_accepted_everything(shop)
    assert result["store_variants"] == 2000
    changed = result["changed"]
    assert changed == 120
    batches = math.ceil(changed / 100)
    expected_keys = {str(i) for i in stock.changed_indices(2000, 0.06)}
    variants = shop.api.store.variants

    phase, _, plan, answers = result["stock"][0]
    assert answers.errors == []
    assert {w.key for w in plan.writes} == expected_keys
    # once: the stock locations (the default one is written explicitly); per batch: one read of
    # stockAllocated (the sink writes stockOnHand = saleable + allocated), one update
    assert phase.operations == {"Login": 1, "Locations": 1, "Stock": batches, "Update": batches}
    assert phase.calls == phase.client_calls
    for w in plan.writes:
        levels = variants[w.variant_id]["levels"].values()
        assert sum(lv[0] for lv in levels) - sum(lv[1] for lv in levels) == w.quantity, w
        assert sum(lv[1] for lv in levels) == stock.allocated(int(w.key))  # Vendure's allocations kept
    noop, _, noop_plan, _ = result["stock"][1]
    assert noop_plan.writes == [] and noop_plan.unchanged == 2000
    assert (noop.calls, noop.client_calls) == (0, 0)

    phase, _, plan, answers = result["prices"][0]
    assert answers.errors == []
    assert {w.key for w in plan.writes} == expected_keys
    assert phase.operations == {"Login": 1, "Setup": 1, "Update": batches}
    for w in plan.writes:
        assert variants[w.variant_id]["price"] == minor_units(w.price, "EUR"), w
    noop, _, noop_plan, _ = result["prices"][1]
    assert noop_plan.writes == [] and noop_plan.unchanged == 2000
    # Nothing is written; the new connection still logs in and reads the channel, because
    # VendureValues.price_capabilities asks for it before the plan is made.
    assert "Update" not in noop.operations
    assert noop.operations == {"Login": 1, "Setup": 1}

    assert result["wrong"] == []


def test_prices_only_reports_cpu_beside_wall_and_shop_time(shop: LoopbackVendure) -> None:
    result = stock.main(["--skus", "500", "--changed", "0.02", "--latency", "0", "--only", "prices", "--url", shop.url])

    assert_schema_accepted_everything(shop)
    assert result["stock"] == [] and len(result["prices"]) == 2
    assert set(result["cpu"]) == {"prices", "prices, nothing changed"}
    for phase, stages, _plan, _ in result["prices"]:
        assert set(stages) == {"gate (GX)", "plan", "send (shop included)", "total"}
        assert all(wall >= 0 and cpu >= 0 for wall, cpu in stages.values())
        assert phase.peak_traced == 0  # tracemalloc is off unless asked for
    assert len(result["prices"][0][2].writes) == 10 and result["prices"][1][2].writes == []
    before, after = result["load_average"]
    assert len(before) == len(after) == 3
    assert result["wrong"] == []
