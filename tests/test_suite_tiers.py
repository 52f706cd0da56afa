"""The tiers hold: unmarked tests get one, contradictions stop the run, unit tests start no Java."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from llm_mri_graphdb.server import LocalNeo4j

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent


def _pytest(tmp_path, source: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """A child session over one generated module, with this suite's conftest as a plugin."""
    module = tmp_path / "test_generated.py"
    module.write_text(textwrap.dedent(source))
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.conftest",
            "-p",
            "no:cacheprovider",
            "-c",
            "pyproject.toml",
            "--rootdir",
            str(ROOT),
            str(module),
            *args,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith("LLM_MRI_TEST_")} | (env or {}),
    )


@pytest.mark.parametrize("tier, chosen", [("unit", "test_plain"), ("integration", "test_needs_neo4j")])
def test_unmarked_tests_get_unit_or_integration_by_the_fixtures_they_use(tmp_path, tier, chosen):
    child = _pytest(
        tmp_path,
        """
        def test_plain():
            pass

        def test_needs_neo4j(neo4j_settings):
            pass
        """,
        "--collect-only",
        "-q",
        "-m",
        tier,
    )
    assert child.returncode == 0, child.stdout + child.stderr
    assert child.stdout.splitlines()[0] == f"::{chosen}"
    assert "1/2 tests collected (1 deselected)" in child.stdout


def test_unit_test_asking_for_neo4j_stops_the_run_at_collection(tmp_path):
    child = _pytest(
        tmp_path,
        """
        import pytest

        @pytest.mark.unit
        def test_sneaky(neo4j_settings):
            pass

        @pytest.mark.unit
        @pytest.mark.slow
        def test_both():
            pass
        """,
        "-q",
    )
    assert child.returncode == pytest.ExitCode.USAGE_ERROR, child.stdout + child.stderr
    assert (
        "::test_sneaky is marked unit but uses the Neo4j fixture 'neo4j_settings': "
        "mark it integration (or slow) instead."
    ) in child.stderr
    assert "::test_both is marked unit but is also marked slow" in child.stderr
    assert "passed" not in child.stdout  # nothing ran, no server started


def test_unit_test_starting_a_server_fails_in_one_line(tmp_path, request):
    with pytest.raises(
        pytest.fail.Exception,
        match=r"test_suite_tiers.py::test_unit_test_starting_a_server_fails"
        r"_in_one_line is a unit test and started Neo4j; mark it "
        r"integration\.$",
    ):
        LocalNeo4j(tmp_path / "home", bolt_port=1, http_port=2).start(password="never-used")
    assert not (tmp_path / "home").exists()


def test_llm_mri_test_neo4j_uri_is_the_session_server_and_starts_no_jvm(tmp_path):
    child = _pytest(
        tmp_path,
        """
        from llm_mri_graphdb.settings import Neo4jSettings

        def test_given_server(neo4j_settings):  # a local server would have other settings (and a JVM)
            assert neo4j_settings == Neo4jSettings("bolt://127.0.0.1:9", "tester", "pw", "scratch")
        """,
        "-q",
        env={
            "LLM_MRI_TEST_NEO4J_URI": "bolt://127.0.0.1:9",
            "LLM_MRI_TEST_NEO4J_USER": "tester",
            "LLM_MRI_TEST_NEO4J_PASSWORD": "pw",
            "LLM_MRI_TEST_NEO4J_DATABASE": "scratch",
            "NEO4J_URI": "bolt://127.0.0.1:8",
        },
    )
    assert child.returncode == 0, child.stdout + child.stderr
    assert "1 passed" in child.stdout


def test_llm_mri_test_neo4j_uri_without_password_fails_in_one_line(tmp_path):
    child = _pytest(
        tmp_path,
        """
        def test_given_server(neo4j_settings):
            pass
        """,
        "-q",
        env={"LLM_MRI_TEST_NEO4J_URI": "bolt://127.0.0.1:9"},
    )
    assert child.returncode == pytest.ExitCode.TESTS_FAILED
    assert "LLM_MRI_TEST_NEO4J_URI is set but LLM_MRI_TEST_NEO4J_PASSWORD is not." in child.stdout
