"""Odoo catalogue, stock and price sources against the fake (deployments/sandbox/fakes/odoo)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from connectors import registry
from connectors.base import CatalogueSource, PriceSource, StockSource
from connectors.erp.odoo.factory import build
from connectors.errors import Fatal
from deployments.sandbox.fakes.odoo import OdooFake, seed_catalogue
from deployments.sandbox.fakes.odoo.catalog import connector_options, resolver


@pytest.fixture(params=[16, 17, 18])
def fake(request: pytest.FixtureRequest) -> OdooFake:
    fake = OdooFake(version=request.param)
    fake.ids = seed_catalogue(fake)  # type: ignore[attr-defined]
    return fake


def connect(fake: OdooFake, **options):
    return build(
        connector_options(fake, **options), resolver(fake), connection="web", transport=fake.transport, max_retries=0
    )


def test_registry_builds_the_connector(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.ERP_CONNECTORS, "odoo", "connectors.erp.odoo.factory:build")
    fake = OdooFake()
    connector = registry.build("erp", "odoo", connector_options(fake), resolver(fake), connection="web")
    assert isinstance(connector, CatalogueSource)
    assert isinstance(connector, StockSource)
    assert isinstance(connector, PriceSource)


def test_articles_variants_attributes_taxes_and_archived(fake: OdooFake) -> None:
    articles = {a.sku: a for a in connect(fake).iter_articles()}
    assert set(articles) == {"TEE-RED-S", "TEE-BLUE-M", "TEE-RED-M", "MUG"}  # no service
    red, blue = articles["TEE-RED-S"], articles["TEE-BLUE-M"]
    assert red.group_key == blue.group_key == str(fake.ids["tee"])  # type: ignore[attr-defined]
    assert red.attributes == {"colour": "Red", "size": "S"}
    assert red.attribute_labels == {"colour": "Colour", "size": "Size"}
    assert (red.ean, red.name, red.description) == ("4006381333931", "Tee", "A cotton tee")
    assert red.price == Decimal(20) and blue.price == Decimal(22)  # list_price + price_extra
    assert red.vat_rate == Decimal(20) and red.tax_included is False
    assert red.weight == Decimal("0.2")
    assert red.fields["categories"] == "All/Clothing/T-shirts"
    assert articles["MUG"].tax_included is True  # price_include explicit on its tax
    assert articles["TEE-RED-M"].active is False  # archived variant: archived in the shop
    assert red.updated_at == datetime(2026, 6, 1, 12, tzinfo=timezone.utc)


def test_brand_and_features_from_named_fields(fake: OdooFake) -> None:
    fake.schema["product.template"].fields["x_brand"] = (
        fake.schema["product.template"].fields["default_code"].__class__("x_brand", "char")
    )
    fake.write("product.template", [fake.ids["tee"]], {"x_brand": "Acme"}, admin=True)  # type: ignore[attr-defined]
    connector = connect(fake, brand_field="x_brand", feature_fields={"material": "description_sale"})
    red = next(a for a in connector.iter_articles() if a.sku == "TEE-RED-S")
    assert red.fields["brand"] == "Acme"
    assert red.fields["material"] == "A cotton tee"


def test_two_percentage_taxes_are_the_records_issue(fake: OdooFake) -> None:
    ids = fake.ids  # type: ignore[attr-defined]
    fake.write("product.template", [ids["mug_tmpl"]], {"taxes_id": [ids["vat20"], ids["vat55"]]}, admin=True)
    mug = next(a for a in connect(fake).iter_articles() if a.sku == "MUG")
    assert [i.field for i in mug.issues] == ["vat_rate"]


def test_stock_per_warehouse_with_child_locations_and_reservations(fake: OdooFake) -> None:
    connector = connect(fake)
    assert connector.warehouses() == ["WH", "WH2"]
    levels = {(s.sku, s.warehouse): s for s in connector.iter_stock(["WH", "WH2"])}
    red = levels[("TEE-RED-S", "WH")]
    assert (red.on_hand, red.reserved) == (Decimal(15), Decimal(3))  # Stock + Shelf 1 under it
    assert levels[("TEE-RED-S", "WH2")].on_hand == Decimal(2)
    assert levels[("TEE-BLUE-M", "WH")].on_hand == Decimal("4.5")
    assert levels[("MUG", "WH")].on_hand == Decimal(0)  # no quant: nothing there
    assert ("TEE-RED-M", "WH") not in levels  # archived
    with pytest.raises(Fatal, match="'XX' not found"):
        list(connector.iter_stock(["XX"]))


def test_stock_reads_in_pages_not_per_product(fake: OdooFake) -> None:
    list(connect(fake).iter_stock(["WH", "WH2"]))
    assert fake.requests.count(("stock.quant", "search_read")) == 2  # one per warehouse for the 3 products
