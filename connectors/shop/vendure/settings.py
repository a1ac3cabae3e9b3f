"""The settings of a Vendure connection (``[connections.<name>.shop]`` with ``type = "vendure"``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from connectors.shop.vendure.client import DEFAULT_MAX_REQUEST_BYTES

__all__ = ["CONNECTOR_SETTINGS", "VendureSettings"]


class VendureSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str
    """Admin API endpoint, e.g. ``https://shop.example.com/admin-api``."""
    username: str
    """The Vendure administrator passerelle logs in as (a role with only the permissions its flows
    need: docs/operations.md)."""
    password: str
    """Secret reference: ``env:VENDURE_PASSWORD`` or ``block:vendure-password``."""
    channel_token: str | None = None
    """The channel to work in; unset: the default channel."""
    language: str | None = None
    """Language code of the names written; unset: the channel's default language."""
    category_facet: str = "category"
    """Code of the facet whose values are the categories."""
    rate_limit: float | None = None
    timeout: float = 60.0
    max_request_bytes: int = Field(default=DEFAULT_MAX_REQUEST_BYTES, ge=10_000)
    """Largest request body sent: Vendure refuses bodies over 100 kB unless its server raises the limit."""


CONNECTOR_SETTINGS = VendureSettings
"""The model of this connector's options (``connectors.registry.settings_model``)."""
