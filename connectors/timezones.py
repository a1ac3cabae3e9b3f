"""Shops that keep local wall-clock times without an offset (PrestaShop's ``date_upd``, many
GesCom exports): reading a UTC window from them without losing an order at a DST change.

In Europe/Paris the night of the autumn change shows 02:00-03:00 twice, and the spring one never
shows 02:00-03:00. A naive local filter ``a <= date_upd < b`` built from the UTC window would
miss the orders of the second 02:xx hour (or read the window as empty when both bounds fall in
the repeated hour). So the naive bounds are widened by :data:`MARGIN` on both sides, and each
order read is kept when *any* UTC instant its wall-clock time can mean is in ``[since, until)``.
An order of the repeated hour may so be read by two consecutive windows: the import is exactly
once per shop order id, so reading twice is harmless, while missing one is not.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator

__all__ = ["MARGIN", "TimeZoneName", "known_zone", "local_bounds", "possible_instants", "to_utc", "within"]

MARGIN = timedelta(hours=3)
"""More than any DST shift (1 h; 2 h in a few zones' history)."""


def known_zone(value: str) -> str:
    """``value`` if it names an IANA time zone (settings validation)."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (expected a name such as 'Europe/Paris')") from None
    return value


TimeZoneName = Annotated[str, AfterValidator(known_zone)]
"""A settings field holding an IANA time zone name, checked when the configuration is read."""


def to_utc(local: datetime, tz: tzinfo) -> datetime:
    """A naive wall-clock time of ``tz`` as aware UTC; an ambiguous time (the repeated hour) is
    taken at its first occurrence, the earlier instant (a cursor never skips past it)."""
    if local.tzinfo is not None:
        return local.astimezone(timezone.utc)
    return local.replace(tzinfo=tz, fold=0).astimezone(timezone.utc)


def possible_instants(local: datetime, tz: tzinfo) -> set[datetime]:
    """Every UTC instant a naive wall-clock time of ``tz`` can mean (two in the repeated hour)."""
    return {local.replace(tzinfo=tz, fold=fold).astimezone(timezone.utc) for fold in (0, 1)}


def local_bounds(since: datetime | None, until: datetime | None, tz: tzinfo) -> tuple[datetime | None, datetime | None]:
    """Naive wall-clock bounds of ``tz`` that contain every order of the UTC window ``[since, until)``
    (widened by :data:`MARGIN`; filter the answer with :func:`within`)."""

    def naive(value: datetime) -> datetime:
        return value.astimezone(tz).replace(tzinfo=None)

    return (
        naive(since - MARGIN) if since is not None else None,
        naive(until + MARGIN) if until is not None else None,
    )


def within(local: datetime, tz: tzinfo, since: datetime | None, until: datetime | None) -> bool:
    """True when the naive wall-clock time ``local`` can be in the UTC window ``[since, until)``."""
    return any(
        (since is None or instant >= since) and (until is None or instant < until)
        for instant in possible_instants(local, tz)
    )
