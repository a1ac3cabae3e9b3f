"""The Dolibarr connector: articles, stock, prices and web orders over one REST client."""

from __future__ import annotations

from connectors.erp.dolibarr.catalogue import DolibarrCatalogue
from connectors.erp.dolibarr.check import DolibarrCheck
from connectors.erp.dolibarr.feedback import DolibarrFeedback
from connectors.erp.dolibarr.invoices import DolibarrInvoices
from connectors.erp.dolibarr.orders import DolibarrOrders
from connectors.erp.dolibarr.prices import DolibarrPrices
from connectors.erp.dolibarr.stock import DolibarrStock

__all__ = ["DolibarrConnector"]


class DolibarrConnector(
    DolibarrCatalogue, DolibarrStock, DolibarrPrices, DolibarrOrders, DolibarrFeedback, DolibarrInvoices, DolibarrCheck
):
    """``CatalogueSource``, ``StockSource``, ``PriceSource``, ``OrderSink``, ``StatusSource`` and
    ``InvoiceSource`` over one
    ``DolibarrClient``; the three readers key articles by the product's rowid."""
