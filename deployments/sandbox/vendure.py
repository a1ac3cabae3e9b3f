"""The Vendure sandbox: a real Vendure 3.7 shop (npm, sql.js) on 127.0.0.1.

``npm ci`` runs once into the cache folder, keyed on ``package-lock.json`` and ``server.js``
(a marker file is written only after success); later starts reuse it (~5 s). The shop is in
memory unless ``db_file`` is given, in which case it is kept in that sql.js file between runs.
The initial data (EUR, prices tax-excluded, countries, French VAT, shipping, two dummy card
payments) is made by ``vendure/server.js``; see ``vendure/README.md``.

By hand: ``.venv/bin/python -m deployments.sandbox.vendure [--port 3000] [--db-file shop.sqlite]``.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx

from deployments.sandbox.base import (
    ManagedProcess,
    Sandbox,
    SandboxError,
    cache_dir,
    digest_files,
    free_port,
    run_checked,
)

__all__ = ["VendureSandbox"]

HERE = Path(__file__).parent / "vendure"
INSTALL_INPUTS = ("package.json", "package-lock.json", "server.js")
MIN_NODE_MAJOR = 20
START_TIMEOUT = 120.0


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock file, so parallel test sessions install a cache entry once."""
    with path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _check_node() -> None:
    """node and npm on PATH, node recent enough for Vendure 3.7."""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        raise SandboxError(
            f"{' and '.join(missing)} not found on PATH; the Vendure sandbox needs them. "
            f"Resolution: install Node.js {MIN_NODE_MAJOR}+ with npm (e.g. Debian's nodejs and npm packages, "
            "or the nodejs.org binaries) and put them on PATH."
        )
    version = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    try:
        major = int(version.lstrip("v").split(".")[0])
    except ValueError:
        return
    if major < MIN_NODE_MAJOR:
        raise SandboxError(
            f"node {version} is too old for Vendure 3.7. Resolution: install Node.js {MIN_NODE_MAJOR} or newer."
        )


class VendureSandbox(Sandbox):
    """Start / stop a Vendure shop; ``admin_api_url`` and the superadmin credentials to use it."""

    def __init__(
        self,
        *,
        port: int | None = None,
        username: str = "superadmin",
        password: str = "superadmin",
        db_file: Path | None = None,
        log_dir: Path | None = None,
    ) -> None:
        self.port = port or free_port()
        self.username = username
        self.password = password
        self.db_file = Path(db_file).resolve() if db_file is not None else None
        self.log_dir = log_dir or Path(tempfile.mkdtemp(prefix="passerelle-vendure-"))
        self._process: ManagedProcess | None = None

    @property
    def admin_api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/admin-api"

    @property
    def shop_api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/shop-api"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.running

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"vendure-{self.port}.log"

    def install(self) -> Path:
        """``npm ci`` into the cache once per lock file + server.js; returns the folder with node_modules."""
        _check_node()
        target = cache_dir("vendure", digest_files(*(HERE / name for name in INSTALL_INPUTS)))
        marker = target / ".installed"
        if marker.exists():
            return target
        with _locked(target.parent / f"{target.name}.lock"):
            if marker.exists():  # another process installed it while we waited
                return target
            for name in INSTALL_INPUTS:
                shutil.copy2(HERE / name, target / name)
            # --ignore-scripts: nothing needs building (bcrypt ships prebuilt binaries; sql.js is wasm).
            run_checked(
                ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
                what="npm ci (Vendure sandbox)",
                cwd=target,
                timeout=900,
            )
            marker.write_text("ok\n")
        return target

    def start(self) -> VendureSandbox:
        """Install if needed, start node on 127.0.0.1 and wait for the READY line and the Admin API."""
        if self.running:
            return self
        folder = self.install()
        env = dict(os.environ)
        env.update(
            VENDURE_PORT=str(self.port),
            VENDURE_SUPERADMIN_USERNAME=self.username,
            VENDURE_SUPERADMIN_PASSWORD=self.password,
            VENDURE_DISABLE_TELEMETRY="true",
        )
        env.pop("VENDURE_DB_FILE", None)
        env.pop("NODE_OPTIONS", None)
        if env.get("NODE_ENV") == "production":  # would change Apollo's error answers from the recorded ones
            env.pop("NODE_ENV")
        if self.db_file is not None:
            self.db_file.parent.mkdir(parents=True, exist_ok=True)
            env["VENDURE_DB_FILE"] = str(self.db_file)
        self._process = ManagedProcess(
            "Vendure", ["node", str(folder / "server.js")], log_path=self.log_path, cwd=folder, env=env
        )
        self._process.start(self._ready, timeout=START_TIMEOUT)
        return self

    def _ready(self) -> bool:
        """The READY line is in the log and the Admin API answers over HTTP."""
        if f"PASSERELLE VENDURE READY {self.port}" not in self.log_path.read_text(errors="replace"):
            return False
        response = httpx.post(self.admin_api_url, json={"query": "{ __typename }"}, timeout=5, trust_env=False)
        return response.status_code == 200


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    """Start a shop by hand and keep it until Ctrl-C (or SIGTERM)."""
    import signal
    import time

    parser = argparse.ArgumentParser(description="Start the Vendure sandbox on 127.0.0.1 until Ctrl-C.")
    parser.add_argument("--port", type=int, default=None, help="default: a free port")
    parser.add_argument("--username", default="superadmin")
    parser.add_argument("--password", default="superadmin")
    parser.add_argument("--db-file", type=Path, default=None, help="keep the shop in this sql.js file between runs")
    args = parser.parse_args(argv)
    # Stop node too when killed, or when started in the background (where SIGINT starts ignored).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    shop = VendureSandbox(port=args.port, username=args.username, password=args.password, db_file=args.db_file)
    print("Starting Vendure (the first run installs it with npm, ~20 s)...", flush=True)
    with shop:
        print(f"Admin API: {shop.admin_api_url}")
        print(f"Shop API:  {shop.shop_api_url}")
        print(f"Superadmin: {shop.username} / {shop.password}")
        print(f"Database:  {shop.db_file or 'in memory (lost at stop)'}")
        print(f"Log:       {shop.log_path}")
        print("Ctrl-C to stop.", flush=True)
        try:
            while shop.running:
                time.sleep(1)
            print(f"Vendure stopped on its own; see {shop.log_path}")
        except KeyboardInterrupt:
            print("\nStopping Vendure.")


if __name__ == "__main__":
    main()
