"""WooCommerce (REST API v3) shop connector: catalogue, stock and price sink, order source, status
and document link sink (see docs/woocommerce.md).

``build`` is the registry entry (``connectors.shop.woocommerce:build``): settings -> client -> shop.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from connectors.errors import Fatal
from connectors.registry import Resolver
from connectors.shop.woocommerce.catalogue import WooCommerceCatalogue
from connectors.shop.woocommerce.client import WooCommerceClient
from connectors.shop.woocommerce.feedback import WooCommerceFeedback
from connectors.shop.woocommerce.orders import WooCommerceOrders
from connectors.shop.woocommerce.values import WooCommerceValues

__all__ = ["WooCommerceSettings", "WooCommerceShop", "build"]


class WooCommerceShop(WooCommerceCatalogue, WooCommerceValues, WooCommerceOrders, WooCommerceFeedback):
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
    archive_status: Literal["draft", "private"] = "draft"
    """Status of a product gone from the ERP (never deleted): ``draft`` (hidden) or ``private``."""
    shipped_status: str = "completed"
    """WooCommerce status an order moves to when the ERP ships it (``completed`` e-mails the customer)."""
    delivered_status: str = "completed"
    """WooCommerce status for a delivered order: ``completed``, or a custom status the shop defines."""
    status_map: dict[str, str] = {}
    """Extra WooCommerce status -> canonical status when reading (``{delivered = "delivered"}`` for a
    shop with a "delivered" custom status); over the built-in map (completed -> shipped, ...)."""
    brand_field: str | None = "brand"
    """The product custom field holding the brand name (``fields = {"custom_fields.brand" = ...}`` in
    the catalogue settings); None or ``""`` (TOML has no null): no brand. WooCommerce 9.6+ gets it as the product's brand (found by
    name or created), an older one in the ``_passerelle_brand`` meta. An empty field removes the brand."""
    features: dict[str, str] = {}
    """Product custom field -> WooCommerce attribute name (``{composition = "Composition"}``): shown in
    the product page's "Additional information" tab (global attribute, found by name or created, its
    term added). An empty field removes that feature. Passerelle then owns the product's attribute list."""


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
