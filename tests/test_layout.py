"""The package layout keeps its promises: imports point one way (cli -> render -> core -> model), no cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "lms_cli"

#: Layers, lowest first; a module may import its own layer's modules and lower layers only.
#: base: frozen data, errors, text helpers. core: the pipeline steps and the services and jobs
#: built on them. render: output formats. cli: the command line, the only layer knowing exit codes.
LAYERS = ("base", "core", "render", "cli")
BASE = {"lms_cli", "lms_cli.model", "lms_cli.errors", "lms_cli.text", "lms_cli.words", "lms_cli.store"}


def layer(module: str) -> str:
    if module in BASE:
        return "base"
    if module == "lms_cli.cli" or module.startswith(("lms_cli.cli.", "lms_cli.__main__")):
        return "cli"
    if module == "lms_cli.render" or module.startswith("lms_cli.render."):
        return "render"
    return "core"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(source: str, name: str, *, top_level_only: bool = False) -> set[str]:
    """The lms_cli modules a module's source imports (``from x import y`` counts y when it is a module)."""
    tree = ast.parse(source)
    nodes: list[ast.AST] = []
    if top_level_only:  # what runs at import time: not inside functions or `if TYPE_CHECKING:`
        for stmt in tree.body:
            if isinstance(stmt, ast.If) and "TYPE_CHECKING" in ast.unparse(stmt.test):
                continue
            nodes.extend(ast.walk(stmt) if not isinstance(stmt, (ast.FunctionDef, ast.ClassDef)) else ())
    else:
        nodes = list(ast.walk(tree))
    found: set[str] = set()
    package = name if source and name in _packages() else name.rpartition(".")[0]
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("lms_cli"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            if not base.startswith("lms_cli"):
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in _modules() else base)
    found.discard(name)
    return found


def _modules() -> set[str]:
    return {module_name(p) for p in PACKAGE.rglob("*.py")}


def _packages() -> set[str]:
    return {module_name(p) for p in PACKAGE.rglob("__init__.py")}


def violations(graph: dict[str, set[str]]) -> list[str]:
    """Imports that point up the layers."""
    out = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            if LAYERS.index(layer(target)) > LAYERS.index(layer(module)):
                out.append(f"{module} ({layer(module)}) imports {target} ({layer(target)})")
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Import cycles among modules (at import time), each as the path that closes it."""
    found: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                found.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    return found


def graph(*, top_level_only: bool) -> dict[str, set[str]]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        out[name] = imports(path.read_text(encoding="utf-8"), name, top_level_only=top_level_only)
    return out


def test_imports_point_one_way() -> None:
    assert violations(graph(top_level_only=False)) == []


def test_no_import_cycle() -> None:
    # A package's __init__ importing its own submodules is not a cycle of concern.
    g = {
        m: {t for t in ts if not m.startswith(t + ".") and not t.startswith(m + ".")}
        for m, ts in graph(top_level_only=True).items()
    }
    assert cycles(g) == []


def test_the_checks_can_fail() -> None:
    assert violations({"lms_cli.compose": {"lms_cli.render.markdown"}}) == [
        "lms_cli.compose (core) imports lms_cli.render.markdown (render)"
    ]
    assert violations({"lms_cli.model": {"lms_cli.load"}}) == ["lms_cli.model (base) imports lms_cli.load (core)"]
    assert violations({"lms_cli.render.json": {"lms_cli.cli.common"}}) != []
    assert cycles({"a": {"b"}, "b": {"a"}}) == [["a", "b", "a"]]
    assert imports("from lms_cli.render import markdown\n", "lms_cli.select") == {"lms_cli.render.markdown"}
    assert imports("if TYPE_CHECKING:\n    from lms_cli import cli\n", "lms_cli.x", top_level_only=True) == set()


@pytest.mark.parametrize("folder", ["load", "services", "refs", "render", "cli"])
def test_each_room_says_what_it_owns(folder: str) -> None:
    doc = ast.get_docstring(ast.parse((PACKAGE / folder / "__init__.py").read_text(encoding="utf-8")))
    assert doc, f"lms_cli/{folder}/__init__.py needs a docstring saying what the folder owns"


def test_every_module_and_public_name_has_a_docstring() -> None:
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        name = module_name(path)
        if path.name != "__main__.py" and not ast.get_docstring(tree):
            missing.append(name)
        for node in tree.body:
            if (
                isinstance(node, (ast.FunctionDef, ast.ClassDef))
                and not node.name.startswith("_")
                and not ast.get_docstring(node)
            ):
                missing.append(f"{name}.{node.name}")
    assert missing == []
