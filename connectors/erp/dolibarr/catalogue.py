"""Dolibarr as a catalogue source: ``GET /products`` pages (ref, barcode, label, description,
weight, ``tva_tx``, ``tosell`` as ``status``, extrafields in ``array_options``) and product
categories (``GET /categories?type=product`` + ``/categories/{id}/objects``), read once per run.

Variants (module Variants, PRODUIT_ATTRIBUTES): a parent product and child products, one per
combination (``llx_product_attribute_combination``). The parents are listed once
(``GET /products?variant_filter=2&properties=id``, api_products.class.php ``index()``), then one
``GET /products/{id}/variants`` per parent (``getVariants()``: ``fk_product_parent``,
``fk_product_child``, ``variation_*`` and ``attributes`` holding only ids, ``fk_prod_attr`` /
``fk_prod_attr_val``: ProductCombination2ValuePair ``fetchByFkCombination``), and the names once:
``GET /products/attributes`` and one ``GET /products/attributes/{id}/values`` per attribute used.
Each child is an article of its parent's group (its own ref, barcode, price, weight); the parent is
the group, not an article. No payload captured (docs/dolibarr.md "Not observed").
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.erp.dolibarr.client import DolibarrClient
from connectors.erp.dolibarr.settings import DolibarrSettings
from connectors.errors import RecordError
from connectors.models import Article, slugify

__all__ = ["DolibarrCatalogue", "decimal", "product_rows", "timestamp"]

# Dolibarr weight_units: the power of ten of the kilogram (product.class.php, c_units "weight":
# 0 = kg, -3 = g, 3 = t); 99 is the pound and 98 the ounce.
_WEIGHT_UNITS = {0: Decimal(1), -3: Decimal("0.001"), -6: Decimal("0.000001"), 3: Decimal(1000),
                 99: Decimal("0.45359237"), 98: Decimal("0.028349523125")}  # fmt: skip


def decimal(value: Any) -> Decimal | None:
    """Dolibarr's decimal strings ("20.00000000") as Decimal; None/"" stays None."""
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value)).normalize()
    except InvalidOperation:
        return None


def timestamp(value: Any) -> datetime | None:
    """Dolibarr dates: Unix seconds (most objects) or "YYYY-MM-DD HH:MM:SS" (products, server time)."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float) or str(value).isdigit():
        return datetime.fromtimestamp(int(value), tz=timezone.utc)
    try:  # products.json: date_modification "2026-11-22 21:46:10" (the server's time zone; read as UTC)
        return datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def product_rows(client: DolibarrClient, settings: DolibarrSettings, **params: Any) -> Iterator[dict[str, Any]]:
    """Every product row of the catalogue (physical products with ``only_products``)."""
    query = {"mode": 1 if settings.only_products else 0, **params}
    yield from client.iter_list("products", query, page_size=settings.page_size)


class DolibarrCatalogue:
    """``CatalogueSource`` over Dolibarr's REST API."""

    platform = "Dolibarr"

    def __init__(self, client: DolibarrClient, settings: DolibarrSettings) -> None:
        self.client = client
        self.settings = settings

    @property
    def stats(self) -> Any:
        return self.client.stats

    def close(self) -> None:
        self.client.close()

    def iter_articles(self) -> Iterator[Article]:
        categories = self._categories()
        rows = list(product_rows(self.client, self.settings))
        by_id = {str(r["id"]): r for r in rows}
        combinations = self._combinations()
        # child id -> (parent id, its combination); a parent whose children are listed is a group
        children = {
            str(c.get("fk_product_child")): (parent, c)
            for parent, found in combinations.items()
            for c in found
            if str(c.get("fk_product_child")) in by_id
        }
        groups = {parent for parent, _ in children.values()}
        names = self._option_names(c for parent in groups for c in combinations[parent]) if groups else {}
        for row in rows:
            key = str(row["id"])
            if key in groups:
                continue  # the parent is the group (its children are the variants), never an article
            if key not in children:
                yield self._article(row, categories.get(key, []))
                continue
            parent_id, combination = children[key]
            parent = by_id.get(parent_id) or {}
            article = self._article(
                row, sorted({*categories.get(key, []), *categories.get(parent_id, [])}), parent=parent
            )
            article.group_key = parent_id
            article.group_name = parent.get("label") or None
            for pair in combination.get("attributes") or []:
                named = names.get((str(pair.get("fk_prod_attr")), str(pair.get("fk_prod_attr_val"))))
                if named is None:
                    article.issues.append(RecordError(key, "attributes", f"attribute value {pair} not found"))
                    continue
                code, label, value = named
                article.attributes[code] = value
                article.attribute_labels[code] = label
            yield article

    def _combinations(self) -> dict[str, list[dict[str, Any]]]:
        """Parent id -> its combinations (``getVariants``): one list of parents + one call per parent."""
        query = {"mode": 1 if self.settings.only_products else 0, "variant_filter": 2, "properties": "id"}
        found: dict[str, list[dict[str, Any]]] = {}
        for row in self.client.iter_list("products", query, page_size=self.settings.page_size):
            answer = self.client.find(f"products/{row['id']}/variants") or []
            found[str(row["id"])] = [c for c in answer if isinstance(c, dict)] if isinstance(answer, list) else []
        return found

    def _option_names(self, combinations: Iterator[dict[str, Any]]) -> dict[tuple[str, str], tuple[str, str, str]]:
        """(attribute id, value id) -> (option code, attribute label, value label): the attributes list
        once, then the values of each attribute the combinations use (``getAttributeValues``)."""
        used = {str(p.get("fk_prod_attr")) for c in combinations for p in c.get("attributes") or []}
        attributes = {
            str(a["id"]): a
            for a in self.client.iter_list("products/attributes", page_size=self.settings.page_size)
            if str(a.get("id")) in used
        }
        names: dict[tuple[str, str], tuple[str, str, str]] = {}
        for aid, attribute in attributes.items():
            label = str(attribute.get("label") or attribute.get("ref") or aid)
            code = slugify(label) or label
            for value in self.client.find(f"products/attributes/{aid}/values") or []:
                names[(aid, str(value.get("id")))] = (code, label, str(value.get("value") or value.get("ref")))
        return names

    def _article(self, row: dict[str, Any], categories: list[str], parent: dict[str, Any] | None = None) -> Article:
        issues: list[RecordError] = []
        key = str(row["id"])
        tax_included = row.get("price_base_type") == "TTC"
        price = decimal(row.get("price_ttc") if tax_included else row.get("price"))
        extras = _extras(row)
        if parent:  # a variant: the parent's extrafields where the child has none
            extras = {**_extras(parent), **{k: v for k, v in extras.items() if v not in (None, "")}}
        fields = {"categories": "|".join(sorted(categories))}
        wanted = dict(self.settings.features)
        if self.settings.brand_field:
            wanted["brand"] = self.settings.brand_field
        for name, code in wanted.items():
            value = extras.get(f"options_{code}")
            if value not in (None, ""):
                fields[name] = str(value)
        return Article(
            key=key,
            sku=row.get("ref") or None,
            name=row.get("label"),
            # a child's own description is the parent's + "<strong>Attr:</strong> value" lines
            # (ProductCombination::createProductCombination): the group's is the parent's
            description=((parent or row).get("description")) or None,
            ean=row.get("barcode") or None,
            price=price,
            currency=self.settings.currency,
            vat_rate=decimal(row.get("tva_tx")),
            weight=_weight(row),
            tax_included=tax_included,
            fields=fields,
            # "status" is tosell (1 on sale), "status_buy" tobuy (products.json; Product::fetch)
            active=str(row.get("status")) == "1",
            updated_at=timestamp(row.get("date_modification")),
            issues=issues,
        )

    def _categories(self) -> dict[str, list[str]]:
        """Product id -> "Parent/Child" paths of its categories: one list + one call per category."""
        rows = list(self.client.iter_list("categories", {"type": "product"}, page_size=self.settings.page_size))
        by_id = {str(r["id"]): r for r in rows}

        def path(cid: str) -> str:
            names: list[str] = []
            seen: set[str] = set()
            while cid in by_id and cid not in seen:
                seen.add(cid)
                names.append(str(by_id[cid].get("label") or cid))
                cid = str(by_id[cid].get("fk_parent") or "0")
            return "/".join(reversed(names))

        found: dict[str, list[str]] = {}
        for cid in by_id:
            members = self.client.find(f"categories/{cid}/objects", {"type": "product", "onlyids": 1}) or []
            for member in members:
                pid = str(member.get("id") if isinstance(member, dict) else member)
                found.setdefault(pid, []).append(path(cid))
        return found


def _extras(row: dict[str, Any]) -> dict[str, Any]:
    extras = row.get("array_options") or {}
    return extras if isinstance(extras, dict) else {}  # an object without extrafields answers [] (products.json)


def _weight(row: dict[str, Any]) -> Decimal | None:
    weight = decimal(row.get("weight"))
    if weight is None:
        return None
    try:
        unit = int(row.get("weight_units") or 0)
    except (TypeError, ValueError):
        unit = 0
    return (weight * _WEIGHT_UNITS.get(unit, Decimal(1))).normalize()
