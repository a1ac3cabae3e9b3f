"""Catalogue engine benchmark: 30 000 flat articles -> about 10 000 products.

Measures the engine stages that do not talk to a shop (grouping, mapping, Great Expectations
gate, diff against 30 000 bindings, hashing) with wall time and peak Python memory.
Run:  uv run python benchmarks/catalogue.py [--articles 30000]
The shop side (API calls, latency) is not measured here yet: see docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc
from decimal import Decimal

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from connectors.models import Article
from tasks.diff import BindingView, Ownership, plan_catalogue
from tasks.grouping import GroupingRules, group_articles
from tasks.mapping import MappingRules, map_groups
from tasks.quality import CatalogueChecks, ean13_check_digit, gate_products


def articles(n: int) -> list[Article]:
    """n articles in families of 3 (one size each), every 100th a lone article."""
    out = []
    for i in range(n):
        first12 = f"379{i:09d}"
        family = i // 3
        out.append(
            Article(
                key=str(i),
                sku=f"SKU-{i:06d}",
                name=f"Article {i}",
                price=Decimal("19.90") + i % 7,
                vat_rate=Decimal("20"),
                ean=first12 + str(ean13_check_digit(first12)),
                weight=Decimal("0.250"),
                group_key=None if family % 100 == 0 else f"F{family}",
                group_name=f"Family {family}",
                attributes={} if family % 100 == 0 else {"size": ["S", "M", "L"][i % 3]},
                fields={"categories": f"Dept {family % 20}/Sub {family % 7}"},
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=30_000)
    n = parser.parse_args().articles
    import great_expectations  # noqa: F401 - import cost (~6-10 s) is paid once per worker, not per run

    data = articles(n)
    tracemalloc.start()
    timings: dict[str, float] = {}
    t = time.perf_counter()
    groups = group_articles(data, GroupingRules(attributes=("size",)))
    products = map_groups(groups, MappingRules(categories=(("fields.categories",),), taxes={"20": "Standard Tax"}))
    timings["group + map"] = time.perf_counter() - t
    t = time.perf_counter()
    gate = gate_products(products, CatalogueChecks())
    timings["quality gate (GX)"] = time.perf_counter() - t
    own = Ownership()
    t = time.perf_counter()
    first = plan_catalogue(
        gate.passed,
        {},
        {},
        ownership=own,
        read_article_keys={a.key for a in data},
        read_product_keys={g.key for g in groups},
    )
    timings["diff, empty store"] = time.perf_counter() - t
    pb = {p.key: BindingView(p.key, p.key, own.product_hash(p), "synced") for p in gate.passed}
    vb = {
        v.key: BindingView(v.key, v.key, own.variant_hash(v), "synced", parent_key=p.key)
        for p in gate.passed
        for v in p.variants
    }
    t = time.perf_counter()
    second = plan_catalogue(
        gate.passed,
        pb,
        vb,
        ownership=own,
        read_article_keys={a.key for a in data},
        read_product_keys={g.key for g in groups},
    )
    timings["diff, all bound (re-run)"] = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    print(f"{n} articles -> {len(products)} products; {len(gate.rejected)} refused")
    print(
        f"first run: {len(first.writes)} products to write; re-run: {len(second.writes)} to write, "
        f"{len(second.unchanged)} unchanged"
    )
    for name, seconds in timings.items():
        print(f"  {name:<28} {seconds:6.2f} s")
    print(f"  engine total                 {sum(timings.values()):6.2f} s, peak traced memory {peak / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
