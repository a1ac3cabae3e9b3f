"""What the PrestaShop sinks share: the write options, the variant id convention, amounts.

Variant ids: PrestaShop sells a product (``id_product``) or one of its combinations
(``id_product_attribute``); stock and prices are kept per pair. A shop variant id is therefore
``"<id_product>:<id_product_attribute>"``, with ``0`` for a product without combinations
(``"12:0"``), exactly as ``stock_availables`` and ``specific_prices`` key their rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from connectors.errors import RecordError
from connectors.shop.prestashop.client import WriteRefused

__all__ = ["PrestaShopOptions", "amount", "lang", "parse_variant_id", "refusal", "variant_id"]


@dataclass(frozen=True, slots=True)
class PrestaShopOptions:
    """Settings the sinks need (see :class:`~connectors.shop.prestashop.settings.PrestaShopSettings`)."""

    home_category: str = "2"
    currency: str = "EUR"
    groups: dict[str, str] = field(default_factory=dict)
    processing_state: str = "3"
    shipped_state: str = "4"
    delivered_state: str = "5"
    cancelled_state: str = "6"
    refunded_state: str = "7"
    paid_states: frozenset[str] = frozenset({"2"})
    location_fatal: bool = False
    contact_id: str = "2"
    employee_id: str = "1"
    brand_field: str | None = "brand"
    """Custom field holding the brand (manufacturer) name; None: the brand is not written."""
    features: dict[str, str] = field(default_factory=dict)
    """Custom field name -> the shop's feature name (Catalog > Attributes & Features > Features)."""


def variant_id(product_id: str | int, attribute_id: str | int = 0) -> str:
    return f"{product_id}:{attribute_id}"


def parse_variant_id(value: str) -> tuple[str, str] | None:
    """``("12", "0")`` from ``"12:0"``; None when the id does not follow the convention."""
    product, sep, attribute = str(value).partition(":")
    if not sep or not product.isdigit() or not attribute.isdigit():
        return None
    return product, attribute


def amount(value: Decimal) -> str:
    """A money amount or weight as PrestaShop stores it (six decimals, never a float)."""
    return format(value.quantize(Decimal("0.000001")), "f")


def refusal(key: str, field_name: str, exc: WriteRefused) -> RecordError:
    return RecordError(key, field_name, str(exc), "shop")


def lang(language: str, text: str, existing: Any = None) -> list[dict[str, str]]:
    """A multilingual value with ``text`` in ``language``, the other languages kept as they were."""
    values = [dict(item) for item in existing] if isinstance(existing, list) else []
    for item in values:
        if str(item.get("id")) == language:
            item["value"] = text
            return values
    return [*values, {"id": language, "value": text}]
