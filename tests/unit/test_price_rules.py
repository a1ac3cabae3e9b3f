"""Price rules: promotions in force on time, shops that schedule them, group prices by capability."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal as D

import pytest

from connectors.base import PriceCapabilities, PriceWrite
from connectors.errors import Fatal
from connectors.models import GroupPrice, PriceRecord, Promotion, content_hash, to_jsonable
from tasks.prices import (
    active_promotion,
    check_owned_groups,
    gate_prices,
    next_change,
    plan_prices,
    price_write,
    write_hash,
    write_value,
)

UTC = timezone.utc
START = datetime(2026, 11, 27, 23, 0, tzinfo=UTC)  # Black Friday, midnight in Paris
END = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
VENDURE = PriceCapabilities()
SCHEDULING = PriceCapabilities(promotion_dates=True, group_prices=True)


def record(key: str = "1", price: str = "19.90", **kw: object) -> PriceRecord:
    return PriceRecord(key=key, sku=f"SKU-{key}", price=D(price), currency="EUR", vat_rate=D("20"), **kw)  # type: ignore[arg-type]


def promo(price: str, start: datetime | None = START, end: datetime | None = END, name: str = "BF") -> Promotion:
    return Promotion(price=D(price), starts_at=start, ends_at=end, name=name)


def test_promotion_is_in_force_from_its_start_until_just_before_its_end() -> None:
    r = record(promotions=[promo("14.90")])
    assert active_promotion(r, datetime(2026, 11, 27, 22, 59, 59, tzinfo=UTC)) is None
    assert active_promotion(r, START) is not None
    assert active_promotion(r, datetime(2026, 11, 30, 22, 59, 59, tzinfo=UTC)) is not None
    assert active_promotion(r, END) is None


def test_lowest_promotion_wins_and_open_ends_work() -> None:
    r = record(promotions=[promo("14.90"), promo("12.00", start=None, end=None, name="clearance")])
    at = datetime(2026, 11, 28, tzinfo=UTC)
    assert active_promotion(r, at).name == "clearance"  # type: ignore[union-attr]
    assert price_write(r, "v1", at, VENDURE).price == D("12.00")


def test_shop_without_dates_gets_the_price_in_force_and_it_changes_back_on_time() -> None:
    r = record(promotions=[promo("14.90")])
    before, during, after = (price_write(r, "v1", t, VENDURE) for t in (START.replace(hour=22), START, END))
    assert (before.price, during.price, after.price) == (D("19.90"), D("14.90"), D("19.90"))
    assert during.regular_price == D("19.90") and during.promotion is None


def test_shop_that_schedules_gets_the_base_price_and_the_next_promotion_with_its_dates() -> None:
    r = record(promotions=[promo("14.90")], group_prices=[GroupPrice("Wholesale", D("15.00"))])
    write = price_write(r, "v1", datetime(2026, 11, 1, tzinfo=UTC), SCHEDULING)
    assert write.price == D("19.90")
    assert write.promotion == Promotion(D("14.90"), START, END, "BF")
    assert write.group_prices == (GroupPrice("Wholesale", D("15.00")),)


def test_tax_included_erp_prices_are_sent_tax_excluded_and_marked_for_rounding() -> None:
    write = price_write(record(price="24.00", tax_included=True), "v1", START, VENDURE)
    assert write.price == D("20.000000") and write.converted


def test_plan_sends_what_changed_and_counts_group_prices_the_shop_cannot_hold() -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    records = [
        record("1"),
        record("2", group_prices=[GroupPrice("Wholesale", D("15"))]),
        record("3", promotions=[promo("14.90")]),
        record("4"),
    ]
    ids = {"1": "v1", "2": "v2", "3": "v3"}
    sent = {"1": content_hash(write_value(price_write(records[0], "v1", now, VENDURE)))}
    plan = plan_prices(records, ids, sent, now=now, capabilities=VENDURE)
    assert [w.key for w in plan.writes] == ["2", "3"]
    assert plan.unchanged == 1 and plan.unknown == ["SKU-4"]
    assert plan.group_prices_left_out == 1
    assert plan.next_change == START

    # The same plan at the promotion's start: only the article on promotion changes.
    sent = {w.key: content_hash(write_value(w)) for w in plan.writes} | sent
    later = plan_prices(records, ids, sent, now=START, capabilities=VENDURE)
    assert [(w.key, w.price) for w in later.writes] == [("3", D("14.90"))]
    assert later.promotions_in_force == 1 and later.next_change == END


def test_next_change_is_none_without_dates_ahead() -> None:
    assert next_change([record(promotions=[promo("1", start=None, end=None)])], START) is None


def test_gate_refuses_negative_prices_extra_decimals_and_promotions_ending_before_they_start() -> None:
    records = [
        record("1"),
        record("2", price="-1"),
        record("3", price="9.999"),
        record("4", promotions=[promo("10", start=END, end=START)]),
        record("5", group_prices=[GroupPrice("Wholesale", D("-2"))]),
        PriceRecord(key="6", sku="SKU-6", price=None, currency="EUR"),
        PriceRecord(key="7", sku="SKU-7", price=D("5"), currency="USD"),
    ]
    passed, rejected = gate_prices(records, currency="EUR")
    assert [r.key for r in passed] == ["1"]
    reasons = {e.error.key: (e.error.field, e.error.reason) for e in rejected}
    assert reasons["2"] == ("price", "SKU-2: price -1 is negative")
    assert reasons["3"][0] == "price" and "more than 2 decimals" in reasons["3"][1]
    assert reasons["4"][0] == "promotions" and "ends before it starts" in reasons["4"][1]
    assert reasons["5"] == ("group_prices", "SKU-5: customer-group price Wholesale -2 is negative")
    assert reasons["6"] == ("price", "SKU-6: price is missing")
    assert reasons["7"][0] == "currency"


def test_a_shop_owning_a_group_the_flow_does_not_read_stops_the_run_before_any_write() -> None:
    """A sink that replaces a group's prices whole (Shopify's price lists) would delete every price
    of a group the ERP is not asked for: the run stops with a Resolution instead."""
    owning = PriceCapabilities(group_prices=True, owned_groups=frozenset({"Wholesale", "Retail"}))
    check_owned_groups(owning, ["Wholesale", "Retail", "VIP"])  # every owned group is read: fine
    check_owned_groups(PriceCapabilities(group_prices=True), [])  # owns none
    with pytest.raises(Fatal) as refused:
        check_owned_groups(owning, ["Wholesale"])
    assert "Retail" in str(refused.value) and "[prices] groups" in refused.value.resolution


def _generic_value(write: PriceWrite) -> dict[str, object]:
    """What write_value returned before it was built field by field: the to_jsonable walk."""
    data = to_jsonable(write)
    del data["key"], data["variant_id"]
    return data


@pytest.mark.parametrize(
    "rec, capabilities",
    [
        (record(), VENDURE),
        (record(price="19.9"), VENDURE),  # 19.9 and 19.90 are sent (and hashed) as the ERP wrote them
        (record(promotions=[promo("15.00")]), VENDURE),
        (record(promotions=[promo("15", start=None)]), SCHEDULING),
        (record(group_prices=[GroupPrice("Wholesale", D("12.5"), D(10))]), SCHEDULING),
        (record(tax_included=True, promotions=[promo("12")]), SCHEDULING),
        (PriceRecord(key="9", sku=None, price=D("3"), currency="USD"), VENDURE),
    ],
)
def test_write_value_and_its_hash_are_what_sent_value_holds(rec: PriceRecord, capabilities: PriceCapabilities) -> None:
    """The values and hashes of earlier runs stay valid: nothing changed means nothing is re-sent."""
    write = price_write(rec, "v1", START, capabilities)
    assert write_value(write) == _generic_value(write)
    assert list(write_value(write)) == list(_generic_value(write))
    assert write_hash(write) == content_hash(write_value(write)) == content_hash(_generic_value(write))


def test_refused_records_keep_their_payload_and_passed_ones_cost_none() -> None:
    records = [record("1"), record("2", price="-1", promotions=[promo("1")]), record("3", price="9.999")]
    passed, rejected = gate_prices(records, currency="EUR")
    assert [r.key for r in passed] == ["1"]
    assert {e.error.key: e.payload for e in rejected} == {"2": to_jsonable(records[1]), "3": to_jsonable(records[2])}
