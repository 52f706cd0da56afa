"""Linear probes: how much label information the reduced scan keeps.

:func:`evaluate_model` reproduces ``llm_mri.Evaluation.evaluate_model``: a
``StandardScaler + LogisticRegression`` pipeline scored on the same
``StratifiedShuffleSplit`` splits, once on the full last-layer embeddings and once
on all reduced layers concatenated, reporting ``full - reduced`` per split and
its mean for each metric. That recipe fits the re-reduction on all texts and
compares the last layer with all layers; the per-layer probe without leakage,
with intervals and controls, is :func:`llm_mri_graphdb.probing.probe_curve`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedShuffleSplit, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from llm_mri_graphdb.scan_settings import ScanArgumentError

__all__ = ["DEFAULT_METRICS", "evaluate_model", "display_metrics", "check_probe_size"]

#: The metrics ``llm_mri`` scores when none are named.
DEFAULT_METRICS = (
    "f1_macro",
    "f1_weighted",
    "recall_macro",
    "recall_weighted",
    "accuracy",
    "balanced_accuracy",
)


def check_probe_size(label_counts: Mapping[str, int], *, test_size: float = 0.3, n_splits: int | None = None) -> None:
    """Check that a corpus is big enough for the probes' stratified splits, before any work.

    ``StratifiedShuffleSplit`` needs two texts of every label, and a test set
    (``ceil(test_size * n_texts)`` texts) and a training set (the rest) of at
    least one text per label each; with ``n_splits`` (the per-layer probe's
    stratified k-fold, :func:`llm_mri_graphdb.probing.probe_curve`) every label
    needs ``n_splits`` texts.

    Raises
    ------
    ScanArgumentError
        Naming the counts and the fix (more texts, or ``probe=False`` / ``--no-probe``).

    Examples
    --------
    >>> check_probe_size({"a": 2, "b": 2})
    >>> check_probe_size({"a": 1, "b": 3})
    Traceback (most recent call last):
    ...
    llm_mri_graphdb.scan_settings.ScanArgumentError: the probe needs at least 2 texts of every label for its stratified splits; got {'a': 1}. Add texts, or skip the probe with probe=False (--no-probe).
    """
    counts = {str(k): int(v) for k, v in label_counts.items()}
    fix = "Add texts, or skip the probe with probe=False (--no-probe)."
    small = {k: v for k, v in counts.items() if v < 2}
    if small:
        raise ScanArgumentError(
            "probe", f"the probe needs at least 2 texts of every label for its stratified splits; got {small}. {fix}"
        )
    few = {k: v for k, v in counts.items() if n_splits is not None and v < n_splits}
    if few:
        raise ScanArgumentError(
            "probe",
            f"the per-layer probe's {n_splits}-fold split needs at least {n_splits} "
            f"texts of every label; got {few}. {fix}",
        )
    n, k = sum(counts.values()), len(counts)
    n_test = math.ceil(test_size * n)
    if min(n_test, n - n_test) < k:
        raise ScanArgumentError(
            "probe",
            f"the probe splits {n} texts into {n - n_test} for training and {n_test} "
            f"for testing, each needing one text of each of the {k} labels. {fix}",
        )


def _probe(random_state: int | None):
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=random_state))


def _splits(y: np.ndarray, n_splits: int, test_size: float, random_state: int | None) -> list:
    sss = StratifiedShuffleSplit(n_splits=n_splits, test_size=test_size, random_state=random_state)
    return list(sss.split(np.zeros((y.size, 1)), y))


def _as_2d(name: str, X: Any) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_texts, n_features); got shape {X.shape}.")
    return X


def _rereduce(X: np.ndarray, n_components: int, reducer: Any, random_state: int | None) -> np.ndarray:
    """Fit a fresh reducer of the scan's kind on all of ``X``, as ``llm_mri``'s ``_reduce`` does."""
    if n_components > min(X.shape):
        raise ValueError(f"n_components ({n_components}) must be <= min(n_texts, n_features) {X.shape}.")
    est = PCA() if reducer is None else clone(reducer)
    params: dict[str, int | None] = {"n_components": n_components}
    if "random_state" in est.get_params():
        params["random_state"] = random_state
    return np.asarray(est.set_params(**params).fit_transform(X), dtype=np.float64)


def evaluate_model(
    full_embeddings: Any,
    reduced_features: Any,
    labels: Any,
    *,
    n_splits: int = 5,
    test_size: float = 0.3,
    random_state: int | None = 42,
    n_components: int | None = None,
    metrics: str | Sequence[str] | None = None,
    reducer: Any = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    """Score a linear probe on full embeddings and on the reduced scan; report the gap.

    Parameters
    ----------
    full_embeddings : array-like of shape (n_texts, d_model)
        The last layer's activations (``llm_mri``'s ``_get_embeddings``).
    reduced_features : array-like of shape (n_texts, n_layers * n_components) or sequence of arrays
        All reduced layers side by side (``_get_nrag_embeddings``); a sequence of
        per-layer arrays is concatenated in order.
    labels : array-like of shape (n_texts,)
    n_splits : int, default=5
    test_size : float, default=0.3
    random_state : int, default=42
        Seeds the splits and the classifiers; equal seeds give equal results.
    n_components : int, default=None
        When set, both inputs are first re-reduced to this many components by a
        fresh reducer fitted on all texts (``llm_mri`` semantics, so the two sides
        have matched width).
    metrics : str or sequence of str, default=None
        scikit-learn scorer names; :data:`DEFAULT_METRICS` when None.
    reducer : estimator, default=None
        Template for the re-reduction (cloned, ``n_components`` and
        ``random_state`` set); PCA when None.

    Returns
    -------
    result : dict
        ``result["delta"][metric] = {"per_split": [full - reduced, ...], "mean": float}``
        as ``llm_mri`` returns, plus ``result["full"]`` and ``result["reduced"]``
        holding each side's scores in the same form.
    """
    Xf = _as_2d("full_embeddings", full_embeddings)
    if isinstance(reduced_features, (list, tuple)):
        reduced_features = np.concatenate([np.asarray(r, dtype=np.float64) for r in reduced_features], axis=1)
    Xr = _as_2d("reduced_features", reduced_features)
    y = np.ravel(np.asarray(labels))
    if not Xf.shape[0] == Xr.shape[0] == y.shape[0]:
        raise ValueError(
            f"full_embeddings ({Xf.shape[0]}), reduced_features ({Xr.shape[0]}) and labels "
            f"({y.shape[0]}) must have one row per text."
        )
    if n_components is not None:
        Xf = _rereduce(Xf, n_components, reducer, random_state)
        Xr = _rereduce(Xr, n_components, reducer, random_state)
    metrics = list(DEFAULT_METRICS if metrics is None else [metrics] if isinstance(metrics, str) else metrics)
    scoring = {m: m for m in metrics}
    splits = _splits(y, n_splits, test_size, random_state)
    cv_reduced = cross_validate(_probe(random_state), Xr, y, cv=splits, scoring=scoring)
    cv_full = cross_validate(_probe(random_state), Xf, y, cv=splits, scoring=scoring)
    result: dict[str, dict[str, dict[str, Any]]] = {"delta": {}, "full": {}, "reduced": {}}
    for m in metrics:
        f, r = np.asarray(cv_full[f"test_{m}"]), np.asarray(cv_reduced[f"test_{m}"])
        for key, v in (("delta", f - r), ("full", f), ("reduced", r)):
            result[key][m] = {"per_split": v.tolist(), "mean": float(v.mean())}
    return result


def display_metrics(result: Mapping[str, Any]) -> str:
    """A text table of an :func:`evaluate_model` result: full, reduced and their difference.

    ``llm_mri`` drew this as a bar chart; that figure is
    :func:`llm_mri_graphdb.viz.plot_metric_deltas`.

    Examples
    --------
    >>> r = {"delta": {"accuracy": {"per_split": [0.1, 0.0], "mean": 0.05}}}
    >>> print(display_metrics(r))
    metric      full  reduced  full - reduced (mean +- std)
    accuracy       -        -  +0.050 +- 0.050
    """
    width = max([6, *map(len, result["delta"])])
    rows = ["metric".ljust(width) + "    full  reduced  full - reduced (mean +- std)"]
    for m, d in result["delta"].items():
        f = result.get("full", {}).get(m, {}).get("mean")
        r = result.get("reduced", {}).get(m, {}).get("mean")
        cell = lambda v: "-".rjust(6) if v is None else f"{v:6.3f}"  # noqa: E731
        rows.append(f"{m:<{width}}  {cell(f)}   {cell(r)}  {d['mean']:+.3f} +- {float(np.std(d['per_split'])):.3f}")
    return "\n".join(rows)
