"""Catalogue benchmark: 30 000 flat articles -> about 10 000 products, engine and shop side.

Engine stages that do not talk to a shop (grouping, mapping, Great Expectations gate, diff
against 30 000 bindings, hashing): wall time and peak Python memory. Shop side: a publish in
batches through the real ``VendureCatalogue``, as ``tasks.catalogue.publish_batch`` calls it,
against the loopback Vendure of ``benchmarks/loopback_vendure.py``; a re-run with nothing to
send; an update run where 1 % of the families changed. Reported: API calls, wall, shop and
engine time, CPU (``time.process_time`` of this process: the loopback shop runs in a child
process unless ``--url`` names one in this process), the load average before and after. Peak
memory only with ``--tracemalloc`` (it slows Python down 2-3x: a run of its own). The state
store and the Parquet snapshots are not part of it.

Run:  uv run python benchmarks/catalogue.py [--articles 30000] [--latency 0.02] [--batch-size 50]
          [--tracemalloc]

Details and figures: docs/benchmarks.md (sections "Catalogue engine", "Catalogue").
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.loopback_vendure import PASSWORD, USERNAME, ShopMeter, loopback, mib, peak_rss_mib
from connectors.base import CatalogueSink, ProductWrite
from connectors.errors import RecordError
from connectors.models import Article, Product
from connectors.shop.vendure.catalogue import VendureCatalogue
from connectors.shop.vendure.client import VendureClient
from tasks.catalogue import _adopt
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


def changed_articles(data: list[Article], fraction: float) -> tuple[list[Article], set[str]]:
    """``fraction`` of the families renamed, 1.00 dearer, and with one more size (XL)."""
    families = sorted({a.group_key for a in data if a.group_key}, key=lambda f: int(f[1:]))
    step = max(1, round(1 / fraction)) if fraction > 0 else 0
    picked = set(families[step // 2 :: step]) if step else set()
    out: list[Article] = []
    for a in data:
        if a.group_key in picked:
            assert a.price is not None
            a = replace(a, price=a.price + 1, group_name=f"{a.group_name} (2027)")
        out.append(a)
    for n, family in enumerate(sorted(picked, key=lambda f: int(f[1:]))):
        model = next(a for a in out if a.group_key == family)
        first12 = f"389{n:09d}"
        out.append(
            replace(
                model,
                key=f"{family}-XL",
                sku=f"SKU-{family}-XL",
                name=f"{model.group_name} XL",
                ean=first12 + str(ean13_check_digit(first12)),
                attributes={"size": "XL"},
            )
        )
    return out, picked


def build(data: list[Article]) -> tuple[list[Product], list[Product], set[str], set[str]]:
    """Group, map and gate: (products, passed, article keys, product keys)."""
    groups = group_articles(data, GroupingRules(attributes=("size",)))
    products = map_groups(groups, MappingRules(categories=(("fields.categories",),), taxes={"20": "Standard Tax"}))
    gate = gate_products(products, CatalogueChecks())
    return products, gate.passed, {a.key for a in data}, {g.key for g in groups}


class Published:
    """What the state store would hold after publishing: bindings from the shop's answers."""

    def __init__(self) -> None:
        self.products: dict[str, BindingView] = {}
        self.variants: dict[str, BindingView] = {}
        self.errors: list[RecordError] = []
        self.adopted = 0


def publish(shop: CatalogueSink, writes: list[ProductWrite], own: Ownership, size: int, out: Published) -> None:
    """The shop side of ``tasks.catalogue.publish_batch`` (no state store, no snapshots)."""
    for start in range(0, len(writes), size):
        batch = writes[start : start + size]
        creates = [w for w in batch if w.ref is None]
        if creates:
            found = shop.find_products([w.product for w in creates])
            if found:
                batch = [_adopt(w, found[w.product.key], own) if w.product.key in found else w for w in batch]
                out.adopted += len(found)
        result = shop.write_products(batch)
        failed = {e.key for e in result.errors}
        out.errors += result.errors
        for write in batch:
            product: Product = write.product
            ref = result.refs.get(product.key)
            if ref is None:
                continue
            ok = product.key not in failed
            out.products[product.key] = BindingView(
                product.key, ref.product_id, own.product_hash(product) if ok else None, "synced" if ok else "pending"
            )
            for variant in product.variants:
                shop_id = ref.variant_ids.get(variant.key)
                if shop_id is not None and variant.key not in failed:
                    out.variants[variant.key] = BindingView(
                        variant.key, shop_id, own.variant_hash(variant), "synced", parent_key=product.key
                    )


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} ({os.cpu_count()} cores)"


def vendure(url: str) -> VendureCatalogue:
    return VendureCatalogue(VendureClient(url, username=USERNAME, password=PASSWORD))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description="catalogue benchmark: engine stages and Vendure publish")
    parser.add_argument("--articles", type=int, default=30_000)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds the loopback shop takes per request")
    parser.add_argument("--batch-size", type=int, default=50, help="products per publish batch")
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="peak memory with tracemalloc (it slows Python down 2-3x: time without it)",
    )
    parser.add_argument("--no-tracemalloc", action="store_true", help="the default: kept for older commands")
    parser.add_argument("--url", help="an already running loopback Vendure (default: start one in a child process)")
    args = parser.parse_args(argv)
    n = args.articles
    import great_expectations  # noqa: F401 - import cost (~6-10 s) is paid once per worker, not per run

    print(f"before: {load_average()}")
    data = articles(n)
    if args.tracemalloc and not args.no_tracemalloc:
        tracemalloc.start()
    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}
    t, c = time.perf_counter(), time.process_time()
    groups = group_articles(data, GroupingRules(attributes=("size",)))
    products = map_groups(groups, MappingRules(categories=(("fields.categories",),), taxes={"20": "Standard Tax"}))
    timings["group + map"], cpu["group + map"] = time.perf_counter() - t, time.process_time() - c
    t, c = time.perf_counter(), time.process_time()
    gate = gate_products(products, CatalogueChecks())
    timings["quality gate (GX)"], cpu["quality gate (GX)"] = time.perf_counter() - t, time.process_time() - c
    own = Ownership()
    read_articles = {a.key for a in data}
    read_products = {g.key for g in groups}
    t, c = time.perf_counter(), time.process_time()
    first = plan_catalogue(
        gate.passed, {}, {}, ownership=own, read_article_keys=read_articles, read_product_keys=read_products
    )
    timings["diff, empty store"], cpu["diff, empty store"] = time.perf_counter() - t, time.process_time() - c
    pb = {p.key: BindingView(p.key, p.key, own.product_hash(p), "synced") for p in gate.passed}
    vb = {
        v.key: BindingView(v.key, v.key, own.variant_hash(v), "synced", parent_key=p.key)
        for p in gate.passed
        for v in p.variants
    }
    t, c = time.perf_counter(), time.process_time()
    second = plan_catalogue(
        gate.passed, pb, vb, ownership=own, read_article_keys=read_articles, read_product_keys=read_products
    )
    timings["diff, all bound (re-run)"] = time.perf_counter() - t
    cpu["diff, all bound (re-run)"] = time.process_time() - c
    engine_peak = tracemalloc.get_traced_memory()[1]
    del pb, vb, second
    variants = sum(len(p.variants) for p in gate.passed)
    print(f"{n} articles -> {len(products)} products ({variants} variants); {len(gate.rejected)} refused")
    print(f"first run: {len(first.writes)} products to write")
    for name, seconds in timings.items():
        print(f"  {name:<28} {seconds:6.2f} s wall, {cpu[name]:6.2f} s CPU")
    print(
        f"  engine total                 {sum(timings.values()):6.2f} s wall, {sum(cpu.values()):6.2f} s CPU, "
        f"peak traced memory {mib(engine_peak)}"
    )

    with loopback(args.url, latency=args.latency) as shop_server:
        meter = ShopMeter(shop_server)
        out = Published()
        sink = vendure(shop_server.url)
        with meter.phase("publish", lambda: [sink.client]) as first_run:
            publish(sink, first.writes, own, args.batch_size, out)
        sink.close()
        published, published_variants, refused_first = len(out.products), len(out.variants), len(out.errors)
        held_first = shop_server.stats()["store"]
        rerun_sink = vendure(shop_server.url)  # a new run: a new connection
        with meter.phase("re-run", lambda: [rerun_sink.client]) as rerun:
            again = plan_catalogue(
                gate.passed,
                out.products,
                out.variants,
                ownership=own,
                read_article_keys=read_articles,
                read_product_keys=read_products,
            )
            publish(rerun_sink, again.writes, own, args.batch_size, Published())
        rerun_sink.close()
        changed, families = changed_articles(data, 0.01)
        update_sink = vendure(shop_server.url)
        with meter.phase("update run", lambda: [update_sink.client]) as update_run:
            _, passed, changed_keys, changed_products = build(changed)
            update = plan_catalogue(
                passed,
                out.products,
                out.variants,
                ownership=own,
                read_article_keys=changed_keys,
                read_product_keys=changed_products,
            )
            publish(update_sink, update.writes, own, args.batch_size, out)
        update_sink.close()
        store = shop_server.stats()["store"]
    rss = peak_rss_mib()
    tracemalloc.stop()
    print(
        f"shop side: Vendure on 127.0.0.1, {args.latency * 1000:.0f} ms per request, batches of {args.batch_size}; "
        f"the shop holds {held_first['products']} products, {held_first['variants']} variants after the publish"
    )
    print(f"  {first_run.line(published)}")
    print(f"    {published} products published, {published_variants} variants, {refused_first} refused")
    print(f"  {rerun.line()}")
    print(f"    {len(again.writes)} products to write, {len(again.unchanged)} unchanged")
    print(f"  {update_run.line()}")
    print(
        f"    {len(families)} families changed: {len(update.updates)} products to update, "
        f"{len(update.creates)} to create; {len(out.errors)} refused in all; "
        + ", ".join(f"{k} {v}" for k, v in sorted(update_run.fields.items()))
    )
    phases = (first_run, rerun, update_run)
    refused = sum(p.invalid + p.bad_input for p in phases)
    print(f"  documents refused by the schema: {refused}")
    stages = timings["group + map"] + timings["quality gate (GX)"] + timings["diff, empty store"]
    stages_cpu = cpu["group + map"] + cpu["quality gate (GX)"] + cpu["diff, empty store"]
    print(
        f"first run in all (group + map, gate, diff, publish): engine {stages + first_run.engine:.2f} s, "
        f"shop {first_run.shop:.2f} s, wall {stages + first_run.wall:.2f} s, CPU {stages_cpu + first_run.cpu:.2f} s"
    )
    print(f"after: {load_average()}")
    print(
        f"peak memory: traced {mib(engine_peak)} (engine stages), {mib(first_run.peak_traced)} (publish), "
        f"{mib(update_run.peak_traced)} (update run); ru_maxrss {rss:.0f} MiB (whole process)"
    )
    for sample in [r for p in phases for r in p.refused]:
        print(f"REFUSED ({sample['kind']}): {sample['errors']}\n{sample['document'][:2000]}")
    return {
        "articles": n,
        "products": len(products),
        "passed": len(gate.passed),
        "variants": variants,
        "timings": timings,
        "cpu": cpu,
        "engine_peak": engine_peak,
        "publish": first_run,
        "rerun": rerun,
        "published": published,
        "published_variants": published_variants,
        "store_after_publish": held_first,
        "errors": out.errors,
        "rerun_writes": len(again.writes),
        "update": update_run,
        "update_writes": len(update.writes),
        "changed_families": len(families),
        "store": store,
        "ru_maxrss_mib": rss,
    }


if __name__ == "__main__":
    main()
