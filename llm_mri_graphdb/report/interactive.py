"""Interactive graph view of an NRAG with Neo4j's ``neo4j-viz`` (NVL), fully offline.

:func:`graph_view` turns a run into a :class:`neo4j_viz.VisualizationGraph`:
one node per region, placed in one panel per layer (optionally a subset of
layers), coloured by its dominant label (or by layer), sized by the texts it
holds, with its label counts and up to five example texts as properties; one
relationship per region pair, as wide as the flow. :func:`view_html` renders
it into one self-contained HTML page: NVL's JavaScript and our hover script
(``llm_mri_graphdb/report/web``: a tooltip with the region's label counts and example
texts, and a label/layer colour switch) are inlined, so it works with the
network off. The report embeds that page with :func:`framed`, and a notebook
shows a view the same way.

``neo4j-viz`` is imported when a view is made, never at package import.
"""

from __future__ import annotations

import functools
import html
import json
from collections.abc import Sequence
from importlib import resources
from typing import Any

import numpy as np

from llm_mri_graphdb.nrag.model import GRID, NRAG
from llm_mri_graphdb.viz.layout import gridsize_of

__all__ = [
    "graph_view",
    "scan_view",
    "view_html",
    "region_examples",
    "region_example_ids",
    "shorten",
    "web_asset",
    "framed",
    "COLOR_BY",
    "PALETTE",
]

COLOR_BY = ("label", "layer")
# Okabe-Ito: distinguishable under the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
_LAYER_GAP, _ROW_GAP, _CELL = 260.0, 70.0, 60.0


def region_example_ids(
    paths: np.ndarray, n_regions: int, *, text_labels: Any = None, n_labels: int = 1, max_examples: int = 5
) -> list[list[int]]:
    """Indices of up to ``max_examples`` texts of every region (or region and label), in corpus order.

    Parameters
    ----------
    paths : ndarray of shape (n_texts, n_layers)
        Region index (into the NRAG's region arrays) of every text at every layer.
    n_regions : int
    text_labels : array-like of shape (n_texts,), optional
        Label index of every text. When given, the answer holds one list per
        region and label: entry ``region * n_labels + label``.
    n_labels : int, default=1
        Number of labels (used with ``text_labels``).
    max_examples : int, default=5

    Returns
    -------
    ids : list of list of int
        ``n_regions`` lists, or ``n_regions * n_labels`` with ``text_labels``.
    """
    paths = np.asarray(paths, dtype=np.int64)
    if paths.ndim != 2:
        raise ValueError(f"paths must have shape (n_texts, n_layers); got {paths.shape}.")
    keys, n_keys = paths, n_regions
    if text_labels is not None:
        text_labels = np.asarray(text_labels, dtype=np.int64)
        if text_labels.shape != (paths.shape[0],) or (
            text_labels.size and not (0 <= text_labels.min() and text_labels.max() < n_labels)
        ):
            raise ValueError(
                f"text_labels must hold one label index below n_labels={n_labels} per text "
                f"({paths.shape[0]}); got shape {text_labels.shape}."
            )
        keys, n_keys = paths * n_labels + text_labels[:, None], n_regions * n_labels
    ids: list[list[int]] = [[] for _ in range(n_keys)]
    order = np.argsort(keys, axis=0, kind="stable")  # texts of a region stay in corpus order
    for layer in range(keys.shape[1]):
        column = keys[order[:, layer], layer]
        starts = np.flatnonzero(np.r_[True, column[1:] != column[:-1]]) if column.size else np.empty(0, np.intp)
        for start in starts.tolist():
            key = int(column[start])
            chosen = order[start : start + max_examples, layer]
            ids[key] = chosen[keys[chosen, layer] == key].tolist()
    return ids


def region_examples(
    paths: np.ndarray, texts: Sequence[str], n_regions: int, *, max_examples: int = 5, max_chars: int = 200
) -> list[list[str]]:
    """Up to ``max_examples`` texts of every region, in corpus order.

    Parameters
    ----------
    paths : ndarray of shape (n_texts, n_layers)
        Region index (into the NRAG's region arrays) of every text at every layer.
    texts : sequence of str
        The corpus texts, in the order of ``paths``' rows.
    n_regions : int
    max_examples : int, default=5
    max_chars : int, default=200
        Longer texts are cut and end with an ellipsis; runs of white space become one space.
    """
    paths = np.asarray(paths)
    if paths.ndim != 2 or paths.shape[0] != len(texts):
        raise ValueError(f"paths must have shape (n_texts={len(texts)}, n_layers); got {paths.shape}.")
    return [
        [shorten(texts[i], max_chars) for i in chosen]
        for chosen in region_example_ids(paths, n_regions, max_examples=max_examples)
    ]


def shorten(text: str, max_chars: int = 200) -> str:
    """``text`` on one line, cut to ``max_chars`` characters (the last an ellipsis)."""
    text = " ".join(str(text).split())
    return text if len(text) <= max_chars else text[: max_chars - 1] + "\u2026"


def _positions(nrag: NRAG, column: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Grid scans: each shown layer a panel of its ``gridsize x gridsize`` cells, panels side by side;
    component scans: a column per shown layer, components top to bottom. ``column[r]``: panel of region r."""
    if nrag.kind == GRID:
        g = gridsize_of(nrag)
        return column * (g + 2) * _CELL + nrag.region_x * _CELL, (g - 1 - nrag.region_y) * _CELL
    return column * _LAYER_GAP, nrag.region_x * _ROW_GAP


def _check_layers(layers: Any, n_layers: int) -> np.ndarray:
    """The shown layers, sorted; negative indices count from the last layer."""
    if layers is None:
        return np.arange(n_layers)
    chosen = [layers] if isinstance(layers, (int, np.integer)) else list(layers)
    bad = [
        layer
        for layer in chosen
        if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not -n_layers <= layer < n_layers
    ]
    if bad or not chosen:
        raise ValueError(f"layers must be indices in -{n_layers}..{n_layers - 1} (one or more); got {layers!r}.")
    return np.unique(np.asarray(chosen, dtype=np.int64) % n_layers)


def graph_view(
    nrag: NRAG,
    *,
    examples: Sequence[Sequence[str]] | None = None,
    color_by: str = "label",
    labels: Any = None,
    layers: int | Sequence[int] | None = None,
    min_weight: float = 0.0,
    max_relationships: int | None = None,
):
    """The NRAG as a :class:`neo4j_viz.VisualizationGraph`.

    Every node is a region with the properties ``layer``, ``texts``, one count
    per label (in label order), ``dominant label`` and ``example 1`` ... ``example k``;
    NVL shows them in its side panel, and :func:`view_html` in a hover tooltip.

    Parameters
    ----------
    nrag : NRAG
    examples : list of list of str, optional
        Example texts per region (see :func:`region_examples`).
    color_by : {"label", "layer"}, default="label"
        Dominant label of the region, or its layer (Okabe-Ito colours).
    labels : label selection, optional
        Names or indices; default all.
    layers : int or sequence of int, optional
        Layers to show (negative counts from the last); default all. Shown layers
        sit side by side with no gap for the others; flows between two shown
        layers that are not adjacent are not drawn (flows join adjacent layers).
    min_weight : float, default=0.0
        Region pairs whose summed flow is not above this are left out.
    max_relationships : int, optional
        Keep only this many region pairs, the strongest flows (ties in region
        order); default all. Bounds the page size of a large scan.

    Returns
    -------
    neo4j_viz.VisualizationGraph
        Shown in a notebook as :func:`view_html` (with hover tooltips);
        ``.render()`` gives neo4j-viz's own page.
    """
    if color_by not in COLOR_BY:
        raise ValueError(f"color_by must be one of {COLOR_BY}; got {color_by!r}.")
    if examples is not None and len(examples) != nrag.n_regions:
        raise ValueError(f"examples must hold one list per region ({nrag.n_regions}); got {len(examples)}.")
    shown_layers = _check_layers(layers, nrag.n_layers)
    from neo4j_viz import Node, Relationship

    keep_all = labels is None
    sub = nrag if keep_all else nrag.select_labels(labels)
    if not keep_all:
        examples = None  # region indices change with the selection
    names = sub.label_names
    ids = sub.region_ids()
    column = np.full(sub.n_layers, -1, np.int64)
    column[shown_layers] = np.arange(len(shown_layers))
    shown = column[sub.region_layer] >= 0
    xs, ys = _positions(sub, column[sub.region_layer])
    totals = sub.region_counts.sum(axis=1)
    dominant = sub.region_counts.argmax(axis=1)
    size_scale = 10.0 + 30.0 * np.sqrt(totals / max(1, totals[shown].max(initial=0)))
    nodes = []
    for r in np.flatnonzero(shown).tolist():
        counts = dict(zip(names, sub.region_counts[r].tolist()))
        key = int(dominant[r]) if color_by == "label" else int(sub.region_layer[r])
        props: dict[str, Any] = {
            "layer": int(sub.region_layer[r]),
            "texts": int(totals[r]),
            **counts,
            "dominant label": names[int(dominant[r])],
        }
        if examples is not None:
            for k, text in enumerate(examples[r], start=1):
                props[f"example {k}"] = text
        nodes.append(
            Node(
                id=ids[r],
                caption=ids[r],
                size=round(float(size_scale[r]), 2),
                color=PALETTE[key % len(PALETTE)],
                x=float(xs[r]),
                y=float(ys[r]),
                pinned=True,
                properties=props,
            )
        )
    pairs: dict[tuple[int, int], dict[str, float]] = {}
    for s, t, lab, w in zip(
        sub.edge_source.tolist(), sub.edge_target.tolist(), sub.edge_label.tolist(), sub.edge_weight.tolist()
    ):
        if shown[s] and shown[t]:
            pairs.setdefault((s, t), {})[names[lab]] = w
    kept = [(st, w) for st, w in pairs.items() if sum(w.values()) > min_weight]
    if max_relationships is not None and len(kept) > max_relationships:
        strongest = sorted(range(len(kept)), key=lambda k: -sum(kept[k][1].values()))[:max_relationships]
        kept = [kept[k] for k in sorted(strongest)]
    wmax = max((sum(v.values()) for v in pairs.values()), default=1.0) or 1.0
    relationships = [
        Relationship(
            id=f"{ids[s]}>{ids[t]}",
            source=ids[s],
            target=ids[t],
            width=round(0.5 + 6.0 * abs(sum(w.values())) / abs(wmax), 2),
            color="#888888",
            properties={"weight": float(sum(w.values())), **w},
        )
        for (s, t), w in kept
    ]
    return _view_class()(nodes=nodes, relationships=relationships)


@functools.cache
def _view_class() -> type:
    """:class:`neo4j_viz.VisualizationGraph` that a notebook shows with the hover tooltips (built on first use,
    so neo4j-viz is imported only when a view is made)."""
    from neo4j_viz import VisualizationGraph

    class RegionGraphView(VisualizationGraph):
        """A :func:`graph_view`: a notebook displays it as :func:`view_html` in a frame (hover for texts)."""

        def _repr_html_(self) -> str:
            return framed(view_html(self, height="600px"))

    return RegionGraphView


def framed(page: str, *, title: str = "NRAG", height_px: int = 640) -> str:
    """``page`` in an ``<iframe srcdoc>``, so its scripts and style stay apart from the host page.

    The attribute is single-quoted with only ``&`` and ``'`` escaped: ``html.escape``
    would also turn the inlined page's many ``"``, ``<`` and ``>`` into entities,
    megabytes more for a large scan.
    """
    doc = page.replace("&", "&amp;").replace("'", "&#39;")
    return (
        f"<iframe title='{html.escape(title, quote=True)}' style='width:100%;height:{int(height_px)}px;"
        f"border:1px solid #eee' srcdoc='{doc}'></iframe>"
    )


def web_asset(name: str) -> str:
    """The text of a file the package ships in ``llm_mri_graphdb/report/web`` (the hover scripts and their style)."""
    return (resources.files("llm_mri_graphdb.report") / "web" / name).read_text(encoding="utf-8")


def _label_names(view) -> list[str]:
    """Label names in order: the count properties :func:`graph_view` writes between ``texts`` and ``dominant label``."""
    if not view.nodes:
        return []
    keys = list(view.nodes[0].properties)
    if "texts" not in keys or "dominant label" not in keys:
        return []
    return keys[keys.index("texts") + 1 : keys.index("dominant label")]


def _same_colour(colour: Any, hex_colour: str) -> bool:
    """Whether a neo4j-viz colour (pydantic ``Color``, whose ``str`` may be a CSS name) is ``#rrggbb``."""
    rgb = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return (
        tuple(colour.as_rgb_tuple()[:3]) == rgb
        if hasattr(colour, "as_rgb_tuple")
        else str(colour).lower() == hex_colour.lower()
    )


def scan_view(
    nrag: NRAG,
    texts: Sequence[str] | None = None,
    *,
    color_by: str = "label",
    layers: int | Sequence[int] | None = None,
    max_relationships: int | None = None,
):
    """:func:`graph_view` of a scan with up to five example texts per region when ``texts`` and ``nrag.paths`` allow.

    The one way the facade (``areas.show()``), the stores (``store.show(run_id)``)
    and the report turn a scan and its corpus into a view.

    Parameters
    ----------
    nrag : NRAG
    texts : sequence of str, optional
        The corpus texts in the order of ``nrag.paths``' rows; without them (or
        without paths, as for component runs) regions carry counts only.
    color_by, layers, max_relationships
        As in :func:`graph_view`.
    """
    examples = None
    if texts is not None and nrag.paths is not None:
        examples = region_examples(nrag.paths, texts, nrag.n_regions)
    return graph_view(nrag, examples=examples, color_by=color_by, layers=layers, max_relationships=max_relationships)


def view_html(view, *, height: str = "640px", width_px: int = 1100, hover: bool = True, max_examples: int = 5) -> str:
    """One self-contained HTML page (NVL inlined) of a :func:`graph_view`, zoomed to show every region.

    Parameters
    ----------
    view : neo4j_viz.VisualizationGraph
        From :func:`graph_view`.
    height : str, default="640px"
    width_px : int, default=1100
        Expected width of the page, to zoom the whole graph into view.
    hover : bool, default=True
        Add the hover tooltip (label counts and up to ``max_examples`` example
        texts of the region under the pointer) and the colour switch (dominant
        label or layer). Scripts and style are inlined: the page fetches nothing.
    max_examples : int, default=5

    Returns
    -------
    str
    """
    xs = [n.x for n in view.nodes] or [0.0]
    ys = [n.y for n in view.nodes] or [0.0]
    span_x, span_y = max(xs) - min(xs) + 2 * _CELL, max(ys) - min(ys) + 2 * _CELL
    height_px = float(str(height).removesuffix("px")) if str(height).endswith("px") else 640.0
    zoom = max(0.08, min(2.0, width_px / span_x, height_px / span_y))
    pan = ((max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2)
    page = view.render(layout="free", height=height, show_layout_button=False, initial_zoom=zoom, pan_position=pan).data
    if not hover:
        return page
    labels = _label_names(view)
    label_coloured = all(
        _same_colour(n.color, PALETTE[labels.index(n.properties["dominant label"]) % len(PALETTE)])
        for n in view.nodes
        if n.properties.get("dominant label") in labels
    )
    meta = {
        "labels": labels,
        "palette": list(PALETTE),
        "maxExamples": int(max_examples),
        "colorBy": "label" if label_coloured else "layer",
        "hasExamples": any("example 1" in n.properties for n in view.nodes),
    }
    block = (
        '<script type="application/json" id="llm-mri-view">'
        + json.dumps(meta).replace("<", "\\u003c")
        + f"</script>\n<style>{web_asset('hover.css')}</style>\n"
        + f"<script>{web_asset('tip.js')}\n{web_asset('graph_hover.js')}</script>\n"
    )
    head, sep, tail = page.rpartition("</body>")
    return head + block + sep + tail
