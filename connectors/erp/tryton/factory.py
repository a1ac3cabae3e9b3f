"""Registry entry of the Tryton connector (catalogue, stock and prices)."""

from __future__ import annotations

from typing import Any

from connectors.erp.references import context
from connectors.erp.tryton.client import TrytonClient
from connectors.erp.tryton.connector import TrytonConnector
from connectors.erp.tryton.settings import TrytonSettings
from connectors.errors import Fatal
from connectors.registry import Resolver


def build(options: dict[str, Any], resolver: Resolver, *, connection: str | None = None) -> TrytonConnector:
    """The connector of the connection named ``connection`` (its default reference prefix)."""
    # ``orders`` validated even when absent: its default prefix is the connection's.
    settings = TrytonSettings.model_validate({"orders": {}, **options}, context=context(connection))
    password = resolver.secret("password")
    if not password:
        raise Fatal("the Tryton connection has no password.", resolution='set password = "env:TRYTON_PASSWORD".')
    client = TrytonClient(
        settings.url,
        settings.database,
        login=settings.login,
        password=password,
        language=settings.language,
        rate_limit=settings.rate_limit,
        timeout=settings.timeout,
    )
    return TrytonConnector(client, settings)
