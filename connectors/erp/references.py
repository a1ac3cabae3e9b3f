"""The reference prefix of web orders in an ERP: ``"<prefix>:<shop order id>"``.

The ERP order sinks key what they write by the shop's ids behind a prefix: a Tryton sale's
``reference`` and its party's identifier, an order file's reference, account and name. The prefix
is one shop's namespace in one ERP: two connections writing to the same ERP with the same prefix
would take one shop's order 42 for the other's (never imported) and merge their customers.

So it defaults to the connection's name in the configuration (:func:`default_prefix`), which the
configuration layer passes to the ERP factories as validation context (:data:`CONNECTION`), and
:func:`namespace` tells the configuration which ERP a connection writes to, so that it refuses two
connections sharing one ERP and one prefix. An explicit ``orders.shop`` always wins (installations
whose sales already carry ``vendure:``, the default before, keep it by setting it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationInfo

__all__ = ["CONNECTION", "LEGACY_PREFIX", "context", "default_prefix", "namespace", "prefix_or_default"]

CONNECTION = "connection"
"""Key of the connection's name in the validation context of an ERP connector's settings."""
LEGACY_PREFIX = "vendure"
"""The prefix of a connector built outside a configuration (no connection name: a script, a
test), and the default of every connection before 2026-07 (docs/orders.md: keeping it)."""
_UNSAFE = re.compile(r"[^a-z0-9_-]+")


def default_prefix(connection: str) -> str:
    """The prefix of a connection without ``orders.shop``: its name, lower-case, every run of
    characters other than letters, digits, ``-`` and ``_`` made one ``-`` (it goes in file names)."""
    return _UNSAFE.sub("-", connection.strip().lower()).strip("-") or "web"


def context(connection: str | None) -> dict[str, Any] | None:
    """Validation context of an ERP connector's settings built for ``connection``."""
    return {CONNECTION: connection} if connection else None


def prefix_or_default(value: Any, info: ValidationInfo) -> Any:
    """Body of the ``shop`` field validators (mode ``before``): an explicit prefix as it is, else
    the connection's default (:data:`LEGACY_PREFIX` without a connection name)."""
    if value is not None and value != "":
        return value
    connection = (info.context or {}).get(CONNECTION)
    return default_prefix(connection) if connection else LEGACY_PREFIX


def namespace(
    kind: str, options: Mapping[str, Any], connection: str, path: Callable[[str], str]
) -> tuple[str, frozenset[str]] | None:
    """(prefix, places) of the web orders a connection's ERP connector writes, or None when it
    writes none. Two connections whose places meet write to the same ERP. ``path`` makes a
    configured path absolute (the configuration's folder).

    A server ERP (Tryton, Dolibarr, Odoo, any connector with a ``url``): the server and database. Files: every folder and export it reads or writes (the
    outbox, the processed folders, the article, stock, price, shipment and invoice exports): one
    GesCom behind them, whatever folder each shop's orders are dropped in.
    """
    orders = _table(options.get("orders"))
    if kind != "files" and options.get("url"):  # a server ERP (Tryton, Dolibarr, Odoo...): its URL and database
        url = str(options.get("url") or "").strip().rstrip("/").lower()
        return _prefix(orders, connection), frozenset({f"{kind} {url} {options.get('database')}"})
    if kind == "files":
        shipments = _table(options.get("shipments"))
        invoices = _table(options.get("invoices"))
        prices = _table(options.get("prices"))
        places = [
            options.get("path"),
            orders.get("outbox"),
            shipments.get("path"),
            _table(options.get("stock")).get("path"),
        ]
        places += [prices.get("path"), _table(prices.get("group_prices")).get("path")]
        places += [invoices.get("folder"), invoices.get("index"), *(orders.get("processed") or [])]
        if not orders and not shipments and not invoices:
            return None
        if orders or shipments:  # the order files' prefix, else the shipments export's
            prefix = _prefix(orders if orders else shipments, connection)
        else:  # invoices only: they have no prefix setting of their own (files.feedback.shop_prefix)
            prefix = LEGACY_PREFIX
        return prefix, frozenset(f"files {path(str(p))}" for p in places if isinstance(p, str) and p)
    return None


def _prefix(orders: Mapping[str, Any], connection: str) -> str:
    return str(orders.get("shop") or default_prefix(connection))


def _table(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
