"""Grid NRAGs of corpora whose activations do not fit in memory.

:func:`build_grid_nrag` gives the NRAG :func:`llm_mri_graphdb.nrag.build_nrag`
gives for a 2-D reducer (same regions, cells, counts, edges, bounds, settings
and run id), in memory bounded by ``memory_budget`` rather than by the corpus:

1. each layer's reducer is fitted in memory when the layer fits the budget,
   else out of core (:func:`llm_mri_graphdb.reduce.fit_out_of_core`); the
   coordinates go chunk by chunk to a scratch file (16 bytes a text and layer)
   while their range is tracked;
2. the bin edges come from that range (``binning="width"``: the edges
   ``pandas.cut`` draws depend on the minimum and maximum only) or from one
   coordinate column at a time (``"quantile"``);
3. one pass over chunks of texts cuts every layer's coordinates with those
   edges and adds up the region counts (dense, ``layers x gridsize^2 x labels``)
   and the transitions between consecutive layers (sparse, merged per chunk).

The activations are read with :func:`llm_mri_graphdb.extract.cache.read_rows`, so a
memory-mapped cache entry is streamed, not mapped in whole.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from llm_mri_graphdb.extract.activations import Activations
from llm_mri_graphdb.nrag.model import GRID, NRAG
from llm_mri_graphdb.nrag.regions import bin_axis, check_params
from llm_mri_graphdb.reduce.layers import (
    fit_out_of_core,
    fits_in_memory,
    memory_budget_bytes,
    reduce_layers,
    transform_chunks,
)
from llm_mri_graphdb.scan_settings import run_settings

__all__ = ["build_grid_nrag"]


class _Coordinates:
    """2-D coordinates of every layer in a scratch file, read back in chunks of rows."""

    def __init__(self, folder: Path, n_layers: int, n_texts: int) -> None:
        self.path, self.n_texts = folder / "coords.f64", n_texts
        self.lo = np.full((n_layers, 2), np.inf)
        self.hi = np.full((n_layers, 2), -np.inf)

    def write(self, layer: int, chunks) -> None:
        with open(self.path, "r+b" if self.path.exists() else "wb") as f:
            f.seek(layer * self.n_texts * 16)
            for coords in chunks:
                if not np.isfinite(coords).all():
                    raise ValueError(f"reduced coordinates must be finite; layer {layer} holds NaN or inf.")
                self.lo[layer] = np.minimum(self.lo[layer], coords.min(axis=0))
                self.hi[layer] = np.maximum(self.hi[layer], coords.max(axis=0))
                f.write(np.ascontiguousarray(coords, dtype=np.float64).tobytes())

    def read(self, layer: int, start: int, stop: int) -> np.ndarray:
        offset = (layer * self.n_texts + start) * 16
        return np.fromfile(self.path, dtype=np.float64, count=(stop - start) * 2, offset=offset).reshape(-1, 2)


def _edges(coords: _Coordinates, layer: int, axis: int, gridsize: int, binning: str) -> np.ndarray:
    if binning == "width":
        return bin_axis(np.array([coords.lo[layer, axis], coords.hi[layer, axis]]), gridsize, "width")[1]
    column = coords.read(layer, 0, coords.n_texts)[:, axis].copy()
    return bin_axis(column, gridsize, binning)[1]


def _cut(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Cell of every value under fixed edges, as ``bin_axis`` gives for the whole column."""
    # pandas-stubs take Sequence[float] bins, not the ndarray pandas documents and accepts
    return np.asarray(pd.cut(values, edges, labels=False, include_lowest=True), dtype=np.int64)  # type: ignore[call-overload]


def _merge(codes: np.ndarray, counts: np.ndarray, new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    u, c = np.unique(new, return_counts=True)
    merged, inv = np.unique(np.concatenate([codes, u]), return_inverse=True)
    return merged, np.bincount(inv, weights=np.concatenate([counts, c]), minlength=merged.shape[0])


def build_grid_nrag(
    activations: Activations,
    reducer: Any,
    *,
    gridsize: int = 10,
    binning: str = "width",
    memory_budget: int | str | None = None,
    scratch_dir: str | os.PathLike | None = None,
) -> NRAG:
    """Grid NRAG of ``activations`` reduced to 2-D by ``reducer``, in memory bounded by ``memory_budget``.

    Parameters
    ----------
    activations : Activations
        Usually read from the cache (memory-mapped layers).
    reducer : PCA, SVD or UMAP with ``n_components=2``
    gridsize : int, default=10
    binning : {"width", "quantile"}, default="width"
    memory_budget : int, str or None, default=None
        Bytes or a size such as ``"4GiB"``; ``None`` is a quarter of RAM.
        Layers above it are fitted out of core; chunks are sized from it.
    scratch_dir : path or None, default=None
        Where the coordinates go while the graph is built (removed after);
        ``None`` is the system temp folder.

    Returns
    -------
    NRAG
        Equal to ``build_nrag(activations, reducer, gridsize=..., binning=...)``
        where both apply.
    """
    check_params(gridsize, 0.0, binning)
    if getattr(reducer, "n_components", None) != 2:
        raise ValueError(
            f"build_grid_nrag needs a reducer with n_components=2; got "
            f"{getattr(reducer, 'n_components', None)!r}. Use nrag.build_nrag for component NRAGs."
        )
    budget = memory_budget_bytes(memory_budget)
    labels, names = activations.labels, activations.label_names
    n_layers, n_texts, n_labels, g = activations.n_layers, activations.n_texts, len(names), int(gridsize)
    chunk = max(1024, budget // (8 * 8 * max(n_layers, 1) * 4))
    with tempfile.TemporaryDirectory(prefix="llm-mri-nrag-", dir=scratch_dir) as tmp:
        coords = _Coordinates(Path(tmp), n_layers, n_texts)
        for i, layer in enumerate(activations.layers):
            if fits_in_memory(layer, budget):
                coords.write(i, reduce_layers(Activations([layer], labels, names), reducer, memory_budget=budget))
            else:
                est = fit_out_of_core(reducer, layer, memory_budget=budget, layer_index=i)
                coords.write(i, transform_chunks(est, layer, memory_budget=budget))
        edges = [[_edges(coords, i, axis, g, binning) for axis in (0, 1)] for i in range(n_layers)]
        n_keys = n_layers * g * g
        counts = np.zeros((n_keys, n_labels), np.int64)
        codes, weights = np.empty(0, np.int64), np.empty(0)
        for start in range(0, n_texts, chunk):
            stop = min(n_texts, start + chunk)
            lab = labels[start:stop]
            keys = np.empty((n_layers, stop - start), np.int64)
            for i in range(n_layers):
                xy = coords.read(i, start, stop)
                keys[i] = (i * g + _cut(xy[:, 0], edges[i][0])) * g + _cut(xy[:, 1], edges[i][1])
            cell_label = keys.ravel() * n_labels + np.tile(lab, n_layers)
            counts += np.bincount(cell_label, minlength=n_keys * n_labels).reshape(n_keys, n_labels)
            if n_layers > 1:
                codes, weights = _merge(codes, weights, ((keys[:-1] * n_keys + keys[1:]) * n_labels + lab).ravel())
    occupied = np.flatnonzero(counts.sum(axis=1))
    pair, edge_label = np.divmod(codes, n_labels)
    source_key, target_key = np.divmod(pair, n_keys)
    bounds = np.array([[e[0][0], e[0][-1], e[1][0], e[1][-1]] for e in edges])
    return NRAG(
        GRID,
        n_layers,
        tuple(names),
        occupied // (g * g),
        occupied // g % g,
        occupied % g,
        counts[occupied],
        np.searchsorted(occupied, source_key),
        np.searchsorted(occupied, target_key),
        edge_label,
        weights.astype(np.float64),
        layer_bounds=bounds,
        model=activations.model,
        corpus=activations.corpus,
        settings=run_settings(activations.settings, reducer, gridsize=gridsize, binning=binning, n_components=2),
    )
