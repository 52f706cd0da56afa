"""Interactive heatmaps for the HTML report: one inline SVG per label and layer, example texts on hover.

:func:`heatmap_panels` draws every layer's ``gridsize x gridsize`` plane once
per label (the same cells, counts and fixed axes as
:func:`llm_mri_graphdb.viz.plot_heatmap`, y increasing upward) as small SVG
panels on one log colour scale. Hovering a cell shows its label counts and up
to ``max_examples`` of its texts (of that label when the texts' labels are
known). Texts are stored once in a JSON block and cells point at them, so the
page stays small; script and style are inlined, so it works offline.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from llm_mri_graphdb.nrag.model import GRID, NRAG
from llm_mri_graphdb.report.interactive import PALETTE, region_example_ids, shorten, web_asset
from llm_mri_graphdb.viz.layout import gridsize_of

__all__ = ["heatmap_panels"]

# matplotlib's "Blues" (the static heatmaps' colour map) at nine even steps.
_BLUES = ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b")


def _blue(t: float) -> str:
    """Colour of ``t`` in [0, 1] on the Blues ramp."""
    pos = min(max(t, 0.0), 1.0) * (len(_BLUES) - 1)
    i = min(int(pos), len(_BLUES) - 2)
    a, b = _BLUES[i], _BLUES[i + 1]
    mix = [
        round(int(a[k : k + 2], 16) + (int(b[k : k + 2], 16) - int(a[k : k + 2], 16)) * (pos - i)) for k in (1, 3, 5)
    ]
    return "#" + "".join(f"{v:02x}" for v in mix)


def heatmap_panels(
    nrag: NRAG,
    *,
    texts: Sequence[str] | None = None,
    text_labels: Any = None,
    max_examples: int = 5,
    max_chars: int = 200,
    panel_px: int = 104,
) -> str:
    """HTML of the interactive heatmaps: a row of layer panels per label.

    Parameters
    ----------
    nrag : NRAG
        A grid scan.
    texts : sequence of str, optional
        The corpus texts; with ``nrag.paths`` each cell lists up to
        ``max_examples`` of its texts on hover.
    text_labels : array-like of shape (n_texts,), optional
        Label index of every text; then a cell of label L lists texts of label L
        (otherwise texts of every label in the cell).
    max_examples : int, default=5
    max_chars : int, default=200
        Longer texts are cut (see :func:`llm_mri_graphdb.report.interactive.shorten`).
    panel_px : int, default=104
        Width and height of one panel.

    Returns
    -------
    str
        A fragment (``<div>``, one ``<svg>`` per label and layer, a JSON block,
        style and script) to place in a page's body.
    """
    if nrag.kind != GRID:
        raise ValueError("interactive heatmaps need a grid (2-component) scan; this scan has components.")
    names = list(nrag.label_names)
    n_labels = len(names)
    paths = nrag.paths if texts is not None else None  # the regions of the texts, when there are texts to show
    shown: Sequence[str] = texts if texts is not None and paths is not None else []
    with_texts = paths is not None
    if paths is not None and len(shown) != paths.shape[0]:
        raise ValueError(f"texts must hold one text per row of the scan's paths ({paths.shape[0]}); got {len(shown)}.")
    per_label = with_texts and text_labels is not None
    ids: list[list[int]] = []
    if paths is not None:
        ids = region_example_ids(
            paths,
            nrag.n_regions,
            text_labels=text_labels if per_label else None,
            n_labels=n_labels if per_label else 1,
            max_examples=max_examples,
        )
    used = sorted({i for chosen in ids for i in chosen})
    slot = {i: k for k, i in enumerate(used)}

    g = gridsize_of(nrag)
    cell = panel_px / g
    region_names = nrag.region_ids()
    vmax = max(int(nrag.region_counts.max(initial=0)), 1)
    rows = []
    for li, name in enumerate(names):
        panels = []
        for layer in range(nrag.n_layers):
            rects = []
            for r in np.flatnonzero((nrag.region_layer == layer) & (nrag.region_counts[:, li] > 0)).tolist():
                n = int(nrag.region_counts[r, li])
                x, y = int(nrag.region_x[r]), int(nrag.region_y[r])
                chosen = ids[r * n_labels + li if per_label else r] if with_texts else []
                t = " ".join(str(slot[i]) for i in chosen)
                rects.append(
                    f'<rect x="{x * cell:.2f}" y="{(g - 1 - y) * cell:.2f}" width="{cell:.2f}" '
                    f'height="{cell:.2f}" fill="{_blue(0.15 + 0.85 * math.log1p(n) / math.log1p(vmax))}" '
                    f'data-r="{region_names[r]}" data-label="{li}" data-x="{x}" data-y="{y}" data-t="{t}"/>'
                )
            panels.append(
                f'<figure><svg width="{panel_px}" height="{panel_px}" viewBox="0 0 {panel_px} {panel_px}" '
                f'data-layer="{layer}" data-label="{html.escape(name, quote=True)}" role="img" '
                f'aria-label="layer {layer}, {html.escape(name, quote=True)}">'
                f'<rect class="bg" width="{panel_px}" height="{panel_px}"/>{"".join(rects)}</svg>'
                f"<figcaption>layer {layer}</figcaption></figure>"
            )
        rows.append(f"<h3>{html.escape(name)}</h3><div class='llm-mri-row'>{''.join(panels)}</div>")
    data = {
        "labels": names,
        "colours": [PALETTE[i % len(PALETTE)] for i in range(n_labels)],
        "texts": [shorten(shown[i], max_chars) for i in used],
        "perLabel": per_label,
        "counts": {region_names[r]: nrag.region_counts[r].tolist() for r in range(nrag.n_regions)},
    }
    block = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
    return (
        "<div class='llm-mri-heatmaps'>" + "".join(rows) + "</div>"
        f"<script type='application/json' id='llm-mri-heatmaps'>{block}</script>"
        f"<style>{web_asset('hover.css')}{_STYLE}</style>"
        f"<script>{web_asset('tip.js')}\n{web_asset('heatmap_hover.js')}</script>"
    )


_STYLE = """
.llm-mri-heatmaps h3{font-size:1rem;margin:.8rem 0 .2rem}.llm-mri-row{display:flex;flex-wrap:wrap;gap:.35rem}
.llm-mri-row figure{margin:0;text-align:center;font-size:.75rem;color:#555}
.llm-mri-row svg{display:block;border:1px solid #ddd}.llm-mri-row rect.bg{fill:#fafafa}
.llm-mri-row rect[data-r]{stroke:#fff;stroke-width:.5}.llm-mri-row rect[data-r]:hover{stroke:#d55e00;stroke-width:2}
"""
