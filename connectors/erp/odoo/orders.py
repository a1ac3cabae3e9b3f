"""Odoo as an order sink: a web order becomes one confirmed sale.order.

Idempotent by ``client_order_ref`` = ``"<shop>:<shop order id>"``, searched before every create: a
confirmed order is returned as it is, a draft left by an import cut short is deleted and made
again. Lines: one per ordered variant (product by the catalogue's binding, its Odoo taxes checked
against the rate the shop charged), a line of the discount product per line discount and per
order discount (split over the VAT groups), the shipping line (``shipping_product``, with the
delivery.carrier whose product it is). Odoo's total is compared with the shop's: within
``total_tolerance`` an adjustment line makes up the difference, beyond it the order is refused.
Then ``action_confirm``. Payments: ``payments.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connectors.base import ErpOrderRef
from connectors.erp.amounts import discount_shares
from connectors.erp.odoo.catalogue import Taxes, read_taxes
from connectors.erp.odoo.client import OdooClient, OdooError, m2o_id, odoo_datetime
from connectors.erp.odoo.parties import OdooParties
from connectors.erp.odoo.payments import OdooPayments
from connectors.erp.odoo.settings import OdooSettings
from connectors.errors import Fatal, RecordError, Refused
from connectors.models import Order, currency_quantum

__all__ = ["CONFIRMED_STATES", "OdooOrders", "total_difference"]

CONFIRMED_STATES = ["sale", "done"]  # 16 locks confirmed orders as "done"; 17+ keep "sale" (locked flag)
CENT = Decimal("0.01")
_SEARCH_CHUNK = 500


def total_difference(key: str, erp_total: Decimal, shop_total: Decimal, tolerance: Decimal) -> Decimal:
    """What to add to Odoo's total to reach the shop's.

    Raises:
        Refused: the difference is beyond ``tolerance``.
    """
    difference = shop_total - erp_total
    if abs(difference) > tolerance:
        raise Refused(
            RecordError(
                key,
                "total_tax_included",
                f"Odoo computes {erp_total} tax included, the shop {shop_total}: {difference:+} is more than "
                f"the tolerance of {tolerance}",
                check="totals",
            )
        )
    return difference


@dataclass(slots=True)
class _Setup:
    """Read once per connector: configuration, not data."""

    products: dict[str, dict[str, Any]]
    taxes: Taxes
    tax_field: str
    carriers: dict[int, int]
    delivery_flag: bool
    journal: int | None = None
    pricelists: dict[str, int | None] = field(default_factory=dict)


_PRODUCT_FIELDS = ["id", "default_code", "display_name", "taxes_id", "active"]


class OdooOrders(OdooPayments, OdooParties):
    """``OrderSink`` over Odoo (mixed into ``OdooConnector``)."""

    client: OdooClient
    settings: OdooSettings
    _order_setup: _Setup | None = None

    def find_orders(self, shop_refs: Sequence[str]) -> dict[str, ErpOrderRef]:
        """Confirmed sale orders of these shop order ids (one search per 500)."""
        wanted = {self._tag(ref): ref for ref in dict.fromkeys(shop_refs)}
        tags = list(wanted)
        found: dict[str, ErpOrderRef] = {}
        for start in range(0, len(tags), _SEARCH_CHUNK):
            rows = self.client.model("sale.order").search_read(
                [("client_order_ref", "in", tags[start : start + _SEARCH_CHUNK]), ("state", "in", CONFIRMED_STATES)],
                ["id", "name", "client_order_ref", "amount_total", "partner_id"],
            )
            for row in rows:  # by id: the first order of a reference wins
                found.setdefault(wanted[row["client_order_ref"]], _ref(row))
        return found

    def import_order(self, order: Order, products: Mapping[str, str]) -> ErpOrderRef:
        """Create and confirm the sale.order of ``order``; idempotent on ``client_order_ref``.

        Raises:
            Refused: an unbound or unknown article, a VAT rate Odoo does not charge, a country Odoo
                does not know, a total too far from the shop's, or Odoo refusing the order.
            Fatal: the ``orders`` settings name products Odoo does not have.
        """
        sales = self.client.model("sale.order")
        tag = self._tag(order.shop_id)
        existing = sales.search_read(
            [("client_order_ref", "=", tag)], ["id", "name", "client_order_ref", "amount_total", "partner_id", "state"]
        )
        done = [r for r in existing if r["state"] in CONFIRMED_STATES]
        if done:
            return _ref(done[0])
        drafts = [int(r["id"]) for r in existing if r["state"] in ("draft", "sent")]
        if drafts:  # an import cut off before action_confirm: made again from the shop's order
            sales("unlink", drafts)
        setup = self._setup()
        lines = self._lines(order, products, setup)
        partner = self._partner(order)
        values: dict[str, Any] = {
            "partner_id": partner.id,
            "partner_invoice_id": partner.invoice,
            "partner_shipping_id": partner.delivery,
            "client_order_ref": tag,
            "origin": order.reference,
            "date_order": odoo_datetime(order.created_at),
            "note": self._note(order),
            "order_line": [[0, 0, line] for line in lines],
        }
        carrier = setup.carriers.get(int(self._shipping_product(order, setup)["id"]))
        if carrier and (order.shipping_price or order.shipping_method):
            values["carrier_id"] = carrier
        pricelist = self._pricelist(order, setup)
        if pricelist:
            values["pricelist_id"] = pricelist
        if self.settings.company_id is not None:
            values["company_id"] = self.settings.company_id
        try:
            order_id = sales.create(values)
        except OdooError as exc:
            if not exc.per_record:
                raise
            raise _refusal(order, exc) from exc
        try:
            row = self._read(order_id)
            difference = total_difference(
                order.shop_id,
                _money(row["amount_total"]),
                order.total_tax_included,
                self.settings.orders.total_tolerance,
            )
            if difference:
                sales.write([order_id], {"order_line": [[0, 0, self._adjustment(setup, difference, len(lines) + 1)]]})
                row = self._read(order_id)
            sales("action_confirm", [order_id])
        except (OdooError, Refused) as exc:
            sales("unlink", [order_id])
            if isinstance(exc, Refused) or not exc.per_record:
                raise
            raise _refusal(order, exc) from exc
        return _ref({**row, "partner_id": [partner.id, ""]})

    # -- lines ----------------------------------------------------------------------------------
    def _lines(self, order: Order, products: Mapping[str, str], setup: _Setup) -> list[dict[str, Any]]:
        opts = self.settings.orders
        quantum = currency_quantum(order.currency)
        rows = self._products(order, products)
        lines: list[dict[str, Any]] = []
        bases: dict[tuple[int, ...], Decimal] = {}
        discount = setup.products[opts.discount_product]
        for index, line in enumerate(order.lines):
            product = rows[line.line_id]
            taxes = self._checked_taxes(order, f"lines[{index}].vat_rate", product, line.vat_rate, line.total, setup)
            bases[taxes] = bases.get(taxes, Decimal(0)) + line.total
            lines.append(self._line(setup, product, line.quantity, line.unit_price, line.name, taxes))
            if line.discount:
                lines.append(self._line(setup, discount, Decimal(1), -line.discount, f"Discount: {line.name}", taxes))
        shipping = self._shipping_product(order, setup)
        if order.shipping_price or order.shipping_method:
            taxes = self._checked_taxes(
                order, "shipping_vat_rate", shipping, order.shipping_vat_rate, order.shipping_price, setup
            )
            values = self._line(
                setup,
                shipping,
                Decimal(1),
                order.shipping_price,
                order.shipping_method or shipping["display_name"],
                taxes,
            )
            if setup.delivery_flag:
                values["is_delivery"] = True
            lines.append(values)
        for item in order.discounts:
            label = (
                f"{item.description} ({item.code})"
                if item.code and item.code not in item.description
                else item.description
            )
            shares = discount_shares(abs(item.amount), bases, quantum) or {
                _own_taxes(discount, setup): abs(item.amount)
            }
            for taxes, share in shares.items():
                lines.append(self._line(setup, discount, Decimal(1), -share, label, taxes))
        for sequence, values in enumerate(lines, start=1):
            values["sequence"] = sequence
        return lines

    def _line(
        self,
        setup: _Setup,
        product: Mapping[str, Any],
        quantity: Decimal,
        net_price: Decimal,
        name: str,
        taxes: tuple[int, ...],
    ) -> dict[str, Any]:
        """A sale.order.line; ``net_price`` is tax-excluded, made tax-included for a tax that includes it."""
        included = [
            setup.taxes.by_id[t] for t in taxes if t in setup.taxes.by_id and setup.taxes.by_id[t].price_include
        ]
        price = net_price
        if included:  # Odoo takes the tax out of a tax-included price: send it that way
            rate = sum((t.rate for t in included), Decimal(0))
            price = (net_price * (1 + rate / 100)).quantize(CENT, ROUND_HALF_UP)
        return {
            "product_id": int(product["id"]),
            "name": name,
            "product_uom_qty": float(quantity),
            "price_unit": float(price),
            "discount": 0.0,
            setup.tax_field: [[6, 0, list(taxes)]],
        }

    def _checked_taxes(
        self,
        order: Order,
        where: str,
        product: Mapping[str, Any],
        rate: Decimal | None,
        amount: Decimal,
        setup: _Setup,
    ) -> tuple[int, ...]:
        """The product's sale taxes when their rate is the shop's (within ``vat_rate_tolerance``)."""
        taxes = _own_taxes(product, setup)
        if rate is None or not amount:
            return taxes
        odoo = sum(
            (setup.taxes.by_id[t].rate for t in taxes if setup.taxes.by_id[t].amount_type == "percent"), Decimal(0)
        )
        if abs(odoo - rate) <= self.settings.orders.vat_rate_tolerance:
            return taxes
        raise Refused(
            RecordError(
                order.shop_id,
                where,
                f"VAT differs: the shop charged {rate.normalize():f} %, the sale taxes of "
                f"{product.get('default_code') or product['display_name']} in Odoo are {odoo.normalize():f} %",
            )
        )

    def _products(self, order: Order, products: Mapping[str, str]) -> dict[str, dict[str, Any]]:
        for index, line in enumerate(order.lines):
            if line.line_id not in products:
                raise Refused(
                    RecordError(order.shop_id, f"lines[{index}].sku", f"no ERP article bound to SKU {line.sku!r}")
                )
        ids = sorted({int(products[line.line_id]) for line in order.lines})
        rows = {
            r["id"]: r
            for r in self.client.model("product.product").read(ids, _PRODUCT_FIELDS, context={"active_test": False})
        }
        found: dict[str, dict[str, Any]] = {}
        for index, line in enumerate(order.lines):
            row = rows.get(int(products[line.line_id]))
            if row is None or not row.get("active", True):
                raise Refused(
                    RecordError(
                        order.shop_id,
                        f"lines[{index}].sku",
                        f"Odoo product {products[line.line_id]} (SKU {line.sku!r}) is missing or archived",
                    )
                )
            found[line.line_id] = row
        return found

    def _adjustment(self, setup: _Setup, difference: Decimal, sequence: int) -> dict[str, Any]:
        product = setup.products[self.settings.orders.adjustment_product]
        taxes = _own_taxes(product, setup)
        rate = sum((setup.taxes.by_id[t].rate for t in taxes), Decimal(0))
        net = (difference / (1 + rate / 100)).quantize(CENT, ROUND_HALF_UP)
        values = self._line(
            setup, product, Decimal(1), net, f"Rounding difference with the shop's total ({difference:+})", taxes
        )
        values["sequence"] = sequence
        return values

    def _shipping_product(self, order: Order, setup: _Setup) -> dict[str, Any]:
        opts = self.settings.orders
        return setup.products[opts.shipping_products.get(order.shipping_method or "", opts.shipping_product)]

    def _pricelist(self, order: Order, setup: _Setup) -> int | None:
        """A pricelist in the order's currency when it is not the connection's (the order's currency
        is its pricelist's in Odoo); refused when Odoo has none."""
        currency = order.currency.upper()
        if currency == self.settings.currency.upper():
            return None
        if currency not in setup.pricelists:
            rows = self.client.model("product.pricelist").search_read(
                [("currency_id.name", "=", currency)], ["id"], limit=1
            )
            setup.pricelists[currency] = int(rows[0]["id"]) if rows else None
        if setup.pricelists[currency] is None:
            raise Refused(RecordError(order.shop_id, "currency", f"Odoo has no pricelist in {currency}"))
        return setup.pricelists[currency]

    def _note(self, order: Order) -> str:
        parts = [f"Web order {order.reference} ({self._tag(order.shop_id)})."]
        parts += [
            f"Payment: {p.method} {p.state} {p.amount} {order.currency}"
            + (f", transaction {p.transaction_id}" if p.transaction_id else "")
            for p in order.payments
        ]
        return "\n".join(parts)

    def _read(self, order_id: int) -> dict[str, Any]:
        (row,) = self.client.model("sale.order").read(
            [order_id], ["id", "name", "client_order_ref", "amount_total", "partner_id"]
        )
        return row

    def _tag(self, shop_id: str) -> str:
        return f"{self.settings.orders.shop}:{shop_id}"

    def _setup(self) -> _Setup:
        if self._order_setup is not None:
            return self._order_setup
        opts = self.settings.orders
        codes = sorted(
            {opts.shipping_product, opts.discount_product, opts.adjustment_product, *opts.shipping_products.values()}
        )
        rows = self.client.model("product.product").search_read([("default_code", "in", codes)], _PRODUCT_FIELDS)
        products = {r["default_code"]: r for r in rows}
        missing = [c for c in codes if c not in products]
        if missing:
            raise Fatal(
                f"Odoo has no active product with internal reference {', '.join(map(repr, missing))}.",
                resolution="create these service products (shipping, discount, adjustment) or set the "
                "orders.*_product settings of the Odoo connection to existing internal references.",
            )
        carriers: dict[int, int] = {}
        if "carrier_id" in self.client.fields("sale.order"):
            ids = [int(p["id"]) for p in products.values()]
            for row in self.client.model("delivery.carrier").search_read(
                [("product_id", "in", ids)], ["id", "product_id"]
            ):
                carriers.setdefault(m2o_id(row["product_id"]) or 0, int(row["id"]))
        self._order_setup = _Setup(
            products=products,
            taxes=read_taxes(self.client, self.settings.company_id),
            tax_field=self.client.first_field("sale.order.line", "tax_ids", "tax_id"),
            carriers=carriers,
            delivery_flag="is_delivery" in self.client.fields("sale.order.line"),
        )
        return self._order_setup


def _own_taxes(product: Mapping[str, Any], setup: _Setup) -> tuple[int, ...]:
    """The product's sale taxes of the connection's company."""
    taxes = [t for t in product.get("taxes_id") or [] if t in setup.taxes.by_id]
    if setup.taxes.company_id is not None:
        taxes = [t for t in taxes if setup.taxes.by_id[t].company_id in (None, setup.taxes.company_id)]
    return tuple(taxes)


def _ref(row: Mapping[str, Any]) -> ErpOrderRef:
    return ErpOrderRef(
        erp_id=str(row["id"]),
        reference=str(row.get("name") or row.get("client_order_ref")),
        total_tax_included=_money(row.get("amount_total")),
        customer_id=str(m2o_id(row.get("partner_id")) or "") or None,
    )


def _money(value: Any) -> Decimal:
    """An Odoo monetary float as cents."""
    return Decimal(str(value or 0)).quantize(CENT, ROUND_HALF_UP)


def _refusal(order: Order, exc: OdooError) -> Refused:
    return Refused(RecordError(order.shop_id, "sale", f"Odoo refused the sale order: {exc.message}"))
