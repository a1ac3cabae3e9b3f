"""`passerelle audit history order`: by the shop's id, and by the reference people know (the code
the shop and its e-mails show, or the ERP's order number)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from typer.testing import CliRunner

from deployments.cli import app
from tasks.snapshots import SnapshotRow
from tasks.state import StateStore

CONFIG = """
[state]
url = "sqlite:///state.db"
[snapshots]
root = "snapshots"
[connections.main.erp]
type = "files"
path = "exports/articles_*.csv"
[connections.main.shop]
type = "vendure"
url = "http://127.0.0.1:1/admin-api"
username = "superadmin"
password = "env:TEST_SHOP_PASSWORD"
"""


def setup(tmp_path: Path) -> Path:
    from tasks.context import snapshot_store
    from tasks.settings import load_config

    config = tmp_path / "passerelle.toml"
    config.write_text(CONFIG, encoding="utf-8")
    cfg = load_config(str(config))
    snapshot_store(cfg).write(
        run_id="run-0123456789ab", flow="orders", entity="order", stage="read",
        rows=[SnapshotRow("42", "h1", {"reference": "T8QQF9LZYFDHPJGR"})],
        at=datetime(2026, 12, 1, 9, tzinfo=timezone.utc),
    )  # fmt: skip
    store = StateStore(cfg.state_url())
    store.save_order_import("main", "42", reference="T8QQF9LZYFDHPJGR", state="imported", erp_reference="SO0042")
    store.dispose()
    return config


def test_an_order_is_found_by_its_id_its_shop_code_or_its_erp_number(tmp_path: Path) -> None:
    config = setup(tmp_path)
    runner = CliRunner()

    for key in ("42", "T8QQF9LZYFDHPJGR", "t8qqf9lzyfdhpjgr", "SO0042"):
        result = runner.invoke(app, ["audit", "history", "order", key, "-c", str(config)])
        assert result.exit_code == 0, (key, result.output)
        assert "orders" in result.output and "run run-01234567" in result.output, key

    unknown = runner.invoke(app, ["audit", "history", "order", "NOPE", "-c", str(config)])
    assert unknown.exit_code == 1 and "no snapshot of order 'NOPE'" in unknown.output
