"""Secrets in the configuration file: the state store's URL is held to the same rule as the others."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.errors import Fatal
from tasks.settings import ConfigError, load_config

CONFIG = """
{extra}
[state]
url = "{url}"
[connections.main.erp]
type = "files"
[connections.main.shop]
type = "vendure"
url = "https://shop.test/admin-api"
username = "admin"
password = "env:SHOP_PASSWORD"
"""


def write(tmp_path: Path, url: str, extra: str = "") -> Path:
    file = tmp_path / "passerelle.toml"
    file.write_text(CONFIG.format(url=url, extra=extra), encoding="utf-8")
    return file


def test_a_database_password_written_in_the_state_url_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        load_config(write(tmp_path, "postgresql+psycopg://passerelle:s3cret-pw@db.example/passerelle"))
    message = str(refused.value)
    assert "state.url holds a database password in clear" in message and "env:" in message
    assert "s3cret-pw" not in message


@pytest.mark.parametrize(
    "url",
    ["env:PASSERELLE_STATE_URL", "sqlite:///state.db", "postgresql+psycopg://passerelle@127.0.0.1:5432/postgres"],
)
def test_references_and_urls_without_a_password_are_accepted(tmp_path: Path, url: str) -> None:
    assert load_config(write(tmp_path, url)).state.url == url


def test_a_local_demo_may_allow_literal_secrets(tmp_path: Path) -> None:
    url = "postgresql+psycopg://demo:demo-pw@127.0.0.1/demo"
    assert load_config(write(tmp_path, url, extra="allow_literal_secrets = true")).state.url == url


def test_a_secret_can_be_read_from_a_file_beside_the_configuration(tmp_path: Path) -> None:
    """A file the configuration references (mode 0600): how the demo leaves a setup another shell
    can use, and what container secrets (/run/secrets/...) look like."""
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "pg").write_text("sqlite:///from-file.db\n", encoding="utf-8")
    config = load_config(write(tmp_path, "file:secrets/pg"))
    assert config.state_url().endswith("from-file.db")
    missing = load_config(write(tmp_path, "file:secrets/nope"))
    with pytest.raises(Fatal, match=r"state.url is read from the file .*secrets/nope, which does not exist"):
        missing.state_url()
