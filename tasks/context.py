"""Everything a flow run needs, built once from the configuration: the run context.

The only place (with :mod:`tasks.settings`) that reads secrets: connectors get values.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.base import Closeable
from connectors.registry import build
from tasks.settings import ConfigResolver, ConnectionSettings, PasserelleConfig, load_config
from tasks.snapshot_config import mask_key, snapshot_store
from tasks.snapshots import SnapshotStore
from tasks.state import StateStore

__all__ = ["ConfigResolver", "RunContext", "mask_key", "open_context", "snapshot_store"]


@dataclass
class RunContext:
    """Connection name, settings, open connectors and stores of one flow run."""

    config: PasserelleConfig
    connection: str
    settings: ConnectionSettings
    run_id: str
    dry_run: bool
    store: StateStore | None
    snapshots: SnapshotStore
    _connectors: dict[str, Any] = field(default_factory=dict)

    def connector(self, side: str) -> Any:
        """The ERP (``"erp"``) or shop (``"shop"``) connector, built on first use."""
        if side not in self._connectors:
            settings = self.settings.erp if side == "erp" else self.settings.shop
            options = settings.options()
            resolver = ConfigResolver(self.config, options, f"connections.{self.connection}.{side}")
            self._connectors[side] = build(side, settings.type, options, resolver, connection=self.connection)
        return self._connectors[side]

    @property
    def erp(self) -> Any:
        return self.connector("erp")

    @property
    def shop(self) -> Any:
        return self.connector("shop")

    def api_calls(self, side: str) -> int:
        """Requests sent so far by a connector that was used in this run (0 if it was not)."""
        stats = getattr(self._connectors.get(side), "stats", None)
        return int(getattr(stats, "calls", 0))

    def close(self) -> None:
        for connector in self._connectors.values():
            if isinstance(connector, Closeable):
                connector.close()
        self._connectors.clear()
        if self.store is not None:
            self.store.dispose()


def open_context(
    config: PasserelleConfig | str | None,
    connection: str | None,
    *,
    dry_run: bool = False,
    run_id: str | None = None,
) -> RunContext:
    """Load the configuration, open the state store (migrated; read-only in a dry run)."""
    cfg = config if isinstance(config, PasserelleConfig) else load_config(config)
    name, settings = cfg.connection(connection)
    url = cfg.state_url()
    store: StateStore | None
    if dry_run:
        # A dry run writes nothing, not even a schema: a store that is not there reads as empty.
        sqlite_file = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else None
        if sqlite_file is not None and not Path(sqlite_file).exists():
            store = None
        else:
            store = StateStore(url, migrate=False)
            if not store.is_initialised():
                store.dispose()
                store = None
    else:
        store = StateStore(url)
    return RunContext(
        config=cfg,
        connection=name,
        settings=settings,
        run_id=run_id or _current_run_id(),
        dry_run=dry_run,
        store=store,
        snapshots=snapshot_store(cfg),
    )


def _current_run_id() -> str:
    try:
        from prefect.runtime import flow_run

        if flow_run.id:
            return str(flow_run.id)
    except Exception:  # noqa: BLE001, S110 - outside Prefect a run still needs an id
        pass
    return uuid.uuid4().hex
