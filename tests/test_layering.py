"""The package's module-level imports form no cycle, and no module imports another's private names."""

from __future__ import annotations

import ast
from pathlib import Path

import llm_mri_graphdb

PACKAGE = Path(llm_mri_graphdb.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """``(module, names)`` of the module-level imports of the package's own modules."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:  # module level only
        if isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names if a.name.startswith("llm_mri_graphdb")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("llm_mri_graphdb"):
                names = [a.name for a in node.names]
                submodules = [f"{target}.{n}" for n in names
                              if (PACKAGE.parent / f"{target}.{n}".replace(".", "/")).with_suffix(".py").exists()]
                others = [n for n in names if f"{target}.{n}" not in submodules]
                # ``from pkg import submodule`` needs the submodule, not names of pkg/__init__
                out += ([(target, others)] if others else []) + [(m, []) for m in submodules]
    return out


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {t for t, _ in _imports(path) if t in modules and t != name} for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_layering_finds_a_planted_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_layering_package_has_no_import_cycle():
    graph = _graph()
    assert "llm_mri_graphdb.store.gds" in graph and "llm_mri_graphdb.store.runner" in graph["llm_mri_graphdb.store.gds"]
    assert _cycle(graph) is None


def test_layering_store_modules_import_no_private_names():
    offenders = []
    for path in (PACKAGE / "store").glob("*.py"):
        for target, names in _imports(path):
            offenders += [f"{_module_name(path)} imports {target}.{n}" for n in names if n.startswith("_")]
    assert offenders == []
