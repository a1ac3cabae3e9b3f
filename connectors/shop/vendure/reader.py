"""Vendure read back: what products and variant prices hold now, in canonical terms (read only).

Used by the dry run to show a per-field diff against the live shop (``CatalogueReader``,
``PriceReader``). One query per 100 products or variants; never a mutation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectors.base import ShopProductValues, ShopVariantValues
from connectors.models import from_minor_units
from connectors.shop.vendure.client import VendureClient
from connectors.shop.vendure.mapper import ChannelInfo

__all__ = ["VendureReader"]

_PAGE = 100

VARIANT_SELECTION = (
    "id sku name price currencyCode enabled taxCategory { name } options { code name group { code name } }"
)

READ_PRODUCTS = f"""
query ReadProducts($ids: [String!]!, $take: Int!) {{
  products(options: {{filter: {{id: {{in: $ids}}}}, take: $take}}) {{
    items {{ id name slug description enabled facetValues {{ name facet {{ code }} }}
      variants {{ {VARIANT_SELECTION} }} }}
  }}
}}
"""

READ_PRICES = """
query ReadPrices($ids: [String!]!, $take: Int!) {
  productVariants(options: {filter: {id: {in: $ids}}, take: $take}) { items { id sku price currencyCode } }
}
"""


class VendureReader:
    """CatalogueReader and PriceReader for the Vendure Admin API (mixed into the Vendure shop connector)."""

    client: VendureClient
    category_facet: str

    @property
    def channel(self) -> ChannelInfo:  # provided by VendureCatalogue
        raise NotImplementedError

    def read_products(self, product_ids: Sequence[str]) -> dict[str, ShopProductValues]:
        includes_tax = self.channel.prices_include_tax
        found: dict[str, ShopProductValues] = {}
        for items in self._pages(READ_PRODUCTS, "products", product_ids):
            for item in items:
                names = {
                    v["name"]
                    for v in item.get("facetValues") or []
                    if (v.get("facet") or {}).get("code") == self.category_facet
                }
                found[str(item["id"])] = ShopProductValues(
                    product_id=str(item["id"]),
                    name=item.get("name"),
                    slug=item.get("slug"),
                    description=item.get("description"),
                    enabled=item.get("enabled"),
                    categories=_paths(names),
                    variants=tuple(_variant(v, includes_tax) for v in item.get("variants") or []),
                )
        return found

    def read_prices(self, variant_ids: Sequence[str]) -> dict[str, ShopVariantValues]:
        includes_tax = self.channel.prices_include_tax
        found: dict[str, ShopVariantValues] = {}
        for items in self._pages(READ_PRICES, "productVariants", variant_ids):
            for item in items:
                found[str(item["id"])] = _variant(item, includes_tax)
        return found

    def _pages(self, query: str, field: str, ids: Sequence[str]) -> list[list[dict[str, Any]]]:
        unique = list(dict.fromkeys(str(i) for i in ids))
        pages: list[list[dict[str, Any]]] = []
        for start in range(0, len(unique), _PAGE):
            page = unique[start : start + _PAGE]
            data = self.client.query(query, {"ids": page, "take": len(page)})
            pages.append(list(data[field]["items"]))
        return pages


def _variant(item: dict[str, Any], includes_tax: bool) -> ShopVariantValues:
    currency = item.get("currencyCode")
    price = item.get("price")
    return ShopVariantValues(
        variant_id=str(item["id"]),
        sku=item.get("sku"),
        name=item.get("name"),
        price=from_minor_units(int(price), currency or "EUR") if price is not None else None,
        currency=currency,
        price_includes_tax=includes_tax,
        enabled=item.get("enabled"),
        tax_category=(item.get("taxCategory") or {}).get("name"),
        options={
            (o.get("group") or {}).get("name") or o["code"]: o.get("name") or o["code"]
            for o in item.get("options") or []
        },
    )


def _paths(names: set[str]) -> tuple[tuple[str, ...], ...]:
    """Category paths from the facet values of every level (``A``, ``A / B`` -> ``(A, B)``): a
    value that is the prefix of another is that one's parent level, not a category of its own."""
    leaves = [n for n in names if not any(other.startswith(n + " / ") for other in names)]
    return tuple(sorted(tuple(n.split(" / ")) for n in leaves))
