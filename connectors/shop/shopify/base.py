"""What every Shopify capability mixin shares: the client, the settings, the call counts."""

from __future__ import annotations

from typing import Any

from connectors.shop.shopify.client import ShopifyClient
from connectors.shop.shopify.settings import ShopifySettings

__all__ = ["ShopifyBase"]


class ShopifyBase:
    """The state of one Shopify connection; each capability module adds a mixin over it."""

    platform = "Shopify"

    def __init__(self, client: ShopifyClient, settings: ShopifySettings) -> None:
        self.client = client
        self.settings = settings

    @property
    def stats(self) -> Any:
        """The client's call counts: what the flow summaries report as ``api_calls``."""
        return self.client.stats

    def close(self) -> None:
        self.client.close()
