"""``passerelle check`` for PrestaShop: one item read (``limit=0,1``, ids only) of every webservice
resource the configured flows read, so that a key not allowed GET on one is named; the tax rule
groups ``[catalogue.taxes]`` names; the customer groups of ``[prices] groups``. Reads only.

The key's POST / PUT permissions are listed only by the XML root list (``GET /api/``), which the
contract fake does not serve (the JSON one answers 500 on a real 8.2): they show at the first write
(docs/prestashop.md lists them per flow)."""

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
from connectors.errors import PasserelleError, Retryable
from connectors.shop.prestashop.client import READ_RESOURCES, PrestaShopClient

__all__ = ["PRESTASHOP_READS", "PrestaShopCheck"]

PRESTASHOP_READS: dict[str, tuple[str, ...]] = {
    "catalogue": (
        "products",
        "combinations",
        "product_options",
        "product_option_values",
        "categories",
        "tax_rule_groups",
        "manufacturers",
        "product_features",
        "product_feature_values",
    ),
    "stock": ("products", "combinations", "stock_availables"),
    "prices": ("products", "combinations", "specific_prices", "groups"),
    "orders": READ_RESOURCES,
    "feedback": ("orders", "order_states", "order_histories", "order_carriers", "carriers", "customer_threads"),
    "invoices": ("orders", "customer_threads", "customer_messages"),
}
"""Flow -> the webservice resources it reads."""


class PrestaShopCheck:
    """``Checkable`` mixin of :class:`~connectors.shop.prestashop.factory.PrestaShopShop`."""

    client: PrestaShopClient

    if TYPE_CHECKING:  # provided by PrestaShopValues

        def _group_ids(self, names: set[str]) -> dict[str, str]: ...

    def check(self, needs: CheckNeeds) -> list[Check]:
        client = self.client
        quick(client.http)
        url = base_url(client.http)
        wanted: dict[str, list[str]] = {}
        for flow in FLOWS:
            if flow in needs.flows:
                for resource in PRESTASHOP_READS.get(flow, ()):
                    wanted.setdefault(resource, []).append(flow)
        checks: list[Check] = []
        refused = 0  # PrestaShop answers 401 to a wrong key and to a resource the key may not GET alike
        for resource, flows in wanted.items():
            try:
                client.get(resource, display=["id"], limit=(0, 1))
            except Retryable as exc:
                return [from_error("login", exc, url=url)]
            except PasserelleError as exc:
                check = from_error(f"read {resource}", exc, url=url)
                refused += "refused the webservice key" in check.detail
                checks.append(failed(check.name, f"{check.detail} (needed by {', '.join(flows)})", check.resolution))
        if wanted and refused == len(wanted):
            return [
                failed(
                    "login",
                    f"PrestaShop refused the webservice key on every resource ({len(wanted)})",
                    "check the key under Advanced parameters > Webservice (enabled, the resources docs/prestashop.md "
                    "lists allowed) and that the webservice itself is enabled.",
                )
            ]
        if wanted:
            checks.insert(
                0,
                passed(
                    "login", f"webservice key accepted; {len(wanted) - len(checks)} of {len(wanted)} resources readable"
                ),
            )
        if needs.runs("catalogue") and needs.tax_categories:
            rows, problem = attempt(
                "tax rule groups", lambda: client.get("tax_rule_groups", display=["id", "name", "deleted"]), url=url
            )
            names = [str(r["name"]) for r in rows or [] if str(r.get("deleted", "0")) != "1"]
            checks += (
                [problem]
                if problem
                else missing_names(
                    "tax rule group",
                    needs.tax_categories,
                    names,
                    where="PrestaShop",
                    resolution="create it under International > Taxes > Tax rules, or fix [catalogue.taxes].",
                )
            )
        if needs.runs("prices") and needs.groups:
            _, problem = attempt("customer groups", lambda: self._group_ids(set(needs.groups)), url=url)
            checks.append(problem or passed("customer groups", f"{', '.join(needs.groups)} found or mapped"))
        return checks
