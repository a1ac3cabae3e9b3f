"""The models the Odoo fake knows: captured field lists plus the fields transcribed from Odoo's source.

Sources (copies in ``tests/fixtures/contracts/odoo``, provenance in its PROVENANCE.md):

- ``fields/*.odoosharp.json``: fields_get metadata of an Odoo 18 (SaaS) server emitted by the
  odoo-sharp generator (types, relations, required, readonly, store, selections);
- ``fields/stock.quant.from_source.json``: stock.quant from ``addons/stock/models/stock_quant.py``;
- ``extra_fields.json``: stock.warehouse, stock.location, res.company, res.currency, uom.uom from
  their Odoo source files.

Odoo 16 and 17 differ from the captured 18 by the renames in :data:`VERSION_CHANGES` (from Odoo's
16.0/17.0 source: ``sale/models/sale_order_line.py`` ``tax_id`` / ``product_uom``,
``product/models/product_template.py`` ``detailed_type`` and ``type`` with ``product``,
``account/models/account_tax.py`` a stored ``price_include`` without ``price_include_override``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["CONTRACT", "DEFAULTS", "Field", "ModelSchema", "load_schema"]

CONTRACT = Path(__file__).resolve().parents[4] / "tests" / "fixtures" / "contracts" / "odoo"


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: str
    relation: str | None = None
    required: bool = False
    readonly: bool = False
    store: bool = True
    selection: tuple[str, ...] = ()
    string: str = ""


@dataclass(slots=True)
class ModelSchema:
    name: str
    fields: dict[str, Field]
    source: str
    inherits: str | None = None
    """The model this one ``_inherits`` (product.product -> product.template), by its many2one."""
    parent: str | None = None
    """The many2one of ``_parent_name`` (``child_of`` / ``parent_of``)."""
    computed: set[str] = field(default_factory=set)


def _field(row: dict[str, Any]) -> Field:
    return Field(
        name=row["name"],
        type=row["type"],
        relation=row.get("relation"),
        required=bool(row.get("required")),
        readonly=bool(row.get("readonly")),
        store=row.get("store", True) is not False,
        selection=tuple(s[0] for s in row.get("selection") or () if isinstance(s, list)),
        string=row.get("string") or row["name"],
    )


# Default values Odoo gives the required fields a create may leave out (each from the field's
# ``default=`` or compute in the model's source file); a required field without one must be sent.
DEFAULTS: dict[str, dict[str, Any]] = {
    "account.tax": {
        "type_tax_use": "sale",
        "amount_type": "percent",
        "company_id": 1,
        "sequence": 1,
        "amount": 0.0,
        "tax_group_id": 1,
        "country_id": 1,
    },
    "product.attribute": {"create_variant": "always", "display_type": "radio"},
    "product.pricelist.item": {
        "applied_on": "3_global",
        "display_applied_on": "1_product",
        "base": "list_price",
        "compute_price": "fixed",
        "min_quantity": 0.0,
    },
    "product.pricelist": {"currency_id": 1, "active": True},
    "product.product": {"base_unit_count": 0.0, "active": True},
    "product.template": {
        "type": "consu",
        "service_tracking": "no",
        "uom_id": 1,
        "product_variant_ids": [],
        "purchase_line_warn": "no-message",
        "sale_line_warn": "no-message",
        "publish_date": "2026-01-01 00:00:00",
        "base_unit_count": 0.0,
        "sale_ok": True,
        "active": True,
        "list_price": 1.0,
    },
    "res.partner": {"autopost_bills": "ask", "active": True, "type": "contact"},
    "sale.order": {"name": "New", "company_id": 1, "date_order": "2026-01-01 00:00:00", "state": "draft"},
    "sale.order.line": {"product_uom_qty": 1.0, "customer_lead": 0.0, "discount": 0.0},
    "stock.quant": {"reserved_quantity": 0.0, "in_date": "2026-01-01 00:00:00"},
    "stock.location": {"usage": "internal", "active": True},
    "stock.warehouse": {"active": True},
    "account.move": {
        "journal_id": 1,
        "state": "draft",
        "move_type": "entry",
        "auto_post": "no",
        "currency_id": 1,
        "date": "2026-01-01",
    },
    "sale.advance.payment.inv": {
        "advance_payment_method": "delivered",
        "deduct_down_payments": True,
        "consolidated_billing": True,
    },
    "account.payment.register": {"payment_date": "2026-06-01"},
    "account.move.line": {"currency_id": 1, "display_type": "product"},
    "account.payment": {"state": "draft"},
    "stock.picking": {"state": "draft", "picking_type_code": "outgoing"},
    "delivery.carrier": {"delivery_type": "fixed", "invoice_policy": "estimated", "active": True},
}

VERSION_CHANGES: dict[int, dict[str, dict[str, str | None]]] = {
    # model -> {captured (18) field name: name in that version, None: absent}
    16: {
        "sale.order.line": {"tax_ids": "tax_id", "product_uom_id": "product_uom"},
        "account.tax": {"price_include_override": None},
        "account.move": {"invoice_pdf_report_id": None},
        "account.payment": {"memo": "ref"},
    },
    17: {
        "sale.order.line": {"tax_ids": "tax_id", "product_uom_id": "product_uom"},
        "account.tax": {"price_include_override": None},
        "account.payment": {"memo": "ref"},
    },
}


def load_schema(version: int = 18) -> dict[str, ModelSchema]:
    models: dict[str, ModelSchema] = {}
    for path in sorted((CONTRACT / "fields").glob("*.json")):
        data = json.loads(path.read_text())
        models[data["model"]] = ModelSchema(
            data["model"], {r["name"]: _field(r) for r in data["fields"]}, f"fields/{path.name}"
        )
    extra = json.loads((CONTRACT / "extra_fields.json").read_text())["models"]
    for name, spec in extra.items():
        models[name] = ModelSchema(name, {r["name"]: _field(r) for r in spec["fields"]}, "extra_fields.json")
    for name, renames in VERSION_CHANGES.get(version, {}).items():
        schema = models[name]
        for old, new in renames.items():
            spec = schema.fields.pop(old)
            if new is not None:
                schema.fields[new] = Field(
                    new, spec.type, spec.relation, spec.required, spec.readonly, spec.store, spec.selection, spec.string
                )
    if version < 18:
        for name in ("product.template", "product.product"):
            spec = models[name].fields["type"]
            models[name].fields["type"] = Field(
                "type", "selection", None, True, False, spec.store, ("consu", "service", "product"), "Type"
            )
            models[name].fields["detailed_type"] = Field(
                "detailed_type",
                "selection",
                None,
                True,
                False,
                name == "product.template",
                ("consu", "service", "product"),
                "Product Type",
            )
        tax = models["account.tax"].fields["price_include"]
        models["account.tax"].fields["price_include"] = Field("price_include", "boolean", store=True, string=tax.string)
    # sale_stock adds picking_ids to sale.order (addons/sale_stock/models/sale_order.py)
    models["sale.order"].fields["picking_ids"] = Field(
        "picking_ids", "one2many", "stock.picking", readonly=True, store=False
    )
    # Every model has the magic fields (odoo/models.py: id, display_name, LOG_ACCESS_COLUMNS).
    for schema in models.values():
        for name, kind in (
            ("id", "integer"),
            ("display_name", "char"),
            ("create_date", "datetime"),
            ("write_date", "datetime"),
        ):
            schema.fields.setdefault(name, Field(name, kind, readonly=True, store=name != "display_name"))
    # Odoo's source: product.product _inherits product.template (product/models/product_product.py);
    # _parent_name of locations (location_id), categories and partners (parent_id).
    models["product.product"].inherits = "product.template"
    models["stock.location"].parent = "location_id"
    models["product.category"].parent = "parent_id"
    models["res.partner"].parent = "parent_id"
    return models
