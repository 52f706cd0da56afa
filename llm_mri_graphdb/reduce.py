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
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context, clone
from sklearn.decomposition import PCA as _SkPCA
from sklearn.decomposition import TruncatedSVD as _SkSVD
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .activations import Activations

__all__ = ["PCA", "SVD", "UMAP", "reduce_layers"]

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

    def _check_size(self, X: np.ndarray) -> None:
        n_samples, n_features = X.shape
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
            self._check_size(X)
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
        model = _SkSVD(self.n_components, algorithm="randomized", n_iter=self.n_iter,
                       random_state=self.random_state).fit(Xs)
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

    def __init__(self, n_components=2, *, scale="minmax", metric="cosine", n_neighbors=15,
                 min_dist=0.1, random_state=None):
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
                "UMAP needs the optional package umap-learn; install it with "
                "pip install 'llm-mri-graphdb[umap]'."
            ) from exc
        Xs = self._prepare(X, reset=True)
        self.umap_ = umap.UMAP(
            n_components=self.n_components, metric=self.metric,
            n_neighbors=min(self.n_neighbors, Xs.shape[0] - 1), min_dist=self.min_dist,
            random_state=self.random_state, n_jobs=1 if self.random_state is not None else -1,
        )
        self.embedding_ = np.asarray(self.umap_.fit_transform(Xs), dtype=np.float64)
        return self.embedding_

    def transform(self, X):
        """Embed new texts with the fitted UMAP (approximate, as in umap-learn)."""
        check_is_fitted(self)
        return np.asarray(self.umap_.transform(self._prepare(X, reset=False)), dtype=np.float64)


def reduce_layers(activations: Activations, reducer: BaseEstimator) -> list[np.ndarray]:
    """Fit a fresh clone of ``reducer`` on every layer (all texts) and reduce it.

    Parameters
    ----------
    activations : Activations
    reducer : PCA, SVD, UMAP or any transformer with ``fit_transform``

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
    reduced = []
    for i, layer in enumerate(activations.layers):
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
