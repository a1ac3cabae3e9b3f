"""WooCommerce as a stock and price sink: absolute values through the batch routes.

Stock. WooCommerce core keeps one stock per product or variation (``manage_stock: true``,
``stock_quantity``), no stock locations: a write naming a location is refused (RecordError). A
quantity is absolute (a retried write is harmless); WooCommerce lowers it itself when an order is
paid, and the flows compute the saleable quantity, so it is written as it is.

Prices. ``regular_price`` (the base price) and, since WooCommerce schedules promotions itself,
``sale_price`` with ``date_on_sale_from_gmt`` / ``date_on_sale_to_gmt``; no promotion (or one that
ended) clears them with ``""`` (WooCommerce ignores a null date: the REST controller tests ``isset``).
WooCommerce's end date is inclusive (``is_on_sale``: ``now <= to``), so ``[starts_at, ends_at)`` is
sent as ``from = starts_at``, ``to = ends_at - 1 s``. WooCommerce applies the price change with its
daily ``woocommerce_scheduled_sales`` job (and on the next save of the product). Amounts are strings with the currency's decimals, in the
shop's currency (``/data/currencies/current``), tax-excluded: passerelle declares
``prices_include_tax=False``, so the shop must be set to "No, I will enter prices exclusive of
tax" (``woocommerce_prices_include_tax = no``). Core WooCommerce has no customer-group prices.

Batches: simple products through ``/products/batch``, variations through
``/products/<id>/variations/batch`` per parent, 100 items per request; a refused item is a
RecordError, the others are written.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from connectors.base import BatchResult, PriceCapabilities, PriceWrite, StockWrite
from connectors.errors import RecordError
from connectors.shop.woocommerce.catalogue import item_error
from connectors.shop.woocommerce.client import MAX_PER_PAGE, WooCommerceClient
from connectors.shop.woocommerce.mapper import PriceError, money, split_variant_id, wc_datetime

__all__ = ["WooCommerceValues"]


class WooCommerceValues:
    """StockSink and PriceSink for the WooCommerce REST API (mixed into the WooCommerce shop)."""

    client: WooCommerceClient
    platform = "WooCommerce"

    @property
    def price_capabilities(self) -> PriceCapabilities:
        return PriceCapabilities(promotion_dates=True, group_prices=False, prices_include_tax=False)

    @property
    def currency(self) -> str:
        """The shop's currency (read once)."""
        code: str | None = getattr(self, "_currency", None)
        if code is None:
            code = str(self.client.get("data/currencies/current").json()["code"])
            self._currency = code
        return code

    # -- stock ---------------------------------------------------------------------------------
    def read_stock(
        self, variant_ids: Sequence[str], locations: Sequence[str | None]
    ) -> dict[tuple[str, str | None], int]:
        """``stock_quantity`` of these products / variations (null, stock not managed: 0), location None only."""
        found: dict[tuple[str, str | None], int] = {}
        if None not in locations:
            return found  # no stock locations in WooCommerce: nothing is held at a named one
        for shop_id, row in self._rows(variant_ids).items():
            found[(shop_id, None)] = int(row.get("stock_quantity") or 0)
        return found

    def write_stock(self, writes: Sequence[StockWrite]) -> BatchResult:
        result = BatchResult()
        items: list[tuple[str, str, dict[str, Any]]] = []
        for w in writes:
            if w.location is not None:
                result.errors.append(
                    RecordError(
                        w.key,
                        "location",
                        f"WooCommerce has one stock per product, no location {w.location!r}: remove "
                        "location from [stock.feeds]",
                        "shop",
                    )
                )
                continue
            items.append((w.key, w.variant_id, {"manage_stock": True, "stock_quantity": int(w.quantity)}))
            result.answers[w.key] = {"stock_quantity": int(w.quantity)}
        self._update(items, result, "stock")
        return result

    # -- prices --------------------------------------------------------------------------------
    def write_prices(self, writes: Sequence[PriceWrite]) -> BatchResult:
        result = BatchResult()
        items: list[tuple[str, str, dict[str, Any]]] = []
        for w in writes:
            if w.currency.upper() != self.currency.upper():
                result.errors.append(
                    RecordError(
                        w.key, "currency", f"price in {w.currency} but WooCommerce sells in {self.currency}", "shop"
                    )
                )
                continue
            try:
                body: dict[str, Any] = {
                    "regular_price": money(
                        w.regular_price if w.regular_price is not None else w.price,
                        w.currency,
                        round_to_currency=w.converted,
                    )
                }
                promo = w.promotion
                if promo is not None:
                    body["sale_price"] = money(promo.price, w.currency, round_to_currency=w.converted)
                    body["date_on_sale_from_gmt"] = wc_datetime(promo.starts_at) or ""
                    # WooCommerce's end is inclusive (on sale while now <= to); a promotion ends before ends_at
                    ends = promo.ends_at - timedelta(seconds=1) if promo.ends_at is not None else None
                    body["date_on_sale_to_gmt"] = wc_datetime(ends) or ""
                else:
                    # "" clears a date; WooCommerce skips a null one (``isset`` in the REST controller)
                    body.update(sale_price="", date_on_sale_from_gmt="", date_on_sale_to_gmt="")
            except PriceError as exc:
                result.errors.append(RecordError(w.key, "price", str(exc), "shop"))
                continue
            items.append((w.key, w.variant_id, body))
            result.answers[w.key] = dict(body)
        self._update(items, result, "price")
        return result

    # -- shared --------------------------------------------------------------------------------
    def _rows(self, variant_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Products and variations by variant id (``include``, 100 per request)."""
        simple: list[str] = []
        variations: dict[str, list[str]] = {}
        for shop_id in dict.fromkeys(variant_ids):
            product_id, variation = split_variant_id(shop_id)
            if variation is None:
                simple.append(product_id)
            else:
                variations.setdefault(product_id, []).append(variation)
        rows: dict[str, dict[str, Any]] = {}
        for start in range(0, len(simple), MAX_PER_PAGE):
            chunk = simple[start : start + MAX_PER_PAGE]
            for row in self.client.list("products", {"include": ",".join(chunk), "status": "any"}):
                rows[str(row["id"])] = row
        for parent, ids in variations.items():
            for start in range(0, len(ids), MAX_PER_PAGE):
                chunk = ids[start : start + MAX_PER_PAGE]
                for row in self.client.list(f"products/{parent}/variations", {"include": ",".join(chunk)}):
                    rows[f"{parent}/{row['id']}"] = row
        return rows

    def _update(self, items: list[tuple[str, str, dict[str, Any]]], result: BatchResult, field: str) -> None:
        """One batch for the simple products, one per parent for the variations; item errors recorded."""
        groups: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for key, shop_id, body in items:
            product_id, variation = split_variant_id(shop_id)
            route = "products/batch" if variation is None else f"products/{product_id}/variations/batch"
            groups.setdefault(route, []).append((key, {"id": int(variation or product_id), **body}))
        for route, group in groups.items():
            _, answers = self.client.batch(route, update=[body for _, body in group])
            for (key, _), answer in zip(group, answers, strict=True):
                reason = item_error(answer)
                if reason is not None:
                    result.errors.append(RecordError(key, field, reason, "shop"))
                    result.answers.pop(key, None)
