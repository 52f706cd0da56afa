"""Shared set-up: a sealed environment, the test tiers, and a real Neo4j + GDS.

Environment
    Before any test module is imported, the suite hides the user's database:
    ``NEO4J_URI``, ``NEO4J_USER``, ``NEO4J_PASSWORD`` and ``NEO4J_DATABASE`` are
    removed from ``os.environ``, and ``LLM_MRI_GRAPHDB_HOME`` points at a
    temporary folder for the session, so neither a test nor library code
    (``open_store("auto")``, the CLI) can reach a database the user exported or
    a server started with ``llm-mri-graphdb neo4j start``. Only the jar cache
    is shared: ``<session home>/neo4j-dist`` links to the user's
    ``cache_home()/neo4j-dist``, so no test downloads Neo4j again.

Tiers (``--strict-markers``)
    ``unit``: no Java, no packaged model weights (tiny random-init models are
    fine); ``pytest -m unit`` runs in under a minute. ``integration``: a real
    Neo4j and/or packaged weights. ``slow``: minutes of CPU (JIT-compiled UMAP,
    real models). Modules carry their tier in ``pytestmark``; an unmarked test
    gets ``integration`` under ``tests/integration/`` or when it uses a Neo4j
    fixture, else ``unit``. A test marked ``unit`` that asks for Neo4j, lives
    under ``tests/integration/`` or is also ``slow`` stops the run at collection
    with one line naming it, and a ``unit`` test that starts a server fails.

Neo4j
    ``neo4j_settings`` uses the server named by ``LLM_MRI_TEST_NEO4J_URI``
    (with ``LLM_MRI_TEST_NEO4J_USER``, ``LLM_MRI_TEST_NEO4J_PASSWORD``,
    ``LLM_MRI_TEST_NEO4J_DATABASE``), names nobody sets by accident, and never
    ``NEO4J_URI``; otherwise ``local_neo4j``: one disposable server for the
    whole session on free loopback ports with its own temporary home, started
    at the first test that needs it (tests of the server manager ask for it
    directly). When no server can be had the fixture raises, so the tests that
    need it fail; they never skip.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

# The tests use models shipped in packages or built from configs; never the hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
# Under `uv run`, Ray starts workers through `uv run` unless told to use this interpreter (see extract.distributed).
os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")

import pytest  # noqa: E402

from llm_mri_graphdb.server import LocalNeo4j, free_port  # noqa: E402
from llm_mri_graphdb.settings import Neo4jSettings, cache_home  # noqa: E402

USER_NEO4J_VARIABLES = ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD", "NEO4J_DATABASE")
TEST_NEO4J_PREFIX = "LLM_MRI_TEST_"
TIERS = ("unit", "integration", "slow")
NEO4J_FIXTURES = ("neo4j_env", "neo4j_settings", "local_neo4j")
INTEGRATION_DIR = Path(__file__).resolve().parent / "integration"


def _seal_environment() -> tuple[dict[str, str], Path, Path]:
    """Hide the user's Neo4j variables and local servers; share only the jar cache."""
    hidden = {name: os.environ.pop(name) for name in USER_NEO4J_VARIABLES if name in os.environ}
    jars = cache_home() / "neo4j-dist"
    try:
        jars.mkdir(parents=True, exist_ok=True)  # downloads land in the user's cache, never twice
    except OSError:
        pass  # a read-only cache: unit tests need no jars, the Neo4j fixture will say what is missing
    home = Path(tempfile.mkdtemp(prefix="llm-mri-test-home-"))
    (home / "neo4j-dist").symlink_to(jars, target_is_directory=True)
    os.environ["LLM_MRI_GRAPHDB_HOME"] = str(home)
    return hidden, home, jars


# Kept only so tests can prove they are never used.
HIDDEN_USER_ENV, SESSION_HOME, USER_JAR_CACHE = _seal_environment()


def _stack_line() -> str:
    """The stack a run ran on, so a user's failing report tells us theirs."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from llm_mri_graphdb.server.distribution import pinned_versions

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "absent"

    neo4j_server, gds = pinned_versions()
    packages = ("torch", "transformers", "accelerate", "neo4j", "numpy", "scipy", "scikit-learn", "pandas")
    return (
        f"llm-mri-graphdb stack: python {platform.python_version()}, "
        + ", ".join(f"{name} {installed(name)}" for name in packages)
        + f"; Neo4j server {neo4j_server} + GDS {gds} (started by the tests)"
    )


def pytest_report_header(config):
    return [_stack_line()]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if config.get_verbosity() < 0:  # -q hides the header; the summary still names the stack
        terminalreporter.write_line(_stack_line())


def pytest_unconfigure(config):
    shutil.rmtree(SESSION_HOME, ignore_errors=True)  # unlinks the jar link, never follows it


def pytest_collection_modifyitems(config, items):
    """Give every test its tier; refuse contradictions before anything runs."""
    problems = []
    for item in items:
        tiers = {mark.name for mark in item.iter_markers() if mark.name in TIERS}
        needs_neo4j = [name for name in NEO4J_FIXTURES if name in getattr(item, "fixturenames", ())]
        in_integration = INTEGRATION_DIR in Path(item.path).resolve().parents
        if "unit" in tiers and (needs_neo4j or in_integration or "slow" in tiers):
            why = (
                f"uses the Neo4j fixture {needs_neo4j[0]!r}"
                if needs_neo4j
                else "lives under tests/integration/"
                if in_integration
                else "is also marked slow"
            )
            problems.append(f"{item.nodeid} is marked unit but {why}: mark it integration (or slow) instead.")
        elif needs_neo4j or in_integration:
            if "integration" not in tiers:
                item.add_marker(pytest.mark.integration)
        elif not tiers:
            item.add_marker(pytest.mark.unit)
    if problems:
        raise pytest.UsageError("\n".join(problems))


@pytest.fixture(autouse=True)
def _unit_tests_start_no_java(request, monkeypatch):
    """A unit test that starts a Neo4j server fails with one line instead of booting a JVM."""
    if request.node.get_closest_marker("unit") is None:
        return

    def refuse(self, *args, **kwargs):
        pytest.fail(f"{request.node.nodeid} is a unit test and started Neo4j; mark it integration.", pytrace=False)

    monkeypatch.setattr(LocalNeo4j, "start", refuse)


def _test_server_settings() -> Neo4jSettings | None:
    """The server named by ``LLM_MRI_TEST_NEO4J_*``, or None for a disposable one."""
    uri = os.environ.get(TEST_NEO4J_PREFIX + "NEO4J_URI")
    if not uri:
        return None
    password = os.environ.get(TEST_NEO4J_PREFIX + "NEO4J_PASSWORD", "")
    assert password, "LLM_MRI_TEST_NEO4J_URI is set but LLM_MRI_TEST_NEO4J_PASSWORD is not."
    return Neo4jSettings(
        uri=uri,
        user=os.environ.get(TEST_NEO4J_PREFIX + "NEO4J_USER", "neo4j"),
        password=password,
        database=os.environ.get(TEST_NEO4J_PREFIX + "NEO4J_DATABASE") or None,
    )


@pytest.fixture(scope="session")
def local_neo4j(tmp_path_factory):
    """The project's own server for this session: one JVM, shared by every test that needs Neo4j."""
    server = LocalNeo4j(tmp_path_factory.mktemp("neo4j-home"), bolt_port=free_port(), http_port=free_port(), heap="1g")
    server.start(password="test-" + os.urandom(6).hex())
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def neo4j_settings(request):
    """Connection settings of the session's Neo4j (never skipped).

    The server named by ``LLM_MRI_TEST_NEO4J_URI`` when given, else ``local_neo4j``
    (started only then). Tests of the server manager itself ask for ``local_neo4j``.
    """
    given = _test_server_settings()
    return given if given is not None else request.getfixturevalue("local_neo4j").settings()


@pytest.fixture()
def neo4j_env(neo4j_settings, monkeypatch):
    """``NEO4J_*`` naming the session's server, for CLI and facade calls that read the environment."""
    monkeypatch.setenv("NEO4J_URI", neo4j_settings.uri)
    monkeypatch.setenv("NEO4J_USER", neo4j_settings.user)
    monkeypatch.setenv("NEO4J_PASSWORD", neo4j_settings.password)
    if neo4j_settings.database:
        monkeypatch.setenv("NEO4J_DATABASE", neo4j_settings.database)
    else:
        monkeypatch.delenv("NEO4J_DATABASE", raising=False)
    return neo4j_settings
