"""How much the per-label metrics depend on the settings of a scan rather than on its labels.

The panel rebuilds a run's grid NRAG under other settings, from the same
activations: gridsize 8, 10 and 12, equal-width and quantile cells, and, for
UMAP runs, three reducer seeds (PCA and SVD do not depend on a seed). For each
metric of :data:`llm_mri_graphdb.analysis.statistics.STATISTIC_METRICS` it reports

* ``spread_settings``: the range (max - min) of the metric over the settings,
  for each label, averaged over labels;
* ``spread_labels``: the range of the metric over the labels, for each
  setting, averaged over settings;
* ``flagged``: ``spread_settings > spread_labels``, a metric that moves more
  with how the grid is drawn than between the labels it is meant to compare.

The activations come from the run's activation cache entry (a scan with
``--cache`` records it as the NRAG's ``activations_path``); the labels from the
texts stored with the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from llm_mri_graphdb.analysis.resampling import _observed, _Paths, resample_metrics
from llm_mri_graphdb.analysis.statistics import STATISTIC_METRICS
from llm_mri_graphdb.nrag.model import GRID, NRAG, build_nrag_from_reduced

__all__ = [
    "BINNINGS",
    "GRIDSIZES",
    "SEEDS",
    "run_activations",
    "run_sensitivity",
    "sensitivity_summary",
    "sensitivity_values",
]

GRIDSIZES = (8, 10, 12)
BINNINGS = ("width", "quantile")
SEEDS = (0, 1, 2)


def _label_values(nrag: NRAG) -> dict[str, np.ndarray]:
    paths = _Paths(nrag, None)
    return {m: v[0] for m, v in resample_metrics(paths, _observed(paths.codes), len(paths.names), pairs=False).items()}


def sensitivity_values(
    layers: Sequence[np.ndarray],
    labels: np.ndarray,
    label_names: Sequence[str],
    reducer_factory: Any,
    *,
    seeds: Sequence[int | None] = (None,),
    gridsizes: Sequence[int] = GRIDSIZES,
    binnings: Sequence[str] = BINNINGS,
) -> pd.DataFrame:
    """Per-label metric values of the grid NRAG under every combination of settings.

    Parameters
    ----------
    layers : sequence of ndarray of shape (n_texts, width)
        Pooled activations, one array per layer.
    labels : ndarray of shape (n_texts,)
        Label index of every text.
    label_names : sequence of str
    reducer_factory : callable
        ``reducer_factory(seed)`` returns a fresh 2-component reducer
        (``fit_transform``); called once per seed, fitted once per layer.
    seeds, gridsizes, binnings : sequences
        The settings to combine.

    Returns
    -------
    pandas.DataFrame
        Columns ``seed, gridsize, binning, label, metric, value``.
    """
    rows = []
    labels = np.asarray(labels, np.int64)
    for seed in seeds:
        reducer = reducer_factory(seed)
        reduced = [np.asarray(reducer.fit_transform(np.asarray(x, np.float32)), np.float64) for x in layers]
        for gridsize, binning in product(gridsizes, binnings):
            nrag = build_nrag_from_reduced(reduced, labels, label_names, gridsize=gridsize, binning=binning)
            values = _label_values(nrag)
            for metric in STATISTIC_METRICS:
                for g, name in enumerate(label_names):
                    rows.append((seed, gridsize, binning, name, metric, float(values[metric][g])))
    return pd.DataFrame(rows, columns=["seed", "gridsize", "binning", "label", "metric", "value"])


def sensitivity_summary(values: pd.DataFrame) -> pd.DataFrame:
    """Spread of each metric over settings and over labels, and the flag; one row per metric.

    Returns
    -------
    pandas.DataFrame
        Columns ``metric, spread_settings, spread_labels, ratio, flagged``
        (``ratio`` = spread_settings / spread_labels), in the order of
        :data:`~llm_mri_graphdb.analysis.statistics.STATISTIC_METRICS`.
    """
    settings = ["seed", "gridsize", "binning"]
    v = values.assign(seed=values.seed.astype(object).where(values.seed.notna(), "-"))

    def rng(s: pd.Series) -> float:
        return s.max() - s.min()

    over_settings = v.groupby(["metric", "label"], sort=False).value.agg(rng).groupby(level=0, sort=False).mean()
    over_labels = v.groupby(["metric", *settings], sort=False).value.agg(rng).groupby(level=0, sort=False).mean()
    out = pd.DataFrame({"spread_settings": over_settings, "spread_labels": over_labels})
    out = out.reindex([m for m in STATISTIC_METRICS if m in out.index])
    with np.errstate(divide="ignore", invalid="ignore"):
        out["ratio"] = out.spread_settings / out.spread_labels
    out["flagged"] = out.spread_settings > out.spread_labels
    return out.rename_axis("metric").reset_index()


def run_activations(nrag: NRAG) -> list[np.ndarray]:
    """The layers of the activation cache entry a run was scanned from; one clear line when there is none."""
    from llm_mri_graphdb.extract.cache import load_entry

    path = nrag.activations_path
    if not path or not Path(path).is_dir():
        raise ValueError(
            f"the sensitivity panel needs the run's activations; run {nrag.run_id} has no activation "
            f"cache entry{'' if not path else f' (its entry {path} is gone)'}: scan it again with "
            "--cache DIR."
        )
    found = load_entry(Path(path).parent, Path(path).name)
    if found is None:
        raise ValueError(
            f"the activation cache entry {path} of run {nrag.run_id} is gone; scan again with --cache DIR."
        )
    return found[0]


def run_reducer_factory(nrag: NRAG) -> tuple[Any, bool]:
    """``(factory, is_umap)``: ``factory(seed=None)`` makes a fresh reducer with the run's class and parameters
    (``seed`` replaces the random state of a UMAP)."""
    from llm_mri_graphdb.reduce import layers as reducers

    name = str(nrag.settings.get("reducer", "PCA"))
    cls = {"PCA": reducers.PCA, "SVD": reducers.SVD, "UMAP": reducers.UMAP}.get(name)
    if cls is None:
        raise ValueError(f"refitting knows the reducers PCA, SVD and UMAP; run {nrag.run_id} used {name}.")
    params = dict(nrag.settings.get("reducer_params") or {})
    is_umap = cls is reducers.UMAP

    def factory(seed: int | None = None) -> Any:
        return cls(**{**params, **({"random_state": seed} if is_umap and seed is not None else {})})

    return factory, is_umap


def run_sensitivity(
    nrag: NRAG,
    *,
    gridsizes: Sequence[int] = GRIDSIZES,
    binnings: Sequence[str] = BINNINGS,
    seeds: Sequence[int] = SEEDS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`sensitivity_values` and :func:`sensitivity_summary` of a stored run.

    The reducer is the run's (class and parameters from its settings); the seeds
    vary only for UMAP. Needs the run's texts' labels (a run stored with its
    texts) and its activation cache entry.
    """
    if nrag.kind != GRID:
        raise ValueError("the sensitivity panel compares grids; this run is a component NRAG (n_components > 2).")
    if nrag.text_labels is None:
        raise ValueError(
            f"the sensitivity panel needs the labels of run {nrag.run_id}'s texts; it was stored "
            "without them: scan it again without --no-texts."
        )
    layers = run_activations(nrag)
    factory, is_umap = run_reducer_factory(nrag)
    values = sensitivity_values(
        layers,
        nrag.text_labels,
        nrag.label_names,
        factory,
        seeds=tuple(seeds) if is_umap else (None,),
        gridsizes=gridsizes,
        binnings=binnings,
    )
    return values, sensitivity_summary(values)
