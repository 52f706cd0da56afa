"""Array kernels of NRAG construction: binning, grid cells and Spearman edges.

Private to :mod:`llm_mri_graphdb.nrag`; each returns plain arrays in the NRAG's
canonical order (regions by (layer, x, y), edge rows by (source, target, label)).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np

from llm_mri_graphdb.scan_settings import check_graph

GRID: Final = "grid"
COMPONENTS: Final = "components"


def bin_axis(values: np.ndarray, gridsize: int, binning: str) -> tuple[np.ndarray, np.ndarray]:
    """Cell index of every value and the bin edges, as pandas.cut / pandas.qcut."""
    import pandas as pd  # here, not at import: reading a stored run needs no pandas

    if binning == "quantile":
        codes, edges = pd.qcut(values, gridsize, labels=False, retbins=True, duplicates="drop")
        if len(edges) > 1:
            return np.asarray(codes, dtype=np.int64), edges
    # equal width; a constant axis (also for quantile) is one cell with pandas' +-0.1% edges
    codes, edges = pd.cut(values, gridsize if binning == "width" else 1, labels=False, retbins=True)
    return np.asarray(codes, dtype=np.int64), edges


def check_reduced(
    reduced: Sequence[np.ndarray],
    labels: np.ndarray,
    label_names: Sequence[str],
    gridsize: int,
    threshold: float,
    binning: str,
    fdr: float | None = None,
) -> int:
    if len(reduced) == 0:
        raise ValueError("reduced must hold at least one layer; got none.")
    n_texts = labels.shape[0]
    k = reduced[0].shape[1] if reduced[0].ndim == 2 else -1
    for i, layer in enumerate(reduced):
        if layer.ndim != 2 or layer.shape != (n_texts, k):
            raise ValueError(f"reduced layer {i} must have shape (n_texts={n_texts}, {k}); got {layer.shape}.")
        if not np.isfinite(layer).all():
            raise ValueError(f"reduced coordinates must be finite; layer {i} holds NaN or inf.")
    if k < 2:
        raise ValueError(f"n_components must be >= 2; got {k}.")
    if labels.size and (labels.min() < 0 or labels.max() >= len(label_names)):
        raise ValueError(
            f"labels must index label_names (0..{len(label_names) - 1}); "
            f"got values in [{labels.min()}, {labels.max()}]."
        )
    check_params(gridsize, threshold, binning, fdr)
    return k


def check_params(gridsize: int, threshold: float, binning: str, fdr: float | None = None) -> None:
    """Lower bounds and choices of the construction settings (no upper bounds: the builders take what they are given;
    the scan entry points bound sizes through :func:`llm_mri_graphdb.scan_settings.check_scan`)."""
    check_graph(gridsize=gridsize, threshold=threshold, binning=binning, fdr=fdr, allow_large=True)


def check_edges(region_layer: np.ndarray, edge_source: np.ndarray, edge_target: np.ndarray) -> None:
    """ValueError unless every edge joins two regions in neighbouring layers (target layer = source layer + 1):
    the metrics (Cypher and numpy) and the stores rely on it. Checked by every NRAG and every store write."""
    n = region_layer.shape[0]
    for name, ends in (("edge_source", edge_source), ("edge_target", edge_target)):
        if ends.size and (ends.min() < 0 or ends.max() >= n):
            raise ValueError(
                f"{name} must hold region indices in [0, {n - 1}]; got values in [{ends.min()}, {ends.max()}]."
            )
    skips = np.flatnonzero(region_layer[edge_target] != region_layer[edge_source] + 1)
    if skips.size:
        i = int(skips[0])
        raise ValueError(
            f"nrag edges must join regions of neighbouring layers (target layer = source layer + 1); "
            f"edge row {i} joins layer {region_layer[edge_source[i]]} to layer "
            f"{region_layer[edge_target[i]]} ({skips.size} such rows)."
        )


def cell_arrays(cells: np.ndarray, labels: np.ndarray, n_labels: int, gridsize: int) -> dict:
    """Region and edge arrays (and ``paths``) of texts whose cell at layer ``l`` is ``cells[l, text]``.

    A cell is the key ``(l * gridsize + x) * gridsize + y``; a region is an occupied cell, sorted by
    ``(layer, x, y)``, and an edge row counts a label's texts in two cells of neighbouring layers, sorted
    by ``(source, target, label)``: the one construction every grid NRAG goes through.

    >>> a = cell_arrays(np.array([[0, 3], [4, 4]]), np.array([0, 1]), 2, 2)
    >>> a["region_layer"].tolist(), a["edge_source"].tolist(), a["edge_weight"].tolist()
    ([0, 0, 1], [0, 1], [1.0, 1.0])
    """
    g = int(gridsize)
    keys, inv = np.unique(cells.ravel(), return_inverse=True)
    inv = inv.reshape(cells.shape)
    n_regions = keys.shape[0]
    counts = np.bincount((inv * n_labels + labels).ravel(), minlength=n_regions * n_labels)
    code = (inv[:-1] * n_regions + inv[1:]) * n_labels + labels  # (n_layers - 1, n_texts)
    rows, weight = np.unique(code.ravel(), return_counts=True)
    pair = rows // n_labels
    return dict(
        region_layer=keys // (g * g),
        region_x=keys // g % g,
        region_y=keys % g,
        region_counts=counts.reshape(n_regions, n_labels),
        edge_source=pair // n_regions,
        edge_target=pair % n_regions,
        edge_label=rows % n_labels,
        edge_weight=weight.astype(np.float64),
        paths=inv.T,
    )


def grid_arrays(reduced, labels, n_labels, gridsize, binning) -> dict:
    n_layers, g = len(reduced), int(gridsize)
    cell = np.empty((n_layers, labels.shape[0]), np.int64)
    bounds = np.empty((n_layers, 4))
    for layer, coords in enumerate(reduced):
        xb, xe = bin_axis(coords[:, 0], g, binning)
        yb, ye = bin_axis(coords[:, 1], g, binning)
        cell[layer] = (layer * g + xb) * g + yb
        bounds[layer] = (xe[0], xe[-1], ye[0], ye[-1])
    arrays = cell_arrays(cell, labels, n_labels, g)
    reasons = degenerate_reasons(
        reduced=reduced, n_layers=n_layers, region_layer=arrays["region_layer"] if g > 1 else None
    )
    return {**arrays, "layer_bounds": bounds, "degenerate_layers": tuple(reasons)}


def rank_z(x: np.ndarray) -> np.ndarray:
    """Average ranks of each column, centred and scaled to unit norm (nan for a constant column)."""
    from scipy.stats import rankdata  # here, not at import: scipy.stats alone costs about a second

    r = rankdata(x, axis=0)
    r -= r.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return r / np.sqrt((r * r).sum(axis=0))


def spearman_pvalues(rho: np.ndarray, n: int) -> np.ndarray:
    """Two-sided p-values of Spearman correlations over ``n`` texts, as ``scipy.stats.spearmanr`` gives them.

    ``t = rho sqrt((n - 2) / (1 - rho^2))`` against Student's t with ``n - 2``
    degrees of freedom; nan stays nan, ``|rho| = 1`` gives 0.
    """
    from scipy.stats import t as student_t

    rho = np.asarray(rho, dtype=np.float64)
    if n <= 2:
        return np.where(np.isnan(rho), np.nan, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        tstat = rho * np.sqrt((n - 2) / np.maximum(1.0 - rho * rho, 0.0))
    return 2.0 * student_t.sf(np.abs(tstat), n - 2)


def benjamini_hochberg(p: np.ndarray, q: float) -> np.ndarray:
    """Which of the p-values Benjamini-Hochberg rejects at false discovery rate ``q`` (nan never; m counts the rest).

    >>> benjamini_hochberg(np.array([0.001, 0.02, 0.03, 0.5]), 0.05).tolist()
    [True, True, True, False]
    """
    p = np.asarray(p, dtype=np.float64)
    flat = p.ravel()
    tested = np.flatnonzero(~np.isnan(flat))
    reject = np.zeros(flat.shape, bool)
    if tested.size:
        order = tested[np.argsort(flat[tested], kind="stable")]
        passed = flat[order] <= q * np.arange(1, order.size + 1) / order.size
        if passed.any():
            reject[order[: np.flatnonzero(passed)[-1] + 1]] = True
    return reject.reshape(p.shape)


def component_arrays(reduced_by_label, labels, n_labels, threshold, abs_threshold, fdr=None) -> dict:
    """``reduced_by_label[c]`` is the list of per-layer arrays for label c's texts.

    With ``fdr``, an edge must also be significant under Benjamini-Hochberg at
    that false discovery rate over the label's ``(n_layers - 1) k^2`` tests.
    """
    n_layers, k = len(reduced_by_label[0]), reduced_by_label[0][0].shape[1]
    parts: tuple[list[np.ndarray], ...] = ([], [], [], [])  # source, target, label, weight per label
    for c, layers in enumerate(reduced_by_label):
        z = [rank_z(x) for x in layers]
        rho = np.clip(np.stack([z[layer].T @ z[layer + 1] for layer in range(n_layers - 1)]), -1.0, 1.0)
        with np.errstate(invalid="ignore"):
            keep = (np.abs(rho) if abs_threshold else rho) > threshold  # nan (constant) never kept
        if fdr is not None:
            keep &= benjamini_hochberg(spearman_pvalues(rho, layers[0].shape[0]), fdr)
        layer, i, j = np.nonzero(keep)
        for part, values in zip(parts, (layer * k + i, (layer + 1) * k + j, np.full(layer.shape, c), rho[keep])):
            part.append(values)
    src, tgt, lab, w = (np.concatenate(a) if a else np.empty(0) for a in parts)
    order = np.lexsort((lab, tgt, src))
    label_counts = np.bincount(labels, minlength=n_labels)
    # a layer is degenerate when all texts (every label's, together) sit on one point
    together = [np.concatenate([layers[layer] for layers in reduced_by_label]) for layer in range(n_layers)]
    return dict(
        region_layer=np.repeat(np.arange(n_layers), k),
        region_x=np.tile(np.arange(k), n_layers),
        region_y=np.full(n_layers * k, -1),
        region_counts=np.tile(label_counts, (n_layers * k, 1)),
        edge_source=src[order],
        edge_target=tgt[order],
        edge_label=lab[order],
        edge_weight=w[order],
        degenerate_layers=tuple(degenerate_reasons(reduced=together)),
    )


def check_label_sizes(labels: np.ndarray, label_names: Sequence[str], need: int, why: str) -> None:
    counts = np.bincount(labels, minlength=len(label_names))
    small = {label_names[c]: int(n) for c, n in enumerate(counts) if n < need}
    if small:
        raise ValueError(f"every label needs >= {need} texts {why}; got {small}.")


_DEGENERATE_TOL = 1e-9


def _constant(x: np.ndarray) -> bool:
    """Whether every row of ``x`` is the same point (within ``1e-9`` of each column's scale)."""
    x = np.asarray(x, dtype=np.float64)
    if x.shape[0] < 2:
        return False
    return bool(np.all(np.ptp(x, axis=0) <= _DEGENERATE_TOL * np.maximum(np.abs(x).max(axis=0), 1.0)))


def degenerate_reasons(*, reduced=None, activations=None, region_layer=None, n_layers: int = 0) -> dict[int, str]:
    """Layers where every text lands on one point, with the first reason found (see
    :mod:`llm_mri_graphdb.analysis.quality`): constant pooled ``activations``, constant ``reduced``
    coordinates, or (given a grid's ``region_layer``) a single region."""
    found: dict[int, str] = {}
    for layer, x in enumerate(activations or ()):
        if _constant(x):
            found.setdefault(layer, "constant pooled activations")
    for layer, z in enumerate(reduced or ()):
        if _constant(z):
            found.setdefault(layer, "constant reduced coordinates")
    if region_layer is not None and len(region_layer):
        per_layer = np.bincount(np.asarray(region_layer, np.int64), minlength=n_layers)
        for layer in np.flatnonzero(per_layer == 1).tolist():
            found.setdefault(int(layer), "one grid cell")
    return dict(sorted(found.items()))


def layer_tuple(name: str, layers, n_layers: int) -> tuple[int, ...]:
    """``layers`` as sorted distinct ints; ValueError naming ``name`` when one is not a layer index."""
    out = tuple(sorted({int(v) for v in layers}))
    if out and (out[0] < 0 or out[-1] >= n_layers):
        raise ValueError(f"{name} must be layer indices in 0..{n_layers - 1}; got {out}.")
    return out
