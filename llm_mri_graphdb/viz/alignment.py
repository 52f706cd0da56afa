"""Heatmap of how the layers of two models agree (CKA or AMI), layers of ``a`` down, of ``b`` across."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from .figure import new_axes

__all__ = ["plot_alignment"]


def plot_alignment(matrix: np.ndarray, *, measure: str = "CKA", names: tuple[str, str] = ("a", "b"),
                   ax: Axes | None = None) -> Axes:
    """One cell per layer pair, coloured in [0, 1]; the best layer of ``b`` for each layer of ``a`` is boxed."""
    matrix = np.asarray(matrix, dtype=float)
    if matrix.ndim != 2 or 0 in matrix.shape:
        raise ValueError(f"matrix must be 2-D (layers of a, layers of b); got shape {matrix.shape}.")
    if ax is None:
        ax = new_axes((1.2 + 0.45 * matrix.shape[1], 1.0 + 0.4 * matrix.shape[0]))
    image = ax.imshow(matrix, vmin=0.0, vmax=1.0, cmap="viridis", aspect="auto")
    ax.figure.colorbar(image, ax=ax, label=measure)
    best = np.argmax(np.where(np.isnan(matrix), -np.inf, matrix), axis=1)
    ax.scatter(best, np.arange(matrix.shape[0]), marker="s", s=120, facecolors="none", edgecolors="white")
    ax.set_xlabel(f"layer of {names[1]}")
    ax.set_ylabel(f"layer of {names[0]}")
    ax.set_xticks(range(matrix.shape[1]))
    ax.set_yticks(range(matrix.shape[0]))
    ax.set_title(f"{measure}: {names[0]} vs {names[1]}")
    return ax
