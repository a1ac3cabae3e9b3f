"""Odoo as a catalogue source: product.product variants of product.template.

product.product ``_inherits`` product.template (Odoo's ``product/models/product_product.py``), so
one search_read of product.product gives the template's fields too (name, description_sale,
categ_id, taxes_id, list_price, sale_ok, type). Per page of variants: one read of their attribute
values (product.template.attribute.value) and one of their templates' write dates; per run: the
category tree and the sale taxes. Archived variants are read too (``active_test: False``) and
become ``Article(active=False)``: the catalogue archives them in the shop.

The product domain, the pages and the taxes are shared with ``stock.py`` and ``prices.py``, so the
three see the same articles under the same keys (the product.product id).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from connectors.erp.odoo.client import OdooClient, m2o_id, m2o_name, parse_datetime
from connectors.erp.odoo.settings import OdooSettings
from connectors.errors import RecordError
from connectors.models import Article, slugify

__all__ = ["PRODUCT_DOMAIN", "OdooCatalogue", "Taxes", "product_pages", "read_categories", "read_taxes"]

# Salable goods; services (the carrier's shipping product) and combos (Odoo 18) are no articles.
# ``type`` exists in 16-18 (16/17: consu/service/product with ``detailed_type``; 18: consu/service/combo
# with ``is_storable``): the domain works on all three.
PRODUCT_DOMAIN: list[Any] = [("sale_ok", "=", True), ("type", "not in", ["service", "combo"])]
ALL_ACTIVE = {"active_test": False}

FIELDS = [
    "id",
    "default_code",
    "barcode",
    "name",
    "description_sale",
    "product_tmpl_id",
    "product_template_attribute_value_ids",
    "categ_id",
    "taxes_id",
    "list_price",
    "lst_price",
    "weight",
    "active",
    "write_date",
]


@dataclass(frozen=True, slots=True)
class Tax:
    """A sale tax as the catalogue needs it: rate in percent, and whether prices include it."""

    id: int
    name: str
    amount_type: str
    rate: Decimal
    price_include: bool
    company_id: int | None


@dataclass(frozen=True, slots=True)
class Taxes:
    """Sale taxes by id, read once per run (archived ones too: a product may still carry one)."""

    by_id: dict[int, Tax]
    company_id: int | None

    def of(self, key: str, tax_ids: Sequence[int]) -> tuple[Decimal | None, bool, list[RecordError]]:
        """(VAT rate, prices include it, issues) of a product's ``taxes_id``.

        ``price_include`` is explicit on every tax: Odoo stores a tax-included list price when its
        tax says so (16/17: a stored boolean; 18: computed from ``price_include_override`` and the
        company's default, still readable as ``price_include``).
        """
        taxes = [self.by_id[t] for t in tax_ids if t in self.by_id]
        if self.company_id is not None:
            taxes = [t for t in taxes if t.company_id in (None, self.company_id)]
        if not taxes:
            return None, False, []
        issues: list[RecordError] = []
        percent = [t for t in taxes if t.amount_type == "percent"]
        if len(percent) != len(taxes) or len(percent) > 1:
            issues.append(
                RecordError(
                    key,
                    "vat_rate",
                    "the product's sale taxes are not one percentage tax "
                    f"({', '.join(f'{t.name} ({t.amount_type})' for t in taxes)}): give it one VAT tax",
                )
            )
        if not percent:
            return None, False, issues
        return percent[0].rate.normalize(), percent[0].price_include, issues


def read_taxes(client: OdooClient, company_id: int | None) -> Taxes:
    rows = client.model("account.tax").search_read(
        [("type_tax_use", "=", "sale")],
        ["id", "name", "amount_type", "amount", "price_include", "company_id"],
        context=ALL_ACTIVE,
    )
    by_id = {
        r["id"]: Tax(
            r["id"],
            r.get("name") or str(r["id"]),
            r.get("amount_type") or "percent",
            Decimal(str(r.get("amount") or 0)),
            bool(r.get("price_include")),
            m2o_id(r.get("company_id")),
        )
        for r in rows
    }
    return Taxes(by_id, company_id)


def read_categories(client: OdooClient) -> tuple[dict[int, str], dict[int, int | None]]:
    """Category id -> "Parent/Child" path (names, not Odoo's " / " complete_name), and id -> parent."""
    rows = client.model("product.category").search_read([], ["id", "name", "parent_id"])
    by_id = {r["id"]: r for r in rows}
    parents = {r["id"]: m2o_id(r.get("parent_id")) for r in rows}

    def path(cid: int) -> str:
        names: list[str] = []
        current: int | None = cid
        seen: set[int] = set()
        while current is not None and current in by_id and current not in seen:
            seen.add(current)
            names.append(by_id[current]["name"])
            current = parents[current]
        return "/".join(reversed(names))

    return {cid: path(cid) for cid in by_id}, parents


def product_pages(
    client: OdooClient,
    fields: Sequence[str],
    *,
    page_size: int,
    archived: bool = False,
    domain: Sequence[Any] = (),
) -> Iterator[list[dict[str, Any]]]:
    """The catalogue's product.product rows (``PRODUCT_DOMAIN``), one list per call, by id."""
    page: list[dict[str, Any]] = []
    context = ALL_ACTIVE if archived else None
    for row in client.model("product.product").iter_search_read(
        [*PRODUCT_DOMAIN, *domain], list(fields), page_size=page_size, context=context
    ):
        page.append(row)
        if len(page) >= page_size:
            yield page
            page = []
    if page:
        yield page


class OdooCatalogue:
    """CatalogueSource over Odoo's external API."""

    platform = "Odoo"

    def __init__(self, client: OdooClient, settings: OdooSettings) -> None:
        self.client = client
        self.settings = settings

    @property
    def stats(self) -> Any:
        return self.client.stats

    def close(self) -> None:
        self.client.close()

    def _template_fields(self) -> list[str]:
        extra = [self.settings.brand_field] if self.settings.brand_field else []
        return sorted(set(extra) | set(self.settings.feature_fields.values()))

    def iter_articles(self) -> Iterator[Article]:
        paths, _ = read_categories(self.client)
        taxes = read_taxes(self.client, self.settings.company_id)
        extra = self._template_fields()
        for page in product_pages(self.client, FIELDS + extra, page_size=self.settings.page_size, archived=True):
            yield from self._articles(page, paths, taxes)

    def _articles(self, rows: list[dict[str, Any]], paths: Mapping[int, str], taxes: Taxes) -> Iterator[Article]:
        values = self._attribute_values(rows)
        templates = {
            t["id"]: t
            for t in self.client.model("product.template").read(
                sorted({m2o_id(r["product_tmpl_id"]) or 0 for r in rows}), ["id", "write_date"], context=ALL_ACTIVE
            )
        }
        for row in rows:
            key = str(row["id"])
            template_id = m2o_id(row.get("product_tmpl_id"))
            vat, included, issues = taxes.of(key, row.get("taxes_id") or [])
            attributes: dict[str, str] = {}
            labels: dict[str, str] = {}
            for value_id in row.get("product_template_attribute_value_ids") or []:
                if value_id in values:
                    attribute, value = values[value_id]
                    attributes[slugify(attribute) or attribute] = value
                    labels[slugify(attribute) or attribute] = attribute
            fields = {}
            category = m2o_id(row.get("categ_id"))
            if category is not None and category in paths:
                fields["categories"] = paths[category]
            if self.settings.brand_field:
                brand = _text(row.get(self.settings.brand_field))
                if brand:
                    fields["brand"] = brand
            for name, field_name in self.settings.feature_fields.items():
                text = _text(row.get(field_name))
                if text:
                    fields[name] = text
            written = [
                d
                for d in (
                    parse_datetime(row.get("write_date")),
                    parse_datetime((templates.get(template_id or 0) or {}).get("write_date")),
                )
                if d is not None
            ]
            # lst_price = the template's list_price + the variant's price_extra (its attribute values').
            price = row.get("lst_price")
            yield Article(
                key=key,
                sku=row.get("default_code") or None,
                name=row.get("name") or None,
                description=row.get("description_sale") or None,
                ean=row.get("barcode") or None,
                price=Decimal(str(price)) if price is not None and price is not False else None,
                currency=self.settings.currency,
                vat_rate=vat,
                weight=Decimal(str(row["weight"])).normalize() if row.get("weight") else None,
                group_key=str(template_id) if self.settings.group_by_template and template_id else None,
                group_name=m2o_name(row.get("product_tmpl_id")) or row.get("name"),
                attributes=attributes,
                attribute_labels=labels,
                tax_included=included,
                fields=fields,
                active=bool(row.get("active", True)),
                updated_at=max(written) if written else None,
                issues=issues,
            )

    def _attribute_values(self, rows: list[dict[str, Any]]) -> dict[int, tuple[str, str]]:
        """product.template.attribute.value id -> (attribute name, value name), one read per page."""
        ids = sorted({v for r in rows for v in r.get("product_template_attribute_value_ids") or []})
        found: dict[int, tuple[str, str]] = {}
        for value in self.client.model("product.template.attribute.value").read(
            ids, ["id", "attribute_id", "product_attribute_value_id"], context=ALL_ACTIVE
        ):
            attribute = m2o_name(value.get("attribute_id"))
            name = m2o_name(value.get("product_attribute_value_id"))
            if attribute and name:
                found[value["id"]] = (attribute, name)
        return found


def _text(value: Any) -> str | None:
    """A field as text: a many2one's name, many2many ids joined (names need a read), a char as is."""
    if value in (None, False, ""):
        return None
    if isinstance(value, list) and len(value) == 2 and isinstance(value[1], str):
        return value[1]
    if isinstance(value, list):
        return "|".join(str(v) for v in value) or None
    return str(value)
