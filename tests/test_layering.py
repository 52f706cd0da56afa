"""The package's imports form no cycle and follow the pipeline's stages; store modules import no private names.

Every import is read (``ast.walk``: module level, inside functions and methods alike), plus the lazy
re-exports of the packages' ``__init__`` (their ``_LAZY`` tables), since a function-level import is
a cycle the moment it runs. Only imports under ``if TYPE_CHECKING:`` are left out: they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import llm_mri_graphdb

PACKAGE = Path(llm_mri_graphdb.__file__).resolve().parent
ROOT = "llm_mri_graphdb"

# Lowest first. A module may import its own stage and the stages below it, never one above.
# viz and report render an NRAG and need no store; the stores' ``show`` builds the graph view of
# report.interactive, so report sits below store.
STAGES = (
    "shared",
    "extract",
    "reduce",
    "nrag",
    "analysis",
    "viz",
    "report",
    "store",
    "server",
    "pipeline",
    "facade",
    "cli",
)
SUBPACKAGE_STAGE = {name: name for name in STAGES if (PACKAGE / name).is_dir()}
MODULE_STAGE = {  # the top-level modules
    "_lazy": "shared",  # the lazy re-exports of the packages' __init__
    "errors": "shared",
    "values": "shared",
    "settings": "shared",
    "labels": "shared",
    "scan_settings": "shared",
    "data": "shared",
    "demo": "shared",
    "files": "shared",
    "testing": "nrag",  # builds random NRAGs for tests and benches
    "metrics": "analysis",  # the public path llm_mri_graphdb.metrics: re-exports analysis.metrics
    "pipeline": "pipeline",
    "facade": "facade",
    "dimensionality_reduction": "facade",  # llm_mri's drop-in reducer settings, for the facade
    "": "facade",  # llm_mri_graphdb/__init__.py re-exports the facade's names
}


def _module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(tree: ast.AST):
    """``ast.walk`` that skips the bodies of ``if TYPE_CHECKING:``."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if _is_type_checking(node):
            todo += node.orelse
            continue
        todo += ast.iter_child_nodes(node)


def _imports(path: Path, package: Path = PACKAGE) -> list[tuple[str, list[str]]]:
    """``(module, names)`` of every import of the package's own modules in ``path``."""
    name = _module_name(path, package)
    base_package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in _walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names if a.name.split(".")[0] == ROOT]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = base_package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] == ROOT:
                names = [a.name for a in node.names]
                submodules = [f"{target}.{n}" for n in names if _exists(f"{target}.{n}", package)]
                others = [n for n in names if f"{target}.{n}" not in submodules]
                # ``from pkg import submodule`` needs the submodule, not names of pkg/__init__
                out += ([(target, others)] if others else []) + [(m, []) for m in submodules]
        elif (
            isinstance(node, ast.Assign)
            and path.name == "__init__.py"
            and any(isinstance(t, ast.Name) and t.id == "_LAZY" for t in node.targets)
        ):
            out += [(f"{name}.{sub}", []) for sub in set(ast.literal_eval(node.value).values())]
    return out


def _exists(module: str, package: Path) -> bool:
    path = package.parent / module.replace(".", "/")
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    modules = {_module_name(p, package): p for p in package.rglob("*.py")}
    return {
        name: {t for t, _ in _imports(path, package) if t in modules and t != name} for name, path in modules.items()
    }


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def _stage(module: str) -> str | None:
    parts = module.split(".")[1:]
    if len(parts) > 1 or (parts and parts[0] in SUBPACKAGE_STAGE):
        return SUBPACKAGE_STAGE.get(parts[0])
    return MODULE_STAGE.get(parts[0] if parts else "")


def _upward(graph: dict[str, set[str]]) -> list[str]:
    """``"a (stage) imports b (stage)"`` for each import of a higher stage; unplaced modules too."""
    out = [f"{m} has no stage: add it to STAGES' tables in tests/test_layering.py" for m in graph if _stage(m) is None]
    rank = {s: i for i, s in enumerate(STAGES)}
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            a, b = _stage(module), _stage(target)
            if a is not None and b is not None and rank[b] > rank[a]:
                out.append(f"{module} ({a}) imports {target} ({b})")
    return out


def test_layering_finds_a_planted_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_layering_reads_function_level_imports_and_skips_type_checking(tmp_path):
    package = tmp_path / ROOT
    (package / "nrag").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "nrag" / "__init__.py").write_text('_LAZY = {"NRAG": "model"}\n')
    (package / "nrag" / "model.py").write_text("def to_csv():\n    from . import io\n")
    (package / "nrag" / "io.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from llm_mri_graphdb.nrag.model import NRAG\n"
    )
    (package / "store.py").write_text("def show():\n    from llm_mri_graphdb import report\n")
    (package / "report.py").write_text("def page():\n    import llm_mri_graphdb.store\n")
    graph = _graph(package)
    assert graph["llm_mri_graphdb.nrag.model"] == {"llm_mri_graphdb.nrag.io"}
    assert graph["llm_mri_graphdb.nrag.io"] == set()
    assert graph["llm_mri_graphdb.nrag"] == {"llm_mri_graphdb.nrag.model"}
    assert _cycle(graph) == ["llm_mri_graphdb.report", "llm_mri_graphdb.store", "llm_mri_graphdb.report"]


def test_layering_finds_an_import_of_a_higher_stage():
    graph = {
        "llm_mri_graphdb.nrag.model": {"llm_mri_graphdb.report.interactive", "llm_mri_graphdb.labels"},
        "llm_mri_graphdb.report.interactive": {"llm_mri_graphdb.nrag.model"},
        "llm_mri_graphdb.labels": set(),
        "llm_mri_graphdb.nowhere": set(),
    }
    assert _upward(graph) == [
        "llm_mri_graphdb.nowhere has no stage: add it to STAGES' tables in tests/test_layering.py",
        "llm_mri_graphdb.nrag.model (nrag) imports llm_mri_graphdb.report.interactive (report)",
    ]


def test_layering_package_has_no_import_cycle():
    graph = _graph()
    # function-level imports are read: the stores build the graph view inside ``show``
    assert "llm_mri_graphdb.report.interactive" in graph["llm_mri_graphdb.store.base"]
    assert "llm_mri_graphdb.store.neo4j.runner" in graph["llm_mri_graphdb.store.neo4j.metrics"]
    assert _cycle(graph) is None


def test_layering_no_stage_imports_a_stage_above_it():
    assert _upward(_graph()) == []


def test_layering_no_module_above_400_lines_without_a_reason():
    """A module above 400 lines says why in its docstring ("Above 400 lines: ...")."""
    long = [
        f"{_module_name(p)}: {n} lines"
        for p in sorted(PACKAGE.rglob("*.py"))
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400
        and "Above 400 lines:" not in (ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) or "")
    ]
    assert long == []


@pytest.mark.parametrize("path", sorted((PACKAGE / "store").rglob("*.py")), ids=lambda p: _module_name(p))
def test_layering_store_modules_import_no_private_names(path):
    offenders = [
        f"{_module_name(path)} imports {target}.{n}"
        for target, names in _imports(path)
        for n in names
        if n.startswith("_")
    ]
    assert offenders == []
