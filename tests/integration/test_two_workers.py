"""Beyond one machine (docs/scaling.md): two process workers on one work pool of a real Prefect
server, the state store on PostgreSQL, two shops' connections of one configuration file.

Everything runs on 127.0.0.1 as it would on several machines: the Prefect server and the two
``prefect worker start --type process`` are subprocesses, each flow run is a process of its
worker, the state store is the PostgreSQL of ``postgres_url``, and each shop is the WooCommerce
contract fake served over plain HTTP by this test (OAuth 1.0a signatures, as a shop reachable
over HTTP only). The ERP is a files ERP: one outbox folder per connection.

Three runs are created at once: two of the ``north`` connection's order import (a scheduled run
and a manual one, say) and one of ``south``'s. Each worker takes one run at a time (``--limit 1``)
and ``north``'s shop holds the first request it gets (from the run that took the lease) until the
other two runs are over, so they ran on the other worker while it held the lease: the second
``north`` run did nothing and said which run holds the lease, and ``south`` imported its orders in
parallel. Every order reached its ERP outbox once; the deployments have no concurrency limit, so
only the lease kept the two ``north`` runs apart (a CLI run or a second deployment of the same
flow and connection gets past a deployment's limit, never past the lease).
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from deployments.sandbox.base import free_port
from deployments.sandbox.fakes.woocommerce_fake import KEY, SECRET, FakeWooCommerce
from tasks.state import OrderState, StateStore
from tests.contract.test_woocommerce_orders import taxed_order
from tests.fixtures.servers import prefect_server

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PREFECT = [sys.executable, "-m", "prefect"]
POOL = "passerelle"
WORKERS = ("worker-1", "worker-2")
WORKER = [*PREFECT, "--no-prompt", "worker", "start", "--pool", POOL, "--type", "process", "--limit", "1"]
ORDERS = {"north": (101, 102), "south": (201, 202)}
HOLD_SECONDS = 300.0
"""How long the lease holder's first shop read waits at most (CI runs other tests beside this one)."""


# -- the Prefect server and its workers ------------------------------------------------------------
def _stop(process: subprocess.Popen[bytes], sig: int = signal.SIGINT, wait: float = 20) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
        process.wait(timeout=wait)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A Prefect server on a loopback port, its home in tmp (tests/fixtures/servers.py)."""
    with prefect_server(tmp_path_factory.mktemp("prefect-server")) as api:
        yield api


class Workers:
    """``prefect worker start --pool passerelle --type process`` twice, each with its own home
    (another machine's), one flow run at a time each; their logs say which run each one took."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env, self.folder = env, folder
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, Path] = {}

    def start(self, name: str) -> None:
        home = self.folder / name
        home.mkdir()
        env = {
            **self.env,
            "PREFECT_HOME": str(home),
            "PREFECT_LOGGING_LEVEL": "INFO",
            "PREFECT_WORKER_QUERY_SECONDS": "1",
            "PREFECT_WORKER_HEARTBEAT_SECONDS": "5",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{self.env.get('PATH', '')}",
        }
        self.logs[name] = home / "worker.log"
        with self.logs[name].open("wb") as log:
            self.processes[name] = subprocess.Popen(
                [*WORKER, "--name", name, "--no-create-pool-if-not-found"],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self, name: str) -> str:
        return self.logs[name].read_text(encoding="utf-8", errors="replace")

    def taken_by(self) -> dict[str, str]:
        """flow run id -> the worker that submitted it. Both workers may log "submitting" for the
        same run; the one that lost the race then logs "Aborted submission" (Prefect's
        ``BaseWorker._propose_pending_state``), so its attempt does not count."""
        taken: dict[str, str] = {}
        for name in self.processes:
            log = self.log(name)
            aborted = set(re.findall(r"Aborted submission of flow run '([0-9a-f-]{36})'", log))
            for run_id in re.findall(r"submitting flow run '([0-9a-f-]{36})'", log):
                if run_id not in aborted:
                    taken[run_id] = name
        return taken

    def stop(self) -> None:
        for process in self.processes.values():
            _stop(process, signal.SIGTERM)


# -- the shops: the WooCommerce contract fake over HTTP on 127.0.0.1 -------------------------------
class ShopServer:
    """Serves a :class:`FakeWooCommerce` over plain HTTP; with ``hold``, the first request waits
    until the test releases it (the run holding the lease is slow to read its shop)."""

    def __init__(self, fake: FakeWooCommerce, *, hold: bool = False) -> None:
        self.fake, self.hold = fake, hold
        self.held = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if shop.hold and not shop.held.is_set():
                    shop.held.set()
                    shop.release.wait(HOLD_SECONDS)
                request = httpx.Request(
                    self.command,
                    f"{shop.url}{self.path}",
                    headers=[(k, v) for k, v in self.headers.items() if k.lower() not in {"host", "content-length"}],
                    content=body,
                )
                with shop.lock:  # the fake keeps its state in plain dicts
                    response = shop.fake.handle(request)
                content = response.content
                self.send_response(response.status_code)
                self.send_header("Content-Type", response.headers.get("content-type", "application/json"))
                for name in ("X-WP-Total", "X-WP-TotalPages", "Link"):
                    if name in response.headers:
                        self.send_header(name, response.headers[name])
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def order_reads(self) -> int:
        return sum(1 for r in self.fake.requests if r.method == "GET" and r.url.path.endswith("/orders"))

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def paid_orders(*idents: int) -> FakeWooCommerce:
    hour_ago = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(tzinfo=None, microsecond=0)
    return FakeWooCommerce(
        [taxed_order(i, (hour_ago + timedelta(minutes=n)).isoformat()) for n, i in enumerate(idents)]
    )


# -- the state store: a database of its own on the PostgreSQL of the session ------------------------
@pytest.fixture
def state_url(postgres_url: str) -> Iterator[str]:
    """A fresh database for this test (the session's one when the server refuses CREATE DATABASE)."""
    name = f"two_workers_{secrets.token_hex(4)}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.SQLAlchemyError:
        admin.dispose()
        yield postgres_url
        return
    try:
        yield sa.engine.make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        try:
            with admin.connect() as conn:  # WITH (FORCE): a flow run's connection may linger
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        except sa.exc.SQLAlchemyError:
            pass  # a throw-away cluster anyway, or a server older than PostgreSQL 13
        admin.dispose()


def write_config(tmp_path: Path, state_url: str, shops: dict[str, ShopServer]) -> Path:
    parts = [
        f'[state]\nurl = "{state_url}"\nlease_seconds = 60\n',
        f'[snapshots]\nroot = "{tmp_path / "snapshots"}"\n',
    ]
    for name, shop in shops.items():
        (tmp_path / f"outbox-{name}").mkdir()
        parts.append(
            f"""
[connections.{name}.erp]
type = "files"
[connections.{name}.erp.orders]
outbox = "{tmp_path / f"outbox-{name}"}"
shop = "woo"
[connections.{name}.shop]
type = "woocommerce"
url = "{shop.url}"
auth = "oauth1"
consumer_key = "env:TWO_WORKERS_WC_KEY"
consumer_secret = "env:TWO_WORKERS_WC_SECRET"
"""
        )
    config = tmp_path / "passerelle.toml"
    config.write_text("\n".join(parts), encoding="utf-8")
    store = StateStore(state_url)  # migrates the fresh database; the article was published before
    try:
        for name in shops:
            store.upsert_bindings(
                name, "variant", [{"erp_key": "PEER-HOODIE-M", "shop_id": "10/12", "state": "synced"}]
            )
    finally:
        store.dispose()
    return config


# -- the test -----------------------------------------------------------------------------------------
def wait_for(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return False


@pytest.fixture
def shops() -> Iterator[dict[str, ShopServer]]:
    made = {
        "north": ShopServer(paid_orders(*ORDERS["north"]), hold=True),
        "south": ShopServer(paid_orders(*ORDERS["south"])),
    }
    try:
        yield made
    finally:
        for shop in made.values():
            shop.close()


def test_two_workers_run_two_connections_in_parallel_and_the_lease_keeps_one_import_per_connection(
    prefect_api: tuple[str, dict[str, str]], state_url: str, shops: dict[str, ShopServer], tmp_path: Path
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from prefect.workers.process import ProcessWorker

    url, server_env = prefect_api
    config = write_config(tmp_path, state_url, shops)
    env = {**server_env, "TWO_WORKERS_WC_KEY": KEY, "TWO_WORKERS_WC_SECRET": SECRET}
    workers = Workers(env, tmp_path / "workers")
    (tmp_path / "workers").mkdir()
    with temporary_settings(updates={PREFECT_API_URL: url}), get_client(sync_client=True) as client:
        # prefect work-pool create passerelle --type process
        template = ProcessWorker.get_default_base_job_template()
        client.create_work_pool(WorkPoolCreate(name=POOL, type="process", base_job_template=template))
        flow_id = client.create_flow_from_name("import-orders")
        for name in shops:
            # As prefect.yaml's orders deployment (its process work pool, the code of this checkout,
            # the configuration file named in the job's environment), without its concurrency limit.
            client.create_deployment(
                flow_id=flow_id,
                name=f"orders-{name}",
                entrypoint="flows/orders.py:import_orders",
                work_pool_name=POOL,
                work_queue_name="default",
                parameters={"connection": name, "dry_run": False},
                job_variables={"env": {"PASSERELLE_CONFIG": str(config), "PREFECT_LOGGING_LEVEL": "INFO"}},
                pull_steps=[{"prefect.deployments.steps.set_working_directory": {"directory": str(ROOT)}}],
            )
        try:
            for name in WORKERS:
                workers.start(name)
            # Both workers are polling the pool before any run exists: the runs go to whichever asks.
            assert wait_for(
                lambda: len({w.name for w in client.read_workers_for_work_pool(POOL)}) == 2,
                180,
            ), {name: workers.log(name)[-2000:] for name in WORKERS}

            runs = {
                "north-1": run_deployment("import-orders/orders-north", timeout=0),
                "north-2": run_deployment("import-orders/orders-north", timeout=0),
                "south": run_deployment("import-orders/orders-south", timeout=0),
            }
            ids = {key: str(run.id) for key, run in runs.items()}

            def state(key: str) -> Any:
                return client.read_flow_run(runs[key].id).state

            def final(*keys: str) -> bool:
                return all((s := state(k)) is not None and s.is_final() for k in keys)

            # The run that took north's lease is held in its first shop read; meanwhile the other
            # north run and south's run must both be over (they ran on the other worker).
            held = shops["north"].held.wait(HOLD_SECONDS)
            others_done = held and wait_for(lambda: final("south") and (final("north-1") or final("north-2")), 240)
            busy_key = next((k for k in ("north-1", "north-2") if final(k)), "north-2")
            holder_key = "north-2" if busy_key == "north-1" else "north-1"
            shops["north"].release.set()
            all_done = wait_for(lambda: final(*runs), 180)
            logs = {name: workers.log(name)[-3000:] for name in WORKERS}
            assert held, f"no north run reached its shop: {logs}"
            assert others_done and all_done, {k: state(k) for k in runs} | logs
            assert {k: state(k).type.value for k in runs} == dict.fromkeys(runs, "COMPLETED"), logs

            busy_filter = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[runs[busy_key].id]))
            busy_lines: list[str] = []

            def busy_said() -> bool:  # a run's last logs reach the API just after its final state
                busy_lines[:] = [log.message for log in client.read_logs(busy_filter) if "nothing done" in log.message]
                return bool(busy_lines)

            wait_for(busy_said, 30)
            taken = workers.taken_by()
        finally:
            shops["north"].release.set()
            workers.stop()

    # The second run of north's import did nothing and said which run holds the lease.
    assert busy_lines and "holds the lease import-orders:north" in busy_lines[0], busy_lines
    assert ids[holder_key] in busy_lines[0]
    assert shops["north"].order_reads() >= 1 and shops["south"].order_reads() >= 1
    # Not even a read: north's shop got the requests of one import of two orders, as south's did.
    assert len(shops["north"].fake.requests) == len(shops["south"].fake.requests)

    # Each connection's orders reached its own ERP outbox, once each.
    for name, idents in ORDERS.items():
        assert sorted(p.name for p in (tmp_path / f"outbox-{name}").iterdir()) == [f"woo-{i}.csv" for i in idents]
    store = StateStore(state_url, migrate=False)
    try:
        for name, idents in ORDERS.items():
            imports = store.order_imports(name, [str(i) for i in idents])
            assert {k: r.state for k, r in imports.items()} == {str(i): OrderState.IMPORTED for i in idents}
    finally:
        store.dispose()

    # Both workers took runs: the lease holder ran on one, the other two runs on the other one.
    assert set(taken.values()) == set(WORKERS), taken
    assert {ids[busy_key], ids["south"]} <= {i for i, w in taken.items() if w != taken[ids[holder_key]]}, taken
