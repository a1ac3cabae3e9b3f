"""Every GraphQL document the Shopify connector can send validates against Shopify's 2025-01
schema (tests/fixtures/contracts/shopify-admin-graphql): the module-level documents of every
module of ``connectors.shop.shopify``, the stock sink's document built per number of locations,
and a scan of the sources that finds any ``execute`` / ``paginate`` call whose document this test
would not see."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path
from types import ModuleType

import pytest
from graphql import parse, validate

import connectors.shop.shopify as package
from connectors.shop.shopify import stock
from deployments.sandbox.fakes.shopify.core import schema

MODULES: list[ModuleType] = [
    importlib.import_module(f"{package.__name__}.{info.name}") for info in pkgutil.iter_modules(package.__path__)
]
CALL = re.compile(r"\.(?:execute|paginate)\(\s*([A-Za-z_][A-Za-z_0-9]*)")
DYNAMIC = {"document", "_activate_document"}
"""Names of documents built at run time, each validated below (stock: ``_read_document``,
``_activate_document``)."""


def documents() -> dict[str, str]:
    found = {}
    for module in MODULES:
        for name, value in vars(module).items():
            if isinstance(value, str) and name.isupper() and value.lstrip().startswith(("query", "mutation")):
                found[f"{module.__name__.rsplit('.', 1)[-1]}.{name}"] = value
    return found


@pytest.mark.parametrize(("name", "document"), sorted(documents().items()))
def test_every_document_validates_against_the_2025_01_schema(name: str, document: str) -> None:
    assert validate(schema(), parse(document)) == [], name


@pytest.mark.parametrize("locations", [1, 2, 5])
def test_the_stock_read_built_per_number_of_locations_validates(locations: int) -> None:
    assert validate(schema(), parse(stock._read_document(locations))) == []


@pytest.mark.parametrize("count", [1, 2, stock.ACTIVATIONS_PER_REQUEST])
def test_the_aliased_activations_validate(count: int) -> None:
    assert validate(schema(), parse(stock._activate_document(count))) == []


def test_no_document_is_sent_that_this_test_does_not_validate() -> None:
    checked = documents()
    unchecked = []
    for module in MODULES:
        source = Path(module.__file__ or "").read_text(encoding="utf-8")
        short = module.__name__.rsplit(".", 1)[-1]
        for name in CALL.findall(source):
            if name not in DYNAMIC and f"{short}.{name}" not in checked:
                unchecked.append(f"{short}.{name}")
    assert unchecked == []
    assert len(checked) >= 20  # catalogue, prices, stock, orders, feedback
