"""WooCommerce (REST API v3) shop connector: an order source for now.

``build`` is the registry entry (``connectors.shop.woocommerce:build``): settings -> client -> shop.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from connectors.errors import Fatal
from connectors.registry import Resolver
from connectors.shop.woocommerce.client import WooCommerceClient
from connectors.shop.woocommerce.orders import WooCommerceOrders

__all__ = ["WooCommerceSettings", "WooCommerceShop", "build"]


class WooCommerceShop(WooCommerceOrders):
    """Every capability of the WooCommerce connector so far: the order source."""

    platform = "WooCommerce"

    def __init__(self, client: WooCommerceClient) -> None:
        self.client = client


class WooCommerceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str
    """The shop's HTTPS URL, e.g. ``https://shop.example.com`` (the API is ``<url>/wp-json/wc/v3``)."""
    consumer_key: str
    """Secret reference: ``env:WC_CONSUMER_KEY`` or ``block:wc-consumer-key``."""
    consumer_secret: str
    """Secret reference: ``env:WC_CONSUMER_SECRET`` or ``block:wc-consumer-secret``."""
    auth: Literal["basic", "oauth1"] = "basic"
    """``basic`` over HTTPS; ``oauth1`` (signed query strings) for a shop only reachable over plain HTTP."""
    rate_limit: float | None = None
    timeout: float = 60.0


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
    return WooCommerceShop(client)
