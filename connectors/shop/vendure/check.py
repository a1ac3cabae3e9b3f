"""``passerelle check`` for Vendure: login, the channel, the administrator's permissions in it per
configured flow, the stock locations and tax categories the configuration names. Reads only."""

from __future__ import annotations

from typing import Any

from connectors.checks import (
    Check,
    CheckNeeds,
    attempt,
    base_url,
    failed,
    missing_names,
    passed,
    permissions_needed,
    quick,
)
from connectors.shop.vendure.client import VendureClient

__all__ = ["VENDURE_PERMISSIONS", "VendureCheck"]

VENDURE_PERMISSIONS: dict[str, tuple[tuple[str, ...], ...]] = {
    # Each entry: the permission named in messages first, then those Vendure accepts instead
    # (@Allow(...) of the resolvers in @vendure/core src/api/resolvers/admin: any one suffices).
    "catalogue": (
        ("ReadCatalog", "ReadProduct"),
        ("CreateCatalog", "CreateProduct"),
        ("UpdateCatalog", "UpdateProduct"),
    ),
    "stock": (("ReadCatalog", "ReadProduct"), ("UpdateCatalog", "UpdateProduct")),
    "prices": (("ReadCatalog", "ReadProduct"), ("UpdateCatalog", "UpdateProduct")),
    "orders": (("ReadOrder",),),
    "feedback": (("ReadOrder",), ("UpdateOrder",)),
    "invoices": (("ReadOrder",), ("UpdateOrder",)),
}
"""Flow -> the Vendure permissions its reads and writes need."""

ME = """query Me {
  me { identifier channels { code token permissions } }
  activeChannel { code token defaultCurrencyCode pricesIncludeTax }
}"""
LOCATIONS = "query Locations { stockLocations(options: {take: 100}) { items { name } } }"
TAX_CATEGORIES = "query TaxCategories { taxCategories(options: {take: 100}) { items { name } } }"


class VendureCheck:
    """``Checkable`` mixin of :class:`~connectors.shop.vendure.factory.VendureShop`."""

    client: VendureClient

    def check(self, needs: CheckNeeds) -> list[Check]:
        client = self.client
        quick(client.http)
        url = base_url(client.http)
        _, problem = attempt("login", client.login, url=url)
        if problem is not None:
            return [problem]
        data, problem = attempt("channel", lambda: client.query(ME), url=url)
        if problem is not None or data is None:
            return [passed("login", f"as {client._username}"), *([problem] if problem else [])]
        me = data.get("me") or {}
        channel = data.get("activeChannel") or {}
        checks = [
            passed("login", f"as {me.get('identifier') or client._username}"),
            passed(
                "channel",
                f"{channel.get('code')} ({channel.get('defaultCurrencyCode')}, prices "
                f"{'with' if channel.get('pricesIncludeTax') else 'without'} tax)",
            ),
        ]
        checks += self._permission_checks(needs, me, channel)
        if needs.runs("stock") and needs.locations:
            rows, problem = attempt("stock locations", lambda: client.query(LOCATIONS), url=url)
            checks += (
                [problem]
                if problem
                else missing_names(
                    "stock location",
                    needs.locations,
                    [r["name"] for r in (rows or {})["stockLocations"]["items"]],
                    where="Vendure",
                    resolution="create it in Vendure (Settings > Stock locations) or fix [stock.feeds] location.",
                )
            )
        if needs.runs("catalogue") and needs.tax_categories:
            rows, problem = attempt("tax categories", lambda: client.query(TAX_CATEGORIES), url=url)
            checks += (
                [problem]
                if problem
                else missing_names(
                    "tax category",
                    needs.tax_categories,
                    [r["name"] for r in (rows or {})["taxCategories"]["items"]],
                    where="Vendure",
                    resolution="create it in Vendure (Settings > Tax categories) or fix [catalogue.taxes].",
                )
            )
        return checks

    def _permission_checks(self, needs: CheckNeeds, me: dict[str, Any], channel: dict[str, Any]) -> list[Check]:
        """One check per permission the configured flows need, in the active channel."""
        code = channel.get("code")
        held: set[str] = set()
        for row in me.get("channels") or []:
            if row.get("code") == code:
                held = set(row.get("permissions") or [])
        user = me.get("identifier") or self.client._username
        checks = []
        for alternatives, flows in permissions_needed(VENDURE_PERMISSIONS, needs).items():
            name = alternatives[0]
            if "SuperAdmin" in held or held & set(alternatives):
                checks.append(passed(f"permission {name}", f"({', '.join(flows)})"))
            else:
                checks.append(
                    failed(
                        f"permission {name}",
                        f"missing: administrator {user!r} has no role granting it in channel {code!r} "
                        f"(needed by {', '.join(flows)})",
                        f"give a role of {user!r} the {name} permission in that channel (Settings > Roles), "
                        "or use another administrator.",
                    )
                )
        return checks
