"""Catalogue runs cut off at any point of a publish, then completed, on a real Tryton and Vendure.

Issue 12, defect 4: after a run died between two of Vendure's requests (products created, their
option groups or variants not yet), the next runs adopted the products by slug and then failed on
every run; one product's refusal also failed its batch neighbours. Whatever point a run dies at,
the next run must leave every good article in the shop exactly once, and the one after send nothing.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from connectors.http import HttpClient
from flows.catalogue import publish_catalogue
from tests.flows.helpers import shop_products, tryton_erp, write_config

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]

PRODUCTS_PUBLISHED = 35
GOOD_ARTICLES = 211  # 217 demo articles, 6 bad on purpose


class Killed(BaseException):
    """The worker dies (kill -9): no ``except Exception`` of the run sees it, nothing after it runs."""


def kill_after_mutation(monkeypatch: pytest.MonkeyPatch, number: int) -> None:
    """Let the shop answer its ``number``-th mutation request, then kill the run."""
    real = HttpClient.request
    seen = {"n": 0}

    def request(self: HttpClient, method: str, url: str, **kwargs: Any) -> Any:
        response = real(self, method, url, **kwargs)
        query = ((kwargs.get("json") or {}).get("query") or "").lstrip()
        if self.platform == "Vendure" and query.startswith("mutation") and "login" not in query[:60].lower():
            seen["n"] += 1
            if seen["n"] == number:
                raise Killed(f"killed after mutation {number}")
        return response

    monkeypatch.setattr(HttpClient, "request", request)


def assert_complete(vendure: object) -> None:
    products = shop_products(vendure)
    assert len(products) == PRODUCTS_PUBLISHED
    assert max(Counter(p["slug"] for p in products).values()) == 1
    skus = Counter(v["sku"] for p in products for v in p["variants"])
    assert len(skus) == GOOD_ARTICLES and max(skus.values()) == 1
    for product in products:
        if len(product["variants"]) > 1:  # every variant has its options, in groups attached to it
            groups = {g["name"] for g in product["optionGroups"]}
            assert groups, product["name"]
            assert all(len(v["options"]) == len(groups) for v in product["variants"]), product["name"]


@pytest.mark.parametrize("kills", [(2, 3), (3, 5, 2)], ids=["after-products", "after-variants-then-products"])
def test_runs_killed_at_several_points_are_completed_by_the_next_run(
    tryton_demo, vendure, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kills: tuple[int, ...]
) -> None:
    config = str(write_config(tmp_path, erp=tryton_erp(tryton_demo), vendure=vendure))
    for number in kills:
        with monkeypatch.context() as patch:
            kill_after_mutation(patch, number)
            with pytest.raises(Killed):
                publish_catalogue(config=config)

    rerun = publish_catalogue(config=config)

    assert rerun["failed"] == 0, rerun["quarantine"]
    assert_complete(vendure)
    again = publish_catalogue(config=config)
    assert (again["created"], again["updated"], again["failed"]) == (0, 0, 0)
    assert again["unchanged"] == PRODUCTS_PUBLISHED


EXPORT = """sku;name;group_key;colour;price;vat_rate
TEE-RED;Tee red;TEE;red;19.90;20
TEE-BLUE;Tee blue;TEE;blue;19.90;20
MUG;Mug;;;12.00;20
CAP;Cap;;;15.00;20
"""

FILES_ERP = """type = "files"
path = "articles.csv"
encoding = "utf-8"
[connections.main.erp.columns]
description = ""
ean = ""
weight = ""
[connections.main.erp.attributes]
colour = "colour"
"""


def test_one_product_refused_by_vendure_does_not_fail_its_batch_neighbours(vendure, tmp_path: Path) -> None:
    (tmp_path / "articles.csv").write_text(EXPORT, encoding="utf-8")
    config = str(write_config(tmp_path, erp=FILES_ERP, vendure=vendure, catalogue="categories = []"))
    assert publish_catalogue(config=config)["created"] == 3
    from tests.flows.helpers import vendure_client

    # The merchant deletes the mug in Vendure; then the ERP renames every article.
    client = vendure_client(vendure)
    mug = next(p for p in shop_products(vendure) if p["name"] == "Mug")
    client.execute("mutation($id: ID!) { deleteProduct(id: $id) { result } }", {"id": mug["id"]})
    client.close()
    (tmp_path / "articles.csv").write_text(
        EXPORT.replace(";Tee ", ";T-shirt ").replace(";Mug;", ";Mug XL;").replace(";Cap;", ";Cap XL;"), encoding="utf-8"
    )

    summary = publish_catalogue(config=config)

    assert [q["key"] for q in summary["quarantine"]] == ["a:MUG"]  # its own error, nobody else's
    assert (summary["updated"], summary["failed"]) == (2, 1)
    names = {p["name"] for p in shop_products(vendure)}
    assert {"T-shirt", "Cap XL"} <= names


def test_a_batch_larger_than_vendures_request_limit_is_published(vendure, tmp_path: Path) -> None:
    """Defect 3: with the default batch_size of 50, long descriptions made a request over Vendure's
    100 kB body limit (HTTP 500, empty message): retried unchanged, the run failed."""
    lines = ["sku;name;description;group_key;colour;price;vat_rate"]
    for i in range(50):
        text = f"Product {i}: " + "a long description written in the ERP. " * 60  # ~2.4 kB each
        lines += [f"P{i}-R;Shirt {i} red;{text};P{i};red;19.90;20", f"P{i}-B;Shirt {i} blue;{text};P{i};blue;19.90;20"]
    (tmp_path / "articles.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    erp = FILES_ERP.replace('description = ""\n', "")
    config = write_config(tmp_path, erp=erp, vendure=vendure, catalogue="categories = []")
    config.write_text(
        config.read_text(encoding="utf-8").replace("batch_size = 10", "batch_size = 50"), encoding="utf-8"
    )

    summary = publish_catalogue(config=str(config))

    assert (summary["created"], summary["failed"]) == (50, 0)
    products = shop_products(vendure)
    assert len(products) == 50 and sum(len(p["variants"]) for p in products) == 100
