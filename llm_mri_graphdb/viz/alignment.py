"""Heatmap of how the layers of two models agree (CKA or AMI), layers of ``a`` down, of ``b`` across."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from .figure import new_axes

__all__ = ["plot_alignment"]

_ANNOTATE_CELLS = 400  # values are written in the cells of matrices up to this size (20 x 20 layers)


def plot_alignment(
    matrix: np.ndarray,
    *,
    measure: str = "CKA",
    names: tuple[str, str] = ("a", "b"),
    not_above_null: np.ndarray | None = None,
    ax: Axes | None = None,
) -> Axes:
    """One cell per layer pair, coloured in [0, 1]; the best layer of ``b`` for each layer of ``a`` is boxed.

    Parameters
    ----------
    matrix : ndarray of shape (n_layers_a, n_layers_b)
        CKA or AMI of every layer pair (nan: not computed).
    measure : str, default="CKA"
        Colour bar label and title.
    names : tuple of (str, str)
        The two models' names.
    not_above_null : ndarray of bool, shape (n_layers_a, n_layers_b), optional
        Pairs whose value is not above its permutation null: crossed out with a grey ``x``.
    ax : Axes, optional
        Drawn into when given; a new figure otherwise.

    Returns
    -------
    ax : Axes
        Values are written in the cells of matrices up to 20 x 20.
    """
    matrix = np.asarray(matrix, dtype=float)
    if matrix.ndim != 2 or 0 in matrix.shape:
        raise ValueError(f"matrix must be 2-D (layers of a, layers of b); got shape {matrix.shape}.")
    if ax is None:
        ax = new_axes((1.2 + 0.45 * matrix.shape[1], 1.0 + 0.4 * matrix.shape[0]))
    image = ax.imshow(
        matrix,
        vmin=min(0.0, float(np.nanmin(matrix)) if np.isfinite(matrix).any() else 0.0),
        vmax=1.0,
        cmap="viridis",
        aspect="auto",
    )
    ax.figure.colorbar(image, ax=ax, label=measure)
    best = np.argmax(np.where(np.isnan(matrix), -np.inf, matrix), axis=1)
    ax.scatter(
        best, np.arange(matrix.shape[0]), marker="s", s=160, facecolors="none", edgecolors="#d62728", linewidths=1.5
    )
    if not_above_null is not None and np.any(not_above_null):
        rows, cols = np.nonzero(np.asarray(not_above_null, dtype=bool))
        ax.scatter(cols, rows, marker="x", s=60, color="#bbbbbb", linewidths=1.0, label="not above its null")
        ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.12), fontsize=7, frameon=False)
    if matrix.size <= _ANNOTATE_CELLS:
        for (i, j), value in np.ndenumerate(matrix):
            ax.text(
                j,
                i,
                "-" if np.isnan(value) else f"{value:.2f}",
                ha="center",
                va="center",
                fontsize=7,
                color="black" if not np.isnan(value) and value > 0.6 else "white",
            )
    ax.set_xlabel(f"layer of {names[1]}")
    ax.set_ylabel(f"layer of {names[0]}")
    ax.set_xticks(range(matrix.shape[1]))
    ax.set_yticks(range(matrix.shape[0]))
    ax.set_title(f"{measure}: {names[0]} vs {names[1]}")
    return ax
