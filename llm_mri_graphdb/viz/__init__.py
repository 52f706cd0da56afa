"""Figures of an NRAG scan: layer heatmaps, the layered graph, small multiples, probing.

Matplotlib only, headless: figures are built with :class:`matplotlib.figure.Figure`
(never pyplot), so nothing here touches global state or needs a display, and no
graphviz is needed (``llm_mri`` laid graphs out with ``dot``).

Return rule: a single-panel ``plot_<thing>`` draws into ``ax`` (creating a figure
only when ``ax is None``) and returns that Axes; the multi-panel :func:`plot_scan`
returns its Figure. Nothing here saves or shows; :func:`figure_to_png_bytes` is the
one place that renders.

Unlike ``llm_mri``, heatmaps always span the layer's whole ``gridsize x gridsize``
plane on its fixed axes (so two labels' heatmaps line up), and graphs draw every
label's edge, any number of labels.
"""

from __future__ import annotations

from .alignment import plot_alignment
from .figure import figure_to_png_bytes, root_figure
from .graph import plot_graph
from .heatmap import plot_heatmap, plot_scan
from .probing import plot_metric_deltas, plot_probe

__all__ = [
    "plot_heatmap",
    "plot_graph",
    "plot_scan",
    "plot_probe",
    "plot_metric_deltas",
    "plot_alignment",
    "figure_to_png_bytes",
    "root_figure",
]
