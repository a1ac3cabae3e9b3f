"""Canonical records: money in minor units, hashes that ignore trailing zeros, UTC only."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal as D

import pytest

from connectors.errors import RecordError
from connectors.models import (
    Article,
    Product,
    ShopRef,
    Variant,
    content_hash,
    ensure_utc,
    from_minor_units,
    minor_units,
    slugify,
    to_jsonable,
)

PARIS_SUMMER = timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (D("19.90"), "EUR", 1990),
        (D("19.9"), "EUR", 1990),
        (D("0.01"), "eur", 1),
        (D("-5.25"), "EUR", -525),
        (D("1234567.89"), "EUR", 123456789),
        (D("100"), "EUR", 10000),
        (D("1500"), "JPY", 1500),
        (D("1500.0"), "JPY", 1500),
        (D("1.234"), "BHD", 1234),
    ],
)
def test_minor_units_exact(amount: D, currency: str, expected: int) -> None:
    assert minor_units(amount, currency) == expected
    assert from_minor_units(expected, currency) == amount


@pytest.mark.parametrize(
    ("amount", "currency"),
    [(D("19.999"), "EUR"), (D("0.001"), "EUR"), (D("1500.5"), "JPY"), (D("1.2345"), "BHD")],
)
def test_minor_units_refuses_to_round(amount: D, currency: str) -> None:
    with pytest.raises(ValueError, match=str(amount)):
        minor_units(amount, currency)


def test_content_hash_ignores_trailing_zeros_but_not_values() -> None:
    assert content_hash({"price": D("19.9")}) == content_hash({"price": D("19.90")})
    assert content_hash({"price": D("20")}) == content_hash({"price": D("20.00")})
    assert content_hash({"price": D("19.9")}) != content_hash({"price": D("19.91")})
    assert content_hash({"price": D("19.9")}) != content_hash({"price": "19.9 "})


def test_content_hash_of_records_is_stable_and_order_free() -> None:
    def variant(price: str) -> Variant:
        return Variant(
            key="1", sku="A", name="A", price=D(price), currency="EUR", options={"size": "M", "colour": "red"}
        )

    assert content_hash(variant("10.0")) == content_hash(variant("10.00"))
    assert content_hash(variant("10.00")) != content_hash(variant("10.01"))
    assert content_hash({"a": 1, "b": [1, 2]}) == content_hash({"b": (1, 2), "a": 1})
    assert len(content_hash({})) == 64


def test_ensure_utc() -> None:
    assert ensure_utc(datetime(2026, 7, 1, 12, 0, tzinfo=PARIS_SUMMER)) == datetime(
        2026, 7, 1, 10, 0, tzinfo=timezone.utc
    )
    assert ensure_utc(datetime(2026, 7, 1, 12, 0, tzinfo=PARIS_SUMMER)).utcoffset() == timedelta(0)
    with pytest.raises(ValueError, match="naive"):
        ensure_utc(datetime(2026, 7, 1, 12, 0))


def test_to_jsonable_of_dataclasses() -> None:
    article = Article(
        key="42",
        sku="TSH-M",
        name="Tee",
        price=D("19.90"),
        vat_rate=D("5.5"),
        attributes={"size": "M"},
        images=("a.jpg", "b.jpg"),
        updated_at=datetime(2026, 7, 1, 12, 0, tzinfo=PARIS_SUMMER),
        issues=[RecordError("42", "weight", "'x' is not a number", check="parse")],
    )
    data = to_jsonable(article)
    assert data["price"] == "19.90" and data["vat_rate"] == "5.5"
    assert data["images"] == ["a.jpg", "b.jpg"]
    assert data["updated_at"] == "2026-07-01T10:00:00+00:00"
    assert data["issues"] == [{"key": "42", "field": "weight", "reason": "'x' is not a number", "check": "parse"}]
    assert json.loads(json.dumps(data)) == data  # really JSON-safe

    product = Product(
        key="g:T",
        name="Tee",
        slug="tee",
        variants=[Variant(key="1", sku="A", name="A", price=D("1"), currency="EUR")],
        categories=[("Clothing", "Tees")],
    )
    assert to_jsonable(product)["categories"] == [["Clothing", "Tees"]]
    assert to_jsonable(product)["variants"][0]["price"] == "1"
    assert to_jsonable(ShopRef("7", {"1": "70"})) == {"product_id": "7", "variant_ids": {"1": "70"}}
    assert to_jsonable({1: date(2026, 1, 2)}) == {"1": "2026-01-02"}


def test_to_jsonable_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_jsonable({"at": datetime(2026, 1, 1)})


@pytest.mark.parametrize(
    ("text", "slug"),
    [("Tee-shirt Été", "tee-shirt-ete"), ("  Crème brûlée -- 250 g ", "creme-brulee-250-g"), ("€€", "")],
)
def test_slugify(text: str, slug: str) -> None:
    assert slugify(text) == slug


@pytest.mark.parametrize(
    ("amount", "rate", "included", "shop_includes", "places", "stored", "shown", "exact"),
    [
        ("16.66", "20", False, False, None, "16.66", "19.99", True),  # same basis: as it is
        ("19.99", "20", True, True, None, "19.99", "19.99", True),
        ("10.00", "20", False, True, None, "12.00", "12.00", True),  # tax added, half-up
        ("19.99", "20", True, False, None, "16.66", "19.99", True),  # 16.658 -> 16.66 -> 19.992 -> 19.99
        ("12.34", "20", True, False, None, "10.28", "12.34", True),
        ("0.99", "20", True, False, None, "0.83", "1.00", False),  # no net price in cents gives 0.99
        ("19.99", "20", True, False, 6, "16.658333", "19.99", True),  # PrestaShop keeps six decimals
        ("1099", "10", True, False, None, "999", "1099", True),  # JPY has no minor unit
    ],
)
def test_shop_price_converts_between_tax_bases(
    amount: str,
    rate: str,
    included: bool,
    shop_includes: bool,
    places: int | None,
    stored: str,
    shown: str,
    exact: bool,
) -> None:
    from connectors.models import shop_price

    currency = "JPY" if amount == "1099" else "EUR"
    price = shop_price(
        D(amount), D(rate), tax_included=included, shop_includes_tax=shop_includes, currency=currency, places=places
    )
    assert (price.amount, price.shown, price.exact) == (D(stored), D(shown), exact)
    if not exact:
        notice = price.notice("TSH-1", currency, D(rate))
        assert notice.key == "TSH-1" and notice.field == "price"
        assert "0.99" in notice.reason and "1.00" in notice.reason


def test_one_status_ranking_never_moves_an_order_back_or_past_its_end() -> None:
    from connectors.models import moves_forward

    assert moves_forward("open", "processing") and moves_forward("processing", "shipped")
    assert moves_forward("shipped", "delivered") and moves_forward(None, "shipped")
    assert not moves_forward("delivered", "shipped") and not moves_forward("shipped", "shipped")
    assert moves_forward("delivered", "refunded") and moves_forward("processing", "cancelled")
    assert not moves_forward("cancelled", "delivered") and not moves_forward("refunded", "cancelled")
