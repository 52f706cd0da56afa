"""GDS metrics equal the in-process metrics to 1e-9, and are saved on the run."""

from __future__ import annotations

import math
import uuid

import numpy as np
import pytest
from tests.integration.nrag_samples import query_nrags, random_components_nrag, random_grid_nrag

from llm_mri_graphdb.metrics import compute_metrics
from llm_mri_graphdb.store import Neo4jStore
from llm_mri_graphdb.store.gds import to_gds_config

pytestmark = pytest.mark.integration

TAG = uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def store(neo4j_settings):
    with Neo4jStore.from_settings(neo4j_settings) as s:
        yield s


@pytest.fixture(scope="module")
def stored(store):
    nrags = {"grid": random_grid_nrag(11, n_texts=60, n_layers=5, tag=TAG),
             "components": random_components_nrag(12, n_layers=5, n_components=4, tag=TAG),
             "hand": query_nrags(TAG)[0]}
    for nrag in nrags.values():
        store.write(nrag)
    yield nrags
    for nrag in nrags.values():
        store.delete(nrag.run_id)


def _assert_same(expected, actual, path="metrics"):
    if isinstance(expected, dict):
        assert expected.keys() == actual.keys(), path
        for key in expected:
            _assert_same(expected[key], actual[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert len(expected) == len(actual), path
        for i, (e, a) in enumerate(zip(expected, actual)):
            _assert_same(e, a, f"{path}[{i}]")
    elif isinstance(expected, float):
        assert (math.isnan(expected) and math.isnan(actual)) or \
            math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-9), (path, expected, actual)
    else:
        assert expected == actual, path


@pytest.mark.parametrize("kind", ["grid", "components"])
@pytest.mark.parametrize("labels", [None, 0, [2, 0], "all"])
def test_gds_metrics_equal_in_process(store, stored, kind, labels):
    nrag = stored[kind]
    names = list(nrag.label_names) if labels == "all" else (
        None if labels is None else nrag.label_names[labels] if isinstance(labels, int)
        else [nrag.label_names[i] for i in labels])
    _assert_same(compute_metrics(nrag, names), store.metrics(nrag.run_id, names))


def test_gds_metrics_hand_computed(store, stored):
    run_id = stored["hand"].run_id
    m = store.metrics(run_id)
    # 6 regions, 6 region pairs; strengths 3, 2, 4, 6, 1, 4
    assert m["n_regions"] == 6 and m["n_edges"] == 6
    assert m["mean_degree"] == pytest.approx(2.0)
    assert m["density"] == pytest.approx(6 / 30)
    assert m["mean_strength"] == pytest.approx(20 / 6)
    neg = store.metrics(run_id, "neg")  # regions 0_1_1, 1_1_0, 2_0_1, 2_1_1; 3 edges
    assert (neg["n_regions"], neg["n_edges"], neg["density"]) == (4, 3, pytest.approx(3 / 12))
    records, _, _ = store._driver.execute_query(
        "MATCH (r:Run {id: $run_id})-[:HAS_METRICS]->(s:MetricSet) "
        "MATCH (g:Region {version: r.version, name: '1_1_0'}) "
        "RETURN collect(s.labels) AS labels, collect(s.density) AS density, g.degree AS degree, g.strength AS strength",
        run_id=run_id, database_=store.database)
    row = records[0].data()
    assert sorted(row["labels"]) == [["neg"], ["neg", "pos"]]
    assert sorted(row["density"]) == pytest.approx([0.2, 0.25])
    assert (row["degree"], row["strength"]) == (4.0, 6.0)


def test_gds_metrics_drop_their_projection(store, stored):
    def graphs():
        records, _, _ = store._driver.execute_query("CALL gds.graph.list() YIELD graphName RETURN graphName",
                                                    database_=store.database)
        return {r["graphName"] for r in records}

    before = graphs()
    store.metrics(stored["grid"].run_id, "b")
    assert graphs() <= before


def test_gds_metrics_unknown_label_names_valid(store, stored):
    with pytest.raises(ValueError, match="labels must be names in"):
        store.metrics(stored["grid"].run_id, "nope")


def test_to_gds_config_camel_case_drops_none():
    assert to_gds_config(orientation="REVERSE", relationship_weight_property="w", concurrency=None) == \
        {"orientation": "REVERSE", "relationshipWeightProperty": "w"}


def test_gds_metrics_degree_is_in_plus_out(store, stored):
    nrag = stored["grid"]
    m = store.metrics(nrag.run_id)
    deg = np.bincount(nrag.edge_source, minlength=nrag.n_regions) + np.bincount(nrag.edge_target,
                                                                               minlength=nrag.n_regions)
    pairs = {(s, t) for s, t in zip(nrag.edge_source.tolist(), nrag.edge_target.tolist())}
    pair_deg = np.zeros(nrag.n_regions)
    for s, t in pairs:
        pair_deg[s] += 1
        pair_deg[t] += 1
    assert deg.sum() >= pair_deg.sum()
    assert m["mean_degree"] == pytest.approx(pair_deg.mean(), rel=1e-12)
