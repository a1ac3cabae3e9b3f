"""Registry entry of the PrestaShop connector: settings -> client -> shop."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from connectors.errors import Fatal
from connectors.registry import Resolver
from connectors.shop.prestashop.client import PrestaShopClient
from connectors.shop.prestashop.order_mapper import StateRules
from connectors.shop.prestashop.orders import PrestaShopOrders
from connectors.timezones import TimeZoneName

__all__ = ["PrestaShopSettings", "PrestaShopShop", "build"]


class PrestaShopShop(PrestaShopOrders):
    """Every capability of the PrestaShop connector so far: order source."""

    platform = "PrestaShop"


class PrestaShopSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str
    """The shop's root, e.g. ``https://shop.example.com`` (the webservice is under ``/api/``)."""
    key: str
    """Secret reference to the webservice key: ``env:PRESTASHOP_KEY`` or ``block:prestashop-key``."""
    timezone: TimeZoneName = "Europe/Paris"
    """The shop's time zone (International > Localization): ``date_upd`` is wall-clock time there."""
    language: int = 1
    """Language id for names (order states)."""
    cancelled_states: list[int] = [6]
    refunded_states: list[int] = [7]
    error_states: list[int] = [8]
    rate_limit: float | None = None
    timeout: float = 60.0


def build(options: dict[str, Any], resolver: Resolver) -> PrestaShopShop:
    settings = PrestaShopSettings.model_validate(options)
    key = resolver.secret("key")
    if not key:
        raise Fatal("the PrestaShop connection has no webservice key.", resolution='set key = "env:PRESTASHOP_KEY".')
    client = PrestaShopClient(settings.url, key, rate_limit=settings.rate_limit, timeout=settings.timeout)
    states = StateRules(
        cancelled=frozenset(str(i) for i in settings.cancelled_states),
        refunded=frozenset(str(i) for i in settings.refunded_states),
        error=frozenset(str(i) for i in settings.error_states),
    )
    return PrestaShopShop(client, timezone=settings.timezone, language=str(settings.language), states=states)
