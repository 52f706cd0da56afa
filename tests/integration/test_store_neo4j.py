"""Neo4jStore against a real Neo4j: round trip, idempotence, faults, bad input."""

from __future__ import annotations

import dataclasses
import uuid

import numpy as np
import pytest
from neo4j import GraphDatabase
from tests.integration.nrag_samples import random_components_nrag, random_grid_nrag

from llm_mri_graphdb.errors import QueryNotFound, RunNotFound, StoreUnavailable
from llm_mri_graphdb.server import free_port
from llm_mri_graphdb.store import Neo4jStore
from llm_mri_graphdb.store import neo4j as neo4j_store
from llm_mri_graphdb.store.runner import CypherRunner

pytestmark = pytest.mark.integration

TAG = uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def store(neo4j_settings):
    with Neo4jStore.from_settings(neo4j_settings, batch_size=7) as s:
        yield s


@pytest.fixture
def cleanup(store):
    run_ids: list[str] = []
    yield run_ids
    for run_id in run_ids:
        try:
            store.delete(run_id)
        except RunNotFound:
            pass


def _counts(store, run_id):
    """Run nodes, regions and relationships stored under ``run_id`` (every version)."""
    records, _, _ = store._driver.execute_query(
        "MATCH (r:Run {run_id: $run_id}) "
        "OPTIONAL MATCH (g:Region {version: r.version}) "
        "OPTIONAL MATCH (g)-[f]->(:Region) "
        "RETURN count(DISTINCT r) AS runs, count(DISTINCT g) AS regions, count(f) AS rels, "
        "       count(CASE WHEN type(f) = 'FLOWS' THEN 1 END) AS flows",
        run_id=run_id, database_=store.database)
    return records[0].data()


def test_neo4j_store_round_trip_five_labels(store, cleanup):
    nrag = random_grid_nrag(1, tag=TAG)
    assert nrag.n_labels == 5 and len(set(nrag.edge_label.tolist())) == 5
    cleanup.append(run_id := store.write(nrag))
    back = store.read(run_id)
    assert run_id == nrag.run_id == back.run_id
    assert back.equals(nrag)
    np.testing.assert_array_equal(back.region_counts, nrag.region_counts)
    np.testing.assert_array_equal(back.edge_weight, nrag.edge_weight)
    np.testing.assert_array_equal(back.layer_bounds, nrag.layer_bounds)
    assert back.model == nrag.model and back.corpus == nrag.corpus and back.settings == nrag.settings
    assert back.region_ids() == nrag.region_ids()


def test_neo4j_store_round_trip_components(store, cleanup):
    nrag = random_components_nrag(2, tag=TAG)
    assert (nrag.edge_weight < 0).any()
    cleanup.append(run_id := store.write(nrag))
    assert store.read(run_id).equals(nrag)


def test_neo4j_store_write_twice_same_counts(store, cleanup):
    nrag = random_grid_nrag(3, tag=TAG)
    cleanup.append(run_id := store.write(nrag))
    first = _counts(store, run_id)
    pairs = len(set(zip(nrag.edge_source.tolist(), nrag.edge_target.tolist())))
    assert first == {"runs": 1, "regions": nrag.n_regions, "rels": nrag.edge_source.size + pairs,
                     "flows": nrag.edge_source.size}
    assert store.write(nrag) == run_id
    assert _counts(store, run_id) == first
    assert [r["run_id"] for r in store.runs()].count(run_id) == 1
    assert store.read(run_id).equals(nrag)


def test_neo4j_store_interrupted_write_keeps_previous_run(store, cleanup, monkeypatch):
    old = random_grid_nrag(4, tag=TAG)
    new = dataclasses.replace(old, edge_weight=old.edge_weight * 2)
    assert new.run_id == old.run_id
    cleanup.append(run_id := store.write(old))
    before = _counts(store, run_id)
    calls = []  # appended from the writer threads
    real = CypherRunner.write_batch

    def failing(self, name, params, check=None):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return real(self, name, params, check)

    monkeypatch.setattr(CypherRunner, "write_batch", failing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        store.write(new)
    monkeypatch.undo()
    assert len(calls) >= 2
    assert store.read(run_id).equals(old)
    assert _counts(store, run_id) == before  # the staging version is gone
    assert store.write(new) == run_id
    assert store.read(run_id).equals(new)


def test_neo4j_store_leftover_staging_version_collected(store, cleanup, monkeypatch):
    nrag = random_grid_nrag(5, tag=TAG)
    cleanup.append(run_id := store.write(nrag))
    # a crash that also prevents the cleanup leaves a "writing" version behind
    monkeypatch.setattr(neo4j_store.Neo4jStore, "_delete_version", lambda self, v: None)
    monkeypatch.setattr(CypherRunner, "write_batch", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("crash")))
    with pytest.raises(RuntimeError):
        store.write(nrag)
    monkeypatch.undo()
    assert _counts(store, run_id)["runs"] == 2
    assert store.read(run_id).equals(nrag)
    store.write(nrag)
    assert _counts(store, run_id)["runs"] == 1


def test_neo4j_store_other_runs_untouched(store, cleanup):
    a, b = random_grid_nrag(6, tag=TAG), random_grid_nrag(7, tag=TAG)
    cleanup.extend([store.write(a), store.write(b)])
    store.write(a)
    store.delete(a.run_id)
    assert store.read(b.run_id).equals(b)
    with pytest.raises(RunNotFound):
        store.read(a.run_id)


def test_neo4j_store_runs_models_corpora(store, cleanup):
    nrag = random_grid_nrag(8, tag=TAG)
    cleanup.append(run_id := store.write(nrag))
    row = next(r for r in store.runs() if r["run_id"] == run_id)
    assert row["model"] == "tiny-model" and row["corpus"] == "tiny-corpus"
    assert row["n_regions"] == nrag.n_regions and row["label_names"] == list("abcde")
    assert isinstance(row["completed_at"], str)
    assert any(m["name"] == "tiny-model" and m["n_runs"] >= 1 for m in store.models())
    assert any(c["fingerprint"] == "fp-tiny" for c in store.corpora())


def test_neo4j_store_unknown_run_raises(store):
    for call in (store.read, store.delete, store.metrics):
        with pytest.raises(RunNotFound, match="'no-such-run'"):
            call("no-such-run")


def test_neo4j_store_unknown_query_raises(store):
    with pytest.raises(QueryNotFound, match="layer_profile"):
        store.query("no_such_query")


def test_neo4j_store_rejects_non_nrag(store):
    with pytest.raises(TypeError, match="nrag must be an NRAG"):
        store.write({"not": "an nrag"})


def test_neo4j_store_wrong_password(neo4j_settings):
    with pytest.raises(StoreUnavailable, match="authentication failed"):
        Neo4jStore(neo4j_settings.uri, (neo4j_settings.user, "wrong-" + TAG), neo4j_settings.database)


def test_neo4j_store_unreachable_names_uri():
    uri = f"bolt://127.0.0.1:{free_port()}"
    with pytest.raises(StoreUnavailable, match=uri.replace(".", r"\.")):
        Neo4jStore(uri, ("neo4j", "x"))


def test_neo4j_store_accepts_driver_and_leaves_it_open(neo4j_settings):
    driver = GraphDatabase.driver(neo4j_settings.uri, auth=neo4j_settings.auth)
    with Neo4jStore(driver, database=neo4j_settings.database) as s:
        s.runs()
    driver.verify_connectivity()  # still open
    driver.close()
    assert "password" not in repr(s).lower()
