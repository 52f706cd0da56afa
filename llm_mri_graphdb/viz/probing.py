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
    """Probe accuracy per layer with its 95 % band, beside its controls.

    Parameters
    ----------
    curve : mapping
        From :func:`llm_mri_graphdb.analysis.probing.probe_curve`: ``full`` and ``reduced``
        (``mean``, ``low``, ``high``, ``control_*`` per layer), ``majority``,
        ``layer0`` and, when computed, ``random_weights`` and ``bag_of_words``.
        The older form of ``probe.layer_curve`` (``full_mean``, ``full_std``, ...) is drawn as before.
    evaluation : mapping, default=None
        An ``evaluate_model`` result; its mean differences are listed beside the plot.
    ax : Axes, default=None

    Returns
    -------
    ax : Axes
        Full and reduced curves with bands cut at [0, 1], the shuffled-label control of each
        (dashed, with band), the majority class, layer 0 and the optional
        controls as lines and bands; legends sit right of the axes.
    """
    if ax is None:
        ax = new_axes((8.5, 4.4))
    layer = np.asarray(curve["layer"])
    if not isinstance(curve.get("full"), Mapping):
        _plot_old_curve(curve, layer, ax)
    else:
        for name, color, marker in (
            ("full", "tab:blue", "o"),
            ("reduced", "tab:orange", "s"),
            ("random_weights", "tab:gray", "^"),
        ):
            side = curve.get(name)
            if not isinstance(side, Mapping):
                continue
            label = {
                "full": "full activations",
                "reduced": f"reduced ({curve.get('method', {}).get('n_components', '')}-D, fitted per fold)",
                "random_weights": "random weights (full)",
            }[name]
            ax.plot(layer, side["mean"], color=color, marker=marker, markersize=4, label=label)
            ax.fill_between(layer, *_in_unit(side["low"], side["high"]), color=color, alpha=0.18, linewidth=0)
            if name != "random_weights":
                ax.plot(
                    layer,
                    side["control_mean"],
                    color=color,
                    linestyle="--",
                    linewidth=1,
                    label=f"{name}: shuffled-label control",
                )
                ax.fill_between(
                    layer, *_in_unit(side["control_low"], side["control_high"]), color=color, alpha=0.07, linewidth=0
                )
        majority = curve.get("majority")
        if isinstance(majority, Mapping):
            ax.axhline(majority["mean"], color="black", linestyle=":", linewidth=1, label="majority class")
        if curve.get("layer0") is not None:
            ax.axhline(
                curve["layer0"],
                color="tab:blue",
                linestyle=":",
                linewidth=1,
                alpha=0.7,
                label="layer 0 (embeddings), full",
            )
        bow = curve.get("bag_of_words")
        if isinstance(bow, Mapping):
            ax.axhline(bow["mean"], color="tab:green", linewidth=1, label="bag of words")
            ax.axhspan(max(bow["low"], 0), min(bow["high"], 1), color="tab:green", alpha=0.1, linewidth=0)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("layer")
    ax.set_ylabel(curve.get("metric", "score"))
    ax.set_ylim(-0.02, 1.05)
    ax.set_title(f"Linear probe per layer ({curve.get('metric', 'score')}, 95 % intervals)")
    legend = ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    if evaluation is not None:
        ax.add_artist(legend)
        legend.set_clip_on(False)  # add_artist clips to the axes, which drops it from the layout: it was cut off
        deltas = [f"{m}: {v['mean']:+.3f}" for m, v in evaluation["delta"].items()]
        blank = [Line2D([], [], linestyle="none")] * len(deltas)
        ax.legend(
            blank,
            deltas,
            loc="lower left",
            bbox_to_anchor=(1.01, 0.0),
            fontsize=7,
            frameon=False,
            handlelength=0,
            handletextpad=0,
            title="llm_mri: full last layer -\nreduced (all layers)",
            title_fontsize=7,
            prop={"family": "monospace", "size": 7},
        )
    return ax


def _in_unit(low: Any, high: Any) -> tuple[np.ndarray, np.ndarray]:
    """An interval cut at the score's range [0, 1] (a t interval near a perfect score reaches past 1)."""
    return np.clip(np.asarray(low, dtype=float), 0, 1), np.clip(np.asarray(high, dtype=float), 0, 1)


def _plot_old_curve(curve: Mapping[str, Any], layer: np.ndarray, ax: Axes) -> None:
    """``probe.layer_curve``'s form (mean +- std over splits), as probe.json files of older scans hold it."""
    for name, color, marker in (("full", "tab:blue", "o"), ("reduced", "tab:orange", "s")):
        m, s = np.asarray(curve[f"{name}_mean"]), np.asarray(curve[f"{name}_std"])
        ax.plot(layer, m, color=color, marker=marker, markersize=4, label=f"{name} activations")
        ax.fill_between(layer, m - s, m + s, color=color, alpha=0.2, linewidth=0)
    if curve.get("chance") is not None:
        ax.axhline(curve["chance"], color="gray", linestyle="--", linewidth=1, label="chance")
