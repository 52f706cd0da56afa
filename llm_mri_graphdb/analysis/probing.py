"""Linear probes a reviewer accepts: no leakage, intervals, controls, selectivity and MDL.

:func:`probe_curve` asks, layer by layer and with the same layer on both
sides, how well a linear classifier reads the labels from the full pooled
activations and from their reduction to the NRAG's ``n_components``:

* **no leakage.** Every transformation (the reducer, the scaler) is fitted
  inside each training fold, in one scikit-learn pipeline, and the penalty is
  chosen by an inner cross-validation on the training fold only. The default
  probe is a ridge classifier (one-vs-rest regularised least squares, as
  accurate as logistic regression for linear probing, Rifkin & Klautau 2004)
  whose inner cross-validation is exact leave-one-out in closed form
  (``RidgeClassifierCV``'s, computed in numpy by :mod:`._ridge` with one
  eigendecomposition per fold shared by the labels and their control, as are
  the fold's scaler and reducer: neither sees a label), so 5 x 5 folds of
  every layer, with controls, take seconds; ``classifier="logistic"`` uses
  ``LogisticRegressionCV`` with ``inner_splits`` stratified folds instead
  (about 100 times slower).
* **repeated stratified k-fold** (default 5 x 5, seeded) with a 95 % interval
  per layer from the **corrected resampled t** (Nadeau & Bengio 2003, as used
  for repeated k-fold by Bouckaert & Frank 2004): the variance of the ``J = k r``
  fold scores is inflated by ``1 / J + n_test / n_train`` for the overlap of the
  training sets, with ``J - 1`` degrees of freedom.
* **controls** on the same folds: the majority class (the most frequent
  training label); a **shuffled-label control** (labels permuted once per
  repetition, seeded; Hewitt & Liang 2019's control task for texts) whose
  accuracy gives the **selectivity** ``accuracy - control accuracy``, with its
  interval from the paired fold differences; layer 0 (the embeddings) of the
  same model is the curve's own first point and drawn as a line. Optional: the
  same architecture with random weights (:func:`random_weights_activations`,
  passed as ``random_layers``) and a bag-of-words probe on the texts
  (``texts``), each with its interval.
* **MDL** (optional, ``mdl=True``): the online codelength of the labels given
  the full layer (Voita & Titov 2020), in bits, with the uniform codelength
  and the compression ratio; a layer that yields the labels easily has a short
  code.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV, RidgeClassifierCV
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from llm_mri_graphdb.analysis._ridge import shared_ridge_scores

__all__ = [
    "CS",
    "CLASSIFIERS",
    "corrected_t_interval",
    "probe_curve",
    "online_codelength",
    "random_weights_activations",
]

#: Inverse regularisation strengths the inner cross-validation chooses from (ridge: ``alpha = 1 / C``).
CS = (0.0001, 0.001, 0.01, 0.1, 1.0, 10.0, 100.0)
#: The probes :func:`probe_curve` can fit.
CLASSIFIERS = ("ridge", "logistic")
#: The ridge probe by :func:`._ridge.fit_predict_loo_ridge` (False: one scikit-learn pipeline per fit and
#: target, the reference ``tests/test_probing.py`` and ``bench/probe.py`` compare it with).
_SHARED_RIDGE = True


def corrected_t_interval(
    scores: ArrayLike, n_train: int, n_test: int, *, level: float = 0.95
) -> tuple[float, float, float]:
    """Mean and ``level`` interval of repeated k-fold scores, by the corrected resampled t.

    Parameters
    ----------
    scores : sequence of float
        One score per fold and repetition (``J`` of them).
    n_train, n_test : int
        Texts in a training and a test fold.
    level : float, default=0.95

    Returns
    -------
    (mean, low, high) : tuple of float
        ``mean -+ t_{J-1} * sqrt((1 / J + n_test / n_train) * s^2)`` (Nadeau &
        Bengio 2003); the interval is the mean itself when all scores are equal.

    Examples
    --------
    >>> m, lo, hi = corrected_t_interval([0.8, 0.9, 0.7, 0.8], n_train=75, n_test=25)
    >>> round(m, 3), round(lo, 3), round(hi, 3)
    (0.8, 0.602, 0.998)
    """
    from scipy.stats import t

    x = np.asarray(scores, dtype=float)
    mean = float(x.mean())
    if x.size < 2:
        return mean, float("nan"), float("nan")
    half = float(t.ppf(0.5 + level / 2, x.size - 1) * math.sqrt((1 / x.size + n_test / n_train) * x.var(ddof=1)))
    return mean, mean - half, mean + half


def _classifier(kind: str, cs: Sequence[float], inner_splits: int) -> Any:
    if kind == "ridge":
        return RidgeClassifierCV(alphas=[1.0 / c for c in cs])  # efficient leave-one-out over the training fold
    return LogisticRegressionCV(Cs=list(cs), cv=inner_splits, max_iter=2000, scoring="accuracy")


def _summary(scores: np.ndarray, n_train: int, n_test: int, lowest: float = 0.0) -> dict[str, float]:
    """Mean and corrected-t interval, cut to the range of an accuracy ([0, 1]) or a difference of two ([-1, 1])."""
    mean, low, high = corrected_t_interval(scores, n_train, n_test)
    return {
        "mean": mean,
        "low": max(low, lowest) if low == low else low,
        "high": min(high, 1.0) if high == high else high,
    }


def _fold_scores(make, X: Any, y: np.ndarray, folds: list) -> tuple[np.ndarray, list[float]]:
    """Test accuracy of a fresh ``make()`` pipeline fitted on each training fold; the C each fold chose."""
    scores, chosen = np.empty(len(folds)), []
    for f, (train, test) in enumerate(folds):
        model = make()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X[train] if not isinstance(X, list) else [X[i] for i in train], y[train])
        Xt = X[test] if not isinstance(X, list) else [X[i] for i in test]
        scores[f] = float(np.mean(model.predict(Xt) == y[test]))
        last = model[-1] if hasattr(model, "__getitem__") else model
        if hasattr(last, "C_"):
            chosen.append(float(np.median(last.C_)))
        elif hasattr(last, "alpha_"):
            chosen.append(1.0 / float(last.alpha_))
    return scores, chosen


def _control_labels(y: np.ndarray, n_repeats: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """One permutation of the labels per repetition (its ``n_splits`` folds share it)."""
    return tuple(rng.permutation(y) for _ in range(n_repeats))


def probe_curve(
    layers: Sequence[Any],
    labels: Any,
    *,
    reducer: Any = None,
    n_components: int = 2,
    n_splits: int = 5,
    n_repeats: int = 5,
    cs: Sequence[float] = CS,
    inner_splits: int = 3,
    random_state: int | None = 42,
    texts: Sequence[str] | None = None,
    random_layers: Sequence[Any] | None = None,
    mdl: bool = False,
    classifier: str = "ridge",
) -> dict[str, Any]:
    """Probe accuracy per layer, full and reduced, with intervals, controls and selectivity.

    Parameters
    ----------
    layers : sequence of array-like of shape (n_texts, width)
        Pooled activations, one per layer (layer 0: the embeddings).
    labels : array-like of shape (n_texts,)
    reducer : estimator, default=None
        The NRAG's reducer (cloned and fitted inside each training fold with
        ``n_components``); scikit-learn's PCA when None.
    n_components : int, default=2
    n_splits, n_repeats : int, default=5, 5
        Repeated stratified k-fold; every layer and control uses the same folds.
    cs : sequence of float, default=:data:`CS`
        Candidate ``C`` for the inner cross-validation (``inner_splits`` folds of each training fold).
    random_state : int or None, default=42
        Seeds the folds, the shuffled labels and the MDL order; equal seeds give equal results.
    texts : sequence of str, default=None
        When given, a bag-of-words probe (counts fitted in each training fold) is scored too.
    random_layers : sequence of array-like, default=None
        Activations of the same architecture with random weights (same texts); probed as a control curve.
    mdl : bool, default=False
        Also the online codelength of every full layer (:func:`online_codelength`).
    classifier : {"ridge", "logistic"}, default="ridge"
        The probe (see the module docstring); both choose their penalty by inner cross-validation.

    Returns
    -------
    curve : dict
        ``layer``; ``full`` and ``reduced``: per layer ``mean``, ``low``, ``high``
        (accuracy and its 95 % interval), ``control_*`` (shuffled labels),
        ``selectivity_*`` and the median chosen ``C``; ``majority`` (mean, low,
        high); ``chance`` (the majority share); ``layer0`` (full accuracy of
        layer 0); optionally ``random_weights`` (a curve like ``full``),
        ``bag_of_words`` and ``mdl``; ``method`` records every setting.
    """
    if classifier not in CLASSIFIERS:
        raise ValueError(f"classifier must be one of {CLASSIFIERS}; got {classifier!r}.")
    y = np.ravel(np.asarray(labels))
    n = y.size
    if len(layers) == 0:
        raise ValueError("layers must hold at least one layer.")
    if any(np.asarray(X).shape[0] != n for X in layers):
        raise ValueError(
            f"every layer must have one row per label ({n}); got {[np.asarray(X).shape[0] for X in layers]}."
        )
    _, counts = np.unique(y, return_counts=True)
    if counts.min() < n_splits:
        raise ValueError(
            f"the probe's {n_splits}-fold split needs at least {n_splits} texts of every label; "
            f"the rarest label has {counts.min()}. Add texts or lower n_splits."
        )
    if random_layers is not None and len(random_layers) != len(layers):
        raise ValueError(f"random_layers ({len(random_layers)}) must have one entry per layer ({len(layers)}).")
    if texts is not None and len(texts) != n:
        raise ValueError(f"texts ({len(texts)}) must have one entry per label ({n}).")
    rng = np.random.default_rng(random_state)
    cv = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=random_state)
    folds = list(cv.split(np.zeros((n, 1)), y))
    n_test = n // n_splits
    n_train = n - n_test
    permuted = _control_labels(y, n_repeats, rng)
    control_by_fold = [permuted[f // n_splits] for f in range(len(folds))]  # folds come repetition by repetition

    def make_reducer():
        est = PCA() if reducer is None else clone(reducer)
        params = {"n_components": n_components}
        if "random_state" in est.get_params():
            params["random_state"] = random_state
        return est.set_params(**params)

    if classifier == "ridge" and _SHARED_RIDGE:
        alphas = [1.0 / c for c in cs]
        full = shared_ridge_scores(y, control_by_fold, folds, None, alphas)
        reduced = shared_ridge_scores(y, control_by_fold, folds, make_reducer, alphas)
    else:  # one scikit-learn pipeline per fold and target
        clf = _classifier(classifier, cs, inner_splits)
        full = _pipeline_scores(y, control_by_fold, folds, lambda: make_pipeline(StandardScaler(), clone(clf)))
        reduced = _pipeline_scores(
            y, control_by_fold, folds, lambda: make_pipeline(make_reducer(), StandardScaler(), clone(clf))
        )
    curve: dict[str, Any] = {"layer": list(range(len(layers))), "metric": "accuracy"}
    curve["full"] = _curve_by_repetition(layers, full, n_train, n_test)
    curve["reduced"] = _curve_by_repetition(layers, reduced, n_train, n_test)
    majority = np.array([float(np.mean(y[test] == _mode(y[train]))) for train, test in folds])
    curve["majority"] = _summary(majority, n_train, n_test)
    curve["chance"] = float(counts.max() / n)
    curve["layer0"] = curve["full"]["mean"][0]
    if random_layers is not None:
        curve["random_weights"] = _curve_by_repetition(random_layers, full, n_train, n_test)
    if texts is not None:
        curve["bag_of_words"] = _bag_of_words(
            list(texts), y, folds, _classifier(classifier, cs, inner_splits), n_train, n_test
        )
    if mdl:
        curve["mdl"] = [online_codelength(X, y, random_state=random_state) for X in layers]
    curve["method"] = {
        "classifier": classifier,
        "splits": n_splits,
        "repeats": n_repeats,
        "inner_splits": inner_splits,
        "Cs": list(cs),
        "n_components": n_components,
        "random_state": random_state,
        "level": 0.95,
        "interval": "corrected resampled t (Nadeau & Bengio 2003)",
        "control": "labels permuted once per repetition (Hewitt & Liang 2019)",
        "reducer": type(PCA() if reducer is None else reducer).__name__,
    }
    return curve


def _mode(y: np.ndarray) -> Any:
    values, counts = np.unique(y, return_counts=True)
    return values[np.argmax(counts)]


def _pipeline_scores(y, control_by_fold, folds, make):
    """Per layer: fold accuracies on the labels and on the control, and the chosen Cs, one ``make()`` per fit."""

    def score(X):
        scores, chosen = _fold_scores(make, X, y, folds)
        ctrl = np.array([_fold_scores(make, X, control_by_fold[f], [fold])[0][0] for f, fold in enumerate(folds)])
        return scores, ctrl, chosen

    return score


def _curve_by_repetition(layers, score, n_train, n_test) -> dict[str, Any]:
    """Accuracy, shuffled-label control (fold ``f`` uses its repetition's labels) and selectivity per layer.

    ``score(X)`` gives a layer's fold accuracies on the labels and on the control, and the Cs chosen.
    """
    stats = [f"{prefix}{key}" for prefix in ("", "control_", "selectivity_") for key in ("mean", "low", "high")]
    out: dict[str, list] = {key: [] for key in (*stats, "C")}
    for X in layers:
        scores, ctrl, chosen = score(np.asarray(X, dtype=np.float64))
        for prefix, values in (("", scores), ("control_", ctrl), ("selectivity_", scores - ctrl)):
            for key, value in _summary(values, n_train, n_test, -1.0 if prefix == "selectivity_" else 0.0).items():
                out[f"{prefix}{key}"].append(value)
        out["C"].append(float(np.median(chosen)) if chosen else None)
    return out


def _bag_of_words(texts, y, folds, classifier, n_train, n_test) -> dict[str, float]:
    from sklearn.feature_extraction.text import CountVectorizer

    def make():
        return make_pipeline(CountVectorizer(), clone(classifier))

    scores, _ = _fold_scores(make, np.asarray(texts, dtype=object), y, folds)
    return _summary(scores, n_train, n_test)


def online_codelength(
    X: Any,
    labels: Any,
    *,
    fractions: Sequence[float] = (0.1, 0.2, 0.4, 0.8, 1.0),
    c: float = 1.0,
    random_state: int | None = 42,
) -> dict[str, Any]:
    """Online (prequential) codelength of the labels given ``X`` (Voita & Titov 2020), in bits.

    The texts are put in a seeded order whose first block holds every label;
    the first block (``fractions[0]`` of the texts) is sent with the uniform
    code (``log2 K`` bits per label), and each next block with a probe
    (standardise + logistic regression, ``C = c``) trained on all texts before it.

    Returns
    -------
    result : dict
        ``codelength`` (bits), ``uniform`` (``n log2 K`` bits), ``compression``
        (``uniform / codelength``: higher means the labels are easier to read),
        ``blocks`` (the block ends used).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 100)
    >>> easy = online_codelength(y[:, None] + 0.1 * rng.standard_normal((200, 3)), y)
    >>> hard = online_codelength(rng.standard_normal((200, 3)), y)
    >>> easy["codelength"] < hard["codelength"]
    True
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.ravel(np.asarray(labels))
    classes, codes = np.unique(y, return_inverse=True)
    n, k = y.size, classes.size
    rng = np.random.default_rng(random_state)
    order = rng.permutation(n)
    first = [int(np.flatnonzero(codes[order] == c_)[0]) for c_ in range(k)]  # one text of every label up front
    order = np.concatenate([order[first], np.delete(order, first)])
    ends = sorted({max(k + 1, int(round(f * n))) for f in fractions} | {n})
    bits = ends[0] * math.log2(k)
    for start, stop in zip(ends[:-1], ends[1:]):
        train, test = order[:start], order[start:stop]
        model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X[train], codes[train])
        proba = np.full((test.size, k), 1e-12)
        proba[:, model[-1].classes_] = np.clip(model.predict_proba(X[test]), 1e-12, None)
        proba /= proba.sum(axis=1, keepdims=True)
        bits += float(-np.log2(proba[np.arange(test.size), codes[test]]).sum())
    uniform = n * math.log2(k)
    return {"codelength": bits, "uniform": uniform, "compression": uniform / bits, "blocks": ends}


def random_weights_activations(model: Any, dataset: Any, *, seed: int = 0, **extract: Any):
    """Activations of ``model``'s architecture with random weights (``AutoModel.from_config``, seeded).

    The tokenizer and configuration are read from ``model`` (a hub id, folder,
    or ``.gguf`` file); weights are drawn by the architecture's own
    initialisation after ``torch.manual_seed(seed)``. ``extract`` goes to
    :func:`llm_mri_graphdb.extract.run.extract_activations` (pooling, site, ...).
    """
    from pathlib import Path

    import torch
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    from llm_mri_graphdb.extract.run import extract_activations

    path = Path(str(model))
    kwargs: dict[str, Any] = {}
    source = str(model)
    if path.suffix == ".gguf":
        source, kwargs = str(path.parent), {"gguf_file": path.name}
    config = AutoConfig.from_pretrained(source, **kwargs)
    tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
    torch.manual_seed(seed)
    net = AutoModel.from_config(config).eval()
    return extract_activations((net, tokenizer), dataset, cache_dir=None, **extract)
