"""One self-contained HTML page per scan: settings, metrics, figures, probing.

Above 400 lines: one page whose sections (quality, statistics, probe curve with controls, sensitivity) share
its table and escaping helpers; the graph view and heatmaps already live in their own modules.

Figures are embedded as base64 PNGs and the page has no external asset, so it
can be mailed or archived as a single file. Figures are rendered through
:mod:`llm_mri_graphdb.viz` (``matplotlib.figure.Figure``, no pyplot), so writing a
report never changes the user's matplotlib backend; matplotlib is imported
only when a report is built.
"""

from __future__ import annotations

import base64
import functools
import html
import json
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_mri_graphdb.analysis.quality import NULL_ONLY_METRICS
from llm_mri_graphdb.nrag.regions import GRID
from llm_mri_graphdb.viz.layout import gridsize_of

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from llm_mri_graphdb.nrag.model import NRAG

__all__ = ["build_report", "write_report", "SECTIONS", "MAX_FLOWS", "PAGE_STYLE", "html_table"]

#: Region pairs (flows) drawn in the report's interactive graph: the strongest, so a large scan's page stays small.
MAX_FLOWS = 5000

SECTIONS = (
    "Scan",
    "Scan quality",
    "Metrics",
    "Metrics per layer",
    "Activation regions",
    "Layered graph",
    "Interactive graph",
    "Communities",
    "Probing",
)

#: The CSS of our HTML pages (the scan report, the comparison report).
PAGE_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.9rem;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:right}
table{display:block;max-width:100%;overflow-x:auto}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}img{max-width:100%;border:1px solid #eee}
.note{color:#666;font-size:.9rem}.warning{color:#8a4b00;background:#fff4e0;padding:.3rem .5rem}
"""


def _png(fig: Figure | Axes) -> str:
    from llm_mri_graphdb.viz import figure_to_png_bytes

    return _img(figure_to_png_bytes(fig))


def _img(png: bytes) -> str:
    return f'<img alt="figure" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value + 0.0:.6g}"  # + 0.0 turns -0.0 into 0
    return html.escape(str(value))


def html_table(rows: list[list[Any]], header: list[str], cell: Callable[[Any], str] | None = None) -> str:
    """An HTML table of ``rows`` under ``header``; ``cell`` formats a value (default: floats to 6 digits)."""
    cell = cell or _fmt
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _scalar_rows(metrics_by_label: Mapping[str, Mapping[str, Any]]) -> tuple[list[list[Any]], list[str]]:
    columns = list(metrics_by_label)
    first = next(iter(metrics_by_label.values()))
    keys = [k for k, v in first.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return [[k, *(metrics_by_label[c].get(k) for c in columns)] for k in keys], ["metric", *columns]


def _layer_rows(metrics: Mapping[str, Any], n_layers: int) -> tuple[list[list[Any]], list[str]]:
    keys = [k for k, v in metrics.items() if k.endswith("_by_layer") and isinstance(v, list)]
    rows = []
    for layer in range(n_layers):
        rows.append([layer, *(metrics[k][layer] if layer < len(metrics[k]) else "" for k in keys)])
    return rows, ["layer", *keys]


def _statistics_section(nrag: NRAG, statistics: Any) -> list[str]:
    """Per-label metrics as value [interval] with a mark where the adjusted permutation p is below 0.05."""
    from llm_mri_graphdb.nrag.model import GRID

    parts = ["<h2 id='statistics'>Statistics</h2>"]
    if statistics is None or len(statistics) == 0:
        why = (
            "this run has no per-text paths (stored without texts) or the scan ran with --permutations 0 --bootstrap 0"
            if nrag.kind == GRID
            else "they need a grid NRAG (n_components=2)"
        )
        return parts + [f"<p class='note'>No statistics for this run: {why}.</p>"]
    attrs = statistics.attrs
    parts.append(
        f"<p class='note'>Each value with its {100 * attrs.get('confidence', 0.95):g} % stratified-bootstrap "
        f"interval ({attrs.get('n_bootstrap')} resamples of texts within label, reduction and grid fixed); "
        f"&#9733; marks p_adjusted &lt; 0.05 against the size-matched label-permutation null "
        f"({attrs.get('n_permutations')} permutations, two-sided, {attrs.get('correction')} correction over the "
        f"labels of each metric; seed {attrs.get('seed')}). z = (value - null mean) / null SD. Label pairs "
        "(a|b) carry the Jensen-Shannon divergence. A resample holds about 63 % distinct texts, so counts of "
        "occupied regions and edges (and the entropies) are smaller in it; the interval is therefore the resamples' "
        "spread about their median, placed around the value (median-centred basic bootstrap; its coverage on known "
        "populations: python -m bench coverage). For the shape metrics (skewness, kurtosis, assortativity), "
        "null [a, b] is the null mean -+ 1.96 null SD: the values chance gives a random set of texts of the same "
        "size. Definitions: llm_mri_graphdb.analysis.statistics.</p>"
    )

    def fmt(x: float) -> str:
        return "nan" if x != x else f"{x:.4g}"

    # One table per set of columns: the per-label metrics, then the label pairs' divergence (one wide table
    # left most cells of either part empty).
    tables: dict[tuple[str, ...], list[list[str]]] = {}
    for metric, group in statistics.groupby("metric", sort=False):
        by = group.set_index("label")
        cells = []
        for _, r in by.iterrows():
            mark = " &#9733;" if r.p_adjusted < 0.05 else ""
            interval = "" if r.ci_low != r.ci_low else f" [{fmt(r.ci_low)}, {fmt(r.ci_high)}]"
            z = "" if r.z != r.z else f" z={r.z:+.1f}"
            null = (
                f" null [{fmt(r.null_mean - 1.96 * r.null_sd)}, {fmt(r.null_mean + 1.96 * r.null_sd)}]"
                if metric in NULL_ONLY_METRICS and r.null_sd == r.null_sd
                else ""
            )
            cells.append(f"{fmt(r.value)}{interval}{z}{null}{mark}")
        tables.setdefault(tuple(map(str, by.index)), []).append([str(metric), *cells])
    # cells: numbers and the mark only
    return parts + [html_table(rows, ["metric", *labels], cell=str) for labels, rows in tables.items()]


def build_report(
    nrag: NRAG,
    metrics_by_label: Mapping[str, Mapping[str, Any]],
    *,
    probe: Mapping[str, Any] | None = None,
    run_id: str | None = None,
    heatmap_layer: int | None = None,
    analysis: Mapping[str, Any] | None = None,
    texts: Sequence[str] | None = None,
    text_labels: Sequence[int] | None = None,
    statistics: Any = None,
    sensitivity: Any = None,
    quality: Mapping[str, Any] | None = None,
    figures: Mapping[str, bytes] | None = None,
) -> str:
    """The HTML text of the report.

    Parameters
    ----------
    nrag : NRAG
    metrics_by_label : mapping
        ``{"all": compute_metrics(nrag), "<label>": compute_metrics(nrag, [label]), ...}``.
    probe : mapping, optional
        ``{"curve": probe_curve(...), "evaluation": evaluate_model(...)}``; the
        Probing section says when it is missing.
    heatmap_layer : int, optional
        Layer whose per-label heatmaps are shown; default the last.
    analysis : mapping, optional
        A store's ``analyze`` result (communities, centrality); the
        Communities section says when it is missing.
    texts : sequence of str, optional
        The corpus texts; with the NRAG's ``paths`` the interactive graph and
        the interactive heatmaps list up to five example texts per region or cell
        on hover.
    text_labels : sequence of int, optional
        Label index of every text: a heatmap cell of label L then lists texts
        of label L (otherwise texts of any label in the cell).
    statistics : pandas.DataFrame, optional
        :func:`llm_mri_graphdb.analysis.statistics.metric_statistics` of the run: the
        Statistics section shows each value with its interval and marks the
        ones whose adjusted p is below 0.05.
    sensitivity : pandas.DataFrame, optional
        :func:`llm_mri_graphdb.analysis.sensitivity.sensitivity_summary` of the run
        (``report --sensitivity``): each metric's spread over settings and over
        labels, flagged where the settings move it more.
    quality : mapping, optional
        :func:`llm_mri_graphdb.analysis.quality.quality_record` (pooling,
        degenerate layers, metrics without them, what the grid keeps);
        computed from ``nrag`` when None. With degenerate layers the Metrics
        section leads with the metrics without them.
    figures : mapping of str to bytes, optional
        PNGs already drawn for this run (``"graph"``, ``"scan"``, ``"heatmap:<label>"`` of the last layer, as
        ``scan`` saves them): used instead of drawing the same figures again.
    """
    from llm_mri_graphdb import viz
    from llm_mri_graphdb.analysis.quality import quality_record
    from llm_mri_graphdb.nrag.model import GRID

    def drawn(key: str, draw: Callable[[], Any]) -> str:
        """The ``<img>`` of ``figures[key]`` when it was drawn already, else of ``draw()``."""
        if figures and key in figures:
            return _img(figures[key])
        return _png(draw())

    run_id = run_id or nrag.run_id
    quality = quality if quality is not None else quality_record(nrag)
    model = nrag.model.get("name", "?")
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>llm-mri-graphdb scan {html.escape(run_id)}</title>",
        f"<style>{PAGE_STYLE}</style></head><body>",
        f"<h1>Scan of {html.escape(str(model))}</h1>",
    ]

    settings = {k: v for k, v in nrag.settings.items() if not isinstance(v, Mapping)}
    info = [
        ["run id", run_id],
        ["model", model],
        ["architecture", nrag.model.get("architecture", "")],
        ["corpus", nrag.corpus.get("name", "")],
        ["texts", nrag.corpus.get("n_texts", "")],
        ["labels", ", ".join(nrag.label_names)],
        ["layers", nrag.n_layers],
        ["regions", nrag.n_regions],
        ["edge rows (per label)", len(nrag.edge_weight)],
        *([k, json.dumps(v) if isinstance(v, (list, dict)) else v] for k, v in sorted(settings.items())),
    ]
    parts += ["<h2 id='scan'>Scan</h2>", html_table(info, ["", "value"])]

    parts += _quality_section(nrag, quality)
    parts += _metrics_section(metrics_by_label, quality)
    rows, header = _layer_rows(metrics_by_label["all"], nrag.n_layers)
    parts += ["<h2 id='metrics-per-layer'>Metrics per layer</h2>", html_table(rows, header)]
    parts += _statistics_section(nrag, statistics)
    if sensitivity is not None:
        parts += [
            "<h2 id='sensitivity'>Sensitivity to the settings</h2>",
            "<p class='note'>The run's grid rebuilt at gridsize 8, 10 and 12 with equal-width and quantile "
            "cells (and 3 reducer seeds for UMAP) from its activations: spread_settings is the range of a "
            "metric over those settings (mean over labels), spread_labels its range over labels (mean over "
            "settings). &#9888; marks a metric the settings move more than the labels do "
            "(llm-mri-graphdb sensitivity RUN).</p>",
            html_table(
                [
                    [r.metric, r.spread_settings, r.spread_labels, r.ratio, "&#9888;" if r.flagged else ""]
                    for r in sensitivity.itertuples()
                ],
                ["metric", "spread over settings", "spread over labels", "ratio", "flag"],
                cell=lambda c: c if isinstance(c, str) else _fmt(c),
            ),
        ]

    parts.append("<h2 id='activation-regions'>Activation regions</h2>")
    if nrag.kind == GRID:
        layer = nrag.n_layers - 1 if heatmap_layer is None else heatmap_layer
        parts.append(drawn("scan", lambda: viz.plot_scan(nrag)))
        parts.append(f"<p class='note'>Layer {layer}, one heatmap per label on the same axes.</p>")
        for label in nrag.label_names:
            key = f"heatmap:{label}" if layer == nrag.n_layers - 1 else ""  # saved figures are of the last layer
            parts.append(drawn(key, functools.partial(viz.plot_heatmap, nrag, layer, label)))
        parts += _heatmaps_section(nrag, texts, text_labels)
    else:
        parts.append(
            f"<p class='note'>This scan has {nrag.settings.get('n_components')} components per layer: "
            "regions are components, so there is no grid to draw.</p>"
        )

    parts += ["<h2 id='layered-graph'>Layered graph</h2>", drawn("graph", lambda: viz.plot_graph(nrag))]
    parts += _interactive_section(nrag, texts)
    parts += _communities_section(nrag, analysis)

    parts.append("<h2 id='probing'>Probing</h2>")
    if probe and probe.get("curve") is not None:
        parts.append(_png(viz.plot_probe(probe["curve"])))  # the evaluation is a table below, not in the figure
        parts += _probe_tables(probe["curve"])
        if probe.get("evaluation"):
            parts += _evaluation_table(probe["evaluation"])
    else:
        parts.append(
            "<p class='note'>No probing results for this run: they are computed by "
            "<code>llm-mri-graphdb scan</code> from the activations, which the store does not keep.</p>"
        )
    parts.append("</body></html>")
    return "\n".join(parts)


def _finite(x: Any) -> bool:
    return x is not None and math.isfinite(x)


def _interval(side: Mapping[str, Any], i: int | None, prefix: str = "", *, bounds: tuple[float, float] = (0, 1)) -> str:
    """``mean [low, high]`` of ``side`` (at layer ``i``), the interval cut at the score's ``bounds``; "-" if none."""
    pick = (lambda v: v) if i is None else (lambda v: v[i])  # noqa: E731
    mean, low, high = (pick(side[f"{prefix}{k}"]) for k in ("mean", "low", "high"))
    if not _finite(mean):
        return "-"
    if not (_finite(low) and _finite(high)):
        return f"{mean:.3f}"
    return f"{mean:.3f} [{max(low, bounds[0]):.3f}, {min(high, bounds[1]):.3f}]"


def _probe_tables(curve: Mapping[str, Any]) -> list[str]:
    """Per layer: accuracy, shuffled-label control and selectivity with intervals; then the controls."""
    if not isinstance(curve.get("full"), Mapping):
        return []
    method = curve.get("method", {})
    parts = [
        f"<p class='note'>{html.escape(str(method.get('classifier', '')))} probe, "
        f"{method.get('repeats')} x {method.get('splits')}-fold stratified cross-validation; scaler, reducer "
        "and penalty fitted inside each training fold; 95 % intervals by the "
        f"{html.escape(str(method.get('interval', '')))}, cut at the score's range ([0, 1]; selectivity "
        "[-1, 1]). Control: the same probe on shuffled labels; selectivity = accuracy - control accuracy "
        "(Hewitt &amp; Liang 2019).</p>"
    ]
    sides = [s for s in ("full", "reduced", "random_weights") if isinstance(curve.get(s), Mapping)]
    header = ["layer"]
    for s in sides:
        header += [f"{s} accuracy", f"{s} control", f"{s} selectivity"]
    rows = []
    for i in curve["layer"]:
        row: list[Any] = [i]
        for s in sides:
            row += [
                _interval(curve[s], i),
                _interval(curve[s], i, "control_"),
                _interval(curve[s], i, "selectivity_", bounds=(-1, 1)),
            ]
        rows.append(row)
    parts.append(html_table(rows, header))
    layer0 = (
        _interval(curve["full"], list(curve["layer"]).index(0)) if 0 in curve["layer"] else f"{curve['layer0']:.3f}"
    )
    controls = [["majority class", _interval(curve["majority"], None)], ["layer 0 (embeddings), full", layer0]]
    if isinstance(curve.get("bag_of_words"), Mapping):
        controls.append(["bag of words", _interval(curve["bag_of_words"], None)])
    if curve.get("mdl"):
        controls += [
            [
                f"MDL codelength, layer {i} (bits; uniform {m['uniform']:.0f})",
                f"{m['codelength']:.1f} (compression {m['compression']:.2f})",
            ]
            for i, m in enumerate(curve["mdl"])
        ]
    parts.append(html_table(controls, ["control", "accuracy [95 % interval]"]))
    return parts


def _evaluation_table(evaluation: Mapping[str, Any]) -> list[str]:
    """``evaluate_model``'s scores: full, reduced and their difference, each as mean [min, max] over the splits."""

    def spread(d: Mapping[str, Any] | None, sign: str = "") -> str:
        if not d or not d.get("per_split"):
            return "-"
        v = d["per_split"]
        return f"{d['mean']:{sign}.3f} [{min(v):{sign}.3f}, {max(v):{sign}.3f}]"

    delta = evaluation["delta"]
    n = max((len(d.get("per_split", [])) for d in delta.values()), default=0)
    rows = [
        [m, spread(evaluation.get("full", {}).get(m)), spread(evaluation.get("reduced", {}).get(m)), spread(d, "+")]
        for m, d in delta.items()
    ]
    note = (
        "<p class='note'>llm_mri's evaluation: a logistic-regression probe on the last layer's full activations "
        "and on all reduced layers side by side (the scan's reduction, fitted on all texts), over "
        f"{n} stratified random train/test splits; each cell is the mean [min, max] over the splits.</p>"
    )
    return [note, html_table(rows, ["metric", "full (last layer)", "reduced (all layers)", "full - reduced"], cell=str)]


def write_report(
    path: str | Path, nrag: NRAG, metrics_by_label: Mapping[str, Mapping[str, Any]], **kwargs: Any
) -> Path:
    """Write :func:`build_report` to ``path`` (whole or not at all, :func:`~.files.write_atomic`); return it."""
    from llm_mri_graphdb.files import write_atomic

    return write_atomic(path, build_report(nrag, metrics_by_label, **kwargs))


def _derived_mark(
    metrics_by_label: Mapping[str, Mapping[str, Any]], derived: Mapping[str, str], null_only: Sequence[str] = ()
):
    rows, header = _scalar_rows(metrics_by_label)
    rows = [row for row in rows if row[0] not in null_only]
    for row in rows:
        if row[0] in derived:
            row[0] = f"{row[0]} †"
    return rows, header


def _metrics_section(metrics_by_label: Mapping[str, Mapping[str, Any]], quality: Mapping[str, Any]) -> list[str]:
    """Scalar metrics per label; without the degenerate layers first when there are any."""
    derived = quality.get("derived", {})
    left_out = quality.get("left_out", {})
    null_only = list(quality.get("null_only", ()))
    note = (
        "<p class='note'>Definitions: llm_mri_graphdb.analysis.metrics. 'all' pools every label. † derived from counts: "
        + "; ".join(f"{html.escape(k)} = {html.escape(v)}" for k, v in derived.items())
        + ". Left out as constant or an identity on this kind of NRAG (the facade's llm_mri mode keeps them): "
        + "; ".join(f"{html.escape(k)} ({html.escape(v)})" for k, v in left_out.items())
        + ". "
        + (
            f"{', '.join(map(html.escape, null_only))} move with chance as much as with the labels, so they appear "
            "only under Statistics, beside the interval a label-permutation null gives them."
            if null_only
            else ""
        )
        + "</p>"
    )
    parts = ["<h2 id='metrics'>Metrics</h2>", note]
    without = quality.get("metrics_without_degenerate_layers")
    if without:
        layers = ", ".join(str(d["layer"]) for d in quality.get("degenerate_layers", ()))
        parts += [
            f"<h3 id='metrics-without-degenerate'>Without the degenerate layers ({layers})</h3>",
            "<p class='note'>Every text lands on one point in those layers; their single region "
            "dominates whole-graph moments, so read these numbers first.</p>",
            html_table(*_derived_mark(without, derived, null_only)),
            "<h3 id='metrics-all-layers'>With every layer</h3>",
        ]
    return parts + [html_table(*_derived_mark(metrics_by_label, derived, null_only))]


def _quality_section(nrag: NRAG, quality: Mapping[str, Any]) -> list[str]:
    """Resolved pooling, degenerate layers and what the grid keeps of the texts."""
    parts = [
        "<h2 id='scan-quality'>Scan quality</h2>",
        f"<p><b>Pooling</b>: {html.escape(str(quality.get('pooling_description')))}</p>",
    ]
    degenerate = quality.get("degenerate_layers") or []
    if degenerate:
        said = "; ".join(f"layer {d['layer']}: {html.escape(str(d['reason']))}" for d in degenerate)
        parts.append(
            f"<p class='warning'><b>Degenerate layers</b>: {said}. Every text lands on one point "
            "there; whole-graph metrics are shown without them first.</p>"
        )
    else:
        parts.append("<p><b>Degenerate layers</b>: none (no layer puts every text on one point).</p>")
    grid = quality.get("grid") or {}
    explained, ami = grid.get("explained_variance_by_layer"), grid.get("ami_by_layer")
    if explained or ami:
        rows = [
            [
                layer,
                "" if not explained or explained[layer] is None else explained[layer],
                "" if not ami else ami[layer],
            ]
            for layer in range(nrag.n_layers)
        ]
        parts += [
            "<p class='note'>What the reduction and the grid keep, per layer: the share of the layer's "
            "(scaled) variance the reduced coordinates keep, and the adjusted mutual information "
            "between the texts' regions and their labels (0: regions independent of labels).</p>",
            html_table(rows, ["layer", "explained variance", "AMI(regions, labels)"]),
        ]
    singleton = grid.get("singleton_share_by_label")
    if singleton:
        parts += [
            "<p class='note'>Of the regions a label occupies (all layers), the share holding a single "
            "text of it: near 1, the grid is too fine for that label's texts.</p>",
            html_table([[k, v] for k, v in singleton.items()], ["label", "singleton regions"]),
        ]
    return parts


def _heatmaps_section(nrag: NRAG, texts: Sequence[str] | None, text_labels: Sequence[int] | None) -> list[str]:
    """Every layer's heatmap per label as inline SVG, each cell's example texts on hover."""
    from llm_mri_graphdb.report.heatmap import heatmap_panels

    with_texts = texts is not None and nrag.paths is not None
    note = "Every layer, one row per label, on one log colour scale; hover a cell for its label counts" + (
        " and up to five of its texts." if with_texts else "; example texts come with runs stored with their texts."
    )
    return [
        "<h3 id='interactive-heatmaps'>Interactive heatmaps</h3>",
        f"<p class='note'>{note}</p>",
        heatmap_panels(nrag, texts=texts if with_texts else None, text_labels=text_labels),
    ]


def _interactive_section(nrag: NRAG, texts: Sequence[str] | None) -> list[str]:
    """The NVL view (neo4j-viz and our hover script, inlined: works offline) in a frame."""
    import numpy as np

    from llm_mri_graphdb.report.interactive import framed, scan_view, view_html

    examples = texts is not None and nrag.paths is not None
    page = view_html(scan_view(nrag, texts, max_relationships=MAX_FLOWS), height="600px")
    note = (
        "Regions coloured by their dominant label (or layer: switch at the bottom left) and sized by their "
        "texts; hover a region for its label counts"
        + (" and up to five example texts." if examples else "; example texts come with runs stored with their texts.")
    )
    n_pairs = len(np.unique(nrag.edge_source * nrag.n_regions + nrag.edge_target))
    if n_pairs > MAX_FLOWS:
        note += f" The {MAX_FLOWS:,} strongest of {n_pairs:,} flows are drawn."
    return ["<h2 id='interactive-graph'>Interactive graph</h2>", f"<p class='note'>{note}</p>", framed(page)]


def _communities_section(nrag: NRAG, analysis: Mapping[str, Any] | None) -> list[str]:
    """Layered graph coloured by community, the seed ensemble beside its null, the widest communities, centrality."""
    parts = ["<h2 id='communities'>Communities</h2>"]
    if not analysis or not analysis.get("communities"):
        return parts + [
            "<p class='note'>No community analysis for this run: "
            "<code>llm-mri-graphdb analyze RUN</code> computes it.</p>"
        ]
    algo, found = next(iter(analysis["communities"].items()))
    evidence = analysis.get("evidence")
    if evidence:
        null = evidence.get("null")
        said = (
            f"Louvain over {evidence['n_seeds']} seeds: modularity {evidence['modularity_mean']:.3f} "
            f"(SD {evidence['modularity_sd']:.3f}), partitions agree at mean pairwise AMI "
            f"{evidence['mean_pairwise_ami']:.2f}; consensus: {evidence['consensus']['n_communities']} "
            "communities (regions placed together by more than half of the seeds)."
        )
        if null:
            said += (
                f" Null (the same algorithm on {null['n']} flow graphs of shuffled texts, same regions): "
                f"modularity {null['modularity_mean']:.3f} ± {null['modularity_sd']:.3f}, "
                f"z = {null['z']:.1f}."
            )
            if not null["z"] > 3:
                said += " The communities are not clearly more modular than chance."
        else:
            said += " No null: it needs the texts' paths (a grid run stored with its texts)."
        parts.append(f"<p>{said}</p>")
    parts.append(
        f"<p class='note'>{html.escape(algo)} (one seed): {found['n_communities']} communities, modularity "
        f"{_fmt(found['modularity'])}. Cross-layer communities are those spanning the most layers: "
        "modularity communities of the flow graph, not mechanistic circuits "
        "(definitions: llm_mri_graphdb.analysis.communities).</p>"
    )
    membership = analysis.get("membership", {}).get(algo)
    if membership:
        parts.append(_png(_community_figure(nrag, membership)))
    keys = ["community", "layers_spanned", "first_layer", "last_layer", "size", "dominant_label", "purity"]
    parts.append(html_table([[row[k] for k in keys] for row in found["cross_layer_communities"]], keys))
    for name, rows in analysis.get("centrality", {}).items():
        parts += [
            f"<h3>{html.escape(name)}: top regions per layer</h3>",
            html_table(
                [[r["layer"], r["rank"], r["region"], r["score"]] for r in rows], ["layer", "rank", "region", name]
            ),
        ]
    return parts


def _community_figure(nrag: NRAG, membership: Mapping[str, int]) -> Figure:
    """Regions as points (layer down, cell or component across), coloured by community, flows in grey."""
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    names = nrag.region_ids()
    width = gridsize_of(nrag)
    across = nrag.region_x * width + nrag.region_y if nrag.kind == GRID else nrag.region_x
    xy = list(zip(across.tolist(), (-nrag.region_layer).tolist()))
    fig = Figure(figsize=(10, max(3, nrag.n_layers * 0.5)), layout="constrained")
    ax = fig.add_subplot()
    segments = [(xy[s], xy[t]) for s, t in zip(nrag.edge_source.tolist(), nrag.edge_target.tolist())]
    ax.add_collection(LineCollection(segments, colors="#bbbbbb", linewidths=0.3, zorder=1))
    shown = [i for i, n in enumerate(names) if n in membership]
    ids = sorted({membership[names[i]] for i in shown})
    colour = {c: k % 20 for k, c in enumerate(ids)}
    ax.scatter(
        [xy[i][0] for i in shown],
        [xy[i][1] for i in shown],
        s=12,
        zorder=2,
        cmap="tab20",
        c=[colour[membership[names[i]]] for i in shown],
        vmin=0,
        vmax=19,
    )
    ax.set_xlabel("region (cell or component)")
    ax.set_ylabel("layer")
    ax.set_yticks(range(0, -nrag.n_layers, -1), [str(layer) for layer in range(nrag.n_layers)])
    ax.set_title("Layered graph coloured by community")
    return fig
