"""Request costs of the PrestaShop, WooCommerce and Shopify shop connectors: catalogue, stock and prices.

The real connectors (``PrestaShopShop`` / ``WooCommerceShop`` / ``ShopifyShop``) run against the
contract fakes of ``deployments/sandbox/fakes`` (``FakePrestaShop``, ``FakeWooCommerce``,
``shopify.core.ShopifyFake``) on ``--products`` generated products, through a wrapper transport that
counts the requests and the **shop time**; **engine time = wall time - shop time**. Steps, each with
a new connector: publish, a re-run with nothing changed, a re-publish of ``--changed`` products,
then stock and prices for every variant and for ``--changed`` of them. Reported per step: requests
by method, per product and per variant, the seconds, and the wall time projected for a real shop.

Shopify (GraphQL, a cost throttle instead of a request rate): requests by operation and root field,
the cost points the fake charged (the requested cost: it never refunds), the client's sum of
``actualQueryCost``, the actual cost estimated from the answers (what Shopify charges once a
document has run, ``benchmarks/shopify_throttle.py``), THROTTLED answers, and the seconds the client
waited for the bucket on the fake's virtual clock (each step starts on a full bucket; those waits are
the wall time the throttle adds to latency). Plans: ``--shopify-plan`` (default standard and plus).
Then the throttle on ``--throttle-products`` (10 000): each step's cost sequence repeated
``throttle-products / products`` times and replayed through the plan's bucket, with the fake's rule
and with Shopify's refunds, at latency 0 and at ``--project-latency``.

Run:  uv run python benchmarks/shops.py [--products 1000] [--latency 0] [--platform all]
      [--shopify-plan standard --shopify-plan plus] [--throttle-products 10000]

Details and figures: docs/benchmarks.md (sections "Shop side, PrestaShop and WooCommerce" and
"Shop side, Shopify").
"""

from __future__ import annotations

import argparse
import json
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
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, TypeVar

import httpx
from graphql import DocumentNode
from graphql import parse as parse_graphql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.catalogue import Published
from benchmarks.catalogue import publish as publish_batches
from benchmarks.shopify_throttle import Cost, actual_cost, replay
from connectors.base import BatchResult, CatalogueSink
from connectors.errors import RecordError
from connectors.models import PriceRecord, Product, Promotion, StockLevel, Variant, content_hash, slugify
from connectors.shop.prestashop.client import PrestaShopClient
from connectors.shop.prestashop.factory import PrestaShopShop
from connectors.shop.shopify.client import ShopifyClient
from connectors.shop.shopify.factory import ShopifyShop
from connectors.shop.shopify.settings import ShopifySettings
from connectors.shop.woocommerce import WooCommerceShop
from connectors.shop.woocommerce.client import WooCommerceClient
from deployments.sandbox.fakes import prestashop_fake, woocommerce_fake
from deployments.sandbox.fakes.shopify import core as shopify_fake
from tasks.diff import Ownership, plan_catalogue
from tasks.prices import plan_prices, write_value
from tasks.quality import ean13_check_digit
from tasks.settings import StockFeed, StockSettings
from tasks.stock import compute_targets, plan_stock

PLATFORMS = ("prestashop", "woocommerce", "shopify")
CATALOGUE_BATCH = 50
VALUES_BATCH = 100
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
SETTINGS = StockSettings(feeds=[StockFeed(warehouses=["WH1"])], safety_stock=0)
TAXES = {"prestashop": "FR Taux standard (20%)", "woocommerce": "Standard rate", "shopify": "taxable"}
"""A tax rule group / tax class of 20 % each fake holds (captured); Shopify's variants are only
taxable or exempt (``connectors/shop/shopify/mapper.py`` ``TAX_CATEGORIES``)."""
SHOPIFY_PLANS = ("standard", "plus")
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
    # Shopify only: the cost throttle
    costs: list[Cost] = field(default_factory=list)
    """Per document the fake ran: the requested cost (charged by the fake) and the actual one
    estimated from the answer (what Shopify charges)."""
    used: float = 0.0
    """``actualQueryCost`` summed by the client (``ShopifyClient.points``): the fake's is the requested."""
    throttled: int = 0
    """THROTTLED answers (nothing executed: the client waited and sent the document again)."""
    waited: float = 0.0
    """Virtual seconds the client waited for the bucket (``ShopifyClient.stats.throttled_seconds``)."""

    @property
    def points(self) -> int:
        return sum(c.requested for c in self.costs)

    @property
    def actual(self) -> int:
        return sum(c.actual for c in self.costs)

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
        step = self.step
        if step is not None:
            self.count(step, request, response)
            step.shop += time.perf_counter() - start
        self.trim()
        return response

    def count(self, step: Step, request: httpx.Request, response: httpx.Response) -> None:
        step.requests[(request.method, self.resource(request.url.path))] += 1
        if response.status_code >= 400:
            step.refused.append(f"{request.method} {request.url.path} -> {response.status_code}: {response.text[:300]}")

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
    close: Callable[[Any, Step], None] = lambda shop, step: shop.client.close()
    plan: str | None = None
    """Shopify: the plan of the fake shop (its bucket and restore rate)."""


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


class ShopifyMeter(Meter):
    """Counts GraphQL documents by operation and root fields, their cost points, THROTTLED answers.

    Each step starts on a full bucket (a new flow run, some time after the last one); ``latency``
    is slept and also passes on the virtual clock, so the bucket refills during it as it would.
    """

    def __init__(self, fake: shopify_fake.ShopifyFake, clock: shopify_fake.VirtualClock, latency: float) -> None:
        super().__init__(fake.handle, "", latency)
        self.fake = fake
        self.clock = clock
        self.trim = fake.exchanges.clear

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.clock.seconds += self.latency
        return super().handle(request)

    def count(self, step: Step, request: httpx.Request, response: httpx.Response) -> None:
        if not self.fake.exchanges:  # answered before GraphQL (authentication, path): no document ran
            super().count(step, request, response)
            return
        exchange = self.fake.exchanges[-1]
        key = (exchange.operation, "+".join(dict.fromkeys(exchange.fields)) or "(none)")  # aliases once
        step.requests[key] += 1
        answer = response.json() if response.status_code == 200 else {}
        errors = answer.get("errors") if isinstance(answer, dict) else None
        if exchange.throttled:
            step.throttled += 1
            return
        if response.status_code >= 400 or errors or exchange.operation not in {"query", "mutation"}:
            step.refused.append(f"{exchange.operation} {exchange.fields} -> {response.status_code}: {errors}"[:300])
            return
        document = _parsed(json.loads(request.content)["query"])
        step.costs.append(Cost(exchange.requested_cost, actual_cost(document, answer.get("data")), " ".join(key)))

    @contextmanager
    def measure(self, step: Step) -> Iterator[Step]:
        self.clock.seconds += self.fake.bucket / self.fake.restore_rate  # a full bucket
        with super().measure(step) as current:
            yield current


@lru_cache(maxsize=64)
def _parsed(text: str) -> DocumentNode:
    return parse_graphql(text)


def shopify(latency: float, plan: str = "standard") -> Platform:
    clock = shopify_fake.VirtualClock()
    fake = shopify_fake.ShopifyFake(clock=clock.now, plan=plan, taxes_included=False)
    meter = ShopifyMeter(fake, clock, latency)
    settings = ShopifySettings(url=shopify_fake.SHOP, access_token="env:SHOPIFY_ACCESS_TOKEN")

    def connect() -> ShopifyShop:
        client = ShopifyClient(
            shopify_fake.SHOP,
            token=shopify_fake.TOKEN,
            transport=meter.transport(),
            sleep=clock.sleep,
            clock=clock.now,
        )
        return ShopifyShop(client, settings)

    def close(shop: ShopifyShop, step: Step) -> None:
        step.used = shop.client.points
        step.waited = shop.client.stats.throttled_seconds
        shop.close()

    return Platform("shopify", meter, connect, fake, close, plan)


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
        platform.close(shop, current)
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
        "plan": platform.plan,
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


def report_shopify(result: dict[str, Any], project_latency: float, target: int) -> None:
    """The Shopify steps: documents, cost points, the bucket's waits; then the throttle on ``target`` products."""
    plan = result["plan"]
    bucket, restore = shopify_fake.PLANS[plan]
    ms = f"@{project_latency * 1000:.0f}ms"
    print(
        f"\nshopify, plan {plan} (bucket {bucket:g} points, restoring {restore:g}/s): "
        f"{result['products']} products, {result['variants']} variants"
    )
    print(
        f"  {'step':<26} {'req':>6} {'query':>5} {'mut':>5} {'THR':>4} {'/prod':>6} {'/var':>6} {'points':>8}"
        f" {'pts/prod':>8} {'actual~':>8} {'wait s':>8} {'wait~ s':>8} {'wall s':>7} {'shop s':>7} {'engine s':>8}"
        f" {ms + ' s':>9} {ms + '~ s':>10}"
    )
    for s in result["steps"].values():
        per_product = f"{s.calls / s.products:6.2f}" if s.products else f"{'-':>6}"
        per_variant = f"{s.calls / s.variants:6.2f}" if s.variants else f"{'-':>6}"
        points_product = f"{s.points / s.products:8.1f}" if s.products else f"{'-':>8}"
        refunded = replay(s.costs, bucket, restore, latency=0.0)
        at = replay(s.costs, bucket, restore, latency=project_latency, refunds=False)
        at_refunded = replay(s.costs, bucket, restore, latency=project_latency)
        print(
            f"  {s.name:<26} {s.calls:>6} {s.method('query'):>5} {s.method('mutation'):>5} {s.throttled:>4}"
            f" {per_product} {per_variant} {s.points:>8} {points_product} {s.actual:>8} {s.waited:8.1f}"
            f" {refunded.waited:8.1f} {s.wall:7.2f} {s.shop:7.2f} {s.engine:8.2f} {s.engine + at.seconds:9.1f}"
            f" {s.engine + at_refunded.seconds:10.1f}"
        )
        top = ", ".join(f"{m} {r} {k}" for (m, r), k in sorted(s.requests.items(), key=lambda kv: -kv[1])[:5])
        print(f"      {s.writes} sent to the sink; {top or 'no request'}")
        if s.costs:
            points: Counter[str] = Counter()
            actual: Counter[str] = Counter()
            for c in s.costs:
                points[c.name] += c.requested
                actual[c.name] += c.actual
            print("      points (actual~): " + ", ".join(f"{n} {p} ({actual[n]})" for n, p in points.most_common(4)))
        if s.used != s.points:
            print(f"      the client summed {s.used:g} points of actualQueryCost (the fake charged {s.points})")
        if s.refused or s.errors:
            print(f"      REFUSED {len(s.refused)}: {s.refused[:2]}; sink errors {len(s.errors)}: {s.errors[:2]}")
    print(
        "  points: requested cost, what the fake charges (it never refunds); actual~: estimated from the answers"
        " (connections counted for the nodes returned), what Shopify charges once it has run; wait s: virtual"
        " seconds the client waited for the bucket (measured); wait~: replayed with Shopify's refunds;"
        f" {ms}: engine + {project_latency * 1000:.0f} ms a request + the bucket's waits (replayed, ~: with refunds)"
    )
    throttle_projection(result, project_latency, target)


def throttle_projection(result: dict[str, Any], project_latency: float, target: int) -> None:
    """The bucket's wall time on ``target`` products: the measured cost sequence of each step repeated
    ``target / products`` times (points scale with the catalogue) and replayed through the bucket."""
    n = result["products"]
    plan = result["plan"]
    bucket, restore = shopify_fake.PLANS[plan]
    factor = target / n
    how = "measured" if n == target else f"the {n}-product sequence of costs repeated x{factor:g} and replayed"
    print(f"  throttle on {target} products, plan {plan} ({how}; engine seconds x{factor:g}):")
    print(
        f"    {'step':<26} {'requests':>9} {'points':>10} {'actual~':>9} {'wait':>9} {'wait~':>9}"
        f" {'@' + f'{project_latency * 1000:.0f}ms':>9} {'@~':>9}"
    )
    for s in result["steps"].values():
        costs = scaled(s.costs, factor)
        fake_rule = replay(costs, bucket, restore, refunds=False)
        refunded = replay(costs, bucket, restore)
        at = replay(costs, bucket, restore, latency=project_latency, refunds=False)
        at_refunded = replay(costs, bucket, restore, latency=project_latency)
        engine = s.engine * factor
        print(
            f"    {s.name:<26} {round(s.calls * factor):>9} {sum(c.requested for c in costs):>10}"
            f" {sum(c.actual for c in costs):>9} {duration(fake_rule.waited):>9} {duration(refunded.waited):>9}"
            f" {duration(engine + at.seconds):>9} {duration(engine + at_refunded.seconds):>9}"
        )


def scaled(costs: list[Cost], factor: float) -> list[Cost]:
    """``costs`` repeated ``factor`` times (the fraction: the first part of the list once more)."""
    whole = int(factor)
    return costs * whole + costs[: round((factor - whole) * len(costs))]


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.1f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def main(argv: list[str] | None = None) -> dict[str, dict[str, Any]]:
    parser = argparse.ArgumentParser(description="request costs of the PrestaShop, WooCommerce and Shopify connectors")
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds the fake shop sleeps per request")
    parser.add_argument("--platform", choices=(*PLATFORMS, "all"), default="all")
    parser.add_argument("--changed", type=float, default=0.01, help="fraction of products / variants changed")
    parser.add_argument("--project-latency", type=float, default=0.1, help="seconds per request of the projection")
    parser.add_argument("--rate-limit", type=float, default=5.0, help="requests per second of the projection (0: none)")
    parser.add_argument(
        "--shopify-plan",
        action="append",
        choices=tuple(shopify_fake.PLANS),
        help=f"the Shopify fake's plan (its bucket); repeat for several (default: {' and '.join(SHOPIFY_PLANS)})",
    )
    parser.add_argument(
        "--throttle-products", type=int, default=10_000, help="catalogue size of the Shopify throttle projection"
    )
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    builders = {"prestashop": prestashop, "woocommerce": woocommerce}
    results: dict[str, dict[str, Any]] = {}
    for name in PLATFORMS if args.platform == "all" else (args.platform,):
        if name == "shopify":
            for i, plan in enumerate(args.shopify_plan or SHOPIFY_PLANS):
                key = name if i == 0 else f"{name}-{plan}"
                results[key] = run(shopify(args.latency, plan), args.products, args.changed)
                if not args.quiet:
                    report_shopify(results[key], args.project_latency, args.throttle_products)
            continue
        results[name] = run(builders[name](args.latency), args.products, args.changed)
        if not args.quiet:
            report(results[name], args.project_latency, args.rate_limit)
    if not args.quiet:
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"\nru_maxrss {rss:.0f} MiB (the whole process: imports, fakes and their stores included)")
    return results


if __name__ == "__main__":
    main()
