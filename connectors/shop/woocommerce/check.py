"""``passerelle check`` for WooCommerce: the key is accepted, the resources each configured flow
reads answer (one item each), the tax classes ``[catalogue.taxes]`` names exist. Reads only.

A key's write permission (WooCommerce > Settings > Advanced > REST API: Read / Write / Read/Write)
cannot be read through the API with the key itself: it shows at the first write, which answers
``woocommerce_rest_cannot_create`` / ``_edit`` (docs/woocommerce.md lists what each flow needs)."""

from __future__ import annotations

from functools import partial

from connectors.checks import Check, CheckNeeds, attempt, base_url, missing_names, passed, quick
from connectors.shop.woocommerce.client import WooCommerceClient

__all__ = ["WOOCOMMERCE_READS", "WooCommerceCheck"]

WOOCOMMERCE_READS: dict[str, tuple[str, ...]] = {
    "catalogue": ("products", "products/categories", "products/attributes"),
    "stock": ("products",),
    "prices": ("products",),
    "orders": ("orders",),
    "feedback": ("orders",),
    "invoices": ("orders",),
}
"""Flow -> the REST resources it reads (``GET /wp-json/wc/v3/<resource>``)."""


class WooCommerceCheck:
    """``Checkable`` mixin of :class:`~connectors.shop.woocommerce.WooCommerceShop`."""

    client: WooCommerceClient

    def check(self, needs: CheckNeeds) -> list[Check]:
        client = self.client
        quick(client.http)
        url = base_url(client.http)
        currency, problem = attempt("login", lambda: client.get("data/currencies/current").json().get("code"), url=url)
        if problem is not None:
            return [problem]
        checks = [passed("login", f"key accepted (store currency {currency})")]
        resources = [r for flow, rs in WOOCOMMERCE_READS.items() if flow in needs.flows for r in rs]
        for resource in dict.fromkeys(resources):
            flows = [f for f, rs in WOOCOMMERCE_READS.items() if f in needs.flows and resource in rs]
            _, problem = attempt(f"read {resource}", partial(client.get, resource, {"per_page": 1}), url=url)
            checks.append(problem or passed(f"read {resource}", f"({', '.join(flows)})"))
        if needs.runs("catalogue") and needs.tax_categories:
            rows, problem = attempt("tax classes", lambda: client.get("taxes/classes").json(), url=url)
            checks += (
                [problem]
                if problem
                else missing_names(
                    "tax class",
                    needs.tax_categories,
                    [str(row["name"]) for row in rows or []],
                    where="WooCommerce",
                    resolution="add the class in WooCommerce > Settings > Tax, or fix [catalogue.taxes].",
                )
            )
        return checks
