"""The settings of a WooCommerce connection (``[connections.<name>.shop]`` with ``type = "woocommerce"``):
docs/woocommerce.md explains each."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["CONNECTOR_SETTINGS", "WooCommerceSettings"]


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


CONNECTOR_SETTINGS = WooCommerceSettings
"""The model of this connector's options (``connectors.registry.settings_model``)."""
