"""Registry entry of the files connector."""

from __future__ import annotations

from typing import Any

from connectors.erp.files.connector import FilesConnector
from connectors.erp.files.settings import FilesSettings
from connectors.erp.references import context
from connectors.registry import Resolver


def build(options: dict[str, Any], resolver: Resolver, *, connection: str | None = None) -> FilesConnector:
    """The connector with every export path, the order outbox, the processed folders and the invoice
    folder made absolute against the configuration's folder; ``connection`` names the connection
    (the default reference prefix of its order files and shipments)."""
    settings = FilesSettings.model_validate(options, context=context(connection))
    if settings.path is not None:
        settings.path = resolver.path(settings.path)
    if settings.stock is not None:
        settings.stock.path = resolver.path(settings.stock.path)
    if settings.prices is not None:
        if settings.prices.path is not None:
            settings.prices.path = resolver.path(settings.prices.path)
        if settings.prices.group_prices is not None:
            settings.prices.group_prices.path = resolver.path(settings.prices.group_prices.path)
    if settings.orders is not None:
        settings.orders.outbox = resolver.path(settings.orders.outbox)
        settings.orders.processed = [resolver.path(entry) for entry in settings.orders.processed]
    if settings.shipments is not None:
        settings.shipments.path = resolver.path(settings.shipments.path)
    if settings.invoices is not None:
        settings.invoices.folder = resolver.path(settings.invoices.folder)
        if settings.invoices.index is not None:
            settings.invoices.index = resolver.path(settings.invoices.index)
    return FilesConnector(settings)
