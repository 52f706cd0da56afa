"""Nulls, intervals and contrasts for the per-label metrics of a grid NRAG.

Above 400 lines: the two public entry points (metric_statistics, metric_contrasts) share their input checks,
the resample plans and the frame layout; the vectorised kernel already lives in ``analysis.resampling``.

A grid NRAG built from texts keeps every text's region at every layer
(:attr:`NRAG.paths`), so a label's sub-graph is a function of which texts it
holds and every per-label metric can be recomputed for a resample of texts
without rebuilding an NRAG (:mod:`llm_mri_graphdb.analysis.resampling`; equal to
``compute_metrics`` of the rebuilt NRAG to 1e-12, tested):

* **permutation null** (size-matched): the label codes of the texts are
  shuffled over the same reduction and grid, so every label keeps its size;
* **stratified bootstrap**: each label's texts are drawn with replacement
  (a text drawn twice counts twice), the grid fixed; the interval is the
  resamples' spread about their median, reflected about the observed value
  (:func:`_interval`), since counts of occupied regions shrink in every
  resample and a plain percentile interval would miss the observed value;
* **pairwise contrasts**: the difference of a metric between two labels, its
  bootstrap interval, and a permutation p within the two labels' texts.

Metrics tested (:data:`STATISTIC_METRICS`): every scalar per-label metric that
is neither a constant nor an identity on a grid NRAG. Left out:
``mean_strength`` (= 2 n (L - 1) / n_regions for a label of n texts),
``center_of_strength`` (-0.5 on every grid NRAG), ``center_of_strength_llm_mri``
(always nan), ``projection_*_average_clustering`` (always 0: projected edges
join layers l and l + 2 only), ``purity`` (1 for one label) and ``n_layers``.
``js_divergence_mean`` is a metric of a label pair; its rows carry the label
``"a|b"``.

p-values are two-sided with the +1 correction,
``p = (1 + #{|null - mean(null)| >= |value - mean(null)|}) / (1 + n_null)``,
over the finite null values; ``p_adjusted`` corrects within each metric, over
its labels (or label pairs): Holm by default, Benjamini-Hochberg with
``correction="bh"``. The family is the metric because a permutation p is at
least ``1 / (1 + n_permutations)``: over all ~100 rows of a frame, Holm could
never reach 0.05 with 200 permutations, while over 4 labels it reaches 0.02.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from llm_mri_graphdb.labels import resolve_labels
from llm_mri_graphdb.nrag.model import NRAG

from .resampling import (
    TextPaths,
    _bootstraps,
    _observed,
    _Paths,
    _permutations,
    _streams,
    _text_paths,
    rebuild_from_paths,
    resample_metrics,
)

__all__ = [
    "CONTRAST_COLUMNS",
    "INTERVAL",
    "METRIC_RANGES",
    "PAIR_METRICS",
    "STATISTICS_COLUMNS",
    "STATISTIC_METRICS",
    "TextPaths",
    "adjust_p",
    "check_resamples",
    "metric_contrasts",
    "metric_range",
    "metric_statistics",
    "rebuild_from_paths",
    "refit_bootstrap",
    "resample_metrics",
    "statistics_record",
]

STATISTIC_METRICS = (
    "n_regions",
    "n_edges",
    "mean_degree",
    "var_degree",
    "skew_degree",
    "kurt_degree",
    "var_strength",
    "skew_strength",
    "kurt_strength",
    "assortativity",
    "density",
    "center_of_mass",
    *(
        f"projection_{side}_{k}"
        for side in ("even", "odd")
        for k in ("mean_degree", "var_degree", "mean_strength", "var_strength", "assortativity", "density")
    ),
    "occupancy_entropy_mean",
    "transition_entropy_mean",
)
PAIR_METRICS = ("js_divergence_mean",)
#: The range each metric can take; an interval is cut to it (the reflected interval can pass a bound).
#: Metrics not named here are bounded below by 0 (counts, variances, entropies) unless listed as unbounded.
METRIC_RANGES: dict[str, tuple[float, float]] = {
    "js_divergence_mean": (0.0, 1.0),
    "density": (0.0, 1.0),
    "projection_even_density": (0.0, 1.0),
    "projection_odd_density": (0.0, 1.0),
    "assortativity": (-1.0, 1.0),
    "projection_even_assortativity": (-1.0, 1.0),
    "projection_odd_assortativity": (-1.0, 1.0),
    "skew_degree": (-np.inf, np.inf),
    "kurt_degree": (-np.inf, np.inf),
    "skew_strength": (-np.inf, np.inf),
    "kurt_strength": (-np.inf, np.inf),
    "center_of_mass": (-np.inf, np.inf),
}


def metric_range(metric: str) -> tuple[float, float]:
    """The values ``metric`` can take (:data:`METRIC_RANGES`; ``[0, inf)`` for the others)."""
    return METRIC_RANGES.get(metric, (0.0, np.inf))


def _clip(low: np.ndarray, high: np.ndarray, metrics: Sequence[str], *, difference: bool = False):
    """Cut each row's interval to its metric's range (a difference of two values: ``[lo - hi, hi - lo]``)."""
    bounds = np.array([metric_range(m) for m in metrics], np.float64).reshape(-1, 2)
    lo, hi = bounds[:, 0], bounds[:, 1]
    if difference:
        lo, hi = lo - bounds[:, 1], hi - bounds[:, 0]
    with np.errstate(invalid="ignore"):
        return np.clip(low, lo, hi), np.clip(high, lo, hi)


STATISTICS_COLUMNS = ("label", "metric", "value", "ci_low", "ci_high", "null_mean", "null_sd", "z", "p", "p_adjusted")
CONTRAST_COLUMNS = ("label_a", "label_b", "metric", "difference", "ci_low", "ci_high", "p", "p_adjusted")
CORRECTIONS = ("holm", "bh")
#: How ``ci_low`` and ``ci_high`` are made from the bootstrap resamples (:func:`_interval`).
INTERVAL = "median-centred basic bootstrap"


# -- inputs ---------------------------------------------------------------------------
def check_resamples(n_permutations: int, n_bootstrap: int, confidence: float = 0.95, correction: str = "holm") -> None:
    """One clear line for a bad resampling setting."""
    for name, value in (("n_permutations", n_permutations), ("n_bootstrap", n_bootstrap)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name} must be an integer >= 0 (0 disables it); got {value!r}.")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), e.g. 0.95; got {confidence!r}.")
    if correction not in CORRECTIONS:
        raise ValueError(f"correction must be one of {CORRECTIONS}; got {correction!r}.")


# -- summaries ----------------------------------------------------------------------------------
def adjust_p(p: Sequence[float] | np.ndarray, method: str = "holm") -> np.ndarray:
    """Holm (step-down, family-wise) or Benjamini-Hochberg (false discovery rate) adjusted p-values.

    nan entries stay nan and are not counted in the family.

    Examples
    --------
    >>> adjust_p([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.06, 0.06]
    >>> adjust_p([0.01, 0.04, 0.03], "bh").round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    if method not in CORRECTIONS:
        raise ValueError(f"correction must be one of {CORRECTIONS}; got {method!r}.")
    p = np.asarray(p, np.float64)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = ok.shape[0]
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    ranked = p[order]
    if method == "holm":
        adj = np.maximum.accumulate(ranked * (m - np.arange(m)))
    else:
        adj = np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1]
    out[order] = np.minimum(adj, 1.0)
    return out


def _null_summary(value: np.ndarray, null: np.ndarray) -> dict[str, np.ndarray]:
    """null_mean, null_sd, z and the two-sided +1 p of ``value`` (shape k) against ``null`` (shape (R, k))."""
    finite = np.isfinite(null)
    cnt = finite.sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(finite, null, 0.0).sum(0) / cnt
        sd = np.sqrt(np.where(finite, (null - mean) ** 2, 0.0).sum(0) / (cnt - 1))
        z = np.where(sd > 0, (value - mean) / sd, np.nan)
        dist = np.abs(value - mean)
        tol = 1e-9 * np.maximum(np.abs(mean), 1e-300)
        extreme = (finite & (np.abs(null - mean) >= dist - tol)).sum(0)
        p = (1.0 + extreme) / (1.0 + cnt)
    ok = np.isfinite(value) & (cnt > 1)
    return {
        "null_mean": np.where(cnt > 0, mean, np.nan),
        "null_sd": np.where(cnt > 1, sd, np.nan),
        "z": np.where(ok, z, np.nan),
        "p": np.where(ok, p, np.nan),
    }


def _interval(boot: np.ndarray, value: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Median-centred bootstrap interval of each column: the resamples' spread about their median, around ``value``.

    ``[value - (q_high - median), value + (median - q_low)]`` over the finite bootstrap values of each column
    (nan without any). A resample of n texts drawn with replacement holds about 63 % distinct texts, so a metric
    that counts occupied regions or edges is smaller in almost every resample: the plain percentile interval
    then sits beside the observed value (it held the expected n_regions, n_edges and mean_degree in 0-7 % of
    fresh corpora; ``python -m bench coverage``, docs/benchmarks.md). The
    resamples' deviations from their own median keep the spread and drop that shift, and the interval is
    reflected about the observed value as the basic bootstrap does (Davison & Hinkley 1997, eq. 5.6); the callers
    then cut it to the metric's range (:data:`METRIC_RANGES`), which a reflected interval can pass.
    """
    lo, hi = (1 - confidence) / 2 * 100, (1 + confidence) / 2 * 100
    k = boot.shape[1]
    if boot.shape[0] == 0:
        return np.full(k, np.nan), np.full(k, np.nan)
    finite = np.isfinite(boot).any(0)
    safe = np.where(finite[None, :], boot, 0.0)
    with np.errstate(invalid="ignore"):
        q_low, median, q_high = np.nanpercentile(safe, [lo, 50.0, hi], axis=0)
    ok = finite & np.isfinite(value)
    return np.where(ok, value - (q_high - median), np.nan), np.where(ok, value + (median - q_low), np.nan)


def _grid_setting(nrag: Any, name: str, default: Any) -> Any:
    settings = getattr(nrag, "settings", None) or {}
    return settings.get(name) if settings.get(name) is not None else default


def _adjust_by_metric(p: np.ndarray, metric: Sequence[str], correction: str) -> np.ndarray:
    """``adjust_p`` within each metric's rows."""
    out = np.full(p.shape, np.nan)
    names = np.asarray(metric)
    for name in dict.fromkeys(names.tolist()):
        rows = names == name
        out[rows] = adjust_p(p[rows], correction)
    return out


def _flatten(
    values: dict[str, np.ndarray], names: Sequence[str], selected: Sequence[int]
) -> tuple[list[str], list[str], np.ndarray]:
    """Rows (label, metric) and a (R, n_rows) matrix: the selected labels' metrics, then their pairs' metrics.

    ``values`` holds every label (``names``); pairs are in the kernel's ``combinations(range(n_labels), 2)``
    order and named in selection order (the divergence is symmetric).
    """
    pair_index = {pair: k for k, pair in enumerate(combinations(range(len(names)), 2))}
    rows = [(names[g], metric, values[metric][:, g]) for metric in STATISTIC_METRICS for g in selected]
    rows += [
        (f"{names[a]}|{names[b]}", metric, values[metric][:, pair_index[(min(a, b), max(a, b))]])
        for metric in PAIR_METRICS
        for a, b in combinations(selected, 2)
    ]
    labels = [label for label, _, _ in rows]
    metrics = [metric for _, metric, _ in rows]
    columns = [column for _, _, column in rows]
    R = next(iter(values.values())).shape[0]
    return labels, metrics, np.stack(columns, axis=1) if columns else np.empty((R, 0))


def refit_bootstrap(
    layers: Sequence[np.ndarray],
    nrag: NRAG | TextPaths,
    reducer_factory: Any,
    *,
    n_bootstrap: int = 200,
    seed: int | None = 0,
    gridsize: int = 10,
    binning: str = "width",
) -> dict[str, np.ndarray]:
    """Per-label metrics of bootstrap resamples that refit the reducer and redraw the grid inside each resample.

    Slow (one reducer fit per layer per resample) and wider than the fixed-reduction bootstrap: it adds the
    reduction's and the grid's variability to the texts'. Resamples are the same stratified draws as
    :func:`metric_statistics` with the same seed.

    Parameters
    ----------
    layers : sequence of ndarray of shape (n_texts, width)
        The run's pooled activations (e.g. :func:`llm_mri_graphdb.analysis.sensitivity.run_activations`), texts in
        corpus order.
    nrag : NRAG or TextPaths
        The run (its text labels).
    reducer_factory : callable
        ``reducer_factory()`` returns a fresh 2-component reducer.
    n_bootstrap, seed
        As for :func:`metric_statistics`.
    gridsize, binning
        The run's grid settings.

    Returns
    -------
    dict of str to ndarray of shape (n_bootstrap, n_labels), and ``js_divergence_mean`` of shape
    (n_bootstrap, n_pairs), every label of the run.
    """
    from llm_mri_graphdb.nrag.model import build_nrag_from_reduced

    source = _text_paths(nrag)
    if source.text_labels is None:
        raise ValueError("the refitted bootstrap needs the labels of the run's texts; store the run with its texts.")
    codes = np.asarray(source.text_labels, np.int64)
    names = tuple(source.label_names)
    _, boot_rng, _ = _streams(seed)
    parts = []
    for rows, groups in _bootstraps(codes, n_bootstrap, boot_rng):
        reduced = [np.asarray(reducer_factory().fit_transform(np.asarray(x)[rows]), np.float64) for x in layers]
        rebuilt = build_nrag_from_reduced(reduced, groups, names, gridsize=gridsize, binning=binning)
        paths = _Paths(rebuilt, None)
        parts.append(resample_metrics(paths, _observed(paths.codes), len(names)))
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def metric_statistics(
    nrag: NRAG | TextPaths,
    labels: Any = None,
    n_permutations: int = 200,
    n_bootstrap: int = 200,
    seed: int | None = 0,
    *,
    confidence: float = 0.95,
    correction: str = "holm",
    refit: tuple[Sequence[np.ndarray], Any] | None = None,
) -> pd.DataFrame:
    """Every per-label metric with its bootstrap interval and its size-matched label-permutation null.

    Parameters
    ----------
    nrag : NRAG or TextPaths
        A grid NRAG with per-text paths (built from texts, or read from a store
        that keeps the run's texts), or the paths a store read.
    labels : sequence of str or int, optional
        The labels to report (None = all), in this order. The null permutes
        the labels of all texts either way, so a label's row does not depend
        on the selection.
    n_permutations : int, default=200
        Label permutations of the null (0: no null; ``null_*``, ``z``, ``p`` nan).
    n_bootstrap : int, default=200
        Stratified bootstrap resamples (0: no interval).
    seed : int or None, default=0
        Seeds both; the same seed gives the same frame.
    confidence : float, default=0.95
        Percentile interval coverage.
    correction : {"holm", "bh"}, default="holm"
        Multiple-test correction within each metric, over its labels (pairs).
    refit : (layers, reducer_factory), optional
        Take the intervals from :func:`refit_bootstrap` (the reducer refitted and
        the grid redrawn inside each resample, from the run's activations)
        instead of the fixed-reduction bootstrap. Slow.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`STATISTICS_COLUMNS`, one row per (label, metric) of
        :data:`STATISTIC_METRICS` (labels in selection order within each
        metric), then one row per label pair of ``js_divergence_mean``.
        ``frame.attrs`` records the settings.

    Examples
    --------
    >>> import numpy as np
    >>> from llm_mri_graphdb.nrag import build_nrag_from_reduced
    >>> rng = np.random.default_rng(0)
    >>> layers = [rng.normal(size=(60, 2)) for _ in range(3)]
    >>> g = build_nrag_from_reduced(layers, np.arange(60) % 2, ["a", "b"], gridsize=4)
    >>> stats = metric_statistics(g, n_permutations=50, n_bootstrap=50)
    >>> stats.loc[stats.metric == "n_regions", ["label", "value"]].values.tolist()
    [['a', 27.0], ['b', 35.0]]
    """
    check_resamples(n_permutations, n_bootstrap, confidence, correction)
    paths = _Paths(nrag, None)
    G = len(paths.names)
    selected = resolve_labels(paths.names, labels)
    perm_rng, boot_rng, _ = _streams(seed)
    observed = resample_metrics(paths, _observed(paths.codes), G)
    row_labels, row_metrics, value = _flatten(observed, paths.names, selected)
    value = value[0]
    k = value.shape[0]
    if n_permutations:
        null = _flatten(
            resample_metrics(paths, _permutations(paths.codes, n_permutations, perm_rng), G), paths.names, selected
        )[2]
        summary = _null_summary(value, null)
    else:
        summary = {c: np.full(k, np.nan) for c in ("null_mean", "null_sd", "z", "p")}
    if n_bootstrap and refit is not None:
        layers, factory = refit
        source = _text_paths(nrag)
        boot = _flatten(
            refit_bootstrap(
                layers,
                source,
                factory,
                n_bootstrap=n_bootstrap,
                seed=seed,
                gridsize=int(_grid_setting(nrag, "gridsize", 10)),
                binning=str(_grid_setting(nrag, "binning", "width")),
            ),
            paths.names,
            selected,
        )[2]
        low, high = _interval(boot, value, confidence)
    elif n_bootstrap:
        boot = _flatten(
            resample_metrics(paths, _bootstraps(paths.codes, n_bootstrap, boot_rng), G), paths.names, selected
        )[2]
        low, high = _interval(boot, value, confidence)
    else:
        low = high = np.full(k, np.nan)
    low, high = _clip(low, high, row_metrics)
    frame = pd.DataFrame(
        {
            "label": row_labels,
            "metric": row_metrics,
            "value": value,
            "ci_low": low,
            "ci_high": high,
            **summary,
            "p_adjusted": _adjust_by_metric(summary["p"], row_metrics, correction),
        }
    )
    frame.attrs.update(
        n_permutations=int(n_permutations),
        n_bootstrap=int(n_bootstrap),
        seed=seed,
        confidence=confidence,
        correction=correction,
        refit=refit is not None,
        interval=INTERVAL,
    )
    return frame.loc[:, list(STATISTICS_COLUMNS)]


def metric_contrasts(
    nrag: NRAG | TextPaths,
    labels: Any = None,
    n_permutations: int = 200,
    n_bootstrap: int = 200,
    seed: int | None = 0,
    *,
    confidence: float = 0.95,
    correction: str = "holm",
) -> pd.DataFrame:
    """Pairwise label differences of every per-label metric, with interval and permutation p.

    For each pair (a, b) of selected labels and each metric of
    :data:`STATISTIC_METRICS`: ``difference`` = metric(a) - metric(b); its
    percentile interval from the stratified bootstrap (the same resamples as
    :func:`metric_statistics` with the same seed); ``p``, two-sided with the +1
    correction, from permutations of the labels within a's and b's texts
    (both keep their sizes); ``p_adjusted`` within each metric over the label
    pairs (Holm, or Benjamini-Hochberg with ``correction="bh"``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CONTRAST_COLUMNS`, one row per (pair, metric).
    """
    check_resamples(n_permutations, n_bootstrap, confidence, correction)
    paths = _Paths(nrag, None)
    G = len(paths.names)
    _, boot_rng, pair_rng = _streams(seed)
    selected = resolve_labels(paths.names, labels)
    pairs = list(combinations(selected, 2))
    if not pairs:
        raise ValueError(f"metric contrasts need >= 2 labels; got {[paths.names[i] for i in selected]}.")
    observed = resample_metrics(paths, _observed(paths.codes), G, pairs=False)
    diff = np.stack([observed[m][0, a] - observed[m][0, b] for a, b in pairs for m in STATISTIC_METRICS])
    k = diff.shape[0]
    if n_permutations:
        members = [np.flatnonzero((paths.codes == a) | (paths.codes == b)) for a, b in pairs]
        occ = []
        for _ in range(n_permutations):
            texts, groups = [], []
            for j, ((_, b), idx) in enumerate(zip(pairs, members)):
                texts.append(idx)
                groups.append(2 * j + (pair_rng.permutation(paths.codes[idx]) == b))
            occ.append((np.concatenate(texts), np.concatenate(groups)))
        null_values = resample_metrics(paths, occ, 2 * len(pairs), pairs=False)
        null = np.stack(
            [
                null_values[m][:, 2 * j] - null_values[m][:, 2 * j + 1]
                for j in range(len(pairs))
                for m in STATISTIC_METRICS
            ],
            axis=1,
        )
        p = _null_summary(diff, null)["p"]
    else:
        p = np.full(k, np.nan)
    if n_bootstrap:
        boot_values = resample_metrics(paths, _bootstraps(paths.codes, n_bootstrap, boot_rng), G, pairs=False)
        boot = np.stack(
            [boot_values[m][:, a] - boot_values[m][:, b] for a, b in pairs for m in STATISTIC_METRICS], axis=1
        )
        low, high = _interval(boot, diff, confidence)
    else:
        low = high = np.full(k, np.nan)
    low, high = _clip(low, high, [m for _ in pairs for m in STATISTIC_METRICS], difference=True)
    frame = pd.DataFrame(
        {
            "label_a": [paths.names[a] for a, _ in pairs for _ in STATISTIC_METRICS],
            "label_b": [paths.names[b] for _, b in pairs for _ in STATISTIC_METRICS],
            "metric": [m for _ in pairs for m in STATISTIC_METRICS],
            "difference": diff,
            "ci_low": low,
            "ci_high": high,
            "p": p,
            "p_adjusted": _adjust_by_metric(p, [m for _ in pairs for m in STATISTIC_METRICS], correction),
        }
    )
    frame.attrs.update(
        n_permutations=int(n_permutations),
        n_bootstrap=int(n_bootstrap),
        seed=seed,
        confidence=confidence,
        correction=correction,
        interval=INTERVAL,
    )
    return frame


def statistics_record(frame: pd.DataFrame, labels: Sequence[str]) -> dict[str, Any]:
    """A statistics frame as plain columns and its settings, for a store or ``metrics.json``.

    ``key`` names the selection and settings, so one run keeps one record per
    (labels, n_permutations, n_bootstrap, seed, confidence, correction, interval).
    """
    settings = {
        "labels": list(labels),
        **{
            k: frame.attrs.get(k)
            for k in ("n_permutations", "n_bootstrap", "seed", "confidence", "correction", "interval")
        },
    }
    columns = {c: frame[c].tolist() for c in frame.columns}
    return {"key": json.dumps(settings, sort_keys=True), "settings": settings, "columns": columns}
