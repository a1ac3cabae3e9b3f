"""The files connector: articles, stock levels and prices from GesCom export files; web orders to
order files the GesCom imports."""

from __future__ import annotations

from connectors.erp.files.catalogue import FilesCatalogue
from connectors.erp.files.orders import FilesOrders
from connectors.erp.files.prices import FilesPrices
from connectors.erp.files.stock import FilesStock

__all__ = ["FilesConnector"]


class FilesConnector(FilesCatalogue, FilesStock, FilesPrices, FilesOrders):
    """``CatalogueSource``, ``StockSource``, ``PriceSource`` and ``OrderSink`` over one ``FilesSettings``.

    Each capability has its own settings (``path``, ``stock``, ``prices``, ``orders``) and raises
    a ``Fatal`` naming the missing setting when the flow asks for one that is not configured.
    """
