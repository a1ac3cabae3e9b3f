"""The end-of-run alert checks: what the state store says needs an operator, as Prefect events.

Each flow calls :func:`check_alerts` once, at the end of a run that did its work. It reads the
state store and emits, only over the thresholds of ``[alerts]``:

- ``passerelle.quarantine.over-threshold``: the connection has more open quarantine entries
  (every flow) than ``quarantine_threshold``;
- ``passerelle.order.waiting``: orders of the connection read from the shop and still not in
  the ERP after ``order_wait_hours`` (waiting for payment, or claimed by a run that did not finish).

The resource of both is the connection (``passerelle.connection.<name>``); Prefect adds the
flow run, flow and deployment that emitted them as related resources. The automations that turn
them into notifications are declared by ``passerelle alerts apply`` (deployments/alerts.py).
A check that cannot be made or an event that cannot be sent is a warning in the run's log,
never the run's failure.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from prefect.events import emit_event

from tasks.common import logger
from tasks.context import RunContext
from tasks.state import OrderImport, OrderState, QuarantineRecord, StateStore, utcnow

__all__ = ["ORDER_WAITING", "QUARANTINE_OVER_THRESHOLD", "check_alerts", "connection_resource"]

QUARANTINE_OVER_THRESHOLD = "passerelle.quarantine.over-threshold"
ORDER_WAITING = "passerelle.order.waiting"
_SAMPLE = 10  # order references named in an event


def connection_resource(connection: str) -> dict[str, str]:
    """The Prefect resource of a passerelle connection (the resource of passerelle's events)."""
    return {
        "prefect.resource.id": f"passerelle.connection.{connection}",
        "prefect.resource.name": connection,
        "passerelle.connection": connection,
    }


def check_alerts(ctx: RunContext) -> list[dict[str, Any]]:
    """Emit the events of what is over a threshold for the run's connection; returns them
    (``event``, ``payload``). A dry run emits nothing. Never raises."""
    if ctx.dry_run or ctx.store is None:
        return []
    try:
        events = _over_thresholds(ctx)
    except Exception as exc:  # noqa: BLE001 - an alert check never fails the run
        logger().warning("alerts: the state store could not be checked (%s: %s)", type(exc).__name__, exc)
        return []
    for item in events:
        try:
            emit_event(event=item["event"], resource=connection_resource(ctx.connection), payload=item["payload"])
        except Exception as exc:  # noqa: BLE001 - Prefect unreachable: the run goes on
            logger().warning("alerts: event %s could not be sent (%s: %s)", item["event"], type(exc).__name__, exc)
        else:
            logger().warning("alerts: %s", item["payload"]["summary"])
    return events


def _over_thresholds(ctx: RunContext) -> list[dict[str, Any]]:
    settings = ctx.config.alerts
    assert ctx.store is not None
    events: list[dict[str, Any]] = []
    if settings.quarantine:
        by_flow = open_quarantine_by_flow(ctx.store, ctx.connection)
        total = sum(by_flow.values())
        if total > settings.quarantine_threshold:
            flows = ", ".join(f"{flow} {count}" for flow, count in sorted(by_flow.items()))
            events.append(
                {
                    "event": QUARANTINE_OVER_THRESHOLD,
                    "payload": {
                        "connection": ctx.connection,
                        "open": total,
                        "threshold": settings.quarantine_threshold,
                        "by_flow": by_flow,
                        "summary": f"{total} open quarantine entries on connection {ctx.connection!r} "
                        f"(threshold {settings.quarantine_threshold}): {flows}",
                    },
                }
            )
    if settings.waiting_orders:
        waiting = orders_waiting(
            ctx.store,
            ctx.connection,
            hours=settings.order_wait_hours,
            follow_days=ctx.settings.orders.follow_days,
        )
        if waiting:
            oldest = waiting[0]
            events.append(
                {
                    "event": ORDER_WAITING,
                    "payload": {
                        "connection": ctx.connection,
                        "count": len(waiting),
                        "hours": settings.order_wait_hours,
                        "oldest": oldest,
                        "orders": [w["order"] for w in waiting[:_SAMPLE]],
                        "summary": f"{len(waiting)} orders of connection {ctx.connection!r} not in the ERP after "
                        f"{settings.order_wait_hours:g} hours; oldest {oldest['order']} ({oldest['state']} "
                        f"since {oldest['since']})",
                    },
                }
            )
    return events


def open_quarantine_by_flow(store: StateStore, connection: str) -> dict[str, int]:
    """Open quarantine entries of a connection, counted per flow."""
    table = QuarantineRecord.__table__  # type: ignore[attr-defined]
    stmt = (
        sa.select(table.c.flow, sa.func.count())
        .where(table.c.connection == connection, table.c.status == "open")
        .group_by(table.c.flow)
    )
    with store.engine.connect() as conn:
        return {str(flow): int(count) for flow, count in conn.execute(stmt)}


def orders_waiting(store: StateStore, connection: str, *, hours: float, follow_days: int) -> list[dict[str, str]]:
    """Orders read more than ``hours`` ago and still not in the ERP, oldest first: waiting for
    payment (and still followed: read again within ``follow_days``), or claimed by a run that did
    not finish. ``order`` is the shop's reference when known, else its id."""
    now = utcnow()
    limit = now - timedelta(hours=hours)
    table = OrderImport.__table__  # type: ignore[attr-defined]
    since = sa.case(
        (table.c.state == OrderState.CLAIMED, sa.func.coalesce(table.c.claimed_at, table.c.created_at)),
        else_=table.c.created_at,
    )
    stmt = (
        sa.select(table.c.shop_order_id, table.c.reference, table.c.state, since.label("since"))
        .where(
            table.c.connection == connection,
            sa.or_(
                sa.and_(
                    table.c.state == OrderState.WAITING,
                    table.c.follow == sa.true(),
                    table.c.created_at >= now - timedelta(days=follow_days),
                ),
                table.c.state == OrderState.CLAIMED,
            ),
            since < limit,
        )
        .order_by(since, table.c.id)
    )
    found: list[dict[str, str]] = []
    with store.engine.connect() as conn:
        for shop_order_id, reference, state, started in conn.execute(stmt):
            when = started if isinstance(started, str) else f"{started:%Y-%m-%d %H:%M}Z"
            found.append({"order": str(reference or shop_order_id), "state": str(state), "since": when})
    return found
