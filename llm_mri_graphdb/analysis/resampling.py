"""The resampling kernel of :mod:`llm_mri_graphdb.analysis.statistics`: per-label metrics of many text groups.

A grid NRAG built from texts keeps every text's region at every layer. A group of
texts (a label, a permuted label, a bootstrap resample of one) has the sub-graph
whose regions are the cells its texts occupy and whose edge ``A -> B`` between
layers ``l`` and ``l + 1`` weighs the number of its texts in ``A`` at ``l`` and in
``B`` at ``l + 1``. :func:`resample_metrics` lays the weights of many groups out
as one ``(groups, edges)`` array, built per chunk of resamples as the sparse
edge-text incidence times the texts' multiplicities in the groups (one
``np.bincount``), and computes every metric of
:data:`~llm_mri_graphdb.analysis.statistics.STATISTIC_METRICS` from it as batched
array operations (node sums through sparse incidence products; the projections'
two-step reachability through batched products of dense 0/1 blocks per layer
pair). Each value equals :func:`~llm_mri_graphdb.analysis.metrics.compute_metrics`
on the NRAG :func:`rebuild_from_paths` builds from the same group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import scipy.sparse as sp

from llm_mri_graphdb.labels import resolve_labels
from llm_mri_graphdb.nrag.model import GRID, NRAG

__all__ = ["TextPaths", "rebuild_from_paths", "resample_metrics"]

_BLOCK_BUDGET = 2**23  # cells of a chunk's dense 0/1 blocks (32 MiB of float32)


@dataclass(frozen=True)
class TextPaths:
    """What the statistics read of a run: every text's region at every layer and its label.

    Built from an NRAG (:meth:`of`) or from a store's rows (the Neo4j store
    reads them through Cypher), so both give the kernel the same arrays.

    Parameters
    ----------
    kind : {"grid", "components"}
    n_layers : int
    label_names : tuple of str
    region_layer : ndarray of shape (n_regions,)
        Layer of each region, regions in canonical order (sorted by layer).
    paths : ndarray of shape (n_texts, n_layers) or None
        Region index of every text at every layer.
    text_labels : ndarray of shape (n_texts,) or None
        Label index of every text.
    """

    kind: str
    n_layers: int
    label_names: tuple[str, ...]
    region_layer: np.ndarray
    paths: np.ndarray | None
    text_labels: np.ndarray | None

    @classmethod
    def of(cls, nrag: NRAG) -> TextPaths:
        return cls(nrag.kind, nrag.n_layers, tuple(nrag.label_names), nrag.region_layer, nrag.paths, nrag.text_labels)


def _text_paths(source: NRAG | TextPaths) -> TextPaths:
    return source if isinstance(source, TextPaths) else TextPaths.of(source)


class _Paths:
    """The selected texts' label codes (0..n_selected - 1) and their edges, indexed for the kernel.

    Nodes are the NRAG's regions (index ``0 .. n_regions - 1``, sorted by layer);
    edges are the distinct (region at l, region at l + 1) pairs the selected
    texts take, and ``edge_of_text[t, l]`` is text t's edge between l and l + 1.
    """

    def __init__(self, source: NRAG | TextPaths, labels: Any) -> None:
        nrag = _text_paths(source)
        if nrag.kind != GRID:
            raise ValueError(
                "metric statistics need a grid NRAG (n_components=2): a component NRAG's edges are "
                "Spearman correlations, not text counts; scan with n_components=2."
            )
        if nrag.paths is None or nrag.text_labels is None:
            raise ValueError(
                "metric statistics need the per-text region paths of the run; this one has none "
                "(store the run with its texts, e.g. scan without --no-texts, or rebuild it)."
            )
        if nrag.n_layers < 2:
            raise ValueError(f"metric statistics need an NRAG of >= 2 layers; got {nrag.n_layers}.")
        label_names = nrag.label_names
        idx = resolve_labels(label_names, labels)
        code_of = np.full(len(label_names), -1, np.int64)
        code_of[idx] = np.arange(len(idx))
        codes = code_of[np.asarray(nrag.text_labels, np.int64)]
        keep = codes >= 0
        self.names = tuple(label_names[i] for i in idx)
        self.codes = codes[keep]
        self.sizes = np.bincount(self.codes, minlength=len(idx))
        empty = [n for n, s in zip(self.names, self.sizes) if s == 0]
        if empty:
            raise ValueError(f"every selected label needs texts; none for {empty}.")
        self.n_layers = L = nrag.n_layers
        self.node_layer = np.asarray(nrag.region_layer, np.int64)
        self.n_nodes = N = self.node_layer.shape[0]
        self.layer_start = np.searchsorted(nrag.region_layer, np.arange(L))
        self.layer_sizes = np.diff(np.append(self.layer_start, N))
        paths = np.asarray(nrag.paths, np.int64)[keep]
        keys, inv = np.unique(paths[:, :-1] * N + paths[:, 1:], return_inverse=True)
        self.edge_of_text = inv.reshape(paths.shape[0], L - 1)
        self.edge_source, self.edge_target = keys // N, keys % N
        self.edge_layer = self.node_layer[self.edge_source]
        self.n_edges = E = keys.shape[0]
        self.layer_edges = np.searchsorted(self.edge_layer, np.arange(L))  # edges sorted by source layer
        local_src = self.edge_source - self.layer_start[self.edge_layer]
        local_tgt = self.edge_target - self.layer_start[np.minimum(self.edge_layer + 1, L - 1)]
        self.edge_cell = local_src * self.layer_sizes[np.minimum(self.edge_layer + 1, L - 1)] + local_tgt
        ones, rows = np.ones(E), np.arange(E)
        self.source_incidence = sp.csc_matrix((ones, (rows, self.edge_source)), shape=(E, N))
        self.target_incidence = sp.csc_matrix((ones, (rows, self.edge_target)), shape=(E, N))
        self.layer_incidence = sp.csc_matrix((ones, (rows, self.edge_layer)), shape=(E, L - 1))
        n = paths.shape[0]  # text_incidence[e, t] = 1 when text t takes edge e
        self.text_incidence = sp.csr_matrix(
            (np.ones(n * (L - 1)), (self.edge_of_text.T.ravel(), np.tile(np.arange(n), L - 1))), shape=(E, n)
        )


# -- the vectorised kernel ------------------------------------------------------------------
def _moments(values: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    """pandas' mean, var (ddof=1), skew and kurt over the masked entries of each row."""
    n = mask.sum(1).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(mask, values, 0.0).sum(1) / n
        dev = np.where(mask, values - mean[:, None], 0.0)
        dev2 = dev * dev
        m2 = dev2.sum(1)
        m3 = (dev2 * dev).sum(1)
        m4 = (dev2 * dev2).sum(1)
        var = np.where(n > 1, m2 / (n - 1), np.nan)
        skew = np.where(n >= 3, m3 / (m2 * np.sqrt(m2)) * (n * np.sqrt(n - 1) / (n - 2)), np.nan)
        kurt = np.where(n >= 4, (n - 1) / ((n - 2) * (n - 3)) * (n * (n + 1) * (m4 / (m2 * m2)) - 3 * (n - 1)), np.nan)
    return {"mean": mean, "var": var, "skew": skew, "kurt": kurt}


def _entropy_segments(counts: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Shannon entropy (bits) of each row's counts within each segment (layer), shape (B, n_segments)."""
    total = np.add.reduceat(counts, starts, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        plogp = np.where(counts > 0, counts * np.log2(np.where(counts > 0, counts, 1.0)), 0.0)
        h = np.log2(total) - np.add.reduceat(plogp, starts, axis=1) / total
    return np.where(total > 0, h, np.nan)


def _xlog2x(x: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(x > 0, x * np.log2(np.where(x > 0, x, 1.0)), 0.0)


def _node_sums(paths: _Paths, values: np.ndarray, side: str = "both"):
    """Per-node sums of edge values (B, n_edges) over out-edges ("source"), in-edges ("target") or both."""
    vt = values.T  # sparse @ dense runs on the (n_edges, B) layout without a copy of a C-ordered transpose
    if side == "source":
        return (paths.source_incidence.T @ vt).T
    if side == "target":
        return (paths.target_incidence.T @ vt).T
    return (paths.source_incidence.T @ vt).T, (paths.target_incidence.T @ vt).T


def _chunk_metrics(paths: _Paths, W: np.ndarray) -> dict[str, np.ndarray]:
    """Every statistic metric of B graphs given by their weights ``W`` (B, n_edges) on the edges of ``paths``."""
    L = paths.n_layers
    A = (W > 0).astype(np.float64)
    out_s, in_s = _node_sums(paths, W)
    out_d, in_d = _node_sums(paths, A)
    last = paths.node_layer == L - 1
    counts = np.where(last, in_s, out_s)
    present = counts > 0
    n = present.sum(1).astype(np.float64)
    m = A.sum(1)
    res: dict[str, np.ndarray] = {"n_regions": n, "n_edges": m}
    for name, values in (("degree", out_d + in_d), ("strength", out_s + in_s)):
        for k, v in _moments(values, present).items():
            res[f"{k}_{name}"] = v
    src, tgt = paths.edge_source, paths.edge_target
    with np.errstate(invalid="ignore", divide="ignore"):
        # Pearson over edges of source out-strength and target in-strength; edge moments from degree-weighted nodes
        mx, my = (out_s * out_d).sum(1) / m, (in_s * in_d).sum(1) / m
        xc, yc = out_s - mx[:, None], in_s - my[:, None]
        vx, vy = (xc * xc * out_d).sum(1) / m, (yc * yc * in_d).sum(1) / m
        cov = (A * xc[:, src] * yc[:, tgt]).sum(1) / m
        denom = np.sqrt(vx * vy)
        res["assortativity"] = np.where((m > 0) & (denom > 0), cov / denom, np.nan)
        res["density"] = np.where(n > 1, m / (n * (n - 1)), 0.0)
        res["center_of_mass"] = (present * (paths.node_layer - L / 2)).sum(1) / n
        # H(next | current) = (sum_a out_a log out_a - sum_e w_e log w_e) / total, per layer pair
        table = _xlog2x(np.arange(int(W.max()) + 1 if W.size else 1, dtype=np.float64))
        edge_term = (paths.layer_incidence.T @ table[W.astype(np.int64)].T).T  # (B, L - 1)
        node_term = np.add.reduceat(_xlog2x(out_s), paths.layer_start, axis=1)[:, : L - 1]
        total = np.add.reduceat(out_s, paths.layer_start, axis=1)[:, : L - 1]
        trans = np.where(total > 0, (node_term - edge_term) / total, np.nan)
    res["transition_entropy_mean"] = trans.mean(1)
    res["occupancy_entropy_mean"] = _entropy_segments(counts, paths.layer_start).mean(1)
    res.update(_projections(paths, A, out_d, in_d, present))
    res["_counts"] = counts
    return res


def _projections(paths: _Paths, A, out_d, in_d, present) -> dict[str, np.ndarray]:
    """Metrics of the collaboration-weighted projections onto the nodes of even and odd layers.

    A projected edge u -> v (layers l, l + 2) exists when a two-step path
    u -> w -> v does; it weighs the sum over such w of 1 / (out_degree(w) - 1)
    (0 when out_degree(w) == 1). Reachability is a batched product of the dense
    0/1 blocks of consecutive layer pairs; strengths need no product:
    out(u) = sum_w A[u, w] od(w) / (od(w) - 1), in(v) = sum_w A[w, v] id(w) / (od(w) - 1).
    """
    L, B = paths.n_layers, A.shape[0]
    src, tgt = paths.edge_source, paths.edge_target
    inv = np.divide(1.0, out_d - 1, out=np.zeros_like(out_d), where=out_d > 1)
    pout_s = _node_sums(paths, A * (inv * out_d)[:, tgt], "source")
    pin_s = _node_sums(paths, A * (inv * in_d)[:, src], "target")
    pout_d, pin_d = np.zeros_like(out_d), np.zeros_like(out_d)
    start, size, edges = paths.layer_start, paths.layer_sizes, paths.layer_edges
    blocks = []
    for k in range(L - 1):
        block = np.zeros((B, size[k] * size[k + 1]), np.float32)
        block[:, paths.edge_cell[edges[k] : edges[k + 1]]] = A[:, edges[k] : edges[k + 1]]
        blocks.append(block.reshape(B, size[k], size[k + 1]))
    reach: dict[int, np.ndarray] = {}
    for k in range(L - 2):
        M = np.matmul(blocks[k], blocks[k + 1])  # two-step path counts k -> k + 2, exact in float32
        np.minimum(M, 1.0, out=M)
        reach[k] = M
        pout_d[:, start[k] : start[k] + size[k]] = M.sum(2)  # integers < 2**24: exact
        pin_d[:, start[k + 2] : start[k + 2] + size[k + 2]] = M.sum(1)
    res = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for parity, side in ((0, "even"), (1, "odd")):
            mask = present & (paths.node_layer % 2 == parity)
            n = mask.sum(1).astype(np.float64)
            m = (pout_d * mask).sum(1)
            dm, sm = _moments(pout_d + pin_d, mask), _moments(pout_s + pin_s, mask)
            mx = (pout_s * pout_d * mask).sum(1) / m
            my = (pin_s * pin_d * mask).sum(1) / m
            xc, yc = pout_s - mx[:, None], pin_s - my[:, None]
            cov = np.zeros(B)
            for k in range(parity, L - 2, 2):
                u, v = slice(start[k], start[k] + size[k]), slice(start[k + 2], start[k + 2] + size[k + 2])
                cov += np.einsum("ba,ba->b", xc[:, u], np.matmul(reach[k].astype(np.float64), yc[:, v, None])[:, :, 0])
            vx = (xc * xc * pout_d * mask).sum(1)
            vy = (yc * yc * pin_d * mask).sum(1)
            denom = np.sqrt(vx / m * (vy / m))
            assort = np.where((m > 0) & (denom > 0), cov / m / denom, np.nan)
            res.update(
                {
                    f"projection_{side}_mean_degree": dm["mean"],
                    f"projection_{side}_var_degree": dm["var"],
                    f"projection_{side}_mean_strength": sm["mean"],
                    f"projection_{side}_var_strength": sm["var"],
                    f"projection_{side}_assortativity": assort,
                    f"projection_{side}_density": np.where(n > 1, m / (n * (n - 1)), 0.0),
                }
            )
    return res


def _pair_js(paths: _Paths, counts: np.ndarray, n_resamples: int, n_groups: int) -> np.ndarray:
    """Mean over layers of the Jensen-Shannon divergence between every pair of groups, (n_resamples, n_pairs)."""
    pairs = list(combinations(range(n_groups), 2))
    c = counts.reshape(n_resamples, n_groups, -1)
    starts = paths.layer_start
    with np.errstate(invalid="ignore", divide="ignore"):
        total = np.add.reduceat(c, starts, axis=2)
        p = c / np.repeat(total, paths.layer_sizes, axis=2)
    out = np.zeros((n_resamples, len(pairs)))
    for k, (a, b) in enumerate(pairs):
        pa, pb = p[:, a], p[:, b]
        h = (
            _entropy_segments((pa + pb) / 2, starts)
            - (_entropy_segments(pa, starts) + _entropy_segments(pb, starts)) / 2
        )
        out[:, k] = h.mean(1)
    return out


def resample_metrics(
    paths: _Paths, occurrences: Sequence[tuple[np.ndarray, np.ndarray]], n_groups: int, *, pairs: bool = True
) -> dict[str, np.ndarray]:
    """Metrics of ``n_groups`` text groups in each of several resamples.

    Parameters
    ----------
    paths : _Paths
        The selected texts' regions (from an NRAG).
    occurrences : sequence of (text_index, group) pairs
        One per resample: ``text_index`` (ndarray of int, into the selected
        texts; repeats count twice) and ``group`` (same shape, 0..n_groups-1).
    n_groups : int
    pairs : bool, default=True
        Also compute ``js_divergence_mean`` for every pair of groups.

    Returns
    -------
    dict of str to ndarray
        Every :data:`STATISTIC_METRICS` entry of shape (n_resamples, n_groups)
        and, with ``pairs``, ``js_divergence_mean`` of shape
        (n_resamples, n_groups * (n_groups - 1) / 2) in ``combinations`` order.
    """
    sizes = paths.layer_sizes
    E = paths.n_edges
    cells = max(int((sizes[:-1] * sizes[1:]).sum()), E) * n_groups  # a resample's dense block cells
    chunk = max(1, _BLOCK_BUDGET // max(cells, 1))
    parts: list[dict[str, np.ndarray]] = []
    for start in range(0, len(occurrences), chunk):
        batch = occurrences[start : start + chunk]
        R = len(batch)
        B = R * n_groups
        texts = np.concatenate([t for t, _ in batch])
        bg = np.concatenate([r * n_groups + g for r, (_, g) in enumerate(batch)])
        # every (graph, edge) weight: texts x graphs multiplicities (one bincount), times the edge-text incidence
        n = paths.codes.shape[0]
        multiplicity = np.bincount(texts * B + bg, minlength=n * B).reshape(n, B).astype(np.float64)
        res = _chunk_metrics(paths, (paths.text_incidence @ multiplicity).T)
        counts = res.pop("_counts")
        part = {k: v.reshape(R, n_groups) for k, v in res.items()}
        if pairs:
            part["js_divergence_mean"] = _pair_js(paths, counts, R, n_groups)
        parts.append(part)
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


# -- reference path ------------------------------------------------------------------------
def rebuild_from_paths(nrag: NRAG, text_index: np.ndarray, group: np.ndarray, group_names: Sequence[str]) -> NRAG:
    """The grid NRAG of the texts ``text_index`` (repeats count twice) labelled ``group``, on ``nrag``'s grid.

    The slow reference of the resampling kernel: regions are the occupied
    cells, edge weights count texts, exactly as
    :func:`~llm_mri_graphdb.nrag.build_nrag_from_reduced` counts them.
    ``text_index`` indexes ``nrag.paths``.
    """
    if nrag.paths is None:
        raise ValueError("rebuild_from_paths needs an NRAG with per-text paths (built from texts).")
    paths = nrag.paths[np.asarray(text_index, np.int64)]
    group = np.asarray(group, np.int64)
    k = len(group_names)
    used, inv = np.unique(paths.ravel(), return_inverse=True)
    inv = inv.reshape(paths.shape)
    n = used.shape[0]
    counts = np.bincount((inv * k + group[:, None]).ravel(), minlength=n * k).reshape(n, k)
    code = (inv[:, :-1] * n + inv[:, 1:]) * k + group[:, None]
    rows, weight = np.unique(code.ravel(), return_counts=True)
    pair = rows // k
    return NRAG(
        GRID,
        nrag.n_layers,
        tuple(group_names),
        nrag.region_layer[used],
        nrag.region_x[used],
        nrag.region_y[used],
        counts,
        pair // n,
        pair % n,
        rows % k,
        weight.astype(np.float64),
        nrag.layer_bounds,
        nrag.model,
        nrag.corpus,
        nrag.settings,
        paths=inv,
        text_labels=group,
    )


# -- resampling schemes -----------------------------------------------------------------------
def _streams(seed: int | None) -> tuple[np.random.Generator, np.random.Generator, np.random.Generator]:
    """Independent generators for the label null, the bootstrap and the contrast null."""
    return tuple(np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))  # type: ignore[return-value]


def _permutations(codes: np.ndarray, n: int, rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    index = np.arange(codes.shape[0])
    return [(index, rng.permutation(codes)) for _ in range(n)]


def _bootstraps(codes: np.ndarray, n: int, rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    members = [np.flatnonzero(codes == c) for c in range(int(codes.max()) + 1)]
    draws = [m[rng.integers(0, m.shape[0], size=(n, m.shape[0]))] for m in members]
    groups = np.concatenate([np.full(m.shape[0], c) for c, m in enumerate(members)])
    return [(np.concatenate([d[r] for d in draws]), groups) for r in range(n)]


def _observed(codes: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.arange(codes.shape[0]), codes)]
