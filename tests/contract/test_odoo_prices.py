"""Odoo prices: list prices, pricelists as customer groups, dated rules as promotions.

Expected values are worked out by hand from Odoo's ``product_pricelist_item.py`` ``_compute_price``
and ``product_pricelist.py`` ``_get_applicable_rules_domain`` (connectors/erp/odoo/pricelist.py).
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from connectors.erp.odoo.factory import build
from connectors.erp.odoo.pricelist import ProductFacts, Rule, compute, order_rules, price_at
from connectors.errors import Fatal
from connectors.models import GroupPrice
from deployments.sandbox.fakes.odoo import OdooFake, seed_catalogue
from deployments.sandbox.fakes.odoo.catalog import connector_options, resolver

NOW = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)


@pytest.fixture(params=[16, 18])
def fake(request: pytest.FixtureRequest) -> OdooFake:
    fake = OdooFake(version=request.param)
    ids = seed_catalogue(fake)
    item = lambda **v: fake.seed("product.pricelist.item", **v)  # noqa: E731
    item(
        pricelist_id=ids["pro"],
        applied_on="2_product_category",
        categ_id=ids["clothing"],
        compute_price="percentage",
        percent_price=10.0,
    )
    item(
        pricelist_id=ids["pro"],
        applied_on="0_product_variant",
        product_id=ids["red_s"],
        min_quantity=10.0,
        compute_price="fixed",
        fixed_price=15.0,
    )
    item(
        pricelist_id=ids["pro"],
        applied_on="1_product",
        product_tmpl_id=ids["mug_tmpl"],
        compute_price="formula",
        price_discount=15.0,
        price_round=0.5,
        price_surcharge=-0.01,
    )
    # expired: never in force at NOW, though it would win (variant rules sort first)
    item(
        pricelist_id=ids["pro"],
        applied_on="0_product_variant",
        product_id=ids["blue_m"],
        compute_price="fixed",
        fixed_price=1.0,
        date_end="2026-05-31 23:59:59",
    )
    item(
        pricelist_id=ids["public"],
        applied_on="1_product",
        product_tmpl_id=ids["tee"],
        compute_price="percentage",
        percent_price=20.0,
        date_start="2026-07-01 00:00:00",
        date_end="2026-07-31 23:59:59",
    )
    reseller = fake.seed("product.pricelist", name="Reseller", currency_id=1)
    item(
        pricelist_id=reseller,
        applied_on="3_global",
        compute_price="formula",
        base="pricelist",
        base_pricelist_id=ids["pro"],
        price_discount=50.0,
    )
    fake.ids = ids  # type: ignore[attr-defined]
    return fake


def connect(fake: OdooFake, **options):
    connector = build(
        connector_options(fake, **options), resolver(fake), connection="web", transport=fake.transport, max_retries=0
    )
    connector.clock = lambda: NOW
    return connector


def test_group_prices_as_odoo_computes_them(fake: OdooFake) -> None:
    records = {r.sku: r for r in connect(fake).iter_prices(["Pro", "Reseller"])}
    red, blue, mug = records["TEE-RED-S"], records["TEE-BLUE-M"], records["MUG"]
    assert red.price == Decimal(20) and red.tax_included is False and red.vat_rate == Decimal(20)
    assert red.group_prices == [
        GroupPrice("Pro", Decimal("18.00"), Decimal(1)),  # category rule, 10 % off
        GroupPrice("Pro", Decimal("15.00"), Decimal(10)),  # the variant's fixed price from 10
        GroupPrice("Reseller", Decimal("9.00"), Decimal(1)),  # 50 % off Pro's price
    ]
    assert blue.group_prices == [
        GroupPrice("Pro", Decimal("19.80"), Decimal(1)),
        GroupPrice("Reseller", Decimal("9.90"), Decimal(1)),
    ]
    # formula: 12 x 0.85 = 10.20, rounded to a multiple of 0.50 = 10.00, surcharge -0.01; in the
    # record's basis (the mug's tax includes the price)
    assert mug.tax_included is True
    assert mug.group_prices[0] == GroupPrice("Pro", Decimal("9.99"), Decimal(1))


def test_dated_rules_of_the_promotion_pricelist_are_promotions(fake: OdooFake) -> None:
    records = {r.sku: r for r in connect(fake, promotion_pricelist="Public").iter_prices([])}
    july = (datetime(2026, 7, 1, tzinfo=timezone.utc), datetime(2026, 8, 1, tzinfo=timezone.utc))
    [promotion] = records["TEE-RED-S"].promotions
    assert (promotion.price, promotion.starts_at, promotion.ends_at) == (Decimal("16.00"), *july)  # end inclusive + 1 s
    assert records["TEE-BLUE-M"].promotions[0].price == Decimal("17.60")
    assert records["MUG"].promotions == []


def test_unknown_pricelist_is_fatal(fake: OdooFake) -> None:
    with pytest.raises(Fatal, match="'VIP' not found"):
        list(connect(fake).iter_prices(["VIP"]))


def _rule(rid: int, **values: object) -> Rule:
    return Rule.from_row({"id": rid, "pricelist_id": [1, "P"], **values})


def test_compute_price_formula_margins() -> None:
    rule = _rule(1, compute_price="formula", price_discount=50.0, price_min_margin=2.0, price_max_margin=3.0)
    assert compute(rule, Decimal(10)) == Decimal(12)  # 5 lifted to base + min margin
    assert compute(
        _rule(2, compute_price="formula", price_discount=-50.0, price_max_margin=3.0), Decimal(10)
    ) == Decimal(13)


def test_rule_order_and_min_quantity() -> None:
    product = ProductFacts(id=5, template_id=2, categories=frozenset({1}), list_price=Decimal(100))
    rules = order_rules(
        [
            _rule(1, applied_on="3_global", compute_price="percentage", percent_price=5.0),
            _rule(
                2,
                applied_on="0_product_variant",
                product_id=[5, "x"],
                min_quantity=10.0,
                compute_price="fixed",
                fixed_price=50.0,
            ),
            _rule(3, applied_on="2_product_category", categ_id=[1, "All"], compute_price="fixed", fixed_price=80.0),
        ],
        {1: "All"},
    )
    assert [r.id for r in rules] == [2, 3, 1]
    never = lambda *a: Decimal(0)  # noqa: E731
    assert price_at(rules, product, Decimal(1), NOW, never)[0] == Decimal(80)  # type: ignore[index]
    assert price_at(rules, product, Decimal(10), NOW, never)[0] == Decimal(50)  # type: ignore[index]
    assert price_at(rules, ProductFacts(6, 3, frozenset(), Decimal(100)), Decimal(1), NOW, never)[0] == Decimal(95)  # type: ignore[index]
