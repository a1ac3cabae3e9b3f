"""Connector name -> class, built from (already resolved) settings.

Imports are lazy so a deployment only loads the platforms it uses. Each factory receives the
connector's own options (a dict validated by that connector's settings model) and a
:class:`Resolver` from the configuration layer, which turns secret references and relative
paths into values; connectors never read the environment themselves. ERP factories also get the
connection's name: the default prefix of the web orders they write (``connectors.erp.references``).
"""

from __future__ import annotations

import difflib
import importlib
from typing import Any, Protocol

from connectors.errors import Fatal

__all__ = ["ERP_CONNECTORS", "SHOP_CONNECTORS", "Resolver", "build", "connector_target", "require", "settings_model"]


class Resolver(Protocol):
    def secret(self, option: str) -> str | None:
        """The secret value referenced by ``options[option]`` (``env:NAME``, ``block:NAME``)."""
        ...

    def path(self, value: str) -> str:
        """A path from the configuration, absolute against the configuration file's folder."""
        ...


ERP_CONNECTORS: dict[str, str] = {
    "tryton": "connectors.erp.tryton.factory:build",
    "files": "connectors.erp.files.factory:build",
    "dolibarr": "connectors.erp.dolibarr.factory:build",
    "odoo": "connectors.erp.odoo.factory:build",
}
SHOP_CONNECTORS: dict[str, str] = {
    "vendure": "connectors.shop.vendure.factory:build",
    "prestashop": "connectors.shop.prestashop.factory:build",
    "woocommerce": "connectors.shop.woocommerce:build",
    "shopify": "connectors.shop.shopify.factory:build",
}


def connector_target(side: str, kind: str, *, where: str = "") -> str:
    """The factory path (``module:function``) of the ``kind`` connector of ``side``.

    Raises:
        Fatal: an unknown type, with the closest known one and the list (``where`` prefixes the message).
    """
    table = ERP_CONNECTORS if side == "erp" else SHOP_CONNECTORS
    target = table.get(kind)
    if target is None:
        close = difflib.get_close_matches(kind, list(table), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise Fatal(
            f"{where}unknown {side} connector type {kind!r}{hint}.",
            resolution=f"use one of: {', '.join(sorted(table))}.",
        )
    return target


def build(side: str, kind: str, options: dict[str, Any], resolver: Resolver, *, connection: str | None = None) -> Any:
    """Instantiate the ``kind`` connector of ``side`` ("erp" or "shop") of the connection named
    ``connection`` (None: outside a configuration)."""
    module_name, _, attr = connector_target(side, kind).partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    if side == "erp":
        return factory(options, resolver, connection=connection)
    return factory(options, resolver)


def settings_model(side: str, kind: str) -> Any:
    """The pydantic model of the ``kind`` connector's options: ``CONNECTOR_SETTINGS`` of the
    ``settings`` module of the package that holds its factory (each platform package has one).

    Raises:
        Fatal: an unknown type (as :func:`connector_target`).
    """
    module = importlib.import_module(connector_target(side, kind).partition(":")[0])
    package = module.__package__ or module.__name__
    return importlib.import_module(f"{package}.settings").CONNECTOR_SETTINGS


def require(connector: Any, capability: type, *, what: str) -> Any:
    """The connector if it implements ``capability``, else a Fatal naming what is missing."""
    if not isinstance(connector, capability):
        raise Fatal(
            f"the configured {getattr(connector, 'platform', type(connector).__name__)} connector cannot {what}.",
            resolution="pick a connector that supports it, or do not deploy this flow for this connection.",
        )
    return connector
