"""``passerelle check`` for Dolibarr: the version (``GET /status``, which needs a valid key), one
item read of each resource a configured flow reads (a refused right answers 401/403), the
warehouses of ``[stock]`` by ref, the customer groups of ``[prices]`` mapped to price levels.
Reads only.

The rights to create (orders, thirdparties, invoices, payments) cannot be read without a write
with the API user's key: ``GET /users/info`` lists them on a real 19.0 but was not captured, so
they are named in docs/dolibarr.md and show at the first write."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from connectors.checks import Check, CheckNeeds, attempt, base_url, failed, missing_names, passed, quick
from connectors.erp.dolibarr.client import DolibarrClient

if TYPE_CHECKING:
    from connectors.erp.dolibarr.settings import DolibarrSettings

__all__ = ["DOLIBARR_READS", "DolibarrCheck"]

DOLIBARR_READS: dict[str, tuple[str, ...]] = {
    "catalogue": ("products", "categories"),
    "stock": ("products", "warehouses"),
    "prices": ("products",),
    "orders": ("products", "thirdparties", "orders", "invoices"),
    "feedback": ("orders", "shipments", "invoices"),
    "invoices": ("invoices",),
}
"""Flow -> the REST resources it reads (``GET /api/index.php/<resource>``)."""


class DolibarrCheck:
    """``Checkable`` mixin of :class:`~connectors.erp.dolibarr.connector.DolibarrConnector`."""

    client: DolibarrClient
    settings: DolibarrSettings

    if TYPE_CHECKING:  # provided by DolibarrStock

        def warehouses(self) -> list[str]: ...

    def check(self, needs: CheckNeeds) -> list[Check]:
        client = self.client
        quick(client.http)
        url = base_url(client.http)
        status, problem = attempt("login", lambda: client.get("status"), url=url)
        if problem is not None:
            return [problem]
        version = ((status or {}).get("success") or {}).get("dolibarr_version", "?")
        checks = [passed("login", f"API key accepted (Dolibarr {version})")]
        resources = [r for flow, rs in DOLIBARR_READS.items() if flow in needs.flows for r in rs]
        for resource in dict.fromkeys(resources):
            flows = [f for f, rs in DOLIBARR_READS.items() if f in needs.flows and resource in rs]
            _, problem = attempt(
                f"read {resource}", partial(client.find, resource, {"limit": 1}), url=url
            )  # a 404 is Dolibarr's empty list
            checks.append(problem or passed(f"read {resource}", f"({', '.join(flows)})"))
        if needs.warehouses:
            known, problem = attempt("warehouses", self.warehouses, url=url)
            checks += (
                [problem]
                if problem
                else missing_names(
                    "warehouse",
                    needs.warehouses,
                    known or [],
                    where="Dolibarr (open warehouses, by ref)",
                    resolution="use the ref of a Dolibarr warehouse in [stock] warehouses / feeds.",
                )
            )
        if needs.groups and needs.runs("prices"):
            mapped = self.settings.price_levels.keys() | self.settings.customer_prices.keys()
            for group in needs.groups:
                checks.append(
                    passed(f"customer group {group!r}", "mapped to a price level")
                    if group in mapped
                    else failed(
                        f"customer group {group!r}",
                        "has no Dolibarr price level or customer in the connection's price_levels / customer_prices",
                        "map it in price_levels (group = level number, PRODUIT_MULTIPRICES) or remove it from "
                        "[prices] groups.",
                    )
                )
        return checks
