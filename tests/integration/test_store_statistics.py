"""Metric statistics of a stored run: Neo4j (paths read through Cypher) and the local store give one frame."""

from __future__ import annotations

import json
import uuid

import numpy as np
import pandas as pd
import pytest

from llm_mri_graphdb.analysis.statistics import STATISTICS_COLUMNS, metric_statistics
from llm_mri_graphdb.store import LocalStore
from llm_mri_graphdb.testing import random_grid_nrag

pytestmark = pytest.mark.integration

TAG = uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def stored(store, tmp_path_factory):
    nrag = random_grid_nrag(31, n_texts=80, n_layers=5, gridsize=4, label_names=("a", "b", "c"), tag=TAG)
    texts = [f"text {i} {TAG}" for i in range(nrag.paths.shape[0])]
    local = LocalStore(tmp_path_factory.mktemp("statistics"))
    store.write(nrag, texts=texts)
    local.write(nrag, texts=texts)
    try:
        yield nrag, local
    finally:
        store.delete(nrag.run_id)


def test_both_stores_give_the_same_statistics(store, stored):
    nrag, local = stored
    neo = store.metric_statistics(nrag.run_id, n_permutations=60, n_bootstrap=40, seed=3)
    mem = local.metric_statistics(nrag.run_id, n_permutations=60, n_bootstrap=40, seed=3)
    assert tuple(neo.columns) == STATISTICS_COLUMNS and len(neo) > 0
    assert neo.label.tolist() == mem.label.tolist() and neo.metric.tolist() == mem.metric.tolist()
    numeric = list(STATISTICS_COLUMNS[2:])
    np.testing.assert_allclose(neo[numeric].to_numpy(float), mem[numeric].to_numpy(float), rtol=0, atol=1e-9)
    # and both equal the NRAG's own, so the Cypher read gave back its paths and labels
    pd.testing.assert_frame_equal(mem, metric_statistics(nrag, n_permutations=60, n_bootstrap=40, seed=3))
    subset = store.metric_statistics(nrag.run_id, "b", n_permutations=20, n_bootstrap=0, seed=1)
    assert subset.label.unique().tolist() == ["b"]


def test_saved_statistics_live_on_the_run_until_it_is_deleted(store, stored):
    nrag, local = stored
    frame = store.metric_statistics(nrag.run_id, n_permutations=20, n_bootstrap=10, seed=2, save=True)
    rows = store.runner.run_text(
        "MATCH (:Run {id: $run_id})-[:HAS_STATISTICS]->(s:StatisticSet) "
        "RETURN s.metric AS metric, s.p AS p, s.n_permutations AS n, s.statistics_json AS blob",
        {"run_id": nrag.run_id},
        write=False,
    )
    assert len(rows) == 1 and rows[0]["n"] == 20
    assert rows[0]["metric"] == frame.metric.tolist()
    np.testing.assert_allclose(rows[0]["p"], frame.p.to_numpy(), equal_nan=True)
    assert json.loads(rows[0]["blob"])["columns"]["value"][0] == frame.value.iloc[0]
    local.metric_statistics(nrag.run_id, n_permutations=20, n_bootstrap=10, seed=2, save=True)
    saved = json.loads((local.path / f"{nrag.run_id}.statistics.json").read_text())
    assert len(saved) == 1
    np.testing.assert_allclose(next(iter(saved.values()))["columns"]["p"], frame.p.to_numpy(), equal_nan=True)


def test_a_run_without_texts_names_the_fix(store):
    nrag = random_grid_nrag(32, n_texts=30, n_layers=3, tag=TAG)
    store.write(nrag)
    try:
        with pytest.raises(ValueError, match="per-text region paths"):
            store.metric_statistics(nrag.run_id)
    finally:
        store.delete(nrag.run_id)
