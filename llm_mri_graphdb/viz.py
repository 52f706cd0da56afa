"""Figures of an NRAG scan: layer heatmaps, the layered graph, small multiples, probing.

Matplotlib only, headless: figures are built with :class:`matplotlib.figure.Figure`
(never pyplot), so nothing here touches global state or needs a display, and no
graphviz is needed (``llm_mri`` laid graphs out with ``dot``).

Return rule: a single-panel ``plot_<thing>`` draws into ``ax`` (creating a figure
only when ``ax is None``) and returns that Axes; the multi-panel :func:`plot_scan`
returns its Figure. Nothing here saves or shows; :func:`figure_to_png_bytes` is the
one place that renders.

Unlike ``llm_mri``, heatmaps always span the layer's whole ``gridsize x gridsize``
plane on its fixed axes (so two labels' heatmaps line up), and graphs draw every
label's edge, any number of labels.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.colors as mcolors
import networkx as nx
import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator

from ._graph_layout import barycentric, graph_arrays, gridsize_of
from .nrag import NRAG

__all__ = [
    "plot_heatmap",
    "plot_graph",
    "plot_scan",
    "plot_probe",
    "plot_metric_deltas",
    "figure_to_png_bytes",
]


# -- heatmaps -----------------------------------------------------------------------
def _check_grid(nrag: NRAG) -> None:
    if nrag.kind != "grid":
        n = nrag.settings.get("n_components", int(nrag.region_x.max(initial=-1)) + 1)
        raise ValueError(f"a grid needs a 2-component scan; this scan has {n} components.")


def _check_layer(nrag: NRAG, layer: int) -> int:
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 0 <= layer < nrag.n_layers:
        raise ValueError(f"layer must be one of 0..{nrag.n_layers - 1}; got {layer!r}.")
    return int(layer)


def _label_index(label_names: Sequence[str], label: str | int) -> int:
    if isinstance(label, (int, np.integer)) and not isinstance(label, bool) and 0 <= label < len(label_names):
        return int(label)
    if isinstance(label, str) and label in label_names:
        return list(label_names).index(label)
    raise ValueError(f"label must be one of {list(label_names)}; got {label!r}.")


def _layer_grid(nrag: NRAG, layer: int, label: int | None) -> np.ndarray:
    """Counts of ``layer`` as an ``ndarray of shape (gridsize, gridsize)`` indexed ``[y, x]``."""
    g = gridsize_of(nrag)
    grid = np.zeros((g, g), dtype=np.int64)
    sel = nrag.region_layer == layer
    counts = nrag.region_counts[sel]
    counts = counts.sum(axis=1) if label is None else counts[:, label]
    np.add.at(grid, (nrag.region_y[sel], nrag.region_x[sel]), counts)
    return grid


_COUNT_FORMAT = FuncFormatter(lambda v, _: f"{v:g}")


def _count_ticks(scale: str, vmax: float) -> list[float] | None:
    """0, 1, 2, 5, 10, 20, 50, ... up to ``vmax`` for a log colour bar (its default shows decades only)."""
    if scale != "log":
        return None
    steps = [m * 10**e for e in range(int(math.log10(max(vmax, 1))) + 1) for m in (1, 2, 5)]
    return [0.0] + [float(t) for t in steps if t <= vmax]


def _new_ax(figsize: tuple[float, float]) -> Axes:
    return Figure(figsize=figsize, layout="constrained").add_subplot()


def plot_heatmap(
    nrag: NRAG,
    layer: int,
    label: str | int | None = None,
    *,
    ax: Axes | None = None,
    annotate: bool = True,
    cmap: str = "Blues",
    vmax: float | None = None,
    scale: str = "linear",
    colorbar: bool = False,
) -> Axes:
    """Heatmap of one layer's cell counts over the layer's whole fixed plane.

    Parameters
    ----------
    nrag : NRAG
        A grid (2-component) scan.
    layer : int
    label : str or int, default=None
        Label name or index; ``None`` sums all labels.
    ax : Axes, default=None
        Drawn into when given; otherwise a new figure is made.
    annotate : bool, default=True
        Write the count in every non-empty cell.
    cmap : str, default="Blues"
    vmax : float, default=None
        Top of the colour scale (share it to compare panels); the layer's maximum if None.
    scale : {"linear", "log"}, default="linear"
        ``"log"`` is symmetric-log (linear below 1 text), so sparse cells stay
        visible next to a crowded one.
    colorbar : bool, default=False

    Returns
    -------
    ax : Axes
        Holds one ``QuadMesh`` of ``gridsize**2`` cells, y increasing upward.
    """
    _check_grid(nrag)
    layer = _check_layer(nrag, layer)
    li = None if label is None else _label_index(nrag.label_names, label)
    grid = _layer_grid(nrag, layer, li)
    g = grid.shape[0]
    if nrag.layer_bounds is not None:
        x0, x1, y0, y1 = nrag.layer_bounds[layer]
    else:
        x0, x1, y0, y1 = 0.0, float(g), 0.0, float(g)
    xe, ye = np.linspace(x0, x1, g + 1), np.linspace(y0, y1, g + 1)
    if ax is None:
        ax = _new_ax((4.8, 4.4))
    top = float(vmax) if vmax is not None else max(float(grid.max()), 1.0)
    if scale not in ("linear", "log"):
        raise ValueError(f"scale must be 'linear' or 'log'; got {scale!r}.")
    norm = (mcolors.Normalize(0.0, top) if scale == "linear"
            else mcolors.SymLogNorm(linthresh=1.0, linscale=1.0, vmin=0.0, vmax=top, base=10))
    mesh = ax.pcolormesh(xe, ye, grid, cmap=cmap, norm=norm, edgecolors="white", linewidth=0.3)
    if annotate:
        xc, yc = (xe[:-1] + xe[1:]) / 2, (ye[:-1] + ye[1:]) / 2
        size = max(4.0, min(9.0, 90.0 / g))
        for iy, ix in zip(*np.nonzero(grid)):
            dark = norm(grid[iy, ix]) > 0.6
            ax.text(xc[ix], yc[iy], str(grid[iy, ix]), ha="center", va="center",
                    fontsize=size, color="white" if dark else "black")
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax, shrink=0.8, label="texts", format=_COUNT_FORMAT,
                           ticks=_count_ticks(scale, top))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_box_aspect(1)
    ax.set_xlabel("component 1")
    ax.set_ylabel("component 2")
    name = "all labels" if li is None else nrag.label_names[li]
    ax.set_title(f"Layer {layer}: {name}")
    return ax


def plot_scan(
    nrag: NRAG,
    *,
    label: str | int | None = None,
    annotate: bool = False,
    cmap: str = "Blues",
    scale: str = "log",
    ncols: int | None = None,
    fig: Figure | None = None,
) -> Figure:
    """All layers' heatmaps as small multiples on one colour scale.

    Parameters
    ----------
    nrag : NRAG
        A grid scan.
    label : str or int, default=None
        ``None`` sums all labels.
    annotate : bool, default=False
        Counts in cells (readable only for small grids).
    cmap : str, default="Blues"
    scale : {"log", "linear"}, default="log"
        One colour scale for all panels; log by default because a collapsed layer
        (every text in one cell) would otherwise wash out all others.
    ncols : int, default=None
        Panels per row; about ``sqrt(n_layers)`` when None.
    fig : Figure, default=None
        Drawn into when given.

    Returns
    -------
    fig : Figure
        One Axes per layer (then one colour bar), unused panels removed.
    """
    _check_grid(nrag)
    li = None if label is None else _label_index(nrag.label_names, label)
    n = nrag.n_layers
    ncols = ncols or math.ceil(math.sqrt(n))
    nrows = math.ceil(n / ncols)
    if fig is None:
        fig = Figure(figsize=(2.3 * ncols + 1.0, 2.4 * nrows + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    vmax = max(max(int(_layer_grid(nrag, l, li).max()) for l in range(n)), 1)
    for l in range(n):
        ax = plot_heatmap(nrag, l, label, ax=axes[l], annotate=annotate, cmap=cmap, vmax=vmax, scale=scale)
        ax.set_title(f"Layer {l}", fontsize=9)
        ax.tick_params(labelsize=6)
        ax.set_xlabel("")
        ax.set_ylabel("")
    for ax in axes[n:]:
        ax.remove()
    name = "all labels" if li is None else nrag.label_names[li]
    fig.suptitle(f"Scan: {name}")
    fig.colorbar(axes[0].collections[0], ax=list(axes[:n]), shrink=0.6, label="texts", format=_COUNT_FORMAT,
                 ticks=_count_ticks(scale, vmax))
    return fig


# -- the layered graph -----------------------------------------------------------------
def plot_graph(
    nrag_or_graph: NRAG | nx.Graph,
    *,
    labels: Sequence[str] | None = None,
    colormap: str | None = None,
    fix_node_positions: bool = True,
    ax: Axes | None = None,
) -> Axes:
    """The layered NRAG image: layers as rows (first on top), edges coloured per label.

    Parameters
    ----------
    nrag_or_graph : NRAG or networkx.DiGraph
        A graph from ``NRAG.to_networkx`` (edge ``weights`` per label) or any graph
        with ``"{layer}_{x}_{y}"`` / ``"{layer}_{component}"`` nodes and ``weight`` edges.
    labels : sequence of str, default=None
        Labels to draw; all when None.
    colormap : str, default=None
        Label colours are sampled evenly from it; None means ``"coolwarm"`` (as
        ``llm_mri``) for up to two labels and the qualitative ``"tab10"`` beyond,
        whose colours stay distinct.
    fix_node_positions : bool, default=True
        Place a region by its cell (``x * gridsize + y``) or component, so scans of
        different labels line up; otherwise order each row by neighbour barycentres.
        ``gridsize`` comes from the NRAG's settings or the graph's ``gridsize``
        attribute, else from the largest cell index drawn.
    ax : Axes, default=None

    Returns
    -------
    ax : Axes
        One ``PathCollection`` of the drawn regions and a legend entry per label.

    Notes
    -----
    An edge that several labels share is drawn once per label, side by side.
    Edge width is proportional to weight (over all drawn rows); node colour blends
    the label colours by each label's share of the node's incident weight (for two
    labels, the colormap at label 2's share, as in ``llm_mri``); node area grows
    with degree.
    """
    d = graph_arrays(nrag_or_graph)
    names = d["label_names"]
    chosen = list(range(len(names))) if labels is None else [_label_index(names, l) for l in labels]
    src, tgt, lab, w = d["rows"]
    keep = np.isin(lab, chosen) & (np.abs(w) > 0)
    src, tgt, lab, w = src[keep], tgt[keep], lab[keep], np.abs(w[keep])
    if src.size == 0:
        raise ValueError(f"the graph has no edges to draw for labels {[names[i] for i in chosen]}.")
    nodes = np.unique(np.concatenate([src, tgt]))
    remap = np.full(d["layer"].shape[0], -1)
    remap[nodes] = np.arange(nodes.size)
    src, tgt = remap[src], remap[tgt]
    layer, x, y = d["layer"][nodes], d["x"][nodes], d["y"][nodes]
    g = d["gridsize"]
    key = x * g + y if d["kind"] == "grid" else x
    if fix_node_positions:
        hpos = key.astype(float)
        span = float(g * g - 1 if d["kind"] == "grid" else max(key.max(), 1))
    else:
        hpos = barycentric(layer, key, src, tgt, w)
        span = float(max(np.bincount(layer).max() - 1, 1))
        hpos = hpos + span / 2
    vpos = -layer.astype(float)

    if colormap is None:
        colormap = "coolwarm" if len(chosen) <= 2 else "tab10"
    cmap = colormaps[colormap]
    qualitative = isinstance(cmap, mcolors.ListedColormap) and cmap.N <= 20
    if qualitative:
        colors = cmap(np.arange(len(chosen)) % cmap.N)
    else:
        colors = cmap(np.linspace(0, 1, len(chosen))) if len(chosen) > 1 else cmap([0.0])
    color_of = {li: colors[k] for k, li in enumerate(chosen)}
    slots = span + 1
    if ax is None:
        ax = _new_ax((float(np.clip(slots * 0.13, 8, 22)), float(np.clip(0.55 * d["n_layers"] + 1.2, 3, 14))))
    fig_w = ax.get_position().width * ax.figure.get_figwidth() * 72
    slot_pt = fig_w / slots

    # one segment per (edge, label); labels sharing an edge sit side by side
    pairs = src * nodes.size + tgt
    order = np.lexsort((lab, pairs))
    _, start, inverse, share = np.unique(pairs[order], return_index=True, return_inverse=True, return_counts=True)
    rank, shared = np.empty(src.size), np.empty(src.size)
    rank[order] = np.arange(src.size) - start[inverse] - (share[inverse] - 1) / 2
    shared[order] = share[inverse]
    offset = rank * np.minimum(0.3, 0.9 / shared)
    # heavier rows on top whatever their label, and lighter rows fainter, so no label hides another
    rel = w / w.max()
    e = np.lexsort((lab, rel))
    segs = np.stack([np.column_stack([hpos[src[e]] + offset[e], vpos[src[e]]]),
                     np.column_stack([hpos[tgt[e]] + offset[e], vpos[tgt[e]]])], axis=1)
    rgba = np.array([color_of[li] for li in lab[e]]).reshape(-1, 4)
    rgba[:, 3] = 0.3 + 0.55 * rel[e]
    ax.add_collection(LineCollection(segs, colors=rgba, linewidths=0.3 + 2.7 * rel[e], zorder=1, capstyle="round"))

    # node colour: label colours blended by share of incident weight
    inc = np.zeros((nodes.size, len(names)))
    np.add.at(inc, (src, lab), w)
    np.add.at(inc, (tgt, lab), w)
    inc = inc[:, chosen]
    frac = inc / inc.sum(axis=1, keepdims=True)
    if len(chosen) == 2 and not qualitative:
        node_colors = cmap(frac[:, 1])
    else:
        node_colors = np.clip(frac @ np.asarray([color_of[li] for li in chosen]), 0, 1)
    links = np.unique(pairs)  # distinct neighbours: edges only join consecutive layers
    deg = np.bincount(links // nodes.size, minlength=nodes.size) + np.bincount(links % nodes.size, minlength=nodes.size)
    dmax = float(np.clip(slot_pt * 1.1, 6, 22))
    sizes = (dmax * (0.35 + 0.65 * deg / max(deg.max(), 1))) ** 2
    ax.scatter(hpos, vpos, s=sizes, c=node_colors, edgecolors="black", linewidths=0.5, zorder=2)

    ax.set_xlim(-0.02 * slots - 0.5, span + 0.02 * slots + 0.5)
    ax.set_ylim(-(d["n_layers"] - 1) - 0.5, 0.5)
    ax.set_yticks(-np.arange(d["n_layers"]), [f"layer {l}" for l in range(d["n_layers"])],
                  fontsize=8 if d["n_layers"] <= 30 else 5)
    ax.set_xticks([])
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    handles = [Line2D([0], [0], color=color_of[li], lw=3) for li in chosen]
    ax.legend(handles, [names[li] for li in chosen], loc="upper left", bbox_to_anchor=(1.0, 1.0),
              frameon=False, title="label")
    where = "cell position" if fix_node_positions else "neighbour order"
    ax.set_title(f"NRAG: {', '.join(names[li] for li in chosen)} (regions placed by {where})")
    return ax


# -- probing ----------------------------------------------------------------------------
def plot_metric_deltas(result: Mapping[str, Any], *, ax: Axes | None = None) -> Axes:
    """Bar chart of ``evaluate_model``'s mean differences (full - reduced), as ``llm_mri``'s ``display_metrics``.

    Error bars are the standard deviation over splits.
    """
    delta = result["delta"]
    names = list(delta)
    means = [delta[m]["mean"] for m in names]
    stds = [float(np.std(delta[m]["per_split"])) for m in names]
    if ax is None:
        ax = _new_ax((6.5, 4.0))
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
        From :func:`llm_mri_graphdb.probe.layer_curve`: ``layer``, ``full_mean``,
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
        ax = _new_ax((8.0, 4.2))
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


def figure_to_png_bytes(fig: Figure | Axes, *, dpi: int = 100) -> bytes:
    """PNG bytes of a figure (or an Axes' figure), for reports that embed images."""
    fig = fig.figure if isinstance(fig, Axes) else fig
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
