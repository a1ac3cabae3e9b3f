"""Registry entry of the Vendure connector: settings -> client -> sink."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from connectors.errors import Fatal
from connectors.registry import Resolver
from connectors.shop.vendure.catalogue import VendureCatalogue
from connectors.shop.vendure.client import DEFAULT_MAX_REQUEST_BYTES, VendureClient
from connectors.shop.vendure.feedback import VendureFeedback
from connectors.shop.vendure.orders import VendureOrders
from connectors.shop.vendure.values import VendureValues


class VendureShop(VendureCatalogue, VendureValues, VendureOrders, VendureFeedback):
    """Every capability of the Vendure connector: catalogue, stock and price sink, order source,
    status and document link sink."""


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


def build(options: dict[str, Any], resolver: Resolver) -> VendureShop:
    settings = VendureSettings.model_validate(options)
    password = resolver.secret("password")
    if not password:
        raise Fatal("the Vendure connection has no password.", resolution='set password = "env:VENDURE_PASSWORD".')
    client = VendureClient(
        settings.url,
        username=settings.username,
        password=password,
        channel_token=settings.channel_token,
        rate_limit=settings.rate_limit,
        timeout=settings.timeout,
        max_request_bytes=settings.max_request_bytes,
    )
    return VendureShop(client, language=settings.language, category_facet=settings.category_facet)
