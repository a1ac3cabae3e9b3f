"""``passerelle check`` for Odoo: the server version (``common.version``), the login with the API
key, the access rights each configured flow needs (``check_access_rights``; where a server has no
such method, read rights by a ``search_count`` and the others left to the first write), the
warehouses of ``[stock]`` by code, the pricelists of ``[prices] groups``. Reads only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.checks import (
    FLOWS,
    Check,
    CheckNeeds,
    attempt,
    base_url,
    failed,
    from_error,
    missing_names,
    passed,
    quick,
)
from connectors.erp.odoo.client import OdooClient, OdooError
from connectors.errors import PasserelleError

if TYPE_CHECKING:
    from connectors.erp.odoo.settings import OdooSettings

__all__ = ["ODOO_ACCESS", "OdooCheck"]

_READ = ("read",)
_WRITE = ("read", "create", "write")
_WIZARD = ("create",)

ODOO_ACCESS: dict[str, dict[str, tuple[str, ...]]] = {
    "catalogue": {
        "product.product": _READ,
        "product.template": _READ,
        "product.category": _READ,
        "product.template.attribute.value": _READ,
        "account.tax": _READ,
    },
    "stock": {"product.product": _READ, "stock.warehouse": _READ, "stock.quant": _READ},
    "prices": {"product.product": _READ, "product.pricelist": _READ, "product.pricelist.item": _READ},
    "orders": {
        "product.product": _READ,
        "account.tax": _READ,
        "res.country": _READ,
        "delivery.carrier": _READ,
        "account.journal": _READ,
        "sale.order": _WRITE,
        "res.partner": _WRITE,
        "account.move": _WRITE,
        "sale.advance.payment.inv": _WIZARD,
        "account.payment.register": _WIZARD,
    },
    "feedback": {"sale.order": _READ, "stock.picking": _READ, "account.move": _READ},
    "invoices": {"account.move": _READ, "ir.attachment": _READ},
}
"""Flow -> Odoo model -> the operations its reads and writes need (``ir.model.access``)."""


class OdooCheck:
    """``Checkable`` mixin of :class:`~connectors.erp.odoo.connector.OdooConnector`."""

    client: OdooClient
    settings: OdooSettings

    if TYPE_CHECKING:  # provided by OdooStock

        def warehouses(self) -> list[str]: ...

    def check(self, needs: CheckNeeds) -> list[Check]:
        client = self.client
        quick(client.http)
        url = base_url(client.http)
        info, problem = attempt("server", lambda: client._rpc("common", "version", [], idempotent=True), url=url)
        if problem is not None:
            return [problem]
        version = (info or {}).get("server_version", "?") if isinstance(info, dict) else "?"
        _, problem = attempt("login", client.authenticate, url=url)
        if problem is not None:
            return [problem]
        checks = [passed("login", f"as {client._login} on database {client.database!r} (Odoo {version})")]
        checks += self._access_checks(needs)
        if needs.warehouses:
            known, problem = attempt("warehouses", self.warehouses, url=url)
            checks += (
                [problem]
                if problem
                else missing_names(
                    "warehouse",
                    needs.warehouses,
                    known or [],
                    where="Odoo (stock.warehouse, by code)",
                    resolution="use the short name (code) of an Odoo warehouse in [stock] warehouses / feeds.",
                )
            )
        if needs.groups and needs.runs("prices"):
            rows, problem = attempt(
                "pricelists", lambda: client.model("product.pricelist").search_read([], ["name"]), url=url
            )
            checks += (
                [problem]
                if problem
                else missing_names(
                    "customer group (pricelist)",
                    needs.groups,
                    [str(r["name"]) for r in rows or []],
                    where="Odoo's active pricelists",
                    resolution="create the pricelist in Odoo (Sales > Products > Pricelists) or fix [prices] groups.",
                )
            )
        return checks

    def _access_checks(self, needs: CheckNeeds) -> list[Check]:
        wanted: dict[str, dict[str, list[str]]] = {}  # model -> operation -> flows
        for flow, models in ODOO_ACCESS.items():
            if flow in needs.flows:
                for model, operations in models.items():
                    for operation in operations:
                        wanted.setdefault(model, {}).setdefault(operation, []).append(flow)
        checks: list[Check] = []
        unchecked: set[str] = set()
        login = self.client._login
        for model, by_operation in wanted.items():
            refused: list[str] = []
            for operation in by_operation:
                try:
                    allowed = self._allowed(model, operation)
                except OdooError as exc:
                    if "KeyError" in exc.name:
                        checks.append(
                            failed(
                                f"access {model}",
                                f"Odoo has no model {model}",
                                "install the Odoo app that provides it (docs/odoo.md lists them per flow).",
                            )
                        )
                        break
                    checks.append(from_error(f"access {model}", exc))
                    break
                except PasserelleError as exc:
                    checks.append(from_error(f"access {model}", exc))
                    break
                if allowed is None:
                    unchecked.add(operation)
                elif not allowed:
                    refused.append(operation)
            if refused:
                flows = [f for f in FLOWS if any(f in by_operation[op] for op in refused)]
                checks.append(
                    failed(
                        f"access {model}",
                        f"refused to {login!r} for {'/'.join(refused)} (needed by {', '.join(flows)})",
                        f"give {login!r} the groups docs/odoo.md lists for these flows (Settings > Users), "
                        "or use another user.",
                    )
                )
        if wanted and not checks:
            flows = [f for f in FLOWS if f in needs.flows]
            left = f"; {'/'.join(sorted(unchecked))} shown at the first write" if unchecked else ""
            checks.append(passed("access rights", f"{len(wanted)} models as {', '.join(flows)} need them{left}"))
        return checks

    def _allowed(self, model: str, operation: str) -> bool | None:
        """Whether the user may ``operation`` ``model``; None when this server cannot say without
        doing it (no ``check_access_rights``: only a read is tried)."""
        try:
            return bool(self.client.execute(model, "check_access_rights", operation, raise_exception=False))
        except OdooError as exc:
            if "AttributeError" not in exc.name:
                raise
        if operation != "read":
            return None
        try:
            self.client.execute(model, "search_count", [("id", "=", 0)])
        except OdooError as exc:
            if exc.name == "odoo.exceptions.AccessError":
                return False
            raise
        return True
