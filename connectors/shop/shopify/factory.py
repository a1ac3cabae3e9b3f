"""Settings -> client -> shop: the registry entry of the Shopify connector (docs/shopify.md)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from connectors.errors import Fatal
from connectors.registry import Resolver
from connectors.shop.shopify.catalogue import ShopifyCatalogue
from connectors.shop.shopify.check import ShopifyCheck
from connectors.shop.shopify.client import ShopifyClient
from connectors.shop.shopify.feedback import ShopifyFeedback
from connectors.shop.shopify.orders import ShopifyOrders
from connectors.shop.shopify.prices import ShopifyPrices
from connectors.shop.shopify.settings import ShopifySettings
from connectors.shop.shopify.stock import ShopifyStock

__all__ = ["ShopifyShop", "build"]


class ShopifyShop(ShopifyCatalogue, ShopifyPrices, ShopifyStock, ShopifyOrders, ShopifyFeedback, ShopifyCheck):
    """Every capability of the Shopify connector."""


def build(options: dict[str, Any], resolver: Resolver, **client: Any) -> ShopifyShop:
    settings = ShopifySettings.model_validate(options)
    token = resolver.secret("access_token")
    if not token:
        raise Fatal(
            "the Shopify connection has no Admin API access token.",
            resolution='set access_token = "env:SHOPIFY_ACCESS_TOKEN" (the custom app\'s token, docs/shopify.md).',
        )
    parts = urlsplit(settings.url)
    loopback = parts.hostname in {"127.0.0.1", "localhost", "::1"}
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise Fatal(
            f"the Shopify URL must be https:// (got {parts.scheme or 'no'} scheme): the token would travel in clear.",
            resolution="use https://<shop>.myshopify.com.",
        )
    return ShopifyShop(
        ShopifyClient(
            settings.url,
            token=token,
            api_version=settings.api_version,
            timeout=settings.timeout,
            max_throttle_wait=settings.max_throttle_wait,
            **client,
        ),
        settings,
    )
