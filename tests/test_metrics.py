"""Metrics: hand-computed values on the 3-layer 2x2 example and parity with llm_mri/networkx/pandas."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from networkx.algorithms import bipartite
from numpy.testing import assert_allclose

from llm_mri_graphdb.analysis.metrics import (
    METRIC_KEYS,
    compute_metrics,
    metric_arrays,
    projection_graph,
)
from llm_mri_graphdb.nrag.model import build_nrag_from_reduced

try:  # tests/ as a package, or as a rootdir-inserted folder
    from .test_nrag import hand_nrag
except ImportError:
    from test_nrag import hand_nrag

pytestmark = pytest.mark.unit

NAN = float("nan")


def h(*p):
    """Shannon entropy in bits of the probabilities p."""
    return -sum(x * math.log2(x) for x in p if x > 0)


def skew(n, m2, m3):  # pandas' adjusted Fisher-Pearson, m2/m3 = sums of centred powers
    return n * (n - 1) ** 0.5 / (n - 2) * m3 / m2**1.5


def kurt(n, m2, m4):  # pandas' bias-corrected excess kurtosis
    return n * (n + 1) * (n - 1) * m4 / ((n - 2) * (n - 3) * m2**2) - 3 * (n - 1) ** 2 / ((n - 2) * (n - 3))


# Hand values for the example of test_nrag (8 regions, 8 edges after summing labels):
# edges 0->3:1, 0->5:3, 1->4:1, 2->5:1, 3->6:1, 4->7:1, 5->6:1, 5->7:3
# degree  [2,1,1,2,2,4,2,2]  (mean 2, centred powers: m2 6, m3 6, m4 18)
# strength [4,1,1,2,2,8,2,4] (mean 3, m2 38, m3 108, m4 662)
HAND = {
    "n_regions": 8,
    "n_edges": 8,
    "n_layers": 3,
    "label_names": ["a", "b"],
    "mean_degree": 2.0,
    "var_degree": 6 / 7,
    "skew_degree": skew(8, 6, 6),
    "kurt_degree": kurt(8, 6, 18),
    "mean_strength": 3.0,
    "var_strength": 38 / 7,
    "skew_strength": skew(8, 38, 108),
    "kurt_strength": kurt(8, 38, 662),
    # source out-strength [4,4,1,1,1,1,4,4] vs target in-strength [1,4,1,4,2,4,2,4]: covariance 0
    "assortativity": 0.0,
    "density": 8 / 56,
    "center_of_mass": (3 * -1.5 + 3 * -0.5 + 2 * 0.5) / 8,
    "center_of_strength": (6 * -1.5 + 12 * -0.5 + 6 * 0.5) / 24,
    "center_of_strength_llm_mri": NAN,  # layer n_layers has no nodes: std nan
    "degree_mean_by_layer": [4 / 3, 8 / 3, 2.0],
    "degree_var_by_layer": [1 / 3, 4 / 3, 0.0],
    # even projection: 0->6 (via 3: 0, via 5: 1/(2-1)), 0->7 (1), 1->7 (via 4: 0), 2->6 (1), 2->7 (1)
    "projection_even_mean_degree": 2.0,
    "projection_even_var_degree": 0.5,
    "projection_even_mean_strength": 1.6,
    "projection_even_var_strength": 0.8,
    "projection_even_average_clustering": 0.0,
    "projection_even_assortativity": NAN,  # in-strength constant
    "projection_even_density": 0.25,
    # odd projection: layer 1 alone, no 2-step paths
    "projection_odd_mean_degree": 0.0,
    "projection_odd_var_degree": 0.0,
    "projection_odd_mean_strength": 0.0,
    "projection_odd_var_strength": 0.0,
    "projection_odd_average_clustering": 0.0,
    "projection_odd_assortativity": NAN,
    "projection_odd_density": 0.0,
    "occupancy_entropy_by_layer": [h(4 / 6, 1 / 6, 1 / 6), h(1 / 6, 1 / 6, 4 / 6), h(2 / 6, 4 / 6)],
    "occupancy_entropy_mean": (2 * h(4 / 6, 1 / 6, 1 / 6) + h(1 / 3, 2 / 3)) / 3,
    # a: [1,0,0] vs b: [1/3]*3 | a: [1/3,0,2/3] vs b: [0,1/3,2/3] | identical
    "js_divergence_by_layer": {
        "a|b": [h(2 / 3, 1 / 6, 1 / 6) - math.log2(3) / 2, h(1 / 6, 1 / 6, 2 / 3) - h(1 / 3, 2 / 3), 0.0]
    },
    "js_divergence_mean": {
        "a|b": (h(2 / 3, 1 / 6, 1 / 6) - math.log2(3) / 2 + h(1 / 6, 1 / 6, 2 / 3) - h(1 / 3, 2 / 3)) / 3
    },
    "purity": 12 / 18,
    "purity_by_layer": [5 / 6, 4 / 6, 3 / 6],
    # from 0 (weight 4) to 3:1, 5:3; from 5 (weight 4) to 6:1, 7:3; other sources deterministic
    "transition_entropy_by_layer": [4 / 6 * h(1 / 4, 3 / 4)] * 2,
    "transition_entropy_mean": 4 / 6 * h(1 / 4, 3 / 4),
}


def assert_metrics_equal(got, want, rtol=1e-12, atol=1e-12):
    assert set(got) == set(want)
    for key, value in want.items():
        if isinstance(value, dict):
            assert set(got[key]) == set(value), key
            for k in value:
                assert_allclose(got[key][k], value[k], rtol=rtol, atol=atol, err_msg=f"{key}[{k}]")
        elif isinstance(value, str) or (isinstance(value, list) and value and isinstance(value[0], str)):
            assert got[key] == value, key
        else:
            assert_allclose(got[key], value, rtol=rtol, atol=atol, err_msg=key)


def test_compute_metrics_hand_example_every_key():
    got = compute_metrics(hand_nrag())
    assert tuple(got) == METRIC_KEYS
    assert_metrics_equal(got, HAND)


def test_compute_metrics_single_label_subset():
    got = compute_metrics(hand_nrag(), "a")  # edges 0->1:1, 0->2:2, 1->3:1, 2->4:2 over 5 regions
    assert got["n_regions"] == 5 and got["n_edges"] == 4 and got["js_divergence_by_layer"] == {}
    assert_allclose(got["mean_strength"], 12 / 5)
    assert_allclose(got["density"], 4 / 20)
    assert_allclose(got["purity"], 1.0)
    assert_allclose(got["occupancy_entropy_by_layer"], [0.0, h(1 / 3, 2 / 3), h(1 / 3, 2 / 3)])


class LlmMriMetrics:
    """llm_mri 0.2.1 Metrics.py, transcribed (label/model name dropped; no graphviz)."""

    def __init__(self, G):
        self.G, self.layers = G, G.graph["layers"]
        for n in G.nodes:
            G.nodes[n]["layer"] = int(n.split("_")[0])
        even, odd = set(), set()
        for layer in range(self.layers + 1):
            nodes = {n for n, d in G.nodes(data=True) if d["layer"] == layer}
            (even if layer % 2 == 0 else odd).update(nodes)
        self.projection_even = bipartite.collaboration_weighted_projected_graph(G, even)
        self.projection_odd = bipartite.collaboration_weighted_projected_graph(G, odd)

    def degree_by_layer(self):
        deg = dict(nx.degree(self.G))
        rows = [
            (
                pd.Series([v for k, v in deg.items() if k.split("_")[0] == str(i)]).mean(),
                pd.Series([v for k, v in deg.items() if k.split("_")[0] == str(i)]).var(),
            )
            for i in range(self.layers + 1)
        ]
        return rows

    def center_of_mass(self):
        com = 0
        for i in range(self.layers + 1):
            com += pd.Series([k for k in self.G.nodes() if k.split("_")[0] == str(i)]).count() * (i - self.layers / 2)
        return com / len(list(self.G.nodes()))

    def center_of_strength(self):
        cos = 0
        for i in range(self.layers + 1):
            cos += pd.Series(
                [v for k, v in dict(self.G.degree(weight="weight")).items() if k.split("_")[0] == str(i)]
            ).std() * (i - self.layers / 2)
        return cos

    def basic(self):
        d = pd.Series([v for _, v in nx.degree(self.G)])
        s = pd.Series([v for _, v in self.G.degree(weight="weight")])
        return {
            "mean_degree": d.mean(),
            "var_degree": d.var(),
            "skew_degree": d.skew(),
            "kurt_degree": d.kurt(),
            "mean_strength": s.mean(),
            "var_strength": s.var(),
            "skew_strength": s.skew(),
            "kurt_strength": s.kurt(),
            "assortativity": nx.degree_assortativity_coefficient(self.G, weight="weight"),
            "density": nx.density(self.G),
            "center_of_mass": self.center_of_mass(),
            "center_of_strength_llm_mri": self.center_of_strength(),
        }

    @staticmethod
    def projection(P, side):
        d = pd.Series([v for _, v in nx.degree(P)])
        s = pd.Series([v for _, v in P.degree(weight="weight")])
        values = {
            "mean_degree": d.mean(),
            "var_degree": d.var(),
            "mean_strength": s.mean(),
            "var_strength": s.var(),
            "average_clustering": nx.average_clustering(P, weight="weight"),
            "assortativity": nx.degree_assortativity_coefficient(P, weight="weight"),
            "density": nx.density(P),
        }
        return {f"projection_{side}_{k}": v for k, v in values.items()}


def random_grid_nrag(seed, n_labels=3, gridsize=4, n_layers=5, n_texts=120):
    rng = np.random.default_rng(seed)
    reduced = [rng.normal(size=(n_texts, 2)) for _ in range(n_layers)]
    return build_nrag_from_reduced(
        reduced, rng.integers(0, n_labels, n_texts), [f"c{i}" for i in range(n_labels)], gridsize=gridsize
    )


def random_component_nrag(seed):
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(60, 5))
    reduced = [base + 0.7 * rng.normal(size=(60, 5)) for _ in range(6)]
    return build_nrag_from_reduced(reduced, np.arange(60) % 2, ["x", "y"], threshold=0.1, abs_threshold=True)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(
    "make, labels",
    [
        (lambda: hand_nrag(), None),
        (lambda: hand_nrag(), "b"),
        (lambda: random_grid_nrag(0), None),
        (lambda: random_grid_nrag(1), ["c2", "c0"]),
        (lambda: random_grid_nrag(2, gridsize=2, n_layers=4), 1),
        (lambda: random_component_nrag(3), None),
        (lambda: random_component_nrag(4), "y"),
    ],
)
def test_compute_metrics_parity_with_llm_mri_on_same_graph(make, labels):
    nrag = make()
    G = nrag.to_networkx(labels)
    ref = LlmMriMetrics(G)
    want = {**ref.basic(), **ref.projection(ref.projection_even, "even"), **ref.projection(ref.projection_odd, "odd")}
    rows = ref.degree_by_layer()[:-1]  # llm_mri adds an empty row for layer n_layers
    want["degree_mean_by_layer"] = [r[0] for r in rows]
    want["degree_var_by_layer"] = [r[1] for r in rows]
    got = compute_metrics(nrag, labels)
    assert_metrics_equal({k: got[k] for k in want}, want)
    strength = dict(G.degree(weight="weight"))
    layer = nx.get_node_attributes(G, "layer")
    com = sum(s * (layer[n] - G.graph["layers"] / 2) for n, s in strength.items()) / sum(strength.values())
    assert_allclose(got["center_of_strength"], com, rtol=1e-12)


def test_projection_graph_equals_networkx_collaboration_projection():
    nrag = random_grid_nrag(7, gridsize=3, n_layers=6)
    a = metric_arrays(nrag)
    ids = nrag.region_ids()
    G = nrag.to_networkx()
    for parity in (0, 1):
        nodes, src, tgt, w = projection_graph(a["node_layer"], a["edge_source"], a["edge_target"], parity)
        P = bipartite.collaboration_weighted_projected_graph(G, [ids[i] for i in nodes])
        got = {(ids[nodes[s]], ids[nodes[t]]): x for s, t, x in zip(src, tgt, w)}
        assert set(got) == set(P.edges)
        for e, x in got.items():
            assert_allclose(x, P.edges[e]["weight"], rtol=1e-12)


def test_metrics_from_arrays_clustering_matches_networkx_with_triangles():
    # A general directed graph (triangles, reciprocal edges) checks the clustering formula itself.
    rng = np.random.default_rng(9)
    G = nx.gnp_random_graph(25, 0.2, seed=3, directed=True)
    for u, v in G.edges:
        G.edges[u, v]["weight"] = float(rng.uniform(0.1, 2.0))
    src, tgt = np.array(list(G.edges)).T
    w = np.array([G.edges[e]["weight"] for e in G.edges])
    from llm_mri_graphdb.analysis.metrics import _average_clustering  # the projection's clustering kernel

    assert_allclose(_average_clustering(25, src, tgt, w), nx.average_clustering(G, weight="weight"), rtol=1e-12)


def test_facade_metrics_of_a_networkx_graph_equal_the_hand_values():
    # llm_mri's Metrics(graph) path: the graph's nodes and edges read back into arrays, then the metrics.
    # Node order is networkx's (regions by name), not the NRAG's, so a mix-up of indices shows here.
    from llm_mri_graphdb.facade import Metrics

    G = hand_nrag().to_networkx()
    m = Metrics(G, label="a", model_name="hand")
    basic = m.get_basic_metrics()
    keys = (
        "mean_degree",
        "var_degree",
        "skew_degree",
        "kurt_degree",
        "mean_strength",
        "var_strength",
        "skew_strength",
        "kurt_strength",
        "assortativity",
        "density",
        "center_of_mass",
        "center_of_strength",
    )
    assert_metrics_equal({k: basic[k] for k in keys}, {k: HAND[k] for k in keys})
    assert (basic["label"], basic["model_name"]) == ("a", "hand")
    by_layer = m.get_degree_by_layer()
    assert_allclose(by_layer["mean"], HAND["degree_mean_by_layer"], rtol=1e-12)
    assert_allclose(by_layer["var"], HAND["degree_var_by_layer"], rtol=1e-12)
    even = m.get_projection_metrics_even()
    for k in ("mean_degree", "var_degree", "mean_strength", "var_strength", "density"):
        assert_allclose(even[k], HAND[f"projection_even_{k}"], rtol=1e-12, err_msg=k)


def test_compute_metrics_components_leave_occupancy_nan():
    got = compute_metrics(random_component_nrag(5))
    assert math.isnan(got["purity"]) and math.isnan(got["transition_entropy_mean"])
    assert list(got["js_divergence_by_layer"]) == ["x|y"]
    assert len(got["occupancy_entropy_by_layer"]) == 6 and len(got["transition_entropy_by_layer"]) == 5


def test_compute_metrics_rejects_unknown_label():
    with pytest.raises(ValueError, match=r"labels must be names in \['a', 'b'\]"):
        compute_metrics(hand_nrag(), "zebra")
