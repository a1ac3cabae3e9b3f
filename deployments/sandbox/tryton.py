"""The Tryton sandbox: a real Tryton 8.2 server (PyPI, SQLite) on 127.0.0.1.

Tryton is a separate system, so it lives in its own virtualenv in the cache folder (built once
per ``tryton/requirements.txt``), never in the project's. The database with company, chart of
accounts, French VAT, attribute sets, two warehouses, an advance payment term, a price list and
a carrier is built once by ``tryton/setup_db.py`` (~30 s) and cached; every sandbox starts from
a copy of that file (instant). Catalogues go in with ``tryton/seed.py``.

By hand: ``.venv/bin/python -m deployments.sandbox.tryton [--port 8000] [--seed catalogue.json]``.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

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

__all__ = ["TrytonSandbox"]

HERE = Path(__file__).parent / "tryton"
REQUIREMENTS = HERE / "requirements.txt"
SETUP_DB = HERE / "setup_db.py"
SEED = HERE / "seed.py"
TEMPLATE_PASSWORD = "admin"


def _uv() -> list[str] | None:
    """uv as a command (on PATH, or as the ``uv`` module of this or the system python)."""
    if shutil.which("uv"):
        return ["uv"]
    for python in (sys.executable, shutil.which("python3")):
        if python and subprocess.run([python, "-m", "uv", "--version"], capture_output=True).returncode == 0:
            return [python, "-m", "uv"]
    return None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock file, so parallel test sessions build a cache entry once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment without the caller's Tryton settings: the sandbox's own config rules."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRYTOND_") and k != "TRYTONPASSFILE"}
    env.update(extra or {})
    return env


class TrytonSandbox(Sandbox):
    """Start / stop a Tryton server on a copy of the cached database; seed it; run code against it."""

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
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="passerelle-tryton-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.login = "admin"
        self.password = admin_password
        self.log_dir = Path(log_dir) if log_dir else self.workdir
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

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.running

    # -- install -------------------------------------------------------------------------------
    def install(self) -> Path:
        """The Tryton virtualenv, built once per requirements file (marker written after success)."""
        venv = cache_dir("tryton", digest_files(REQUIREMENTS))
        marker = venv / ".installed"
        compiled = venv / ".compiled"
        if marker.exists() and compiled.exists():
            return venv
        with _locked(venv.parent / f".{venv.name}.lock"):
            if marker.exists():
                if not compiled.exists():
                    self._compile(venv)
                return venv
            python = venv / "bin" / "python"
            uv = _uv()
            if uv is not None:
                run_checked([*uv, "venv", "--clear", "-q", "-p", sys.executable, str(venv)], what="uv venv")
                run_checked(
                    [*uv, "pip", "install", "-q", "--python", str(python), "-r", str(REQUIREMENTS)],
                    what="installing Tryton from PyPI",
                )
            else:
                run_checked([sys.executable, "-m", "venv", "--clear", str(venv)], what="python -m venv")
                run_checked(
                    [str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)],
                    what="installing Tryton from PyPI",
                )
            marker.write_text("ok\n")
            self._compile(venv)
        return venv

    @staticmethod
    def _compile(venv: Path) -> None:
        """Bytecode for every module of the venv, once: each server start then loads Tryton's
        modules from it instead of compiling them again (``PYTHONDONTWRITEBYTECODE`` or not)."""
        python = venv / "bin" / "python"
        # Best effort: a file that does not compile (a py2 test data file) is only left uncompiled.
        subprocess.run(
            [str(python), "-m", "compileall", "-q", "-j", "0", str(venv / "lib")],
            capture_output=True,
            timeout=900,
            check=False,
        )
        (venv / ".compiled").write_text("ok\n")

    @property
    def python(self) -> Path:
        return self.install() / "bin" / "python"

    def template_db(self) -> Path:
        """The cached database (modules, company, accounting, VAT, stock, sales setup): built once."""
        folder = cache_dir("tryton-db", digest_files(REQUIREMENTS, SETUP_DB))
        template = folder / "template.sqlite"
        if template.exists():
            return template
        python = self.python
        with _locked(folder / ".lock"):
            if template.exists():
                return template
            with tempfile.TemporaryDirectory(prefix="build-", dir=folder) as build:
                db = Path(build) / f"{self.database}.sqlite"
                run_checked(
                    [str(python), str(SETUP_DB), str(db)],
                    what="building the Tryton database",
                    env=_child_env({"TRYTON_ADMIN_PASSWORD": TEMPLATE_PASSWORD}),
                    timeout=900,
                )
                os.replace(db, template)  # same folder: atomic, readers never see half a file
        return template

    # -- working database ----------------------------------------------------------------------
    def _write_config(self) -> None:
        self.config_file.write_text(
            "[database]\n"
            "uri = sqlite://\n"
            f"path = {self.workdir}\n"
            "\n[web]\n"
            f"listen = 127.0.0.1:{self.port}\n"
            "\n[session]\n"
            "# tests log in often; failed attempts would otherwise lock the login after 5\n"
            "max_attempt = 100\n",
            encoding="utf-8",
        )

    def _prepare(self) -> None:
        """Config file, and the working database copied from the template unless already there."""
        self._write_config()
        if self.db_file.exists():
            return
        shutil.copyfile(self.template_db(), self.db_file)
        if self.password != TEMPLATE_PASSWORD:
            # As user 0 (Tryton skips its password policy for it); the secret travels in the
            # environment, never on a command line.
            self.run_python(
                "import os, sys\n"
                "from trytond.pool import Pool\n"
                "from trytond.transaction import Transaction\n"
                "Pool.start()\n"
                "pool = Pool(sys.argv[2])\n"
                "pool.init()\n"
                "with Transaction().start(sys.argv[2], 0) as transaction:\n"
                "    User = pool.get('res.user')\n"
                "    (admin,) = User.search([('login', '=', 'admin')])\n"
                "    User.write([admin], {'password': os.environ.pop('SANDBOX_ADMIN_PASSWORD')})\n"
                "    transaction.commit()\n",
                env={"SANDBOX_ADMIN_PASSWORD": self.password},
            )

    def seed(
        self, catalogue: dict[str, Any] | Path, *, mode: str = "auto", skip_rejected: bool = False
    ) -> dict[str, Any]:
        """Create a catalogue (seed.py format) in the working database; returns seed.py's summary.

        The server may keep running (SQLite serialises writers; the server caches nothing the
        seed writes). ``mode``: "orm" (Template.create, ~2.5 ms per article), "bulk" (the same
        rows by SQL, ~0.3 ms), "auto" (bulk from 2 000 articles). ``skip_rejected`` commits what
        Tryton accepts and lists the refused templates instead of failing.
        """
        self._prepare()
        if isinstance(catalogue, Mapping):
            path = self.workdir / "catalogue.json"
            path.write_text(json.dumps(catalogue), encoding="utf-8")
        else:
            path = Path(catalogue)
        argv = [str(self.python), str(SEED), str(self.db_file), str(path), "--mode", mode]
        if skip_rejected:
            argv.append("--skip-rejected")
        out = run_checked(argv, what="seeding the Tryton catalogue", env=_child_env(), timeout=1800)
        return json.loads(out.strip().splitlines()[-1])

    def run_python(
        self, code_or_script: str | Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 600
    ) -> str:
        """Run code in the Tryton venv against the working database; returns its stdout.

        The script is called as ``script CONFIG_FILE DATABASE *args`` with ``TRYTOND_CONFIG`` set,
        so ``proteus.config.set_trytond(sys.argv[2])`` or trytond's Pool work directly.
        The server may keep running.
        """
        self._write_config()
        if isinstance(code_or_script, Path):
            script = code_or_script
        else:
            handle, name = tempfile.mkstemp(prefix="snippet-", suffix=".py", dir=self.workdir)
            with os.fdopen(handle, "w", encoding="utf-8") as fh:
                fh.write(code_or_script)
            script = Path(name)
        try:
            return run_checked(
                [str(self.python), str(script), str(self.config_file), self.database, *args],
                what="a Python script in the Tryton venv",
                env=_child_env({"TRYTOND_CONFIG": str(self.config_file), **(env or {})}),
                timeout=timeout,
            )
        finally:
            if script != code_or_script:
                script.unlink(missing_ok=True)

    # -- server --------------------------------------------------------------------------------
    def start(self) -> TrytonSandbox:
        """Start trytond on the working database and wait for JSON-RPC (120 s at most)."""
        if self.running:
            return self
        self._prepare()
        self._process = ManagedProcess(
            "Tryton",
            [str(self.install() / "bin" / "trytond"), "-c", str(self.config_file), "-d", self.database],
            log_path=self.log_dir / f"trytond-{self.port}.log",
            cwd=self.workdir,
            env=_child_env(),
        )
        self._process.start(self._ready, timeout=120)
        return self

    def _ready(self) -> bool:
        response = httpx.post(
            f"{self.url}rpc/", json={"id": 0, "method": "common.server.version", "params": []}, timeout=5
        )
        return response.status_code == 200 and "result" in response.json()


def main(argv: list[str] | None = None) -> None:
    """Start a sandbox by hand and keep it until Ctrl-C."""
    parser = argparse.ArgumentParser(description="Start a Tryton 8.2 sandbox on 127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workdir", type=Path, help="keep the database here (default: a temporary folder)")
    parser.add_argument("--database", default="passerelle")
    parser.add_argument("--password", default=os.environ.get("TRYTON_ADMIN_PASSWORD", "admin"))
    parser.add_argument("--seed", type=Path, help="a catalogue JSON file (seed.py format) to create first")
    args = parser.parse_args(argv)
    sandbox = TrytonSandbox(database=args.database, port=args.port, workdir=args.workdir, admin_password=args.password)
    started = time.monotonic()
    try:
        sandbox.start()
        if args.seed:
            counts = sandbox.seed(args.seed)["counts"]
            print(f"seeded {counts['templates']} templates, {counts['products']} products")
        print(
            f"Tryton 8.2 ready in {time.monotonic() - started:.0f} s\n"
            f"  URL:      {sandbox.url}   (JSON-RPC: {sandbox.url}{sandbox.database}/rpc/)\n"
            f"  database: {sandbox.database}   file: {sandbox.db_file}\n"
            f"  login:    {sandbox.login} / {sandbox.password}\n"
            f"  log:      {sandbox.log_dir}\n"
            "Ctrl-C stops it.",
            flush=True,
        )
        while sandbox.running:
            time.sleep(1)
        raise SandboxError("trytond stopped on its own; see its log")
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()


if __name__ == "__main__":
    main()
