"""Configuration: secrets by reference only, paths relative to the file, clear errors."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from connectors.errors import Fatal, PasserelleError
from connectors.registry import build
from deployments.config import PasserelleConfig, load_config, resolve_secret
from deployments.runtime import ConfigResolver

CONFIG = """
[state]
url = "{state_url}"

[snapshots]
root = "audit/snapshots"

[connections.main.erp]
type = "files"
path = "exports/articles_*.csv"

[connections.main.shop]
type = "vendure"
url = "http://127.0.0.1:1/admin-api"
username = "superadmin"
password = "{password}"
"""


def write_config(
    folder: Path, *, password: str = "env:TEST_SHOP_PASSWORD", state_url: str = "sqlite:///state.db", extra: str = ""
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / "passerelle.toml"
    file.write_text(extra + CONFIG.format(password=password, state_url=state_url), encoding="utf-8")
    return file


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The worker runs from another folder than the configuration's."""
    cwd = tmp_path / "worker-cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


# -- secrets -----------------------------------------------------------------------------------


def test_env_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_SHOP_PASSWORD", "s3cr3t-from-env")
    secret = resolve_secret("env:TEST_SHOP_PASSWORD", what="shop.password")
    assert secret is not None and secret.get_secret_value() == "s3cr3t-from-env"
    assert "s3cr3t-from-env" not in repr(secret) and "s3cr3t-from-env" not in str(secret)
    assert resolve_secret(None, what="x") is None and resolve_secret("", what="x") is None


def test_env_reference_to_an_unset_variable_is_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_SHOP_PASSWORD", raising=False)
    with pytest.raises(Fatal) as info:
        resolve_secret("env:TEST_SHOP_PASSWORD", what="connections.main.shop.password")
    message = str(info.value)
    assert "TEST_SHOP_PASSWORD" in message and "connections.main.shop.password" in message
    assert "Resolution:" in message


def test_literal_secret_is_refused_unless_allowed() -> None:
    with pytest.raises(Fatal, match="in clear.*Resolution:") as info:
        resolve_secret("hunter2-literal", what="shop.password")
    assert "hunter2-literal" not in str(info.value)
    allowed = resolve_secret("hunter2-literal", what="shop.password", allow_literal=True)
    assert allowed is not None and allowed.get_secret_value() == "hunter2-literal"


def test_connector_secrets_go_through_the_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_SHOP_PASSWORD", "pw-from-env")
    config = load_config(write_config(tmp_path))
    _, connection = config.connection("main")
    options = connection.shop.options()
    assert options["password"] == "env:TEST_SHOP_PASSWORD"  # stays a reference until used
    resolver = ConfigResolver(config, options, "connections.main.shop")
    assert resolver.secret("password") == "pw-from-env"
    shop = build("shop", "vendure", options, resolver)
    shop.close()

    literal = load_config(write_config(tmp_path / "literal", password="hunter2-literal"))
    options = literal.connection("main")[1].shop.options()
    with pytest.raises(Fatal, match="connections.main.shop.password is written in clear"):
        build("shop", "vendure", options, ConfigResolver(literal, options, "connections.main.shop"))

    demo = load_config(
        write_config(tmp_path / "demo", password="hunter2-literal", extra="allow_literal_secrets = true\n")
    )
    options = demo.connection("main")[1].shop.options()
    assert ConfigResolver(demo, options, "connections.main.shop").secret("password") == "hunter2-literal"


@pytest.fixture
def prefect_api_without_blocks() -> Iterator[str]:
    """A stand-in Prefect API that knows no block (answers 404 like the real one for a missing name)."""

    class NotFound(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"detail": "Block document not found"}).encode()
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/api"
    finally:
        server.shutdown()
        server.server_close()


def test_block_reference_to_a_missing_block_is_fatal(prefect_api_without_blocks: str) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: prefect_api_without_blocks}), pytest.raises(Fatal) as info:
        resolve_secret("block:vendure-password", what="connections.main.shop.password")
    message = str(info.value)
    assert "'vendure-password'" in message and "connections.main.shop.password" in message
    assert "Resolution:" in message


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_block_reference_with_prefect_unreachable_names_the_block() -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: f"http://127.0.0.1:{closed_port()}/api"}):
        with pytest.raises(PasserelleError) as info:
            resolve_secret("block:vendure-password", what="connections.main.shop.password")
    assert "vendure-password" in str(info.value)


# -- paths -------------------------------------------------------------------------------------


def test_relative_paths_are_relative_to_the_configuration_file(tmp_path: Path, elsewhere: Path) -> None:
    folder = tmp_path / "deploy"
    config = load_config(write_config(folder))
    assert config.base_dir == folder.resolve()
    assert config.path("exports/articles_*.csv") == str(folder / "exports" / "articles_*.csv")
    assert config.path(config.snapshots.root) == str(folder / "audit" / "snapshots")
    assert config.path("/srv/exports/a.csv") == "/srv/exports/a.csv"
    assert config.path("s3://bucket/prefix") == "s3://bucket/prefix"

    # The files connector gets its export path resolved the same way.
    _, connection = config.connection("main")
    options = connection.erp.options()
    erp = build("erp", "files", options, ConfigResolver(config, options, "connections.main.erp"))
    assert erp.settings.path == str(folder / "exports" / "articles_*.csv")


@pytest.mark.parametrize(
    ("state_url", "expected"),
    [
        ("sqlite:///state.db", "sqlite:///{folder}/state.db"),
        ("sqlite:///data/state.db", "sqlite:///{folder}/data/state.db"),
        ("sqlite:////var/lib/passerelle/state.db", "sqlite:////var/lib/passerelle/state.db"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("postgresql+psycopg://u@db/passerelle", "postgresql+psycopg://u@db/passerelle"),
    ],
)
def test_state_url(tmp_path: Path, elsewhere: Path, state_url: str, expected: str) -> None:
    folder = tmp_path / "deploy"
    config = load_config(write_config(folder, state_url=state_url))
    assert config.state_url() == expected.format(folder=folder.resolve())


def test_state_url_from_a_secret_reference(tmp_path: Path, elsewhere: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "deploy"
    config = load_config(write_config(folder, state_url="env:TEST_STATE_URL"))
    monkeypatch.setenv("TEST_STATE_URL", "postgresql+psycopg://passerelle:pw@db/passerelle")
    assert config.state_url() == "postgresql+psycopg://passerelle:pw@db/passerelle"
    monkeypatch.setenv("TEST_STATE_URL", "sqlite:///local.db")
    assert config.state_url() == f"sqlite:///{folder.resolve()}/local.db"


# -- connections and files ---------------------------------------------------------------------


def test_connections(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    name, connection = config.connection(None)  # the only one
    assert name == "main" and connection.erp.type == "files" and connection.catalogue.currency == "EUR"
    with pytest.raises(Fatal, match="no connection named 'other'") as info:
        config.connection("other")
    assert "Resolution:" in str(info.value) and "main" in str(info.value)

    two = PasserelleConfig.model_validate(
        {
            "connections": {
                "a": {"erp": {"type": "files"}, "shop": {"type": "vendure"}},
                "b": {"erp": {"type": "files"}, "shop": {"type": "vendure"}},
            }
        }
    )
    with pytest.raises(Fatal, match="2 connections and none was named"):
        two.connection(None)
    assert two.connection("b")[0] == "b"


def test_unknown_connector_type_is_fatal(tmp_path: Path) -> None:
    with pytest.raises(
        Fatal, match="unknown shop connector type 'shopware'.*Resolution: use one of: prestashop, vendure, woocommerce"
    ):
        build("shop", "shopware", {}, ConfigResolver(load_config(write_config(tmp_path)), {}, "x"))


def test_catalogue_settings_normalise_codes(tmp_path: Path) -> None:
    file = write_config(tmp_path)
    file.write_text(
        file.read_text() + '\n[connections.main.catalogue]\ncurrency = "eur"\ncountry = "fr"\n', encoding="utf-8"
    )
    catalogue = load_config(file).connection("main")[1].catalogue
    assert (catalogue.currency, catalogue.country) == ("EUR", "FR")


def test_missing_or_invalid_file_is_fatal(tmp_path: Path) -> None:
    with pytest.raises(Fatal, match="not found.*Resolution:"):
        load_config(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[state\nurl = 1", encoding="utf-8")
    with pytest.raises(Fatal, match="not valid TOML.*Resolution:"):
        load_config(broken)


def test_config_path_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = write_config(tmp_path / "from-env")
    monkeypatch.setenv("PASSERELLE_CONFIG", str(file))
    assert load_config().base_dir == file.parent.resolve()
