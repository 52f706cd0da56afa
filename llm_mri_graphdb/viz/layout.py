"""Plain arrays and a deterministic row layout for drawing an NRAG.

An NRAG and a graph from ``NRAG.to_networkx`` (or any graph with ``llm_mri``-style
``"{layer}_{x}_{y}"`` / ``"{layer}_{component}"`` nodes) become one dict of region
and edge-row arrays, so :func:`llm_mri_graphdb.viz.plot_graph` draws both alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import networkx as nx
import numpy as np

from llm_mri_graphdb.nrag.model import COMPONENTS, GRID, NRAG

__all__ = ["barycentric", "drawing_arrays", "gridsize_of"]


def gridsize_of(nrag: NRAG) -> int:
    """Cells per axis: ``settings["gridsize"]``, else the largest cell index + 1."""
    g = nrag.settings.get("gridsize")
    if g is not None:
        return int(g)
    return int(max(nrag.region_x.max(initial=0), nrag.region_y.max(initial=0))) + 1


def drawing_arrays(nrag_or_graph: NRAG | nx.Graph) -> dict[str, Any]:
    """``kind``, ``n_layers``, ``gridsize``, ``label_names``, region ``layer/x/y`` and edge ``rows``."""
    if isinstance(nrag_or_graph, NRAG):
        return _graph_from_nrag(nrag_or_graph)
    return _graph_from_networkx(nrag_or_graph)


def _graph_from_nrag(nrag: NRAG) -> dict[str, Any]:
    return {
        "kind": nrag.kind,
        "n_layers": nrag.n_layers,
        "gridsize": gridsize_of(nrag) if nrag.kind == GRID else None,
        "label_names": list(nrag.label_names),
        "layer": nrag.region_layer,
        "x": nrag.region_x,
        "y": nrag.region_y,
        "rows": (nrag.edge_source, nrag.edge_target, nrag.edge_label, nrag.edge_weight),
    }


def _graph_from_networkx(G: nx.Graph) -> dict[str, Any]:
    def parse(node: Any) -> tuple[int, int, int]:
        try:
            p = [int(v) for v in str(node).split("_")]
        except ValueError:
            p = []
        if len(p) not in (2, 3):
            raise ValueError(f"node ids must be '{{layer}}_{{x}}_{{y}}' or '{{layer}}_{{component}}'; got {node!r}.")
        return (p[0], p[1], p[2] if len(p) == 3 else -1)

    nodes = sorted(G.nodes(), key=parse)
    index = {n: i for i, n in enumerate(nodes)}
    parts = np.array([parse(n) for n in nodes], dtype=np.int64).reshape(-1, 3)
    names = [str(n) for n in G.graph.get("label_names") or []]
    src, tgt, lab, wts = [], [], [], []
    for u, v, d in G.edges(data=True):
        if isinstance(d.get("weights"), Mapping):
            items = d["weights"].items()
        else:
            items = [(d.get("label", "all"), d.get("weight", 1.0))]
        for key, w in items:
            if isinstance(key, (int, np.integer)) and 0 <= key < len(names):
                key = names[key]
            if str(key) not in names:
                names.append(str(key))
            src.append(index[u])
            tgt.append(index[v])
            lab.append(names.index(str(key)))
            wts.append(float(w))
    layers = parts[:, 0]
    kind = GRID if (parts[:, 2] >= 0).any() else COMPONENTS
    return {
        "kind": kind,
        "n_layers": int(G.graph.get("layers", layers.max(initial=-1) + 1)),
        "gridsize": (
            int(G.graph.get("gridsize", max(parts[:, 1].max(initial=0), parts[:, 2].max(initial=0)) + 1))
            if kind == GRID
            else None
        ),
        "label_names": names,
        "layer": layers,
        "x": parts[:, 1],
        "y": parts[:, 2],
        "rows": tuple(
            np.asarray(a, dtype=t) for a, t in ((src, np.int64), (tgt, np.int64), (lab, np.int64), (wts, np.float64))
        ),
    }


def barycentric(layer: np.ndarray, key: np.ndarray, src: np.ndarray, tgt: np.ndarray, w: np.ndarray) -> np.ndarray:
    """In-row rank of each node: key order in the first row, then weighted mean of neighbour ranks.

    Sweeps down, up and down again; ties break by key, so the layout is deterministic.
    Edges join consecutive layers only, so a node's neighbours in the previous
    (next) row are its sources (targets).
    """
    n = layer.shape[0]
    pos = np.zeros(n)
    rows = np.unique(layer)

    def place(row: int, me: np.ndarray, nbr: np.ndarray) -> None:
        members = np.flatnonzero(layer == row)
        e = layer[me] == row
        total = np.bincount(me[e], weights=w[e], minlength=n)
        acc = np.bincount(me[e], weights=w[e] * pos[nbr[e]], minlength=n)
        bary = np.where(total[members] > 0, acc[members] / np.maximum(total[members], 1e-300), pos[members])
        order = members[np.lexsort((key[members], bary))]
        pos[order] = np.arange(order.size) - (order.size - 1) / 2

    first = np.flatnonzero(layer == rows[0])
    pos[first[np.argsort(key[first], kind="stable")]] = np.arange(first.size) - (first.size - 1) / 2
    for row in rows[1:]:
        place(row, tgt, src)
    for row in rows[-2::-1]:
        place(row, src, tgt)
    for row in rows[1:]:
        place(row, tgt, src)
    return pos
