"""``passerelle check`` for Shopify: the token accepted (the shop and its currency), the app's
access scopes (``currentAppInstallation.accessScopes``) against those each configured flow needs
(docs/shopify.md), the stock locations of ``[stock.feeds]``. Reads only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.checks import (
    Check,
    CheckNeeds,
    attempt,
    base_url,
    failed,
    missing_names,
    passed,
    permissions_needed,
    quick,
)
from connectors.shop.shopify.client import ShopifyClient

if TYPE_CHECKING:
    from connectors.shop.shopify.settings import ShopifySettings

__all__ = ["SHOPIFY_SCOPES", "ShopifyCheck"]

SHOPIFY_SCOPES: dict[str, tuple[tuple[str, ...], ...]] = {
    # The scope named in messages first, then those that include it (a write scope includes the
    # read one: shopify.dev "access scopes"); the table of docs/shopify.md.
    "catalogue": (("write_products",),),
    "stock": (("write_inventory",), ("read_locations",), ("read_products", "write_products")),
    "prices": (("write_products",),),
    "orders": (("read_orders", "write_orders"), ("read_customers", "write_customers")),
    "feedback": (("write_merchant_managed_fulfillment_orders",), ("write_orders",)),
    "invoices": (("write_orders",),),
}
"""Flow -> the Admin API access scopes it needs."""

SHOP = "query Check { shop { name currencyCode } currentAppInstallation { accessScopes { handle } } }"


class ShopifyCheck:
    """``Checkable`` mixin of :class:`~connectors.shop.shopify.factory.ShopifyShop`."""

    client: ShopifyClient
    settings: ShopifySettings

    if TYPE_CHECKING:  # provided by ShopifyStock

        def _locations(self) -> dict[str, list[str]]: ...

    def check(self, needs: CheckNeeds) -> list[Check]:
        quick(self.client.http)
        url = base_url(self.client.http)
        data, problem = attempt("login", lambda: self.client.execute(SHOP), url=url)
        if problem is not None or data is None:
            return [problem] if problem else []
        shop = data.get("shop") or {}
        checks = [passed("login", f"token accepted: {shop.get('name')} ({shop.get('currencyCode')})")]
        checks += self._scope_checks(needs, data.get("currentAppInstallation") or {})
        if needs.runs("stock") and needs.locations:
            found, problem = attempt("locations", self._locations, url=url)
            known = list(found or {}) + [n for n in self.settings.locations if n not in (found or {})]
            checks += (
                [problem]
                if problem
                else missing_names(
                    "stock location",
                    needs.locations,
                    known,
                    where="Shopify's active locations",
                    resolution="name an active Shopify location (Settings > Locations) in [stock.feeds] location.",
                )
            )
        return checks

    def _scope_checks(self, needs: CheckNeeds, installation: dict[str, Any]) -> list[Check]:
        held = {str(s.get("handle")) for s in installation.get("accessScopes") or []}
        checks = []
        for alternatives, flows in permissions_needed(SHOPIFY_SCOPES, needs).items():
            name = alternatives[0]
            if held & set(alternatives):
                checks.append(passed(f"scope {name}", f"({', '.join(flows)})"))
            else:
                checks.append(
                    failed(
                        f"scope {name}",
                        f"missing: the app's token does not have it (needed by {', '.join(flows)})",
                        f"add {name} to the custom app's Admin API scopes (Settings > Apps > Develop apps > "
                        "Configuration), install the app again and use its new token.",
                    )
                )
        return checks
