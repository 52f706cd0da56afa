"""Per-layer dimensionality reducers: PCA, truncated SVD and UMAP.

Each reducer is a scikit-learn estimator fitted ONCE PER LAYER ON ALL TEXTS,
so a component (or a plane) means the same thing for every label; ``llm_mri``
refitted per label, which made two labels' components incomparable.

Scaling follows ``llm_mri``'s 2-D path as the documented default: PCA and SVD
standardise each feature (``scale="standard"``), UMAP min-max scales
(``scale="minmax"``); ``scale=None`` feeds raw activations. Signs of PCA and
SVD components are fixed (the largest-magnitude loading of every component is
positive, as ``svd_flip(u_based_decision=False)``), so the same data always
gives the same plane.

Out of core: a layer whose float64 working set (three copies of
``n_texts x width``) exceeds ``memory_budget`` is never loaded whole. The
scaler is fitted with ``partial_fit`` over chunks read from the cache; PCA and
SVD then accumulate the shifted sum and Gram matrix of the scaled chunks
(``width x width``, float64) and take its eigenvectors, which is the exact
covariance solver of scikit-learn's PCA run chunk by chunk (components equal
the in-memory fit's up to rounding, with the same signs); when even the Gram
matrix does not fit, PCA falls back to ``IncrementalPCA`` (approximate: it
keeps ``n_components`` directions between chunks). SVD is exact here, where the
in-memory fit is randomised (``n_iter`` power iterations): they agree when the
spectrum has a gap after ``n_components``. UMAP fits on a
random sample of rows that fits and embeds the rest chunk by chunk with
``transform``. Coordinates are then computed chunk by chunk.

Above 400 lines: the reducers and their out-of-core fit share the scaling and sign rules; the reducers can
move to their own module once the other branches have merged the layout move (a split now would hide the
rename from git).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context, clone
from sklearn.decomposition import PCA as _SkPCA
from sklearn.decomposition import TruncatedSVD as _SkSVD
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from llm_mri_graphdb.extract.activations import Activations
from llm_mri_graphdb.extract.cache import read_rows

__all__ = [
    "PCA",
    "SVD",
    "UMAP",
    "reduce_layers",
    "memory_budget_bytes",
    "fits_in_memory",
    "fit_out_of_core",
    "transform_chunks",
]

_SCALE = [StrOptions({"standard", "minmax"}), None]


def _flip_signs(components: np.ndarray) -> np.ndarray:
    """Make the largest-magnitude loading of every component positive."""
    rows = np.arange(components.shape[0])
    signs = np.sign(components[rows, np.argmax(np.abs(components), axis=1)])
    signs[signs == 0] = 1.0
    return components * signs[:, None]


class _Reducer(TransformerMixin, BaseEstimator):
    """Shared fit/transform skeleton: validate, scale, fit the inner model."""

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "scale": _SCALE,
        "random_state": ["random_state"],
    }

    def _scaler(self):
        return {"standard": StandardScaler, "minmax": MinMaxScaler, None: None}[self.scale]

    def _check_size(self, n_samples: int, n_features: int) -> None:
        if self.n_components > n_features:
            raise ValueError(f"n_components ({self.n_components}) must be <= n_features ({n_features}).")
        if self.n_components > n_samples:
            raise ValueError(
                f"n_components ({self.n_components}) must be <= n_samples ({n_samples}): "
                "each component needs at least one text."
            )

    def _prepare(self, X, *, reset: bool) -> np.ndarray:
        X = validate_data(self, X, reset=reset, dtype=np.float64, ensure_min_samples=2 if reset else 1)
        if reset:
            self._check_size(*X.shape)
            scaler = self._scaler()
            self.scaler_ = None if scaler is None else scaler().fit(X)
        return X if self.scaler_ is None else self.scaler_.transform(X)

    def fit(self, X, y=None):
        """Fit the reducer on ``X`` of shape (n_texts, width); returns ``self``."""
        self.fit_transform(X)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags


class PCA(_Reducer):
    """Principal component analysis of one layer, with deterministic signs.

    Parameters
    ----------
    n_components : int, default=2
        Number of components; 2 gives a grid NRAG, more a component NRAG.
    scale : {"standard", "minmax"} or None, default="standard"
        Feature scaling before the fit (``llm_mri`` standardises for PCA).
    svd_solver : {"auto", "full", "randomized", "covariance_eigh"}, default="auto"
    random_state : int, RandomState instance or None, default=None
        Used by the randomized solver.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
    mean_ : ndarray of shape (n_features,)
        Mean of the scaled features.
    explained_variance_ratio_ : ndarray of shape (n_components,)
    scaler_ : StandardScaler, MinMaxScaler or None

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(20, 5))
    >>> PCA(2, random_state=0).fit_transform(X).shape
    (20, 2)
    """

    _parameter_constraints: dict = {
        **_Reducer._parameter_constraints,
        "svd_solver": [StrOptions({"auto", "full", "randomized", "covariance_eigh"})],
    }

    def __init__(self, n_components=2, *, scale="standard", svd_solver="auto", random_state=None):
        self.n_components = n_components
        self.scale = scale
        self.svd_solver = svd_solver
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Fit on ``X`` and return its coordinates, ndarray of shape (n_texts, n_components)."""
        Xs = self._prepare(X, reset=True)
        # A constant layer (the embedding layer under first-token pooling: [CLS] has seen no
        # text yet) has no variance; every text maps to 0 and the variance ratio is undefined.
        with np.errstate(invalid="ignore", divide="ignore"):
            model = _SkPCA(self.n_components, svd_solver=self.svd_solver, random_state=self.random_state).fit(Xs)
        self.mean_ = model.mean_
        self.components_ = _flip_signs(model.components_)
        self.explained_variance_ratio_ = model.explained_variance_ratio_
        return (Xs - self.mean_) @ self.components_.T

    def transform(self, X):
        """Project ``X`` of shape (n_texts, n_features) onto the fitted components."""
        check_is_fitted(self)
        return (self._prepare(X, reset=False) - self.mean_) @ self.components_.T


class SVD(_Reducer):
    """Truncated SVD (no centering) of one layer, with deterministic signs.

    With the default ``scale="standard"`` the features are centred by the
    scaler, so this equals PCA up to sign, as in ``llm_mri``'s 2-D path;
    ``scale=None`` gives the uncentred SVD of ``llm_mri``'s N-D path.

    Parameters
    ----------
    n_components : int, default=2
    scale : {"standard", "minmax"} or None, default="standard"
    n_iter : int, default=5
        Power iterations of the randomized solver.
    random_state : int, RandomState instance or None, default=None

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
    explained_variance_ratio_ : ndarray of shape (n_components,)
    scaler_ : StandardScaler, MinMaxScaler or None

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(20, 5))
    >>> SVD(3, random_state=0).fit_transform(X).shape
    (20, 3)
    """

    _parameter_constraints: dict = {
        **_Reducer._parameter_constraints,
        "n_iter": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, n_components=2, *, scale="standard", n_iter=5, random_state=None):
        self.n_components = n_components
        self.scale = scale
        self.n_iter = n_iter
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Fit on ``X`` and return its coordinates, ndarray of shape (n_texts, n_components)."""
        Xs = self._prepare(X, reset=True)
        model = _SkSVD(
            self.n_components, algorithm="randomized", n_iter=self.n_iter, random_state=self.random_state
        ).fit(Xs)
        self.components_ = _flip_signs(model.components_)
        self.explained_variance_ratio_ = model.explained_variance_ratio_
        return Xs @ self.components_.T

    def transform(self, X):
        """Project ``X`` of shape (n_texts, n_features) onto the fitted components."""
        check_is_fitted(self)
        return self._prepare(X, reset=False) @ self.components_.T


class UMAP(_Reducer):
    """UMAP embedding of one layer (needs the optional ``umap-learn`` package).

    Parameters
    ----------
    n_components : int, default=2
    scale : {"standard", "minmax"} or None, default="minmax"
        ``llm_mri`` min-max scales before UMAP.
    metric : str, default="cosine"
        ``llm_mri``'s choice.
    n_neighbors : int, default=15
    min_dist : float, default=0.1
    random_state : int, RandomState instance or None, default=None
        A seed makes UMAP single-threaded and reproducible.

    Attributes
    ----------
    embedding_ : ndarray of shape (n_texts, n_components)
        Coordinates of the training texts (what ``fit_transform`` returns).
    umap_ : umap.UMAP
    scaler_ : StandardScaler, MinMaxScaler or None
    """

    _parameter_constraints: dict = {
        **_Reducer._parameter_constraints,
        "metric": [str],
        "n_neighbors": [Interval(Integral, 2, None, closed="left")],
        "min_dist": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self, n_components=2, *, scale="minmax", metric="cosine", n_neighbors=15, min_dist=0.1, random_state=None
    ):
        self.n_components = n_components
        self.scale = scale
        self.metric = metric
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Fit on ``X`` and return its embedding, ndarray of shape (n_texts, n_components)."""
        try:
            import umap
        except ImportError as exc:  # optional extra
            raise ImportError(
                "UMAP needs the optional package umap-learn; install it with pip install 'llm-mri-graphdb[umap]'."
            ) from exc
        Xs = self._prepare(X, reset=True)
        self.umap_ = umap.UMAP(
            n_components=self.n_components,
            metric=self.metric,
            n_neighbors=min(self.n_neighbors, Xs.shape[0] - 1),
            min_dist=self.min_dist,
            random_state=self.random_state,
            n_jobs=1 if self.random_state is not None else -1,
        )
        self.embedding_ = np.asarray(self.umap_.fit_transform(Xs), dtype=np.float64)
        return self.embedding_

    def transform(self, X):
        """Embed new texts with the fitted UMAP (approximate, as in umap-learn)."""
        check_is_fitted(self)
        return np.asarray(self.umap_.transform(self._prepare(X, reset=False)), dtype=np.float64)


_UNITS = {
    "": 1,
    "b": 1,
    "k": 1e3,
    "kb": 1e3,
    "m": 1e6,
    "mb": 1e6,
    "g": 1e9,
    "gb": 1e9,
    "t": 1e12,
    "tb": 1e12,
    "kib": 1 << 10,
    "mib": 1 << 20,
    "gib": 1 << 30,
    "tib": 1 << 40,
}
DEFAULT_BUDGET_FRACTION = 0.25  # of physical memory, when no budget is given


def memory_budget_bytes(budget: int | str | None = None) -> int:
    """Bytes of a budget given as an int, a string such as ``"4GiB"``/``"512MB"``, or None (a quarter of RAM)."""
    if budget is None:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * DEFAULT_BUDGET_FRACTION)
    if isinstance(budget, (int, np.integer)) and not isinstance(budget, bool) and budget > 0:
        return int(budget)
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", budget) if isinstance(budget, str) else None
    if match is None or match.group(2).lower() not in _UNITS or float(match.group(1)) <= 0:
        raise ValueError(
            f"memory_budget must be a positive number of bytes or a size like '4GiB' or '512MB'; got {budget!r}."
        )
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def fits_in_memory(layer: np.ndarray, budget: int) -> bool:
    """True when the in-memory fit of ``layer`` (three float64 copies) stays within ``budget`` bytes."""
    return 3 * 8 * layer.shape[0] * layer.shape[1] <= budget


def _chunk_rows(width: int, budget: int) -> int:
    return int(max(1024, budget // (8 * 8 * max(width, 1))))  # a chunk and its copies: ~1/8 of the budget


def _chunks(layer: np.ndarray, chunk_rows: int, layer_index: int = 0) -> Iterator[np.ndarray]:
    for start in range(0, layer.shape[0], chunk_rows):
        X = read_rows(layer, start, start + chunk_rows).astype(np.float64, copy=False)
        if not np.isfinite(X).all():
            bad = int(X.size - np.count_nonzero(np.isfinite(X)))
            raise ValueError(
                f"activations must be finite; layer {layer_index} holds {bad} NaN or inf values "
                f"(rows {start}..{start + len(X) - 1}). Check the extraction dtype or the model."
            )
        yield X


def _gram(est, layer, chunk_rows, layer_index):
    """Shifted sum and Gram matrix of the scaled layer: ``n, shift, sum(X - shift), (X - shift)^T (X - shift)``."""
    n, shift, total, gram = 0, None, None, None
    for X in _chunks(layer, chunk_rows, layer_index):
        Xs = X if est.scaler_ is None else est.scaler_.transform(X)
        if shift is None:
            shift = Xs.mean(axis=0)
            total, gram = np.zeros_like(shift), np.zeros((Xs.shape[1], Xs.shape[1]))
        Xc = Xs - shift
        n, total, gram = n + len(Xs), total + Xc.sum(axis=0), gram + Xc.T @ Xc
    return n, shift, total, gram


def fit_out_of_core(reducer, layer: np.ndarray, *, memory_budget: int | str | None = None, layer_index: int = 0):
    """Fit a fresh clone of ``reducer`` on ``layer`` chunk by chunk; returns the fitted clone.

    ``layer`` is typically a memory-mapped cache layer. The clone has the
    attributes of an in-memory fit (``scaler_``, ``components_``, ``mean_``,
    ``explained_variance_ratio_`` or ``umap_``) and transforms as usual.
    """
    if not isinstance(reducer, _Reducer):
        raise TypeError(
            f"fitting out of core needs a PCA, SVD or UMAP reducer of this package; "
            f"got {type(reducer).__name__}. Raise memory_budget to fit it in memory."
        )
    budget = memory_budget_bytes(memory_budget)
    est = clone(reducer)
    est._validate_params()
    n, width = layer.shape
    est._check_size(n, width)
    chunk_rows = _chunk_rows(width, budget)
    est.n_features_in_ = width
    scaler = est._scaler()
    est.scaler_ = None
    if scaler is not None:
        est.scaler_ = scaler()
        for X in _chunks(layer, chunk_rows, layer_index):
            est.scaler_.partial_fit(X)
    if isinstance(est, UMAP):
        return _fit_umap_sample(est, layer, chunk_rows, budget)
    if isinstance(est, PCA) and 8 * width * width * 4 > budget:
        return _fit_incremental_pca(est, layer, chunk_rows, layer_index)
    n, shift, total, gram = _gram(est, layer, chunk_rows, layer_index)
    mean_c = total / n
    cov = (gram - n * np.outer(mean_c, mean_c)) / n  # biased; ratios do not depend on the divisor
    if isinstance(est, PCA):
        values, vectors = np.linalg.eigh(cov)
        order = np.argsort(values)[::-1]
        values, vectors = np.clip(values[order], 0, None), vectors[:, order]
        est.mean_ = shift + mean_c
        est.components_ = _flip_signs(vectors[:, : est.n_components].T)
        with np.errstate(invalid="ignore", divide="ignore"):
            est.explained_variance_ratio_ = values[: est.n_components] / values.sum()
        return est
    # SVD: right singular vectors of the (uncentred) scaled data are the eigenvectors of its Gram matrix
    raw_gram = gram + np.outer(shift, total) + np.outer(total, shift) + n * np.outer(shift, shift)
    values, vectors = np.linalg.eigh(raw_gram)
    est.components_ = _flip_signs(vectors[:, np.argsort(values)[::-1][: est.n_components]].T)
    with np.errstate(invalid="ignore", divide="ignore"):
        explained = np.einsum("ij,jk,ik->i", est.components_, cov, est.components_)  # var(X v) = v^T C v
        est.explained_variance_ratio_ = explained / np.trace(cov)
    return est


def _fit_incremental_pca(est, layer, chunk_rows, layer_index):
    from sklearn.decomposition import IncrementalPCA

    inc = IncrementalPCA(n_components=est.n_components)
    rows = max(chunk_rows, est.n_components)
    for X in _chunks(layer, rows, layer_index):
        if len(X) >= est.n_components:
            inc.partial_fit(X if est.scaler_ is None else est.scaler_.transform(X))
    est.mean_ = inc.mean_
    est.components_ = _flip_signs(inc.components_)
    est.explained_variance_ratio_ = inc.explained_variance_ratio_
    return est


def _fit_umap_sample(est, layer, chunk_rows, budget):
    """Fit UMAP on a seeded random sample of the scaled rows that fits in the budget."""
    n, width = layer.shape
    size = int(min(n, max(est.n_neighbors + 1, budget // (8 * 8 * width))))
    seed = est.random_state if isinstance(est.random_state, Integral) else None
    rows = np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))
    parts = []
    for start in range(0, n, chunk_rows):
        take = rows[(rows >= start) & (rows < start + chunk_rows)] - start
        if take.size:
            parts.append(read_rows(layer, start, start + chunk_rows)[take])
    sample = np.concatenate(parts).astype(np.float64)
    scaler, scale = est.scaler_, est.scale
    est.scale = None  # the scaler is already fitted on every row
    try:
        est.fit_transform(sample if scaler is None else scaler.transform(sample))
    finally:
        est.scale = scale
    est.scaler_ = scaler
    return est


def transform_chunks(est, layer: np.ndarray, *, memory_budget: int | str | None = None) -> Iterator[np.ndarray]:
    """Coordinates of ``layer`` under the fitted ``est``, one chunk of rows at a time, in row order."""
    chunk_rows = _chunk_rows(layer.shape[1], memory_budget_bytes(memory_budget))
    for X in _chunks(layer, chunk_rows):
        yield np.asarray(est.transform(X), dtype=np.float64)


def reduce_layers(
    activations: Activations, reducer: BaseEstimator, *, memory_budget: int | str | None = None
) -> list[np.ndarray]:
    """Fit a fresh clone of ``reducer`` on every layer (all texts) and reduce it.

    Parameters
    ----------
    activations : Activations
    reducer : PCA, SVD, UMAP or any transformer with ``fit_transform``
    memory_budget : int, str or None, default=None
        Bytes (or ``"4GiB"``) a layer's fit may use; a layer above it is
        fitted out of core (see the module notes; PCA, SVD and UMAP only).
        ``None`` is a quarter of the physical memory.

    Returns
    -------
    reduced : list of ndarray of shape (n_texts, n_components)
        One array per layer, in layer order.

    Raises
    ------
    ValueError
        If a layer holds NaN or inf (the message names the layer), or
        ``n_components`` exceeds the layer width or the number of texts.
    """
    budget = memory_budget_bytes(memory_budget)
    reduced = []
    for i, layer in enumerate(activations.layers):
        if not fits_in_memory(layer, budget) and isinstance(reducer, _Reducer):
            try:
                est = fit_out_of_core(reducer, layer, memory_budget=budget, layer_index=i)
            except ValueError as exc:
                raise ValueError(f"{exc} (at layer {i})") from exc
            reduced.append(np.concatenate(list(transform_chunks(est, layer, memory_budget=budget))))
            continue
        bad = int(np.size(layer) - np.count_nonzero(np.isfinite(layer)))
        if bad:
            raise ValueError(
                f"activations must be finite; layer {i} holds {bad} NaN or inf values. "
                "Check the extraction dtype (float16 overflows) or the model."
            )
        try:
            reduced.append(np.asarray(clone(reducer).fit_transform(layer), dtype=np.float64))
        except ValueError as exc:
            raise ValueError(f"{exc} (at layer {i})") from exc
    return reduced
