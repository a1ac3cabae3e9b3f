"""Parsing of text values from exports: decimal commas, thousands spaces, yes/no and dates in French."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation

__all__ = ["fold", "parse_bool", "parse_datetime", "parse_decimal"]

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


# 25/12/2026, 25.12.2026, 25-12-2026, optionally followed by 08:30 or 08:30:00.
_FRENCH = re.compile(
    r"(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4})(?:[ T]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?"
)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_datetime(text: str, *, tz: tzinfo, end_of_day: bool = False) -> datetime:
    """Aware UTC instant of an export date: ``25/12/2026``, ``25/12/2026 08:30``, ``2026-12-25``,
    ``2026-12-25T08:30:00`` (an explicit offset such as ``+01:00`` or ``Z`` wins over ``tz``).

    Local times are read in ``tz`` (daylight saving time included). A date without a time is
    the start of that day; with ``end_of_day`` it is the start of the next day, so an inclusive
    end date ("until 31/12") becomes the exclusive end of a half-open ``[start, end)`` interval.

    Raises:
        ValueError: naming the text, when it is not a date or names a day that does not exist.
    """
    cleaned = text.strip()
    try:
        if match := _FRENCH.fullmatch(cleaned):
            day = date(int(match["y"]), int(match["m"]), int(match["d"]))
            if match["H"] is None:
                return _start_of_day(day, tz, end_of_day)
            clock = time(int(match["H"]), int(match["M"]), int(match["S"] or 0))
            return datetime.combine(day, clock, tzinfo=tz).astimezone(timezone.utc)
        if _ISO_DATE.fullmatch(cleaned):
            return _start_of_day(date.fromisoformat(cleaned), tz, end_of_day)
        if _ISO_DATE.match(cleaned):
            value = datetime.fromisoformat(cleaned)
            return (value if value.tzinfo else value.replace(tzinfo=tz)).astimezone(timezone.utc)
    except ValueError:
        raise ValueError(f"{text!r} is not a valid date") from None
    raise ValueError(f"{text!r} is not a date (expected 25/12/2026, 2026-12-25 or a date and time)")


def _start_of_day(day: date, tz: tzinfo, next_day: bool) -> datetime:
    if next_day:
        day += timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc)


def fold(text: str) -> str:
    """Case- and accent-insensitive form of a status or type code ("Livrée" == "livree")."""
    decomposed = unicodedata.normalize("NFKD", text.strip())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
