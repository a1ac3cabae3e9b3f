"""``passerelle init``: a commented configuration for the chosen ERP and shop, made from the settings
models themselves (every key with its meaning, taken from the attribute's docstring, and its
default), so it never drifts from what ``load_config`` accepts.

Keys with a default are written commented out (``# key = default``): the file works as it is and
says what can be changed. Keys without one are written with a placeholder: secrets as references
(``env:PASSERELLE_<TYPE>_<KEY>``), other values as ``CHANGE-ME``; ``init`` lists them, and
``passerelle check`` refuses the placeholders that are left.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import textwrap
import types
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from connectors.registry import ERP_CONNECTORS, SHOP_CONNECTORS, settings_model
from tasks.settings import ConnectionSettings, PasserelleConfig

__all__ = ["PLACEHOLDER", "Filled", "field_doc", "render"]

PLACEHOLDER = "CHANGE-ME"
WIDTH = 100

SECRET_KEYS = {"password", "api_key", "access_token", "key", "consumer_key", "consumer_secret", "secret_key"}
"""Connector keys whose value is a secret: written as ``env:`` references, never as values."""

COMMON = {
    "rate_limit": "Largest number of requests per second sent to this platform; unset: no limit.",
    "timeout": "Seconds to wait for one answer before the request counts as failed (and is retried when safe).",
    "page_size": "Records asked for per list request.",
    "batch_size": "Records written per request (or per Prefect task) to the platform.",
    "first_run_hours": "How far back the first run reads when ``start`` is unset.",
    "format": "``auto`` (from the file's extension), ``csv`` or ``xml``.",
    "encoding": "``auto`` (a byte order mark, then UTF-8, then cp1252) or the export's own encoding.",
    "delimiter": "CSV field separator.",
    "decimal_separator": "Decimal separator of the export's numbers.",
    "record_tag": "XML element of one record.",
}
"""Meanings of keys many models share (a docstring on the attribute wins)."""

TABLE_DOCS = {
    "catalogue": "Catalogue publish (flow publish-catalogue): grouping, field mapping, categories, taxes.",
    "stock": "Stock (flow sync-stock): which ERP warehouses feed the shop, safety stock. Delete the table"
    " if the stock flow does not run for this connection.",
    "prices": "Prices (flow sync-prices): customer groups. Its presence tells the catalogue that this flow"
    " owns the prices (the catalogue then writes a price only when it creates a variant); delete the"
    " table if the price flow does not run.",
    "orders": "Order import (flow import-orders): which orders go to the ERP, and from when.",
    "feedback": "Status and tracking feedback (flow feedback-status).",
    "invoices": "Invoice PDFs (flow upload-invoices).",
}


@cache
def _docstrings(model: type[BaseModel]) -> dict[str, str]:
    """Attribute docstrings (the string literal right under an annotated attribute) of the model
    and its bases, as pydantic's ``use_attribute_docstrings`` reads them."""
    found: dict[str, str] = {}
    for klass in reversed(model.__mro__):
        if not (isinstance(klass, type) and issubclass(klass, BaseModel)) or klass is BaseModel:
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError, SyntaxError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for node, after in zip(body, [*body[1:], None], strict=True):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                found[node.target.id] = inspect.cleandoc(after.value.value)
    return found


def _is_column_map(model: type[BaseModel]) -> bool:
    """Models whose keys are export columns named after canonical fields (``ArticleColumns``):
    the table says what they are, each key's name is its meaning."""
    return model.__name__.endswith(("Columns", "RowTypes"))


def field_doc(model: type[BaseModel], name: str) -> str | None:
    """The meaning of ``model.name``: its docstring, else the shared meaning of that key."""
    doc = _docstrings(model).get(name) or COMMON.get(name)
    if doc is None and _is_column_map(model):
        doc = f"Column (or XML tag) of the {name.replace('_', ' ')}."
    return doc


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if get_origin(annotation) in (Union, types.UnionType):
        return [m for arg in get_args(annotation) for m in _models_in(arg)]
    return []


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Decimal):
        return json.dumps(str(value))  # a string: TOML floats would lose the decimal
    if isinstance(value, Enum):
        return _toml(value.value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return json.dumps(str(value))
    if isinstance(value, list | tuple | set | frozenset):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_toml(v)}" for k, v in value.items()) + " }" if value else "{}"
    if isinstance(value, BaseModel):
        return _toml(value.model_dump(exclude_none=True))
    return json.dumps(str(value), ensure_ascii=False)


def _key(name: Any) -> str:
    text = str(name)
    return text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else json.dumps(text, ensure_ascii=False)


def _comment(text: str, indent: str = "") -> list[str]:
    out: list[str] = []
    for paragraph in text.replace("``", "`").split("\n\n"):
        out += textwrap.wrap(" ".join(paragraph.split()), WIDTH - len(indent) - 2) or [""]
    return [f"{indent}# {line}".rstrip() for line in out]


class Filled:
    """What the user must fill in: (dotted key, placeholder) and the environment variables."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self.secrets: list[str] = []


def _placeholder(side: str, kind: str, name: str, doc: str | None, annotation: Any, filled: Filled, where: str) -> Any:
    secret = name in SECRET_KEYS or "secret reference" in (doc or "").casefold()
    if secret:
        variable = re.sub(r"[^A-Z0-9]+", "_", f"PASSERELLE_{kind}_{name}".upper())
        filled.secrets.append(variable)
        return f"env:{variable}"
    filled.values.append(f"{where}.{name}")
    origin = get_origin(annotation)
    if origin in (list, tuple, set):
        return [PLACEHOLDER]
    if origin is Literal:
        return get_args(annotation)[0]
    return PLACEHOLDER


def _model_lines(
    model: type[BaseModel],
    table: str,
    *,
    filled: Filled,
    side: str = "",
    kind: str = "",
    values: dict[str, Any] | None = None,
) -> Iterator[str]:
    """``[table]`` then every key of ``model`` (commented out when it has a default, set when
    ``values`` gives it one to fill in), then the tables of its nested models."""
    scalars: list[str] = []
    nested: list[tuple[str, type[BaseModel]]] = []
    for name, info in model.model_fields.items():
        doc = field_doc(model, name)
        if values and name in values:
            scalars += _comment(doc) if doc else []
            scalars.append(f"{_key(name)} = {_toml(values[name])}")
            filled.values.append(f"{table}.{name}")
            continue
        inner = _models_in(info.annotation)
        required = info.is_required()
        if inner and (required or info.default_factory is not None):
            nested.append((name, inner[0]))
            continue
        scalars += _comment(doc) if doc else []
        if required:
            value = _placeholder(side, kind, name, doc, info.annotation, filled, table)
            scalars.append(f"{_key(name)} = {_toml(value)}")
        else:
            default = info.get_default(call_default_factory=True)
            if inner and default is None:
                scalars.append(f"# [{table}.{name}]  (unset; see docs)")
            elif default is None:
                scalars.append(f"# {_key(name)} =  (unset)")
            else:
                scalars.append(f"# {_key(name)} = {_toml(default)}")
    yield f"[{table}]"
    yield from scalars
    for name, inner_model in nested:
        yield ""
        doc = field_doc(model, name) or inspect.cleandoc(inner_model.__doc__ or "")
        yield from _comment(doc) if doc else []
        yield from _model_lines(inner_model, f"{table}.{name}", filled=filled, side=side, kind=kind)


def render(erp: str, shop: str, connection: str = "main") -> tuple[str, Filled]:
    """The configuration text for ``erp`` -> ``shop``, and what is left to fill in.

    Raises:
        Fatal: an unknown connector type (with the closest known one).
    """
    erp_model, shop_model = settings_model("erp", erp), settings_model("shop", shop)
    filled = Filled()
    lines = [
        f"# passerelle: ERP {erp} <-> shop {shop}, connection {connection!r}. Written by `passerelle init`.",
        "# Keys with a default are commented out (`# key = default`): uncomment to change them.",
        "# Secrets are references, never values: env:NAME (an environment variable), file:PATH (a file",
        "# readable by this user only), block:NAME (a Prefect Secret block).",
        "# Next: fill in the CHANGE-ME values, set the environment variables, then",
        "#   passerelle check -c <this file>      (reads each platform, writes nothing)",
        "#   passerelle run catalogue -c <this file> --dry-run",
        "",
    ]
    top = PasserelleConfig
    for name in ("state", "snapshots"):
        doc = field_doc(top, name)
        lines += _comment(doc) if doc else []
        lines += list(_model_lines(_models_in(top.model_fields[name].annotation)[0], name, filled=filled))
        lines.append("")
    base = f"connections.{connection}"
    lines += _comment(field_doc(top, "connections") or "")
    lines.append(f"[{base}]")
    for name in ConnectionSettings.model_fields:
        info = ConnectionSettings.model_fields[name]
        if _models_in(info.annotation):
            continue
        doc = field_doc(ConnectionSettings, name)
        lines += _comment(doc) if doc else []
        lines.append(f"# {name} = {_toml(info.get_default(call_default_factory=True))}")
    for side, kind, model in (("erp", erp, erp_model), ("shop", shop, shop_model)):
        lines.append("")
        lines += _comment(field_doc(ConnectionSettings, side) or "")
        body = list(_model_lines(model, f"{base}.{side}", filled=filled, side=side, kind=kind))
        lines += [body[0], f'type = "{kind}"', *body[1:]]
    for section, doc in TABLE_DOCS.items():
        lines.append("")
        lines += _comment(doc)
        model = _models_in(ConnectionSettings.model_fields[section].annotation)[0]
        # the one flow table that needs a value: which warehouses feed the shop
        values = {"warehouses": [PLACEHOLDER]} if section == "stock" else None
        lines += list(_model_lines(model, f"{base}.{section}", filled=filled, values=values))
    return "\n".join(lines) + "\n", filled


def choices() -> tuple[list[str], list[str]]:
    return sorted(ERP_CONNECTORS), sorted(SHOP_CONNECTORS)
