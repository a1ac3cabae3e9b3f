"""The house's layers, read from the code's imports: connectors -> tasks -> flows -> deployments,
nothing importing upwards, no import circle, benchmarks apart from the tests (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("connectors", "tasks", "flows", "deployments", "benchmarks")
LAYER = {"connectors": 0, "tasks": 1, "flows": 2, "deployments": 3}


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, module: str) -> set[str]:
    """Every module ``path`` imports, at its top or inside a function (both are arrows)."""
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def graph() -> dict[str, set[str]]:
    files = {_module(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for module, path in files.items():
        targets = {t for t in _imports(path, module) if t in files and t != module}
        edges[module] = {t for t in targets if not module.startswith(t + ".")}  # a package's own __init__
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle_anywhere() -> None:
    assert cycles(graph()) == []


def test_nothing_imports_a_layer_above_it() -> None:
    upward = sorted(
        f"{module} -> {target}"
        for module, targets in graph().items()
        for target in targets
        if module.split(".")[0] in LAYER
        and target.split(".")[0] in LAYER
        and LAYER[target.split(".")[0]] > LAYER[module.split(".")[0]]
    )
    assert upward == []


def test_connectors_import_no_prefect_and_benchmarks_no_tests() -> None:
    wrong = []
    for pkg, banned in (("connectors", ("prefect",)), ("benchmarks", ("tests",))):
        for path in (ROOT / pkg).rglob("*.py"):
            module = _module(path)
            wrong += [f"{module} -> {t}" for t in _imports(path, module) if t.split(".")[0] in banned]
    assert sorted(wrong) == []
