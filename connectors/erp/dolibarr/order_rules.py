"""What the Dolibarr order sink decides without a server: line bodies, discount percentages,
the VAT rate of an order-level discount, the adjustment within tolerance, the deposit lines."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connectors.errors import RecordError, Refused
from connectors.models import Discount, Order, OrderLine

__all__ = [
    "OrderRefused",
    "deposit_lines",
    "discount_rate",
    "line_body",
    "remise_percent",
    "total_adjustment",
]

CENT = Decimal("0.01")


class OrderRefused(Refused):
    """Dolibarr cannot take this order as it is: the flow quarantines it with ``error``."""


def remise_percent(line: OrderLine) -> Decimal:
    """The line's shop discount as Dolibarr's ``remise_percent`` (a percentage of qty x subprice)."""
    gross = line.unit_price * line.quantity
    if not line.discount or not gross:
        return Decimal(0)
    return (line.discount * 100 / gross).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP).normalize()


def line_body(line: OrderLine, product_id: str) -> dict[str, Any]:
    """One product line of ``POST /orders`` (Commande::addline fields)."""
    return {
        "fk_product": int(product_id),
        "qty": str(line.quantity),
        "subprice": str(line.unit_price),
        "tva_tx": str(line.vat_rate if line.vat_rate is not None else 0),
        "remise_percent": str(remise_percent(line)),
        "product_type": 0,
        "desc": line.name,
    }


def discount_rate(discount: Discount, rates: Iterable[Decimal]) -> Decimal:
    """The VAT rate of an order-level discount: the order's line rate closest to what the shop
    charged on it (its tax-included / tax-excluded amounts)."""
    known = sorted(set(rates)) or [Decimal(0)]
    if not discount.amount:
        return known[0]
    charged = (discount.amount_tax_included / discount.amount - 1) * 100
    return min(known, key=lambda r: abs(r - charged))


def total_adjustment(shop_id: str, erp_total: Decimal, shop_total: Decimal, tolerance: Decimal) -> Decimal:
    """Tax-included amount to add to Dolibarr's order so its total is the shop's (0: equal).

    Raises:
        OrderRefused: the difference is larger than ``tolerance``.
    """
    difference = (shop_total - erp_total).quantize(CENT, rounding=ROUND_HALF_UP)
    if abs(difference) > tolerance:
        raise OrderRefused(
            RecordError(
                shop_id,
                "total_tax_included",
                f"Dolibarr computes {erp_total} but the shop charged {shop_total} (difference {difference}, "
                f"tolerance {tolerance}): check the VAT rates and prices of the lines",
                check="total",
            )
        )
    return difference


def deposit_lines(order_lines: Iterable[Mapping[str, Any]], ratio: Decimal, label: str) -> list[dict[str, Any]]:
    """Lines of the deposit invoice (type 3): one service line per VAT rate of the order, each
    ``ratio`` of the order's tax-excluded total at that rate (invoice_deposit_type3.json: one
    line, product_type 1, "Acompte 30% sur commande ...")."""
    by_rate: dict[Decimal, Decimal] = defaultdict(Decimal)
    for line in order_lines:
        by_rate[Decimal(str(line.get("tva_tx") or 0)).normalize()] += Decimal(str(line.get("total_ht") or 0))
    lines = []
    for rate, total in sorted(by_rate.items()):
        amount = (total * ratio).quantize(CENT, rounding=ROUND_HALF_UP)
        if amount:
            lines.append({"desc": label, "qty": "1", "subprice": str(amount), "tva_tx": f"{rate:f}", "product_type": 1})
    return lines


def order_rates(order: Order) -> list[Decimal]:
    return [line.vat_rate for line in order.lines if line.vat_rate is not None]
