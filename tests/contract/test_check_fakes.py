"""``passerelle check`` on the fake-backed platforms (WooCommerce, Dolibarr, Odoo, Shopify, PrestaShop, files ERP), and the check path without
Prefect: every check is a read, a refusal is one failed check with its Resolution."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.checks import Check, Checkable, CheckNeeds, permissions_needed
from connectors.shop.vendure.check import VENDURE_PERMISSIONS
from connectors.shop.woocommerce import WooCommerceShop
from connectors.shop.woocommerce.client import WooCommerceClient
from deployments.check import connection_needs, run_check
from deployments.sandbox.fakes.dolibarr import KEY as DOLIBARR_KEY
from deployments.sandbox.fakes.dolibarr import URL as DOLIBARR_URL
from deployments.sandbox.fakes.dolibarr import FakeDolibarr
from deployments.sandbox.fakes.odoo import OdooFake, seed_catalogue
from deployments.sandbox.fakes.odoo.catalog import connector_options
from deployments.sandbox.fakes.odoo.catalog import resolver as odoo_resolver
from deployments.sandbox.fakes.woocommerce_fake import KEY, SECRET, SITE, FakeWooCommerce

ROOT = Path(__file__).resolve().parents[2]
EVERY_FLOW = frozenset({"catalogue", "stock", "prices", "orders", "feedback", "invoices"})


def woocommerce(fake: FakeWooCommerce, *, secret: str = SECRET) -> WooCommerceShop:
    client = WooCommerceClient(SITE, consumer_key=KEY, consumer_secret=secret, transport=fake.transport, backoff=0.0)
    return WooCommerceShop(client)


def failures(checks: list[Check]) -> list[Check]:
    return [c for c in checks if not c.ok]


def test_woocommerce_checks_pass_and_only_read() -> None:
    fake = FakeWooCommerce()
    shop = woocommerce(fake)
    assert isinstance(shop, Checkable)
    checks = shop.check(CheckNeeds(flows=EVERY_FLOW, tax_categories=("Standard rate", "Reduced rate")))
    assert failures(checks) == []
    lines = [c.line() for c in checks]
    assert lines[0] == "login key accepted (store currency EUR)"
    assert "read products (catalogue, stock, prices)" in lines
    assert "read orders (orders, feedback, invoices)" in lines
    assert "tax class 'Reduced rate' exists" in lines
    assert {r.method for r in fake.requests} == {"GET"}
    assert fake.writes() == []


def test_woocommerce_refused_key_is_one_failed_login() -> None:
    checks = woocommerce(FakeWooCommerce(), secret="cs_wrong").check(CheckNeeds(flows=EVERY_FLOW))
    [check] = checks
    assert not check.ok and check.name == "login"
    assert "HTTP 401" in check.detail and check.resolution
    assert "cs_wrong" not in check.line()


def test_woocommerce_missing_tax_class_names_the_known_ones() -> None:
    checks = woocommerce(FakeWooCommerce()).check(
        CheckNeeds(flows=frozenset({"catalogue"}), tax_categories=("TVA 20",))
    )
    [check] = failures(checks)
    assert check.line() == (
        "tax class 'TVA 20' not found in WooCommerce (known: Standard rate, Reduced rate, Zero rate). "
        "Resolution: add the class in WooCommerce > Settings > Tax, or fix [catalogue.taxes]."
    )


def test_woocommerce_down_is_one_failed_check_naming_the_url() -> None:
    fake = FakeWooCommerce()
    fake.fail_with = 503
    [check] = woocommerce(fake).check(CheckNeeds(flows=EVERY_FLOW))
    assert not check.ok
    assert check.detail.startswith("could not reach the platform at https://shop.example.test/wp-json/wc/v3/")
    assert check.resolution.startswith("check the URL in the configuration")
    assert len(fake.requests) == 1  # no in-place retries during a check


def test_only_the_configured_flows_are_asked_for() -> None:
    needs = CheckNeeds(flows=frozenset({"orders"}))
    assert permissions_needed(VENDURE_PERMISSIONS, needs) == {("ReadOrder",): ["orders"]}


def test_needs_follow_the_configuration(tmp_path: Path) -> None:
    from tasks.settings import load_config

    config = tmp_path / "passerelle.toml"
    config.write_text(
        """
[connections.main.erp]
type = "files"
[connections.main.shop]
type = "woocommerce"
[connections.main.catalogue.taxes.FR]
"20" = "Standard rate"
[[connections.main.stock.feeds]]
warehouses = ["WH", "STORE"]
location = "Web"
[connections.main.prices]
groups = ["Pro"]
""",
        encoding="utf-8",
    )
    erp, shop, problems = connection_needs(load_config(config).connections["main"])
    assert problems == []
    assert erp.flows == shop.flows == frozenset({"catalogue", "stock", "prices"})
    assert erp.warehouses == ("WH", "STORE") and erp.groups == ("Pro",)
    assert shop.locations == ("Web",) and shop.tax_categories == ("Standard rate",)


def test_a_refused_configuration_is_one_fail_line(tmp_path: Path) -> None:
    config = tmp_path / "passerelle.toml"
    config.write_text('[connections.main.erp]\ntype = "tryton"\n[connections.main.shopp]\ntype = "vendure"\n')
    lines: list[str] = []
    assert run_check(str(config), echo=lines.append) == 1
    [line] = lines
    assert line.startswith(f"FAIL config {config}: configuration ")
    assert "did you mean 'shop'?" in line and "Resolution: " in line


def test_the_check_path_imports_no_prefect(tmp_path: Path) -> None:
    """Configuration, preflight, every platform built and checked (here: nothing answers on port 9)
    without Prefect in the process."""
    config = tmp_path / "passerelle.toml"
    config.write_text(
        """
[connections.main.erp]
type = "tryton"
url = "http://127.0.0.1:9/"
database = "db"
login = "admin"
password = "env:CHECK_TEST_SECRET"
[connections.main.shop]
type = "vendure"
url = "http://127.0.0.1:9/admin-api"
username = "superadmin"
password = "env:CHECK_TEST_SECRET"
[connections.main.orders]
""",
        encoding="utf-8",
    )
    script = (
        "import sys\nfrom deployments.check import run_check\n"
        f"code = run_check({str(config)!r})\n"
        "assert 'prefect' not in sys.modules, 'prefect imported'\nsys.exit(code)\n"
    )
    env = {**os.environ, "CHECK_TEST_SECRET": "s3cret-value"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ok   config ")
    assert lines[1].startswith("FAIL main erp tryton: server could not reach the platform at http://127.0.0.1:9/")
    assert lines[2].startswith(
        "FAIL main shop vendure: login could not reach the platform at http://127.0.0.1:9/admin-api"
    )
    assert len(lines) == 3 and "s3cret-value" not in result.stdout and "Traceback" not in result.stderr


@pytest.mark.parametrize("flows", [frozenset(), EVERY_FLOW])
def test_no_flow_asks_for_no_permission(flows: frozenset[str]) -> None:
    needed = permissions_needed(VENDURE_PERMISSIONS, CheckNeeds(flows=flows))
    assert bool(needed) == bool(flows)


# -- Dolibarr ------------------------------------------------------------------------------------


class _Key:
    def __init__(self, key: str) -> None:
        self.key = key

    def secret(self, option: str) -> str | None:
        return self.key

    def path(self, value: str) -> str:
        return value


def dolibarr(fake: FakeDolibarr, key: str = DOLIBARR_KEY, **options: object) -> Checkable:
    from connectors.erp.dolibarr.factory import build

    connector = build(
        {"url": DOLIBARR_URL, "api_key": "env:DOLIBARR_API_KEY", **options}, _Key(key), transport=fake.transport
    )
    assert isinstance(connector, Checkable)
    return connector


def test_dolibarr_checks_pass_and_only_read() -> None:
    fake = FakeDolibarr()
    checks = dolibarr(fake, price_levels={"Pro": 2}).check(
        CheckNeeds(flows=EVERY_FLOW, warehouses=("WH-MAIN",), groups=("Pro",))
    )
    assert failures(checks) == []
    lines = [c.line() for c in checks]
    assert lines[0] == "login API key accepted (Dolibarr 19.0.4)"
    assert "read orders (orders, feedback)" in lines
    assert "warehouse 'WH-MAIN' exists" in lines
    assert "customer group 'Pro' mapped to a price level" in lines
    assert {r.method for r in fake.requests} == {"GET"}


def test_dolibarr_refused_key_is_one_failed_login() -> None:
    [check] = dolibarr(FakeDolibarr(), key="wrong-key").check(CheckNeeds(flows=EVERY_FLOW))
    assert not check.ok and check.name == "login" and "HTTP 401" in check.detail
    assert "wrong-key" not in check.line()


def test_dolibarr_missing_warehouse_and_unmapped_group() -> None:
    checks = dolibarr(FakeDolibarr()).check(
        CheckNeeds(flows=frozenset({"stock", "prices"}), warehouses=("WH-MAIN", "DEPOT"), groups=("Pro",))
    )
    assert [c.name for c in failures(checks)] == ["warehouse 'DEPOT'", "customer group 'Pro'"]
    assert "known: WH-MAIN" in failures(checks)[0].detail


# -- Odoo ----------------------------------------------------------------------------------------


def odoo(fake: OdooFake) -> Checkable:
    from connectors.erp.odoo.factory import build

    connector = build(connector_options(fake), odoo_resolver(fake), connection="web", transport=fake.transport)
    assert isinstance(connector, Checkable)
    return connector


def test_odoo_checks_pass_and_only_read() -> None:
    fake = OdooFake()
    seed_catalogue(fake)
    checks = odoo(fake).check(CheckNeeds(flows=EVERY_FLOW))
    assert failures(checks) == [], [c.line() for c in checks]
    assert checks[0].line() == "login as integration@example.com on database 'passerelle' (Odoo 18.0)"
    assert checks[1].name == "access rights"
    writes = {"create", "write", "unlink", "action_confirm"}
    assert not [request for request in fake.requests if request[1] in writes]


def test_odoo_refused_read_is_one_failed_check() -> None:
    fake = OdooFake()
    seed_catalogue(fake)
    fake.deny("stock.quant", "read")
    checks = odoo(fake).check(CheckNeeds(flows=frozenset({"stock"})))
    [check] = failures(checks)
    assert check.line().startswith(
        "access stock.quant refused to 'integration@example.com' for read (needed by stock). Resolution: "
    )


def test_odoo_wrong_key_is_one_failed_login() -> None:
    fake = OdooFake()
    connector = odoo(fake)
    fake.api_key = "another-key"  # the key was revoked
    [check] = connector.check(CheckNeeds(flows=EVERY_FLOW))
    assert check.name == "login" and not check.ok
    assert check.detail == "Odoo refused the login 'integration@example.com' on database 'passerelle'."


# -- Shopify -------------------------------------------------------------------------------------


@pytest.fixture
def scopes() -> Iterator[list[str]]:
    """The app's access scopes. Test set-up, not a rule of the fake: the fake does not implement
    ``currentAppInstallation``; this answers it in the shape of Shopify's 2025-01 schema
    (``AppInstallation.accessScopes: [AccessScope!]!``, ``AccessScope.handle``) for this test only."""
    import deployments.sandbox.fakes.shopify.inventory  # noqa: F401  (registers locations)
    from deployments.sandbox.fakes.shopify import core

    granted: list[str] = []
    before = core._QUERIES.get("currentAppInstallation")
    core.query("currentAppInstallation")(lambda fake, info, **args: {"accessScopes": [{"handle": h} for h in granted]})
    try:
        yield granted
    finally:
        if before is None:
            core._QUERIES.pop("currentAppInstallation", None)
        else:
            core._QUERIES["currentAppInstallation"] = before


def shopify(fake: Any, token: str | None = None) -> Checkable:
    from connectors.shop.shopify.factory import build

    connector = build(
        {"url": fake.shop, "access_token": "env:SHOPIFY_ACCESS_TOKEN"},
        _Key(token or fake.token),
        transport=fake.transport,
    )
    assert isinstance(connector, Checkable)
    return connector


def test_shopify_checks_pass_with_the_documented_scopes(scopes: list[str]) -> None:
    from deployments.sandbox.fakes.shopify.core import ShopifyFake

    scopes += [
        "write_products",
        "write_inventory",
        "read_locations",
        "read_orders",
        "read_customers",
        "write_orders",
        "write_merchant_managed_fulfillment_orders",
    ]
    fake = ShopifyFake()
    checks = shopify(fake).check(CheckNeeds(flows=EVERY_FLOW, locations=("Shop location",)))
    assert failures(checks) == [], [c.line() for c in checks]
    lines = [c.line() for c in checks]
    assert lines[0] == "login token accepted: passerelle test (EUR)"
    assert "scope read_products (stock)" in lines  # write_products includes it
    assert "stock location 'Shop location' exists" in lines


def test_shopify_missing_scope_and_location(scopes: list[str]) -> None:
    from deployments.sandbox.fakes.shopify.core import ShopifyFake

    scopes += ["read_products", "read_locations"]
    checks = shopify(ShopifyFake()).check(CheckNeeds(flows=frozenset({"stock"}), locations=("Entrepôt",)))
    assert [c.name for c in failures(checks)] == ["scope write_inventory", "stock location 'Entrepôt'"]
    assert failures(checks)[0].line() == (
        "scope write_inventory missing: the app's token does not have it (needed by stock). Resolution: add "
        "write_inventory to the custom app's Admin API scopes (Settings > Apps > Develop apps > Configuration), "
        "install the app again and use its new token."
    )


def test_shopify_refused_token_is_one_failed_login(scopes: list[str]) -> None:
    from deployments.sandbox.fakes.shopify.core import ShopifyFake

    [check] = shopify(ShopifyFake(), token="shpat_wrong").check(CheckNeeds(flows=EVERY_FLOW))
    assert check.name == "login" and not check.ok and "shpat_wrong" not in check.line()


# -- PrestaShop ----------------------------------------------------------------------------------

PRESTASHOP_KEY = "ZQ88PRJX5VWQHCWE4EE7SQ7HPNX00RAJ"


def prestashop(fake: Any, key: str = PRESTASHOP_KEY) -> Checkable:
    from connectors.shop.prestashop.client import PrestaShopClient
    from connectors.shop.prestashop.factory import PrestaShopShop

    client = PrestaShopClient("http://shop.test", key, allow_insecure_http=True, transport=fake.transport())
    shop = PrestaShopShop(client)
    assert isinstance(shop, Checkable)
    return shop


def test_prestashop_checks_pass_and_only_read() -> None:
    from deployments.sandbox.fakes.prestashop_fake import FakePrestaShop

    fake = FakePrestaShop(PRESTASHOP_KEY)
    checks = prestashop(fake).check(
        CheckNeeds(flows=EVERY_FLOW, tax_categories=("FR Taux standard (20%)",), groups=("Customer",))
    )
    assert failures(checks) == [], [c.line() for c in checks]
    assert checks[0].line().startswith("login webservice key accepted; ")
    assert "tax rule group 'FR Taux standard (20%)' exists" in [c.line() for c in checks]
    assert {r.method for r in fake.requests} == {"GET"} and fake.writes == []


def test_prestashop_refused_key_is_one_failed_login() -> None:
    from deployments.sandbox.fakes.prestashop_fake import FakePrestaShop

    [check] = prestashop(FakePrestaShop(PRESTASHOP_KEY), key="WRONGKEY").check(CheckNeeds(flows=EVERY_FLOW))
    assert check.name == "login" and not check.ok and "WRONGKEY" not in check.line()


def test_prestashop_missing_tax_rule_group_and_customer_group() -> None:
    from deployments.sandbox.fakes.prestashop_fake import FakePrestaShop

    checks = prestashop(FakePrestaShop(PRESTASHOP_KEY)).check(
        CheckNeeds(flows=frozenset({"catalogue", "prices"}), tax_categories=("TVA 20",), groups=("Pro",))
    )
    assert [c.name for c in failures(checks)] == ["tax rule group 'TVA 20'", "customer groups"]
    assert "PrestaShop has no customer group named 'Pro'" in failures(checks)[1].detail


def test_prestashop_down_is_one_failed_check() -> None:
    from deployments.sandbox.fakes.prestashop_fake import FakePrestaShop

    fake = FakePrestaShop(PRESTASHOP_KEY)
    fake.fail = [503] * 5
    [check] = prestashop(fake).check(CheckNeeds(flows=EVERY_FLOW))
    assert check.name == "login" and check.detail.startswith("could not reach the platform at http://shop.test/api/")
    assert len(fake.requests) == 1


# -- files ERP -----------------------------------------------------------------------------------


def test_files_checks_read_the_exports_and_the_outbox(tmp_path: Path) -> None:
    from connectors.erp.files.connector import FilesConnector
    from connectors.erp.files.settings import FilesSettings

    outbox = tmp_path / "outbox"
    outbox.mkdir()
    stock_csv = ROOT / "tests" / "fixtures" / "exports" / "stock_sage_cp1252.csv"
    columns = {"sku": "Référence", "warehouse": "Dépôt", "quantity": "Quantité", "reserved": "Réservé"}
    settings = FilesSettings.model_validate(
        {
            "path": str(tmp_path / "articles_*.csv"),
            "stock": {"path": str(stock_csv), "columns": columns},
            "orders": {"outbox": str(outbox), "processed": [str(tmp_path / "traitees")]},
        }
    )
    files = FilesConnector(settings)
    assert isinstance(files, Checkable)
    checks = files.check(CheckNeeds(flows=frozenset({"catalogue", "stock", "orders"}), warehouses=("PRINCIPAL", "WEB")))
    lines = {c.name: c for c in checks}
    assert not lines["article export"].ok and "no file matches" in lines["article export"].detail
    assert lines["stock export"].ok
    assert lines["warehouse 'PRINCIPAL'"].ok
    assert not lines["warehouse 'WEB'"].ok and "known: PRINCIPAL, BOUTIQUE" in lines["warehouse 'WEB'"].detail
    assert lines["order outbox"].ok and lines["order outbox"].detail.endswith("(writable)")
    assert not lines["processed order folder"].ok
    assert list(outbox.iterdir()) == []
