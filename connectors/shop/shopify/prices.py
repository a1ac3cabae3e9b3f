"""Shopify as a price sink: ``productVariantsBulkUpdate`` per product.

Shopify has no dated price (``ProductVariant`` has ``price`` and ``compareAtPrice`` only): like
Vendure, :attr:`price_capabilities` declares ``promotion_dates=False``, so the flow sends the price
in force at run time and sends the change again when a promotion starts or ends. While a
promotion is in force (the price sent is below the regular one) ``compareAtPrice`` is the regular
price (the storefront shows it struck through); otherwise it is cleared (``null``). Customer-group
prices need Shopify Plus B2B catalogs, which this sink does not write: ``group_prices=False``, and
the flow reports them as left out.

Amounts arrive tax-excluded (``PriceWrite``) and are sent in the shop's basis
(``shop.taxesIncluded``, read once): with their VAT on a shop whose prices include taxes. The sink
first reads the variants (``nodes``: current prices and product id, one query per 250 ids), sends
only what differs, grouped by product with ``allowPartialUpdates: true``, and takes a variant's
``userErrors`` (``field: ["variants", "<index>", ...]``) as that variant's RecordError.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connectors.base import BatchResult, PriceCapabilities, PriceWrite
from connectors.errors import RecordError
from connectors.models import ShopPrice, currency_quantum, shop_price
from connectors.shop.shopify.base import ShopifyBase
from connectors.shop.shopify.mapper import MappingError, money

__all__ = ["BULK_UPDATE", "READ_PRICES", "SHOP_PRICES", "ShopifyPrices"]

SHOP_PRICES = "query PriceBasis { shop { currencyCode taxesIncluded } }"

READ_PRICES = """
query Prices($ids: [ID!]!) {
  nodes(ids: $ids) {
    __typename
    ... on ProductVariant { id price compareAtPrice product { id } }
  }
}
"""

BULK_UPDATE = """
mutation Prices($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants, allowPartialUpdates: true) {
    productVariants { id price compareAtPrice }
    userErrors { field message code }
  }
}
"""

MAX_IDS = 250
"""shopify.dev "API limits": input arrays hold at most 250 items (``ids``, ``variants``)."""


def _amount(amount: Decimal, w: PriceWrite, gross: bool) -> tuple[str, RecordError | None]:
    """A tax-excluded amount as the shop stores it, and a notice when a converted price cannot show
    the ERP's tax-included price to the cent."""
    if gross:
        if w.vat_rate is None:
            raise MappingError("vat_rate", "no VAT rate to make the tax-included price Shopify stores")
        value = shop_price(amount, w.vat_rate, tax_included=False, shop_includes_tax=True, currency=w.currency).amount
        return money(value, w.currency), None
    quantum = currency_quantum(w.currency)
    text = money(amount.quantize(quantum, rounding=ROUND_HALF_UP), w.currency)
    if not w.converted or w.vat_rate is None:
        return text, None
    factor = 1 + w.vat_rate / Decimal(100)
    wanted = (amount * factor).quantize(quantum, rounding=ROUND_HALF_UP)
    shown = (Decimal(text) * factor).quantize(quantum, rounding=ROUND_HALF_UP)
    price = ShopPrice(amount=Decimal(text), shown=shown, exact=shown == wanted, wanted=wanted)
    return text, None if price.exact else price.notice(w.key, w.currency, w.vat_rate)


def _same(a: Any, b: str | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return Decimal(str(a)) == Decimal(b)


class ShopifyPrices(ShopifyBase):
    """PriceSink for the Shopify Admin GraphQL API (scope ``write_products``)."""

    @property
    def price_capabilities(self) -> PriceCapabilities:
        return PriceCapabilities(promotion_dates=False, group_prices=False, prices_include_tax=False)

    def _price_basis(self) -> dict[str, Any]:
        basis: dict[str, Any] | None = getattr(self, "_shopify_price_basis", None)
        if basis is None:
            basis = dict(self.client.execute(SHOP_PRICES).get("shop") or {})
            self._shopify_price_basis = basis
        return basis

    def write_prices(self, writes: Sequence[PriceWrite]) -> BatchResult:
        result = BatchResult()
        if not writes:
            return result
        basis = self._price_basis()
        gross = bool(basis.get("taxesIncluded"))
        currency = str(basis.get("currencyCode") or "")
        held = self._price_rows([w.variant_id for w in writes])
        groups: dict[str, list[tuple[PriceWrite, dict[str, Any]]]] = {}
        for w in writes:
            if currency and w.currency.upper() != currency.upper():
                result.errors.append(
                    RecordError(w.key, "currency", f"price in {w.currency} but Shopify sells in {currency}", "shop")
                )
                continue
            row = held.get(w.variant_id)
            if row is None:
                result.errors.append(
                    RecordError(
                        w.key,
                        "variant",
                        f"variant {w.variant_id} is no longer in Shopify: publish the catalogue",
                        "shop",
                    )
                )
                continue
            try:
                price, notice = _amount(w.price, w, gross)
                regular = w.regular_price if w.regular_price is not None else w.price
                compare: str | None = None
                if regular > w.price:  # a promotion in force: the regular price is struck through
                    compare, _ = _amount(regular, w, gross)
            except MappingError as exc:
                result.errors.append(RecordError(w.key, exc.field, str(exc), "shop"))
                continue
            body = {"id": w.variant_id, "price": price, "compareAtPrice": compare}
            answer: dict[str, Any] = {"price": price, "compareAtPrice": compare}
            result.answers[w.key] = answer
            if notice is not None:
                result.notices.append(notice)
            if _same(row.get("price"), price) and _same(row.get("compareAtPrice"), compare):
                answer["unchanged"] = True
                continue
            groups.setdefault(str(row["product"]["id"]), []).append((w, body))
        for product_id, group in groups.items():
            for start in range(0, len(group), MAX_IDS):
                self._price_update(product_id, group[start : start + MAX_IDS], result)
        refused = {e.key for e in result.errors}
        result.notices = [n for n in result.notices if n.key not in refused]
        return result

    def _price_rows(self, variant_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        unique = list(dict.fromkeys(variant_ids))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(unique), MAX_IDS):
            page = unique[start : start + MAX_IDS]
            data = self.client.execute(READ_PRICES, {"ids": page})
            for asked, node in zip(page, data.get("nodes") or [], strict=False):
                if node and node.get("__typename") == "ProductVariant" and node.get("product"):
                    found[asked] = node
        return found

    def _price_update(
        self, product_id: str, group: list[tuple[PriceWrite, dict[str, Any]]], result: BatchResult
    ) -> None:
        variables = {"productId": product_id, "variants": [body for _, body in group]}
        payload = self.client.execute(BULK_UPDATE, variables, mutation=True).get("productVariantsBulkUpdate") or {}
        by_index: dict[int, list[str]] = {}
        general: list[str] = []
        for error in payload.get("userErrors") or []:
            path = [str(p) for p in error.get("field") or []]
            text = str(error.get("message"))
            if len(path) >= 2 and path[0] == "variants" and path[1].isdigit():
                by_index.setdefault(int(path[1]), []).append(text)
            else:
                general.append(text)
        answered = {str(v["id"]): v for v in payload.get("productVariants") or [] if v}
        for i, (w, body) in enumerate(group):
            reasons = by_index.get(i) or general
            if reasons:
                result.errors.append(
                    RecordError(w.key, "price", f"Shopify refused the price: {'; '.join(reasons)}", "shop")
                )
                result.answers.pop(w.key, None)
                continue
            row = answered.get(w.variant_id)
            if (
                row is None
                or not _same(row.get("price"), body["price"])
                or not _same(row.get("compareAtPrice"), body["compareAtPrice"])
            ):
                result.errors.append(
                    RecordError(w.key, "price", "Shopify's answer does not hold the price sent", "shop")
                )
                result.answers.pop(w.key, None)
