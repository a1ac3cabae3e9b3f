"""Test session settings: an isolated Prefect home, no telemetry, shared real servers.

Servers are started once per session and only by the tests that ask for them:
``vendure`` (npm, in-memory sql.js), ``tryton`` (PyPI, SQLite), ``s3_server`` (moto's server),
``postgres_url`` (PASSERELLE_TEST_POSTGRES_URL or a throw-away cluster from local binaries).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_home = Path(tempfile.mkdtemp(prefix="passerelle-tests-"))
os.environ.setdefault("PREFECT_HOME", str(_home / "prefect"))
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["PREFECT_API_SERVICES_TELEMETRY_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ["GX_ANALYTICS_ENABLED"] = "false"
os.environ["VENDURE_DISABLE_TELEMETRY"] = "true"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

pytest_plugins = ["tests.fixtures.servers"]
