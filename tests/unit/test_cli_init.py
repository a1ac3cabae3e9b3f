"""`passerelle init` writes a configuration a new user can start from: for every ERP and shop
connector, every key with its meaning and default, secrets as references, the file loading as it
is and failing the pre-flight only on what is left to fill in."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from connectors.registry import ERP_CONNECTORS, SHOP_CONNECTORS, settings_model
from deployments.cli import app
from deployments.init import PLACEHOLDER, _models_in, field_doc, render
from tasks.settings import ConfigError, PasserelleConfig, load_config, preflight

PAIRS = [(erp, shop) for erp in sorted(ERP_CONNECTORS) for shop in sorted(SHOP_CONNECTORS)]


def _models(model: type[BaseModel], seen: set[type[BaseModel]] | None = None) -> list[type[BaseModel]]:
    seen = set() if seen is None else seen
    if model in seen:
        return []
    seen.add(model)
    found = [model]
    for info in model.model_fields.values():
        for inner in _models_in(info.annotation):
            found += _models(inner, seen)
    return found


@pytest.mark.parametrize(
    "model",
    sorted(
        {m for kind in ERP_CONNECTORS for m in _models(settings_model("erp", kind))}
        | {m for kind in SHOP_CONNECTORS for m in _models(settings_model("shop", kind))}
        | set(_models(PasserelleConfig)),
        key=lambda m: f"{m.__module__}.{m.__name__}",
    ),
    ids=lambda m: m.__name__,
)
def test_every_key_of_every_settings_model_has_a_meaning(model: type[BaseModel]) -> None:
    undocumented = [
        name
        for name, info in model.model_fields.items()
        if not field_doc(model, name) and not any(inner.__doc__ for inner in _models_in(info.annotation))
    ]
    assert undocumented == [], f"{model.__name__}: write a docstring under {undocumented}"


@pytest.mark.parametrize(("erp", "shop"), PAIRS)
def test_the_written_file_loads_and_asks_only_for_what_is_left_to_fill_in(
    erp: str, shop: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text, filled = render(erp, shop, "boutique")
    path = tmp_path / "passerelle.toml"
    path.write_text(text, encoding="utf-8")

    config = load_config(path)  # as written: valid, placeholders included

    _, connection = config.connection("boutique")
    assert (connection.erp.type, connection.shop.type) == (erp, shop)
    # every key of the connector is in the file, with its meaning on the line(s) above
    for side, kind in (("erp", erp), ("shop", shop)):
        for name in settings_model(side, kind).model_fields:
            table = re.escape(f"[connections.boutique.{side}.{name}]")  # a nested model: its own table
            assert re.search(rf"^(# )?({name} = |{table})", text, re.M), f"{kind}: {name} not written"
    assert text.count(PLACEHOLDER) >= len(filled.values) > 0
    # secrets are env: references, never values; the pre-flight names the first one unset
    for variable in filled.secrets:
        monkeypatch.delenv(variable, raising=False)
        assert f'"env:{variable}"' in text
    if filled.secrets:
        with pytest.raises(Exception, match=filled.secrets[0]):
            preflight(config)
    for variable in filled.secrets:
        monkeypatch.setenv(variable, "s3cret-value")
    preflight(config)  # nothing else stands between the file and a run but the placeholders
    assert "s3cret-value" not in path.read_text(encoding="utf-8")


def test_init_refuses_to_overwrite_and_names_unknown_platforms(tmp_path: Path) -> None:
    target = tmp_path / "passerelle.toml"
    runner = CliRunner()

    first = runner.invoke(app, ["init", "--erp", "dolibarr", "--shop", "woocommerce", "-o", str(target)])
    assert first.exit_code == 0, first.output
    assert "PASSERELLE_DOLIBARR_API_KEY" in first.output and "passerelle check -c" in first.output
    again = runner.invoke(app, ["init", "-o", str(target)])
    assert again.exit_code == 2 and "--force" in again.output
    assert 'type = "dolibarr"' in target.read_text(encoding="utf-8")  # untouched
    unknown = runner.invoke(app, ["init", "--shop", "magento", "-o", str(tmp_path / "other.toml")])
    assert unknown.exit_code == 2 and "unknown shop connector type 'magento'" in unknown.output
    assert "prestashop" in unknown.output and "Traceback" not in unknown.output


def test_a_misspelt_flow_key_in_the_written_file_is_caught_with_its_suggestion(tmp_path: Path) -> None:
    text, _ = render("tryton", "vendure")
    path = tmp_path / "passerelle.toml"
    path.write_text(text.replace("# safety_stock = 0", "safety_stok = 2"), encoding="utf-8")
    with pytest.raises(ConfigError, match="did you mean 'safety_stock'"):
        load_config(path)


def test_check_names_the_values_init_left_to_fill_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from deployments.check import run_check

    text, filled = render("tryton", "vendure")
    path = tmp_path / "passerelle.toml"
    path.write_text(text, encoding="utf-8")
    for variable in filled.secrets:
        monkeypatch.setenv(variable, "x")
    lines: list[str] = []

    assert run_check(str(path), echo=lines.append) == 1

    assert len(lines) == 1 and lines[0].startswith("FAIL config")
    assert "connections.main.erp.url" in lines[0] and "connections.main.stock.warehouses" in lines[0]
