"""The snapshot store of a configuration and its masking key, without the rest of a run's context.

``passerelle audit ...`` needs only this: importing it costs the configuration and pyarrow, not
the state store (SQLAlchemy) or the connectors, which :mod:`tasks.context` brings. The context
uses the same functions.
"""

from __future__ import annotations

import os
import secrets
import stat
import time
from pathlib import Path

from connectors.errors import Fatal
from tasks.settings import PasserelleConfig
from tasks.snapshots import MIN_KEY_BYTES, SnapshotStore, s3_filesystem

__all__ = ["mask_key", "snapshot_store"]


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
