"""Metrics computed in Neo4j: hand-computed values, networkx references, in-process parity, saving on request."""

from __future__ import annotations

import math
import uuid

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from networkx.algorithms import bipartite

from llm_mri_graphdb.analysis.metrics import compute_metrics, metric_arrays
from llm_mri_graphdb.store.neo4j.metrics import read_graph_arrays, to_gds_config
from llm_mri_graphdb.store.neo4j.runner import complete_run
from tests.integration.nrag_samples import query_nrags, random_components_nrag, random_grid_nrag, stored_runs

pytestmark = pytest.mark.integration

TAG = uuid.uuid4().hex[:8]
SAVED = (
    "MATCH (r:Run {id: $run_id}) OPTIONAL MATCH (r)-[:HAS_METRICS]->(s:MetricSet) "
    "WITH r, collect(s.labels) AS labels, collect(s.density) AS density "
    "MATCH (g:Region {version: r.version, name: '1_1_0'}) "
    "RETURN labels, density, g.degree AS degree, g.strength AS strength"
)


@pytest.fixture(scope="module")
def stored(store):
    nrags = {
        "grid": random_grid_nrag(11, n_texts=60, n_layers=5, tag=TAG),
        "components": random_components_nrag(12, n_layers=5, n_components=4, tag=TAG),
        "hand": query_nrags(TAG)[0],
    }
    with stored_runs(store, nrags):
        yield nrags


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
        assert (math.isnan(expected) and math.isnan(actual)) or math.isclose(
            expected, actual, rel_tol=1e-9, abs_tol=1e-9
        ), (path, expected, actual)
    else:
        assert expected == actual, path


@pytest.mark.parametrize("kind", ["grid", "components"])
@pytest.mark.parametrize("labels", [None, 0, [2, 0], "all"])
def test_gds_metrics_equal_in_process(store, stored, kind, labels):
    nrag = stored[kind]
    names = (
        list(nrag.label_names)
        if labels == "all"
        else (
            None
            if labels is None
            else nrag.label_names[labels]
            if isinstance(labels, int)
            else [nrag.label_names[i] for i in labels]
        )
    )
    _assert_same(compute_metrics(nrag, names), store.metrics(nrag.run_id, names))


def test_gds_metrics_hand_computed_six_regions(store, stored):
    # Regions 0_0_0, 0_1_1 | 1_0_0, 1_1_0 | 2_0_1, 2_1_1; pairs (all labels) 0_0_0->1_0_0 2, 0_0_0->1_1_0 1,
    # 0_1_1->1_1_0 2, 1_0_0->2_1_1 2, 1_1_0->2_0_1 1, 1_1_0->2_1_1 2 (see nrag_samples).
    m = store.metrics(stored["hand"].run_id)
    assert (m["n_regions"], m["n_edges"], m["n_layers"]) == (6, 6, 3)
    # degrees 2, 1, 2, 4, 1, 2: deviations 0, -1, 0, 2, -1, 0
    assert m["mean_degree"] == pytest.approx(2.0, abs=1e-12)
    assert m["var_degree"] == pytest.approx(6 / 5, abs=1e-12)
    assert m["skew_degree"] == pytest.approx(math.sqrt(30) / 4, abs=1e-12)  # m2 = m3 = 1
    assert m["kurt_degree"] == pytest.approx(6 * 7 * 5 * 18 / (4 * 3 * 36) - 3 * 25 / 12, abs=1e-12)
    # strengths 3, 2, 4, 6, 1, 4
    assert m["mean_strength"] == pytest.approx(20 / 6, abs=1e-12)
    assert m["var_strength"] == pytest.approx(138 / 45, abs=1e-12)
    # edges (out-strength of source, in-strength of target): (3,2) (3,3) (2,3) (2,4) (3,1) (3,4)
    assert m["assortativity"] == pytest.approx(-4 / math.sqrt(82), abs=1e-12)
    assert m["density"] == pytest.approx(6 / 30, abs=1e-12)
    assert m["center_of_mass"] == pytest.approx(-0.5, abs=1e-12)
    assert m["center_of_strength"] == pytest.approx(-10 / 20, abs=1e-12)
    assert math.isnan(m["center_of_strength_llm_mri"])
    assert m["degree_mean_by_layer"] == pytest.approx([1.5, 3.0, 1.5], abs=1e-12)
    assert m["degree_var_by_layer"] == pytest.approx([0.5, 2.0, 0.5], abs=1e-12)
    # even projection: 0_0_0->2_0_1, 0_0_0->2_1_1, 0_1_1->2_0_1, 0_1_1->2_1_1, each weight 1 (through 1_1_0)
    assert m["projection_even_mean_degree"] == pytest.approx(2.0, abs=1e-12)
    assert m["projection_even_var_degree"] == pytest.approx(0.0, abs=1e-12)
    assert m["projection_even_mean_strength"] == pytest.approx(2.0, abs=1e-12)
    assert m["projection_even_density"] == pytest.approx(4 / 12, abs=1e-12)
    assert m["projection_even_average_clustering"] == 0.0
    assert math.isnan(m["projection_even_assortativity"])  # constant strengths
    assert (m["projection_odd_mean_degree"], m["projection_odd_density"]) == (0.0, 0.0)
    h = -(0.6 * math.log2(0.6) + 0.4 * math.log2(0.4))
    assert m["occupancy_entropy_by_layer"] == pytest.approx([h, h, -(0.2 * math.log2(0.2) + 0.8 * math.log2(0.8))])
    assert m["purity_by_layer"] == pytest.approx([1.0, 0.8, 0.8]) and m["purity"] == pytest.approx(13 / 15)
    assert m["js_divergence_by_layer"]["neg|pos"][0] == pytest.approx(1.0)
    assert m["transition_entropy_by_layer"][0] == pytest.approx(-(0.4 * math.log2(2 / 3) + 0.2 * math.log2(1 / 3)))
    neg = store.metrics(stored["hand"].run_id, "neg")  # regions 0_1_1, 1_1_0, 2_0_1, 2_1_1; 3 edges
    assert (neg["n_regions"], neg["n_edges"], neg["density"]) == (4, 3, pytest.approx(3 / 12))


def test_gds_metrics_equal_networkx_on_demo_like_run(store, stored):
    nrag = stored["grid"]
    G = nrag.to_networkx()
    m = store.metrics(nrag.run_id)
    degree = pd.Series(dict(G.degree()), dtype=float)
    strength = pd.Series(dict(G.degree(weight="weight")), dtype=float)
    expected = {
        "mean_degree": degree.mean(),
        "var_degree": degree.var(),
        "skew_degree": degree.skew(),
        "kurt_degree": degree.kurt(),
        "mean_strength": strength.mean(),
        "var_strength": strength.var(),
        "skew_strength": strength.skew(),
        "kurt_strength": strength.kurt(),
        "assortativity": nx.degree_assortativity_coefficient(G, x="out", y="in", weight="weight"),
        "density": nx.density(G),
    }
    layers = nx.get_node_attributes(G, "layer")
    for parity, side in ((0, "even"), (1, "odd")):
        P = bipartite.collaboration_weighted_projected_graph(G, [n for n in G if layers[n] % 2 == parity])
        pdeg, pstr = pd.Series(dict(P.degree()), dtype=float), pd.Series(dict(P.degree(weight="weight")), dtype=float)
        expected.update(
            {
                f"projection_{side}_mean_degree": pdeg.mean(),
                f"projection_{side}_var_degree": pdeg.var(),
                f"projection_{side}_mean_strength": pstr.mean(),
                f"projection_{side}_var_strength": pstr.var(),
                f"projection_{side}_average_clustering": nx.average_clustering(P, weight="weight"),
                f"projection_{side}_density": nx.density(P),
            }
        )
    for key, value in expected.items():
        assert m[key] == pytest.approx(value, rel=1e-9, abs=1e-9), key


def test_gds_metrics_read_only_unless_saved(store, stored):
    run_id = stored["hand"].run_id
    store.metrics(run_id)
    row = store.runner.run_text(SAVED, {"run_id": run_id}, write=False)[0]
    assert (row["labels"], row["degree"]) == ([], None)
    store.metrics(run_id, save=True)
    store.metrics(run_id, "neg", save=True)
    row = store.runner.run_text(SAVED, {"run_id": run_id}, write=False)[0]
    assert sorted(row["labels"]) == [["neg"], ["neg", "pos"]]
    assert sorted(row["density"]) == pytest.approx([0.2, 0.25])
    assert (row["degree"], row["strength"]) == (4.0, 6.0)  # 1_1_0: 2 in + 2 out pairs, weight 3 + 3


def test_gds_metrics_unknown_label_names_valid(store, stored):
    with pytest.raises(ValueError, match="labels must be names in"):
        store.metrics(stored["grid"].run_id, "nope")


@pytest.mark.parametrize("kind", ["grid", "components"])
@pytest.mark.parametrize("labels", [None, [1], [2, 0]])
def test_gds_read_of_the_graph_equals_the_nrag_arrays(store, stored, kind, labels):
    # The part of store.metrics that differs from the in-process path: the stored layer columns, selected
    # and summed per pair by read_graph_arrays; numpy does it from the NRAG's arrays.
    nrag = stored[kind]
    names = None if labels is None else [nrag.label_names[i] for i in labels]
    got = read_graph_arrays(store.runner, nrag.run_id, labels)
    want = metric_arrays(nrag, names)
    assert got["kind"] == kind
    for key in ("node_layer", "node_counts", "edge_source", "edge_target"):
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)
    np.testing.assert_allclose(got["edge_weight"], want["edge_weight"], rtol=1e-12)
    assert want["edge_source"].size > 0


# A run written before its layers had columns (no run.layer_columns, no (:LayerColumns)).
FORGET_LAYER_COLUMNS = (
    "MATCH (r:Run {id: $run_id}) REMOVE r.layer_columns WITH r "
    "MATCH (r)-[:HAS_COLUMNS]->(c:LayerColumns) DETACH DELETE c"
)


def test_gds_runs_written_before_layer_columns_read_the_same_from_their_relationships(store):
    # read_run_graph_relationships walks :FLOWS_TOTAL / :FLOWS: it must give exactly what the columns give.
    tag = uuid.uuid4().hex[:8]
    nrags = {
        "grid": random_grid_nrag(21, n_texts=60, n_layers=5, tag=tag),
        "components": random_components_nrag(22, n_layers=5, n_components=4, tag=tag),
    }
    with stored_runs(store, nrags):
        for kind, n in nrags.items():
            run = complete_run(store.runner, n.run_id)
            assert run["layer_columns"] is True
            for labels in (None, [1], [2, 0], n.label_names):
                columns = read_graph_arrays(store.runner, n.run_id, labels)
                walked = read_graph_arrays(store.runner, n.run_id, labels, walk_relationships=True)
                for key in ("node_layer", "node_counts", "edge_source", "edge_target", "edge_weight"):
                    np.testing.assert_array_equal(walked[key], columns[key], err_msg=f"{kind} {labels} {key}")
                assert columns["edge_source"].size > 0
            listed, every = (
                read_graph_arrays(store.runner, n.run_id, n.label_names),
                read_graph_arrays(store.runner, n.run_id),
            )
            for key in ("node_layer", "node_counts", "edge_source", "edge_target"):  # label rows summed = pair totals
                np.testing.assert_array_equal(listed[key], every[key], err_msg=f"{kind} {key}")
            np.testing.assert_allclose(listed["edge_weight"], every["edge_weight"], rtol=1e-12, atol=0)
        for n in nrags.values():
            store.runner.run_text(FORGET_LAYER_COLUMNS, {"run_id": n.run_id}, write=True)
            assert "layer_columns" not in complete_run(store.runner, n.run_id)
            _assert_same(compute_metrics(n), store.metrics(n.run_id))
            _assert_same(compute_metrics(n, [n.label_names[1]]), store.metrics(n.run_id, n.label_names[1]))


def test_to_gds_config_camel_case_drops_none():
    assert to_gds_config(orientation="REVERSE", relationship_weight_property="w", concurrency=None) == {
        "orientation": "REVERSE",
        "relationshipWeightProperty": "w",
    }
