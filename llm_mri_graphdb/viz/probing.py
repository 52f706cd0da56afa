"""Probing figures: the per-layer probe curve and ``llm_mri``'s metric-delta bars."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from .figure import new_axes

__all__ = ["plot_probe", "plot_metric_deltas"]


def plot_metric_deltas(result: Mapping[str, Any], *, ax: Axes | None = None) -> Axes:
    """Bar chart of ``evaluate_model``'s mean differences (full - reduced), as ``llm_mri``'s ``display_metrics``.

    Error bars are the standard deviation over splits.
    """
    delta = result["delta"]
    names = list(delta)
    means = [delta[m]["mean"] for m in names]
    stds = [float(np.std(delta[m]["per_split"])) for m in names]
    if ax is None:
        ax = new_axes((6.5, 4.0))
    ax.bar(range(len(names)), means, yerr=stds, color="tab:blue", capsize=3)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_ylabel("difference")
    ax.set_title("Difference in metrics (full - reduced)")
    return ax


def plot_probe(
    curve: Mapping[str, Any], *, evaluation: Mapping[str, Any] | None = None, ax: Axes | None = None
) -> Axes:
    """Probe score per layer: full activations vs reduced ones (mean +- std over splits).

    Parameters
    ----------
    curve : mapping
        From :func:`llm_mri_graphdb.analysis.probe.layer_curve`: ``layer``, ``full_mean``,
        ``full_std``, ``reduced_mean``, ``reduced_std``, ``metric``, ``chance``.
    evaluation : mapping, default=None
        An ``evaluate_model`` result; its mean differences are listed beside the plot.
    ax : Axes, default=None

    Returns
    -------
    ax : Axes
        Two lines (full, reduced) and a dashed chance line; legends sit right of the axes.
    """
    if ax is None:
        ax = new_axes((8.0, 4.2))
    layer = np.asarray(curve["layer"])
    for name, color, marker in (("full", "tab:blue", "o"), ("reduced", "tab:orange", "s")):
        m, s = np.asarray(curve[f"{name}_mean"]), np.asarray(curve[f"{name}_std"])
        ax.plot(layer, m, color=color, marker=marker, markersize=4, label=f"{name} activations")
        ax.fill_between(layer, m - s, m + s, color=color, alpha=0.2, linewidth=0)
    if curve.get("chance") is not None:
        ax.axhline(curve["chance"], color="gray", linestyle="--", linewidth=1, label="chance")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("layer")
    ax.set_ylabel(curve.get("metric", "score"))
    ax.set_ylim(-0.02, 1.05)
    ax.set_title(f"Linear probe per layer ({curve.get('metric', 'score')})")
    legend = ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    if evaluation is not None:
        ax.add_artist(legend)
        deltas = [f"{m}: {v['mean']:+.3f}" for m, v in evaluation["delta"].items()]
        blank = [Line2D([], [], linestyle="none")] * len(deltas)
        ax.legend(blank, deltas, loc="lower left", bbox_to_anchor=(1.01, 0.0), fontsize=7, frameon=False,
                  handlelength=0, handletextpad=0, title="full last layer -\nreduced (all layers)",
                  title_fontsize=7, prop={"family": "monospace", "size": 7})
    return ax
