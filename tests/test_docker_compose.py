"""docker-compose.yml stays valid and safe: it cannot run here (no Docker engine), so check its contract."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from llm_mri_graphdb.server import GDS_PROCEDURES

pytestmark = pytest.mark.unit

COMPOSE = Path(__file__).resolve().parent.parent / "docker-compose.yml"


def test_compose_runs_neo4j_5_26_community_with_gds_on_loopback():
    spec = yaml.safe_load(COMPOSE.read_text())
    neo4j = spec["services"]["neo4j"]
    assert neo4j["image"] == "neo4j:5.26-community"
    assert "graph-data-science" in neo4j["environment"]["NEO4J_PLUGINS"]
    assert sorted(neo4j["ports"]) == ["127.0.0.1:7474:7474", "127.0.0.1:7687:7687"]
    assert "neo4j-data" in spec["volumes"]
    assert neo4j["volumes"] == ["neo4j-data:/data"]


def test_compose_takes_the_password_from_the_environment():
    auth = yaml.safe_load(COMPOSE.read_text())["services"]["neo4j"]["environment"]["NEO4J_AUTH"]
    assert auth.startswith("neo4j/${NEO4J_PASSWORD:?")
    assert not (COMPOSE.parent / ".env").exists() or ".env" in (COMPOSE.parent / ".gitignore").read_text()


def test_compose_allowlists_the_same_gds_procedures_as_the_local_server():
    env = yaml.safe_load(COMPOSE.read_text())["services"]["neo4j"]["environment"]
    for key in ("NEO4J_dbms_security_procedures_allowlist", "NEO4J_dbms_security_procedures_unrestricted"):
        assert env[key].split(",") == list(GDS_PROCEDURES)
