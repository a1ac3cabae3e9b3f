"""Odoo domains evaluated on the fake's records (``odoo/osv/expression.py``: prefix ``&``, ``|``, ``!``;
leaves ``[path, operator, value]``; dotted paths through relations; ``child_of`` / ``parent_of`` on
the model's ``_parent_name``). Unknown fields and operators are refused as Odoo refuses them."""

from __future__ import annotations

import re
from typing import Any

from deployments.sandbox.fakes.odoo.errors import FakeOdooError

__all__ = ["evaluate"]

OPERATORS = {
    "=",
    "!=",
    "<>",
    "in",
    "not in",
    "<",
    "<=",
    ">",
    ">=",
    "like",
    "ilike",
    "not ilike",
    "=like",
    "=ilike",
    "child_of",
    "parent_of",
}


def evaluate(fake: Any, model: str, rec: dict[str, Any], domain: list[Any]) -> bool:
    stack: list[bool] = []
    for item in reversed(domain):
        if item == "&":
            a, b = stack.pop(), stack.pop()
            stack.append(a and b)
        elif item == "|":
            a, b = stack.pop(), stack.pop()
            stack.append(a or b)
        elif item == "!":
            stack.append(not stack.pop())
        else:
            stack.append(_leaf(fake, model, rec, item))
    return all(stack)  # implicit '&' between the remaining terms


def _leaf(fake: Any, model: str, rec: dict[str, Any], leaf: Any) -> bool:
    if not isinstance(leaf, list | tuple) or len(leaf) != 3:
        raise FakeOdooError("builtins.ValueError", f"Invalid leaf {leaf!r}")
    path, operator, value = leaf
    if operator not in OPERATORS:
        raise FakeOdooError("builtins.ValueError", f"Invalid operator {operator!r}")
    head, _, rest = str(path).partition(".")
    fields = fake.fields_of(model)
    if head not in fields:
        raise FakeOdooError("builtins.ValueError", f"Invalid field {model}.{head} in leaf {tuple(leaf)!r}")
    spec = fields[head]
    current = fake.value(model, rec, head)
    if rest:
        targets = current if isinstance(current, list) else ([current] if current else [])
        table = fake.tables[spec.relation]
        return any(_leaf(fake, spec.relation, table[t], [rest, operator, value]) for t in targets if t in table)
    if operator in ("child_of", "parent_of"):
        relation = spec.relation if spec.type == "many2one" else model
        ids = {current} if spec.type == "many2one" else {rec["id"]}
        wanted = set(value if isinstance(value, list) else [value])
        parent = fake.schema[relation].parent
        if parent is None:
            return bool(ids & wanted)
        table = fake.tables[relation]

        def ancestors(rid: Any) -> set[Any]:
            found: set[Any] = set()
            while rid and rid not in found:
                found.add(rid)
                rid = (table.get(rid) or {}).get(parent)
            return found

        if operator == "child_of":
            return any(ancestors(i) & wanted for i in ids)
        return any(i in ancestors(w) for i in ids for w in wanted)
    values = current if isinstance(current, list) else [current]
    if isinstance(current, list) and not current:
        values = [False]
    return any(_compare(v, operator, value) for v in values)


def _compare(current: Any, operator: str, value: Any) -> bool:
    if operator == "=":
        return current == value or (value is False and current in (None, False, ""))
    if operator in ("!=", "<>"):
        return not _compare(current, "=", value)
    if operator == "in":
        return current in value or (False in value and current in (None, False))
    if operator == "not in":
        return not _compare(current, "in", value)
    if operator in ("like", "ilike", "not ilike", "=like", "=ilike"):
        # like / ilike wrap the value in %...%; =like / =ilike take it as an SQL pattern (% and _)
        pattern = str(value) if operator.startswith("=") else f"%{value}%"
        regex, escaped = "", False
        for c in pattern:  # SQL LIKE: % any run, _ one character, a backslash escapes
            if escaped:
                regex, escaped = regex + re.escape(c), False
            elif c == "\\":
                escaped = True
            else:
                regex += ".*" if c == "%" else "." if c == "_" else re.escape(c)
        flags = re.IGNORECASE | re.DOTALL if "ilike" in operator else re.DOTALL
        found = re.fullmatch(regex, str(current or ""), flags) is not None
        return not found if operator == "not ilike" else found
    if current in (None, False):
        return False
    return {"<": current < value, "<=": current <= value, ">": current > value, ">=": current >= value}[operator]
