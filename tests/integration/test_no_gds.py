"""A real Neo4j without the GDS plugin: stores and reads work, metrics say GDS is missing."""

from __future__ import annotations

import os

import pytest

from llm_mri_graphdb.errors import GDSNotInstalled
from llm_mri_graphdb.server import Distribution, LocalNeo4j, ensure_distribution, free_port
from llm_mri_graphdb.store import Neo4jStore

from .nrag_samples import random_grid_nrag

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def plain_neo4j(tmp_path_factory):
    """The same Neo4j 5.26 jars with an empty plugins folder."""
    full = ensure_distribution()
    root = tmp_path_factory.mktemp("no-gds-dist")
    (root / "lib").symlink_to(full.lib)
    (root / "plugins").mkdir()
    server = LocalNeo4j(tmp_path_factory.mktemp("no-gds-home"), bolt_port=free_port(), http_port=free_port(),
                        heap="512m", distribution=Distribution(root, full.neo4j_version, "none"))
    server.start(password="plain-" + os.urandom(6).hex())
    try:
        yield server.settings()
    finally:
        server.stop()


def test_metrics_without_gds_is_one_clear_error(plain_neo4j):
    nrag = random_grid_nrag(7, tag="no-gds")
    with Neo4jStore.from_settings(plain_neo4j) as store:
        run_id = store.write(nrag)
        assert store.read(run_id).equals(nrag)  # storing needs no GDS
        with pytest.raises(GDSNotInstalled, match="has no Graph Data Science plugin") as info:
            store.metrics(run_id)
        assert "\n" not in str(info.value)
