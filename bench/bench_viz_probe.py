"""Time the figures and probes on synthetic scans of growing size.

Run: ``python bench/bench_viz_probe.py [--big]``. Prints seconds per call measured in
this run and the ratio to the smallest case; ``--big`` adds the 100-layer,
50x50-grid, 10-label scan the NRAG data model is sized for.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from llm_mri_graphdb.analysis.probe import evaluate_model, layer_curve
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


def timed(fn, *args, **kw):
    t = time.perf_counter()
    out = fn(*args, **kw)
    return time.perf_counter() - t, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--big", action="store_true")
    args = parser.parse_args()
    cases = [(6, 10, 2, 300), (13, 10, 4, 300), (25, 20, 10, 2000)]
    if args.big:
        cases.append((100, 50, 10, 5000))
    base = None
    print("layers grid labels texts | regions edge_rows | graph(draw+png) s | graph free s | scan s | heatmap s")
    for L, g, k, n in cases:
        nrag = synthetic_nrag(L, g, k, n)
        tg, ax = timed(lambda nrag=nrag: figure_to_png_bytes(plot_graph(nrag)))
        tf, _ = timed(lambda nrag=nrag: figure_to_png_bytes(plot_graph(nrag, fix_node_positions=False)))
        ts, _ = timed(lambda nrag=nrag: figure_to_png_bytes(plot_scan(nrag)))
        th, _ = timed(lambda nrag=nrag, L=L: figure_to_png_bytes(plot_heatmap(nrag, L // 2)))
        base = base or tg
        print(f"{L:6d} {g:4d} {k:6d} {n:5d} | {nrag.n_regions:7d} {nrag.edge_source.size:9d} | "
              f"{tg:8.2f} (x{tg / base:5.1f}) | {tf:12.2f} | {ts:6.2f} | {th:9.2f}")

    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), 75)
    centres = rng.normal(size=(4, 384))
    layers = [centres[y] * layer / 12 + rng.normal(size=(300, 384)) for layer in range(13)]
    reduced = [x[:, :2] for x in layers]
    te, _ = timed(evaluate_model, layers[-1], reduced, y)
    tc, _ = timed(layer_curve, layers, reduced, y)
    print(f"probe, 300 texts x 384 wide x 13 layers: evaluate_model {te:.2f} s, layer_curve {tc:.2f} s")


if __name__ == "__main__":
    main()
