"""Interactive graph view of an NRAG with Neo4j's ``neo4j-viz`` (NVL), fully offline.

:func:`graph_view` turns a run into a :class:`neo4j_viz.VisualizationGraph`:
one node per region, placed in columns by layer, coloured by its dominant
label (or by layer), sized by the texts it holds, with its label counts and up
to ``max_examples`` example texts as properties that the viewer shows on hover;
one relationship per region pair, as wide as the flow. :func:`view_html`
renders it into one self-contained HTML page (NVL's JavaScript is inlined, so
it works with the network off), which the report embeds and a notebook shows.

``neo4j-viz`` is imported when a view is made, never at package import.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .nrag import NRAG

__all__ = ["graph_view", "view_html", "region_examples", "COLOR_BY"]

COLOR_BY = ("label", "layer")
# Okabe-Ito: distinguishable under the common colour-vision deficiencies.
_PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
_LAYER_GAP, _ROW_GAP, _CELL = 260.0, 70.0, 60.0


def region_examples(paths: np.ndarray, texts: Sequence[str], n_regions: int, *,
                    max_examples: int = 5, max_chars: int = 160) -> list[list[str]]:
    """Up to ``max_examples`` texts of every region, in corpus order.

    Parameters
    ----------
    paths : ndarray of shape (n_texts, n_layers)
        Region index (into the NRAG's region arrays) of every text at every layer.
    texts : sequence of str
        The corpus texts, in the order of ``paths``' rows.
    n_regions : int
    max_examples : int, default=5
    max_chars : int, default=160
        Longer texts are cut and end with an ellipsis.
    """
    paths = np.asarray(paths)
    if paths.ndim != 2 or paths.shape[0] != len(texts):
        raise ValueError(f"paths must have shape (n_texts={len(texts)}, n_layers); got {paths.shape}.")
    examples: list[list[str]] = [[] for _ in range(n_regions)]
    order = np.argsort(paths, axis=0, kind="stable")  # texts of a region stay in corpus order
    for layer in range(paths.shape[1]):
        column = paths[order[:, layer], layer]
        starts = np.flatnonzero(np.r_[True, column[1:] != column[:-1]])
        for start in starts.tolist():
            region = int(column[start])
            chosen = order[start:start + max_examples, layer]
            chosen = chosen[paths[chosen, layer] == region]
            examples[region] = [_shorten(texts[i], max_chars) for i in chosen.tolist()]
    return examples


def _shorten(text: str, max_chars: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= max_chars else text[: max_chars - 1] + "\u2026"


def _positions(nrag: NRAG) -> tuple[np.ndarray, np.ndarray]:
    """Grid scans: each layer a panel of its ``gridsize x gridsize`` cells, panels side by side;
    component scans: a column per layer, components top to bottom."""
    layer = nrag.region_layer
    if nrag.kind == "grid":
        g = int(nrag.settings.get("gridsize") or (max(nrag.region_x.max(initial=0), nrag.region_y.max(initial=0)) + 1))
        return layer * (g + 2) * _CELL + nrag.region_x * _CELL, (g - 1 - nrag.region_y) * _CELL
    return layer * _LAYER_GAP, nrag.region_x * _ROW_GAP


def graph_view(nrag: NRAG, *, examples: Sequence[Sequence[str]] | None = None, color_by: str = "label",
               labels: Any = None, min_weight: float = 0.0):
    """The NRAG as a :class:`neo4j_viz.VisualizationGraph`.

    Parameters
    ----------
    nrag : NRAG
    examples : list of list of str, optional
        Example texts per region (see :func:`region_examples`), shown on hover.
    color_by : {"label", "layer"}, default="label"
        Dominant label of the region, or its layer.
    labels : label selection, optional
        Names or indices; default all.
    min_weight : float, default=0.0
        Region pairs whose summed flow is not above this are left out.

    Returns
    -------
    neo4j_viz.VisualizationGraph
    """
    if color_by not in COLOR_BY:
        raise ValueError(f"color_by must be one of {COLOR_BY}; got {color_by!r}.")
    if examples is not None and len(examples) != nrag.n_regions:
        raise ValueError(f"examples must hold one list per region ({nrag.n_regions}); got {len(examples)}.")
    from neo4j_viz import Node, Relationship, VisualizationGraph

    keep_all = labels is None
    sub = nrag if keep_all else nrag.select_labels(labels)
    if not keep_all:
        examples = None  # region indices change with the selection
    names = sub.label_names
    ids = sub.region_ids()
    xs, ys = _positions(sub)
    totals = sub.region_counts.sum(axis=1)
    dominant = sub.region_counts.argmax(axis=1)
    size_scale = 10.0 + 30.0 * np.sqrt(totals / max(1, totals.max()))
    nodes = []
    for r, node_id in enumerate(ids):
        counts = dict(zip(names, sub.region_counts[r].tolist()))
        key = int(dominant[r]) if color_by == "label" else int(sub.region_layer[r])
        props: dict[str, Any] = {"layer": int(sub.region_layer[r]), "texts": int(totals[r]), **counts,
                                 "dominant label": names[int(dominant[r])]}
        if examples is not None:
            for k, text in enumerate(examples[r], start=1):
                props[f"example {k}"] = text
        nodes.append(Node(id=node_id, caption=node_id, size=float(size_scale[r]),
                          color=_PALETTE[key % len(_PALETTE)], x=float(xs[r]), y=float(ys[r]), pinned=True,
                          properties=props))
    pairs: dict[tuple[int, int], dict[str, float]] = {}
    for s, t, lab, w in zip(sub.edge_source.tolist(), sub.edge_target.tolist(), sub.edge_label.tolist(),
                            sub.edge_weight.tolist()):
        pairs.setdefault((s, t), {})[names[lab]] = w
    wmax = max((sum(v.values()) for v in pairs.values()), default=1.0) or 1.0
    relationships = [
        Relationship(source=ids[s], target=ids[t], width=float(0.5 + 6.0 * abs(sum(w.values())) / abs(wmax)),
                     color="#888888", properties={"weight": float(sum(w.values())), **w})
        for (s, t), w in pairs.items() if sum(w.values()) > min_weight
    ]
    return VisualizationGraph(nodes=nodes, relationships=relationships)


def view_html(view, *, height: str = "640px", width_px: int = 1100) -> str:
    """One self-contained HTML page (NVL inlined) of a :func:`graph_view`, zoomed to show every region."""
    xs = [n.x for n in view.nodes] or [0.0]
    ys = [n.y for n in view.nodes] or [0.0]
    span_x, span_y = max(xs) - min(xs) + 2 * _CELL, max(ys) - min(ys) + 2 * _CELL
    height_px = float(str(height).removesuffix("px")) if str(height).endswith("px") else 640.0
    zoom = max(0.08, min(2.0, width_px / span_x, height_px / span_y))
    pan = ((max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2)
    return view.render(layout="free", height=height, show_layout_button=False, initial_zoom=zoom,
                       pan_position=pan).data
