"""A real Neo4j without the GDS plugin: storing, reading and the Cypher metrics work; only the GDS
algorithms (``analyze``) say GDS is missing."""

from __future__ import annotations

import pytest

from llm_mri_graphdb.analysis.metrics import compute_metrics
from llm_mri_graphdb.errors import GDSNotInstalled
from llm_mri_graphdb.store import Neo4jStore
from tests.store_contract import _same

from .nrag_samples import random_grid_nrag

pytestmark = pytest.mark.integration


def test_metrics_work_without_gds_and_only_gds_algorithms_refuse(plain_neo4j):
    nrag = random_grid_nrag(7, tag="no-gds")
    with Neo4jStore.from_settings(plain_neo4j) as store:
        run_id = store.write(nrag)
        assert store.read(run_id).equals(nrag)  # storing needs no GDS
        _same(compute_metrics(nrag), store.metrics(run_id))  # one Cypher statement, no plugin
        _same(compute_metrics(nrag, ["a"]), store.metrics(run_id, "a"))
        with pytest.raises(GDSNotInstalled, match="has no Graph Data Science plugin") as info:
            store.analyze(run_id, ["louvain"])
        assert "\n" not in str(info.value)
