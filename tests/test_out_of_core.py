"""Out-of-core reduction and grid NRAGs against the in-memory path."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.preprocessing import StandardScaler

from llm_mri_graphdb.extract import cache
from llm_mri_graphdb.extract.activations import Activations
from llm_mri_graphdb.nrag.model import build_nrag
from llm_mri_graphdb.nrag.out_of_core import build_grid_nrag
from llm_mri_graphdb.reduce.layers import (
    PCA,
    SVD,
    UMAP,
    fit_out_of_core,
    memory_budget_bytes,
    reduce_layers,
    transform_chunks,
)

SMALL = 60_000  # bytes: 3000 x 16 floats do not fit, chunks of 1024 rows


@pytest.fixture(scope="module")
def activations(tmp_path_factory):
    """4 layers x 3000 texts x 16 features with label structure, memory-mapped from a cache entry."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 3000)
    root = tmp_path_factory.mktemp("cache")
    with cache.CacheWriter(root, "k", n_layers=4, n_texts=3000, width=16) as writer:
        for i, layer in enumerate(writer.layers):
            layer[:] = rng.normal(size=(3000, 16)) * np.linspace(1, 3, 16) + labels[:, None] * (i + 1) * 0.3 + 5
        writer.commit({})
    layers, _ = cache.load_entry(root, "k")
    return Activations(layers, labels, ("a", "b", "c"), settings={"site": "hidden"})


def test_memory_budget_bytes_reads_sizes():
    assert memory_budget_bytes("4GiB") == 4 << 30
    assert memory_budget_bytes("512MB") == 512_000_000
    assert memory_budget_bytes(" 1.5 kib ") == 1536
    assert memory_budget_bytes(1000) == 1000
    assert 0 < memory_budget_bytes(None) < 1 << 50
    with pytest.raises(ValueError, match="memory_budget must be a positive number of bytes or a size like '4GiB'"):
        memory_budget_bytes("4 parsecs")
    with pytest.raises(ValueError, match="got 0"):
        memory_budget_bytes(0)


@pytest.mark.parametrize("scale", ["standard", "minmax", None])
def test_fit_out_of_core_pca_equals_in_memory(activations, scale):
    layer = activations.layers[1]
    full = PCA(3, scale=scale).fit(np.asarray(layer))
    chunked = fit_out_of_core(PCA(3, scale=scale), layer, memory_budget=SMALL)
    assert_allclose(chunked.components_, full.components_, atol=1e-6)  # same signs, too
    assert_allclose(chunked.explained_variance_ratio_, full.explained_variance_ratio_, atol=1e-9)
    coords = np.concatenate(list(transform_chunks(chunked, layer, memory_budget=SMALL)))
    assert_allclose(coords, full.transform(np.asarray(layer)), atol=1e-6)


def test_fit_out_of_core_svd_equals_exact_svd(activations):
    layer = activations.layers[2]
    Xs = StandardScaler().fit_transform(np.asarray(layer, dtype=np.float64))
    _, s, vt = np.linalg.svd(Xs, full_matrices=False)
    chunked = fit_out_of_core(SVD(2), layer, memory_budget=SMALL)
    signs = np.sign(np.sum(chunked.components_ * vt[:2], axis=1))
    assert_allclose(chunked.components_, vt[:2] * signs[:, None], atol=1e-8)
    proj = Xs @ vt[:2].T
    assert_allclose(chunked.explained_variance_ratio_, proj.var(axis=0) / Xs.var(axis=0).sum(), atol=1e-10)


@pytest.mark.slow  # numba compiles UMAP on first use: 17 s on a quiet 2-core machine, 48 s on a loaded one
def test_fit_out_of_core_umap_fits_a_sample_and_embeds_every_row(activations):
    pytest.importorskip("umap")
    layer = activations.layers[3]
    est = fit_out_of_core(UMAP(2, n_neighbors=10, random_state=0), layer, memory_budget=400_000)
    assert est.embedding_.shape == (390, 2)  # the rows that fit: 400000 // (64 * 16)
    assert_allclose(est.scaler_.data_max_, np.asarray(layer).max(axis=0))  # scaled on every row
    coords = np.concatenate(list(transform_chunks(est, layer, memory_budget=400_000)))
    assert coords.shape == (3000, 2) and np.isfinite(coords).all()


def test_reduce_layers_over_budget_matches_in_memory(activations):
    small = reduce_layers(activations, PCA(2), memory_budget=SMALL)
    large = reduce_layers(activations, PCA(2), memory_budget="1GiB")
    for a, b in zip(small, large):
        assert_allclose(a, b, atol=1e-6)


def test_reduce_layers_over_budget_names_a_non_finite_layer(activations):
    layers = [np.array(x) for x in activations.layers]
    layers[2][2500, 3] = np.nan
    bad = Activations(layers, activations.labels, activations.label_names)
    with pytest.raises(ValueError, match=r"layer 2 holds 1 NaN or inf values \(rows 2048..2999\)"):
        reduce_layers(bad, PCA(2), memory_budget=SMALL)


@pytest.mark.parametrize("binning", ["width", "quantile"])
@pytest.mark.parametrize("budget", [SMALL, "1GiB"])
def test_build_grid_nrag_equals_build_nrag(activations, binning, budget):
    reference = build_nrag(activations, PCA(2, random_state=0), gridsize=7, binning=binning)
    streamed = build_grid_nrag(activations, PCA(2, random_state=0), gridsize=7, binning=binning, memory_budget=budget)
    assert streamed.equals(reference)  # regions, cells, counts and edges identical
    assert streamed.run_id == reference.run_id and streamed.settings == reference.settings
    assert_allclose(streamed.layer_bounds, reference.layer_bounds, atol=1e-9)


def test_build_grid_nrag_counts_by_hand():
    # two layers, 4 texts; layer 0 puts texts in the corners, layer 1 swaps them
    l0 = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    acts = Activations([l0, l0[::-1].copy()], [0, 0, 1, 1], ("a", "b"))
    g = build_grid_nrag(acts, PCA(2, scale=None), gridsize=2, memory_budget=SMALL)
    reference = build_nrag(acts, PCA(2, scale=None), gridsize=2)
    assert g.equals(reference)
    assert_array_equal(g.region_counts.sum(axis=1), [1] * 8)
    assert g.edge_weight.tolist() == [1.0] * 4


def test_build_grid_nrag_refuses_components():
    acts = Activations([np.zeros((4, 3))], [0, 0, 1, 1], ("a", "b"))
    with pytest.raises(ValueError, match="needs a reducer with n_components=2; got 3"):
        build_grid_nrag(acts, PCA(3))
