"""Every package the code imports is declared in ``pyproject.toml``: what a user installs is what we test.

The imports are read with :mod:`ast` from every module of the package, the benches and the tests (function-level
imports included) and mapped to the distributions that provide them with
:func:`importlib.metadata.packages_distributions`. A module the package imports at module level must come from a
core dependency; one imported inside a function (an optional path) from a core dependency or an extra; the tests
may also use the ``test`` extra, the benches any extra. A package installed on the machine but not declared makes
this test fail, and so does an import that no installed distribution provides.
"""

from __future__ import annotations

import ast
import re
import sys
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the lock pins tomli for 3.10
    import tomli as tomllib

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
OWN = {"llm_mri_graphdb", "tests", "bench"}
# Imported only by the reference benchmark, which runs llm_mri 0.2.1 in its own environment (bench/reference/).
SEPARATE_ENVIRONMENTS = (ROOT / "bench" / "reference",)


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    return _normalise(re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement).group(1))


@cache
def _declared() -> dict[str, set[str]]:
    """``{"core": names, "<extra>": names, ...}`` from pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {"core": {_requirement_name(r) for r in project["dependencies"]}}
    for extra, requirements in project.get("optional-dependencies", {}).items():
        declared[extra] = {_requirement_name(r) for r in requirements}
    return declared


def _imports(path: Path) -> list[tuple[str, bool, int]]:
    """``(top-level module, at module level?, line)`` of every absolute import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module_level = {id(node) for node in tree.body}
    for node in tree.body:  # imports under a module-level ``if``/``try`` still run at import time
        if isinstance(node, (ast.If, ast.Try)):
            module_level |= {id(child) for child in ast.walk(node) if isinstance(child, (ast.Import, ast.ImportFrom))}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name.split(".")[0], id(node) in module_level, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.append((node.module.split(".")[0], id(node) in module_level, node.lineno))
    return found


def _third_party(folder: str):
    for path in sorted((ROOT / folder).rglob("*.py")):
        if any(base in path.parents for base in SEPARATE_ENVIRONMENTS):
            continue
        siblings = {sibling.stem for sibling in path.parent.glob("*.py")}  # pytest puts a test's folder on sys.path
        for module, top, line in _imports(path):
            if module in OWN | siblings or module in sys.stdlib_module_names or module == "__future__":
                continue
            yield path.relative_to(ROOT), line, module, top


def _undeclared(folder: str, allowed_top: set[str], allowed_inner: set[str]) -> list[str]:
    providers = packages_distributions()
    problems = []
    for where, line, module, top in _third_party(folder):
        dists = {_normalise(d) for d in providers.get(module, [])}
        allowed = allowed_top if top else allowed_inner
        if not dists and _normalise(module) in allowed:
            continue  # declared with an environment marker that does not apply here (tomli on Python < 3.11)
        if not dists:
            problems.append(f"{where}:{line} imports {module}, which no installed distribution provides")
        elif not dists & allowed:
            problems.append(
                f"{where}:{line} imports {module} (from {', '.join(sorted(dists))}), "
                "which pyproject.toml does not declare where this code may use it"
            )
    return problems


def _all_extras() -> set[str]:
    return set().union(*_declared().values())


def test_package_imports_are_declared():
    core = _declared()["core"]
    assert _undeclared("llm_mri_graphdb", core, _all_extras()) == []


def test_test_imports_are_declared():
    allowed = _declared()["core"] | _declared()["test"]
    assert _undeclared("tests", allowed, allowed) == []


def test_bench_imports_are_declared():
    assert _undeclared("bench", _all_extras(), _all_extras()) == []


def test_the_gguf_extra_holds_what_transformers_needs_to_load_a_gguf_file():
    from llm_mri_graphdb.extract.local import GGUF_PACKAGES

    assert set(GGUF_PACKAGES.values()) <= _declared()["gguf"]
    assert set(GGUF_PACKAGES.values()) <= _declared()["test"]


def test_the_audit_sees_an_undeclared_import(tmp_path, monkeypatch):
    """The audit can fail: a module importing an installed package that pyproject.toml does not declare."""
    package = tmp_path / "llm_mri_graphdb"
    package.mkdir()
    (package / "uses_undeclared.py").write_text("import numpy\n\ndef f():\n    import pytest\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    problems = _undeclared("llm_mri_graphdb", {"numpy"}, {"numpy"})
    assert problems == [
        "llm_mri_graphdb/uses_undeclared.py:4 imports pytest (from pytest), which pyproject.toml "
        "does not declare where this code may use it"
    ]
