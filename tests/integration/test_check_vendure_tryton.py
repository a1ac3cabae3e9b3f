"""``passerelle check`` against a real Tryton and a real Vendure: every check passes on a good
configuration; a wrong password, a missing warehouse or stock location, a missing permission each
show their one FAIL line and exit code 1."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.erp.tryton.client import TrytonClient
from connectors.shop.vendure.client import VendureClient
from deployments.cli import main

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CLERK_PASSWORD = "clerk-check-password-42"
READER_PASSWORD = "reader-check-secret"


@pytest.fixture(scope="module")
def shop() -> Iterator[Any]:
    """One Vendure for the module (what ``tests.fixtures.servers.vendure`` starts, once): the
    checks only read it, except the administrator the permission test adds."""
    from deployments.sandbox.vendure import VendureSandbox

    sandbox = VendureSandbox(password="vendure-test-secret")
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def env(shop: Any, tryton_demo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_VENDURE_PASSWORD", shop.password)
    monkeypatch.setenv("TEST_TRYTON_PASSWORD", tryton_demo.password)


def write(
    tmp_path: Path,
    shop: Any,
    tryton: Any,
    *,
    login: str = "admin",
    username: str | None = None,
    sections: str | None = None,
) -> Path:
    config = tmp_path / "passerelle.toml"
    config.write_text(
        f"""
[connections.main.erp]
type = "tryton"
url = "{tryton.url}"
database = "{tryton.database}"
login = "{login}"
password = "env:TEST_TRYTON_PASSWORD"

[connections.main.shop]
type = "vendure"
url = "{shop.admin_api_url}"
username = "{username or shop.username}"
password = "env:TEST_VENDURE_PASSWORD"
"""
        + (
            sections
            if sections is not None
            else """
[connections.main.catalogue.taxes.FR]
"20" = "Standard Tax"
"5.5" = "Reduced Tax"

[connections.main.stock]
warehouses = ["WH"]

[connections.main.prices]
groups = ["Wholesale"]

[connections.main.orders]
[connections.main.feedback]
[connections.main.invoices]
"""
        ),
        encoding="utf-8",
    )
    return config


def run(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = 0
    try:
        main(["check", "-c", str(config)])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr().out
    return code, out.splitlines()


def fails(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("FAIL")]


def one_fail(lines: list[str]) -> str:
    found = fails(lines)
    assert len(found) == 1, "\n".join(lines)
    return found[0]


def test_every_check_passes_on_a_good_configuration(
    env: None, shop: Any, tryton_demo: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.perf_counter()
    code, lines = run(write(tmp_path, shop, tryton_demo), capsys)
    elapsed = time.perf_counter() - started
    assert code == 0, lines
    assert fails(lines) == []
    assert all(line.startswith("ok   ") for line in lines), lines
    text = "\n".join(lines)
    assert "ok   main erp tryton: login as admin on database" in text
    assert "(Tryton 8." in text
    assert "ok   main erp tryton: warehouse 'WH' exists" in text
    assert "ok   main erp tryton: customer group (price list) 'Wholesale' exists" in text
    assert "ok   main erp tryton: order setup" in text
    assert "ok   main shop vendure: login as superadmin" in text
    assert "ok   main shop vendure: permission UpdateCatalog (catalogue, stock, prices)" in text
    assert "ok   main shop vendure: tax category 'Reduced Tax' exists" in text
    assert shop.password not in text and tryton_demo.password not in text
    assert elapsed < 5


def test_a_wrong_password_is_one_fail_line(
    env: None,
    shop: Any,
    tryton_demo: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEST_VENDURE_PASSWORD", "not-the-password")
    code, lines = run(write(tmp_path, shop, tryton_demo), capsys)
    assert code == 1
    line = one_fail(lines)
    assert line.startswith("FAIL main shop vendure: login Vendure refused the login of 'superadmin'")
    assert "Resolution: check the Vendure administrator user name and password" in line
    assert "not-the-password" not in "\n".join(lines)


def test_a_missing_warehouse_is_one_fail_line(
    env: None, shop: Any, tryton_demo: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sections = '[connections.main.stock]\nwarehouses = ["WH", "NOPE"]\n'
    code, lines = run(write(tmp_path, shop, tryton_demo, sections=sections), capsys)
    assert code == 1
    line = one_fail(lines)
    assert line.startswith("FAIL main erp tryton: warehouse 'NOPE' not found in Tryton")
    assert "known: WH, STORE" in line and "Resolution: " in line


def test_a_missing_stock_location_is_one_fail_line(
    env: None, shop: Any, tryton_demo: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sections = '[[connections.main.stock.feeds]]\nwarehouses = ["WH"]\nlocation = "Web store"\n'
    code, lines = run(write(tmp_path, shop, tryton_demo, sections=sections), capsys)
    assert code == 1
    line = one_fail(lines)
    assert line.startswith("FAIL main shop vendure: stock location 'Web store' not found in Vendure")
    assert "known: Default Stock Location" in line


def test_a_missing_permission_is_one_fail_line(
    env: None,
    shop: Any,
    tryton_demo: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin = VendureClient(shop.admin_api_url, username=shop.username, password=shop.password)
    try:
        role = admin.execute(
            'mutation { createRole(input: {code: "catalogue-no-update", description: "no UpdateCatalog", '
            "permissions: [ReadCatalog, CreateCatalog]}) { id } }"
        )["createRole"]["id"]
        admin.execute(
            'mutation($role: ID!, $password: String!) { createAdministrator(input: {firstName: "Cat", '
            'lastName: "Reader", emailAddress: "reader@example.com", password: $password, roleIds: [$role]}) { id } }',
            {"role": role, "password": READER_PASSWORD},
        )
    finally:
        admin.close()
    monkeypatch.setenv("TEST_VENDURE_PASSWORD", READER_PASSWORD)
    sections = '[connections.main.catalogue.taxes.FR]\n"20" = "Standard Tax"\n'
    code, lines = run(write(tmp_path, shop, tryton_demo, username="reader@example.com", sections=sections), capsys)
    assert code == 1
    line = one_fail(lines)
    assert line.startswith(
        "FAIL main shop vendure: permission UpdateCatalog missing: administrator 'reader@example.com'"
    )
    assert (
        "(needed by catalogue)" in line and "Resolution: give a role of 'reader@example.com' the UpdateCatalog" in line
    )
    assert "ok   main shop vendure: permission ReadCatalog (catalogue)" in lines


def test_a_tryton_user_outside_the_sales_group_is_one_fail_line(
    env: None,
    shop: Any,
    tryton_demo: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin = TrytonClient(tryton_demo.url, tryton_demo.database, login="admin", password=tryton_demo.password)
    try:
        admin.login()
        if not admin.model("res.user").search([("login", "=", "clerk")]):
            groups = admin.model("res.group").search([("name", "not in", ["Sales", "Sales Administrator"])])
            company = admin.context["company"]
            admin.model("res.user").create(
                [
                    {
                        "name": "Clerk",
                        "login": "clerk",
                        "password": CLERK_PASSWORD,
                        "groups": [["add", groups]],
                        "companies": [["add", [company]]],
                        "company": company,
                    }
                ]
            )
    finally:
        admin.close()
    monkeypatch.setenv("TEST_TRYTON_PASSWORD", CLERK_PASSWORD)
    sections = "[connections.main.orders]\n"
    code, lines = run(write(tmp_path, shop, tryton_demo, login="clerk", sections=sections), capsys)
    assert code == 1
    line = one_fail(lines)
    assert line.startswith("FAIL main erp tryton: access sale.sale refused to 'clerk' for read/create/write")
    assert "(needed by orders)" in line and "Resolution: add 'clerk' to a group that may do it (Sales)" in line


def test_an_unreachable_platform_is_a_fail_line_naming_its_url(
    env: None, shop: Any, tryton_demo: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, shop, tryton_demo, sections="")
    config.write_text(config.read_text().replace(tryton_demo.url.rstrip("/"), "http://127.0.0.1:9"))
    code, lines = run(config, capsys)
    assert code == 1
    line = one_fail(lines)
    assert line.startswith("FAIL main erp tryton: server could not reach the platform at http://127.0.0.1:9/")
    assert "Resolution: check the URL" in line
    assert "Traceback" not in "\n".join(lines)


def test_the_check_imports_no_prefect(env: None, shop: Any, tryton_demo: Any, tmp_path: Path) -> None:
    config = write(tmp_path, shop, tryton_demo)
    script = (
        "import sys\nfrom deployments.check import run_check\n"
        f"code = run_check({str(config)!r})\n"
        "assert 'prefect' not in sys.modules, 'prefect imported'\nsys.exit(code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout
