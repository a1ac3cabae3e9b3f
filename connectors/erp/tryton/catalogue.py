"""Tryton as a catalogue source: product.product variants of product.template, with
attributes (product_attribute), barcodes (product.identifier), weights (product_measurements),
categories and the VAT rate of the accounting category's customer tax (account_product).

Read in pages of 500 variants ordered by id, plus one read of identifiers per page; the
category tree and tax rates are read once per run. The product domain, the pages, the category
tree and the list price are shared with the stock and price readers (``stock.py``, ``prices.py``),
so the three see the same articles under the same keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from connectors.erp.tryton.client import TrytonClient
from connectors.erp.tryton.settings import TrytonSettings
from connectors.models import Article

__all__ = [
    "PRODUCT_DOMAIN",
    "Categories",
    "TrytonCatalogue",
    "TrytonSettings",
    "list_price",
    "product_pages",
    "read_categories",
]

_WEIGHT_TO_KG = {
    "kg": Decimal(1),
    "g": Decimal("0.001"),
    "mg": Decimal("0.000001"),
    "lb": Decimal("0.45359237"),
    "oz": Decimal("0.028349523125"),
    "t": Decimal(1000),
}

FIELDS = [
    "id",
    "code",
    "name",
    "description",
    "list_price",
    "attributes",
    "identifiers",
    "categories",
    "account_category",
    "template",
    "template.name",
    "template.code",
    "template.list_price",
    "template.weight",
    "template.weight_uom.symbol",
    "write_date",
    "template.write_date",
]


# The articles of the catalogue, and so of stock and prices: salable goods. Services (the
# carrier's shipping product) are salable but not catalogue articles.
PRODUCT_DOMAIN: list[Any] = [("salable", "=", True), ("type", "!=", "service")]


@dataclass(frozen=True, slots=True)
class Categories:
    """The product.category tree as read once per run.

    ``paths``: non-accounting category id -> "Parent/Child"; ``rates``: accounting category id
    -> VAT rate in percent (its first percentage customer tax); ``parents``: id -> parent id.
    """

    paths: dict[int, str]
    rates: dict[int, Decimal]
    parents: dict[int, int | None]

    def with_ancestors(self, ids: Iterable[int]) -> set[int]:
        """``ids`` and all their parents (a rule on "Clothing" applies to "Clothing/T-shirts")."""
        found: set[int] = set()
        for cid in ids:
            current: int | None = cid
            while current is not None and current not in found:
                found.add(current)
                current = self.parents.get(current)
        return found


def read_categories(client: TrytonClient) -> Categories:
    """Category paths, VAT rates of accounting categories and the parent links: two calls."""
    rows = client.model("product.category").search_read([], ["id", "name", "parent", "accounting", "customer_taxes"])
    by_id = {r["id"]: r for r in rows}
    taxes = {t["id"]: t for t in client.model("account.tax").search_read([], ["id", "type", "rate"])}

    def path(cid: int) -> str:
        names: list[str] = []
        seen: set[int] = set()
        while cid in by_id and cid not in seen:
            seen.add(cid)
            names.append(by_id[cid]["name"])
            cid = by_id[cid]["parent"]
        return "/".join(reversed(names))

    paths = {cid: path(cid) for cid, r in by_id.items() if not r.get("accounting")}
    rates: dict[int, Decimal] = {}
    for cid, r in by_id.items():
        percentages = [taxes[t] for t in r.get("customer_taxes") or [] if taxes.get(t, {}).get("type") == "percentage"]
        if percentages:
            # Tryton stores 20 % as 0.2; one customer tax per category is the French norm.
            rates[cid] = (percentages[0]["rate"] * 100).normalize()
    return Categories(paths, rates, {cid: r.get("parent") for cid, r in by_id.items()})


def product_pages(
    client: TrytonClient, fields: list[str], *, page_size: int, context: Mapping[str, Any] | None = None
) -> Iterator[list[dict[str, Any]]]:
    """The catalogue's product.product rows (``PRODUCT_DOMAIN``), one list per call, by id."""
    page: list[dict[str, Any]] = []
    for row in client.model("product.product").iter_search_read(
        PRODUCT_DOMAIN, fields, page_size=page_size, context=context
    ):
        page.append(row)
        if len(page) >= page_size:
            yield page
            page = []
    if page:
        yield page


def list_price(row: dict[str, Any]) -> Decimal | None:
    """The selling price of a product.product row: its own list price, else its template's."""
    price = row.get("list_price")
    if price is None:
        price = (row.get("template.") or {}).get("list_price")
    return price


class TrytonCatalogue:
    """CatalogueSource over Tryton JSON-RPC."""

    platform = "Tryton"

    def __init__(self, client: TrytonClient, settings: TrytonSettings) -> None:
        self.client = client
        self.settings = settings
        self._labels: dict[str, str] = {}

    @property
    def stats(self) -> Any:
        return self.client.stats

    def close(self) -> None:
        self.client.close()

    def _categories(self) -> tuple[dict[int, str], dict[int, Decimal]]:
        """Category id -> "Parent/Child" path, and accounting category id -> VAT rate in percent."""
        categories = read_categories(self.client)
        return categories.paths, categories.rates

    def _attribute_labels(self) -> dict[str, str]:
        """Attribute name (code) -> its string, the label Tryton shows ("colour" -> "Couleur")."""
        rows = self.client.model("product.attribute").search_read([], ["name", "string"])
        return {r["name"]: r.get("string") or r["name"] for r in rows}

    def iter_articles(self) -> Iterator[Article]:
        paths, rates = self._categories()
        self._labels = self._attribute_labels()
        extra_paths = sorted(set(self.settings.extra.values()) - set(FIELDS))
        for page in product_pages(self.client, FIELDS + extra_paths, page_size=self.settings.page_size):
            yield from self._articles(page, paths, rates)

    def _articles(
        self, rows: list[dict[str, Any]], paths: dict[int, str], rates: dict[int, Decimal]
    ) -> Iterator[Article]:
        barcodes = self._barcodes([r["id"] for r in rows])
        for row in rows:
            template = row.get("template.") or {}
            price = list_price(row)
            weight = template.get("weight")
            uom = (template.get("weight_uom.") or {}).get("symbol")
            weight_kg = None
            if weight is not None:
                weight_kg = (Decimal(str(weight)) * _WEIGHT_TO_KG.get(uom or "kg", Decimal(1))).normalize()
            written = [d for d in (row.get("write_date"), template.get("write_date")) if d is not None]
            fields = {"categories": "|".join(paths[c] for c in row.get("categories") or [] if c in paths)}
            if template.get("code"):
                fields["template_code"] = template["code"]
            for name, path in self.settings.extra.items():
                value = _dotted(row, path)
                if value not in (None, ""):
                    fields[name] = str(value)
            yield Article(
                key=str(row["id"]),
                sku=row.get("code") or None,
                name=row.get("name"),
                description=row.get("description"),
                ean=barcodes.get(row["id"]),
                price=price,
                currency=self.settings.currency,
                vat_rate=rates.get(row.get("account_category") or -1),
                weight=weight_kg,
                group_key=str(row["template"]) if self.settings.group_by_template else None,
                group_name=template.get("name"),
                attributes={k: str(v) for k, v in (row.get("attributes") or {}).items() if v not in (None, "")},
                attribute_labels={k: self._labels[k] for k in row.get("attributes") or {} if k in self._labels},
                tax_included=False,  # product list_price is tax-excluded in Tryton
                fields=fields,
                active=True,
                updated_at=max(written) if written else None,
            )

    def _barcodes(self, product_ids: list[int]) -> dict[int, str]:
        types = [t or None for t in self.settings.barcode_types]
        rows = self.client.model("product.identifier").search_read(
            [("product", "in", product_ids), ("type", "in", types)],
            ["product", "type", "code", "sequence"],
            order=(("sequence", "ASC"), ("id", "ASC")),
        )
        found: dict[int, str] = {}
        for r in rows:
            found.setdefault(r["product"], r["code"])
        return found


def _dotted(row: dict[str, Any], path: str) -> Any:
    """Value of ``template.code`` in a search_read row (relations come back as ``"template.": {...}``)."""
    if path.startswith("attributes."):
        return (row.get("attributes") or {}).get(path[11:])
    parts = path.split(".")
    value: Any = row
    for part in parts[:-1]:
        value = (value or {}).get(f"{part}.")
    return (value or {}).get(parts[-1])
