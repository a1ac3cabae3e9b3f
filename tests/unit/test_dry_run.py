"""The dry run's per-field diff (tasks/dry_run.py): pure, no shop."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from connectors.base import PriceWrite, ShopProductValues, ShopVariantValues
from connectors.models import Customer, Discount, Order, OrderLine, Payment, Product, Variant
from tasks.diff import Ownership
from tasks.dry_run import FieldChange, change_line, change_lines, changes_markdown, order_changes, product_changes
from tasks.prices import price_changes
from tasks.stock import StockPlan, StockTarget, stock_changes


def polo() -> Product:
    return Product(
        key="g:POLO",
        name="Polo piqué",
        slug="polo-pique",
        description="Coton",
        categories=[("Vêtements",), ("Vêtements", "Polos")],
        option_groups=["size"],
        option_labels={"size": "Taille"},
        variants=[
            Variant(
                key="POLO-M",
                sku="POLO-M",
                name="Polo M",
                price=Decimal("39.00"),
                currency="EUR",
                options={"size": "M"},
                vat_rate=Decimal(20),
                tax_category="Standard Tax",
            ),
            Variant(
                key="POLO-L",
                sku="POLO-L",
                name="Polo L",
                price=Decimal("39.00"),
                currency="EUR",
                options={"size": "L"},
                vat_rate=Decimal(20),
                tax_category="Standard Tax",
            ),
        ],
    )


def held(**changes: object) -> ShopProductValues:
    base: dict[str, object] = {
        "product_id": "12",
        "name": "Polo piqué",
        "slug": "polo-pique",
        "description": "Coton",
        "enabled": True,
        "categories": (("Vêtements", "Polos"),),
        "variants": (
            ShopVariantValues(
                "101", "POLO-M", "Polo M", Decimal("39.00"), "EUR", False, True, "Standard Tax", {"Taille": "M"}
            ),
            ShopVariantValues(
                "102", "POLO-L", "Polo L", Decimal("39.00"), "EUR", False, True, "Standard Tax", {"Taille": "L"}
            ),
        ),
    }
    base.update(changes)
    return ShopProductValues(**base)  # type: ignore[arg-type]


def test_not_in_the_shop_is_one_creation() -> None:
    changes = product_changes(polo(), None, ownership=Ownership())
    assert changes == [FieldChange("product g:POLO (SKU POLO-M)", "", None, None, "create", "2 variants")]
    assert change_line(changes[0]) == "would create product g:POLO (SKU POLO-M, 2 variants)"


def test_same_values_no_change_and_create_only_fields_never_compared() -> None:
    assert product_changes(polo(), held(), ownership=Ownership()) == []
    # The shop's slug and description were edited by hand: create-only, so no diff.
    assert product_changes(polo(), held(slug="polo-2", description="Bio"), ownership=Ownership()) == []


def test_owned_fields_are_diffed_old_to_new() -> None:
    shop = held(name="Polo", enabled=False)
    lines = [change_line(c) for c in product_changes(polo(), shop, ownership=Ownership())]
    assert lines == [
        'would update product g:POLO (SKU POLO-M): name "Polo" -> "Polo piqué"',
        "would update product g:POLO (SKU POLO-M): enabled no -> yes",
    ]


def test_variant_price_in_the_shops_basis_and_missing_variant() -> None:
    variants = (
        ShopVariantValues(
            "101", "POLO-M", "Polo M", Decimal("45.00"), "EUR", True, True, "Standard Tax", {"Taille": "M"}
        ),
    )
    changes = product_changes(polo(), held(variants=variants), ownership=Ownership())
    assert [(c.record, c.field, c.old, c.new, c.action) for c in changes] == [
        ("variant POLO-M", "price", "45.00 EUR tax incl.", "46.80 EUR tax incl.", "update"),
        ("variant POLO-L", "", None, None, "create"),
    ]


def test_price_owned_by_the_price_flow_is_not_in_the_catalogue_diff() -> None:
    ownership = Ownership(frozenset({"slug", "description", "images", "variant.price", "variant.currency"}))
    variants = (
        ShopVariantValues(
            "101", "POLO-M", "Polo M", Decimal("29.00"), "EUR", False, True, "Standard Tax", {"Taille": "M"}
        ),
        ShopVariantValues(
            "102", "POLO-L", "Polo L", Decimal("39.00"), "EUR", False, True, "Standard Tax", {"Taille": "L"}
        ),
    )
    assert product_changes(polo(), held(variants=variants), ownership=ownership) == []


def test_variants_matched_by_bound_id_before_sku() -> None:
    variants = (
        ShopVariantValues(
            "101", "OLD-SKU", "Polo M", Decimal("39.00"), "EUR", False, True, "Standard Tax", {"Taille": "M"}
        ),
        ShopVariantValues(
            "102", "POLO-L", "Polo L", Decimal("39.00"), "EUR", False, True, "Standard Tax", {"Taille": "L"}
        ),
    )
    changes = product_changes(polo(), held(variants=variants), ownership=Ownership(), variant_ids={"POLO-M": "101"})
    assert [change_line(c) for c in changes] == ['would update variant POLO-M: sku "OLD-SKU" -> "POLO-M"']


def test_lines_are_capped_and_markdown_has_a_row_per_change() -> None:
    changes = [FieldChange(f"product {i}", "name", '"a"', '"b"') for i in range(60)]
    lines = change_lines(changes, limit=50)
    assert len(lines) == 51 and lines[-1] == "... 10 more"
    md = changes_markdown([c.as_dict() for c in changes], limit=5)
    assert "## What would change (60)" in md[1] and md[-1] == "... 55 more"


def test_stock_and_price_changes() -> None:
    from connectors.base import StockWrite

    target = StockTarget("MUG", "MUG", None, Decimal(5), on_hand=Decimal(5), reserved=Decimal(0), safety=0)
    plan = StockPlan(writes=[StockWrite("MUG", "7", 5)], targets={"MUG": target})
    assert [change_line(c) for c in stock_changes(plan, {("7", None): 3})] == [
        "would update stock MUG: quantity 3 -> 5"
    ]
    writes = [PriceWrite("MUG", "7", Decimal("13.50"), "EUR", vat_rate=Decimal(20), regular_price=Decimal("13.50"))]
    shop = {"7": ShopVariantValues("7", "MUG", price=Decimal("14.40"), currency="EUR", price_includes_tax=True)}
    assert [change_line(c) for c in price_changes(writes, shop, includes_tax=True)] == [
        "would update price MUG: price 14.40 EUR tax incl. -> 16.20 EUR tax incl."
    ]
    unread = price_changes(writes, None, includes_tax=False)
    assert change_line(unread[0]) == "would update price MUG: price (not read) -> 13.50 EUR tax excl."


def test_order_lists_what_the_erp_would_receive_without_personal_values() -> None:
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    order = Order(
        shop_id="42",
        reference="AB12",
        state="PaymentSettled",
        created_at=now,
        updated_at=now,
        currency="EUR",
        customer=Customer(email="jeanne@example.org", shop_id="7", first_name="Jeanne"),
        billing=None,
        shipping=None,
        lines=[
            OrderLine("l1", "MUG", "Mug", Decimal(2), Decimal("10.00"), Decimal(20), Decimal("20.00"), Decimal("24.00"))
        ],
        total=Decimal("25.00"),
        total_tax_included=Decimal("30.00"),
        shipping_method="Colissimo",
        shipping_price=Decimal("5.00"),
        shipping_price_tax_included=Decimal("6.00"),
        discounts=[Discount("Bienvenue", Decimal("0"), Decimal("0"), code="HELLO")],
        payments=[Payment("card", Decimal("30.00"), "settled")],
    )
    lines = [change_line(c) for c in order_changes(order, {"l1": "a:MUG"})]
    assert lines[0] == "would send order AB12 (shop 42): customer shop customer 7"
    assert lines[1] == (
        "would send order AB12 (shop 42): line MUG x 2 x 10.00 EUR tax excl., VAT 20 % = 20.00 EUR tax excl. / "
        "24.00 EUR tax incl. (ERP article a:MUG)"
    )
    assert any("shipping Colissimo: 5.00 EUR tax excl. / 6.00 EUR tax incl." in line for line in lines)
    assert any('discount "Bienvenue" (HELLO)' in line for line in lines)
    assert lines[-2].endswith("total 25.00 EUR tax excl. / 30.00 EUR tax incl.")
    assert lines[-1].endswith("deposit 30.00 EUR tax incl. by card")
    assert not any("jeanne" in line.lower() for line in lines)
