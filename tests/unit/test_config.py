"""Configuration: secrets by reference only, paths relative to the file, clear errors."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from connectors.errors import Fatal, PasserelleError
from connectors.registry import build
from tasks.context import ConfigResolver, open_context
from tasks.settings import ConfigError, PasserelleConfig, load_config, resolve_secret

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
        Fatal,
        match="unknown shop connector type 'shopware'.*Resolution: use one of: prestashop, shopify, vendure, woocommerce",
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


# -- reference prefixes of web orders in a shared ERP ------------------------------------------------

TWO_SHOPS = """
[connections.boutique.erp]
type = "files"
path = "exports/articles.csv"
[connections.boutique.erp.orders]
outbox = "outbox"
{boutique}

[connections.boutique.shop]
type = "vendure"
url = "http://127.0.0.1:1/admin-api"

[connections.presta.erp]
type = "files"
path = "{presta_path}"
[connections.presta.erp.orders]
outbox = "{presta_outbox}"
{presta}

[connections.presta.shop]
type = "prestashop"
url = "http://127.0.0.1:1/api"
"""


def two_shops(
    folder: Path,
    *,
    boutique: str = "",
    presta: str = "",
    presta_outbox: str = "outbox",
    presta_path: str = "exports/articles.csv",
) -> Path:
    """Two shops (Vendure, PrestaShop) whose orders go to one GesCom's outbox (by default)."""
    folder.mkdir(parents=True, exist_ok=True)
    for outbox in {"outbox", presta_outbox}:
        (folder / outbox).mkdir(parents=True, exist_ok=True)
    file = folder / "passerelle.toml"
    text = TWO_SHOPS.format(boutique=boutique, presta=presta, presta_outbox=presta_outbox, presta_path=presta_path)
    file.write_text(text, encoding="utf-8")
    return file


def order_42() -> Any:
    from connectors.models import Customer, Order, OrderLine

    placed = datetime(2026, 7, 4, 10, 0, tzinfo=timezone.utc)
    line = OrderLine("L1", "MUG", "Mug", Decimal(1), Decimal("10.00"), Decimal(20), Decimal("10.00"), Decimal("12.00"))
    return Order(
        shop_id="42",
        reference="WEB42",
        state="paid",
        created_at=placed,
        updated_at=placed,
        currency="EUR",
        customer=Customer("zoe@example.com", shop_id="7"),
        billing=None,
        shipping=None,
        lines=[line],
        total=Decimal("10.00"),
        total_tax_included=Decimal("12.00"),
    )


def test_two_shops_on_one_erp_get_their_own_reference_prefix(tmp_path: Path) -> None:
    """Each shop's order 42 reaches the ERP: the prefix defaults to the connection's name."""
    file = two_shops(tmp_path)
    refs = {}
    for name in ("boutique", "presta"):
        ctx = open_context(str(file), name, dry_run=True)
        try:
            assert ctx.erp.find_orders(["42"]) == {}  # the other shop's order 42 is not this one's
            refs[name] = ctx.erp.import_order(order_42(), {"L1": "MUG"})
        finally:
            ctx.close()
    assert refs["boutique"].reference == "boutique:42" and refs["presta"].reference == "presta:42"
    assert refs["boutique"].customer_id == "boutique:7" != refs["presta"].customer_id
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == ["boutique-42.csv", "presta-42.csv"]


@pytest.mark.parametrize(
    ("boutique", "presta"),
    [
        ('shop = "vendure"', 'shop = "vendure"'),  # both kept the old default on upgrade
        ("", 'shop = "boutique"'),  # a prefix equal to the other's default
        ('shop = "Web"', 'shop = "web"'),  # a GesCom that upper-cases references
    ],
)
def test_connections_sharing_an_erp_cannot_share_a_reference_prefix(tmp_path: Path, boutique: str, presta: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(two_shops(tmp_path, boutique=boutique, presta=presta))
    message = str(info.value)
    assert "'boutique'" in message and "'presta'" in message and "reference prefix" in message
    assert "orders" in message and "shop" in message  # what to change


def test_an_explicit_prefix_is_kept_and_separate_erps_may_share_one(tmp_path: Path) -> None:
    # An installation that imported with the old default keeps it for the connection that did.
    file = two_shops(tmp_path / "upgrade", boutique='shop = "vendure"')
    ctx = open_context(str(file), "boutique", dry_run=True)
    try:
        assert ctx.erp.import_order(order_42(), {"L1": "MUG"}).reference == "vendure:42"
    finally:
        ctx.close()

    # Two ERPs (nothing shared: other exports, other outboxes) may use the same prefix.
    separate = two_shops(
        tmp_path / "separate",
        boutique='shop = "web"',
        presta='shop = "web"',
        presta_outbox="other/outbox",
        presta_path="other/articles.csv",
    )
    config = load_config(separate)
    assert config.connection("presta")[1].erp.options()["orders"]["shop"] == "web"


TWO_TRYTON = """
[connections."{a}".erp]
type = "tryton"
url = "https://erp.example.com/"
database = "prod"
login = "passerelle"
password = "env:TEST_TRYTON_PASSWORD"
{a_orders}
[connections."{a}".shop]
type = "vendure"

[connections."{b}".erp]
type = "tryton"
url = "https://ERP.example.com"
database = "{b_database}"
login = "passerelle"
password = "env:TEST_TRYTON_PASSWORD"
{b_orders}
[connections."{b}".shop]
type = "woocommerce"
"""


def test_tryton_sales_and_parties_of_two_shops_have_their_own_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_TRYTON_PASSWORD", "pw")
    file = tmp_path / "passerelle.toml"
    file.write_text(
        TWO_TRYTON.format(a="vendure-fr", b="Woo Shop.de", a_orders="", b_orders="", b_database="prod"),
        encoding="utf-8",
    )
    prefixes = {}
    for name in ("vendure-fr", "Woo Shop.de"):
        ctx = open_context(str(file), name, dry_run=True)
        try:
            prefixes[name] = ctx.erp.settings.orders.shop
        finally:
            ctx.close()
    assert prefixes == {"vendure-fr": "vendure-fr", "Woo Shop.de": "woo-shop-de"}

    same = '[connections."{}".erp.orders]\nshop = "vendure"\n'
    file.write_text(
        TWO_TRYTON.format(
            a="a", b="b", a_orders=same.format("a"), b_orders=same.format("b"), b_database="prod"
        ),  # one server, one database (the URL spelt differently)
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"'a' and 'b'.*reference prefix 'vendure'"):
        load_config(file)
    file.write_text(
        TWO_TRYTON.format(a="a", b="b", a_orders=same.format("a"), b_orders=same.format("b"), b_database="test"),
        encoding="utf-8",
    )
    assert set(load_config(file).connections) == {"a", "b"}  # another database: another ERP


def test_a_shipments_only_files_connection_reads_its_own_prefix(tmp_path: Path) -> None:
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "livraisons.csv").write_text(
        "reference;delivery;date;carrier;tracking_number;sku;quantity\n"
        "presta:42;BL1;05/07/2026;Colissimo;6A1;MUG;1\n"
        "boutique:43;BL2;05/07/2026;Colissimo;6A2;MUG;1\n",
        encoding="utf-8",
    )
    file = tmp_path / "passerelle.toml"
    file.write_text(
        '[connections.presta.erp]\ntype = "files"\n[connections.presta.erp.shipments]\n'
        'path = "exports/livraisons.csv"\nreferences = "prefixed"\n'
        '[connections.presta.shop]\ntype = "prestashop"\n',
        encoding="utf-8",
    )
    ctx = open_context(str(file), "presta", dry_run=True)
    try:
        assert [s.shop_order_id for s in ctx.erp.iter_statuses(None)] == ["42"]
    finally:
        ctx.close()


def test_two_connections_on_one_server_erp_of_any_kind_need_two_prefixes(tmp_path: Path) -> None:
    """Dolibarr (or any ERP reached by a URL) is one place per server and database, as Tryton is."""
    shop = '[connections.{n}.shop]\ntype = "vendure"\nurl = "http://127.0.0.1:1/admin-api"\nusername = "a"\npassword = "env:X"\n'
    erp = '[connections.{n}.erp]\ntype = "dolibarr"\nurl = "{url}"\napi_key = "env:DOLI"\n[connections.{n}.erp.orders]\nshop = "web"\n'
    file = tmp_path / "passerelle.toml"
    text = erp.format(n="a", url="https://erp.example/api/index.php") + shop.format(n="a")
    text += erp.format(n="b", url="https://ERP.example/api/index.php/") + shop.format(n="b")
    file.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"'a' and 'b'.*reference prefix"):
        load_config(file)
    file.write_text(text.replace('shop = "web"', 'shop = "web-b"', 1), encoding="utf-8")
    assert sorted(load_config(file).connections) == ["a", "b"]
