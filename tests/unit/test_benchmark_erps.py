"""benchmarks/erps.py at a small size (60 articles, latency 0): behaviour, not timings.

The request counts asserted here are the ones docs/benchmarks.md explains ("ERP side, Odoo and
Dolibarr"): reads per page of articles, not per article; an order in a fixed number of calls.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from benchmarks import erps

ARTICLES = 60


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, Any]]:
    return erps.main(["--articles", str(ARTICLES), "--quiet"])


@pytest.mark.parametrize("platform", erps.PLATFORMS)
def test_nothing_refused_and_every_article_read(results: dict[str, dict[str, Any]], platform: str) -> None:
    steps = results[platform]["steps"]
    for step in steps.values():
        assert step.refused == [], (step.name, step.refused[:2])
    on_sale = ARTICLES
    assert steps["catalogue"].records == on_sale + (1 if platform == "odoo" else 0)  # Odoo: the archived variant
    assert steps["stock"].records == steps["prices"].records == on_sale
    fake = results[platform]["fake"]
    orders = fake.tables["sale.order"] if platform == "odoo" else fake.orders
    assert len(orders) == 2  # the new customer's order and the repeat customer's


def test_odoo_reads_per_page_not_per_article(results: dict[str, dict[str, Any]]) -> None:
    steps = results["odoo"]["steps"]
    # one page (500): the products, their attribute values and their templates once each
    assert steps["catalogue"].requests["product.product.search_read"] == 1
    assert steps["catalogue"].requests["product.template.attribute.value.read"] == 1
    assert steps["stock"].requests["stock.quant.search_read"] == 1
    assert steps["prices"].calls == 6  # authenticate, pricelists, categories, rules, taxes, one page
    # a repeat customer is found, not created again
    assert steps["order_new_import"].requests["res.partner.create"] > 0
    assert steps["order_repeat_import"].requests["res.partner.create"] == 0


def test_dolibarr_reads_per_page_and_one_request_per_category(results: dict[str, dict[str, Any]]) -> None:
    steps = results["dolibarr"]["steps"]
    pages = math.ceil(ARTICLES / 100)  # page_size 100; a short page ends the list
    assert steps["catalogue"].requests["GET products"] == pages + 1  # + the list of parents (variants)
    assert steps["catalogue"].requests["GET categories/{id}/objects"] == erps.CATEGORIES
    assert steps["stock"].requests["GET products"] == steps["prices"].requests["GET products"] == pages
    # customer prices: one request per product, only when a customer-priced group is read
    assert steps["prices"].requests["GET products/{id}/selling_multiprices/per_customer"] == 0
    assert steps["prices_customer"].requests["GET products/{id}/selling_multiprices/per_customer"] == ARTICLES
    assert steps["order_new_import"].requests["POST thirdparties"] == 1
    assert steps["order_repeat_import"].requests["POST thirdparties"] == 0
    assert steps["order_new_pay"].requests["POST invoices/{id}/payments"] == 1
