"""The simulator's packages import one another one way only (issue 17).

A *unit* is a first-level package (``simulator.api``, ``simulator.domain``...) or a
module of the top package (``simulator.runtime``, ``simulator.http``...).  An edge
is any import statement between two units - at module level or inside a function,
since an import moved into a function to dodge a cycle is still that cycle.  Only
imports under ``if TYPE_CHECKING:`` are left out: they run for the type checker,
never at run time.  A strongly connected group of more than one unit is a cycle.

Imports inside functions are allowed only for the reasons :data:`LAZY_IMPORTS`
gives (optional extras, start-up cost), never to break a cycle.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import simulator

PACKAGE = Path(simulator.__file__).parent

#: Imports inside functions, by module, and why each is not at module level.
LAZY_IMPORTS = {
    # Importing the package must not import Flask and every API (python -m simulator
    # explains a missing install; simulator.codes is imported by tools on their own).
    "simulator": {"simulator.app"},
    # The Redis client is an optional extra: the memory store never loads it.
    "simulator.backend_factory": {"simulator.redis_backend"},
    # A pytest plugin loads in every pytest run of an integrator's suite: the app is
    # imported only when a test first asks for the simulator.
    "simulator.testing.plugin": {"simulator", "simulator.config", "simulator.http"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit_of(module: str) -> str:
    """``simulator.api.dispatch`` -> ``simulator.api``; ``simulator.runtime`` stays itself."""
    parts = module.split(".")
    return ".".join(parts[:2])


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden.update(id(inner) for inner in ast.walk(node))
    return hidden


def _function_nodes(tree: ast.Module) -> set[int]:
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            inside.update(id(inner) for inner in ast.walk(node) if inner is not node)
    return inside


def _existing(name: str) -> str | None:
    """The longest prefix of ``name`` that is a module or package of the simulator."""
    while name.startswith("simulator"):
        path = PACKAGE.parent / name.replace(".", "/")
        if path.with_suffix(".py").is_file() or (path / "__init__.py").is_file():
            return name
        if "." not in name:
            return None
        name = name.rsplit(".", 1)[0]
    return None


def imports_of(path: Path) -> list[tuple[str, int, bool]]:
    """``(imported module, line, inside a function)`` for each simulator import of ``path``."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hidden, inside = _type_checking_nodes(tree), _function_nodes(tree)
    found = []
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            names = [origin] + [f"{origin}.{alias.name}" for alias in node.names]
        else:
            continue
        targets = {target for name in names if (target := _existing(name))}
        # ``from .x import y``: y is a module, or a name of x - one import either way.
        deepest = {t for t in targets if not any(o != t and o.startswith(t + ".") for o in targets)}
        found.extend((target, node.lineno, id(node) in inside) for target in sorted(deepest))
    return found


def simulator_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def unit_graph() -> dict[str, dict[str, list[str]]]:
    """unit -> unit -> the import lines that make that edge (``module:line``)."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in simulator_modules():
        source = module_name(path)
        for target, line, _ in imports_of(path):
            if unit_of(source) != unit_of(target):
                graph[unit_of(source)][unit_of(target)].append(f"{source}:{line}")
    return graph


def cycles(graph: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """The strongly connected groups of more than one unit (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(unit: str) -> None:
        index[unit] = low[unit] = len(index)
        stack.append(unit)
        on_stack.add(unit)
        for other in graph.get(unit, {}):
            if other not in index:
                visit(other)
                low[unit] = min(low[unit], low[other])
            elif other in on_stack:
                low[unit] = min(low[unit], index[other])
        if low[unit] == index[unit]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == unit:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for unit in list(graph):
        if unit not in index:
            visit(unit)
    return groups


def describe(group: list[str], graph: dict[str, dict[str, list[str]]]) -> str:
    lines = []
    for unit in group:
        for other in group:
            if other in graph.get(unit, {}):
                lines.append(f"{unit} -> {other}: {', '.join(graph[unit][other][:3])}")
    return "\n".join(lines)


def test_no_two_packages_import_each_other():
    graph = unit_graph()
    found = cycles(graph)
    assert not found, "import cycles between packages:\n" + "\n\n".join(describe(g, graph) for g in found)


def test_imports_inside_functions_are_only_the_documented_lazy_ones():
    lazy = {}
    for path in simulator_modules():
        for target, line, inside in imports_of(path):
            if inside and target not in LAZY_IMPORTS.get(module_name(path), set()):
                lazy[f"{module_name(path)}:{line}"] = target
    assert lazy == {}


def test_the_cycle_finder_sees_a_cycle_through_three_units():
    graph = {"a": {"b": ["a:1"]}, "b": {"c": ["b:1"]}, "c": {"a": ["c:1"]}, "d": {"a": ["d:1"]}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_the_import_walk_counts_an_import_inside_a_function_and_skips_type_checking(tmp_path, monkeypatch):
    package = tmp_path / "simulator"
    (package / "one").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "one" / "__init__.py").write_text("")
    (package / "two.py").write_text("")
    (package / "one" / "mod.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from .. import two\n"
        "def later():\n    from ..two import thing\n"
    )
    monkeypatch.setattr(__import__(__name__, fromlist=["PACKAGE"]), "PACKAGE", package)
    assert imports_of(package / "one" / "mod.py") == [("simulator.two", 5, True)]
