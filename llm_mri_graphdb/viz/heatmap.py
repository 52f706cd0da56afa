"""Layer heatmaps of a grid NRAG: one layer (:func:`plot_heatmap`) or all as small multiples (:func:`plot_scan`).

Heatmaps always span the layer's whole ``gridsize x gridsize`` plane on its
fixed axes, so two labels' heatmaps line up.
"""

from __future__ import annotations

import math

import matplotlib.colors as mcolors
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from llm_mri_graphdb.nrag.model import GRID, NRAG

from ..labels import resolve_label
from .figure import new_axes
from .layout import gridsize_of

__all__ = ["plot_heatmap", "plot_scan"]


def _check_grid(nrag: NRAG) -> None:
    if nrag.kind != GRID:
        n = nrag.settings.get("n_components", int(nrag.region_x.max(initial=-1)) + 1)
        raise ValueError(f"a grid needs a 2-component scan; this scan has {n} components.")


def _check_layer(nrag: NRAG, layer: int) -> int:
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 0 <= layer < nrag.n_layers:
        raise ValueError(f"layer must be one of 0..{nrag.n_layers - 1}; got {layer!r}.")
    return int(layer)


def _layer_grid(nrag: NRAG, layer: int, label: int | None) -> np.ndarray:
    """Counts of ``layer`` as an ``ndarray of shape (gridsize, gridsize)`` indexed ``[y, x]``."""
    g = gridsize_of(nrag)
    grid = np.zeros((g, g), dtype=np.int64)
    sel = nrag.region_layer == layer
    counts = nrag.region_counts[sel]
    counts = counts.sum(axis=1) if label is None else counts[:, label]
    np.add.at(grid, (nrag.region_y[sel], nrag.region_x[sel]), counts)
    return grid


_COUNT_FORMAT = FuncFormatter(lambda v, _: f"{v:g}")


def _count_ticks(scale: str, vmax: float) -> list[float] | None:
    """0, 1, 2, 5, 10, 20, 50, ... up to ``vmax`` for a log colour bar (its default shows decades only)."""
    if scale != "log":
        return None
    steps = [m * 10**e for e in range(int(math.log10(max(vmax, 1))) + 1) for m in (1, 2, 5)]
    return [0.0] + [float(t) for t in steps if t <= vmax]


def plot_heatmap(
    nrag: NRAG,
    layer: int,
    label: str | int | None = None,
    *,
    ax: Axes | None = None,
    annotate: bool = True,
    cmap: str = "Blues",
    vmax: float | None = None,
    scale: str = "linear",
    colorbar: bool = False,
) -> Axes:
    """Heatmap of one layer's cell counts over the layer's whole fixed plane.

    Parameters
    ----------
    nrag : NRAG
        A grid (2-component) scan.
    layer : int
    label : str or int, default=None
        Label name or index; ``None`` sums all labels.
    ax : Axes, default=None
        Drawn into when given; otherwise a new figure is made.
    annotate : bool, default=True
        Write the count in every non-empty cell.
    cmap : str, default="Blues"
    vmax : float, default=None
        Top of the colour scale (share it to compare panels); the layer's maximum if None.
    scale : {"linear", "log"}, default="linear"
        ``"log"`` is symmetric-log (linear below 1 text), so sparse cells stay
        visible next to a crowded one.
    colorbar : bool, default=False

    Returns
    -------
    ax : Axes
        Holds one ``QuadMesh`` of ``gridsize**2`` cells, y increasing upward.
    """
    _check_grid(nrag)
    layer = _check_layer(nrag, layer)
    li = None if label is None else resolve_label(nrag.label_names, label)
    grid = _layer_grid(nrag, layer, li)
    g = grid.shape[0]
    if nrag.layer_bounds is not None:
        x0, x1, y0, y1 = nrag.layer_bounds[layer]
    else:
        x0, x1, y0, y1 = 0.0, float(g), 0.0, float(g)
    xe, ye = np.linspace(x0, x1, g + 1), np.linspace(y0, y1, g + 1)
    if ax is None:
        ax = new_axes((4.8, 4.4))
    top = float(vmax) if vmax is not None else max(float(grid.max()), 1.0)
    if scale not in ("linear", "log"):
        raise ValueError(f"scale must be 'linear' or 'log'; got {scale!r}.")
    norm = (
        mcolors.Normalize(0.0, top)
        if scale == "linear"
        else mcolors.SymLogNorm(linthresh=1.0, linscale=1.0, vmin=0.0, vmax=top, base=10)
    )
    mesh = ax.pcolormesh(xe, ye, grid, cmap=cmap, norm=norm, edgecolors="white", linewidth=0.3)
    if annotate:
        xc, yc = (xe[:-1] + xe[1:]) / 2, (ye[:-1] + ye[1:]) / 2
        size = max(4.0, min(9.0, 90.0 / g))
        for iy, ix in zip(*np.nonzero(grid)):
            dark = norm(grid[iy, ix]) > 0.6
            ax.text(
                xc[ix],
                yc[iy],
                str(grid[iy, ix]),
                ha="center",
                va="center",
                fontsize=size,
                color="white" if dark else "black",
            )
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax, shrink=0.8, label="texts", format=_COUNT_FORMAT, ticks=_count_ticks(scale, top))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_box_aspect(1)
    ax.set_xlabel("component 1")
    ax.set_ylabel("component 2")
    name = "all labels" if li is None else nrag.label_names[li]
    ax.set_title(f"Layer {layer}: {name}")
    return ax


def plot_scan(
    nrag: NRAG,
    *,
    label: str | int | None = None,
    annotate: bool = False,
    cmap: str = "Blues",
    scale: str = "log",
    ncols: int | None = None,
    fig: Figure | None = None,
) -> Figure:
    """All layers' heatmaps as small multiples on one colour scale.

    Parameters
    ----------
    nrag : NRAG
        A grid scan.
    label : str or int, default=None
        ``None`` sums all labels.
    annotate : bool, default=False
        Counts in cells (readable only for small grids).
    cmap : str, default="Blues"
    scale : {"log", "linear"}, default="log"
        One colour scale for all panels; log by default because a collapsed layer
        (every text in one cell) would otherwise wash out all others.
    ncols : int, default=None
        Panels per row; about ``sqrt(n_layers)`` when None.
    fig : Figure, default=None
        Drawn into when given.

    Returns
    -------
    fig : Figure
        One Axes per layer (then one colour bar), unused panels removed.
    """
    _check_grid(nrag)
    li = None if label is None else resolve_label(nrag.label_names, label)
    n = nrag.n_layers
    ncols = ncols or math.ceil(math.sqrt(n))
    nrows = math.ceil(n / ncols)
    if fig is None:
        fig = Figure(figsize=(2.3 * ncols + 1.0, 2.4 * nrows + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    vmax = max(max(int(_layer_grid(nrag, layer, li).max()) for layer in range(n)), 1)
    for layer in range(n):
        ax = plot_heatmap(nrag, layer, label, ax=axes[layer], annotate=annotate, cmap=cmap, vmax=vmax, scale=scale)
        ax.set_title(f"Layer {layer}", fontsize=9)
        ax.tick_params(labelsize=6)
        ax.set_xlabel("")
        ax.set_ylabel("")
    for ax in axes[n:]:
        ax.remove()
    name = "all labels" if li is None else nrag.label_names[li]
    fig.suptitle(f"Scan: {name}")
    fig.colorbar(
        axes[0].collections[0],
        ax=list(axes[:n]),
        shrink=0.6,
        label="texts",
        format=_COUNT_FORMAT,
        ticks=_count_ticks(scale, vmax),
    )
    return fig
