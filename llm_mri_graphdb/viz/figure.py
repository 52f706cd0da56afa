"""Where every figure of :mod:`llm_mri_graphdb.viz` is created and rendered.

Figures are :class:`matplotlib.figure.Figure` objects, never pyplot ones: they
need no backend, touch no global state, and render to PNG through the Agg
canvas whatever backend the user has chosen.
"""

from __future__ import annotations

import io

from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["new_axes", "figure_to_png_bytes"]


def new_axes(figsize: tuple[float, float]) -> Axes:
    """One Axes on a new constrained-layout Figure of ``figsize`` inches."""
    return Figure(figsize=figsize, layout="constrained").add_subplot()


def figure_to_png_bytes(fig: Figure | Axes, *, dpi: int = 100) -> bytes:
    """PNG bytes of a figure (or an Axes' figure), for reports that embed images."""
    fig = fig.figure if isinstance(fig, Axes) else fig
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
