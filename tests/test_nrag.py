"""NRAG construction: hand-built grids and components, conversions, label subsets, errors."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.stats import spearmanr

from llm_mri_graphdb.extract.activations import Activations
from llm_mri_graphdb.nrag.model import NRAG, build_nrag, build_nrag_from_reduced
from llm_mri_graphdb.reduce.layers import PCA, SVD

pytestmark = pytest.mark.unit

# Three layers, six texts (labels a a b b a b), coordinates 0/1 so a 2x2 grid
# puts 0 in bin 0 and 1 in bin 1 on both axes.
HAND_LABELS = [0, 0, 1, 1, 0, 1]
HAND_REDUCED = [
    np.array([[0, 0], [0, 0], [1, 1], [1, 0], [0, 0], [0, 0]], float),
    np.array([[0, 1], [1, 1], [1, 1], [1, 0], [1, 1], [1, 1]], float),
    np.array([[0, 1], [1, 0], [1, 0], [1, 0], [1, 0], [0, 1]], float),
]
HAND_IDS = ["0_0_0", "0_1_0", "0_1_1", "1_0_1", "1_1_0", "1_1_1", "2_0_1", "2_1_0"]
HAND_COUNTS = [[3, 1], [0, 1], [0, 1], [1, 0], [0, 1], [2, 2], [1, 1], [2, 2]]
# (source, target, label, weight): t0 a 0->3->6, t1 t4 a 0->5->7, t2 b 2->5->7, t3 b 1->4->7, t5 b 0->5->6
HAND_ROWS = [
    (0, 3, 0, 1),
    (0, 5, 0, 2),
    (0, 5, 1, 1),
    (1, 4, 1, 1),
    (2, 5, 1, 1),
    (3, 6, 0, 1),
    (4, 7, 1, 1),
    (5, 6, 1, 1),
    (5, 7, 0, 2),
    (5, 7, 1, 1),
]


def hand_nrag(**kw) -> NRAG:
    return build_nrag_from_reduced(HAND_REDUCED, HAND_LABELS, ["a", "b"], **{"gridsize": 2, **kw})


def rows(g: NRAG) -> list[tuple]:
    return list(zip(g.edge_source.tolist(), g.edge_target.tolist(), g.edge_label.tolist(), g.edge_weight.tolist()))


def test_build_nrag_from_reduced_hand_grid_regions_and_edges():
    g = hand_nrag()
    assert g.kind == "grid" and g.n_layers == 3 and g.label_names == ("a", "b")
    assert g.region_ids() == HAND_IDS
    assert_array_equal(g.region_counts, HAND_COUNTS)
    assert rows(g) == [(s, t, c, float(w)) for s, t, c, w in HAND_ROWS]
    # pandas.cut widens the low edge by 0.1% of the range: (-0.001, 1] on every axis
    assert_allclose(g.layer_bounds, [[-0.001, 1, -0.001, 1]] * 3)


def test_build_nrag_from_reduced_cells_match_pandas_cut():
    rng = np.random.default_rng(3)
    reduced = [rng.normal(size=(200, 2)) * (i + 1) for i in range(4)]
    labels = rng.integers(0, 3, 200)
    g = build_nrag_from_reduced(reduced, labels, ["p", "q", "r"], gridsize=7)
    for layer, coords in enumerate(reduced):
        x, xe = pd.cut(coords[:, 0], 7, labels=False, retbins=True)
        y, ye = pd.cut(coords[:, 1], 7, labels=False, retbins=True)
        expected = pd.crosstab([x, y], labels)
        mine = g.layer_bounds[layer]
        assert_allclose(mine, [xe[0], xe[-1], ye[0], ye[-1]])
        at = g.region_layer == layer
        got = {(int(a), int(b)): c.tolist() for a, b, c in zip(g.region_x[at], g.region_y[at], g.region_counts[at])}
        want = {k: [int(expected.loc[k].get(c, 0)) for c in range(3)] for k in expected.index}
        assert got == want


def test_build_nrag_from_reduced_quantile_matches_qcut():
    rng = np.random.default_rng(4)
    coords = rng.exponential(size=(90, 2))
    coords[:30, 0] = 0.0  # a third of the x values tie: qcut drops duplicate edges
    g = build_nrag_from_reduced([coords, coords], np.zeros(90, int), ["only"], gridsize=5, binning="quantile")
    x = pd.qcut(coords[:, 0], 5, labels=False, duplicates="drop")
    y = pd.qcut(coords[:, 1], 5, labels=False, duplicates="drop")
    counts = pd.Series(1, index=pd.MultiIndex.from_arrays([x, y])).groupby(level=[0, 1]).sum()
    at = g.region_layer == 0
    assert dict(zip(zip(g.region_x[at].tolist(), g.region_y[at].tolist()), g.region_counts[at, 0].tolist())) == {
        k: int(v) for k, v in counts.items()
    }
    assert g.region_x.max() < 5 and g.settings["binning"] == "quantile"


def test_build_nrag_from_reduced_five_labels_one_graph():
    rng = np.random.default_rng(5)
    labels = np.repeat(np.arange(5), 20)
    reduced = [rng.normal(size=(100, 2)) for _ in range(3)]
    g = build_nrag_from_reduced(reduced, labels, list("vwxyz"), gridsize=3)
    assert g.n_labels == 5 and set(g.edge_label.tolist()) == set(range(5))
    assert g.region_counts.sum() == 300
    for c in range(5):  # every label keeps all its texts on every layer pair
        assert g.edge_weight[g.edge_label == c].sum() == 40


def test_build_nrag_from_reduced_components_spearman_per_label():
    rng = np.random.default_rng(6)
    labels = np.array([0] * 12 + [1] * 9)
    reduced = [rng.normal(size=(21, 3)) for _ in range(3)]
    g = build_nrag_from_reduced(reduced, labels, ["a", "b"], threshold=-1.0)
    assert g.kind == "components" and g.region_ids()[:4] == ["0_0", "0_1", "0_2", "1_0"]
    assert_array_equal(g.region_y, -1)
    assert_array_equal(g.region_counts, [[12, 9]] * 9)
    assert g.edge_source.shape[0] == 2 * 2 * 9  # threshold -1 keeps every pair of every label
    for s, t, c, w in rows(g):
        layer, i, j = s // 3, s % 3, t % 3
        mask = labels == c
        assert t // 3 == layer + 1
        assert_allclose(w, spearmanr(reduced[layer][mask, i], reduced[layer + 1][mask, j]).statistic, atol=1e-12)


def test_build_nrag_from_reduced_components_threshold_strict_and_abs():
    x = np.arange(6.0)
    layer0 = np.column_stack([x, x**2, np.sin(x)])
    layer1 = np.column_stack([-x, x, np.cos(x)])
    labels = np.zeros(6, int)
    g = build_nrag_from_reduced([layer0, layer1], labels, ["a"], threshold=0.3)
    full = build_nrag_from_reduced([layer0, layer1], labels, ["a"], threshold=-1.0)
    assert_array_equal(g.edge_weight, full.edge_weight[full.edge_weight > 0.3])
    g1 = build_nrag_from_reduced([layer0, layer1], labels, ["a"], threshold=1.0)
    assert g1.edge_source.shape[0] == 0  # rho == 1 is not > 1
    ga = build_nrag_from_reduced([layer0, layer1], labels, ["a"], threshold=0.99, abs_threshold=True)
    assert_allclose(sorted(ga.edge_weight.tolist()), [-1.0, -1.0, 1.0, 1.0], rtol=1e-12)


def test_nrag_two_labels_sharing_an_edge_keep_both_weights():
    g = hand_nrag()
    G = g.to_networkx()
    assert G.edges["1_1_1", "2_1_0"]["weights"] == {"a": 2.0, "b": 1.0}
    assert G.edges["1_1_1", "2_1_0"]["weight"] == 3.0
    assert G.edges["0_0_0", "1_1_1"]["weights"] == {"a": 2.0, "b": 1.0}


def test_nrag_to_networkx_hand_attributes():
    G = hand_nrag().to_networkx()
    assert list(G.nodes) == HAND_IDS and G.number_of_edges() == 8
    assert G.graph == {"label_names": ["a", "b"], "layers": 3, "gridsize": 2}
    assert G.nodes["0_0_0"] == {"layer": 0, "x": 0, "y": 0, "counts": {"a": 3, "b": 1}, "total": 4}
    assert G.edges["1_1_0", "2_1_0"] == {"weights": {"b": 1.0}, "weight": 1.0, "level": 1}
    Gb = hand_nrag().to_networkx("b")
    assert Gb.graph["label_names"] == ["b"]
    assert "1_0_1" not in Gb  # only label a occupies it
    assert Gb.edges["0_0_0", "1_1_1"] == {"weights": {"b": 1.0}, "weight": 1.0, "level": 0, "label": 1}


def test_nrag_select_labels_reorders_and_drops_empty_regions():
    g = hand_nrag()
    sub = g.select_labels(["b", "a"])
    assert sub.label_names == ("b", "a")
    assert_array_equal(sub.region_counts, np.asarray(HAND_COUNTS)[:, ::-1])
    assert sorted(rows(sub)) == rows(sub)
    only_a = g.select_labels("a")
    assert only_a.region_ids() == ["0_0_0", "1_0_1", "1_1_1", "2_0_1", "2_1_0"]
    assert rows(only_a) == [(0, 1, 0, 1.0), (0, 2, 0, 2.0), (1, 3, 0, 1.0), (2, 4, 0, 2.0)]
    assert only_a.run_id == g.run_id
    assert_array_equal(only_a.layer_bounds, g.layer_bounds)


@pytest.mark.parametrize("bad", ["c", 2, ["a", "a"], []])
def test_nrag_select_labels_rejects_unknown_or_repeated(bad):
    with pytest.raises(ValueError, match="labels must"):
        hand_nrag().select_labels(bad)


def test_nrag_to_csv_and_graphml_round_trip(tmp_path):
    g = hand_nrag()
    g.to_csv(tmp_path / "csv")
    regions = pd.read_csv(tmp_path / "csv" / "regions.csv")
    edges = pd.read_csv(tmp_path / "csv" / "edges.csv")
    assert regions["id"].tolist() == HAND_IDS and regions["count_a"].tolist() == [c[0] for c in HAND_COUNTS]
    assert edges.shape == (10, 5) and edges["weight"].sum() == 12
    assert edges.iloc[2].tolist() == ["0_0_0", "1_1_1", 0, "b", 1.0]
    g.to_graphml(tmp_path / "g.graphml")
    H = nx.read_graphml(tmp_path / "g.graphml")
    assert list(H.nodes) == HAND_IDS
    assert H.edges["1_1_1", "2_1_0"]["weight_a"] == 2.0 and H.edges["1_1_1", "2_1_0"]["weight"] == 3.0


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"gridsize": 0}, "gridsize must be an integer >= 1"),
        ({"threshold": 1.5}, r"threshold must be a number in \[-1, 1\]; got "),
        ({"binning": "log"}, "binning must be one of width, quantile; got 'log'"),
    ],
)
def test_build_nrag_from_reduced_rejects_bad_settings(kw, match):
    with pytest.raises(ValueError, match=match):
        hand_nrag(**kw)


def test_build_nrag_from_reduced_rejects_bad_inputs():
    bad = [x.copy() for x in HAND_REDUCED]
    bad[1][2, 0] = np.inf
    with pytest.raises(ValueError, match="layer 1 holds NaN or inf"):
        build_nrag_from_reduced(bad, HAND_LABELS, ["a", "b"])
    with pytest.raises(ValueError, match="n_components must be >= 2"):
        build_nrag_from_reduced([x[:, :1] for x in HAND_REDUCED], HAND_LABELS, ["a", "b"])
    three = [np.random.default_rng(0).normal(size=(6, 3)) for _ in range(2)]
    with pytest.raises(ValueError, match=r"needs >= 3 texts .*'c': 2"):
        build_nrag_from_reduced(three, [0, 0, 0, 1, 1, 1][:4] + [2, 2], ["a", "b", "c"])


def _activations(n_texts=40, width=6, n_layers=3, n_labels=2, seed=0) -> Activations:
    rng = np.random.default_rng(seed)
    layers = [rng.normal(size=(n_texts, width)) for _ in range(n_layers)]
    return Activations(
        layers,
        np.arange(n_texts) % n_labels,
        [f"l{i}" for i in range(n_labels)],
        model={"name": "m"},
        corpus={"name": "c"},
        settings={"site": "hidden", "pooling": "mean", "max_length": 32, "dtype": "float32"},
    )


def test_build_nrag_records_settings_and_metadata():
    g = build_nrag(_activations(), PCA(2, random_state=0), gridsize=4)
    assert g.model == {"name": "m"} and g.corpus == {"name": "c"}
    s = g.settings
    assert (s["reducer"], s["n_components"], s["gridsize"], s["scale"], s["site"], s["pooling"]) == (
        "PCA",
        2,
        4,
        "standard",
        "hidden",
        "mean",
    )
    assert s["threshold"] is None and s["refit_per_label"] is False and s["random_state"] == 0


def test_build_nrag_fits_once_on_all_texts():
    acts = _activations()
    g = build_nrag(acts, PCA(3, random_state=0), threshold=-1.0)
    reduced = [PCA(3, random_state=0).fit_transform(x) for x in acts.layers]
    assert g.equals(build_nrag_from_reduced(reduced, acts.labels, acts.label_names, threshold=-1.0), atol=1e-12)


def test_build_nrag_refit_per_label_differs_and_checks_sizes():
    acts = _activations(n_texts=30, width=8)
    shared = build_nrag(acts, SVD(4, random_state=0), threshold=-1.0)
    refit = build_nrag(acts, SVD(4, random_state=0), threshold=-1.0, refit_per_label=True)
    assert refit.settings["refit_per_label"] is True
    assert refit.edge_source.shape == shared.edge_source.shape
    assert not np.allclose(refit.edge_weight, shared.edge_weight)
    mask = acts.labels == 1  # label l1 alone, refit on its own texts
    own = [SVD(4, random_state=0).fit_transform(x[mask]) for x in acts.layers]
    rho = spearmanr(own[0][:, 2], own[1][:, 3]).statistic
    row = (refit.edge_source == 2) & (refit.edge_target == 7) & (refit.edge_label == 1)
    assert_allclose(refit.edge_weight[row], [rho], rtol=1e-12)
    with pytest.raises(ValueError, match="n_components > 2 only"):
        build_nrag(acts, PCA(2), refit_per_label=True)
    with pytest.raises(ValueError, match=r"needs >= 20 texts to refit"):
        build_nrag(_activations(n_texts=30, width=30), PCA(20), refit_per_label=True)


def test_build_nrag_rejects_nonfinite_activations_naming_layer():
    acts = _activations()
    acts.layers[2][0, 0] = np.nan
    with pytest.raises(ValueError, match="layer 2 holds 1 NaN or inf"):
        build_nrag(acts, PCA(2))


@pytest.mark.parametrize(
    "reducer, kw, match",
    [
        (PCA(1), {}, "n_components must be >= 2 for an NRAG; got 1"),
        (PCA(7), {}, r"n_components \(7\) must be <= n_features \(6\)"),
        (PCA(2), {"gridsize": 0}, "gridsize must be an integer >= 1"),
        (PCA(3), {"threshold": -2}, r"threshold must be a number in \[-1, 1\]; got "),
    ],
)
def test_build_nrag_rejects_bad_reducer_settings(reducer, kw, match):
    with pytest.raises(ValueError, match=match):
        build_nrag(_activations(), reducer, **kw)


@pytest.mark.parametrize("kind", ["grid", "components"])
def test_nrag_csv_export_round_trip(tmp_path, kind):
    rng = np.random.default_rng(3)
    reduced = [rng.normal(size=(40, 2 if kind == "grid" else 4)) for _ in range(3)]
    labels = np.arange(40) % 3
    nrag = build_nrag_from_reduced(
        reduced,
        labels,
        ["a", "b c", "d"],
        gridsize=4,
        threshold=-1.0,
        model={"name": "m", "fingerprint": "f"},
        corpus={"name": "c", "n_texts": 40},
        settings={"site": "hidden", "random_state": 0},
    )
    nrag.to_csv(tmp_path / "run")
    back = NRAG.from_csv(tmp_path / "run")
    assert back.equals(nrag) and back.run_id == nrag.run_id
    assert back.model == nrag.model and back.corpus == nrag.corpus
    if kind == "grid":
        assert np.array_equal(back.layer_bounds, nrag.layer_bounds)


def test_nrag_from_csv_names_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing nrag.json, regions.csv, edges.csv"):
        NRAG.from_csv(tmp_path)
