"""PrestaShop as a stock and price sink.

Stock: the absolute ``quantity`` of the ``stock_availables`` row of (id_product,
id_product_attribute), read and PUT back; one stock per shop, so a write naming a location is
refused (a Fatal with ``stock_location_fatal``). Prices are tax-excluded: the product's ``price``
(no combinations) or the combination's impact; promotions and customer-group prices are
``specific_prices`` rows. Passerelle's rows have a fixed ``price``, ``reduction`` 0 and
``reduction_tax`` 0 for everyone (no cart, no catalogue rule); the merchant's rows are never
changed. Ours are found again by (product, combination, group, from quantity, from, to): same
price, nothing sent; another price, PUT; no longer wanted, DELETE.

Details: docs/prestashop.md (What each flow writes: sync-stock, sync-prices; Platform limits).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from connectors.base import BatchResult, PriceCapabilities, PriceWrite, StockWrite
from connectors.errors import Fatal, RecordError
from connectors.models import ensure_utc
from connectors.shop.prestashop.client import PrestaShopClient, WriteRefused, id_filter
from connectors.shop.prestashop.common import PrestaShopOptions, amount, parse_variant_id, refusal
from connectors.shop.prestashop.xml import language_value, writable

__all__ = ["NO_DATE", "PrestaShopValues", "is_ours"]

NO_DATE = "0000-00-00 00:00:00"
"""PrestaShop's open end of a specific price."""
_CHUNK = 50


def is_ours(row: dict[str, Any]) -> bool:
    """A specific_prices row passerelle wrote (see the module docstring)."""
    return (
        str(row.get("reduction_type")) == "amount"
        and Decimal(str(row.get("reduction") or 0)) == 0
        and str(row.get("reduction_tax")) == "0"
        and Decimal(str(row.get("price") or -1)) >= 0
        and all(str(row.get(f) or "0") == "0" for f in ("id_cart", "id_currency", "id_country", "id_customer"))
        and str(row.get("id_specific_price_rule") or "0") == "0"
    )


@dataclass(slots=True)
class _PriceRows:
    """What a price batch compares with: products and combinations by id, passerelle's specific
    prices by (id_product, id_product_attribute)."""

    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    combinations: dict[str, dict[str, Any]] = field(default_factory=dict)
    specific: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)


def _local(value: datetime | None, tz: tzinfo) -> str:
    return NO_DATE if value is None else ensure_utc(value).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


class PrestaShopValues:
    """StockSink and PriceSink for the PrestaShop webservice (mixed into the shop connector)."""

    client: PrestaShopClient
    language: str
    options: PrestaShopOptions
    tz: tzinfo
    platform = "PrestaShop"

    @property
    def price_capabilities(self) -> PriceCapabilities:
        return PriceCapabilities(promotion_dates=True, group_prices=True, prices_include_tax=False)

    # -- stock -------------------------------------------------------------------------------------
    def _stock_rows(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        products = sorted({p for p, _ in pairs}, key=int)
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for start in range(0, len(products), _CHUNK):
            for row in self.client.get(
                "stock_availables", filters={"id_product": id_filter(products[start : start + _CHUNK])}
            ):
                rows.setdefault((str(row["id_product"]), str(row["id_product_attribute"])), row)
        return rows

    def read_stock(
        self, variant_ids: Sequence[str], locations: Sequence[str | None]
    ) -> dict[tuple[str, str | None], int]:
        if any(loc is not None for loc in locations):
            raise Fatal(
                "PrestaShop 8 has one stock per shop: it has no stock location.",
                resolution="remove location from the [stock.feeds] of this PrestaShop connection.",
            )
        parsed = {v: p for v in variant_ids if (p := parse_variant_id(v)) is not None}
        rows = self._stock_rows(list(parsed.values()))
        return {(v, None): int(rows[p]["quantity"]) for v, p in parsed.items() if p in rows}

    def write_stock(self, writes: Sequence[StockWrite]) -> BatchResult:
        result = BatchResult()
        todo: list[tuple[StockWrite, tuple[str, str]]] = []
        for w in writes:
            parsed = parse_variant_id(w.variant_id)
            if w.location is not None:
                message = f"PrestaShop 8 has one stock per shop: no location {w.location!r}"
                if self.options.location_fatal:
                    raise Fatal(message + ".", resolution="remove location from the [stock.feeds] of this connection.")
                result.errors.append(RecordError(w.key, "location", message, "shop"))
            elif parsed is None:
                result.errors.append(
                    RecordError(w.key, "variant", f"{w.variant_id!r} is no PrestaShop variant id", "shop")
                )
            else:
                todo.append((w, parsed))
        rows = self._stock_rows([p for _, p in todo])
        for w, pair in todo:
            row = rows.get(pair)
            if row is None:
                result.errors.append(
                    RecordError(
                        w.key, "variant", f"no stock row for {w.variant_id} in PrestaShop (deleted by hand?)", "shop"
                    )
                )
                continue
            if int(row["quantity"]) != w.quantity:
                record = writable("stock_availables", row)
                record["quantity"] = str(w.quantity)
                try:
                    self.client.update("stock_availables", str(row["id"]), record)
                except WriteRefused as exc:
                    result.errors.append(refusal(w.key, "quantity", exc))
                    continue
            result.answers[w.key] = {"quantity": w.quantity, "stock_available": str(row["id"])}
        return result

    # -- prices ------------------------------------------------------------------------------------
    def _group_ids(self, names: set[str]) -> dict[str, str]:
        mapped = dict(self.options.groups)
        missing = names - set(mapped)
        if missing:
            known = {
                language_value(r["name"], self.language): str(r["id"])
                for r in self.client.get("groups", display=["id", "name"])
            }
            for name in missing:
                if name not in known:
                    raise Fatal(
                        f"PrestaShop has no customer group named {name!r} (known: {', '.join(sorted(known))}).",
                        resolution="map it in connections.<name>.shop.groups or create it under Customers > Groups.",
                    )
                mapped[name] = known[name]
        return mapped

    def _price_rows(self, pairs: Sequence[tuple[str, str]]) -> _PriceRows:
        """Products, combinations and specific prices of a whole batch: three reads per 50 products,
        not three per variant."""
        rows = _PriceRows()
        products = sorted({p for p, _ in pairs}, key=int)
        combinations = sorted({a for _, a in pairs if a != "0"}, key=int)
        for start in range(0, len(products), _CHUNK):
            chunk = products[start : start + _CHUNK]
            for row in self.client.get("products", filters={"id": id_filter(chunk)}):
                rows.products[str(row["id"])] = row
            for row in self.client.get("specific_prices", filters={"id_product": id_filter(chunk)}):
                if is_ours(row):
                    key = (str(row["id_product"]), str(row["id_product_attribute"]))
                    rows.specific.setdefault(key, []).append(row)
        for start in range(0, len(combinations), _CHUNK):
            for row in self.client.get("combinations", filters={"id": id_filter(combinations[start : start + _CHUNK])}):
                rows.combinations[str(row["id"])] = row
        return rows

    def write_prices(self, writes: Sequence[PriceWrite]) -> BatchResult:
        """Per variant: the base price (a PUT when it changed), then its specific prices; the rows
        they are compared with are read once for the batch."""
        result = BatchResult()
        groups = self._group_ids({g.group for w in writes for g in w.group_prices})
        todo: list[tuple[PriceWrite, tuple[str, str]]] = []
        for w in writes:
            parsed = parse_variant_id(w.variant_id)
            if parsed is None:
                result.errors.append(
                    RecordError(w.key, "variant", f"{w.variant_id!r} is no PrestaShop variant id", "shop")
                )
            elif w.currency.upper() != self.options.currency.upper():
                result.errors.append(
                    RecordError(
                        w.key,
                        "currency",
                        f"price in {w.currency} but PrestaShop sells in {self.options.currency}",
                        "shop",
                    )
                )
            else:
                todo.append((w, parsed))
        rows = self._price_rows([pair for _, pair in todo])
        for w, pair in todo:
            try:
                answer = self._write_price(w, pair, groups, rows)
            except WriteRefused as exc:
                result.errors.append(refusal(w.key, "price", exc))
                continue
            except LookupError as exc:
                result.errors.append(RecordError(w.key, "variant", str(exc), "shop"))
                continue
            result.answers[w.key] = answer
        return result

    def _write_price(
        self, w: PriceWrite, pair: tuple[str, str], groups: dict[str, str], rows: _PriceRows
    ) -> dict[str, Any]:
        pid, aid = pair
        # PrestaShop stores tax-excluded prices with six decimals precisely so that a price converted
        # from a tax-included one shows that exact amount again: converted amounts are not rounded to
        # the cent (999.99 TTC at 20 % is 833.325000; 833.33 would show 1000.00).
        quantum = Decimal("0.000001")
        base = (w.regular_price if w.regular_price is not None else w.price).quantize(quantum)
        product = rows.products.get(pid)
        if product is None:
            raise LookupError(f"product {pid} is no longer in PrestaShop (deleted by hand?)")
        if aid == "0":
            if Decimal(str(product["price"])) != base:
                record = writable("products", product)
                record["price"] = amount(base)
                self.client.update("products", pid, record)
                product["price"] = amount(base)
        else:
            combo = rows.combinations.get(aid)
            if combo is None or str(combo["id_product"]) != pid:
                raise LookupError(f"combination {aid} of product {pid} is no longer in PrestaShop")
            impact = base - Decimal(str(product["price"]))
            if Decimal(str(combo["price"])) != impact:
                record = writable("combinations", combo)
                record["price"] = amount(impact)
                self.client.update("combinations", aid, record)
                combo["price"] = amount(impact)
        wanted: dict[tuple[str, str, str, str], Decimal] = {}
        if w.promotion is not None:
            # PrestaShop's ``to`` is inclusive, the promotion's end is not: the row ends a second before.
            ends = w.promotion.ends_at - timedelta(seconds=1) if w.promotion.ends_at is not None else None
            wanted[("0", "1", _local(w.promotion.starts_at, self.tz), _local(ends, self.tz))] = (
                w.promotion.price.quantize(quantum)
            )
        for g in w.group_prices:
            wanted[(groups[g.group], str(int(g.min_quantity)), NO_DATE, NO_DATE)] = g.price.quantize(quantum)
        existing = rows.specific.get(pair, [])
        created = updated = deleted = 0
        for row in existing:
            ident = (str(row["id_group"]), str(row["from_quantity"]), str(row["from"]), str(row["to"]))
            price = wanted.pop(ident, None)
            if price is None:
                self.client.delete("specific_prices", str(row["id"]))
                deleted += 1
            elif Decimal(str(row["price"])) != price:
                record = writable("specific_prices", row)
                record["price"] = amount(price)
                self.client.update("specific_prices", str(row["id"]), record)
                updated += 1
        for (group, quantity, start, end), price in wanted.items():
            self.client.create(
                "specific_prices",
                {
                    "id_shop_group": "0",
                    "id_shop": "0",
                    "id_cart": "0",
                    "id_product": pid,
                    "id_product_attribute": aid,
                    "id_currency": "0",
                    "id_country": "0",
                    "id_group": group,
                    "id_customer": "0",
                    "id_specific_price_rule": "0",
                    "price": amount(price),
                    "from_quantity": quantity,
                    "reduction": "0",
                    "reduction_tax": "0",
                    "reduction_type": "amount",
                    "from": start,
                    "to": end,
                },
            )
            created += 1
        return {"price": str(base), "specific_prices": {"created": created, "updated": updated, "deleted": deleted}}
