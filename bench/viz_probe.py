"""Time the figures and probes on synthetic scans of growing size.

Run: ``python -m bench.viz_probe [--big]``. Prints seconds per call measured in
this run and the ratio to the smallest case; ``--big`` adds the 100-layer,
50x50-grid, 10-label scan the NRAG data model is sized for.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from llm_mri_graphdb.analysis.probe import evaluate_model
from llm_mri_graphdb.analysis.probing import probe_curve
from llm_mri_graphdb.nrag.model import NRAG
from llm_mri_graphdb.testing import nrag_from_paths
from llm_mri_graphdb.viz import figure_to_png_bytes, plot_graph, plot_heatmap, plot_scan


def synthetic_nrag(n_layers: int, gridsize: int, n_labels: int, n_texts: int, seed: int = 0) -> NRAG:
    """Cells from Gaussian blobs per label; edge rows count texts of a label moving between cells."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_labels, n_texts)
    centres = rng.normal(size=(n_labels, 2)) * 3
    cells = []
    for layer in range(n_layers):
        pts = centres[y] * (layer / max(n_layers - 1, 1)) + rng.normal(size=(n_texts, 2))
        lo, hi = pts.min(0), pts.max(0)
        cells.append(np.clip(((pts - lo) / (hi - lo) * gridsize).astype(np.int64), 0, gridsize - 1))
    paths = np.stack(cells, axis=1)  # (n_texts, n_layers, 2)
    return nrag_from_paths(paths, y, tuple(f"label{i}" for i in range(n_labels)), settings={"gridsize": gridsize})


NAME, TITLE = "viz_probe", "Figures and probes"
__all__ = ["synthetic_nrag", "run", "markdown", "section"]


def timed(fn, *args, **kw):
    t = time.perf_counter()
    out = fn(*args, **kw)
    return time.perf_counter() - t, out


def run(cases=((6, 10, 2, 300), (13, 10, 4, 300), (25, 20, 10, 2000)), *, probe_texts: int = 300) -> dict:
    """Seconds per figure on each ``(layers, grid, labels, texts)`` case, and of the probes."""
    rows = []
    for n_layers, g, k, n in cases:
        nrag = synthetic_nrag(n_layers, g, k, n)
        tg, _ = timed(lambda x: figure_to_png_bytes(plot_graph(x)), nrag)
        tf, _ = timed(lambda x: figure_to_png_bytes(plot_graph(x, fix_node_positions=False)), nrag)
        ts, _ = timed(lambda x: figure_to_png_bytes(plot_scan(x)), nrag)
        th, _ = timed(lambda x, mid: figure_to_png_bytes(plot_heatmap(x, mid)), nrag, n_layers // 2)
        rows.append(
            {
                "layers": n_layers,
                "grid": g,
                "labels": k,
                "texts": n,
                "regions": nrag.n_regions,
                "edge_rows": int(nrag.edge_source.size),
                "graph_s": tg,
                "graph_free_s": tf,
                "scan_s": ts,
                "heatmap_s": th,
            }
        )
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), probe_texts // 4)
    centres = rng.normal(size=(4, 384))
    layers = [centres[y] * i / 12 + rng.normal(size=(y.size, 384)) for i in range(13)]
    reduced = [x[:, :2] for x in layers]
    te, _ = timed(evaluate_model, layers[-1], reduced, y)
    tc, _ = timed(probe_curve, layers, y, n_repeats=1)
    return {"rows": rows, "probe_texts": int(y.size), "evaluate_model_s": te, "probe_curve_s": tc}


def markdown(r: dict, command: str) -> str:
    """The result of :func:`run` as the markdown of the docs."""
    base = r["rows"][0]["graph_s"]
    lines = [
        f"`{command}`: synthetic scans (Gaussian blobs per label drifting apart layer by layer); seconds per "
        "call, each figure rendered to PNG.",
        "",
        "| layers | grid | labels | texts | regions | edge rows | graph s | graph / first | graph, free layout s "
        "| scan s | heatmap s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for x in r["rows"]:
        lines.append(
            f"| {x['layers']} | {x['grid']} | {x['labels']} | {x['texts']} | {x['regions']} | "
            f"{x['edge_rows']} | {x['graph_s']:.2f} | {x['graph_s'] / base:.1f}x | {x['graph_free_s']:.2f} | "
            f"{x['scan_s']:.2f} | {x['heatmap_s']:.2f} |"
        )
    lines += [
        "",
        f"Probes, {r['probe_texts']} texts x 384 wide x 13 layers: `evaluate_model` "
        f"{r['evaluate_model_s']:.2f} s, `probe_curve` (5 folds, 1 repeat, controls) {r['probe_curve_s']:.2f} s.",
    ]
    return "\n".join(lines)


def section(quick: bool = False) -> str:
    """The docs block (protocol of :mod:`bench.docs`); ``quick``: two small cases, 40 probe texts."""
    if quick:
        return markdown(run(((4, 5, 2, 60), (6, 5, 2, 60)), probe_texts=40), "python -m bench.viz_probe (quick)")
    return markdown(run(), "python -m bench.viz_probe")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true")
    args = parser.parse_args()
    cases = [(6, 10, 2, 300), (13, 10, 4, 300), (25, 20, 10, 2000)] + ([(100, 50, 10, 5000)] if args.big else [])
    print(markdown(run(tuple(cases)), "python -m bench.viz_probe" + (" --big" if args.big else "")))


if __name__ == "__main__":
    main()
