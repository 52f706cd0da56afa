"""Where every figure of :mod:`llm_mri_graphdb.viz` is created and rendered.

Figures are :class:`matplotlib.figure.Figure` objects, never pyplot ones: they
need no backend, touch no global state, and render to PNG through the Agg
canvas whatever backend the user has chosen.
"""

from __future__ import annotations

import io

from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

__all__ = ["new_axes", "figure_to_png_bytes", "root_figure"]


def new_axes(figsize: tuple[float, float]) -> Axes:
    """One Axes on a new constrained-layout Figure of ``figsize`` inches."""
    return Figure(figsize=figsize, layout="constrained").add_subplot()


def root_figure(artist: Figure | SubFigure | Axes) -> Figure:
    """The top-level Figure of an Axes or a subfigure: the one that has a size and renders."""
    fig = artist.figure if isinstance(artist, Axes) else artist
    return fig.figure if isinstance(fig, SubFigure) else fig


def figure_to_png_bytes(fig: Figure | SubFigure | Axes, *, dpi: int = 100) -> bytes:
    """PNG bytes of a figure (or an Axes' figure), for reports that embed images."""
    buf = io.BytesIO()
    root_figure(fig).savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
