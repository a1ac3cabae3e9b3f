"""prefect.yaml: every deployment points at a flow that takes its parameters, with no secret in the file."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def deployments() -> list[dict]:
    return yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))["deployments"]


def test_every_deployment_runs_a_flow_with_the_parameters_it_passes() -> None:
    names = set()
    for deployment in deployments():
        path, attr = deployment["entrypoint"].split(":")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        flow = getattr(module, attr)
        accepted = set(inspect.signature(flow.fn).parameters)
        assert set(deployment.get("parameters", {})) <= accepted, deployment["name"]
        assert deployment["work_pool"]["name"] == "passerelle"
        assert deployment.get("concurrency_limit") == 1, f"{deployment['name']} runs could overlap"
        names.add(deployment["name"])
    assert {"catalogue-nightly", "stock-every-10-minutes", "prices-hourly", "orders-every-5-minutes"} <= names


def test_cadences_are_the_ones_users_expect() -> None:
    by_name = {d["name"]: d for d in deployments()}
    assert by_name["stock-every-10-minutes"]["schedules"][0]["interval"] == 600
    assert by_name["prices-hourly"]["schedules"][0]["cron"].split()[1] == "*"
    assert by_name["stock-nightly-reconcile"]["parameters"]["full"] is True
    assert by_name["orders-every-5-minutes"]["schedules"][0]["interval"] == 300


def test_no_secret_is_written_in_the_file() -> None:
    text = (ROOT / "prefect.yaml").read_text(encoding="utf-8")
    assert not re.search(r"(?i)(password|secret|api_key|token)\s*:", text)
