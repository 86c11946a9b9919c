"""The stages import one way: no module of Quire's imports, even for types or inside a
function, a module that imports it back (directly or through others)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "quire"


def modules() -> dict[str, Path]:
    """Every module of the package by its dotted name (a package by its own name)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _target(name: str, known: dict[str, Path]) -> str | None:
    """The module an imported name lives in: the longest known prefix of it."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(eager: bool = False) -> dict[str, set[str]]:
    """Which of Quire's modules each module imports, wherever in it the import is (`eager`:
    only the imports that run when the module is imported, at its top level)."""
    known = modules()
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body if eager else ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [_target(a.name, known) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                targets = [_target(f"{base}.{a.name}", known) for a in node.names]
            else:
                continue
            graph[name] |= {t for t in targets if t and t != name}
    return graph


def runtime_graph() -> dict[str, set[str]]:
    """The imports that run, with the packages they run first: importing a.b.c from outside
    a.b runs a.b's __init__ (and a's) before a.b.c."""
    known = modules()
    graph = import_graph(eager=True)
    for name, targets in graph.items():
        parents = {p for t in targets for p in _packages(t, known)}
        targets |= {p for p in parents if not f"{name}.".startswith(f"{p}.")}
    return graph


def _packages(module: str, known: dict[str, Path]) -> list[str]:
    """The packages Python imports before `module`: each dotted prefix of its name."""
    parts = module.split(".")
    return [p for p in (".".join(parts[:i]) for i in range(1, len(parts))) if p in known]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while not group or group[-1] != node:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_no_cycle_through_a_package_init():
    # `import quire.transform` alone once failed: transform imported render.scripts, whose
    # package's __init__ imports the transform back
    assert cycles(runtime_graph()) == []


def test_the_check_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_type_only_and_function_imports():
    graph = import_graph()
    assert "quire.load.manuscript" in graph["quire.bounds"]  # under TYPE_CHECKING
    assert "quire.bounds" in graph["quire.parse.pandoc"]  # inside a function
    runtime = runtime_graph()
    assert "quire.load" in runtime["quire.transform"]  # it imports quire.load.confine
    assert "quire.load.projects" not in runtime["quire.load"]  # imported inside load()
