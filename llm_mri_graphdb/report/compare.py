"""One self-contained HTML page comparing two scans of one corpus, layer by layer.

It leads with **debiased linear CKA** (unbiased HSIC): its heatmap (layers of
``a`` down, of ``b`` across, the best match of each layer of ``a`` boxed, pairs
not above their permutation null crossed out) and a best-match table with each
match's permutation p-value, bootstrap stability and relative depth, and the
Spearman correlation of layer index with best-match index. Then plain linear
CKA (biased upwards: two unrelated matrices can score 0.6), AMI of the region
assignments next to what each run's regions can carry (AMI of regions with
labels, variance the reduction keeps), and the full matrices. Figures are
embedded as base64 PNGs and the page loads nothing from the network, so it
opens offline and can be archived as one file.
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

__all__ = ["build_comparison_report", "write_comparison_report", "comparison_folder", "depth_order"]

_TITLES = {
    "cka_debiased": "Debiased linear CKA of the activations (unbiased HSIC)",
    "cka": "Linear CKA of the activations (plain, biased upwards)",
    "ami": "Adjusted mutual information of the regions",
}
_LABELS = {"cka_debiased": "debiased CKA", "cka": "CKA", "ami": "AMI"}
_STYLE = PAGE_STYLE + "table{font-size:.85rem}td,th{padding:.2rem .45rem}.note{color:#8a4b00}"
ALPHA = 0.05


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.4f}"
    if value is None:
        return "-"
    return html.escape(str(value))


def _table(rows: list[list[Any]], header: list[str]) -> str:
    return html_table(rows, header, _cell)


def _heatmap(matrix: np.ndarray, measure: str, names: tuple[str, str], not_above: np.ndarray | None = None) -> str:
    from llm_mri_graphdb.viz import figure_to_png_bytes, plot_alignment

    ax = plot_alignment(matrix, measure=_LABELS[measure], names=names, not_above_null=not_above)
    data = base64.b64encode(figure_to_png_bytes(ax)).decode()
    return f'<img alt="{measure} heatmap" src="data:image/png;base64,{data}">'


def _depth(layer: int, n_layers: int) -> float:
    return layer / (n_layers - 1) if n_layers > 1 else 0.0


def depth_order(best: list[int]) -> float:
    """Spearman correlation of layer index with best-match index (nan for fewer than 3 layers or a constant).

    >>> round(depth_order([0, 1, 1, 3, 5]), 4), depth_order([2, 2, 2])
    (0.9747, nan)
    """
    from scipy.stats import spearmanr

    if len(best) < 3 or len(set(best)) < 2:
        return float("nan")
    return float(spearmanr(np.arange(len(best)), best).statistic)


def _best_rows(alignment: LayerAlignment, measure: str) -> list[list[Any]]:
    matrix = alignment.matrix(measure)
    rows = []
    for layer, best in enumerate(alignment.best(measure)):
        row: list[Any] = [layer, best, float(matrix[layer, best])]
        if measure == "cka_debiased":
            p = None if alignment.cka_null_p is None else float(alignment.cka_null_p[layer, best])
            row += [
                p,
                "-" if p is None or math.isnan(p) else ("yes" if p <= ALPHA else "no"),
                None if alignment.stability is None else float(alignment.stability[layer]),
            ]
        rows.append(row + [_depth(layer, matrix.shape[0]), _depth(best, matrix.shape[1])])
    return rows


def _context(alignment: LayerAlignment) -> str:
    """Per run and layer: AMI of the regions with the labels, and the variance the reduction keeps."""
    if alignment.context is None:
        return ""
    parts = [
        "<h3>What the regions can carry</h3><p>AMI between two runs' regions is bounded by what each "
        "run's grid keeps: AMI(regions, labels) per layer, and the share of the layer's variance in the "
        "components the reduction keeps (top principal components).</p>"
    ]
    for name, context in zip(alignment.names, alignment.context):
        ami, kept = context.get("ami_labels"), context.get("variance_kept")
        n = len(ami or kept or [])
        if not n:
            continue
        rows = [
            [i, None if ami is None else float(ami[i]), None if kept is None or kept[i] is None else float(kept[i])]
            for i in range(n)
        ]
        parts.append(
            _table(
                rows,
                [
                    f"layer of {name}",
                    "AMI(regions, labels)",
                    f"variance kept ({context.get('n_components', '?')} components)",
                ],
            )
        )
    return "".join(parts)


def _section(alignment: LayerAlignment, measure: str) -> list[str]:
    a, b = alignment.names
    matrix = getattr(alignment, measure)
    if matrix is None:
        return []
    not_above = None
    if measure == "cka_debiased" and alignment.cka_null_p is not None:
        not_above = ~np.asarray(alignment.above_null(ALPHA))
    parts = [f"<h2>{_TITLES[measure]}</h2>", _heatmap(matrix, measure, alignment.names, not_above)]
    header = [f"layer of {a}", f"best layer of {b}", _LABELS[measure]]
    if measure == "cka_debiased":
        null = alignment.null or {}
        header += ["null p", f"above null (p <= {ALPHA})", "stability"]
        parts.append(
            f"<p>Each pair's debiased CKA against {null.get('n_permutations', '?')} permutations of the texts of "
            f"{html.escape(b)} (p = (1 + permuted &ge; observed) / (1 + permutations), on "
            f"{null.get('n_rows', '?')} texts, seed {null.get('random_state')}); crossed-out cells are not above "
            f"their null. Stability: the share of {null.get('n_bootstrap', '?')} bootstrap resamples in which a "
            "layer keeps the best match it has on all texts.</p>"
        )
    best = alignment.best(measure)
    parts.append(
        f"<p>Best layer of {html.escape(b)} for each layer of {html.escape(a)} (depth: layer / (layers - "
        f"1)); Spearman correlation of layer index with best-match index: "
        f"<b>{_cell(depth_order(best))}</b>.</p>"
    )
    parts.append(_table(_best_rows(alignment, measure), header + [f"depth in {a}", f"depth in {b}"]))
    if measure == "ami":
        parts.append(_context(alignment))
    full = [[i, *(float(v) for v in row)] for i, row in enumerate(matrix)]
    parts.append(
        f"<details><summary>every layer pair ({_LABELS[measure]})</summary>"
        + _table(full, [f"{a} \\ {b}", *(str(j) for j in range(matrix.shape[1]))])
        + "</details>"
    )
    return parts


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
    above = alignment.above_null(ALPHA) if alignment.cka_null_p is not None else None
    if above is not None:
        facts += [["pairs above their null (debiased CKA)", f"{int(above.sum())} of {above.size}"]]
    parts.append(_table(facts, ["", "compared"]))
    parts += [f'<p class="note">{html.escape(note)}</p>' for note in alignment.notes]
    for measure in ("cka_debiased", "cka", "ami"):
        parts += _section(alignment, measure)
    title = html.escape(f"{a} vs {b}")
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{_STYLE}</style></head><body>{''.join(parts)}</body></html>"
    )


def comparison_folder(out: str | Path, alignment: LayerAlignment) -> Path:
    """``out/compare_<run_a>_<run_b>`` (model names for in-process scans)."""
    a, b = alignment.runs if all(alignment.runs) else alignment.names
    safe = lambda s: re.sub(r"[^A-Za-z0-9._-]+", "-", s)  # noqa: E731
    return Path(out) / f"compare_{safe(a)}_{safe(b)}"


def write_comparison_report(alignment: LayerAlignment, out: str | Path = "reports") -> Path:
    """Write ``comparison.html`` into :func:`comparison_folder`; returns its path."""
    from llm_mri_graphdb.files import write_atomic

    return write_atomic(comparison_folder(out, alignment) / "comparison.html", build_comparison_report(alignment))
