"""Amount rules shared by the ERP order sinks (pure functions)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

__all__ = ["discount_shares"]

K = TypeVar("K")


def discount_shares(amount: Decimal, bases: Mapping[K, Decimal], quantum: Decimal) -> dict[K, Decimal]:
    """Split ``amount`` over ``bases`` in proportion, rounded to ``quantum``; the last takes the rest.

    Used for an order-level discount over the VAT groups of the goods (French practice: a
    global discount lowers each rate's base pro rata).
    """
    keys = [k for k, base in bases.items() if base]
    total = sum((bases[k] for k in keys), Decimal(0))
    if not keys or not total:
        return {}
    shares: dict[K, Decimal] = {}
    left = amount
    for key in keys[:-1]:
        share = (amount * bases[key] / total).quantize(quantum, ROUND_HALF_UP)
        shares[key] = share
        left -= share
    shares[keys[-1]] = left
    return shares
