"""The Odoo connector: articles, stock, prices, web orders, their statuses and invoices over one ``OdooClient``."""

from __future__ import annotations

from connectors.erp.odoo.catalogue import OdooCatalogue
from connectors.erp.odoo.check import OdooCheck
from connectors.erp.odoo.feedback import OdooFeedback
from connectors.erp.odoo.orders import OdooOrders
from connectors.erp.odoo.prices import OdooPrices
from connectors.erp.odoo.stock import OdooStock

__all__ = ["OdooConnector"]


class OdooConnector(OdooCatalogue, OdooStock, OdooPrices, OdooOrders, OdooFeedback, OdooCheck):
    """``CatalogueSource``, ``StockSource``, ``PriceSource``, ``OrderSink``, ``StatusSource`` and
    ``InvoiceSource`` over one ``OdooClient``.

    The three read the same products (``catalogue.PRODUCT_DOMAIN``) under the same keys (the
    product.product id), so a stock level or a price finds the variant the catalogue published.
    """
