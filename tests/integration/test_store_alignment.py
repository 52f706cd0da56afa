"""Stored alignments in Neo4j: Layer/ALIGNS written, replaced and deleted, and the layer_alignment query
checked by hand and against the embedded store."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from numpy.testing import assert_allclose

from llm_mri_graphdb.analysis.alignment import MEASURES, LayerAlignment
from llm_mri_graphdb.store import LocalStore
from llm_mri_graphdb.store.alignment import compare_runs, layer_alignment, read_alignment, write_alignment
from tests.alignment_runs import TEXTS, cached_scan

pytestmark = pytest.mark.integration

nan = float("nan")
CKA = np.array([[0.9, 0.5, 0.2, 0.1], [0.4, 0.8, 0.8, 0.3], [nan, 0.1, 0.3, 0.7]])
AMI = np.array([[0.6, 0.1, 0.0, 0.0], [0.2, 0.3, 0.5, 0.1], [0.1, 0.2, 0.2, 0.05]])
DEBIASED = np.array([[0.7, 0.2, -0.01, 0.0], [0.1, 0.5, 0.6, 0.02], [nan, 0.0, 0.1, 0.4]])
NULL_P = np.array([[0.01, 0.2, 0.9, 0.5], [0.3, 0.01, 0.01, 0.4], [nan, 0.6, 0.02, 0.01]])
COUNT = """MATCH (x:Layer)-[s:ALIGNS]->(y:Layer) WHERE x.run_id IN $runs AND y.run_id IN $runs
RETURN count(s) AS n"""
LAYERS = "MATCH (l:Layer {run_id: $run_id}) RETURN count(l) AS n"


@pytest.fixture(scope="module")
def scans(tmp_path_factory):
    tag = uuid.uuid4().hex[:8]
    root = tmp_path_factory.mktemp("alignment-cache")
    a, _ = cached_scan(root, tag, "mini", 1, 3, 6)
    b, _ = cached_scan(root, tag, "smol", 2, 4, 5)
    c, _ = cached_scan(root, tag, "third", 3, 2, 4)
    return tag, a, b, c


@pytest.fixture(scope="module")
def both(store, scans, tmp_path_factory):
    """The three runs in Neo4j and in a LocalStore."""
    _, *nrags = scans
    local = LocalStore(tmp_path_factory.mktemp("alignment-runs"))
    for nrag in nrags:
        store.write(nrag, texts=TEXTS)
        local.write(nrag, texts=TEXTS)
    yield store, local
    for nrag in nrags:
        if nrag.run_id in {r["run_id"] for r in store.runs()}:
            store.delete(nrag.run_id)


def _count(store, runs):
    return store.runner.run_text(COUNT, {"runs": list(runs)}, write=False)[0]["n"]


def test_layer_alignment_hand_computed_in_neo4j_and_equal_in_the_local_store(both, scans):
    tag, a, b, c = scans
    for target in both:
        write_alignment(
            target, LayerAlignment(CKA, AMI, runs=(a.run_id, b.run_id), cka_debiased=DEBIASED, cka_null_p=NULL_P)
        )
        write_alignment(target, LayerAlignment(CKA[:, :2] / 2, None, runs=(a.run_id, c.run_id)))
    neo4j, local = both
    rows = layer_alignment(neo4j, a.run_id, other=b.run_id)
    assert [(r["layer"], r["best_layer"], r["score"]) for r in rows] == [(0, 0, 0.9), (1, 1, 0.8), (2, 3, 0.7)]
    assert rows[2] == {
        "layer": 2,
        "model": f"smol-{tag}",
        "run_id": b.run_id,
        "best_layer": 3,
        "n_layers": 4,
        "score": 0.7,
        "cka": 0.7,
        "cka_debiased": 0.4,
        "cka_null_p": 0.01,
        "ami": 0.05,
    }
    debiased_rows = layer_alignment(neo4j, a.run_id, measure="cka_debiased", other=b.run_id)
    assert [(r["layer"], r["best_layer"], r["score"]) for r in debiased_rows] == [(0, 0, 0.7), (1, 2, 0.6), (2, 3, 0.4)]
    p_rows = layer_alignment(neo4j, a.run_id, measure="cka_null_p", other=b.run_id)  # smallest p, lower layer on ties
    assert [(r["layer"], r["best_layer"], r["score"]) for r in p_rows] == [(0, 0, 0.01), (1, 1, 0.01), (2, 3, 0.01)]
    ami_rows = layer_alignment(neo4j, a.run_id, measure="ami", other=f"smol-{tag}")
    assert [(r["layer"], r["best_layer"], r["score"]) for r in ami_rows] == [(0, 0, 0.6), (1, 2, 0.5), (2, 1, 0.2)]
    back = layer_alignment(neo4j, b.run_id)  # the other side of the same ALIGNS: columns of CKA
    assert [(r["layer"], r["best_layer"], r["score"]) for r in back] == [
        (0, 0, 0.9),
        (1, 1, 0.8),
        (2, 1, 0.8),
        (3, 2, 0.7),
    ]
    every = layer_alignment(neo4j, a.run_id)  # across every model compared with run a
    assert [(r["model"], r["layer"], r["best_layer"]) for r in every] == [
        (f"smol-{tag}", 0, 0),
        (f"smol-{tag}", 1, 1),
        (f"smol-{tag}", 2, 3),
        (f"third-{tag}", 0, 0),
        (f"third-{tag}", 1, 1),
        (f"third-{tag}", 2, 1),
    ]
    assert layer_alignment(neo4j, a.run_id, measure="ami", other=c.run_id) == []  # stored without AMI
    for run in (a.run_id, b.run_id, c.run_id):
        for measure in MEASURES:
            assert layer_alignment(neo4j, run, measure=measure) == layer_alignment(local, run, measure=measure)
            # the library query itself, on Neo4j through Cypher and on the embedded store in process
            assert neo4j.query("layer_alignment", run_a=run, measure=measure) == local.query(
                "layer_alignment", run_a=run, measure=measure
            )
    stored = read_alignment(neo4j, b.run_id, a.run_id)
    assert_allclose(stored.cka, CKA.T)
    assert_allclose(stored.ami, AMI.T)
    assert_allclose(stored.cka_debiased, DEBIASED.T)
    assert_allclose(stored.cka_null_p, NULL_P.T)
    assert stored.names == (f"smol-{tag}", f"mini-{tag}")


def test_compare_runs_in_neo4j_equals_the_local_store_and_leaves_no_stale_aligns(both, scans):
    _, a, b, c = scans
    neo4j, local = both
    first = compare_runs(neo4j, a.run_id, b.run_id)
    again = compare_runs(neo4j, b.run_id, a.run_id)  # the reverse direction replaces the pair
    assert _count(neo4j, [a.run_id, b.run_id]) == 12
    assert_allclose(again.cka, first.cka.T, atol=1e-6)  # float32 block products, summed in another order
    expected = compare_runs(local, a.run_id, b.run_id)
    for measure in MEASURES:  # ALIGNS in Neo4j and alignments.json hold the same values
        assert_allclose(getattr(first, measure), getattr(expected, measure), rtol=1e-12)
        assert_allclose(
            getattr(read_alignment(neo4j, a.run_id, b.run_id), measure),
            getattr(compare_runs(local, b.run_id, a.run_id), measure).T,
            rtol=1e-12,
        )
    stored = read_alignment(neo4j, a.run_id, b.run_id)  # the last write, (b, a), read as (a, b)
    assert_allclose(stored.cka, again.cka.T, rtol=1e-12)
    assert_allclose(stored.ami, again.ami.T, rtol=1e-12)
    assert_allclose(stored.cka_debiased, again.cka_debiased.T, rtol=1e-12)
    assert_allclose(stored.cka_null_p, again.cka_null_p.T, rtol=1e-12)
    assert set(np.unique(stored.cka_null_p)) <= {k / 101 for k in range(1, 102)}
    itself = neo4j.compare(a.run_id, a.run_id)  # the store methods are the module's functions
    assert np.diag(itself.cka).tolist() == [1.0, 1.0, 1.0]
    assert_allclose(neo4j.alignment(a.run_id, a.run_id).cka, itself.cka, rtol=1e-15)
    assert [r["best_layer"] for r in neo4j.layer_alignment(a.run_id, other=a.run_id)] == [0, 1, 2]
    assert _count(neo4j, [a.run_id]) == 9


def test_deleting_a_run_removes_its_layers_and_aligns(both, scans):
    _, a, b, c = scans
    neo4j, _ = both
    compare_runs(neo4j, c.run_id, b.run_id)
    neo4j.delete(c.run_id)
    assert neo4j.runner.run_text(LAYERS, {"run_id": c.run_id}, write=False)[0]["n"] == 0
    assert _count(neo4j, [b.run_id, c.run_id]) == _count(neo4j, [b.run_id])
    assert read_alignment(neo4j, b.run_id, c.run_id) is None
    assert neo4j.runner.run_text(LAYERS, {"run_id": b.run_id}, write=False)[0]["n"] == 4
