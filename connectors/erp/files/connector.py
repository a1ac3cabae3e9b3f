"""The files connector: articles, stock levels and prices from GesCom export files."""

from __future__ import annotations

from connectors.erp.files.catalogue import FilesCatalogue
from connectors.erp.files.prices import FilesPrices
from connectors.erp.files.stock import FilesStock

__all__ = ["FilesConnector"]


class FilesConnector(FilesCatalogue, FilesStock, FilesPrices):
    """``CatalogueSource``, ``StockSource`` and ``PriceSource`` over one ``FilesSettings``.

    Each capability reads its own export (``path``, ``stock.path``, ``prices.path``) and raises
    a ``Fatal`` naming the missing setting when the flow asks for one that is not configured.
    """
