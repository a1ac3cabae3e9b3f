"""Request costs of the PrestaShop and WooCommerce shop connectors: catalogue, stock and prices.

The real connectors (``PrestaShopShop`` / ``WooCommerceShop``) run against the contract fakes of
``deployments/sandbox/fakes`` (``FakePrestaShop``, ``FakeWooCommerce``) on ``--products``
generated products, through a wrapper transport that counts the requests and the **shop time**;
**engine time = wall time - shop time**. Steps, each with a new connector: publish, a re-run with
nothing changed, a re-publish of ``--changed`` products, then stock and prices for every variant
and for ``--changed`` of them. Reported per step: requests by method, per product and per
variant, the seconds, and the wall time projected for a real shop.

Run:  uv run python benchmarks/shops.py [--products 1000] [--latency 0] [--platform all]

Details and figures: docs/benchmarks.md (section "Shop side, PrestaShop and WooCommerce").
"""

from __future__ import annotations

import argparse
import re
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol, TypeVar

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.catalogue import Published
from benchmarks.catalogue import publish as publish_batches
from connectors.base import BatchResult, CatalogueSink
from connectors.errors import RecordError
from connectors.models import PriceRecord, Product, Promotion, StockLevel, Variant, content_hash, slugify
from connectors.shop.prestashop.client import PrestaShopClient
from connectors.shop.prestashop.factory import PrestaShopShop
from connectors.shop.woocommerce import WooCommerceShop
from connectors.shop.woocommerce.client import WooCommerceClient
from deployments.sandbox.fakes import prestashop_fake, woocommerce_fake
from tasks.diff import Ownership, plan_catalogue
from tasks.prices import plan_prices, write_value
from tasks.quality import ean13_check_digit
from tasks.settings import StockFeed, StockSettings
from tasks.stock import compute_targets, plan_stock

PLATFORMS = ("prestashop", "woocommerce")
CATALOGUE_BATCH = 50
VALUES_BATCH = 100
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
SETTINGS = StockSettings(feeds=[StockFeed(warehouses=["WH1"])], safety_stock=0)
TAXES = {"prestashop": "FR Taux standard (20%)", "woocommerce": "Standard rate"}
"""A tax rule group / tax class of 20 % each fake holds (captured)."""
SIZES = ("S", "M", "L")
_NUMBER = re.compile(r"^\d+$")
PRESTASHOP_KEY = "BENCHMARKK3YBENCHMARKK3YBENCHMAR"


# -- the shop side: a counting, sleeping transport ---------------------------------------------


@dataclass
class Step:
    """What one step cost: requests by (method, resource), seconds, and what the sink refused."""

    key: str
    """Short name: publish, rerun, republish, stock, stock_changed, prices, prices_changed."""
    name: str
    products: int = 0
    """Products the step is about (the denominator of the per-product figures)."""
    variants: int = 0
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    refused: list[str] = field(default_factory=list)
    """Requests the fake answered with a 4xx/5xx (method, path, status, body)."""
    errors: list[RecordError] = field(default_factory=list)
    """Record errors the sink returned (a batch item refused inside a 200 included)."""
    writes: int = 0
    """Products / values the plan sent to the sink."""
    wall: float = 0.0
    shop: float = 0.0

    @property
    def engine(self) -> float:
        return self.wall - self.shop

    @property
    def calls(self) -> int:
        return sum(self.requests.values())

    def method(self, name: str) -> int:
        return sum(n for (m, _), n in self.requests.items() if m == name)

    def resource(self, method: str, name: str) -> int:
        return self.requests.get((method, name), 0)

    def projected(self, latency: float, rate_limit: float) -> float:
        """Wall seconds against a shop answering in ``latency`` s, at most ``rate_limit`` requests/s."""
        per_request = max(latency, 1 / rate_limit if rate_limit > 0 else 0.0)
        return self.engine + self.calls * per_request


class Meter:
    """Wraps a fake's handler: sleeps ``latency``, times the fake, counts into the current step."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response], prefix: str, latency: float) -> None:
        self.handler = handler
        self.prefix = prefix
        self.latency = latency
        self.step: Step | None = None
        self.trim: Callable[[], None] = lambda: None
        """Drops what the fake keeps of every request (its request log), to keep memory flat."""

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def resource(self, path: str) -> str:
        local = path.removeprefix(self.prefix).strip("/")
        return "/".join("{id}" if _NUMBER.match(part) else part for part in local.split("/")) or "(index)"

    def handle(self, request: httpx.Request) -> httpx.Response:
        start = time.perf_counter()
        if self.latency:
            time.sleep(self.latency)
        response = self.handler(request)
        response.read()
        self.trim()
        step = self.step
        if step is not None:
            step.shop += time.perf_counter() - start
            step.requests[(request.method, self.resource(request.url.path))] += 1
            if response.status_code >= 400:
                step.refused.append(
                    f"{request.method} {request.url.path} -> {response.status_code}: {response.text[:300]}"
                )
        return response

    @contextmanager
    def measure(self, step: Step) -> Iterator[Step]:
        self.step = step
        start = time.perf_counter()
        try:
            yield step
        finally:
            step.wall = time.perf_counter() - start
            self.step = None


class Shop(CatalogueSink, Protocol):
    """What the benchmark uses of a shop connector (both connectors have it)."""

    def write_stock(self, writes: Sequence[Any]) -> BatchResult: ...
    def write_prices(self, writes: Sequence[Any]) -> BatchResult: ...

    @property
    def price_capabilities(self) -> Any: ...


@dataclass
class Platform:
    name: str
    meter: Meter
    connect: Callable[[], Any]
    """A new connector on the same fake (a new flow run)."""
    fake: Any
    close: Callable[[Any], None] = lambda shop: shop.client.close()


def prestashop(latency: float) -> Platform:
    fake = prestashop_fake.FakePrestaShop(PRESTASHOP_KEY)
    meter = Meter(fake.handle, "/api/", latency)

    def trim() -> None:
        fake.requests.clear()
        fake.writes.clear()

    meter.trim = trim

    def connect() -> PrestaShopShop:
        client = PrestaShopClient(
            "http://shop.test",
            fake.key,
            allow_insecure_http=True,
            transport=meter.transport(),
            max_retries=0,
            backoff=0,
        )
        return PrestaShopShop(client)

    return Platform("prestashop", meter, connect, fake)


def woocommerce(latency: float) -> Platform:
    fake = woocommerce_fake.FakeWooCommerce([])
    meter = Meter(fake.handle, woocommerce_fake.API + "/", latency)
    meter.trim = fake.requests.clear

    def connect() -> WooCommerceShop:
        client = WooCommerceClient(
            woocommerce_fake.SITE,
            consumer_key=woocommerce_fake.KEY,
            consumer_secret=woocommerce_fake.SECRET,
            transport=meter.transport(),
            max_retries=0,
            backoff=0.0,
        )
        return WooCommerceShop(client)

    return Platform("woocommerce", meter, connect, fake)


# -- the catalogue -------------------------------------------------------------------------------


def ean13(first12: str) -> str:
    return first12 + str(ean13_check_digit(first12))


def is_simple(i: int) -> bool:
    return i % 3 == 0


def products(n: int, tax: str) -> list[Product]:
    """n products: every third simple, the others with sizes S, M, L."""
    out: list[Product] = []
    for i in range(n):
        price = Decimal("19.90") + i % 7
        common: dict[str, Any] = {
            "currency": "EUR",
            "vat_rate": Decimal("20"),
            "tax_category": tax,
            "weight": Decimal("0.250"),
        }
        name = f"Product {i}"
        if is_simple(i):
            sku = f"SKU-{i:06d}"
            variants = [Variant(sku, sku, name, price, ean=ean13(f"379{i:09d}"), **common)]
            key, groups = sku, []
        else:
            variants = [
                Variant(
                    f"SKU-{i:06d}-{size}",
                    f"SKU-{i:06d}-{size}",
                    f"{name} {size}",
                    price + (2 if size == "L" else 0),
                    options={"Size": size},
                    ean=ean13(f"38{i:09d}{n_size}"),
                    **common,
                )
                for n_size, size in enumerate(SIZES)
            ]
            key, groups = f"g:P{i:06d}", ["Size"]
        out.append(
            Product(
                key=key,
                name=name,
                slug=slugify(name),
                variants=variants,
                option_groups=groups,
                categories=[(f"Dept {i % 20}", f"Sub {i % 7}")],
            )
        )
    return out


def spread(n: int, fraction: float) -> list[int]:
    """max(1, round(n * fraction)) indices spread evenly over 0..n-1 (none for a fraction of 0)."""
    if fraction <= 0 or n == 0:
        return []
    k = max(1, round(n * fraction))
    return sorted({i * n // k for i in range(k)})


def changed_products(catalogue: list[Product], picked: list[int]) -> list[Product]:
    """The picked products renamed and 1.00 dearer (every variant)."""
    out = list(catalogue)
    for i in picked:
        p = catalogue[i]
        out[i] = replace(
            p,
            name=f"{p.name} (2027)",
            variants=[replace(v, price=v.price + 1, options=dict(v.options)) for v in p.variants],
        )
    return out


class Bindings(Published):
    """What the state store would hold: bindings from the shop's answers."""

    def variant_ids(self) -> dict[str, str]:
        return {k: b.shop_id for k, b in self.variants.items() if b.shop_id is not None}


def publish(shop: Shop, catalogue: list[Product], bindings: Bindings, step: Step) -> None:
    """plan_catalogue, then per batch the shop side of ``tasks.catalogue.publish_batch``
    (:func:`benchmarks.catalogue.publish`)."""
    own = Ownership()
    every = {p.key for p in catalogue} | {v.key for p in catalogue for v in p.variants}
    plan = plan_catalogue(
        catalogue,
        bindings.products,
        bindings.variants,
        ownership=own,
        read_article_keys=every,
        read_product_keys={p.key for p in catalogue},
    )
    step.writes = len(plan.writes)
    known = len(bindings.errors)
    publish_batches(shop, plan.writes, own, CATALOGUE_BATCH, bindings)
    step.errors += bindings.errors[known:]


# -- stock and prices ------------------------------------------------------------------------------


class _Keyed(Protocol):
    @property
    def key(self) -> str: ...


W = TypeVar("W", bound=_Keyed)


def send(items: Sequence[W], write: Callable[[Sequence[W]], BatchResult], step: Step) -> list[W]:
    """Batches of 100 (flows/stock.py, flows/prices.py): the writes the shop accepted."""
    step.writes = len(items)
    failed: set[str] = set()
    for start in range(0, len(items), VALUES_BATCH):
        result = write(items[start : start + VALUES_BATCH])
        step.errors += result.errors
        failed |= {e.key for e in result.errors}
    return [w for w in items if w.key not in failed]


def stock_levels(variant_keys: list[str], bump: set[int]) -> list[StockLevel]:
    """One warehouse; 5 to 54 units; a bumped variant 3 more."""
    return [
        StockLevel(key, key, "WH1", Decimal(5 + i % 50 + (3 if i in bump else 0))) for i, key in enumerate(variant_keys)
    ]


def stock_run(
    shop: Shop, levels: list[StockLevel], variant_ids: dict[str, str], sent: dict[str, str], step: Step
) -> None:
    targets, issues = compute_targets(levels, SETTINGS.resolved_feeds(), SETTINGS)
    assert not issues, list(issues.items())[:3]
    plan = plan_stock(targets, variant_ids, sent)
    for w in send(plan.writes, shop.write_stock, step):
        sent[w.key] = content_hash(plan.targets[w.key].value)


def price_records(catalogue: list[Product], bump: set[int]) -> list[PriceRecord]:
    """The catalogue's prices (1.00 more for a bumped variant); every 25th variant on promotion."""
    out: list[PriceRecord] = []
    variants = [v for p in catalogue for v in p.variants]
    for i, v in enumerate(variants):
        price = v.price + (1 if i in bump else 0)
        promotions = (
            [Promotion(price - 3, NOW - timedelta(days=1), NOW + timedelta(days=10), "winter")] if i % 25 == 0 else []
        )
        out.append(PriceRecord(v.key, v.sku, price, "EUR", vat_rate=Decimal("20"), promotions=promotions))
    return out


def price_run(
    shop: Shop, records: list[PriceRecord], variant_ids: dict[str, str], sent: dict[str, str], step: Step
) -> None:
    plan = plan_prices(records, variant_ids, sent, now=NOW, capabilities=shop.price_capabilities)
    for w in send(plan.writes, shop.write_prices, step):
        sent[w.key] = content_hash(write_value(w))


# -- one platform ----------------------------------------------------------------------------------


def run(platform: Platform, n: int, changed: float) -> dict[str, Any]:
    """Every step on one platform; the steps and what the shop holds afterwards."""
    meter = platform.meter
    catalogue = products(n, TAXES[platform.name])
    n_variants = sum(len(p.variants) for p in catalogue)
    steps: list[Step] = []
    bindings = Bindings()

    def step(key: str, name: str, action: Callable[[Any, Step], None], n_products: int, n_vars: int) -> None:
        shop = platform.connect()
        current = Step(key, name, products=n_products, variants=n_vars)
        with meter.measure(current):
            action(shop, current)
        platform.close(shop)
        steps.append(current)

    step("publish", "publish", lambda shop, s: publish(shop, catalogue, bindings, s), n, n_variants)
    first_bindings = (len(bindings.products), len(bindings.variants))
    step("rerun", "re-run, nothing changed", lambda shop, s: publish(shop, catalogue, bindings, s), n, n_variants)
    picked = spread(n, changed)
    catalogue = changed_products(catalogue, picked)
    changed_variants = sum(len(catalogue[i].variants) for i in picked)
    step(
        "republish",
        f"re-publish, {len(picked)} changed",
        lambda shop, s: publish(shop, catalogue, bindings, s),
        len(picked),
        changed_variants,
    )

    variant_keys = [v.key for p in catalogue for v in p.variants]
    ids = bindings.variant_ids()
    bump = set(spread(n_variants, changed))
    stock_sent: dict[str, str] = {}
    price_sent: dict[str, str] = {}
    step(
        "stock",
        "stock, every variant",
        lambda shop, s: stock_run(shop, stock_levels(variant_keys, set()), ids, stock_sent, s),
        n,
        n_variants,
    )
    step(
        "stock_changed",
        f"stock, {len(bump)} changed",
        lambda shop, s: stock_run(shop, stock_levels(variant_keys, bump), ids, stock_sent, s),
        0,
        len(bump),
    )
    step(
        "prices",
        "prices, every variant",
        lambda shop, s: price_run(shop, price_records(catalogue, set()), ids, price_sent, s),
        n,
        n_variants,
    )
    step(
        "prices_changed",
        f"prices, {len(bump)} changed",
        lambda shop, s: price_run(shop, price_records(catalogue, bump), ids, price_sent, s),
        0,
        len(bump),
    )
    return {
        "platform": platform.name,
        "products": n,
        "variants": n_variants,
        "catalogue": catalogue,
        "bindings": bindings,
        "first_bindings": first_bindings,
        "changed_products": [catalogue[i].key for i in picked],
        "changed_variants": [variant_keys[i] for i in sorted(bump)],
        "steps": {s.key: s for s in steps},
        "fake": platform.fake,
    }


# -- report ----------------------------------------------------------------------------------------


def report(result: dict[str, Any], project_latency: float, rate_limit: float) -> None:
    limited = f"{project_latency * 1000:.0f} ms, <= {rate_limit:g} req/s" if rate_limit > 0 else None
    print(f"\n{result['platform']}: {result['products']} products, {result['variants']} variants")
    header = (
        f"  {'step':<26} {'req':>6} {'GET':>5} {'POST':>5} {'PUT':>5} {'DEL':>4} {'/prod':>6} {'/var':>6}"
        f" {'wall s':>7} {'shop s':>7} {'engine s':>8} {f'@{project_latency * 1000:.0f}ms s':>9}"
        + (f" {'@' + limited:>20}" if limited else "")
    )
    print(header)
    for s in result["steps"].values():
        per_product = f"{s.calls / s.products:6.2f}" if s.products else f"{'-':>6}"
        per_variant = f"{s.calls / s.variants:6.2f}" if s.variants else f"{'-':>6}"
        line = (
            f"  {s.name:<26} {s.calls:>6} {s.method('GET'):>5} {s.method('POST'):>5} {s.method('PUT'):>5}"
            f" {s.method('DELETE'):>4} {per_product} {per_variant} {s.wall:7.2f} {s.shop:7.2f} {s.engine:8.2f}"
            f" {s.projected(project_latency, 0):9.1f}"
        )
        if limited:
            line += f" {s.projected(project_latency, rate_limit):20.1f}"
        print(line)
        top = ", ".join(f"{m} {r} {k}" for (m, r), k in sorted(s.requests.items(), key=lambda kv: -kv[1])[:6])
        print(f"      {s.writes} sent to the sink; {top or 'no request'}")
        if s.refused or s.errors:
            print(f"      REFUSED {len(s.refused)}: {s.refused[:2]}; sink errors {len(s.errors)}: {s.errors[:2]}")


def main(argv: list[str] | None = None) -> dict[str, dict[str, Any]]:
    parser = argparse.ArgumentParser(description="request costs of the PrestaShop and WooCommerce connectors")
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds the fake shop sleeps per request")
    parser.add_argument("--platform", choices=(*PLATFORMS, "all"), default="all")
    parser.add_argument("--changed", type=float, default=0.01, help="fraction of products / variants changed")
    parser.add_argument("--project-latency", type=float, default=0.1, help="seconds per request of the projection")
    parser.add_argument("--rate-limit", type=float, default=5.0, help="requests per second of the projection (0: none)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    builders = {"prestashop": prestashop, "woocommerce": woocommerce}
    results: dict[str, dict[str, Any]] = {}
    for name in PLATFORMS if args.platform == "all" else (args.platform,):
        results[name] = run(builders[name](args.latency), args.products, args.changed)
        if not args.quiet:
            report(results[name], args.project_latency, args.rate_limit)
    if not args.quiet:
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"\nru_maxrss {rss:.0f} MiB (the whole process: imports, fakes and their stores included)")
    return results


if __name__ == "__main__":
    main()
