"""A real Neo4j without the GDS plugin: stores and reads work, metrics say GDS is missing."""

from __future__ import annotations

import pytest

from llm_mri_graphdb.errors import GDSNotInstalled
from llm_mri_graphdb.store import Neo4jStore

from .nrag_samples import random_grid_nrag

pytestmark = pytest.mark.integration


def test_metrics_without_gds_is_one_clear_error(plain_neo4j):
    nrag = random_grid_nrag(7, tag="no-gds")
    with Neo4jStore.from_settings(plain_neo4j) as store:
        run_id = store.write(nrag)
        assert store.read(run_id).equals(nrag)  # storing needs no GDS
        with pytest.raises(GDSNotInstalled, match="has no Graph Data Science plugin") as info:
            store.metrics(run_id)
        assert "\n" not in str(info.value)
