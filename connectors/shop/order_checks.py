"""What every shop's order mapper shares: collecting what it cannot read, and checking that the
canonical parts of an order add up to the shop's own totals."""

from __future__ import annotations

from decimal import Decimal

from connectors.errors import RecordError
from connectors.models import Order

__all__ = ["OrderIssues", "check_totals"]


class OrderIssues:
    """RecordErrors of one order, keyed by its shop id (check ``shop``): a mapper never raises."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.items: list[RecordError] = []

    def add(self, field: str, reason: str) -> None:
        self.items.append(RecordError(self.key, field, reason, "shop"))


def check_totals(
    order: Order,
    issues: OrderIssues,
    *,
    platform: str,
    labels: tuple[str, str] = ("total", "total_tax_included"),
    extra: tuple[Decimal, Decimal] = (Decimal(0), Decimal(0)),
) -> None:
    """``Σ lines + shipping (+ extra) - Σ discounts`` must equal the shop's total, tax-excluded and
    tax-included; a difference is an issue named by the shop's own field (``labels``). ``extra``:
    amounts the canonical model has no place for (WooCommerce's positive fees, an issue already)."""
    excluded = (
        sum((line.total for line in order.lines), Decimal(0))
        + order.shipping_price
        + extra[0]
        - sum((d.amount for d in order.discounts), Decimal(0))
    )
    included = (
        sum((line.total_tax_included for line in order.lines), Decimal(0))
        + order.shipping_price_tax_included
        + extra[1]
        - sum((d.amount_tax_included for d in order.discounts), Decimal(0))
    )
    for label, parts, total in ((labels[0], excluded, order.total), (labels[1], included, order.total_tax_included)):
        if parts != total:
            issues.add(
                label,
                f"lines + shipping - discounts = {parts} {order.currency} but {platform}'s {label} is {total} "
                f"{order.currency}",
            )
