"""The read window of the incremental flows (orders, statuses, invoices): from the stored cursor
minus an overlap to now, or the backfill a user asked for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from connectors.models import ensure_utc
from tasks.settings import WindowSettings
from tasks.state import StateStore

__all__ = ["Window", "plan_window", "run_window", "stored_cursor"]


@dataclass(frozen=True, slots=True)
class Window:
    since: datetime | None
    until: datetime | None
    incremental: bool
    """True when the window continues from the cursor (the cursor moves after it)."""


def stored_cursor(store: StateStore | None, connection: str, flow: str, entity: str) -> datetime | None:
    """The cursor a flow stored after its last committed run (None: first run, or no store)."""
    text = store.get_cursor(connection, flow, entity) if store is not None else None
    return datetime.fromisoformat(text) if text else None


def plan_window(
    cursor: datetime | None,
    now: datetime,
    settings: WindowSettings,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Window:
    """The half-open window ``[since, until)`` of this run, in UTC.

    With ``since``/``until`` (a backfill) that window, and the cursor stays where it is.
    Otherwise from the cursor minus the overlap (first run: ``start``, else ``first_run_hours``
    back) to now.
    """
    if since is not None or until is not None:
        return Window(
            ensure_utc(since) if since else None, ensure_utc(until) if until else ensure_utc(now), incremental=False
        )
    now = ensure_utc(now)
    if cursor is not None:
        start = ensure_utc(cursor) - timedelta(minutes=settings.overlap_minutes)
    elif settings.start is not None:
        start = ensure_utc(settings.start)
    else:
        start = now - timedelta(hours=settings.first_run_hours)
    return Window(start, now, incremental=True)


def run_window(
    store: StateStore | None,
    connection: str,
    flow: str,
    entity: str,
    now: datetime,
    settings: WindowSettings,
    *,
    since: datetime | None,
    order_ids: list[str],
) -> Window | None:
    """The window of a status or invoice run: None when only shop order ids were asked for (those
    orders are read whatever their time), else :func:`plan_window` from the stored cursor."""
    if order_ids and since is None:
        return None
    return plan_window(stored_cursor(store, connection, flow, entity), now, settings, since=since)
