"""Graph metrics of an NRAG, as ``llm_mri`` defines them plus occupancy metrics.

Everything is computed from plain arrays, so a database backend (Neo4j GDS)
can feed its own per-node and per-edge results to the same functions and get
identical numbers. :func:`compute_metrics` builds those arrays from an NRAG;
:func:`metrics_from_arrays` computes the whole dictionary from them.

The graph is the one :meth:`NRAG.to_networkx` returns for the selected labels:
one directed edge per (source, target) region pair, its ``weight`` the sum of
the selected labels' weights.

Metric definitions
------------------
degree
    ``G.degree()`` of the DiGraph: in-degree + out-degree (edge count).
strength
    ``G.degree(weight="weight")``: weighted in-degree + weighted out-degree.
mean_/var_/skew_/kurt_degree, mean_/var_/skew_/kurt_strength
    pandas ``Series.mean``, ``var`` (sample, ddof=1), ``skew`` (adjusted
    Fisher-Pearson) and ``kurt`` (bias-corrected excess kurtosis) over all nodes.
assortativity
    ``nx.degree_assortativity_coefficient(G, weight="weight")``: the Pearson
    correlation, over edges u -> v (each edge counted once), of u's weighted
    out-degree and v's weighted in-degree; nan when either is constant.
density
    ``nx.density`` of a DiGraph: m / (n (n - 1)); 0 when n <= 1.
center_of_mass
    ``llm_mri``: mean over nodes of ``layer - n_layers / 2``.
center_of_strength
    Ours: the strength-weighted mean of ``layer - n_layers / 2`` (nan when the
    total strength is 0). On an all-labels grid NRAG every text flows once
    through every layer pair, so each inner layer holds twice the strength of
    the first and last and the value is always -0.5; it becomes informative
    for label subsets of N-D NRAGs, whose weights are correlations.
center_of_strength_llm_mri
    ``llm_mri``'s formula: sum over layers i = 0 .. n_layers (inclusive) of the
    sample std of strength in layer i times ``(i - n_layers / 2)``. Layer
    ``n_layers`` never has nodes, so the value is always nan, as in ``llm_mri``;
    kept for parity only.
degree_mean_by_layer, degree_var_by_layer
    pandas mean and sample variance of degree per layer 0 .. n_layers - 1
    (``llm_mri`` also reports an empty row for layer ``n_layers``).
projection_{even,odd}_*
    On ``bipartite.collaboration_weighted_projected_graph(G, nodes)`` of the
    nodes in even (odd) layers, a DiGraph with an edge u -> v for every 2-step
    path u -> w -> v, weighted sum over w of 1 / (out_degree(w) - 1) (0 when
    out_degree(w) == 1): mean/var of degree and strength, average weighted
    directed clustering (``nx.average_clustering``), assortativity, density.
    ``llm_mri``'s ``average_shortest_path`` is omitted: it calls
    ``nx.is_connected``, which raises on directed graphs.
occupancy_entropy_by_layer, occupancy_entropy_mean
    Shannon entropy (bits) of the texts' distribution over the regions of a
    layer (all selected labels pooled). Grid NRAGs only (nan for N-D).
js_divergence_by_layer, js_divergence_mean
    For every pair of selected labels, keyed ``"a|b"`` in selection order: the
    Jensen-Shannon divergence (bits, in [0, 1]) between the two labels'
    distributions over the regions of each layer. Grid only.
purity, purity_by_layer
    Share of texts that belong to their region's majority label: sum over
    regions of the largest label count / sum of counts (per layer and overall).
    Grid only.
transition_entropy_by_layer, transition_entropy_mean
    Conditional entropy (bits) of a text's region at layer l + 1 given its
    region at layer l, from the edge weights as joint counts; one value per
    layer pair. Grid only.

Above 400 lines: one function per metric family, each with its definition;
both stores compute through :func:`metrics_from_arrays`, so they stay together.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from llm_mri_graphdb.nrag.model import GRID, NRAG

__all__ = [
    "compute_metrics",
    "metrics_from_arrays",
    "metric_arrays",
    "pair_sums",
    "node_degrees",
    "distribution_metrics",
    "degree_assortativity",
    "density",
    "center_metrics",
    "layer_degree_metrics",
    "projection_graph",
    "projection_metrics",
    "occupancy_metrics",
    "transition_entropy",
    "METRIC_KEYS",
    "metric_statistics",
    "metric_contrasts",
]

_PROJ = ("mean_degree", "var_degree", "mean_strength", "var_strength", "average_clustering", "assortativity", "density")
METRIC_KEYS = (
    "n_regions",
    "n_edges",
    "n_layers",
    "label_names",
    "mean_degree",
    "var_degree",
    "skew_degree",
    "kurt_degree",
    "mean_strength",
    "var_strength",
    "skew_strength",
    "kurt_strength",
    "assortativity",
    "density",
    "center_of_mass",
    "center_of_strength",
    "center_of_strength_llm_mri",
    "degree_mean_by_layer",
    "degree_var_by_layer",
    *(f"projection_{side}_{k}" for side in ("even", "odd") for k in _PROJ),
    "occupancy_entropy_by_layer",
    "occupancy_entropy_mean",
    "js_divergence_by_layer",
    "js_divergence_mean",
    "purity",
    "purity_by_layer",
    "transition_entropy_by_layer",
    "transition_entropy_mean",
)


def node_degrees(n_nodes: int, edge_source, edge_target, edge_weight) -> dict[str, np.ndarray]:
    """Per-node ``degree``, ``strength``, ``out_strength`` and ``in_strength`` from an edge list."""
    src, tgt = np.asarray(edge_source, np.int64), np.asarray(edge_target, np.int64)
    w = np.asarray(edge_weight, np.float64)
    deg = np.bincount(src, minlength=n_nodes) + np.bincount(tgt, minlength=n_nodes)
    out_s = np.bincount(src, weights=w, minlength=n_nodes)
    in_s = np.bincount(tgt, weights=w, minlength=n_nodes)
    return {"degree": deg.astype(np.float64), "strength": out_s + in_s, "out_strength": out_s, "in_strength": in_s}


def distribution_metrics(values, name: str) -> dict[str, float]:
    """``mean_<name>``, ``var_<name>``, ``skew_<name>``, ``kurt_<name>`` as pandas computes them."""
    s = pd.Series(np.asarray(values, np.float64))
    return {
        f"mean_{name}": float(s.mean()),
        f"var_{name}": float(s.var()),
        f"skew_{name}": float(s.skew()),  # type: ignore[arg-type]  # stubs: Scalar
        f"kurt_{name}": float(s.kurt()),  # type: ignore[arg-type]  # stubs: Scalar
    }


def degree_assortativity(edge_source, edge_target, out_strength, in_strength) -> float:
    """Pearson correlation over edges of source out-strength and target in-strength.

    Equals ``nx.degree_assortativity_coefficient(G, weight="weight")`` on a
    DiGraph (x="out", y="in"); nan for fewer than two distinct values.
    """
    x = np.asarray(out_strength, np.float64)[np.asarray(edge_source, np.int64)]
    y = np.asarray(in_strength, np.float64)[np.asarray(edge_target, np.int64)]
    if x.size == 0:
        return float("nan")
    x, y = x - x.mean(), y - y.mean()
    denom = np.sqrt((x * x).mean() * (y * y).mean())
    return float((x * y).mean() / denom) if denom > 0 else float("nan")


def density(n_nodes: int, n_edges: int) -> float:
    """Directed density m / (n (n - 1)), 0 when n <= 1 (as ``nx.density``)."""
    return 0.0 if n_nodes <= 1 else n_edges / (n_nodes * (n_nodes - 1))


def center_metrics(node_layer, strength, n_layers: int) -> dict[str, float]:
    """``center_of_mass``, ``center_of_strength`` and ``center_of_strength_llm_mri``."""
    layer = np.asarray(node_layer, np.int64)
    s = np.asarray(strength, np.float64)
    offset = layer - n_layers / 2
    total = s.sum()
    llm = 0.0
    for i in range(n_layers + 1):  # llm_mri iterates range(layers + 1)
        llm += pd.Series(s[layer == i]).std() * (i - n_layers / 2)
    return {
        "center_of_mass": float(offset.mean()) if layer.size else float("nan"),
        "center_of_strength": float((s * offset).sum() / total) if total != 0 else float("nan"),
        "center_of_strength_llm_mri": float(llm),
    }


def layer_degree_metrics(node_layer, degree, n_layers: int) -> dict[str, list[float]]:
    """pandas mean and sample variance of degree in each layer 0 .. n_layers - 1."""
    layer, deg = np.asarray(node_layer, np.int64), np.asarray(degree, np.float64)
    series = [pd.Series(deg[layer == i]) for i in range(n_layers)]
    return {
        "degree_mean_by_layer": [float(s.mean()) for s in series],
        "degree_var_by_layer": [float(s.var()) for s in series],
    }


def _projection_matrix(node_layer, edge_source, edge_target, parity: int):
    """``(nodes, P)``: the projection onto layers of ``parity`` as one complex CSR matrix.

    ``P[a, b]`` (``a``, ``b`` positions in ``nodes``) has real part the
    collaboration weight of the projected edge ``nodes[a] -> nodes[b]`` and
    imaginary part the number of 2-step paths behind it; an entry is stored
    exactly when a path exists (its imaginary part is >= 1, so a zero weight,
    from paths through nodes of out-degree 1, keeps its edge). Self-loops are
    dropped, as networkx drops them.

    Notes
    -----
    ``P = R (D + iI) A`` with ``A`` the 0/1 adjacency matrix, ``R`` its rows
    in ``nodes`` and the second hop's columns restricted to ``nodes``, and
    ``D = diag(1 / (out_degree - 1))`` (0 where out_degree <= 1): one sparse
    product whose work is the number of 2-step paths, in compiled code. The
    real parts are the same sums of ``1 / (out_degree(w) - 1)`` a real product
    would give.
    """
    layer = np.asarray(node_layer, np.int64)
    n = layer.shape[0]
    src, tgt = np.asarray(edge_source, np.int64), np.asarray(edge_target, np.int64)
    nodes = np.flatnonzero(layer % 2 == parity)
    out = np.bincount(src, minlength=n)
    inv = np.divide(1.0, out - 1, out=np.zeros(n), where=out > 1)
    adjacency = sp.csr_matrix((np.ones(src.shape[0]), (src, tgt)), shape=(n, n))
    adjacency.sum_duplicates()
    adjacency.data[:] = 1.0
    first = adjacency[nodes] @ sp.diags(inv + 1j)  # [len(nodes), n]: u -> w, weighted by w
    second = adjacency[:, nodes].tocsr()  # [n, len(nodes)]: w -> v
    product = (first @ second).tocsr()  # [len(nodes), len(nodes)]
    if product.diagonal().any():  # a 2-cycle u -> w -> u; never in an NRAG (edges go one layer up)
        product = (product - sp.diags(product.diagonal())).tocsr()  # the difference drops the zeros
    return nodes, product


def projection_graph(node_layer, edge_source, edge_target, parity: int):
    """Collaboration-weighted projection onto the nodes of even (0) or odd (1) layers.

    Returns ``(nodes, source, target, weight)``: the projected node indices and
    the projected edges as indices into ``nodes``, grouped by source. Built by
    one sparse product (see ``_projection_matrix``), not by listing 2-step paths.
    """
    nodes, product = _projection_matrix(node_layer, edge_source, edge_target, parity)
    source = np.repeat(np.arange(nodes.shape[0]), np.diff(product.indptr))
    return nodes, source, product.indices.astype(np.int64), product.data.real.copy()


def _average_clustering(n: int, src, tgt, w) -> float:
    """``nx.average_clustering(G, weight="weight")`` of a DiGraph (Fagiolo's directed formula).

    Per node, triangles = diag((C + C.T)^3) with C the cube root of the
    weights over the largest weight, divided by
    2 (d_tot (d_tot - 1) - 2 d_bidirectional); self-loops are ignored.
    """
    if n == 0:
        return float("nan")
    max_w = w.max() if w.size else 1.0
    loop = src == tgt
    src, tgt, w = src[~loop], tgt[~loop], w[~loop]
    cw = np.cbrt(w / max_w) if max_w != 0 else np.zeros_like(w)
    C = sp.csr_matrix((cw, (src, tgt)), shape=(n, n))
    S = (C + C.T).tocsr()
    triangles = np.asarray((S @ S).multiply(S.T).sum(axis=1)).ravel()
    B = sp.csr_matrix((np.ones(src.shape[0]), (src, tgt)), shape=(n, n))
    B.data[:] = 1.0
    dtot = np.asarray(B.sum(axis=0)).ravel() + np.asarray(B.sum(axis=1)).ravel()
    dbi = np.asarray(B.multiply(B.T).sum(axis=1)).ravel()
    denom = 2 * (dtot * (dtot - 1) - 2 * dbi)
    c = np.divide(triangles, denom, out=np.zeros(n), where=triangles != 0)
    return float(c.mean())


def projection_metrics(node_layer, edge_source, edge_target, parity: int) -> dict[str, float]:
    """Metrics of the even (``parity=0``) or odd (1) projection, keys as in ``_PROJ``.

    ``average_clustering`` is 0 without computing triangles when every
    projected edge joins levels ``layer // 2`` of different parity: the
    projection is then bipartite, so it has no triangle and every node's
    clustering is 0 (as in any NRAG, whose edges go one layer up; see
    :mod:`llm_mri_graphdb.store.neo4j.metrics`). Other graphs take the general formula.
    """
    nodes, src, tgt, w = projection_graph(node_layer, edge_source, edge_target, parity)
    n = nodes.shape[0]
    d = node_degrees(n, src, tgt, w)
    deg, strength = pd.Series(d["degree"]), pd.Series(d["strength"])
    colour = (np.asarray(node_layer, np.int64)[nodes] // 2) % 2
    bipartite = n > 0 and bool((colour[src] != colour[tgt]).all())
    return {
        "mean_degree": float(deg.mean()),
        "var_degree": float(deg.var()),
        "mean_strength": float(strength.mean()),
        "var_strength": float(strength.var()),
        "average_clustering": 0.0 if bipartite else _average_clustering(n, src, tgt, w),
        "assortativity": degree_assortativity(src, tgt, d["out_strength"], d["in_strength"]),
        "density": density(n, src.shape[0]),
    }


def _entropy_bits(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def occupancy_metrics(node_layer, node_counts, n_layers: int, label_names: Sequence[str]) -> dict[str, Any]:
    """Occupancy entropy, pairwise Jensen-Shannon divergence and purity (grid NRAGs)."""
    layer = np.asarray(node_layer, np.int64)
    counts = np.asarray(node_counts, np.float64).reshape(layer.shape[0], len(label_names))
    total = counts.sum(axis=1)
    entropy, purity_layer = [], []
    js: dict[str, list[float]] = {f"{a}|{b}": [] for a, b in combinations(label_names, 2)}
    for i in range(n_layers):
        c = counts[layer == i]
        t = c.sum()
        entropy.append(_entropy_bits(c.sum(axis=1) / t) if t > 0 else float("nan"))
        purity_layer.append(float(c.max(axis=1).sum() / t) if t > 0 else float("nan"))
        for (ia, a), (ib, b) in combinations(enumerate(label_names), 2):
            na, nb = c[:, ia].sum(), c[:, ib].sum()
            if na == 0 or nb == 0:
                js[f"{a}|{b}"].append(float("nan"))
                continue
            p, q = c[:, ia] / na, c[:, ib] / nb
            m = (p + q) / 2
            js[f"{a}|{b}"].append(_entropy_bits(m) - (_entropy_bits(p) + _entropy_bits(q)) / 2)
    grand = total.sum()
    return {
        "occupancy_entropy_by_layer": entropy,
        "occupancy_entropy_mean": float(np.mean(entropy)) if entropy else float("nan"),
        "js_divergence_by_layer": js,
        "js_divergence_mean": {k: float(np.mean(v)) if v else float("nan") for k, v in js.items()},
        "purity": float(counts.max(axis=1).sum() / grand) if grand > 0 else float("nan"),
        "purity_by_layer": purity_layer,
    }


def transition_entropy(node_layer, edge_source, edge_weight, n_layers: int) -> dict[str, Any]:
    """H(region at l + 1 | region at l) in bits per layer pair, edge weights as joint counts.

    One row per distinct (source, target) pair; targets are not needed.
    """
    layer = np.asarray(node_layer, np.int64)
    src, w = np.asarray(edge_source, np.int64), np.asarray(edge_weight, np.float64)
    n = layer.shape[0]
    out = np.bincount(src, weights=w, minlength=n)
    level = layer[src]
    by_layer = []
    for i in range(n_layers - 1):
        sel = level == i
        total = w[sel].sum()
        if total <= 0:
            by_layer.append(float("nan"))
            continue
        ws = w[sel]
        pos = ws > 0
        by_layer.append(float(-(ws[pos] / total * np.log2(ws[pos] / out[src[sel]][pos])).sum()))
    return {
        "transition_entropy_by_layer": by_layer,
        "transition_entropy_mean": float(np.mean(by_layer)) if by_layer else float("nan"),
    }


def metrics_from_arrays(
    n_layers: int,
    node_layer,
    edge_source,
    edge_target,
    edge_weight,
    *,
    label_names: Sequence[str] = (),
    node_counts=None,
) -> dict[str, Any]:
    """Every metric of :data:`METRIC_KEYS` from per-node and per-edge arrays.

    Parameters
    ----------
    n_layers : int
        ``graph['layers']``: the number of layers of the NRAG.
    node_layer : ndarray of shape (n_nodes,)
    edge_source, edge_target : ndarray of shape (n_edges,)
        Node indices; one row per directed (source, target) pair.
    edge_weight : ndarray of shape (n_edges,)
        Summed over the selected labels.
    label_names : sequence of str
        The selected labels (names the Jensen-Shannon pairs).
    node_counts : ndarray of shape (n_nodes, n_labels), optional
        Texts per region and selected label; grid NRAGs only. Without it the
        occupancy and transition metrics are nan.
    """
    layer = np.asarray(node_layer, np.int64)
    src, tgt = np.asarray(edge_source, np.int64), np.asarray(edge_target, np.int64)
    w = np.asarray(edge_weight, np.float64)
    n = layer.shape[0]
    d = node_degrees(n, src, tgt, w)
    deg, strength = d["degree"], d["strength"]
    result: dict[str, Any] = {
        "n_regions": n,
        "n_edges": int(src.shape[0]),
        "n_layers": int(n_layers),
        "label_names": list(label_names),
    }
    result.update(distribution_metrics(deg, "degree"))
    result.update(distribution_metrics(strength, "strength"))
    result["assortativity"] = degree_assortativity(src, tgt, d["out_strength"], d["in_strength"])
    result["density"] = density(n, src.shape[0])
    result.update(center_metrics(layer, strength, n_layers))
    result.update(layer_degree_metrics(layer, deg, n_layers))
    for parity, side in ((0, "even"), (1, "odd")):
        proj = projection_metrics(layer, src, tgt, parity)
        result.update({f"projection_{side}_{k}": v for k, v in proj.items()})
    if node_counts is not None:
        result.update(occupancy_metrics(layer, node_counts, n_layers, label_names))
        result.update(transition_entropy(layer, src, w, n_layers))
    else:
        nan_layers = [float("nan")] * n_layers
        pairs = [f"{a}|{b}" for a, b in combinations(label_names, 2)]
        result.update(
            {
                "occupancy_entropy_by_layer": nan_layers,
                "occupancy_entropy_mean": float("nan"),
                "js_divergence_by_layer": {p: list(nan_layers) for p in pairs},
                "js_divergence_mean": {p: float("nan") for p in pairs},
                "purity": float("nan"),
                "purity_by_layer": list(nan_layers),
                "transition_entropy_by_layer": [float("nan")] * max(n_layers - 1, 0),
                "transition_entropy_mean": float("nan"),
            }
        )
    return {k: result[k] for k in METRIC_KEYS}


def pair_sums(n_nodes: int, edge_source, edge_target, edge_weight) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One edge per (source, target) pair, ordered by pair, its weight the sum of the pair's rows.

    >>> pair_sums(3, np.array([1, 0, 1]), np.array([2, 1, 2]), np.array([1.0, 2.0, 3.0]))
    (array([0, 1]), array([1, 2]), array([2., 4.]))
    """
    n = max(n_nodes, 1)
    keys, inv = np.unique(np.asarray(edge_source, np.int64) * n + edge_target, return_inverse=True)
    return keys // n, keys % n, np.bincount(inv, weights=edge_weight, minlength=keys.shape[0])


def metric_arrays(nrag: NRAG, labels: Any = None) -> dict[str, Any]:
    """The arrays of ``nrag.to_networkx(labels)``: nodes in region order, one edge per pair.

    Returns a dict with ``node_layer``, ``node_counts``, ``edge_source``,
    ``edge_target``, ``edge_weight`` (summed over the selected labels),
    ``label_names`` and ``n_layers``.
    """
    sub = nrag.select_labels(labels)
    source, target, weight = pair_sums(sub.n_regions, sub.edge_source, sub.edge_target, sub.edge_weight)
    return {
        "n_layers": sub.n_layers,
        "label_names": list(sub.label_names),
        "node_layer": sub.region_layer,
        "node_counts": sub.region_counts,
        "edge_source": source,
        "edge_target": target,
        "edge_weight": weight,
    }


def compute_metrics(nrag: NRAG, labels: Any = None) -> dict[str, Any]:
    """All metrics of ``nrag`` restricted to ``labels`` (None = all); keys in :data:`METRIC_KEYS`.

    Examples
    --------
    >>> import numpy as np
    >>> from llm_mri_graphdb.nrag import build_nrag_from_reduced
    >>> layer = np.array([[0.0, 0.0], [1.0, 1.0]])
    >>> g = build_nrag_from_reduced([layer, layer], [0, 1], ["a", "b"], gridsize=2)
    >>> m = compute_metrics(g)
    >>> m["mean_degree"], m["density"], m["purity"]
    (1.0, 0.16666666666666666, 1.0)
    """
    a = metric_arrays(nrag, labels)
    return metrics_from_arrays(
        a["n_layers"],
        a["node_layer"],
        a["edge_source"],
        a["edge_target"],
        a["edge_weight"],
        label_names=a["label_names"],
        node_counts=a["node_counts"] if nrag.kind == GRID else None,
    )


from .statistics import metric_contrasts, metric_statistics  # noqa: E402 - the statistics' public path is here
