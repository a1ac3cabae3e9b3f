"""Registry entry of the Vendure connector: settings -> client -> sink."""

from __future__ import annotations

from typing import Any

from connectors.errors import Fatal
from connectors.registry import Resolver
from connectors.shop.vendure.catalogue import VendureCatalogue
from connectors.shop.vendure.check import VendureCheck
from connectors.shop.vendure.client import VendureClient
from connectors.shop.vendure.feedback import VendureFeedback
from connectors.shop.vendure.orders import VendureOrders
from connectors.shop.vendure.reader import VendureReader
from connectors.shop.vendure.settings import VendureSettings
from connectors.shop.vendure.values import VendureValues


class VendureShop(VendureCatalogue, VendureValues, VendureReader, VendureOrders, VendureFeedback, VendureCheck):
    """Every capability of the Vendure connector: catalogue, stock and price sink, order source,
    status and document link sink; the read back of products and prices (dry run diffs)."""


def build(options: dict[str, Any], resolver: Resolver) -> VendureShop:
    settings = VendureSettings.model_validate(options)
    password = resolver.secret("password")
    if not password:
        raise Fatal("the Vendure connection has no password.", resolution='set password = "env:VENDURE_PASSWORD".')
    client = VendureClient(
        settings.url,
        username=settings.username,
        password=password,
        channel_token=settings.channel_token,
        rate_limit=settings.rate_limit,
        timeout=settings.timeout,
        max_request_bytes=settings.max_request_bytes,
    )
    return VendureShop(client, language=settings.language, category_facet=settings.category_facet)
