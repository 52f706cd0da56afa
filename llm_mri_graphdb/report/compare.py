"""One self-contained HTML page comparing two scans of one corpus, layer by layer.

It holds, for each measure computed (linear CKA, AMI), a heatmap of every
layer pair (layers of ``a`` down, of ``b`` across, the best match of each
layer of ``a`` boxed) and a table of best matches with their relative depth,
then the full matrices. Figures are embedded as base64 PNGs and the page loads
nothing from the network, so it opens offline and can be archived as one file.
"""

from __future__ import annotations

import base64
import html
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from llm_mri_graphdb.analysis.alignment import LayerAlignment
from llm_mri_graphdb.report.scan import PAGE_STYLE, html_table

__all__ = ["build_comparison_report", "write_comparison_report", "comparison_folder"]

_TITLES = {"cka": "Linear CKA of the activations", "ami": "Adjusted mutual information of the regions"}
_STYLE = PAGE_STYLE + "table{font-size:.85rem}td,th{padding:.2rem .45rem}.note{color:#8a4b00}"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.4f}"
    return html.escape(str(value))


def _table(rows: list[list[Any]], header: list[str]) -> str:
    return html_table(rows, header, _cell)


def _heatmap(matrix: np.ndarray, measure: str, names: tuple[str, str]) -> str:
    from llm_mri_graphdb.viz import figure_to_png_bytes, plot_alignment

    ax = plot_alignment(matrix, measure=measure.upper(), names=names)
    data = base64.b64encode(figure_to_png_bytes(ax)).decode()
    return f'<img alt="{measure} heatmap" src="data:image/png;base64,{data}">'


def _depth(layer: int, n_layers: int) -> float:
    return layer / (n_layers - 1) if n_layers > 1 else 0.0


def _best_rows(alignment: LayerAlignment, measure: str) -> list[list[Any]]:
    matrix = alignment.matrix(measure)
    rows = []
    for layer, best in enumerate(alignment.best(measure)):
        rows.append([layer, best, float(matrix[layer, best]), _depth(layer, matrix.shape[0]),
                     _depth(best, matrix.shape[1])])
    return rows


def build_comparison_report(alignment: LayerAlignment) -> str:
    """The HTML text of the comparison of ``alignment``'s two scans."""
    a, b = alignment.names
    run_a, run_b = alignment.runs
    parts = [f"<h1>{html.escape(a)} vs {html.escape(b)}: which layers agree</h1>"]
    facts = [["model a", a], ["model b", b]]
    if run_a or run_b:
        facts += [["run a", run_a], ["run b", run_b]]
    matrix = alignment.cka if alignment.cka is not None else alignment.ami
    if matrix is None:
        raise ValueError("the alignment holds neither CKA nor AMI; align activations or region paths.")
    shape = matrix.shape
    facts += [["layers of a", shape[0]], ["layers of b", shape[1]]]
    parts.append(_table(facts, ["", "compared"]))
    parts += [f'<p class="note">{html.escape(note)}</p>' for note in alignment.notes]
    for measure in ("cka", "ami"):
        matrix = getattr(alignment, measure)
        if matrix is None:
            continue
        parts.append(f"<h2>{_TITLES[measure]}</h2>")
        parts.append(_heatmap(matrix, measure, alignment.names))
        parts.append(f"<p>Best layer of {html.escape(b)} for each layer of {html.escape(a)} "
                     "(depth: layer / (layers - 1)).</p>")
        parts.append(_table(_best_rows(alignment, measure),
                            [f"layer of {a}", f"best layer of {b}", measure.upper(), f"depth in {a}",
                             f"depth in {b}"]))
        full = [[i, *(float(v) for v in row)] for i, row in enumerate(matrix)]
        parts.append("<details><summary>every layer pair</summary>"
                     + _table(full, [f"{a} \\ {b}", *(str(j) for j in range(matrix.shape[1]))]) + "</details>")
    title = html.escape(f"{a} vs {b}")
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>"
            f"<style>{_STYLE}</style></head><body>{''.join(parts)}</body></html>")


def comparison_folder(out: str | Path, alignment: LayerAlignment) -> Path:
    """``out/compare_<run_a>_<run_b>`` (model names for in-process scans)."""
    a, b = alignment.runs if all(alignment.runs) else alignment.names
    safe = lambda s: re.sub(r"[^A-Za-z0-9._-]+", "-", s)  # noqa: E731
    return Path(out) / f"compare_{safe(a)}_{safe(b)}"


def write_comparison_report(alignment: LayerAlignment, out: str | Path = "reports") -> Path:
    """Write ``comparison.html`` into :func:`comparison_folder`; returns its path."""
    from llm_mri_graphdb.files import write_atomic

    return write_atomic(comparison_folder(out, alignment) / "comparison.html", build_comparison_report(alignment))
