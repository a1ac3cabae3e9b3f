"""A small Odoo catalogue for tests and demos, built as Odoo structures it.

A configurable template has attribute lines whose values become product.template.attribute.value
records (with ``price_extra``), one product.product per combination
(``product/models/product_template.py`` ``_create_variant_ids``); warehouses have a view location
and a stock location (``lot_stock_id``) under it (``stock/models/stock_warehouse.py``).
"""

from __future__ import annotations

from typing import Any

from deployments.sandbox.fakes.odoo.server import OdooFake

__all__ = ["add_template", "add_warehouse", "connector_options", "resolver", "seed_catalogue", "ship", "store_pdf"]


def add_template(
    fake: OdooFake,
    name: str,
    variants: list[dict[str, Any]],
    *,
    attributes: dict[str, dict[str, float]] | None = None,
    **template: Any,
) -> tuple[int, list[int]]:
    """A template with ``attributes`` (name -> value -> price_extra) and one product.product per entry
    of ``variants`` (``values``: attribute name -> value, plus product.product fields)."""
    tmpl = fake.seed("product.template", name=name, **template)
    ptav: dict[tuple[str, str], int] = {}
    for line_id, (attribute, values) in enumerate((attributes or {}).items(), start=1):
        found = fake.search("product.attribute", [["name", "=", attribute]])
        attribute_id = found[0] if found else fake.seed("product.attribute", name=attribute)
        for value, extra in values.items():
            pav = fake.search("product.attribute.value", [["name", "=", value], ["attribute_id", "=", attribute_id]])
            pav_id = pav[0] if pav else fake.seed("product.attribute.value", name=value, attribute_id=attribute_id)
            # attribute_line_id points at product.template.attribute.line, a model the fake does not hold
            ptav[(attribute, value)] = fake.seed(
                "product.template.attribute.value",
                product_attribute_value_id=pav_id,
                attribute_line_id=tmpl * 100 + line_id,
                product_tmpl_id=tmpl,
                price_extra=extra,
                ptav_active=True,
            )
    ids = []
    for variant in variants:
        values = dict(variant)
        combination = values.pop("values", {})
        ids.append(
            fake.seed(
                "product.product",
                product_tmpl_id=tmpl,
                product_template_attribute_value_ids=[ptav[(a, v)] for a, v in combination.items()],
                **values,
            )
        )
    return tmpl, ids


def add_warehouse(fake: OdooFake, code: str, name: str) -> tuple[int, int]:
    """(warehouse id, stock location id)."""
    view = fake.seed("stock.location", name=code, usage="view")
    stock = fake.seed("stock.location", name="Stock", usage="internal", location_id=view)
    warehouse = fake.seed(
        "stock.warehouse", name=name, code=code, lot_stock_id=stock, view_location_id=view, company_id=1
    )
    return warehouse, stock


def seed_catalogue(fake: OdooFake) -> dict[str, int]:
    """Categories, taxes (one tax-included), a configurable T-shirt, a mug, a service, an archived
    variant, two warehouses with quants, and two pricelists. Returns the ids tests refer to."""
    ids: dict[str, int] = {}
    ids["all"] = fake.seed("product.category", name="All")
    ids["clothing"] = fake.seed("product.category", name="Clothing", parent_id=ids["all"])
    ids["tshirts"] = fake.seed("product.category", name="T-shirts", parent_id=ids["clothing"])
    ids["home"] = fake.seed("product.category", name="Home", parent_id=ids["all"])
    tax_fields = {"type_tax_use": "sale", "amount_type": "percent", "company_id": 1}
    included = {"price_include_override": "tax_included"} if fake.version >= 18 else {"price_include": True}
    ids["vat20"] = fake.seed("account.tax", name="20%", amount=20.0, **tax_fields)
    ids["vat20_inc"] = fake.seed("account.tax", name="20% TTC", amount=20.0, **tax_fields, **included)
    ids["vat55"] = fake.seed("account.tax", name="5.5%", amount=5.5, **tax_fields)
    tmpl, (red_s, blue_m, red_m) = add_template(
        fake,
        "Tee",
        [
            {
                "default_code": "TEE-RED-S",
                "barcode": "4006381333931",
                "weight": 0.2,
                "values": {"Colour": "Red", "Size": "S"},
            },
            {"default_code": "TEE-BLUE-M", "weight": 0.25, "values": {"Colour": "Blue", "Size": "M"}},
            {"default_code": "TEE-RED-M", "active": False, "values": {"Colour": "Red", "Size": "M"}},
        ],
        attributes={"Colour": {"Red": 0.0, "Blue": 2.0}, "Size": {"S": 0.0, "M": 0.0}},
        list_price=20.0,
        categ_id=ids["tshirts"],
        taxes_id=[ids["vat20"]],
        description_sale="A cotton tee",
    )
    ids.update(tee=tmpl, red_s=red_s, blue_m=blue_m, red_m=red_m)
    ids["mug_tmpl"], (ids["mug"],) = add_template(
        fake,
        "Mug",
        [{"default_code": "MUG", "barcode": "5901234123457"}],
        list_price=12.0,
        categ_id=ids["home"],
        taxes_id=[ids["vat20_inc"]],
    )
    ids["ship_tmpl"], (ids["ship"],) = add_template(
        fake, "Shipping", [{"default_code": "SHIP-WEB"}], type="service", list_price=5.0, taxes_id=[ids["vat20"]]
    )
    ids["wh"], ids["wh_stock"] = add_warehouse(fake, "WH", "Main warehouse")
    ids["shelf"] = fake.seed("stock.location", name="Shelf 1", usage="internal", location_id=ids["wh_stock"])
    ids["wh2"], ids["wh2_stock"] = add_warehouse(fake, "WH2", "Shop")
    ids["customers"] = fake.seed("stock.location", name="Customers", usage="customer")
    fake.seed("stock.quant", product_id=red_s, location_id=ids["wh_stock"], quantity=10.0, reserved_quantity=3.0)
    fake.seed("stock.quant", product_id=red_s, location_id=ids["shelf"], quantity=5.0)
    fake.seed("stock.quant", product_id=red_s, location_id=ids["wh2_stock"], quantity=2.0)
    fake.seed("stock.quant", product_id=blue_m, location_id=ids["wh_stock"], quantity=4.5, reserved_quantity=0.5)
    fake.seed("stock.quant", product_id=red_s, location_id=ids["customers"], quantity=-7.0)
    ids["public"] = fake.seed("product.pricelist", name="Public", currency_id=1)
    ids["pro"] = fake.seed("product.pricelist", name="Pro", currency_id=1)
    # what the order sink needs: service products for discounts and adjustments, a carrier, countries
    service = {"type": "service", "sale_ok": False, "list_price": 0.0}
    _, (ids["discount"],) = add_template(
        fake, "Web discount", [{"default_code": "WEB-DISCOUNT"}], taxes_id=[ids["vat20"]], **service
    )
    _, (ids["adjust"],) = add_template(fake, "Rounding", [{"default_code": "WEB-ADJUST"}], **service)
    ids["carrier"] = fake.seed("delivery.carrier", name="Colissimo", product_id=ids["ship"])
    ids["fr"] = fake.seed("res.country", name="France", code="FR")
    ids["de"] = fake.seed("res.country", name="Germany", code="DE")
    return ids


class _Secrets:
    """A Resolver for the fake's API key (the configuration layer's role in production)."""

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key

    def secret(self, option: str) -> str | None:
        return self.api_key if option == "api_key" else None

    def path(self, value: str) -> str:
        return value


def connector_options(fake: OdooFake, **options: Any) -> dict[str, Any]:
    """Options of an Odoo connection to ``fake``."""
    return {
        "url": "https://odoo.test",
        "database": fake.database,
        "login": fake.login,
        "api_key": "env:ODOO_API_KEY",
        **options,
    }


def resolver(fake: OdooFake) -> _Secrets:
    return _Secrets(fake.api_key)


def ship(fake: OdooFake, order_id: int, tracking: str | None, *, state: str = "done") -> int:
    """A delivery picking of the order, as the warehouse validates it (``button_validate``)."""
    order = fake.tables["sale.order"][order_id]
    values: dict[str, Any] = {
        "name": f"WH/OUT/{len(fake.tables['stock.picking']) + 1:05d}",
        "sale_id": order_id,
        "state": state,
    }
    if state == "done":
        values["date_done"] = fake.clock().strftime("%Y-%m-%d %H:%M:%S")
    if tracking:
        values.update(carrier_tracking_ref=tracking, carrier_id=order.get("carrier_id") or False)
    return fake.seed("stock.picking", **values)


def store_pdf(fake: OdooFake, move_id: int, content: bytes = b"%PDF-1.4 fake invoice") -> int:
    """The PDF Odoo keeps after the first print (17+: invoice_pdf_report_id; 16: message_main_attachment_id)."""
    import base64

    attachment = fake.seed(
        "ir.attachment",
        name="invoice.pdf",
        mimetype="application/pdf",
        datas=base64.b64encode(content).decode(),
        res_model="account.move",
        res_id=move_id,
    )
    field = (
        "invoice_pdf_report_id"
        if "invoice_pdf_report_id" in fake.schema["account.move"].fields and fake.version >= 17
        else "message_main_attachment_id"
    )
    fake.tables["account.move"][move_id][field] = attachment
    return attachment
