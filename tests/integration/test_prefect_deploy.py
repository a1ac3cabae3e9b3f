"""prefect.yaml against a real Prefect server on 127.0.0.1: `prefect deploy --all` registers every
deployment with its schedule, parameters, work pool and concurrency limit, and no secret."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.fixtures.servers import prefect_server

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PREFECT = [sys.executable, "-m", "prefect"]


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    with prefect_server(tmp_path_factory.mktemp("prefect-server")) as api:
        yield api


def run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_deploy_all_registers_every_deployment(prefect_api, tmp_path: Path) -> None:
    url, env = prefect_api
    env = {**env, "PASSERELLE_HOME": str(ROOT), "PASSERELLE_CONFIG": str(tmp_path / "passerelle.toml")}
    run([*PREFECT, "work-pool", "create", "passerelle", "--type", "process"], env)
    run([*PREFECT, "--no-prompt", "deploy", "--all"], env)

    answer = httpx.post(f"{url}/deployments/filter", json={"limit": 50}, timeout=30)
    answer.raise_for_status()
    registered = {d["name"]: d for d in answer.json()}
    declared = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))["deployments"]
    assert set(registered) == {d["name"] for d in declared}
    for d in declared:
        got = registered[d["name"]]
        assert got["work_pool_name"] == "passerelle"
        assert got["parameters"] == d["parameters"]
        assert got["entrypoint"] == d["entrypoint"]
        assert len(got["schedules"]) == len(d["schedules"]) and all(s["active"] for s in got["schedules"])
        limit = got.get("concurrency_limit") or (got.get("global_concurrency_limit") or {}).get("limit")
        assert limit == 1, f"{d['name']}: runs could overlap"
        assert got["job_variables"]["env"]["PASSERELLE_CONFIG"] == env["PASSERELLE_CONFIG"]
    stock = registered["stock-every-10-minutes"]["schedules"][0]["schedule"]
    assert stock["interval"] == 600
    text = json.dumps(list(registered.values()))
    assert "password" not in text.lower()
