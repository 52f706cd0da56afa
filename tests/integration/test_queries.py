"""Every shipped Cypher query against two hand-checked runs (see nrag_samples.query_nrags)."""

from __future__ import annotations

import uuid

import pytest

from llm_mri_graphdb.errors import QueryNotFound, RunNotFound
from llm_mri_graphdb.store import Neo4jStore, query_names
from tests.integration.nrag_samples import query_nrags

pytestmark = pytest.mark.integration

TAG = uuid.uuid4().hex[:8]
TESTED = set()


@pytest.fixture(scope="module")
def runs(neo4j_settings):
    a, b = query_nrags(TAG)
    with Neo4jStore.from_settings(neo4j_settings) as store:
        store.write(a)
        store.write(b)
        try:
            yield store, a.run_id, b.run_id
        finally:
            store.delete(a.run_id)
            store.delete(b.run_id)


def _query(store, name, **params):
    TESTED.add(name)
    return store.query(name, **params)


def test_query_runs_per_model(runs):
    store, a, b = runs
    rows = _query(store, "runs_per_model", model=f"qm-a-{TAG}")
    assert rows == [
        {"model": f"qm-a-{TAG}", "model_key": f"qm-a-{TAG}", "n_runs": 1, "run_ids": [a], "corpora": [f"qc-{TAG}"]}
    ]
    assert {r["model"] for r in _query(store, "runs_per_model")} >= {f"qm-a-{TAG}", f"qm-b-{TAG}"}


def test_query_layer_profile(runs):
    store, a, _ = runs
    rows = _query(store, "layer_profile", run_id=a)
    got = [
        (r["layer"], r["label"], r["n_regions"], r["n_edges"], r["weight"], r["mean_out_degree"], r["density"])
        for r in rows
    ]
    assert got == [
        (0, "neg", 1, 1, 2.0, 1.0, 1.0),
        (0, "pos", 1, 2, 3.0, 2.0, 1.0),
        (1, "neg", 1, 2, 2.0, 2.0, 1.0),
        (1, "pos", 2, 2, 3.0, 1.0, 1.0),
        (2, "neg", 2, 0, 0.0, 0.0, None),
        (2, "pos", 1, 0, 0.0, 0.0, None),
    ]
    assert [r["label"] for r in _query(store, "layer_profile", run_id=a, label="pos")] == ["pos"] * 3


def test_query_metric_across_models(runs):
    store, a, b = runs
    store.metrics(a, "neg", save=True)  # regions 0_1_1, 1_1_0, 2_0_1, 2_1_1; 3 edges -> 3 / 12
    store.metrics(b, "neg", save=True)  # regions 0_1_1, 1_1_0, 2_0_0; 2 edges -> 2 / 6
    rows = _query(store, "metric_across_models", corpus=f"qc-{TAG}", metric="density", label="neg")
    assert [(r["model"], r["run_id"], r["labels"]) for r in rows] == [
        (f"qm-a-{TAG}", a, ["neg"]),
        (f"qm-b-{TAG}", b, ["neg"]),
    ]
    assert [r["value"] for r in rows] == pytest.approx([0.25, 1 / 3])
    assert _query(store, "metric_across_models", corpus=f"qc-{TAG}", metric="density") == []


def test_query_label_divergence_regions(runs):
    store, a, _ = runs
    rows = _query(store, "label_divergence_regions", run_id=a, label_a="pos", label_b="neg", limit=4)
    assert [(r["region"], r["count_a"], r["count_b"]) for r in rows] == [
        ("0_0_0", 3, 0),
        ("0_1_1", 0, 2),
        ("1_0_0", 2, 0),
        ("1_1_0", 1, 2),
    ]
    assert [r["divergence"] for r in rows] == pytest.approx([1.0, -1.0, 2 / 3, -2 / 3])
    assert len(_query(store, "label_divergence_regions", run_id=a, label_a="pos", label_b="neg")) == 6


def test_query_heaviest_label_paths(runs):
    store, a, _ = runs
    pos = _query(store, "heaviest_label_paths", run_id=a, label="pos")
    assert pos == [{"regions": ["0_0_0", "1_0_0", "2_1_1"], "weights": [2.0, 2.0], "total_weight": 4.0, "hops": 2}]
    neg = _query(store, "heaviest_label_paths", run_id=a, label="neg")  # tie 1_1_0 -> 2_0_1 / 2_1_1: lower x
    assert neg == [{"regions": ["0_1_1", "1_1_0", "2_0_1"], "weights": [2.0, 1.0], "total_weight": 3.0, "hops": 2}]
    from_1 = _query(store, "heaviest_label_paths", run_id=a, label="pos", from_layer=1)
    assert [(r["regions"], r["total_weight"]) for r in from_1] == [(["1_0_0", "2_1_1"], 2.0), (["1_1_0", "2_1_1"], 1.0)]


def test_query_hub_regions(runs):
    store, a, _ = runs
    top1 = _query(store, "hub_regions", run_id=a, top=1)
    assert [(r["layer"], r["rank"], r["region"], r["degree"], r["strength"]) for r in top1] == [
        (0, 1, "0_0_0", 2, 3.0),
        (1, 1, "1_1_0", 4, 6.0),
        (2, 1, "2_1_1", 2, 4.0),
    ]
    pos = _query(store, "hub_regions", run_id=a, label="pos")
    assert [(r["layer"], r["rank"], r["region"], r["degree"], r["strength"]) for r in pos] == [
        (0, 1, "0_0_0", 2, 3.0),
        (1, 1, "1_0_0", 2, 4.0),
        (1, 2, "1_1_0", 2, 2.0),
        (2, 1, "2_1_1", 2, 3.0),
    ]


def test_query_compare_runs(runs):
    store, a, b = runs
    rows = _query(store, "compare_runs", run_a=a, run_b=b)
    assert [tuple(r.values()) for r in rows] == [
        (0, 2, 2, 2, 3, 3, 5.0, 4.0),
        (1, 2, 2, 2, 3, 3, 5.0, 4.0),
        (2, 2, 2, 1, 0, 0, 0.0, 0.0),
    ]
    assert list(rows[0]) == [
        "layer",
        "regions_a",
        "regions_b",
        "shared_regions",
        "edges_a",
        "edges_b",
        "weight_a",
        "weight_b",
    ]


def test_query_missing_parameter_named(runs):
    store, _, _ = runs
    with pytest.raises(ValueError, match=r"needs parameter \$run_id"):
        store.query("layer_profile")
    with pytest.raises(ValueError, match=r"unknown \['runid'\]"):
        store.query("layer_profile", runid="x")


def test_query_unknown_name_lists_available(runs):
    store, _, _ = runs
    with pytest.raises(QueryNotFound, match="hub_regions"):
        store.query("hubs")


def test_query_unknown_run_raises(runs):
    store, _, _ = runs
    with pytest.raises(RunNotFound, match="'no-such-run'"):
        store.query("hub_regions", run_id="no-such-run")


def test_query_every_shipped_query_tested():
    analysis_queries = {
        "cross_layer_communities",
        "bottlenecks",
    }  # need `analyze --save`: tests/integration/test_gds_analysis.py
    text_queries = {
        "region_texts",
        "text_path",
        "co_travellers",
        "label_crossings",
        "diverging_texts",
    }  # need texts: tests/integration/test_texts_store.py
    alignment_queries = {"layer_alignment"}  # needs stored alignments: tests/integration/test_store_alignment.py
    assert TESTED | analysis_queries | text_queries | alignment_queries == set(query_names())
