"""Request costs of the Odoo and Dolibarr ERP connectors: catalogue, stock, prices, one order.

The real connectors (``OdooConnector`` / ``DolibarrConnector``, built by their registry factories)
run against the contract fakes of ``deployments/sandbox/fakes`` (``OdooFake``, ``FakeDolibarr``) on
``--articles`` generated articles, through a wrapper transport that counts the requests and the
**ERP time** (the fake's own work); **engine time = wall time - ERP time**. Steps, each with a new
connector (a new flow run): the catalogue read (``iter_articles``), the stock read of one warehouse
(``iter_stock``), the price read with one customer group (``iter_prices``; Odoo: one pricelist as
group and the promotion pricelist), then one web order (3 lines, shipping, a coupon, paid) as
``flows/orders.py`` sends it: ``find_orders`` (reconciliation), ``import_order``,
``record_payment`` (the deposit), for a new customer and again for a repeat customer.

Odoo requests are named ``model.method`` (JSON-RPC ``execute_kw``; ``common.authenticate``);
Dolibarr ones ``METHOD route`` with ids as ``{id}``.

Run:  uv run python benchmarks/erps.py [--articles 1000] [--platform all] [--latency 0]

Details and figures: docs/benchmarks.md (section "ERP side, Odoo and Dolibarr").
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.erp.dolibarr.factory import build as build_dolibarr
from connectors.erp.odoo.factory import build as build_odoo
from connectors.models import Address, Customer, Discount, Order, OrderLine, Payment
from deployments.sandbox.fakes.dolibarr import KEY as DOLIBARR_KEY
from deployments.sandbox.fakes.dolibarr import URL as DOLIBARR_URL
from deployments.sandbox.fakes.dolibarr import FakeDolibarr
from deployments.sandbox.fakes.odoo import OdooFake, seed_catalogue
from deployments.sandbox.fakes.odoo.catalog import add_template, connector_options
from deployments.sandbox.fakes.odoo.catalog import resolver as odoo_resolver

PLATFORMS = ("odoo", "dolibarr")
SIZES = ("S", "M", "L")
CATEGORIES = 10
"""Dolibarr product categories of the generated catalogue (the catalogue reads each one's members)."""
WHEN = datetime(2026, 6, 1, 9, 30, tzinfo=timezone.utc)
_NUMBER = re.compile(r"^\d+$")


@dataclass
class Step:
    key: str
    name: str
    records: int = 0
    """Articles / levels / prices read, or orders sent (the denominator)."""
    per: str = "1 000 articles"
    requests: Counter[str] = field(default_factory=Counter)
    refused: list[str] = field(default_factory=list)
    wall: float = 0.0
    cpu: float = 0.0
    erp: float = 0.0

    @property
    def calls(self) -> int:
        return sum(self.requests.values())

    @property
    def engine(self) -> float:
        return self.wall - self.erp

    def scaled(self, articles: int) -> float:
        """Requests per 1 000 articles (per order for the order steps)."""
        return self.calls if self.per == "order" else self.calls * 1000 / max(articles, 1)


class Meter:
    """Wraps a fake's handler: sleeps ``latency``, times the fake, counts into the current step."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response], name: Callable[[httpx.Request], str],
                 latency: float) -> None:  # fmt: skip
        self.handler = handler
        self.name = name
        self.latency = latency
        self.step: Step | None = None
        self.trim: Callable[[], None] = lambda: None

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        start = time.perf_counter()
        if self.latency:
            time.sleep(self.latency)
        response = self.handler(request)
        response.read()
        step = self.step
        if step is not None:
            name = self.name(request)
            step.requests[name] += 1
            error = response.status_code >= 400 and not (request.method == "GET" and response.status_code == 404)
            if error or (response.status_code == 200 and _rpc_error(response)):
                step.refused.append(f"{name} -> {response.status_code}: {response.text[:300]}")
            step.erp += time.perf_counter() - start
        self.trim()
        return response

    @contextmanager
    def measure(self, step: Step) -> Iterator[Step]:
        self.step = step
        start, cpu = time.perf_counter(), time.process_time()
        try:
            yield step
        finally:
            step.wall, step.cpu = time.perf_counter() - start, time.process_time() - cpu
            self.step = None


def _rpc_error(response: httpx.Response) -> bool:
    """A JSON-RPC error inside a 200 (Odoo's way of refusing a call)."""
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("error") is not None


def odoo_name(request: httpx.Request) -> str:
    params = json.loads(request.content).get("params") or {}
    args = params.get("args") or []
    if params.get("service") == "object" and len(args) > 4:
        return f"{args[3]}.{args[4]}"
    return f"{params.get('service')}.{params.get('method')}"


def dolibarr_name(request: httpx.Request) -> str:
    route = request.url.path.split("/api/index.php/", 1)[-1].strip("/")
    return f"{request.method} " + "/".join("{id}" if _NUMBER.match(p) else p for p in route.split("/"))


@dataclass
class Platform:
    name: str
    meter: Meter
    fake: Any
    connect: Callable[[], Any]
    articles: int
    groups: list[str]
    warehouse: str
    orders: list[tuple[Order, dict[str, str]]]
    """(order, line id -> ERP article key), a new customer then a repeat one."""
    customer_groups: list[str] = field(default_factory=list)
    """Groups priced per customer (Dolibarr ``customer_prices``): read in a step of their own."""


def web_order(shop_id: str, skus: list[tuple[str, str, int, Decimal]], email: str) -> Order:
    """Lines (line id, sku, quantity, net unit price) at 20 % VAT, shipping 5.00 net, a 5.00 net coupon, paid."""
    lines = [
        OrderLine(lid, sku, sku, Decimal(q), price, Decimal(20), price * q, (price * q * Decimal("1.2")).quantize(Decimal("0.01")))
        for lid, sku, q, price in skus
    ]  # fmt: skip
    net = sum((line.total for line in lines), Decimal(0))
    gross = sum((line.total_tax_included for line in lines), Decimal(0))
    home = Address("Jeanne", "Martin", "1 rue de la Paix", "75002", "Paris", "FR")
    total = gross + Decimal(6) - Decimal(6)
    return Order(
        shop_id=shop_id, reference=f"W{shop_id}", state="PaymentSettled", created_at=WHEN, updated_at=WHEN,
        currency="EUR", customer=Customer(email=email, shop_id="c1", first_name="Jeanne", last_name="Martin"),
        billing=home, shipping=Address("Jeanne", "Martin", "5 avenue Foch", "69006", "Lyon", "FR"),
        lines=lines, total=net, total_tax_included=total, shipping_method="Colissimo",
        shipping_price=Decimal(5), shipping_price_tax_included=Decimal(6), shipping_vat_rate=Decimal(20),
        discounts=[Discount("Coupon", Decimal(5), Decimal(6), code="WELCOME")],
        payments=[Payment("card", total, "settled", transaction_id=f"tx-{shop_id}", paid_at=WHEN)],
    )  # fmt: skip


def odoo(articles: int, latency: float) -> Platform:
    """seed_catalogue (taxes, warehouses, pricelists, carrier, the order's service products) plus
    templates of 3 sizes up to ``articles`` salable variants, each with a quant in WH; Pro has a
    global 10 % rule, Public a dated rule per 25th template (a promotion)."""
    fake = OdooFake()
    ids = seed_catalogue(fake)
    made = 3  # seed_catalogue's Tee Red S, Blue M (and the archived Red M) and the Mug: 4 read, 3 active
    number = 0
    keys: dict[str, int] = {}
    while made < articles:
        sizes = SIZES[: min(3, articles - made)]
        tmpl, variants = add_template(
            fake, f"Article {number}",
            [{"default_code": f"ART-{number:05d}-{s}", "values": {"Size": s}} for s in sizes],
            attributes={"Size": dict.fromkeys(sizes, 0.0)}, list_price=10.0 + number % 7,
            categ_id=ids["tshirts"], taxes_id=[ids["vat20"]],
        )  # fmt: skip
        for sku, variant in zip(sizes, variants, strict=True):
            keys[f"ART-{number:05d}-{sku}"] = variant
            fake.seed("stock.quant", product_id=variant, location_id=ids["wh_stock"], quantity=20.0,
                      reserved_quantity=1.0)  # fmt: skip
        if number % 25 == 0:
            fake.seed("product.pricelist.item", pricelist_id=ids["public"], applied_on="1_product",
                      product_tmpl_id=tmpl, compute_price="percentage", percent_price=20.0,
                      date_start="2026-07-01 00:00:00", date_end="2026-07-31 23:59:59")  # fmt: skip
        made += len(sizes)
        number += 1
    fake.seed("product.pricelist.item", pricelist_id=ids["pro"], applied_on="3_global", compute_price="percentage",
              percent_price=10.0)  # fmt: skip
    meter = Meter(fake.handle, odoo_name, latency)

    def trim() -> None:
        fake.requests.clear()
        fake.bodies.clear()

    meter.trim = trim

    def connect() -> Any:
        options = connector_options(fake, promotion_pricelist="Public", orders={"shop": "web"})
        connector = build_odoo(options, odoo_resolver(fake), connection="web", transport=meter.transport(),
                               max_retries=0)  # fmt: skip
        connector.clock = lambda: WHEN
        return connector

    lines = [("l1", "TEE-RED-S", 2, Decimal(20)), ("l2", "TEE-BLUE-M", 1, Decimal(22)), ("l3", "MUG", 1, Decimal(10))]
    bound = {"l1": str(ids["red_s"]), "l2": str(ids["blue_m"]), "l3": str(ids["mug"])}
    orders = [(web_order(str(n), lines, "jeanne@example.com"), bound) for n in (101, 102)]
    return Platform("odoo", meter, fake, connect, articles + 1, ["Pro"], "WH", orders)


def dolibarr(articles: int, latency: float) -> Platform:
    """The captured product plus ``articles - 1`` products (Dolibarr has no variants here), each in
    one of ``CATEGORIES`` categories, with stock in the captured warehouse WH-MAIN, and a price
    level 2 (PRODUIT_MULTIPRICES) as the group ``Revendeurs``."""
    fake = FakeDolibarr()
    fake.constants.add("PRODUIT_CUSTOMER_PRICES")
    categories = [fake.add_category(f"Category {c}") for c in range(CATEGORIES)]
    ids = []
    for number in range(articles - 1):
        price = Decimal(10 + number % 7)
        pid = fake.add_product(
            f"ART-{number:05d}", f"Article {number}", str(price),
            multiprices={"1": f"{price:.8f}", "2": f"{price * Decimal('0.9'):.8f}"},
            multiprices_ttc={"1": f"{price * Decimal('1.2'):.8f}", "2": f"{price * Decimal('1.08'):.8f}"},
            multiprices_base_type={"1": "HT", "2": "HT"}, multiprices_tva_tx={"1": "20.0000", "2": "20.0000"},
        )  # fmt: skip
        fake.category_members[categories[number % CATEGORIES]].add(pid)
        fake.set_stock(pid, 1, "20")
        if number % 10 == 0:  # a key account's negotiated price on every tenth product
            fake.add_customer_price(pid, 1, str(price * Decimal("0.8")))
        ids.append(pid)
    meter = Meter(fake.handle, dolibarr_name, latency)
    meter.trim = fake.requests.clear

    def connect() -> Any:
        options = {"url": DOLIBARR_URL, "api_key": "env:DOLIBARR_API_KEY", "price_levels": {"Revendeurs": 2},
                   "customer_prices": {"ACME": 1}, "orders": {"shop": "web"}}  # fmt: skip
        return build_dolibarr(options, _DolibarrKey(), connection="web", transport=meter.transport())

    lines = [(f"l{i}", f"ART-{i:05d}", q, Decimal(10 + i % 7)) for i, q in ((0, 2), (1, 1), (2, 1))]
    bound = {f"l{i}": str(ids[i]) for i in range(3)}
    orders = [(web_order(str(n), lines, "ada@example.com"), bound) for n in (101, 102)]
    return Platform("dolibarr", meter, fake, connect, articles, ["Revendeurs"], "WH-MAIN", orders, ["ACME"])


class _DolibarrKey:
    def secret(self, option: str) -> str | None:
        return DOLIBARR_KEY if option == "api_key" else None

    def path(self, value: str) -> str:
        return value


def run(platform: Platform) -> dict[str, Step]:
    steps: dict[str, Step] = {}
    meter = platform.meter
    refs: dict[str, Any] = {}

    def step(key: str, name: str, action: Callable[[Any], int], per: str = "1 000 articles") -> None:
        connector = platform.connect()
        try:
            with meter.measure(Step(key, name, per=per)) as current:
                current.records = action(connector)
        finally:
            connector.close()
        steps[key] = current

    step("catalogue", "catalogue read", lambda c: sum(1 for _ in c.iter_articles()))
    step("stock", f"stock read ({platform.warehouse})", lambda c: sum(1 for _ in c.iter_stock([platform.warehouse])))
    step(
        "prices", f"prices read (group {platform.groups[0]})", lambda c: sum(1 for _ in c.iter_prices(platform.groups))
    )
    if platform.customer_groups:
        groups = platform.groups + platform.customer_groups
        step("prices_customer", f"prices read (+ customer prices {platform.customer_groups[0]})",
             lambda c: sum(1 for _ in c.iter_prices(groups)))  # fmt: skip
    for (order, bound), key in zip(platform.orders, ("order_new", "order_repeat"), strict=True):
        step(f"{key}_find", f"{key.replace('_', ' ')}: find_orders", lambda c, o=order: len(c.find_orders([o.shop_id])) + 1, "order")  # fmt: skip

        def send(c: Any, o: Order = order, b: dict[str, str] = bound) -> int:
            refs[o.shop_id] = c.import_order(o, b)
            return 1

        step(f"{key}_import", f"{key.replace('_', ' ')}: import_order", send, "order")
        step(f"{key}_pay", f"{key.replace('_', ' ')}: record_payment (deposit)",
             lambda c, o=order: bool(c.record_payment(refs[o.shop_id], o.payments[0])), "order")  # fmt: skip
    return steps


def table(platform: Platform, steps: dict[str, Step], top: int) -> str:
    out = [f"\n{platform.name}: {platform.articles} articles"]
    out.append(
        f"{'step':44} {'records':>7} {'requests':>8} {'per':>16} {'wall s':>7} {'cpu s':>6} {'erp s':>6} {'engine s':>8}"
    )
    for s in steps.values():
        per = f"{s.scaled(platform.articles):.1f} / {'order' if s.per == 'order' else '1k'}"
        out.append(f"{s.name:44} {s.records:>7} {s.calls:>8} {per:>16} {s.wall:>7.2f} {s.cpu:>6.2f} {s.erp:>6.2f} {s.engine:>8.2f}")  # fmt: skip
        for name, n in s.requests.most_common(top):
            out.append(f"    {name:56} {n:>5}")
        for refused in s.refused[:3]:
            out.append(f"    REFUSED {refused}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> dict[str, dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--platform", choices=("all", *PLATFORMS), default="all")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds the fake waits per request")
    parser.add_argument("--top", type=int, default=12, help="requests by name shown per step")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    results: dict[str, dict[str, Any]] = {}
    for name in PLATFORMS if args.platform == "all" else (args.platform,):
        start = time.perf_counter()
        platform = {"odoo": odoo, "dolibarr": dolibarr}[name](args.articles, args.latency)
        seeded = time.perf_counter() - start
        steps = run(platform)
        results[name] = {"platform": platform, "steps": steps, "fake": platform.fake, "seed_seconds": seeded}
        if not args.quiet:
            print(table(platform, steps, args.top))
            print(f"    (fake seeded in {seeded:.1f} s)")
    return results


if __name__ == "__main__":
    main()
