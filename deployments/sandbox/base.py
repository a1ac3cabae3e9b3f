"""Process plumbing shared by the sandboxes: cache folder, free ports, start / wait / stop."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Self

__all__ = ["ManagedProcess", "Sandbox", "SandboxError", "cache_dir", "digest_files", "free_port", "run_checked"]


class SandboxError(RuntimeError):
    """A sandbox server could not be installed or started; the message says why and where the log is."""


def cache_dir(*parts: str) -> Path:
    """Folder for installs that survive between runs (``$PASSERELLE_CACHE`` or ``~/.cache/passerelle``)."""
    root = Path(os.environ.get("PASSERELLE_CACHE") or Path.home() / ".cache" / "passerelle")
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def digest_files(*paths: Path) -> str:
    """Short content hash of install inputs, so a changed lock file gets a fresh install folder."""
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ManagedProcess:
    """A child process with its output in a log file, a readiness probe and a clean stop."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.cwd = cwd
        self.env = dict(os.environ if env is None else env)
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, ready: Callable[[], bool], *, timeout: float = 120.0) -> None:
        """Start the process and wait until ``ready()`` is true, the process died, or ``timeout``."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self._proc = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise SandboxError(
                    f"{self.name} exited with code {self._proc.returncode} while starting; "
                    f"see {self.log_path}:\n{self.tail()}"
                )
            try:
                if ready():
                    return
            except Exception:
                pass
            time.sleep(0.2)
        self.stop()
        raise SandboxError(f"{self.name} was not ready after {timeout:.0f} s; see {self.log_path}:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGINT, then SIGTERM, then SIGKILL the whole process group."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                proc.wait(timeout=timeout)
                return
            except subprocess.TimeoutExpired:
                continue


def run_checked(
    argv: Sequence[str],
    *,
    what: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 900.0,
) -> str:
    """Run a setup command; on failure raise SandboxError with its output."""
    proc = subprocess.run(
        list(argv), cwd=cwd, env=None if env is None else dict(env), capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        raise SandboxError(
            f"{what} failed (exit {proc.returncode}): {' '.join(argv)}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return proc.stdout


class Sandbox:
    """What every sandbox shares: one managed server process, a stop, and ``with`` support."""

    _process: ManagedProcess | None = None

    def start(self) -> Self:  # pragma: no cover - each sandbox starts its own server
        raise NotImplementedError

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()
            self._process = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
