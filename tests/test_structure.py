"""The package's shape: imports flow one way (no cycles, no edge against the layer order), no
`TYPE_CHECKING` imports, modules <= 400 lines and functions <= 80 lines.

Every import counts: top level, inside functions, relative ones. The layer order (higher layers may
import lower ones, never the reverse, and subpackages of one layer do not import each other):
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "arcsolve"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("__init__", "constants", "errors"),
    ("io",),
    ("config", "paths", "progress", "runtime", "cli_support"),
    ("augment", "model"),
    ("data",),
    ("train",),
    ("submission",),
    ("search",),
    ("predict",),
    ("quickstart", "kaggle", "bench", "viz", "trm_import"),
    ("doctor",),
    ("cli_data", "cli_submission", "cli_search"),
    ("cli",),
    ("__main__",),
)
LAYER_OF = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def unit_of(module: str) -> str:
    """The layer unit of a module: its subpackage, or its own name for a top-level module."""
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The package modules `path` imports (resolved to the longest existing module name)."""
    name = module_name(path)
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = name.split(".") if is_package else name.split(".")[:-1]
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, base] if base else parts)
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def package_graph() -> dict[str, set[str]]:
    files = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: imports_of(path, set(files)) for name, path in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules, or None (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    for root in sorted(graph):
        if root in state:
            continue
        path, stack = [root], [iter(sorted(graph[root]))]
        state[root] = 1
        while stack:
            child = next(stack[-1], None)
            if child is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(child) == 1:
                return path[path.index(child) :] + [child]
            elif child not in state:
                state[child] = 1
                path.append(child)
                stack.append(iter(sorted(graph.get(child, ()))))
    return None


def test_every_unit_has_a_layer():
    units = {unit_of(name) for name in package_graph()}
    assert units - set(LAYER_OF) == set(), "give new subpackages a place in LAYERS"


def test_no_import_cycles():
    assert find_cycle(package_graph()) is None


def test_imports_flow_one_way():
    wrong = []
    for module, targets in package_graph().items():
        for target in targets:
            src, dst = unit_of(module), unit_of(target)
            if src != dst and LAYER_OF.get(dst, -1) >= LAYER_OF.get(src, -1):
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_find_cycle_sees_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_type_checking_imports():
    users = [
        module_name(p) for p in PACKAGE.rglob("*.py") if "TYPE_CHECKING" in p.read_text(encoding="utf-8")
    ]
    assert users == []


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: module_name(p))
def test_module_and_function_sizes(path):
    source = path.read_text(encoding="utf-8")
    assert source.count("\n") <= MAX_MODULE_LINES
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []
