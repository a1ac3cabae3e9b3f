"""WooCommerce (REST API v3) shop connector: catalogue, stock and price sink, order source, status
and document link sink (see docs/woocommerce.md).

``build`` is the registry entry (``connectors.shop.woocommerce:build``): settings -> client -> shop.
"""

from __future__ import annotations

from typing import Any, Literal

from connectors.errors import Fatal
from connectors.registry import Resolver
from connectors.shop.woocommerce.catalogue import WooCommerceCatalogue
from connectors.shop.woocommerce.check import WooCommerceCheck
from connectors.shop.woocommerce.client import WooCommerceClient
from connectors.shop.woocommerce.feedback import WooCommerceFeedback
from connectors.shop.woocommerce.orders import WooCommerceOrders
from connectors.shop.woocommerce.settings import WooCommerceSettings
from connectors.shop.woocommerce.values import WooCommerceValues

__all__ = ["WooCommerceSettings", "WooCommerceShop", "build"]


class WooCommerceShop(
    WooCommerceCatalogue, WooCommerceValues, WooCommerceOrders, WooCommerceFeedback, WooCommerceCheck
):
    """Every capability of the WooCommerce connector: catalogue, stock and price sink, order source,
    status and document link sink."""

    platform = "WooCommerce"

    def __init__(
        self,
        client: WooCommerceClient,
        *,
        archive_status: Literal["draft", "private"] = "draft",
        shipped_status: str = "completed",
        delivered_status: str = "completed",
        status_map: dict[str, str] | None = None,
        brand_field: str | None = "brand",
        features: dict[str, str] | None = None,
    ) -> None:
        self.client = client
        self.archive_status = archive_status
        self.shipped_status = shipped_status
        self.delivered_status = delivered_status
        self.status_map = dict(status_map or {})
        self.brand_field = brand_field
        self.features = dict(features or {})

    @property
    def stats(self) -> Any:
        """The client's call counts: what the flow summaries report as ``api_calls``."""
        return self.client.stats


def build(options: dict[str, Any], resolver: Resolver) -> WooCommerceShop:
    settings = WooCommerceSettings.model_validate(options)
    key, secret = resolver.secret("consumer_key"), resolver.secret("consumer_secret")
    if not key or not secret:
        raise Fatal(
            "the WooCommerce connection has no consumer key or secret.",
            resolution='set consumer_key = "env:WC_CONSUMER_KEY" and consumer_secret = "env:WC_CONSUMER_SECRET".',
        )
    client = WooCommerceClient(
        settings.url,
        consumer_key=key,
        consumer_secret=secret,
        auth=settings.auth,
        rate_limit=settings.rate_limit,
        timeout=settings.timeout,
    )
    return WooCommerceShop(
        client,
        archive_status=settings.archive_status,
        shipped_status=settings.shipped_status,
        delivered_status=settings.delivered_status,
        status_map=settings.status_map,
        brand_field=settings.brand_field,
        features=settings.features,
    )
