"""The settings of a Vendure connection (``[connections.<name>.shop]`` with ``type = "vendure"``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from connectors.shop.vendure.client import DEFAULT_MAX_REQUEST_BYTES

__all__ = ["VendureSettings"]


class VendureSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str
    """Admin API endpoint, e.g. ``https://shop.example.com/admin-api``."""
    username: str
    password: str
    """Secret reference: ``env:VENDURE_PASSWORD`` or ``block:vendure-password``."""
    channel_token: str | None = None
    language: str | None = None
    category_facet: str = "category"
    rate_limit: float | None = None
    timeout: float = 60.0
    max_request_bytes: int = Field(default=DEFAULT_MAX_REQUEST_BYTES, ge=10_000)
    """Largest request body sent: Vendure refuses bodies over 100 kB unless its server raises the limit."""
