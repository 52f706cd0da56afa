"""Synthetic NRAGs for tests and benchmarks: the one factory, consistent by construction.

An NRAG is built from the cells every text visits (:func:`nrag_from_paths`):
region counts and edge weights are then text counts, exactly as the builder
makes them from a real scan, so stores, metrics and figures can be exercised
at any size without a model. :func:`random_grid_nrag` and
:func:`random_components_nrag` draw small random ones from a seed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from llm_mri_graphdb.nrag.model import GRID, NRAG
from llm_mri_graphdb.nrag.regions import cell_arrays

__all__ = ["nrag_from_paths", "random_grid_nrag", "random_components_nrag"]


def nrag_from_paths(
    paths: Any,
    labels: Any,
    label_names: Sequence[str],
    *,
    layer_bounds: Any = None,
    model: Mapping[str, Any] | None = None,
    corpus: Mapping[str, Any] | None = None,
    settings: Mapping[str, Any] | None = None,
) -> NRAG:
    """Grid NRAG of texts whose cell at every layer is given.

    Parameters
    ----------
    paths : array-like of shape (n_texts, n_layers, 2)
        The ``(x, y)`` cell of every text at every layer.
    labels : array-like of shape (n_texts,)
        Label index of every text.
    label_names : sequence of str
    layer_bounds : array-like of shape (n_layers, 4), default=None
        ``(x0, x1, y0, y1)`` per layer; None is the unit square for every layer.
    model, corpus, settings : mapping, default=None
        Metadata; None gives a small fixed record (``tiny-model``, ``tiny-corpus``,
        PCA with 2 components and gridsize 3).

    Returns
    -------
    nrag : NRAG
        Regions sorted by ``(layer, x, y)``, edge rows by ``(source, target, label)``; ``paths`` and
        ``text_labels`` set, so the texts can be stored with it.

    Examples
    --------
    >>> g = nrag_from_paths([[(0, 0), (1, 1)], [(0, 0), (0, 1)]], [0, 1], ["a", "b"])
    >>> g.n_regions, g.edge_weight.tolist()
    (3, [1.0, 1.0])
    """
    paths = np.asarray(paths, np.int64)
    labels = np.asarray(labels, np.int64)
    n_texts, n_layers, _ = paths.shape
    g = int(paths.max(initial=0)) + 1
    cells = (np.arange(n_layers)[:, None] * g + paths[..., 0].T) * g + paths[..., 1].T  # [n_layers, n_texts]
    arrays = cell_arrays(cells, labels, len(label_names), g)
    if layer_bounds is None:
        layer_bounds = np.tile([0.0, 1.0, 0.0, 1.0], (n_layers, 1))
    return NRAG(
        GRID,
        n_layers,
        tuple(label_names),
        **arrays,
        layer_bounds=np.asarray(layer_bounds, np.float64),
        text_labels=labels,
        model=model or {"name": "tiny-model", "architecture": "gpt2", "n_layers": n_layers, "width": 8},
        corpus=corpus
        or {"name": "tiny-corpus", "fingerprint": "fp-tiny", "n_texts": n_texts, "label_names": list(label_names)},
        settings=settings
        or {
            "reducer": "pca",
            "n_components": 2,
            "gridsize": 3,
            "threshold": 0.0,
            "random_state": 0,
            "extract": {"site": "hidden", "pooling": "mean"},
        },
    )


def random_grid_nrag(
    seed: int,
    *,
    n_texts: int = 40,
    n_layers: int = 4,
    gridsize: int = 3,
    label_names: Sequence[str] = tuple("abcde"),
    tag: str = "",
) -> NRAG:
    """A random walk (steps of -1, 0 or +1 cell) of texts through a ``gridsize`` x ``gridsize`` grid.

    Labels are drawn at random; ``seed`` and ``tag`` enter the settings, so
    different seeds or tags give different run ids.
    """
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(label_names), n_texts)
    steps = rng.integers(-1, 2, (n_texts, n_layers, 2))
    paths = np.clip(rng.integers(0, gridsize, (n_texts, 1, 2)) + np.cumsum(steps, axis=1), 0, gridsize - 1)
    return nrag_from_paths(
        paths,
        labels,
        label_names,
        settings={
            "reducer": "pca",
            "n_components": 2,
            "gridsize": gridsize,
            "seed": seed,
            "tag": tag,
            "extract": {"site": "hidden", "pooling": "mean"},
        },
    )


def random_components_nrag(
    seed: int,
    *,
    n_layers: int = 4,
    n_components: int = 3,
    label_names: Sequence[str] = ("x", "y", "z"),
    threshold: float = 0.3,
    tag: str = "",
) -> NRAG:
    """An N-D NRAG: every component a region, signed weights drawn in [-1, 1] kept above ``threshold``."""
    rng = np.random.default_rng(seed)
    layer, comp = np.divmod(np.arange(n_layers * n_components), n_components)
    counts = rng.integers(0, 6, (layer.shape[0], len(label_names)))
    rows = []
    for i in range(n_layers - 1):
        for a in range(n_components):
            for b in range(n_components):
                for lab in range(len(label_names)):
                    w = float(rng.uniform(-1, 1))
                    if abs(w) > threshold:
                        rows.append((i * n_components + a, (i + 1) * n_components + b, lab, w))
    rows.sort()
    e = np.array(rows, dtype=object).reshape(-1, 4)
    return NRAG(
        "components",
        n_layers,
        tuple(label_names),
        layer,
        comp,
        np.full(layer.shape[0], -1),
        counts,
        e[:, 0].astype(np.int64),
        e[:, 1].astype(np.int64),
        e[:, 2].astype(np.int64),
        e[:, 3].astype(np.float64),
        model={"name": "tiny-nd-model"},
        corpus={"name": "tiny-nd", "fingerprint": "fp-nd"},
        settings={"reducer": "pca", "n_components": n_components, "threshold": threshold, "seed": seed, "tag": tag},
    )
