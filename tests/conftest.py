"""Test session settings: an isolated Prefect home, no telemetry, shared real servers.

Servers are started once per session and only by the tests that ask for them:
``vendure`` (npm, in-memory sql.js), ``tryton`` (PyPI, SQLite), ``s3_server`` (moto's server),
``postgres_url`` (PASSERELLE_TEST_POSTGRES_URL or a throw-away cluster from local binaries).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

_home = Path(tempfile.mkdtemp(prefix="passerelle-tests-"))
os.environ.setdefault("PREFECT_HOME", str(_home / "prefect"))
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["PREFECT_API_SERVICES_TELEMETRY_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ["GX_ANALYTICS_ENABLED"] = "false"
os.environ["VENDURE_DISABLE_TELEMETRY"] = "true"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

pytest_plugins = ["tests.fixtures.servers"]

# The slowest test files of a full run (`--durations`), started first: with `--dist loadfile`
# each file runs on one worker, so a long file started last is the session's tail. Longest first.
SLOW_FILES = (
    "tests/integration/test_two_workers.py",
    "tests/flows/test_catalogue_cut_off_vendure.py",
    "tests/flows/test_feedback_invoices_tryton_vendure.py",
    "tests/flows/test_stock_prices_tryton_vendure.py",
    "tests/flows/test_catalogue_tryton_vendure.py",
    "tests/flows/test_orders_tryton_vendure.py",
    "tests/unit/test_benchmark_audit.py",
    "tests/flows/test_leases.py",
    "tests/integration/test_alerts_prefect.py",
    "tests/integration/test_prefect_deploy.py",
    "tests/flows/test_catalogue_prices_vendure.py",
    "tests/flows/test_prestashop_flows.py",
    "tests/integration/test_check_vendure_tryton.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {path: i for i, path in enumerate(SLOW_FILES)}

    def key(item: pytest.Item) -> int:
        return rank.get(item.nodeid.split("::", 1)[0], len(SLOW_FILES))

    items.sort(key=key)  # stable: the other files, and the tests inside a file, keep their order
