"""Parsing of text values from exports: decimal commas, thousands spaces, yes/no in French."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

__all__ = ["parse_bool", "parse_decimal"]

_TRUE = {"1", "o", "oui", "y", "yes", "true", "vrai", "x", "actif"}
_FALSE = {"0", "n", "non", "no", "false", "faux", "inactif", ""}


def parse_decimal(text: str, *, decimal_separator: str = ",", percent: bool = False) -> Decimal:
    """``"1 234,50"`` -> ``Decimal("1234.50")``; raises ValueError naming the text otherwise."""
    cleaned = text.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    if percent:
        cleaned = cleaned.removesuffix("%")
    if decimal_separator == ",":
        if "." in cleaned and "," in cleaned:
            cleaned = cleaned.replace(".", "")  # "1.234,50": dot as thousands separator
        cleaned = cleaned.replace(",", ".")
    else:
        cleaned = cleaned.replace(",", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a number")
    return value


def parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{text!r} is neither yes nor no")
