"""Dolibarr as a price source: the product's selling price in its own basis (``price_base_type``
HT or TTC: ``price`` or ``price_ttc``), and, with PRODUIT_MULTIPRICES, the prices of the levels
named in ``price_levels`` (``multiprices`` / ``multiprices_ttc`` / ``multiprices_base_type`` keyed
by level, ``Product::fetch``) as customer-group prices, in the base price's basis.

With PRODUIT_CUSTOMER_PRICES, a group mapped in ``customer_prices`` to a thirdparty gets that
thirdparty's own price of the product (``GET /products/{id}/selling_multiprices/per_customer``,
api_products.class.php ``getCustomerPricesPerCustomer``: the ``PriceByCustomerLine`` rows of
productcustomerprice.class.php ``fetchAll``, each with ``fk_soc``, ``price``, ``price_ttc``,
``price_base_type``, ``tva_tx``); where it has none, the group's level price applies. That costs
one call per product and run (Dolibarr has no list of every product's customer prices); the
shape of the answer is from the source, not captured.

Not read: quantity prices (``per_quantity``); Dolibarr has no dated promotions.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connectors.erp.dolibarr.catalogue import decimal, product_rows, timestamp
from connectors.erp.dolibarr.client import DolibarrClient
from connectors.erp.dolibarr.settings import DolibarrSettings
from connectors.errors import Fatal
from connectors.http import HttpError
from connectors.models import GroupPrice, PriceRecord

__all__ = ["DolibarrPrices", "level_price"]


def level_price(row: dict[str, Any], level: int, *, tax_included: bool) -> Decimal | None:
    """The price of ``level`` in the basis asked (converted with ``multiprices_tva_tx`` when the
    level is stored in the other one)."""
    prices = row.get("multiprices") or {}
    prices_ttc = row.get("multiprices_ttc") or {}
    if not isinstance(prices, dict) or str(level) not in prices:
        return None
    ht, ttc = decimal(prices.get(str(level))), decimal((prices_ttc or {}).get(str(level)))
    if tax_included and ttc is not None:
        return ttc
    if not tax_included and ht is not None:
        return ht
    rate = decimal((row.get("multiprices_tva_tx") or {}).get(str(level))) or Decimal(0)
    factor = 1 + rate / 100
    if ht is None or ttc is None:
        value = ht if ht is not None else ttc
        if value is None:
            return None
        converted = value * factor if tax_included else value / factor
        return converted.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return None


class DolibarrPrices:
    """``PriceSource`` over Dolibarr's REST API (mixed into ``DolibarrConnector``)."""

    client: DolibarrClient
    settings: DolibarrSettings

    def iter_prices(self, groups: Sequence[str]) -> Iterator[PriceRecord]:
        """Base price of every product, with the levels of ``groups``.

        Raises:
            Fatal: a group of ``groups`` has no level in ``price_levels``.
        """
        mapped = self.settings.price_levels.keys() | self.settings.customer_prices.keys()
        unknown = [g for g in groups if g not in mapped]
        if unknown:
            raise Fatal(
                f"customer group {', '.join(map(repr, unknown))} has no Dolibarr price level.",
                resolution="map it in the connection's price_levels (group = level number, PRODUIT_MULTIPRICES)"
                " or customer_prices (group = thirdparty id, PRODUIT_CUSTOMER_PRICES).",
            )
        levels = {g: self.settings.price_levels[g] for g in groups if g in self.settings.price_levels}
        customers = {g: str(self.settings.customer_prices[g]) for g in groups if g in self.settings.customer_prices}
        for row in product_rows(self.client, self.settings):
            tax_included = row.get("price_base_type") == "TTC"
            record = PriceRecord(
                key=str(row["id"]),
                sku=row.get("ref") or None,
                price=decimal(row.get("price_ttc") if tax_included else row.get("price")),
                currency=self.settings.currency,
                vat_rate=decimal(row.get("tva_tx")),
                tax_included=tax_included,
                updated_at=timestamp(row.get("date_modification")),
            )
            own = self._customer_prices(str(row["id"]), set(customers.values())) if customers else {}
            for group in groups:
                price = None
                line = own.get(customers.get(group, ""))
                if line is not None:
                    price = decimal(line.get("price_ttc") if tax_included else line.get("price"))
                if price is None and group in levels:
                    price = level_price(row, levels[group], tax_included=tax_included)
                if price is not None:
                    record.group_prices.append(GroupPrice(group=group, price=price))
            yield record

    def _customer_prices(self, product_id: str, thirdparties: set[str]) -> dict[str, dict[str, Any]]:
        """Thirdparty id -> its first price line for the product (``getSellPrice`` takes ``lines[0]``);
        {} when it has none (Dolibarr answers 404 "Prices not found").

        Raises:
            Fatal: customer prices are off in Dolibarr (400 "API not available").
        """
        # One thirdparty: filtered by the server; several: one unfiltered call, filtered here (the
        # source's filter is one id, ``t.fk_soc``; a comma list was not observed to work).
        only = next(iter(thirdparties)) if len(thirdparties) == 1 else None
        try:
            lines = self.client.find(f"products/{product_id}/selling_multiprices/per_customer", {"thirdparty_id": only})
        except HttpError as error:
            if error.status == 400:
                raise Fatal(
                    "Dolibarr refused customer prices: PRODUIT_CUSTOMER_PRICES is off.",
                    resolution="enable 'prices per customer' (Setup > Modules > Products > price mode)"
                    " or remove customer_prices from the connection.",
                ) from None
            raise
        found: dict[str, dict[str, Any]] = {}
        for line in lines if isinstance(lines, list) else []:
            soc = str(line.get("fk_soc"))
            if soc in thirdparties and soc not in found:
                found[soc] = line
        return found
