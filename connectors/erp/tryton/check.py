"""``passerelle check`` for Tryton: server version, login, the access rights each configured flow
needs, the warehouses and price lists the configuration names, the order setup. Reads only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
from connectors.erp.tryton.client import TrytonClient, TrytonError
from connectors.errors import PasserelleError

if TYPE_CHECKING:
    from connectors.erp.tryton.order_rules import _Setup
    from connectors.erp.tryton.settings import TrytonSettings

__all__ = ["TrytonCheck", "TRYTON_ACCESS"]

_READ = ("read",)
_WRITE = ("read", "create", "write")

TRYTON_ACCESS: dict[str, dict[str, tuple[str, ...]]] = {
    "catalogue": {
        "product.product": _READ,
        "product.template": _READ,
        "product.category": _READ,
        "product.identifier": _READ,
        "product.attribute": _READ,
        "account.tax": _READ,
    },
    "stock": {"product.product": _READ, "stock.location": _READ, "stock.move": _READ},
    "prices": {
        "product.product": _READ,
        "product.price_list": _READ,
        "product.price_list.line": _READ,
        "sale.promotion": _READ,
    },
    "orders": {
        "product.product": _READ,
        "account.tax": _READ,
        "carrier": _READ,
        "country.country": _READ,
        "currency.currency": _READ,
        "account.invoice.payment_term": _READ,
        "account.invoice.payment.method": _READ,
        "sale.advance_payment_term": _READ,
        "sale.sale": _WRITE,
        "party.party": _WRITE,
        "party.address": _WRITE,
        "party.contact_mechanism": _WRITE,
        "party.identifier": _WRITE,
        "account.invoice": _WRITE,
    },
    "feedback": {"sale.sale": _READ, "stock.shipment.out": _READ, "account.invoice": _READ},
    "invoices": {"account.invoice": _READ, "sale.sale": _READ},
}
"""Flow -> Tryton model -> the access modes its reads and writes need (``ir.model.access``)."""


class TrytonCheck:
    """``Checkable`` mixin of :class:`~connectors.erp.tryton.connector.TrytonConnector`."""

    client: TrytonClient
    settings: TrytonSettings

    if TYPE_CHECKING:  # provided by TrytonStock and TrytonOrderSetup

        def warehouses(self) -> list[str]: ...

        def _setup(self) -> _Setup: ...

    def check(self, needs: CheckNeeds) -> list[Check]:
        client = self.client
        quick(client.http)
        url = base_url(client.http)
        version, problem = attempt("server", lambda: self._server_version(), url=url)
        if problem is not None:
            return [problem]
        _, problem = attempt("login", client.login, url=url)
        if problem is not None:
            return [problem]
        checks = [passed("login", f"as {self.settings.login} on database {client.database!r} (Tryton {version})")]
        checks += self._access_checks(needs)
        if needs.warehouses:
            known, problem = attempt("warehouses", self.warehouses, url=url)
            checks += [problem] if problem else self._named("warehouse", needs.warehouses, known or [])
        if needs.groups and needs.runs("prices"):
            rows, problem = attempt(
                "price lists",
                lambda: client.model("product.price_list").search_read([], ["name"]),
                url=url,
            )
            names = [str(r["name"]) for r in rows or []]
            checks += (
                [problem]
                if problem
                else missing_names(
                    "customer group (price list)",
                    needs.groups,
                    names,
                    where="Tryton's active price lists",
                    resolution="create the price list in Tryton (Product > Price Lists) or fix [prices] groups.",
                )
            )
        if needs.runs("orders"):
            _, problem = attempt("order setup", self._setup, url=url)
            checks.append(
                problem
                or passed(
                    "order setup",
                    f"warehouse {self.settings.orders.warehouse!r}, service products, payment terms and methods found",
                )
            )
        return checks

    def _server_version(self) -> str:
        """``common.server.version`` (answered without a session at the server's ``/rpc/``)."""
        response = self.client.http.request(
            "POST", "rpc/", json={"id": 0, "method": "common.server.version", "params": []}, idempotent=True
        )
        try:
            return str(response.json().get("result") or "?")
        except ValueError:
            return "?"

    def _named(self, kind: str, wanted: tuple[str, ...], known: list[str]) -> list[Check]:
        return missing_names(
            kind,
            wanted,
            known,
            where="Tryton (stock locations of type warehouse, by code)",
            resolution="use the code of a Tryton warehouse in [stock] warehouses / feeds and "
            "[erp.orders] warehouse, or give the warehouse that code in Tryton.",
        )

    def _access_checks(self, needs: CheckNeeds) -> list[Check]:
        """One failed check per model the user may not read / create / write as a flow needs,
        or one passed check for them all."""
        wanted: dict[str, dict[str, list[str]]] = {}  # model -> mode -> flows
        for flow, models in TRYTON_ACCESS.items():
            if flow in needs.flows:
                for model, modes in models.items():
                    for mode in modes:
                        wanted.setdefault(model, {}).setdefault(mode, []).append(flow)
        if not wanted:
            return []
        access, unknown, problem = self._access(list(wanted))
        if problem is not None:
            return [problem]
        checks: list[Check] = []
        login = self.settings.login
        for model in unknown:
            flows = [f for f in FLOWS if any(f in fs for fs in wanted[model].values())]
            checks.append(
                failed(
                    f"access {model}",
                    f"Tryton has no model {model} ({', '.join(flows)})",
                    "activate the Tryton module that provides it (deployments/sandbox/tryton/requirements.txt "
                    "lists the ones passerelle uses).",
                )
            )
        for model, by_mode in wanted.items():
            rights = access.get(model)
            if rights is None:
                continue
            refused = [mode for mode in by_mode if not rights.get(mode)]
            if refused:
                flows = [f for f in FLOWS if any(f in by_mode[mode] for mode in refused)]
                groups = self._groups_allowing(model, refused)
                hint = f"a group that may do it ({', '.join(groups)})" if groups else "a group that may do it"
                checks.append(
                    failed(
                        f"access {model}",
                        f"refused to {login!r} for {'/'.join(refused)} (needed by {', '.join(flows)})",
                        f"add {login!r} to {hint} in Tryton (Administration > Users > Groups), or use another user.",
                    )
                )
        if not checks:
            flows = [f for f in FLOWS if f in needs.flows]
            checks.append(passed("access rights", f"{len(wanted)} models as {', '.join(flows)} need them"))
        return checks

    def _access(self, models: list[str]) -> tuple[dict[str, Any], list[str], Check | None]:
        """``ir.model.access.get_access`` of ``models`` (one call; one per model when Tryton does
        not know one of them): (rights by model, unknown models, failure)."""
        get = self.client.model("ir.model.access").get_access
        try:
            return dict(get(models)), [], None
        except TrytonError as exc:
            if not (exc.kind.startswith("'") or exc.kind == "KeyError"):
                return {}, [], from_error("access rights", exc)
        except PasserelleError as exc:
            return {}, [], from_error("access rights", exc)
        rights: dict[str, Any] = {}
        unknown: list[str] = []
        for model in models:
            try:
                rights.update(get([model]))
            except TrytonError:
                unknown.append(model)
        return rights, unknown, None

    def _groups_allowing(self, model: str, modes: list[str]) -> list[str]:
        """Names of the Tryton groups that have every mode of ``modes`` on ``model`` (empty when
        the user may not read the access table)."""
        domain: list[Any] = [("model", "=", model), ("group", "!=", None)]
        domain += [(f"perm_{mode}", "=", True) for mode in modes]
        try:
            rows = self.client.model("ir.model.access").search_read(domain, ["group.name"])
        except Exception:  # noqa: BLE001 - only a hint
            return []
        return sorted({str((row.get("group.") or {}).get("name")) for row in rows if row.get("group.")})
