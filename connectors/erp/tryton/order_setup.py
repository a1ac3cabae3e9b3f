"""What the Tryton order sink reads once per connector: the warehouse, the service products,
carriers, payment terms, currencies, tax rates and the ``destination_taxes`` the settings name;
a missing one stops the run with a Resolution (it is the connection's configuration)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from connectors.erp.tryton.client import TrytonClient
from connectors.erp.tryton.order_rules import (
    _PRODUCT_FIELDS,
    _Setup,
)
from connectors.erp.tryton.settings import rate_key
from connectors.errors import Fatal

if TYPE_CHECKING:
    from connectors.erp.tryton.settings import TrytonSettings

__all__ = ["TrytonOrderSetup"]


class TrytonOrderSetup:
    """The ``_setup`` of the order sink's mixins."""

    client: TrytonClient
    settings: TrytonSettings
    _orders_setup: _Setup | None

    # -- configuration -------------------------------------------------------------------------
    def _setup(self) -> _Setup:
        """Warehouse, service products, carriers, terms, currencies and tax rates: read once."""
        cached: _Setup | None = getattr(self, "_orders_setup", None)
        if cached is not None:
            return cached
        opts = self.settings.orders
        client = self.client
        warehouses = client.model("stock.location").search_read(
            [("type", "=", "warehouse"), ("code", "=", opts.warehouse)], ["id"]
        )
        if not warehouses:
            raise Fatal(
                f"Tryton has no warehouse with code {opts.warehouse!r}.",
                resolution="set orders.warehouse of the Tryton connection to the code of a warehouse.",
            )
        codes = sorted(
            {opts.shipping_product, opts.discount_product, opts.adjustment_product, *opts.shipping_products.values()}
            | ({opts.placeholder_product} if opts.placeholder_product else set())
        )
        rows = client.model("product.product").search_read([("code", "in", codes)], _PRODUCT_FIELDS)
        products = {r["code"]: r for r in rows}
        missing = [c for c in codes if c not in products]
        if missing:
            raise Fatal(
                f"Tryton has no product with code {', '.join(map(repr, missing))} (shipping, discount, adjustment, placeholder).",
                resolution="create these salable service products or set the orders.*_product codes of the "
                "Tryton connection.",
            )
        carriers = {
            int(r["carrier_product"]): int(r["id"])
            for r in client.model("carrier").search_read([], ["id", "carrier_product"])
            if r.get("carrier_product")
        }
        terms = client.model("sale.advance_payment_term").search_read(
            [("name", "=", opts.advance_payment_term)], ["id"]
        )
        if not terms:
            raise Fatal(
                f"Tryton has no advance payment term {opts.advance_payment_term!r}.",
                resolution="create it (Sales > Configuration > Advance Payment Terms) or set "
                "orders.advance_payment_term of the Tryton connection.",
            )
        payment_term = None
        if opts.payment_term is not None:
            found = client.model("account.invoice.payment_term").search_read([("name", "=", opts.payment_term)], ["id"])
            if not found:
                raise Fatal(
                    f"Tryton has no payment term {opts.payment_term!r}.",
                    resolution="set orders.payment_term to the name of a Tryton payment term, or leave it out.",
                )
            payment_term = int(found[0]["id"])
        currencies = {
            r["code"]: int(r["id"]) for r in client.model("currency.currency").search_read([], ["id", "code"])
        }
        rates = {
            int(r["id"]): r["rate"] or Decimal(0)
            for r in client.model("account.tax").search_read([("type", "=", "percentage")], ["id", "rate"])
        }
        destination: dict[tuple[str, str], int] = {}
        for country, mapping in opts.destination_taxes.items():
            for rate, name in mapping.items():
                taxes = client.model("account.tax").search_read([("name", "=", name)], ["id", "rate", "type"])
                if len(taxes) != 1 or taxes[0]["type"] != "percentage" or rate_key(taxes[0]["rate"] * 100) != rate:
                    seen = ", ".join(f"{t['type']} {rate_key((t['rate'] or Decimal(0)) * 100)} %" for t in taxes)
                    raise Fatal(
                        f'orders.destination_taxes.{country}."{rate}" names {name!r}: Tryton needs exactly one '
                        f"percentage tax of that name at {rate} % (found: {seen or 'none'}).",
                        resolution="create the tax in Tryton (Accounting > Taxes) or correct the name or rate "
                        "in the Tryton connection's orders settings.",
                    )
                destination[(country, rate)] = int(taxes[0]["id"])
        if not client.context:
            client.login()
        setup = _Setup(
            company=int(client.context["company"]),
            warehouse=int(warehouses[0]["id"]),
            products=products,
            carriers=carriers,
            advance_term=int(terms[0]["id"]),
            payment_term=payment_term,
            tax_rates=rates,
            currencies=currencies,
            destination_taxes=destination,
        )
        self._orders_setup = setup
        return setup
