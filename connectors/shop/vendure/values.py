"""Vendure as a stock and price sink: absolute quantities and prices on existing variants.

Stock: Vendure sells ``stockOnHand - stockAllocated``, so the sink writes ``stockOnHand =
saleable + stockAllocated`` (read in the same batch) through ``stockLevels`` at one explicit stock
location (the feed's, or the channel's first). Prices: one per variant in the channel's currency
and tax basis; no dated promotions and no customer-group prices (the flow sends the price in
force). One ``updateProductVariants`` call per batch; a refused batch is split in halves until the
refused variants are isolated.

Details: docs/stock-and-prices.md (Stock; Prices); docs/platforms.md (Vendure).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connectors.base import BatchResult, PriceCapabilities, PriceWrite, StockWrite
from connectors.errors import Fatal, RecordError
from connectors.models import currency_quantum, minor_units, shop_price
from connectors.shop.vendure.client import GraphQLError, VendureClient
from connectors.shop.vendure.mapper import ChannelInfo, amount_for_channel

__all__ = ["VendureValues"]

_READ_PAGE = 100

UPDATE = """
mutation Update($input: [UpdateProductVariantInput!]!) {
  updateProductVariants(input: $input) { id }
}
"""

READ_STOCK = """
query Stock($ids: [String!]!, $take: Int!) {
  productVariants(options: {filter: {id: {in: $ids}}, take: $take}) {
    items { id stockLevels { stockLocationId stockOnHand stockAllocated } }
  }
}
"""

LOCATIONS = "query Locations { stockLocations(options: {take: 100, sort: {id: ASC}}) { items { id name } } }"


class VendureValues:
    """StockSink and PriceSink for the Vendure Admin API (mixed into the Vendure shop connector)."""

    client: VendureClient
    platform = "Vendure"

    @property
    def channel(self) -> ChannelInfo:  # provided by VendureCatalogue
        raise NotImplementedError

    @property
    def price_capabilities(self) -> PriceCapabilities:
        return PriceCapabilities(
            promotion_dates=False, group_prices=False, prices_include_tax=self.channel.prices_include_tax
        )

    # -- stock ---------------------------------------------------------------------------------
    def _location_ids(self, names: Sequence[str | None]) -> dict[str | None, str]:
        """Stock location ids by name; ``None`` is Vendure's default location (the channel's first
        one, where a plain ``stockOnHand`` write lands). Read once per connector."""
        found: dict[str, str] | None = getattr(self, "_locations", None)
        if found is None:
            rows = self.client.query(LOCATIONS)["stockLocations"]["items"]
            found = {row["name"]: row["id"] for row in rows}
            self._locations = found
            self._default_location = rows[0]["id"] if rows else None
        missing = sorted({n for n in names if n is not None} - set(found))
        if missing or self._default_location is None:
            raise Fatal(
                f"Vendure has no stock location named {', '.join(missing) or '(any)'}.",
                resolution=f"create it in Vendure or fix [stock.feeds] location (known: {', '.join(sorted(found))}).",
            )
        return {None: self._default_location, **{n: found[n] for n in names if n is not None}}

    def _current(self, variant_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Current stock numbers of variants, by id (pages of 100 ids, one query each)."""
        rows: dict[str, dict[str, Any]] = {}
        ids = list(dict.fromkeys(variant_ids))
        for start in range(0, len(ids), _READ_PAGE):
            page = ids[start : start + _READ_PAGE]
            data = self.client.query(READ_STOCK, {"ids": page, "take": len(page)})
            rows.update({item["id"]: item for item in data["productVariants"]["items"]})
        return rows

    @staticmethod
    def _allocated(row: dict[str, Any], location_id: str) -> tuple[int, int]:
        """(on hand, allocated) of a variant at one stock location (0, 0 where it has no level)."""
        for level in row.get("stockLevels") or []:
            if str(level["stockLocationId"]) == str(location_id):
                return int(level["stockOnHand"]), int(level["stockAllocated"])
        return 0, 0

    def read_stock(
        self, variant_ids: Sequence[str], locations: Sequence[str | None]
    ) -> dict[tuple[str, str | None], int]:
        location_ids = self._location_ids(locations)
        current = self._current(variant_ids)
        found: dict[tuple[str, str | None], int] = {}
        for variant_id, row in current.items():
            for name in locations:
                on_hand, allocated = self._allocated(row, location_ids[name])
                found[(variant_id, name)] = on_hand - allocated
        return found

    def write_stock(self, writes: Sequence[StockWrite]) -> BatchResult:
        result = BatchResult()
        if not writes:
            return result
        location_ids = self._location_ids([w.location for w in writes])
        current = self._current([w.variant_id for w in writes])
        inputs: list[tuple[str, dict[str, Any]]] = []
        for w in writes:
            row = current.get(w.variant_id)
            if row is None:
                result.errors.append(
                    RecordError(
                        w.key, "variant", f"variant {w.variant_id} is no longer in Vendure (deleted by hand?)", "shop"
                    )
                )
                continue
            location_id = location_ids[w.location]
            _, allocated = self._allocated(row, location_id)
            on_hand = w.quantity + allocated
            data: dict[str, Any] = {
                "id": w.variant_id,
                "stockLevels": [{"stockLocationId": location_id, "stockOnHand": on_hand}],
            }
            inputs.append((w.key, data))
            result.answers[w.key] = {"stockOnHand": on_hand, "stockAllocated": allocated, "saleable": w.quantity}
        self._update(inputs, result)
        return result

    # -- prices --------------------------------------------------------------------------------
    def write_prices(self, writes: Sequence[PriceWrite]) -> BatchResult:
        result = BatchResult()
        channel = self.channel
        inputs: list[tuple[str, dict[str, Any]]] = []
        for w in writes:
            if w.currency.upper() != channel.currency.upper():
                result.errors.append(
                    RecordError(
                        w.key,
                        "currency",
                        f"price in {w.currency} but the Vendure channel sells in {channel.currency}",
                        "shop",
                    )
                )
                continue
            try:
                if w.converted:
                    # From a tax-included ERP price: the channel's basis, said when not reachable.
                    price = shop_price(
                        _erp_price(w),
                        w.vat_rate,
                        tax_included=True,
                        shop_includes_tax=channel.prices_include_tax,
                        currency=channel.currency,
                    )
                    if not price.exact:
                        result.notices.append(price.notice(w.key, channel.currency, w.vat_rate))
                    amount = minor_units(price.amount, channel.currency)
                else:
                    amount = amount_for_channel(w.price, w.vat_rate, channel)
            except ValueError as exc:
                result.errors.append(RecordError(w.key, "price", str(exc), "shop"))
                continue
            inputs.append((w.key, {"id": w.variant_id, "price": amount}))
            result.answers[w.key] = {"price": amount, "currency": channel.currency}
        self._update(inputs, result)
        return result

    # -- shared --------------------------------------------------------------------------------
    def _update(self, inputs: list[tuple[str, dict[str, Any]]], result: BatchResult) -> None:
        """``updateProductVariants`` with the inputs; a refused call is split to isolate the culprits."""
        refused = _bisect(inputs, lambda chunk: self._send([data for _, data in chunk]))
        for key, reason in refused:
            result.errors.append(RecordError(key, "variant", reason, "shop"))
            result.answers.pop(key, None)

    def _send(self, inputs: list[dict[str, Any]]) -> str | None:
        """None when Vendure accepted the whole call, else its reason."""
        try:
            self.client.execute(UPDATE, {"input": inputs})
        except GraphQLError as exc:
            return str(exc).split(" Resolution:")[0]
        return None


def _bisect(
    items: list[tuple[str, dict[str, Any]]], send: Callable[[list[tuple[str, dict[str, Any]]]], str | None]
) -> list[tuple[str, str]]:
    """Send ``items``; when refused, send each half again, down to the single refused records."""
    if not items:
        return []
    reason = send(items)
    if reason is None:
        return []
    if len(items) == 1:
        return [(items[0][0], reason)]
    middle = len(items) // 2
    return _bisect(items[:middle], send) + _bisect(items[middle:], send)


def _erp_price(write: PriceWrite) -> Decimal:
    """The ERP's tax-included price back from a converted write (its net amount keeps six decimals)."""
    rate = write.vat_rate or Decimal(0)
    return (write.price * (1 + rate / 100)).quantize(currency_quantum(write.currency), rounding=ROUND_HALF_UP)
