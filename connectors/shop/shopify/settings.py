"""The settings of a Shopify connection (``[connections.<name>.shop]`` with ``type = "shopify"``):
docs/shopify.md explains each."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["CONNECTOR_SETTINGS", "ShopifySettings"]


class ShopifySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str
    """The shop's admin domain, ``https://<shop>.myshopify.com``."""
    access_token: str
    """Secret reference to the custom app's Admin API access token: ``env:SHOPIFY_ACCESS_TOKEN``."""
    api_version: str = "2025-01"
    """Admin API version (``/admin/api/<version>/graphql.json``); docs/shopify.md says what newer ones change."""
    timeout: float = 60.0
    max_throttle_wait: float = 120.0
    """The longest wait for the cost bucket to refill before the task gives up (and Prefect retries)."""
    page_size: int = 100
    """Nodes per page when reading (at most 250; a page costs about one point per node)."""
    archive_status: Literal["ARCHIVED", "DRAFT"] = "ARCHIVED"
    """Status of a product gone from the ERP (never deleted)."""
    brand_field: str | None = "brand"
    """The product custom field written as Shopify's ``vendor``; None or ``""``: no vendor."""
    features: dict[str, str] = {}
    """Product custom field -> metafield key in the ``passerelle`` namespace (shown where the theme uses it)."""
    locations: dict[str, str] = {}
    """Shop location name -> Shopify location id (``gid://shopify/Location/1``), when names are ambiguous."""
    notify_customer: bool = True
    """Fulfillments passerelle creates e-mail the customer the tracking number (Shopify's notification)."""
    webhook_secret: str | None = None
    """Secret reference to the app's client secret: verifies ``X-Shopify-Hmac-Sha256`` of webhooks."""
    price_lists: dict[str, str] = {}
    """Canonical customer-group name (an ERP price list of ``[connections.<name>.prices] groups``) ->
    the Shopify Plus B2B price list that holds its prices, by name or id (``gid://shopify/PriceList/1``).
    Empty: customer-group prices are left out. A mapped list belongs to passerelle: a fixed price or
    quantity price break the ERP no longer has is deleted from it (the shop's other lists are untouched)."""


CONNECTOR_SETTINGS = ShopifySettings
"""The model of this connector's options (``connectors.registry.settings_model``)."""
