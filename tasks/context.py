"""Everything a flow run needs, built once from the configuration: the run context.

The only place (with :mod:`tasks.settings`) that reads secrets: connectors get values.
"""

from __future__ import annotations

import os
import secrets
import stat
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.base import Closeable
from connectors.errors import Fatal
from connectors.registry import build
from tasks.settings import ConfigResolver, ConnectionSettings, PasserelleConfig, load_config
from tasks.snapshots import MIN_KEY_BYTES, SnapshotStore, s3_filesystem
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


def snapshot_store(config: PasserelleConfig) -> SnapshotStore:
    s = config.snapshots
    root = config.path(s.root)
    filesystem = None
    if root.startswith("s3://") and s.s3 is not None:
        access = config.secret(s.s3.access_key, what="snapshots.s3.access_key")
        secret = config.secret(s.s3.secret_key, what="snapshots.s3.secret_key")
        filesystem = s3_filesystem(
            endpoint_url=s.s3.endpoint_url,
            region=s.s3.region,
            access_key=access.get_secret_value() if access else None,
            secret_key=secret.get_secret_value() if secret else None,
        )
    return SnapshotStore(
        root,
        filesystem=filesystem,
        mask_fields=s.mask_fields,
        mask_key=lambda: mask_key(config),
        full_snapshot=s.full_snapshot,
    )


def mask_key(config: PasserelleConfig) -> bytes:
    """The installation's secret key for masking personal data in snapshots.

    ``snapshots.mask_key`` (``env:NAME`` / ``block:NAME``, shared by every worker) when set; else
    the key file ``snapshots.mask_key_file``, made on first use: 32 random bytes, hex, mode 0600,
    outside the snapshot folder. Never logged, never in an error message.
    """
    s = config.snapshots
    if s.mask_key:
        configured = config.secret(s.mask_key, what="snapshots.mask_key")
        value = configured.get_secret_value() if configured else ""
        if len(value) < 2 * MIN_KEY_BYTES:
            raise Fatal(
                f"snapshots.mask_key is too short ({len(value)} characters; at least {2 * MIN_KEY_BYTES}).",
                resolution=f"set it to a random value: python -c 'import secrets; print(secrets.token_hex(32))' "
                f"(or leave mask_key out: passerelle then keeps a key file, {s.mask_key_file}).",
            )
        return value.encode()
    path = Path(config.path(s.mask_key_file))
    root = config.path(s.root)
    if "://" not in root and path.resolve().is_relative_to(Path(root).resolve()):
        raise Fatal(
            f"the snapshot mask key file {path} is inside the snapshot folder {root}, which goes to auditors.",
            resolution="set snapshots.mask_key_file to a path outside it (default: mask.key beside passerelle.toml).",
        )
    return _key_file(path)


def _key_file(path: Path) -> bytes:
    """The key in ``path``, made there if there is none (atomically: of two workers starting at
    once, one writes it and both use it)."""
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key_file(path)
    except OSError as exc:
        raise Fatal(
            f"the snapshot mask key file {path} cannot be created ({exc.strerror}).",
            resolution="create its folder, or set snapshots.mask_key_file (or snapshots.mask_key = env:NAME).",
        ) from None
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(key + "\n")
    return key.encode()


def _read_key_file(path: Path) -> bytes:
    mode = stat.S_IMODE(path.stat().st_mode)
    if os.name == "posix" and mode & 0o077:
        raise Fatal(
            f"the snapshot mask key file {path} is readable by other users (mode {mode:04o}).",
            resolution=f"chmod 600 {path} (and check who could copy it meanwhile).",
        )
    for _ in range(20):  # another worker may be writing it this instant
        key = path.read_text(encoding="ascii", errors="replace").strip()
        if len(key) >= 2 * MIN_KEY_BYTES:
            return key.encode()
        time.sleep(0.1)
    raise Fatal(
        f"the snapshot mask key file {path} holds no key (at least {2 * MIN_KEY_BYTES} characters).",
        resolution="restore it from the installation's backup; if there is none, delete it: a new key is made "
        "and values masked from then on no longer match the older ones.",
    )


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
