"""The layered NRAG image: layers as rows, regions as nodes, edges coloured per label.

Drawn with matplotlib collections, no graphviz (``llm_mri`` laid graphs out
with ``dot``); every label's edges are drawn, any number of labels.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.colors as mcolors
import networkx as nx
import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D

from llm_mri_graphdb.nrag.model import GRID, NRAG

from ..labels import resolve_label
from .figure import new_axes, root_figure
from .layout import barycentric, drawing_arrays

__all__ = ["plot_graph"]


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
    d = drawing_arrays(nrag_or_graph)
    names = d["label_names"]
    chosen = list(range(len(names))) if labels is None else [resolve_label(names, label) for label in labels]
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
    key = x * g + y if d["kind"] == GRID else x
    if fix_node_positions:
        hpos = key.astype(float)
        span = float(g * g - 1 if d["kind"] == GRID else max(key.max(), 1))
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
        ax = new_axes((float(np.clip(slots * 0.13, 8, 22)), float(np.clip(0.55 * d["n_layers"] + 1.2, 3, 14))))
    fig_w = ax.get_position().width * root_figure(ax).get_figwidth() * 72
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
    segs = np.stack(
        [
            np.column_stack([hpos[src[e]] + offset[e], vpos[src[e]]]),
            np.column_stack([hpos[tgt[e]] + offset[e], vpos[tgt[e]]]),
        ],
        axis=1,
    )
    rgba = np.array([color_of[li] for li in lab[e]]).reshape(-1, 4)
    rgba[:, 3] = 0.3 + 0.55 * rel[e]
    # the stubs take a sequence of segments; matplotlib documents and accepts the (n, 2, 2) array too
    ax.add_collection(LineCollection(segs, colors=rgba, linewidths=0.3 + 2.7 * rel[e], zorder=1, capstyle="round"))  # type: ignore[arg-type]

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
    ax.set_yticks(
        -np.arange(d["n_layers"]),
        [f"layer {layer}" for layer in range(d["n_layers"])],
        fontsize=8 if d["n_layers"] <= 30 else 5,
    )
    ax.set_xticks([])
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    handles = [Line2D([0], [0], color=color_of[li], lw=3) for li in chosen]
    ax.legend(
        handles, [names[li] for li in chosen], loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, title="label"
    )
    where = "cell position" if fix_node_positions else "neighbour order"
    ax.set_title(f"NRAG: {', '.join(names[li] for li in chosen)} (regions placed by {where})")
    return ax
