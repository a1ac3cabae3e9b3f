"""Registry entry of the PrestaShop connector: settings -> client -> shop."""

from __future__ import annotations

from typing import Any

from connectors.errors import Fatal
from connectors.http import CallStats
from connectors.registry import Resolver
from connectors.shop.prestashop.catalogue import PrestaShopCatalogue
from connectors.shop.prestashop.check import PrestaShopCheck
from connectors.shop.prestashop.client import PrestaShopClient
from connectors.shop.prestashop.common import PrestaShopOptions
from connectors.shop.prestashop.feedback import PrestaShopFeedback
from connectors.shop.prestashop.order_mapper import StateRules
from connectors.shop.prestashop.orders import PrestaShopOrders
from connectors.shop.prestashop.settings import PrestaShopSettings
from connectors.shop.prestashop.values import PrestaShopValues

__all__ = ["PrestaShopSettings", "PrestaShopShop", "build", "shop_from"]


class PrestaShopShop(PrestaShopOrders, PrestaShopCatalogue, PrestaShopValues, PrestaShopFeedback, PrestaShopCheck):
    """Every capability of the PrestaShop connector: order source, catalogue, stock and price sink,
    status and document link sink (docs/prestashop.md)."""

    platform = "PrestaShop"

    def __init__(
        self,
        client: PrestaShopClient,
        *,
        timezone: str = "Europe/Paris",
        language: str = "1",
        states: StateRules | None = None,
        options: PrestaShopOptions | None = None,
    ) -> None:
        super().__init__(client, timezone=timezone, language=language, states=states)
        self.options = options or PrestaShopOptions()

    @property
    def stats(self) -> CallStats:
        """The client's request counts: what a run reports as its shop API calls."""
        return self.client.stats


def build(options: dict[str, Any], resolver: Resolver) -> PrestaShopShop:
    settings = PrestaShopSettings.model_validate(options)
    key = resolver.secret("key")
    if not key:
        raise Fatal("the PrestaShop connection has no webservice key.", resolution='set key = "env:PRESTASHOP_KEY".')
    client = PrestaShopClient(
        settings.url,
        key,
        allow_insecure_http=settings.allow_insecure_http,
        rate_limit=settings.rate_limit,
        timeout=settings.timeout,
    )
    return shop_from(settings, client)


def shop_from(settings: PrestaShopSettings, client: PrestaShopClient) -> PrestaShopShop:
    """The shop of validated ``settings`` talking through ``client``."""
    states = StateRules(
        cancelled=frozenset(str(i) for i in settings.cancelled_states),
        refunded=frozenset(str(i) for i in settings.refunded_states),
        error=frozenset(str(i) for i in settings.error_states),
    )
    sink_options = PrestaShopOptions(
        home_category=str(settings.home_category),
        currency=settings.currency,
        groups={name: str(ident) for name, ident in settings.groups.items()},
        processing_state=str(settings.processing_state),
        shipped_state=str(settings.shipped_state),
        delivered_state=str(settings.delivered_state),
        cancelled_state=str(settings.cancelled_state),
        refunded_state=str(settings.refunded_state),
        paid_states=frozenset(str(i) for i in settings.paid_states),
        location_fatal=settings.stock_location_fatal,
        contact_id=str(settings.contact_id),
        employee_id=str(settings.employee_id),
        brand_field=settings.brand_field or None,
        features=dict(settings.features),
    )
    return PrestaShopShop(
        client, timezone=settings.timezone, language=str(settings.language), states=states, options=sink_options
    )
