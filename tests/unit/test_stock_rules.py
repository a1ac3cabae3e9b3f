"""Stock rules: feeds, reserved, safety stock, never negative, only changes sent, quality gate."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from connectors.errors import Fatal, RecordError
from connectors.models import StockLevel, content_hash
from tasks.settings import StockFeed, StockSettings
from tasks.stock import StockTarget, compute_targets, gate_targets, plan_stock
from tasks.values import value_hash

WEB = [StockFeed(warehouses=["WH"])]


def level(key: str, warehouse: str, on_hand: str, reserved: str = "0", sku: str | None = None) -> StockLevel:
    return StockLevel(key=key, sku=sku or f"SKU-{key}", warehouse=warehouse, on_hand=D(on_hand), reserved=D(reserved))


def quantities(targets: list[StockTarget]) -> dict[tuple[str, str | None], D]:
    return {(t.key, t.location): t.quantity for t in targets}


def test_reserved_and_safety_stock_are_subtracted_and_never_below_zero() -> None:
    settings = StockSettings(warehouses=["WH"], safety_stock=2)
    targets, issues = compute_targets(
        [level("1", "WH", "10", "3"), level("2", "WH", "3"), level("3", "WH", "1", "4")], WEB, settings
    )
    assert quantities(targets) == {("1", None): D(5), ("2", None): D(1), ("3", None): D(0)}
    assert issues == {}


def test_reserved_can_be_kept_and_safety_stock_set_per_sku() -> None:
    settings = StockSettings(
        warehouses=["WH"], subtract_reserved=False, safety_stock=1, safety_stock_by_sku={"SKU-2": 5}
    )
    targets, _ = compute_targets([level("1", "WH", "10", "3"), level("2", "WH", "10", "3")], WEB, settings)
    assert quantities(targets) == {("1", None): D(9), ("2", None): D(5)}


def test_unmapped_warehouse_never_counts_and_mapped_ones_are_summed() -> None:
    feeds = [StockFeed(warehouses=["WH", "WH2"]), StockFeed(warehouses=["STORE"], location="Shop floor")]
    settings = StockSettings(feeds=feeds)
    levels = [level("1", "WH", "4"), level("1", "WH2", "3"), level("1", "STORE", "50"), level("1", "OTHER", "99")]
    targets, _ = compute_targets(levels, settings.resolved_feeds(), settings)
    assert quantities(targets) == {("1", None): D(7), ("1", "Shop floor"): D(50)}
    assert {t.state_key for t in targets} == {"1", "1@Shop floor"}


def test_article_seen_only_in_another_warehouse_goes_to_zero_in_the_web_shop() -> None:
    # An export that drops empty lines must not leave old stock in the shop.
    targets, _ = compute_targets([level("1", "STORE", "8")], WEB, StockSettings(warehouses=["WH"]))
    assert quantities(targets) == {("1", None): D(0)}


def test_settings_refuse_no_warehouse_and_two_feeds_on_one_location() -> None:
    with pytest.raises(Fatal, match="no ERP warehouse"):
        StockSettings().resolved_feeds()
    with pytest.raises(Fatal, match="same shop location"):
        StockSettings(warehouses=["WH"], feeds=[StockFeed(warehouses=["STORE"])]).resolved_feeds()


def test_gate_refuses_fractional_quantities_and_read_issues_only_for_their_article() -> None:
    bad = RecordError("3", "quantity", "stock.csv line 4: 'abc' is not a number", check="parse")
    targets, issues = compute_targets(
        [level("1", "WH", "2.5"), level("2", "WH", "4"), StockLevel("3", "SKU-3", "WH", D(0), issues=[bad])],
        WEB,
        StockSettings(warehouses=["WH"]),
    )
    passed, rejected = gate_targets(targets, issues)
    assert [t.key for t in passed] == ["2"]
    reasons = {(e.error.key, e.error.field): e.error.reason for e in rejected}
    assert "2.5 is not a whole number" in reasons[("1", "quantity")]
    assert reasons[("3", "quantity")] == bad.reason


def target(key: str, quantity: int, location: str | None = None) -> StockTarget:
    return StockTarget(key, f"SKU-{key}", location, D(quantity), D(quantity), D(0), 0)


def test_only_quantities_that_changed_since_the_last_send_are_planned() -> None:
    targets = [target("1", 5), target("2", 3), target("3", 0), target("4", 1)]
    sent = {"1": content_hash({"quantity": 5, "location": None}), "2": content_hash({"quantity": 2, "location": None})}
    plan = plan_stock(targets, {"1": "v1", "2": "v2", "3": "v3"}, sent)
    assert [(w.key, w.variant_id, w.quantity) for w in plan.writes] == [("2", "v2", 3), ("3", "v3", 0)]
    assert plan.unchanged == 1
    assert plan.unknown == ["SKU-4"]  # reported, never created


def test_full_compares_with_the_shop_and_counts_drift() -> None:
    targets = [target("1", 5), target("2", 3)]
    sent = {k: content_hash({"quantity": q, "location": None}) for k, q in (("1", 5), ("2", 3))}
    plan = plan_stock(targets, {"1": "v1", "2": "v2"}, sent, shop_now={("v1", None): 5, ("v2", None): 9})
    assert [(w.key, w.quantity) for w in plan.writes] == [("2", 3)]
    assert plan.drift == 1 and plan.unchanged == 1


@pytest.mark.parametrize("value", [{"quantity": 5, "location": None}, {"quantity": 0, "location": "Entrepôt Lyon"}])
def test_value_hash_is_the_content_hash_sent_value_holds(value: dict[str, object]) -> None:
    assert value_hash(value) == content_hash(value)


def test_only_refused_articles_carry_a_payload() -> None:
    targets, issues = compute_targets(
        [level("1", "WH", "2.5"), level("2", "WH", "4")], WEB, StockSettings(warehouses=["WH"])
    )
    passed, rejected = gate_targets(targets, issues)
    assert [t.key for t in passed] == ["2"]
    assert [(e.error.key, e.payload) for e in rejected] == [("1", {"sku": "SKU-1", "on_hand": "2.5", "reserved": "0"})]
