"""Shared fixtures: a real Neo4j + GDS for every test that asks for one.

``neo4j_settings`` starts one disposable server for the whole session on free
loopback ports with its own temporary home, or uses ``NEO4J_URI``,
``NEO4J_USER`` and ``NEO4J_PASSWORD`` when set. When no server can be had the
fixture raises, so the tests that need it fail; they never skip.
"""

from __future__ import annotations

import os

# The tests use models shipped in packages or built from configs; never the hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402

from llm_mri_graphdb.server import LocalNeo4j, free_port  # noqa: E402
from llm_mri_graphdb.settings import neo4j_settings as settings_from_env  # noqa: E402


@pytest.fixture(scope="session")
def local_neo4j(tmp_path_factory):
    """A server started for this test session (None when NEO4J_URI points elsewhere)."""
    if os.environ.get("NEO4J_URI"):
        yield None
        return
    server = LocalNeo4j(tmp_path_factory.mktemp("neo4j-home"), bolt_port=free_port(),
                        http_port=free_port(), heap="1g")
    server.start(password="test-" + os.urandom(6).hex())
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def neo4j_settings(local_neo4j):
    """Connection settings of the session's Neo4j (never skipped)."""
    if local_neo4j is None:
        settings = settings_from_env()
        assert settings is not None and settings.password, "NEO4J_URI is set but NEO4J_PASSWORD is not."
        return settings
    return local_neo4j.settings()
