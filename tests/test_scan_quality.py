"""Degenerate layers, metrics that are constants or identities, and what the grid keeps."""

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from llm_mri_graphdb.analysis.metrics import compute_metrics
from llm_mri_graphdb.analysis.quality import (
    DERIVED_METRICS,
    DegenerateLayerWarning,
    constant_metrics,
    default_metrics,
    degenerate_layers,
    explained_variance,
    grid_retention,
    quality_record,
    without_layers,
)
from llm_mri_graphdb.nrag.model import NRAG, build_nrag_from_reduced
from llm_mri_graphdb.store import MemoryStore
from tests.tiny_models import LABELS, TEXTS, save_tiny_model

pytestmark = pytest.mark.unit


def _random_grid(seed, n_texts=60, n_layers=5, n_labels=3, gridsize=6):
    rng = np.random.default_rng(seed)
    reduced = [rng.normal(size=(n_texts, 2)) * rng.uniform(0.5, 3) for _ in range(n_layers)]
    labels = rng.integers(0, n_labels, n_texts)
    return build_nrag_from_reduced(reduced, labels, [f"l{i}" for i in range(n_labels)], gridsize=gridsize), reduced


@pytest.mark.parametrize("seed", range(6))
def test_claimed_grid_constants_hold_on_random_grids(seed):
    nrag, _ = _random_grid(seed, n_layers=3 + seed % 4, gridsize=4 + seed)
    for labels in [None, *([name] for name in nrag.label_names)]:
        m = compute_metrics(nrag, labels)
        n_texts = sum(nrag.region_counts[:, nrag.label_names.index(n)].sum() for n in m["label_names"]) / nrag.n_layers
        assert m["center_of_strength"] == pytest.approx(-0.5, abs=1e-12)
        assert math.isnan(m["center_of_strength_llm_mri"])
        assert m["projection_even_average_clustering"] == 0.0
        assert m["projection_odd_average_clustering"] == 0.0
        # derived: identities in counts
        assert m["mean_strength"] == pytest.approx(2 * n_texts * (nrag.n_layers - 1) / m["n_regions"], rel=1e-12)
        assert m["mean_degree"] == pytest.approx(2 * m["n_edges"] / m["n_regions"], rel=1e-12)
        assert m["density"] == pytest.approx(m["n_edges"] / (m["n_regions"] * (m["n_regions"] - 1)), rel=1e-12)
        if labels is not None:
            assert m["purity"] == 1.0 and m["purity_by_layer"] == [1.0] * nrag.n_layers


def test_projection_clustering_is_zero_on_component_nrags_too():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(40, 4))
    reduced = [base + 0.3 * rng.normal(size=base.shape) for _ in range(5)]  # correlated: many edges
    nrag = build_nrag_from_reduced(reduced, rng.integers(0, 2, 40), ["a", "b"], threshold=0.1)
    m = compute_metrics(nrag)
    assert m["n_edges"] > 10
    assert m["projection_even_average_clustering"] == m["projection_odd_average_clustering"] == 0.0
    assert math.isnan(m["center_of_strength_llm_mri"])
    assert not math.isnan(m["center_of_strength"]) and m["center_of_strength"] != -0.5  # informative there


def test_default_metrics_leaves_out_exactly_the_constants():
    nrag, _ = _random_grid(1)
    full, one = compute_metrics(nrag), compute_metrics(nrag, ["l0"])
    shown, shown_one = default_metrics(full, "grid"), default_metrics(one, "grid")
    assert set(full) - set(shown) == {
        "center_of_strength",
        "center_of_strength_llm_mri",
        "projection_even_average_clustering",
        "projection_odd_average_clustering",
    }
    assert set(one) - set(shown_one) == set(full) - set(shown) | {"purity", "purity_by_layer"}
    assert "center_of_strength" in default_metrics(full, "components")
    assert set(constant_metrics("grid", 1)) >= set(constant_metrics("grid", 2))
    assert set(DERIVED_METRICS) <= set(shown)


def test_degenerate_layers_finds_constant_activations_coordinates_and_one_cell():
    rng = np.random.default_rng(0)
    spread = rng.normal(size=(10, 3))
    flat = np.ones((10, 3)) * 2.5
    assert degenerate_layers(activations=[flat, spread]) == {0: "constant pooled activations"}
    # a tiny but non-zero spread (layer 2) still spans the grid: not degenerate
    reduced = [np.zeros((10, 2)), rng.normal(size=(10, 2)), rng.normal(size=(10, 2)) * 1e-3]
    nrag = build_nrag_from_reduced(reduced, rng.integers(0, 2, 10), ["a", "b"], gridsize=4)
    assert nrag.degenerate_layers == (0,)
    assert degenerate_layers(nrag, reduced=reduced) == {0: "constant reduced coordinates"}
    # quantile bins of a layer where 9 of 10 texts coincide collapse to one cell without the texts being equal
    tail = np.column_stack([np.r_[np.zeros(9), 1.0], np.r_[np.zeros(9), 1.0]])
    g = build_nrag_from_reduced(
        [rng.normal(size=(10, 2)), tail], np.zeros(10, int), ["a"], gridsize=3, binning="quantile"
    )
    assert g.degenerate_layers == (1,)
    assert degenerate_layers(g, reduced=[rng.normal(size=(10, 2)), tail]) == {1: "one grid cell"}


def test_degenerate_layers_survive_select_csv_and_memory_store(tmp_path):
    rng = np.random.default_rng(2)
    reduced = [np.zeros((12, 2)), rng.normal(size=(12, 2)), rng.normal(size=(12, 2))]
    nrag = build_nrag_from_reduced(reduced, np.arange(12) % 2, ["a", "b"], gridsize=3)
    assert nrag.degenerate_layers == (0,)
    assert nrag.select_labels(["b"]).degenerate_layers == (0,)
    nrag.to_csv(tmp_path / "csv")
    assert NRAG.from_csv(tmp_path / "csv").degenerate_layers == (0,)
    store = MemoryStore(tmp_path / "store")
    run_id = store.write(nrag)
    assert MemoryStore(tmp_path / "store").read(run_id).degenerate_layers == (0,)  # a new process reads it back
    with pytest.raises(ValueError, match=r"degenerate_layers must be layer indices in 0..2; got \(5,\)"):
        NRAG(
            **{
                **{
                    f: getattr(nrag, f)
                    for f in (
                        "kind",
                        "n_layers",
                        "label_names",
                        "region_layer",
                        "region_x",
                        "region_y",
                        "region_counts",
                        "edge_source",
                        "edge_target",
                        "edge_label",
                        "edge_weight",
                    )
                },
                "degenerate_layers": (5,),
            }
        )


def test_without_layers_equals_the_nrag_built_without_them():
    nrag, reduced = _random_grid(3, n_layers=5)
    labels, names = nrag.text_labels, nrag.label_names
    for drop in ([0], [2], [0, 4]):
        kept = [z for i, z in enumerate(reduced) if i not in drop]
        expected = build_nrag_from_reduced(kept, labels, names, gridsize=6)
        got = without_layers(nrag, drop)
        assert got.n_layers == 5 - len(drop)
        if drop == [2]:  # the chain 1 -> 2 -> 3 breaks: no edge joins the new layers 1 and 2
            assert not np.any(got.region_layer[got.edge_source] == 1)
            continue
        assert got.equals(expected)


def test_explained_variance_equals_pca_ratio_sum():
    from llm_mri_graphdb.reduce import PCA

    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 8)) @ rng.normal(size=(8, 8))
    pca = PCA(2, random_state=0)
    z = pca.fit_transform(x)
    assert explained_variance(x, z, "standard") == pytest.approx(pca.explained_variance_ratio_.sum(), rel=1e-10)
    assert math.isnan(explained_variance(np.ones((5, 3)), np.zeros((5, 2))))


def test_grid_retention_by_hand():
    # layer 0: labels split by cell (AMI 1); layer 1: every text in its own cell -> each label's regions singletons
    layer0 = np.array([[0.0, 0.0], [0.0, 0.0], [9.0, 9.0], [9.0, 9.0]])
    layer1 = np.array([[0.0, 0.0], [3.0, 0.0], [6.0, 0.0], [9.0, 0.0]])
    nrag = build_nrag_from_reduced([layer0, layer1], [0, 0, 1, 1], ["a", "b"], gridsize=4)
    kept = grid_retention(nrag, explained=[0.5, None])
    assert kept["explained_variance_by_layer"] == [0.5, None]
    # label a occupies region 0_0_0 (2 texts) and two single cells at layer 1: 2 of 3 regions are singletons
    assert kept["singleton_share_by_label"] == {"a": pytest.approx(2 / 3), "b": pytest.approx(2 / 3)}
    assert kept["ami_by_layer"][0] == pytest.approx(1.0)
    assert kept["ami_by_layer"][1] == pytest.approx(0.0, abs=1e-12)  # 4 singleton clusters carry no label information


def test_report_leads_with_metrics_without_degenerate_layers():
    from llm_mri_graphdb.report.scan import build_report

    rng = np.random.default_rng(4)
    reduced = [np.zeros((30, 2)), *(rng.normal(size=(30, 2)) for _ in range(3))]
    nrag = build_nrag_from_reduced(
        reduced, np.arange(30) % 3, ["x", "y", "z"], gridsize=5, settings={"pooling": "first"}
    )
    metrics = {"all": default_metrics(compute_metrics(nrag), "grid")}
    quality = quality_record(nrag)
    assert [d["layer"] for d in quality["degenerate_layers"]] == [0]
    without = quality["metrics_without_degenerate_layers"]["all"]
    assert without["n_regions"] == metrics["all"]["n_regions"] - 1
    assert without["mean_degree"] == pytest.approx(compute_metrics(without_layers(nrag, [0]))["mean_degree"])
    page = build_report(nrag, metrics, quality=quality)
    assert ">Scan quality</h2>" in page and "Degenerate layers</b>: layer 0" in page
    assert page.index("Without the degenerate layers (0)") < page.index("With every layer")
    assert "mean_degree †" in page and "center_of_strength" not in page.split("Left out")[0].split("Metrics</h2>")[1]


def test_scan_warns_once_and_writes_scan_quality(tmp_path):
    from llm_mri_graphdb.pipeline import scan

    folder = tmp_path / "m"
    save_tiny_model("bert", folder)
    corpus = tmp_path / "corpus.csv"
    pd.DataFrame({"text": TEXTS, "label": LABELS}).to_csv(corpus, index=False)
    common = dict(device="cpu", store=MemoryStore(), out=tmp_path / "out", probe=False, progress=False, gridsize=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = scan(str(folder), corpus, pooling="first", **common)  # [CLS] at the embedding layer: constant
    degenerate = [w for w in caught if issubclass(w.category, DegenerateLayerWarning)]
    assert len(degenerate) == 1 and "degenerate layers 0 (constant pooled activations)" in str(degenerate[0].message)
    assert first.nrag.degenerate_layers == (0,)
    written = json.loads((first.out_dir / "metrics.json").read_text())
    assert written["scan_quality"]["degenerate_layers"] == [{"layer": 0, "reason": "constant pooled activations"}]
    assert written["scan_quality"]["pooling"] == "first"
    assert "center_of_strength" not in written["all"] and "center_of_strength" not in written["pos"]
    assert len(written["scan_quality"]["grid"]["explained_variance_by_layer"]) == 3
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        auto = scan(str(folder), corpus, **common)
    assert not [w for w in caught if issubclass(w.category, DegenerateLayerWarning)]
    assert auto.nrag.degenerate_layers == () and auto.nrag.settings["pooling"] == "mean"
    page = auto.report.read_text()
    assert "<b>Pooling</b>: mean: the mean of all real tokens" in page and "Degenerate layers</b>: none" in page
    assert_allclose(
        json.loads((auto.out_dir / "metrics.json").read_text())["scan_quality"]["grid"]["ami_by_layer"],
        grid_retention(auto.nrag)["ami_by_layer"],
    )
