"""Registry entry of the Odoo connector (``type = "odoo"``)."""

from __future__ import annotations

from typing import Any

from connectors.erp.odoo.client import OdooClient
from connectors.erp.odoo.connector import OdooConnector
from connectors.erp.odoo.settings import OdooSettings
from connectors.erp.references import context
from connectors.errors import Fatal
from connectors.registry import Resolver

__all__ = ["build"]


def build(options: dict[str, Any], resolver: Resolver, *, connection: str | None = None, **http: Any) -> OdooConnector:
    """The connector of the connection named ``connection``; ``http`` goes to the HTTP client
    (tests pass the fake's ``transport``)."""
    settings = OdooSettings.model_validate({"orders": {}, **options}, context=context(connection))
    api_key = resolver.secret("api_key")
    if not api_key:
        raise Fatal("the Odoo connection has no API key.", resolution='set api_key = "env:ODOO_API_KEY".')
    client = OdooClient(
        settings.url,
        settings.database,
        login=settings.login,
        api_key=api_key,
        language=settings.language,
        company_id=settings.company_id,
        rate_limit=settings.rate_limit,
        timeout=settings.timeout,
        **http,
    )
    return OdooConnector(client, settings)
