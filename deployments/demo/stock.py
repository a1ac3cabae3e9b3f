"""Stock levels for the demo catalogue: deterministic, plausible, with the cases worth showing.

Two warehouses, as in the Tryton sandbox: "WH", the web warehouse that feeds the shop, and
"STORE", the shop on the high street, whose stock must never reach the web shop. About one
article in ten has nothing in WH, one in ten a single unit, one in ten two (at or below the
safety stock of 2, so the shop shows them sold out); some of those still have stock in STORE.
Load them into Tryton with ``deployments.sandbox.tryton_ops.seed_demo_stock``.
"""

from __future__ import annotations

import zlib
from typing import Any

__all__ = ["SAFETY_STOCK", "WAREHOUSES", "demo_stock_levels"]

WAREHOUSES = ("WH", "STORE")
SAFETY_STOCK = 2


def demo_stock_levels(catalogue: dict[str, Any]) -> dict[str, dict[str, int]]:
    """SKU -> warehouse code -> on-hand quantity for every active article of ``catalogue``.

    ``catalogue`` is in the sandbox seed format (``deployments.demo.catalogue.demo_catalogue()``);
    the same catalogue always gives the same levels (a checksum of the SKU, not a random draw).
    """
    levels: dict[str, dict[str, int]] = {}
    for template in catalogue["templates"]:
        if not template.get("active", True) or not template.get("code"):
            continue
        for product in template["products"]:
            if not product.get("active", True):
                continue
            sku = f"{template['code']}{product.get('suffix_code') or ''}"
            levels[sku] = _levels(sku)
    return levels


def _levels(sku: str) -> dict[str, int]:
    draw = zlib.crc32(sku.encode())
    bucket = draw % 10
    # 0, 1 or 2 units in the web warehouse for three buckets in ten: sold out once the safety
    # stock is kept back; otherwise 3 to 40.
    web = bucket if bucket < 3 else 3 + (draw >> 4) % 38
    # The store holds a few of most articles, nothing of one in four.
    store = 0 if (draw >> 10) % 4 == 0 else 1 + (draw >> 12) % 8
    return {"WH": web, "STORE": store}
