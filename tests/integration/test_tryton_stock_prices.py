"""The Tryton connector as a stock and price source, against a real Tryton 8.2 sandbox.

What an operator does in Tryton (tryton_ops: inventories, confirmed sales, promotions, price list
lines) must come out of ``iter_stock`` / ``iter_prices`` as the shop should see it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from connectors.base import CatalogueSource, PriceSource, StockSource
from connectors.erp.tryton.client import TrytonClient
from connectors.erp.tryton.connector import TrytonConnector
from connectors.erp.tryton.factory import build
from connectors.errors import Fatal
from connectors.models import PriceRecord, StockLevel
from deployments.sandbox import tryton_ops as ops
from deployments.sandbox.tryton import TrytonSandbox

pytestmark = pytest.mark.integration

PASSWORD = "stock-prices-secret"
FILLERS = 24


def catalogue() -> dict[str, Any]:
    """T-shirts (one variant with its own price), two books (one without cost price), a mug,
    and fillers so the products span several pages."""

    def simple(code: str, price: str, vat: str, category: str, cost: str | None = "1.00") -> dict[str, Any]:
        return {
            "code": code,
            "name": code,
            "list_price": price,
            "vat": vat,
            "categories": [category],
            "attribute_set": None,
            "weight": "0.5",
            "weight_uom": "kg",
            "products": [{"suffix_code": "", "attributes": {}, "cost_price": cost}],
        }

    tshirt = {
        "code": "P-TSH",
        "name": "Basic T-shirt",
        "list_price": "19.90",
        "vat": "20",
        "categories": ["Clothing/T-shirts"],
        "attribute_set": "Apparel",
        "weight": "0.2",
        "weight_uom": "kg",
        "products": [
            {"suffix_code": "-RED-M", "attributes": {"colour": "red", "size": "M"}, "cost_price": "7.50"},
            {"suffix_code": "-RED-L", "attributes": {"colour": "red", "size": "L"}, "cost_price": "7.50"},
            {
                "suffix_code": "-BLUE-XL",
                "attributes": {"colour": "blue", "size": "XL"},
                "cost_price": "8.00",
                "list_price": "21.90",
            },
        ],
    }
    return {
        "templates": [
            tshirt,
            simple("P-BOOK", "29.90", "5.5", "Books/Crafts"),
            simple("P-BOOK-NOCOST", "24.90", "5.5", "Books/Crafts", cost=None),
            simple("P-MUG", "12.00", "20", "Home/Kitchen"),
            *(simple(f"P-F{n:02d}", "5.00", "20", "Home/Kitchen") for n in range(FILLERS)),
        ]
    }


class _Secrets:
    def secret(self, option: str) -> str | None:
        return PASSWORD

    def path(self, value: str) -> str:
        return value


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrytonSandbox]:
    erp = TrytonSandbox(admin_password=PASSWORD, workdir=tmp_path_factory.mktemp("tryton-stock-prices"))
    erp.start()
    try:
        erp.seed(catalogue(), mode="orm")
        yield erp
    finally:
        erp.stop()


def connector(sandbox: TrytonSandbox, **settings: Any) -> TrytonConnector:
    options = {"url": sandbox.url, "database": sandbox.database, "login": sandbox.login, "password": "env:X"}
    built = build({**options, **settings}, _Secrets())
    assert isinstance(built, TrytonConnector)
    return built


@pytest.fixture(scope="module")
def erp(sandbox: TrytonSandbox) -> TrytonConnector:
    return connector(sandbox)


@pytest.fixture(scope="module")
def ops_client(sandbox: TrytonSandbox) -> TrytonClient:
    """The operator's own session (distinct from the connector's)."""
    return TrytonClient(sandbox.url, sandbox.database, login=sandbox.login, password=PASSWORD)


def levels(erp: TrytonConnector, warehouses: list[str]) -> dict[tuple[str | None, str], StockLevel]:
    return {(level.sku, level.warehouse): level for level in erp.iter_stock(warehouses)}


def prices(erp: TrytonConnector, groups: list[str] | None = None) -> dict[str | None, PriceRecord]:
    return {record.sku: record for record in erp.iter_prices(groups or [])}


def test_the_connector_is_a_catalogue_stock_and_price_source_with_one_key(erp: TrytonConnector) -> None:
    assert isinstance(erp, CatalogueSource) and isinstance(erp, StockSource) and isinstance(erp, PriceSource)
    assert sorted(erp.warehouses()) == ["STORE", "WH"]
    articles = {a.key: a.sku for a in erp.iter_articles()}
    assert {(lv.key, lv.sku) for lv in erp.iter_stock(["WH"])} == set(articles.items())
    assert {(r.key, r.sku) for r in erp.iter_prices([])} == set(articles.items())
    assert "SHIP-COLISSIMO" not in articles.values()  # the carrier's service product is no article


def test_levels_per_warehouse_follow_the_inventories(erp: TrytonConnector, ops_client: TrytonClient) -> None:
    assert ops.set_stock(ops_client, "P-TSH-RED-M", "WH", 7) is not None
    ops.set_stock(ops_client, "P-TSH-RED-M", "STORE", 3)
    found = levels(erp, ["WH", "STORE"])
    assert (found["P-TSH-RED-M", "WH"].on_hand, found["P-TSH-RED-M", "STORE"].on_hand) == (7, 3)
    assert found["P-TSH-RED-M", "WH"].reserved == 0
    assert isinstance(found["P-TSH-RED-M", "WH"].on_hand, Decimal)
    # An article nothing was ever moved for is reported in every warehouse, at 0.
    assert (found["P-F00", "WH"].on_hand, found["P-F00", "STORE"].on_hand) == (0, 0)

    assert ops.set_stock(ops_client, "P-TSH-RED-M", "WH", 4) is not None  # lowering: out to lost and found
    assert ops.set_stock(ops_client, "P-TSH-RED-M", "WH", 4) is None  # already there: nothing to do
    found = levels(erp, ["WH", "STORE"])
    assert (found["P-TSH-RED-M", "WH"].on_hand, found["P-TSH-RED-M", "STORE"].on_hand) == (4, 3)


def test_a_confirmed_sale_is_reserved_once_and_leaves_on_hand_when_shipped(
    erp: TrytonConnector, ops_client: TrytonClient
) -> None:
    ops.set_stock(ops_client, "P-TSH-RED-L", "WH", 10)
    sale_id = ops.reserve(ops_client, "P-TSH-RED-L", "WH", 3)
    found = levels(erp, ["WH", "STORE"])
    wh = found["P-TSH-RED-L", "WH"]
    assert (wh.on_hand, wh.reserved) == (10, 3)  # Tryton's quantity does not subtract the sale yet
    assert found["P-TSH-RED-L", "STORE"].reserved == 0  # sold from WH, not from the store

    # What Tryton itself says: quantity ignores the pending move, the forecast subtracts it.
    paris_today = datetime.now(ZoneInfo("Europe/Paris")).date()  # the company's today
    product = ops_client.model("product.product")
    (row,) = product.search_read(
        [("code", "=", "P-TSH-RED-L")],
        ["quantity", "forecast_quantity"],
        context={"locations": [_warehouse_id(ops_client, "WH")], "with_childs": True, "stock_date_end": paris_today},
    )
    assert (row["quantity"], row["forecast_quantity"]) == (10, 7)

    shipped = ops.ship(ops_client, sale_id)
    assert shipped
    wh = levels(erp, ["WH"])["P-TSH-RED-L", "WH"]
    assert (wh.on_hand, wh.reserved) == (7, 0)  # shipped: out of stock and no longer reserved


def test_a_cancelled_shipment_reserves_nothing(erp: TrytonConnector, ops_client: TrytonClient) -> None:
    ops.set_stock(ops_client, "P-BOOK", "WH", 5)
    sale_id = ops.reserve(ops_client, "P-BOOK", "WH", 2)
    assert levels(erp, ["WH"])["P-BOOK", "WH"].reserved == 2
    (sale,) = ops_client.model("sale.sale").read([sale_id], ["shipments"])
    ops_client.model("stock.shipment.out").cancel(sale["shipments"])
    book = levels(erp, ["WH"])["P-BOOK", "WH"]
    assert (book.on_hand, book.reserved) == (5, 0)


def test_an_unmapped_warehouse_never_counts(erp: TrytonConnector, ops_client: TrytonClient) -> None:
    ops.set_stock(ops_client, "P-MUG", "STORE", 5)
    ops.reserve(ops_client, "P-MUG", "STORE", 1)
    found = levels(erp, ["WH"])
    assert {warehouse for _, warehouse in found} == {"WH"}
    assert (found["P-MUG", "WH"].on_hand, found["P-MUG", "WH"].reserved) == (0, 0)
    store = levels(erp, ["STORE"])["P-MUG", "STORE"]
    assert (store.on_hand, store.reserved) == (5, 1)


def test_an_unknown_warehouse_is_fatal_and_names_the_known_ones(erp: TrytonConnector) -> None:
    with pytest.raises(Fatal, match="'WEB'") as caught:
        list(erp.iter_stock(["WH", "WEB"]))
    assert "Resolution:" in str(caught.value)
    assert "WH" in caught.value.resolution and "STORE" in caught.value.resolution


def test_a_list_price_change_is_read_back(erp: TrytonConnector, ops_client: TrytonClient) -> None:
    ops.set_list_price(ops_client, "P-TSH-BLUE-XL", Decimal("23.50"))
    found = prices(erp)
    blue = found["P-TSH-BLUE-XL"]
    assert (blue.price, blue.currency, blue.vat_rate, blue.tax_included) == (Decimal("23.50"), "EUR", 20, False)
    assert found["P-TSH-RED-M"].price == Decimal("19.90")  # the template's price, untouched
    assert found["P-BOOK"].vat_rate == Decimal("5.5")
    assert all(not r.issues for r in found.values())


def _last_sunday_of_october(year: int) -> date:
    day = date(year, 10, 31)
    return day - timedelta(days=(day.weekday() - 6) % 7)


def test_promotion_dates_become_utc_instants_across_the_end_of_summer_time(
    erp: TrytonConnector, sandbox: TrytonSandbox, ops_client: TrytonClient
) -> None:
    year = date.today().year + 1
    dst_end = _last_sunday_of_october(year)  # 03:00 CEST -> 02:00 CET
    ops.add_promotion(ops_client, "Autumn", ["P-TSH-RED-M"], "unit_price * 0.8", dst_end - timedelta(days=3), dst_end)
    ops.add_promotion(
        ops_client,
        "Before the change",
        ["P-TSH-RED-M"],
        "unit_price - 1",
        dst_end - timedelta(days=9),
        dst_end - timedelta(days=1),
    )
    ops.add_promotion(ops_client, "Forever", ["P-MUG"], "unit_price - 2", None, None)
    ops.add_promotion(ops_client, "Over", ["P-MUG"], "unit_price - 3", date(2020, 1, 1), date(2020, 1, 31))
    ops.add_promotion(ops_client, "Big baskets", ["P-MUG"], "unit_price - 4", None, None, min_amount=Decimal(100))
    ops.add_promotion(ops_client, "Dearer", ["P-MUG"], "unit_price + 1", None, None)
    ops.add_promotion(ops_client, "Clothing week", [], "unit_price * 0.5", None, None, categories=["Clothing"])

    found = prices(erp)
    red = {p.name: p for p in found["P-TSH-RED-M"].promotions}
    autumn = red["Autumn"]
    assert autumn.price == Decimal("15.92")  # 19.90 * 0.8
    # Start: 00:00 CEST (UTC+2) the first day; end: 00:00 CET (UTC+1) the day after the last.
    start_day = dst_end - timedelta(days=3)
    assert autumn.starts_at == datetime(
        start_day.year, start_day.month, start_day.day, tzinfo=timezone.utc
    ) - timedelta(hours=2)
    assert autumn.ends_at == datetime(dst_end.year, dst_end.month, dst_end.day, 23, tzinfo=timezone.utc)
    before = red["Before the change"]
    assert before.ends_at == datetime(dst_end.year, dst_end.month, dst_end.day, tzinfo=timezone.utc) - timedelta(
        hours=2
    )
    assert before.price == Decimal("18.90")
    # A promotion on a parent category applies to the articles of its child categories only.
    assert red["Clothing week"].price == Decimal("9.95")
    assert "Clothing week" in {p.name for p in found["P-TSH-BLUE-XL"].promotions}
    assert "Clothing week" not in {p.name for p in found["P-BOOK"].promotions}
    # Public promotions only (not "Big baskets", from 100 EUR), and none that would raise the
    # price ("Dearer"); a past one is read too, the flow knows it is over.
    mug = {p.name: p for p in found["P-MUG"].promotions}
    assert set(mug) == {"Forever", "Over"}
    assert (mug["Forever"].price, mug["Forever"].starts_at, mug["Forever"].ends_at) == (Decimal("10.00"), None, None)
    assert (mug["Over"].starts_at, mug["Over"].ends_at) == (  # winter time: UTC+1
        datetime(2019, 12, 31, 23, tzinfo=timezone.utc),
        datetime(2020, 1, 31, 23, tzinfo=timezone.utc),
    )

    # Another time zone is a setting.
    utc = {p.name: p for p in prices(connector(sandbox, timezone="UTC"))["P-TSH-RED-M"].promotions}
    assert utc["Autumn"].starts_at == datetime(start_day.year, start_day.month, start_day.day, tzinfo=timezone.utc)


def test_group_prices_are_computed_from_the_price_list_lines(erp: TrytonConnector, ops_client: TrytonClient) -> None:
    ops.set_group_price(ops_client, "Wholesale", None, "unit_price * 0.8", category="Books")
    ops.set_group_price(ops_client, "Wholesale", "P-TSH-RED-L", "cost_price * 2")
    ops.set_group_price(ops_client, "Wholesale", "P-TSH-RED-L", "unit_price * 0.5", quantity=10)
    ops_client.model("product.price_list").create(
        [
            {
                "name": "Retail TTC",
                "price": "list_price",
                "tax_included": True,
                "lines": [["create", [{"formula": "unit_price * 1.2"}]]],
            }
        ]
    )

    found = prices(erp, ["Wholesale", "Retail TTC"])

    def groups(sku: str) -> list[tuple[str, Decimal, Decimal]]:
        return [(g.group, g.price, g.min_quantity) for g in found[sku].group_prices]

    # The setup's line "unit_price * 0.9" for everything else.
    assert groups("P-TSH-RED-M") == [("Wholesale", Decimal("17.91"), 1), ("Retail TTC", Decimal("19.90"), 1)]
    # The category line applies to "Books/Crafts" through its parent "Books".
    assert groups("P-BOOK")[0] == ("Wholesale", Decimal("23.92"), 1)
    # A product line, and a quantity line from 10 units.
    assert groups("P-TSH-RED-L")[:2] == [("Wholesale", Decimal("15.00"), 1), ("Wholesale", Decimal("9.95"), 10)]
    # A list that includes VAT is converted to tax-excluded: 24.90 * 1.2 incl. 5.5 % VAT.
    assert groups("P-BOOK-NOCOST")[-1] == ("Retail TTC", Decimal("28.32"), 1)

    with pytest.raises(Fatal, match="'Export'") as caught:
        list(erp.iter_prices(["Wholesale", "Export"]))
    assert "Wholesale" in caught.value.resolution and "Retail TTC" in caught.value.resolution


def test_a_bad_formula_is_an_issue_on_that_record_only(erp: TrytonConnector, ops_client: TrytonClient) -> None:
    # Tryton accepts it (it checks formulas without a product); the product has no cost price.
    line = ops.set_group_price(ops_client, "Wholesale", "P-BOOK-NOCOST", "unit_price / cost_price")
    # A conditional Tryton accepts, that this reader does not evaluate.
    ops.add_promotion(ops_client, "Tiered", ["P-F01"], "unit_price * 0.9 if unit_price > 3 else unit_price", None, None)

    found = prices(erp, ["Wholesale"])
    (issue,) = found["P-BOOK-NOCOST"].issues
    assert issue.field == "group_prices"
    assert (
        "'Wholesale'" in issue.reason and f"line {line}" in issue.reason and "'unit_price / cost_price'" in issue.reason
    )
    assert "division by zero" in issue.reason
    (promo_issue,) = found["P-F01"].issues
    assert promo_issue.field == "promotions" and "'Tiered'" in promo_issue.reason
    assert sorted(sku or "" for sku, r in found.items() if r.issues) == ["P-BOOK-NOCOST", "P-F01"]
    assert found["P-BOOK"].group_prices  # the others are priced


def test_rpc_calls_grow_with_pages_not_with_products(sandbox: TrytonSandbox) -> None:
    page_size = 5
    erp = connector(sandbox, page_size=page_size)
    erp.client.login()
    products = len(list(erp.iter_articles()))
    assert products > 3 * page_size
    pages = math.ceil(products / page_size)
    fetches = products // page_size + 1  # the last search_read is short (or empty)

    before = erp.stats.calls
    list(erp.iter_stock(["WH", "STORE"]))
    # warehouses + one move search per warehouse + the pages of the first warehouse + one read
    # of the same ids per page for the second.
    assert erp.stats.calls - before == 1 + 2 + fetches + pages

    before = erp.stats.calls
    list(erp.iter_prices(["Wholesale"]))
    # price lists + their lines + categories + taxes + promotions + the pages.
    assert erp.stats.calls - before == 5 + fetches

    one_page = connector(sandbox, page_size=1000)
    one_page.client.login()
    before = one_page.stats.calls
    list(one_page.iter_stock(["WH", "STORE"]))
    list(one_page.iter_prices(["Wholesale"]))
    assert one_page.stats.calls - before == (1 + 2 + 1 + 1) + (5 + 1)


def _warehouse_id(client: TrytonClient, code: str) -> int:
    (row,) = client.model("stock.location").search_read([("code", "=", code), ("type", "=", "warehouse")], ["id"])
    return int(row["id"])
