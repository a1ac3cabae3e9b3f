"""`passerelle run` checks the configuration before any Prefect start-up: a misspelt key, an
unknown connector type or an unset secret is one line and exit code 2, dry run or not, in well
under the 15-60 s a temporary Prefect server takes to start."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deployments.cli import app

CONFIG = """
[state]
url = "sqlite:///state.db"
[connections.main.erp]
type = "files"
path = "exports/articles_*.csv"
[connections.main.shop]
type = "{shop}"
url = "http://127.0.0.1:1/admin-api"
username = "superadmin"
password = "env:PASSERELLE_TEST_UNSET_PASSWORD"
[connections.main.stock]
{stock}
"""


def run(tmp_path: Path, *args: str, shop: str = "vendure", stock: str = "safety_stock = 2") -> tuple[int, str, float]:
    config = tmp_path / "passerelle.toml"
    config.write_text(CONFIG.format(shop=shop, stock=stock), encoding="utf-8")
    started = time.monotonic()
    result = CliRunner().invoke(app, ["run", "stock", "-c", str(config), *args])
    return result.exit_code, result.output, time.monotonic() - started


@pytest.fixture(autouse=True)
def unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PASSERELLE_TEST_UNSET_PASSWORD", raising=False)


@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]])
def test_a_misspelt_key_is_one_line_with_a_suggestion(tmp_path: Path, dry_run: list[str]) -> None:
    code, output, seconds = run(tmp_path, *dry_run, stock="safety_stok = 2")

    assert code == 2
    assert "connections.main.stock.safety_stok: unknown key (did you mean 'safety_stock'?)" in output
    assert "Traceback" not in output and "pydantic" not in output and len(output.strip().splitlines()) == 1
    assert seconds < 5


def test_an_unknown_connector_type_is_named_with_the_known_ones(tmp_path: Path) -> None:
    code, output, seconds = run(tmp_path, "--dry-run", shop="shopfy")

    assert code == 2 and "unknown shop connector type 'shopfy'" in output and "did you mean 'shopify'" in output
    assert "Traceback" not in output and seconds < 5


def test_an_unset_environment_secret_stops_before_any_work(tmp_path: Path) -> None:
    code, output, seconds = run(tmp_path, "--dry-run")

    assert code == 2 and "PASSERELLE_TEST_UNSET_PASSWORD" in output and "shop.password" in output
    assert "Traceback" not in output and seconds < 5


def test_every_command_answers_a_missing_file_in_one_line_and_debug_shows_the_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from connectors.errors import Fatal
    from deployments.cli import main

    missing = str(tmp_path / "nowhere.toml")
    for command in (["quarantine", "discard", "1"], ["quarantine", "list"], ["db", "upgrade"], ["run", "stock"]):
        with pytest.raises(SystemExit) as exit_:
            main([*command, "-c", missing])
        err = capsys.readouterr().err
        assert exit_.value.code == 2, command
        assert err.startswith("error: configuration file") and "Traceback" not in err, command
        assert len(err.strip().splitlines()) == 1, command
    with pytest.raises(Fatal):
        main(["quarantine", "discard", "1", "-c", missing, "--debug"])


def test_a_misspelt_key_of_a_connector_is_found_before_the_run(tmp_path: Path) -> None:
    """The connector's own keys were checked only when the flow built it, after Prefect's start."""
    config = tmp_path / "passerelle.toml"
    text = CONFIG.format(shop="vendure", stock="safety_stock = 2").replace("username =", "usrname =")
    config.write_text(text, encoding="utf-8")
    started = time.monotonic()

    result = CliRunner().invoke(app, ["run", "stock", "-c", str(config), "--dry-run"])

    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "connections.main.shop.usrname: unknown key (did you mean 'username'?)" in result.output
    assert "connections.main.shop.username: missing" in result.output
    assert "passerelle init --shop vendure" in result.output and time.monotonic() - started < 5


def test_prefect_console_lines_lose_their_traceback_but_other_handlers_keep_it() -> None:
    """A failed run printed 20-60 lines of Prefect traceback around the one-line error; the
    console now shows one line per log record, the Prefect UI (another handler) the traceback."""
    import logging
    import sys

    from deployments.cli import _NoTraceback

    try:
        raise RuntimeError("Vendure: ConnectError on POST http://127.0.0.1:1/admin-api/")
    except RuntimeError:
        record = logging.LogRecord(
            "prefect.task_runs", logging.ERROR, __file__, 1, "Task run failed", None, sys.exc_info()
        )

    console = _NoTraceback(logging.Formatter("%(levelname)s | %(message)s"))
    assert console.format(record) == "ERROR | Task run failed"
    assert "Traceback" in logging.Formatter().format(record)  # the record itself is untouched
