"""Run leases: one writing run at a time per (flow, connection), whatever started it.

Every writing flow (catalogue, stock, prices, orders, feedback, invoices) holds the lease
``<flow>:<connection>`` through :func:`flow_lease` while it runs, so a manual run, a backfill or
two schedules of one flow never write side by side; a dry run takes none. A run that finds the
lease held stops at once with a "busy" summary, unless Prefect says the holder's run is over
(then it takes it over). The lease is renewed by a background thread and before each batch, where
a run that lost it stops with :class:`LeaseLost`, and released at the end.

Details: docs/architecture.md (section "State store", "Leases in detail").
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from tasks.common import logger
from tasks.context import RunContext
from tasks.state import LeaseLost, StateStore

__all__ = ["LeaseLost", "RunLease", "flow_lease", "lease_name", "run_is_over"]


def lease_name(flow: str, connection: str) -> str:
    return f"{flow}:{connection}"


def run_is_over(holder: str) -> bool:
    """Whether Prefect knows the flow run ``holder`` is over (a final state: completed, failed,
    cancelled, crashed). False when ``holder`` is not a flow run id, when the run is still going,
    or when the API cannot answer: the lease's expiry decides then."""
    try:
        flow_run_id = uuid.UUID(holder)
    except ValueError:
        return False
    try:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True, httpx_settings={"timeout": 10}) as client:
            run = client.read_flow_run(flow_run_id)
    except Exception as exc:  # noqa: BLE001 - unknown run, no API: fall back to the expiry
        logger().debug("flow run %s not found in Prefect (%s): its lease stands until it expires", holder, exc)
        return False
    return run.state is not None and run.state.is_final()


class RunLease:
    """The lease of one flow run: held (``held``), not needed (a dry run), or ``busy`` (another
    run holds it: the flow does nothing and says so)."""

    def __init__(self, store: StateStore | None, name: str, holder: str, ttl: timedelta) -> None:
        self.store = store
        self.name = name
        self.holder = holder
        self.ttl = ttl
        self.held = False
        self.busy = ""
        self._lost = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def take(self) -> bool:
        """Take the lease (free, expired, ours, or its run is over); else set ``busy``."""
        store = self.store
        assert store is not None
        if not store.acquire_lease(self.name, self.holder, ttl=self.ttl):
            current = store.lease(self.name)
            previous = current.holder if current is not None else ""
            if not (previous and run_is_over(previous)):
                until = f" until {current.expires_at:%Y-%m-%d %H:%M:%S} UTC unless renewed" if current else ""
                self.busy = f"another run ({previous or 'unknown'}) holds the lease {self.name}{until}: nothing done"
                logger().warning(self.busy)
                return False
            if not store.take_over_lease(self.name, self.holder, previous=previous, ttl=self.ttl):
                self.busy = f"another run took the lease {self.name} over first: nothing done"
                logger().warning(self.busy)
                return False
            logger().warning("lease %s taken over from flow run %s, which Prefect says is over", self.name, previous)
        self.held = True
        self._thread = threading.Thread(target=self._heartbeat, name=f"lease {self.name}", daemon=True)
        self._thread.start()
        return True

    def keep(self) -> None:
        """Renew the lease now; call it before each batch of writes (nothing without a lease).

        Raises:
            LeaseLost: another run took it over: this run must write nothing more.
        """
        if not self.held:
            return
        if not self._lost:
            assert self.store is not None
            if not self.store.renew_lease(self.name, self.holder, ttl=self.ttl):
                self._lost = "it was taken over"
        if self._lost:
            raise LeaseLost(
                f"run {self.holder} lost the lease {self.name} ({self._lost}): stopped before its next "
                "write; the next run goes on from what the state store recorded"
            )

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.held and not self._lost and self.store is not None:
            self.store.release_lease(self.name, self.holder)
        self.held = False

    def _heartbeat(self) -> None:
        interval = max(self.ttl.total_seconds() / 3, 0.05)
        while not self._stop.wait(interval):
            assert self.store is not None
            try:
                renewed = self.store.renew_lease(self.name, self.holder, ttl=self.ttl)
            except Exception as exc:  # noqa: BLE001 - the store unreachable for a moment: try again
                logger().warning("lease %s not renewed (%s): trying again", self.name, type(exc).__name__)
                continue
            if not renewed:
                self._lost = "it was taken over"
                logger().error("lease %s taken over by another run: this run stops before its next write", self.name)
                return


@contextmanager
def flow_lease(ctx: RunContext, flow: str) -> Iterator[RunLease]:
    """The lease of ``flow`` on the run's connection for the ``with`` block (none in a dry run):
    the flow does nothing when ``lease.busy`` and calls ``lease.keep()`` before each batch."""
    lease = RunLease(
        ctx.store,
        lease_name(flow, ctx.connection),
        ctx.run_id,
        timedelta(seconds=ctx.config.state.lease_seconds),
    )
    if ctx.store is not None and not ctx.dry_run:
        lease.take()
    try:
        yield lease
    finally:
        lease.release()
