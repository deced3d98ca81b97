"""The layout rules of docs/architecture.md that import-linter does not state: no import cycle
between any two modules, no private name imported from another module, and no import inside
a function outside the client and the CLI unless a comment says why."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("wallet", "sharing", "storage", "web")
# The client and the CLI load optional or heavy modules (QR codes, the server) only when a
# command needs them; elsewhere an import inside a function needs a reason next to it.
LAZY_IMPORTS_ALLOWED = ("wallet/client/", "wallet/cli/")


def source_files() -> Iterator[Path]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "node_modules" not in path.parts and "migrations/versions" not in path.as_posix():
                yield path


def strongly_connected(graph: grimp.ImportGraph) -> list[list[str]]:
    """Tarjan's algorithm over the module graph: every group of modules that import each
    other, directly or not."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(start: str) -> None:
        # Iterative, so a deep chain of imports cannot reach Python's recursion limit.
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            module, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                elif child in on_stack:
                    low[module] = min(low[module], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == index[module]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == module:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return groups


def test_no_module_imports_itself_back() -> None:
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    assert len(graph.modules) > 100, "the import graph looks empty"
    assert strongly_connected(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for module in ("a", "b", "c"):
        graph.add_module(module)
    graph.add_import(importer="a", imported="b")
    graph.add_import(importer="b", imported="c")
    graph.add_import(importer="c", imported="a")
    assert strongly_connected(graph) == [["a", "b", "c"]]


def imports_in_functions(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    yield inner


def has_reason(lines: list[str], node: ast.stmt) -> bool:
    same_line = "#" in lines[node.lineno - 1]
    line_above = lines[node.lineno - 2].strip().startswith("#") if node.lineno > 1 else False
    return same_line or line_above


def test_imports_inside_functions_say_why() -> None:
    unexplained = []
    for path in source_files():
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(LAZY_IMPORTS_ALLOWED):
            continue
        text = path.read_text()
        lines = text.splitlines()
        for node in imports_in_functions(ast.parse(text)):
            if not has_reason(lines, node):
                unexplained.append(f"{relative}:{node.lineno}")
    assert unexplained == []


def test_no_private_name_crosses_a_module() -> None:
    crossings = []
    for path in source_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom) or not node.module:
                continue
            if node.module.split(".")[0] not in PACKAGES:
                continue
            private = [
                alias.name
                for alias in node.names
                if alias.name.startswith("_") and not alias.name.startswith("__")
            ]
            if private:
                crossings.append(f"{path.relative_to(ROOT)}: {node.module} {private}")
    assert crossings == []
