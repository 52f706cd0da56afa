"""A run's probe result kept in Neo4j (ProbeSet) and in the local store: the same values, deleted with the run."""

from __future__ import annotations

import json
import uuid

import numpy as np
import pytest

from llm_mri_graphdb.analysis.probing import probe_curve
from llm_mri_graphdb.errors import RunNotFound
from llm_mri_graphdb.store import LocalStore
from llm_mri_graphdb.store.probes import probe_properties
from tests.alignment_runs import TEXTS, cached_scan

pytestmark = pytest.mark.integration

PROPS = "MATCH (:Run {id: $run_id})-[:HAS_PROBE]->(p:ProbeSet) RETURN properties(p) AS p"


@pytest.fixture(scope="module")
def probe():
    rng = np.random.default_rng(0)
    y = np.arange(60) % 2
    layers = [rng.standard_normal((60, 4)), rng.standard_normal((60, 4)) + y[:, None]]
    return {"curve": probe_curve(layers, y, n_repeats=1, mdl=True), "evaluation": None}


def test_probe_kept_in_neo4j_equals_the_local_store_and_goes_with_its_run(store, probe, tmp_path):
    nrag, _ = cached_scan(tmp_path, uuid.uuid4().hex[:8], "mini", 1, 2, 4)
    local = LocalStore(tmp_path / "runs")
    run_id = store.write(nrag, texts=TEXTS)
    assert local.write(nrag, texts=TEXTS) == run_id
    store.save_probe(run_id, probe)
    local.save_probe(run_id, probe)
    assert store.probe(run_id) == LocalStore(tmp_path / "runs").probe(run_id)  # a fresh store reads probes.json
    assert store.probe(run_id)["curve"]["full"]["mean"] == probe["curve"]["full"]["mean"]
    node = store.runner.run_text(PROPS, {"run_id": run_id}, write=False)[0]["p"]
    expected = probe_properties(probe)
    for key in ("full_mean", "full_selectivity_low", "reduced_control_high", "mdl_codelength"):
        assert node[key] == pytest.approx(expected[key], rel=1e-15)  # the curves as lists, for Cypher
        assert len(node[key]) == 2
    assert node["majority_mean"] == probe["curve"]["majority"]["mean"]
    assert json.loads(node["probe_json"]) == local.probe(run_id)
    store.save_probe(run_id, {"curve": {**probe["curve"], "chance": 0.25}})  # replaced, not added
    assert store.probe(run_id)["curve"]["chance"] == 0.25
    store.delete(run_id)
    local.delete(run_id)
    assert store.runner.run_text(PROPS, {"run_id": run_id}, write=False) == []
    assert local.probe(run_id) is None
    with pytest.raises(RunNotFound):
        store.save_probe(run_id, probe)
