"""The Tryton sandbox: a real Tryton 8.2 server (PyPI, SQLite) on 127.0.0.1.

Tryton lives in its own virtualenv in the cache folder (built once per requirements file),
as it would on its own server. The database with company, accounting, VAT and attributes is
built once by ``setup_db.py`` (~40 s) and cached; each sandbox starts from a copy (instant).
Run by hand: ``uv run python -m deployments.sandbox.tryton``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

from deployments.sandbox.base import ManagedProcess, cache_dir, digest_files, free_port, run_checked

__all__ = ["TrytonSandbox"]

HERE = Path(__file__).parent / "tryton"


def _uv() -> list[str] | None:
    if shutil.which("uv"):
        return ["uv"]
    probe = subprocess.run([sys.executable, "-m", "uv", "--version"], capture_output=True)
    if probe.returncode == 0:
        return [sys.executable, "-m", "uv"]
    probe = subprocess.run(["python3", "-m", "uv", "--version"], capture_output=True)
    return ["python3", "-m", "uv"] if probe.returncode == 0 else None


class TrytonSandbox:
    """Start / stop a Tryton server on a copy of the cached database."""

    def __init__(
        self,
        *,
        database: str = "passerelle",
        port: int | None = None,
        workdir: Path | None = None,
        admin_password: str = "admin",
        log_dir: Path | None = None,
    ) -> None:
        self.database = database
        self.port = port or free_port()
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="passerelle-tryton-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.login = "admin"
        self.password = admin_password
        self.log_dir = log_dir or self.workdir
        self._process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def db_file(self) -> Path:
        return self.workdir / f"{self.database}.sqlite"

    @property
    def config_file(self) -> Path:
        return self.workdir / "trytond.conf"

    # -- install -----------------------------------------------------------------------------
    def install(self) -> Path:
        """The Tryton virtualenv (built once per requirements file); returns its folder."""
        venv = cache_dir("tryton", digest_files(HERE / "requirements.txt"))
        marker = venv / ".installed"
        if not marker.exists():
            uv = _uv()
            if uv is not None:
                run_checked([*uv, "venv", "--allow-existing", "-q", "-p", sys.executable, str(venv)], what="uv venv")
                run_checked(
                    [
                        *uv,
                        "pip",
                        "install",
                        "-q",
                        "--python",
                        str(venv / "bin" / "python"),
                        "-r",
                        str(HERE / "requirements.txt"),
                    ],
                    what="installing Tryton from PyPI",
                )
            else:
                run_checked([sys.executable, "-m", "venv", str(venv)], what="python -m venv")
                run_checked(
                    [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-r", str(HERE / "requirements.txt")],
                    what="installing Tryton from PyPI",
                )
            marker.write_text("ok\n")
        return venv

    @property
    def python(self) -> Path:
        return self.install() / "bin" / "python"

    def _write_config(self, directory: Path) -> Path:
        conf = directory / "trytond.conf"
        conf.write_text(
            f"[database]\nuri = sqlite://\npath = {directory}\n\n[web]\nlisten = 127.0.0.1:{self.port}\n\n"
            "[session]\nmax_attempt = 100\n",
            encoding="utf-8",
        )
        return conf

    def template_db(self) -> Path:
        """The cached database with modules and company setup (built once, ~40 s)."""
        key = digest_files(HERE / "requirements.txt", HERE / "setup_db.py")
        folder = cache_dir("tryton-db", key)
        template = folder / "template.sqlite"
        if template.exists():
            return template
        build = Path(tempfile.mkdtemp(prefix="tryton-build-", dir=folder))
        db = build / f"{self.database}.sqlite"
        db.touch()
        conf = self._write_config(build)
        passfile = build / "admin.pass"
        passfile.write_text("admin\n")
        env = dict(os.environ, TRYTONPASSFILE=str(passfile))
        run_checked(
            [str(self.python), str(HERE / "setup_db.py"), str(conf), self.database],
            what="building the Tryton database",
            env=env,
            timeout=900,
        )
        shutil.move(str(db), template)
        shutil.rmtree(build, ignore_errors=True)
        return template

    # -- run ---------------------------------------------------------------------------------
    def _prepare(self) -> None:
        self._write_config(self.workdir)
        if not self.db_file.exists():
            shutil.copy2(self.template_db(), self.db_file)
            if self.password != "admin":
                # The password travels in the environment, never on a command line or in an error.
                self.run_python(
                    "import os, sys\nfrom trytond.pool import Pool\nfrom trytond.transaction import Transaction\n"
                    "from trytond import config\nconfig.update_etc(sys.argv[1])\nPool.start()\n"
                    "pool = Pool(sys.argv[2]); pool.init()\n"
                    "with Transaction().start(sys.argv[2], 0) as t:\n"
                    "    User = pool.get('res.user')\n"
                    "    (admin,) = User.search([('login', '=', 'admin')])\n"
                    "    User.write([admin], {'password': os.environ['SANDBOX_ADMIN_PASSWORD']})\n    t.commit()\n",
                    env={"SANDBOX_ADMIN_PASSWORD": self.password},
                )

    def seed(self, catalogue: dict[str, Any] | Path) -> dict[str, Any]:
        """Create a catalogue (demo format) in the working database; works while the server runs."""
        self._prepare()
        if isinstance(catalogue, dict):
            path = self.workdir / "catalogue.json"
            path.write_text(json.dumps(catalogue), encoding="utf-8")
        else:
            path = catalogue
        out = run_checked(
            [str(self.python), str(HERE / "seed.py"), str(self.config_file), self.database, str(path)],
            what="seeding the Tryton catalogue",
            timeout=1800,
        )
        return json.loads(out.strip().splitlines()[-1])

    def run_python(self, code_or_script: str | Path, *args: str, env: dict[str, str] | None = None) -> str:
        """Run code in the Tryton venv as ``code config_file database *args``; returns stdout."""
        if isinstance(code_or_script, Path):
            script = code_or_script
        else:
            script = self.workdir / "snippet.py"
            script.write_text(code_or_script, encoding="utf-8")
        return run_checked(
            [str(self.python), str(script), str(self.config_file), self.database, *args],
            what="a Tryton script",
            timeout=600,
            env={**os.environ, **(env or {})},
        )

    def start(self) -> TrytonSandbox:
        self._prepare()
        trytond = self.install() / "bin" / "trytond"
        self._process = ManagedProcess(
            "Tryton",
            [str(trytond), "-c", str(self.config_file), "-d", self.database],
            log_path=self.log_dir / f"trytond-{self.port}.log",
            cwd=self.workdir,
        )
        self._process.start(self._ready, timeout=120)
        return self

    def _ready(self) -> bool:
        response = httpx.post(
            f"{self.url}rpc/", json={"id": 0, "method": "common.server.version", "params": []}, timeout=5
        )
        return response.status_code == 200 and "result" in response.json()

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()
            self._process = None

    def __enter__(self) -> TrytonSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":  # pragma: no cover - manual use
    import time

    with TrytonSandbox() as erp:
        print(f"Tryton: {erp.url} database {erp.database}\nlogin: {erp.login} / {erp.password}\nCtrl-C to stop.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
