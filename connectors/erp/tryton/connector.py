"""The Tryton connector: articles, stock, prices, web orders, their statuses and invoices over one JSON-RPC session."""

from __future__ import annotations

from connectors.erp.tryton.catalogue import TrytonCatalogue
from connectors.erp.tryton.check import TrytonCheck
from connectors.erp.tryton.feedback import TrytonFeedback
from connectors.erp.tryton.invoices import TrytonInvoices
from connectors.erp.tryton.orders import TrytonOrders
from connectors.erp.tryton.prices import TrytonPrices
from connectors.erp.tryton.stock import TrytonStock

__all__ = ["TrytonConnector"]


class TrytonConnector(
    TrytonCatalogue, TrytonStock, TrytonPrices, TrytonOrders, TrytonFeedback, TrytonInvoices, TrytonCheck
):
    """``CatalogueSource``, ``StockSource``, ``PriceSource``, ``OrderSink``, ``StatusSource`` and
    ``InvoiceSource`` over one ``TrytonClient``.

    The three read the same products (``catalogue.PRODUCT_DOMAIN``) under the same keys (the
    product.product id), so a stock level or a price finds the variant the catalogue published.
    Statuses and invoices are those of the sales ``OrderSink`` made (``orders.shop`` reference).
    """
