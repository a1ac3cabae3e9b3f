"""Registry entry of the Dolibarr connector."""

from __future__ import annotations

from typing import Any

import httpx

from connectors.erp.dolibarr.client import DolibarrClient
from connectors.erp.dolibarr.connector import DolibarrConnector
from connectors.erp.dolibarr.settings import DolibarrSettings
from connectors.erp.references import context
from connectors.errors import Fatal
from connectors.registry import Resolver

__all__ = ["build"]


def build(
    options: dict[str, Any],
    resolver: Resolver,
    *,
    connection: str | None = None,
    transport: httpx.BaseTransport | None = None,
) -> DolibarrConnector:
    """The connector of the connection named ``connection`` (its default reference prefix)."""
    settings = DolibarrSettings.model_validate({"orders": {}, **options}, context=context(connection))
    api_key = resolver.secret("api_key")
    if not api_key:
        raise Fatal("the Dolibarr connection has no API key.", resolution='set api_key = "env:DOLIBARR_API_KEY".')
    client = DolibarrClient(
        settings.url, api_key, rate_limit=settings.rate_limit, timeout=settings.timeout, transport=transport
    )
    return DolibarrConnector(client, settings)
