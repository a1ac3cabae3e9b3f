"""WooCommerce as a stock and price sink: absolute values through the batch routes.

Stock: ``manage_stock: true`` and an absolute ``stock_quantity`` per product or variation; no
stock locations (a write naming one is a RecordError). Prices: ``regular_price``, and a promotion
as ``sale_price`` with ``date_on_sale_from_gmt`` / ``date_on_sale_to_gmt`` (end inclusive, so
``ends_at - 1 s``; cleared with ``""``), which WooCommerce applies with its daily
``woocommerce_scheduled_sales`` job. Amounts are strings with the currency's decimals, in the
shop's currency and tax basis (``woocommerce_prices_include_tax``,
:mod:`~connectors.shop.woocommerce.settings`); no customer-group prices in core. Simple products go
through ``/products/batch``, variations through ``/products/<id>/variations/batch``, 100 items a
request; a refused item is a RecordError, the others are written.

Details: docs/woocommerce.md (What each flow writes; Platform limits).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connectors.base import BatchResult, PriceCapabilities, PriceWrite, StockWrite
from connectors.errors import RecordError
from connectors.models import ShopPrice, currency_quantum, shop_price
from connectors.shop.woocommerce.catalogue import item_error
from connectors.shop.woocommerce.client import MAX_PER_PAGE, WooCommerceClient
from connectors.shop.woocommerce.mapper import PriceError, money, split_variant_id, wc_datetime
from connectors.shop.woocommerce.tax_basis import ShopTaxBasis

__all__ = ["WooCommerceValues"]


@dataclass(frozen=True, slots=True)
class _Amount:
    text: str
    """What WooCommerce receives (``"19.99"``)."""
    notice: RecordError | None = None
    """Set when a converted price cannot show the ERP's tax-included price to the cent."""


def _amount(amount: Decimal, w: PriceWrite, gross: bool) -> _Amount:
    """A tax-excluded PriceWrite amount as the shop stores it: with its VAT on a shop entering
    prices with tax (a converted amount gives the ERP's tax-included price back to the cent),
    rounded to the currency when it was converted from a tax-included ERP price."""
    if gross:
        converted = shop_price(
            amount, w.vat_rate, tax_included=False, shop_includes_tax=True, currency=w.currency
        ).amount
        return _Amount(money(converted, w.currency, round_to_currency=True))
    text = money(amount, w.currency, round_to_currency=w.converted)
    if not w.converted or w.vat_rate is None:
        return _Amount(text)
    quantum = currency_quantum(w.currency)
    factor = 1 + w.vat_rate / Decimal(100)
    wanted = (amount * factor).quantize(quantum, rounding=ROUND_HALF_UP)  # the ERP's own tax-included price
    shown = (Decimal(text) * factor).quantize(quantum, rounding=ROUND_HALF_UP)
    price = ShopPrice(amount=Decimal(text), shown=shown, exact=shown == wanted, wanted=wanted)
    return _Amount(text, None if price.exact else price.notice(w.key, w.currency, w.vat_rate))


class WooCommerceValues(ShopTaxBasis):
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
        include_tax = self._prices_include_tax() if writes else False
        for w in writes:
            if w.currency.upper() != self.currency.upper():
                result.errors.append(
                    RecordError(
                        w.key, "currency", f"price in {w.currency} but WooCommerce sells in {self.currency}", "shop"
                    )
                )
                continue
            # taxes off (None): the ERP's price as it is stated, with its tax when it included it
            gross = w.converted if include_tax is None else include_tax
            if gross and w.vat_rate is None:
                result.errors.append(
                    RecordError(
                        w.key, "vat_rate", "no VAT rate to make the tax-included price WooCommerce stores", "shop"
                    )
                )
                continue
            try:
                regular = _amount(w.regular_price if w.regular_price is not None else w.price, w, gross)
                body: dict[str, Any] = {"regular_price": regular.text}
                notices = [regular.notice]
                promo = w.promotion
                if promo is not None:
                    sale = _amount(promo.price, w, gross)
                    body["sale_price"] = sale.text
                    notices.append(sale.notice)
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
            result.notices += [n for n in notices if n is not None][:1]
        self._update(items, result, "price")
        refused = {e.key for e in result.errors}
        result.notices = [n for n in result.notices if n.key not in refused]
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
