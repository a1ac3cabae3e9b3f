"""The files connector: articles, stock levels and prices from GesCom export files; web orders to
order files the GesCom imports; order statuses and invoice PDFs from its exports."""

from __future__ import annotations

from connectors.erp.files.catalogue import FilesCatalogue
from connectors.erp.files.check import FilesCheck
from connectors.erp.files.feedback import FilesFeedback
from connectors.erp.files.invoices import FilesInvoices
from connectors.erp.files.orders import FilesOrders
from connectors.erp.files.prices import FilesPrices
from connectors.erp.files.stock import FilesStock

__all__ = ["FilesConnector"]


class FilesConnector(FilesCatalogue, FilesStock, FilesPrices, FilesOrders, FilesFeedback, FilesInvoices, FilesCheck):
    """``CatalogueSource``, ``StockSource``, ``PriceSource``, ``OrderSink``, ``StatusSource`` and
    ``InvoiceSource`` over one ``FilesSettings``.

    Each capability has its own settings (``path``, ``stock``, ``prices``, ``orders``, ``shipments``,
    ``invoices``) and raises a ``Fatal`` naming the missing setting when the flow asks for one that
    is not configured.
    """
