"""Reducers: scikit-learn contract, scaling, deterministic signs, determinism, errors."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.utils.estimator_checks import estimator_checks_generator

from llm_mri_graphdb.dimensionality_reduction import PCA as CompatPCA
from llm_mri_graphdb.dimensionality_reduction import SVD as CompatSVD
from llm_mri_graphdb.dimensionality_reduction import UMAP as CompatUMAP
from llm_mri_graphdb.extract.activations import Activations
from llm_mri_graphdb.nrag.model import build_nrag
from llm_mri_graphdb.reduce.layers import PCA, SVD, UMAP, reduce_layers


@pytest.fixture(scope="module")
def X():
    rng = np.random.default_rng(0)
    return rng.normal(size=(50, 8)) * np.arange(1, 9) + np.arange(8)


def _sklearn_checks():
    """scikit-learn's estimator contract, minus the array-API checks (they need SCIPY_ARRAY_API=1)."""
    for est in (PCA(random_state=0), SVD(random_state=0), PCA(scale=None), SVD(scale="minmax")):
        for estimator, check in estimator_checks_generator(est):
            name = getattr(check, "func", check).__name__
            if "array_api" not in name:
                yield pytest.param(estimator, check, id=f"{estimator!r}-{name}")


@pytest.mark.parametrize("estimator, check", list(_sklearn_checks()))
def test_reducer_sklearn_contract(estimator, check):
    check(estimator)


def test_pca_standardises_and_matches_numpy_svd(X):
    Z = StandardScaler().fit_transform(X)
    Zc = Z - Z.mean(axis=0)
    _, s, vt = np.linalg.svd(Zc, full_matrices=False)
    got = PCA(2, svd_solver="full").fit(X)
    assert_allclose(np.abs(got.components_), np.abs(vt[:2]), atol=1e-10)
    assert_allclose(got.transform(X), got.fit_transform(X), atol=1e-12)
    assert_allclose(np.linalg.norm(got.transform(X), axis=0), s[:2], rtol=1e-10)


def test_svd_scale_none_is_uncentred(X):
    _, s, _ = np.linalg.svd(X, full_matrices=False)
    coords = SVD(3, scale=None, n_iter=20, random_state=0).fit_transform(X)
    assert_allclose(np.linalg.norm(coords, axis=0), s[:3], rtol=1e-6)


@pytest.mark.parametrize("Reducer", [PCA, SVD])
def test_reducer_signs_fixed_largest_loading_positive(Reducer, X):
    r = Reducer(3, random_state=0).fit(X)
    rows = np.arange(3)
    assert np.all(r.components_[rows, np.argmax(np.abs(r.components_), axis=1)] > 0)
    flipped = Reducer(3, random_state=0).fit(X[::-1])  # same data, other order: same plane
    assert_allclose(flipped.components_, r.components_, atol=1e-8)


@pytest.mark.parametrize("Reducer", [PCA, SVD, pytest.param(UMAP, marks=pytest.mark.slow)])
def test_reducer_deterministic_nrag(Reducer):
    rng = np.random.default_rng(1)
    acts = Activations([rng.normal(size=(40, 6)) for _ in range(3)], np.arange(40) % 2, ["a", "b"])
    kw = {"n_neighbors": 5} if Reducer is UMAP else {}
    g1 = build_nrag(acts, Reducer(2, random_state=7, **kw), gridsize=5)
    g2 = build_nrag(acts, Reducer(2, random_state=7, **kw), gridsize=5)
    assert g1.equals(g2) and g1.run_id == g2.run_id
    assert_array_equal(g1.layer_bounds, g2.layer_bounds)


@pytest.mark.slow  # numba compiles UMAP: about 15 s on first use
def test_umap_minmax_scales_and_reuses_embedding():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 5)) * 100
    u = UMAP(2, n_neighbors=5, random_state=0).fit(X)
    assert isinstance(u.scaler_, MinMaxScaler) and u.embedding_.shape == (30, 2)
    assert_allclose(UMAP(2, n_neighbors=5, random_state=0).fit_transform(X), u.embedding_)
    assert u.transform(X[:3]).shape == (3, 2)


@pytest.mark.parametrize("Reducer", [PCA, SVD])
def test_reducer_rejects_too_many_components(Reducer, X):
    with pytest.raises(ValueError, match=r"n_components \(9\) must be <= n_features \(8\)"):
        Reducer(9).fit(X)
    with pytest.raises(ValueError, match=r"n_components \(6\) must be <= n_samples \(5\)"):
        Reducer(6).fit(X[:5])
    with pytest.raises(ValueError, match="'n_components' parameter of"):
        Reducer(0).fit(X)


def test_reduce_layers_one_fit_per_layer_and_names_bad_layer():
    rng = np.random.default_rng(3)
    layers = [rng.normal(size=(20, 4)) for _ in range(3)]
    acts = Activations(layers, np.zeros(20, int), ["a"])
    reduced = reduce_layers(acts, PCA(2, random_state=0))
    for x, r in zip(layers, reduced):
        assert_allclose(r, PCA(2, random_state=0).fit_transform(x))
    with pytest.raises(ValueError, match=r"n_components \(5\) must be <= n_features \(4\). \(at layer 0\)"):
        reduce_layers(acts, PCA(5))
    layers[1][3, 2] = np.inf
    with pytest.raises(ValueError, match="layer 1 holds 1 NaN or inf"):
        reduce_layers(acts, PCA(2))


@pytest.mark.parametrize(
    "Compat, Reducer, scale", [(CompatPCA, PCA, "standard"), (CompatSVD, SVD, "standard"), (CompatUMAP, UMAP, "minmax")]
)
def test_compat_constructors_carry_gridsize_and_hand_reducers(Compat, Reducer, scale):
    c = Compat(5, gridsize=20, random_state=3)
    assert (c.n_components, c.gridsize, c.random_state) == (5, 20, 3)
    r = c.to_reducer()
    assert type(r) is Reducer and (r.n_components, r.random_state, r.scale) == (5, 3, scale)


def test_compat_constructors_keep_llm_mri_positional_order():
    assert CompatPCA(2, 15).gridsize == 15  # llm_mri: PCA(n_components, gridsize, random_state)
    assert CompatSVD(2, 4).random_state == 4  # llm_mri: SVD(n_components, random_state, gridsize)
    assert CompatUMAP(2, 15, 1, "euclidean").to_reducer().metric == "euclidean"


def test_pca_constant_layer_maps_every_text_to_the_origin_without_warning():
    """The embedding layer under first-token pooling is the same vector for every text."""
    import warnings

    X = np.tile(np.arange(6.0), (10, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Y = PCA(2).fit_transform(X)
    assert_array_equal(Y, np.zeros((10, 2)))
