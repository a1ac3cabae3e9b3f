"""passerelle's alerts against a real Prefect server on 127.0.0.1: `passerelle alerts apply` declares
the automations (idempotently), a passerelle flow run that fails makes Prefect send the notification
through a webhook block to a small HTTP server of the test, and an unknown block is one line with a
Resolution."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from deployments.sandbox.base import free_port
from tests.fixtures.servers import prefect_server

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PREFECT = [sys.executable, "-m", "prefect"]
PASSERELLE = [sys.executable, "-c", "from deployments.cli import main; main()"]

CONFIG = """
[state]
url = "sqlite:///state.db"

[snapshots]
root = "snapshots"

[alerts]
notify = "{notify}"
quarantine_threshold = 5
order_wait_hours = 12

[connections.main.erp]
type = "files"
path = "exports/articles_*.csv"

[connections.main.shop]
type = "vendure"
url = "http://127.0.0.1:1/admin-api"
username = "superadmin"
password = "env:ALERTS_TEST_SHOP_PASSWORD"
"""
# No [connections.main.stock] warehouses: sync-stock fails at once with a Fatal ("no ERP warehouse
# feeds this shop's stock ... Resolution: ...").


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    with prefect_server(tmp_path_factory.mktemp("prefect-server"), ALERTS_TEST_SHOP_PASSWORD="not-used") as api:
        yield api


class Recorder:
    """An HTTP server on 127.0.0.1 that keeps the body of every request it gets."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                recorder.requests.append({"path": self.path, "body": body.decode("utf-8", "replace")})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    r = Recorder()
    try:
        yield r
    finally:
        r.close()


def run(
    args: list[str], env: dict[str, str], *, cwd: Path = ROOT, check: bool = True
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    if check:
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def write_config(folder: Path, notify: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / "passerelle.toml"
    file.write_text(CONFIG.format(notify=notify), encoding="utf-8")
    return file


def save_webhook_block(env: dict[str, str], url: str, name: str) -> None:
    script = (
        "from prefect.blocks.notifications import CustomWebhookNotificationBlock as B\n"
        f"B(name='passerelle-test', url={url!r}, json_data={{'subject': '{{{{subject}}}}', 'body': '{{{{body}}}}'}})"
        f".save({name!r}, overwrite=True)\n"
    )
    run([sys.executable, "-c", script], env)


def automations(url: str) -> dict[str, dict[str, Any]]:
    answer = httpx.post(f"{url}/automations/filter", json={}, timeout=30)
    answer.raise_for_status()
    return {a["name"]: a for a in answer.json()}


def test_failed_run_notifies_through_the_block(prefect_api, recorder: Recorder, tmp_path: Path) -> None:
    started = time.monotonic()
    url, env = prefect_api
    save_webhook_block(env, recorder.url, "ops")
    config = write_config(tmp_path / "site", "custom-webhook/ops")

    applied = run([*PASSERELLE, "alerts", "apply", "-c", str(config)], env).stdout
    assert "created   passerelle: run failed or crashed" in applied
    assert "created   passerelle: missed schedule orders-every-5-minutes" in applied
    again = run([*PASSERELLE, "alerts", "apply", "-c", str(config)], env).stdout
    assert again.strip() and all(line.startswith("unchanged") for line in again.strip().splitlines()), again
    declared = automations(url)
    names = {n for n in declared if n.startswith("passerelle:")}
    assert {
        "passerelle: run failed or crashed",
        "passerelle: quarantine over threshold",
        "passerelle: orders waiting",
        "passerelle: missed schedule stock-every-10-minutes",
    } <= names
    missed = declared["passerelle: missed schedule stock-every-10-minutes"]["trigger"]
    assert missed["posture"] == "Proactive" and missed["within"] == 1200  # 2 x 600 s
    assert all(a["actions"][0]["type"] == "send-notification" for n, a in declared.items() if n in names)
    listed = run([*PASSERELLE, "alerts", "list"], env).stdout
    assert "passerelle: run failed or crashed" in listed and "passerelle: orders waiting" in listed

    # A passerelle flow that fails (no warehouse feeds the stock), run as a worker would run it.
    fail = [sys.executable, "-c", f"from flows.stock import sync_stock; sync_stock(config={str(config)!r})"]
    notification = None
    for _attempt in range(3):  # the server may load a new automation a few seconds after its creation
        done = run(fail, env, cwd=tmp_path, check=False)
        assert done.returncode != 0, "the flow was meant to fail"
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and notification is None:
            notification = next((r for r in recorder.requests if "sync-stock" in r["body"]), None)
            time.sleep(1)
        if notification is not None:
            break
    assert notification is not None, f"no notification; got {recorder.requests}"
    body = json.loads(notification["body"])
    assert body["subject"].startswith("passerelle: sync-stock run ") and "Failed" in body["subject"]
    assert "no ERP warehouse feeds this shop's stock" in body["body"] and "Resolution" in body["body"]
    assert "/runs/flow-run/" in body["body"]  # the run's page in the UI
    print(f"notification after {time.monotonic() - started:.1f} s: {body}")


def test_unknown_block_is_one_line_with_a_resolution(prefect_api, tmp_path: Path) -> None:
    _url, env = prefect_api
    config = write_config(tmp_path / "site", "slack-webhook/nobody-made-it")
    done = run([*PASSERELLE, "alerts", "apply", "-c", str(config)], env, check=False)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "'slack-webhook/nobody-made-it'" in lines[0] and "does not exist" in lines[0]
    assert "Resolution:" in lines[0] and "prefect block register" in lines[0]


PROBE = """
import sys

from prefect import flow

from connectors.errors import RecordError
from tasks.alerts import check_alerts
from tasks.context import open_context
from tasks.state import QuarantineEntry


@flow(name="alerts-probe")
def probe(config: str) -> int:
    ctx = open_context(config, None)
    try:
        refused = [QuarantineEntry(RecordError(f"SKU{i}", "ean", "bad check digit", "ean")) for i in range(6)]
        ctx.store.quarantine("main", "sync-stock", "variant", refused, run_id="probe")
        return len(check_alerts(ctx))
    finally:
        ctx.close()


print("events:", probe(sys.argv[1]))
"""

PREFECT_YAML = """
deployments:
  - name: probe-every-5-seconds
    entrypoint: flows/stock.py:sync_stock
    schedules:
      - interval: 5
    work_pool:
      name: passerelle
"""


def wait_for(recorder: Recorder, text: str, timeout: float) -> dict[str, Any] | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = next((r for r in recorder.requests if text in r["body"]), None)
        if found is not None:
            return json.loads(found["body"])
        time.sleep(1)
    return None


def test_quarantine_event_and_missed_schedule_notify(prefect_api, recorder: Recorder, tmp_path: Path) -> None:
    started = time.monotonic()
    url, env = prefect_api
    save_webhook_block(env, recorder.url, "ops")
    config = write_config(tmp_path / "site", "custom-webhook/ops")
    deployments = tmp_path / "prefect.yaml"
    deployments.write_text(PREFECT_YAML, encoding="utf-8")
    applied = run([*PASSERELLE, "alerts", "apply", "-c", str(config), "--prefect-yaml", str(deployments)], env).stdout
    assert "created   passerelle: missed schedule probe-every-5-seconds" in applied
    assert "passerelle: missed schedule orders-every-5-minutes" not in automations(url)  # no longer declared

    # The end-of-run check of a flow: 6 open quarantine entries, threshold 5.
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE, encoding="utf-8")
    quarantine = None
    for _attempt in range(3):  # the server may load a new automation a few seconds after its creation
        done = run([sys.executable, str(probe), str(config)], {**env, "PYTHONPATH": str(ROOT)}, cwd=tmp_path)
        assert "events: 1" in done.stdout, done.stdout + done.stderr
        quarantine = wait_for(recorder, "quarantine over threshold", 30)
        if quarantine is not None:
            break
    assert quarantine is not None, f"no quarantine notification; got {recorder.requests}"
    assert quarantine["subject"] == "passerelle: quarantine over threshold on main"
    assert "6 open quarantine entries on connection 'main' (threshold 5): sync-stock 6" in quarantine["body"]
    assert "passerelle quarantine list --connection main" in quarantine["body"]
    assert "alerts-probe" in quarantine["body"] and "/runs/flow-run/" in quarantine["body"]

    # No completed run of the deployment for 2 x 5 s: the proactive trigger fires.
    missed = wait_for(recorder, "probe-every-5-seconds", 90)
    assert missed is not None, f"no missed-schedule notification; got {recorder.requests}"
    assert missed["subject"] == "passerelle: no completed run of probe-every-5-seconds for 10 seconds"
    assert "prefect worker start --pool passerelle" in missed["body"]
    print(f"notifications after {time.monotonic() - started:.1f} s: {quarantine} {missed}")
