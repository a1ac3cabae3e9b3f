"""Dolibarr as a catalogue, stock and price source, against the fake that keeps the rules of a real
Dolibarr 19.0.4 (captured products, warehouses, stock, errors; tests/fixtures/contracts/dolibarr-19.0)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from connectors import registry
from connectors.base import CatalogueSource, OrderSink, PriceSource, StockSource
from connectors.erp.dolibarr.client import DolibarrClient, quote_filter
from connectors.erp.dolibarr.connector import DolibarrConnector
from connectors.erp.dolibarr.factory import build
from connectors.erp.dolibarr.settings import DolibarrSettings
from connectors.errors import Fatal, Retryable
from deployments.sandbox.fakes.dolibarr import KEY, URL, FakeDolibarr
from tasks.grouping import GroupingRules, group_articles
from tasks.mapping import MappingRules, map_groups


class _Resolver:
    def __init__(self, key: str | None = KEY) -> None:
        self.key = key

    def secret(self, option: str) -> str | None:
        return self.key

    def path(self, value: str) -> str:
        return value


def erp(fake: FakeDolibarr, key: str = KEY, **options: Any) -> DolibarrConnector:
    return build({"url": URL, "api_key": "env:DOLIBARR_API_KEY", **options}, _Resolver(key), transport=fake.transport)


def test_capabilities_and_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeDolibarr()
    connector = erp(fake)
    for capability in (CatalogueSource, StockSource, PriceSource, OrderSink):
        assert isinstance(connector, capability)
    monkeypatch.setitem(registry.ERP_CONNECTORS, "dolibarr", "connectors.erp.dolibarr.factory:build")
    built = registry.build("erp", "dolibarr", {"url": URL, "api_key": "env:X"}, _Resolver(), connection="Boutique FR")
    assert built.settings.orders.shop == "boutique-fr"


def test_captured_product_becomes_an_article() -> None:
    """products.json: PEER-SKU-001, 20.00 HT (price_base_type HT), tva_tx 20, status 1 (on sale)."""
    (article,) = list(erp(FakeDolibarr()).iter_articles())
    assert (article.key, article.sku, article.name) == ("1", "PEER-SKU-001", "Peer test product")
    assert (article.price, article.tax_included, article.vat_rate) == (Decimal(20), False, Decimal(20))
    assert article.active is True and article.description is None and article.weight is None
    assert article.updated_at is not None and article.updated_at.year == 2026


def test_articles_with_barcode_weight_categories_extrafields_and_ttc_prices() -> None:
    fake = FakeDolibarr()
    tee = fake.add_product(
        "TEE-M", "Tee M", "29.90", base="TTC", barcode="3700000000017", weight="250", weight_units=-3,
        description="Coton bio", array_options={"options_brand": "Acme", "options_material": "cotton"},
    )  # fmt: skip
    old = fake.add_product("OLD", "Retired", "5", status="0")
    clothing = fake.add_category("Clothing")
    fake.add_category("T-shirts", parent=clothing, members=(tee,))
    by_sku = {a.sku: a for a in erp(fake, brand_field="brand", features={"material": "material"}).iter_articles()}
    article = by_sku["TEE-M"]
    assert (article.price, article.tax_included) == (Decimal("29.9"), True)  # TTC: price_ttc, said so
    assert (article.ean, article.weight) == ("3700000000017", Decimal("0.25"))
    assert article.fields == {"categories": "Clothing/T-shirts", "brand": "Acme", "material": "cotton"}
    assert by_sku["OLD"].active is False and str(old) == by_sku["OLD"].key


def test_pages_follow_limit_and_page_until_dolibarr_answers_404() -> None:
    fake = FakeDolibarr()
    for i in range(5):
        fake.add_product(f"P{i}", f"P {i}", "1")
    articles = list(erp(fake, page_size=2).iter_articles())
    assert len(articles) == 6
    pages = [
        r.url.params for r in fake.requests if r.url.path.endswith("/products") and "variant_filter" not in r.url.params
    ]
    assert [(p["limit"], p["page"], p["sortfield"], p["mode"]) for p in pages] == [
        ("2", "0", "t.rowid", "1"), ("2", "1", "t.rowid", "1"), ("2", "2", "t.rowid", "1"), ("2", "3", "t.rowid", "1")
    ]  # fmt: skip


def test_stock_per_warehouse() -> None:
    fake = FakeDolibarr()
    store = fake.add_warehouse("STORE")
    fake.set_stock(1, 1, "50")  # stockmovements.json: 50 of product 1 into warehouse 1 (WH-MAIN)
    fake.set_stock(1, store, "3")
    connector = erp(fake)
    assert connector.warehouses() == ["WH-MAIN", "STORE"]
    levels = {(s.sku, s.warehouse): s.on_hand for s in connector.iter_stock(["WH-MAIN", "STORE"])}
    assert levels == {("PEER-SKU-001", "WH-MAIN"): Decimal(50), ("PEER-SKU-001", "STORE"): Decimal(3)}
    with pytest.raises(Fatal, match="'NOPE' not found.*Resolution: use the ref of a Dolibarr warehouse: WH-MAIN"):
        list(connector.iter_stock(["NOPE"]))


def test_prices_say_their_basis_and_read_price_levels() -> None:
    fake = FakeDolibarr()
    pid = fake.add_product("TTC-1", "Tax included", "12.00", base="TTC")
    fake.products[pid].update(
        multiprices={"1": "10.00000000", "2": "9.00000000"}, multiprices_ttc={"1": "12.00000000", "2": "10.80000000"},
        multiprices_base_type={"1": "TTC", "2": "TTC"}, multiprices_tva_tx={"1": "20.0000", "2": "20.0000"},
    )  # fmt: skip
    records = {r.sku: r for r in erp(fake, price_levels={"pro": 2}).iter_prices(["pro"])}
    assert (records["PEER-SKU-001"].price, records["PEER-SKU-001"].tax_included) == (Decimal(20), False)
    ttc = records["TTC-1"]
    assert (ttc.price, ttc.tax_included, ttc.vat_rate) == (Decimal(12), True, Decimal(20))
    assert [(g.group, g.price) for g in ttc.group_prices] == [("pro", Decimal("10.8"))]
    assert records["PEER-SKU-001"].group_prices == []  # multiprices off for it: no level price
    with pytest.raises(Fatal, match="'vip' has no Dolibarr price level"):
        list(erp(fake).iter_prices(["vip"]))


def test_customer_prices_override_the_level_of_their_group_in_the_products_basis() -> None:
    fake = FakeDolibarr()
    fake.constants.add("PRODUIT_CUSTOMER_PRICES")
    ht = fake.add_product("HT-1", "Tax excluded", "10.00")
    ttc = fake.add_product("TTC-1", "Tax included", "12.00", base="TTC")
    for pid in (ht, ttc):
        fake.products[pid].update(multiprices={"2": "9.00000000"}, multiprices_ttc={"2": "10.80000000"},
                                  multiprices_base_type={"2": "HT"}, multiprices_tva_tx={"2": "20.0000"})  # fmt: skip
    fake.add_customer_price(ht, 1, "8.00")  # thirdparty 1: the captured customer
    fake.add_customer_price(ttc, 1, "9.60", base="TTC")
    fake.add_customer_price(ttc, 5, "1.00")  # another customer's price: never given to the group
    connector = erp(fake, price_levels={"pro": 2}, customer_prices={"acme": 1, "pro": 1})
    fake.requests.clear()

    records = {r.sku: r for r in connector.iter_prices(["acme", "pro"])}

    # The customer's own price wins over the level; in the product's basis (HT-1 HT, TTC-1 TTC).
    assert [(g.group, g.price) for g in records["HT-1"].group_prices] == [("acme", Decimal(8)), ("pro", Decimal(8))]
    assert [(g.group, g.price) for g in records["TTC-1"].group_prices] == [
        ("acme", Decimal("9.6")),
        ("pro", Decimal("9.6")),
    ]
    # No customer price for the captured product (and no level): no group price rather than a guess.
    assert records["PEER-SKU-001"].group_prices == []
    calls = [r for r in fake.requests if "per_customer" in r.url.path]
    assert len(calls) == 3 and {r.url.params["thirdparty_id"] for r in calls} == {"1"}


def test_a_group_falls_back_to_its_level_and_several_customers_cost_one_call_per_product() -> None:
    fake = FakeDolibarr()
    fake.constants.add("PRODUIT_CUSTOMER_PRICES")
    pid = fake.add_product("HT-1", "Tax excluded", "10.00")
    fake.products[pid].update(multiprices={"2": "9.00000000"}, multiprices_ttc={"2": "10.80000000"},
                              multiprices_base_type={"2": "HT"}, multiprices_tva_tx={"2": "20.0000"})  # fmt: skip
    fake.add_customer_price(pid, 7, "7.50")
    connector = erp(fake, price_levels={"pro": 2}, customer_prices={"pro": 1, "big": 7})
    fake.requests.clear()

    record = next(r for r in connector.iter_prices(["pro", "big"]) if r.sku == "HT-1")

    assert [(g.group, g.price) for g in record.group_prices] == [("pro", Decimal(9)), ("big", Decimal("7.5"))]
    calls = [r for r in fake.requests if "per_customer" in r.url.path]
    assert len(calls) == 2 and all("thirdparty_id" not in r.url.params for r in calls)


def test_customer_prices_switched_off_in_dolibarr_stop_the_run_with_a_resolution() -> None:
    fake = FakeDolibarr()
    with pytest.raises(Fatal, match="PRODUIT_CUSTOMER_PRICES is off") as error:
        list(erp(fake, customer_prices={"acme": 1}).iter_prices(["acme"]))
    assert "prices per customer" in (error.value.resolution or "")


@pytest.mark.parametrize(
    ("key", "error", "text"),
    [(KEY + "x", Fatal, "HTTP 401"), ("", Fatal, "no API key")],
)
def test_bad_key_is_fatal_and_never_logged(key: str, error: type[Exception], text: str) -> None:
    with pytest.raises(error, match=text) as caught:
        list(erp(FakeDolibarr(), key=key).iter_articles())
    assert KEY + "x" not in str(caught.value)


def test_server_errors_are_retryable_and_bad_url_is_fatal() -> None:
    fake = FakeDolibarr()
    fake.fail_next["products"] = 503
    client = DolibarrClient(URL, KEY, transport=fake.transport, max_retries=0)
    with pytest.raises(Retryable):
        list(client.iter_list("products"))
    lost = DolibarrClient(URL + "/not-dolibarr/api/index.php/x", KEY, transport=fake.transport)
    assert list(lost.iter_list("products")) == []  # 404 page: a wrong URL reads as empty ...
    assert client.status()["dolibarr_version"] == "19.0.4"  # ... so the flows check /status first


def test_sqlfilter_values_refuse_what_dolibarr_cannot_search() -> None:
    assert quote_filter("shop:42") == "'shop:42'"
    with pytest.raises(ValueError):
        quote_filter("o'brien")


def test_settings_forbid_unknown_options() -> None:
    with pytest.raises(ValueError):
        DolibarrSettings.model_validate({"url": URL, "api_key": "x", "warehouse": "WH"})


def test_requests_carry_the_key_in_the_header_only() -> None:
    fake = FakeDolibarr()
    list(erp(fake).iter_articles())
    assert all(r.headers["DOLAPIKEY"] == KEY and "DOLAPIKEY" not in str(r.url) for r in fake.requests)
    assert isinstance(fake.requests[0], httpx.Request)


def _tee_with_two_variants(fake: FakeDolibarr, base: str = "HT") -> tuple[int, int, int]:
    """A parent TEE (20 in ``base``) with combinations Red S (+0) and Blue M (+2.50), as the Variants
    module makes them (child ref TEE_RED_S, price written by ProductCombination::updateProperties)."""
    tee = fake.add_product("TEE", "Tee", "20", base=base, description="Coton bio", barcode=None)
    clothing = fake.add_category("Clothing", members=(tee,))
    assert clothing
    colour, colours = fake.add_attribute("COLOR", "Colour", {"RED": "Red", "BLUE": "Blue"})
    size, sizes = fake.add_attribute("SIZE", "Size", {"S": "S", "M": "M"})
    fake.add_attribute("UNUSED", "Unused", {"X": "X"})
    red = fake.add_variant(tee, {colour: colours["RED"], size: sizes["S"]}, barcode="3700000000024")
    blue = fake.add_variant(tee, {colour: colours["BLUE"], size: sizes["M"]}, "2.50")
    return tee, red, blue


def test_a_parent_with_two_combinations_is_one_product_with_two_variants() -> None:
    fake = FakeDolibarr()
    tee, red, blue = _tee_with_two_variants(fake)
    articles = list(erp(fake).iter_articles())
    by_sku = {a.sku: a for a in articles}
    assert sorted(by_sku) == ["PEER-SKU-001", "TEE_BLUE_M", "TEE_RED_S"]  # the parent is the group, not an article
    first, second = by_sku["TEE_RED_S"], by_sku["TEE_BLUE_M"]
    assert (first.key, second.key) == (str(red), str(blue))
    assert first.group_key == second.group_key == str(tee) and first.group_name == "Tee"
    assert first.attributes == {"colour": "Red", "size": "S"} and second.attributes == {"colour": "Blue", "size": "M"}
    assert first.attribute_labels == {"colour": "Colour", "size": "Size"}
    assert (first.price, second.price, first.tax_included) == (Decimal(20), Decimal("22.5"), False)
    assert (first.ean, second.ean, first.description) == ("3700000000024", None, "Coton bio")
    assert first.fields["categories"] == "Clothing"  # the parent's categories
    (product,) = [
        p for p in map_groups(group_articles(articles, GroupingRules()), MappingRules()) if p.key == f"g:{tee}"
    ]
    assert product.option_groups == ["colour", "size"]
    assert [(v.sku, v.options, v.price) for v in product.variants] == [
        ("TEE_RED_S", {"colour": "Red", "size": "S"}, Decimal(20)),
        ("TEE_BLUE_M", {"colour": "Blue", "size": "M"}, Decimal("22.5")),
    ]


def test_variant_prices_keep_the_parents_tax_included_basis() -> None:
    fake = FakeDolibarr()
    _tee_with_two_variants(fake, base="TTC")
    by_sku = {a.sku: a for a in erp(fake).iter_articles()}
    blue = by_sku["TEE_BLUE_M"]
    assert (blue.price, blue.tax_included, blue.vat_rate) == (Decimal("22.5"), True, Decimal(20))
    assert (blue.group_key, blue.attributes["size"]) == (by_sku["TEE_RED_S"].group_key, "M")


def test_variant_children_are_not_also_lone_articles_and_lone_products_are_unchanged() -> None:
    fake = FakeDolibarr()
    _tee_with_two_variants(fake)
    articles = list(erp(fake).iter_articles())
    assert [a.sku for a in articles].count("TEE_RED_S") == 1
    groups = group_articles(articles, GroupingRules())
    assert sorted(len(g.articles) for g in groups) == [1, 2]  # the lone PEER-SKU-001 and the tee
    lone = next(a for a in articles if a.sku == "PEER-SKU-001")
    assert (lone.group_key, lone.attributes, lone.price) == (None, {}, Decimal(20))


def test_variant_reads_cost_one_call_per_parent_and_per_used_attribute() -> None:
    fake = FakeDolibarr()
    tee, _, _ = _tee_with_two_variants(fake)
    list(erp(fake).iter_articles())
    paths = [r.url.path.removeprefix("/api/index.php/") for r in fake.requests]
    parents = [
        r.url.params for r in fake.requests if r.url.path.endswith("/products") and "variant_filter" in r.url.params
    ]
    assert [p["variant_filter"] for p in parents] == ["2"]  # one short page of parents
    assert [p for p in paths if "variants" in p or "attributes" in p] == [
        f"products/{tee}/variants",
        "products/attributes",
        "products/attributes/1/values",
        "products/attributes/2/values",
    ]  # the attributes list once; UNUSED's values never
    plain = FakeDolibarr()  # no variants: one page of parents (empty: 404), nothing more
    list(erp(plain).iter_articles())
    extra = [r.url for r in plain.requests if "variant" in str(r.url) or "attributes" in r.url.path]
    assert [(u.path, u.params.get("variant_filter")) for u in extra] == [("/api/index.php/products", "2")]
