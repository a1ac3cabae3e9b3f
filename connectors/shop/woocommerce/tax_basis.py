"""What a WooCommerce shop's settings say about the prices it stores (read once per connector).

``woocommerce_prices_include_tax`` (WooCommerce > Settings > Tax > "Prices entered with tax") is
read with ``GET /settings/tax/woocommerce_prices_include_tax`` (the route is in the captured index;
the option's values ``yes`` / ``no`` are WooCommerce's, ``settings-tax.php``). The tax settings
group exists only when taxes are enabled: a 404 there means WooCommerce adds no tax at all, and
the price a product holds is what customers pay.
"""

from __future__ import annotations

from connectors.http import HttpError
from connectors.shop.woocommerce.client import WooCommerceClient

__all__ = ["PRICES_INCLUDE_TAX", "ShopTaxBasis"]

PRICES_INCLUDE_TAX = "settings/tax/woocommerce_prices_include_tax"


class ShopTaxBasis:
    """Mixed into the catalogue and the price sink: the tax basis of the shop's prices."""

    client: WooCommerceClient

    def _prices_include_tax(self) -> bool | None:
        """True: the shop's prices include tax; False: they exclude it; None: taxes are off (the
        shop adds none: send the ERP's price as the ERP states it). Read once per connector."""
        if not hasattr(self, "_prices_include_tax_cache"):
            try:
                value = self.client.get(PRICES_INCLUDE_TAX).json().get("value")
            except HttpError as exc:
                if exc.status != 404:
                    raise
                self._prices_include_tax_cache: bool | None = None
            else:
                self._prices_include_tax_cache = str(value).lower() == "yes"
        return self._prices_include_tax_cache
