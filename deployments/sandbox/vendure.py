"""The Vendure sandbox: a real Vendure 3.7 shop (npm, in-memory sql.js) on 127.0.0.1.

``npm ci`` runs once into the cache folder (keyed on the lock file); ``server.js`` runs from
the repository with ``NODE_PATH`` pointing there, so editing it needs no reinstall.
Run by hand: ``uv run python -m deployments.sandbox.vendure``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import httpx

from deployments.sandbox.base import ManagedProcess, SandboxError, cache_dir, digest_files, free_port, run_checked

__all__ = ["VendureSandbox"]

HERE = Path(__file__).parent / "vendure"


class VendureSandbox:
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
        self.db_file = db_file
        self.log_dir = log_dir or Path(tempfile.mkdtemp(prefix="passerelle-vendure-"))
        self._process: ManagedProcess | None = None

    @property
    def admin_api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/admin-api"

    @property
    def shop_api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/shop-api"

    def install(self) -> Path:
        """``npm ci`` into the cache once per lock file; returns the folder holding node_modules."""
        if shutil.which("npm") is None or shutil.which("node") is None:
            raise SandboxError(
                "node and npm are needed for the Vendure sandbox. Resolution: install Node.js 20+ and npm."
            )
        target = cache_dir("vendure", digest_files(HERE / "package-lock.json"))
        marker = target / ".installed"
        if not marker.exists():
            for name in ("package.json", "package-lock.json"):
                shutil.copy2(HERE / name, target / name)
            run_checked(
                ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
                what="npm ci (Vendure sandbox)",
                cwd=target,
                timeout=900,
            )
            marker.write_text("ok\n")
        return target

    def start(self) -> VendureSandbox:
        modules = self.install() / "node_modules"
        env = dict(os.environ)
        env.update(
            NODE_PATH=str(modules),
            VENDURE_PORT=str(self.port),
            VENDURE_SUPERADMIN_USERNAME=self.username,
            VENDURE_SUPERADMIN_PASSWORD=self.password,
            VENDURE_DISABLE_TELEMETRY="true",
        )
        if self.db_file is not None:
            env["VENDURE_DB_FILE"] = str(self.db_file)
        # NODE_PATH does not reach packages resolved from the script's own folder: run a copy next to node_modules.
        script = modules.parent / "server.js"
        shutil.copy2(HERE / "server.js", script)
        self._process = ManagedProcess(
            "Vendure",
            ["node", str(script)],
            log_path=self.log_dir / f"vendure-{self.port}.log",
            cwd=modules.parent,
            env=env,
        )
        self._process.start(self._ready, timeout=120)
        return self

    def _ready(self) -> bool:
        assert self._process is not None
        if f"PASSERELLE VENDURE READY {self.port}" not in self._process.log_path.read_text(errors="replace"):
            return False
        response = httpx.post(self.admin_api_url, json={"query": "{ __typename }"}, timeout=5)
        return response.status_code == 200

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()
            self._process = None

    def __enter__(self) -> VendureSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":  # pragma: no cover - manual use
    import time

    with VendureSandbox() as shop:
        print(f"Vendure Admin API: {shop.admin_api_url}\nShop API: {shop.shop_api_url}")
        print(f"superadmin: {shop.username} / {shop.password}\nCtrl-C to stop.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
