"""``llm-mri-graphdb neo4j start|status|stop`` against a real, disposable server home."""

from __future__ import annotations

import pytest

from llm_mri_graphdb.cli import main
from llm_mri_graphdb.server import free_port

pytestmark = pytest.mark.integration  # boots a JVM


def test_neo4j_start_status_stop_round_trip(tmp_path, capsys):
    home = tmp_path / "home"
    bolt, http = free_port(), free_port()
    try:
        assert main(["neo4j", "start", "--home", str(home), "--bolt-port", str(bolt), "--http-port", str(http)]) == 0
        out = capsys.readouterr().out
        assert f"NEO4J_URI=bolt://127.0.0.1:{bolt}" in out
        assert "password" in out and (home / "password").read_text().strip() not in out
        assert main(["neo4j", "status", "--home", str(home)]) == 0
        status = capsys.readouterr().out
        assert "Neo4j 5.26." in status and "GDS 2.13." in status
    finally:
        assert main(["neo4j", "stop", "--home", str(home)]) == 0
    assert "stopped" in capsys.readouterr().out
    assert main(["neo4j", "status", "--home", str(home)]) == 1


def test_cli_bad_usage_exits_2(capsys):
    assert main(["neo4j", "start", "--bolt-port", "not-a-number"]) == 2
