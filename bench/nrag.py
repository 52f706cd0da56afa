"""NRAG benchmark: reduction, construction and metric time, and peak memory.

Run ``python -m bench.nrag`` (``--n-texts``, ``--width`` to resize). Synthetic
activations carry a low-rank signal plus noise, so reduced planes spread
texts over many cells like a real scan. Cases:

* 2-D: 13 layers x ``n_texts`` texts, PCA, gridsize 10 and 50;
* N-D: 33 layers x 50 components, PCA, Spearman edges per label;
* scale: 100 layers x 50x50 grid x 10 labels, from precomputed coordinates.

Construction peak memory comes from ``tracemalloc`` in a second, separate run
(tracemalloc slows numpy allocation), so times and memory are not mixed.
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from llm_mri_graphdb.analysis.metrics import compute_metrics
from llm_mri_graphdb.extract.activations import Activations
from llm_mri_graphdb.nrag.model import build_nrag_from_reduced
from llm_mri_graphdb.reduce.layers import PCA, reduce_layers

__all__ = ["synthetic_activations", "run", "markdown", "section"]

NAME, TITLE = "nrag", "NRAG construction and metrics"


def synthetic_activations(n_layers: int, n_texts: int, width: int, n_labels: int, *, seed: int = 0) -> Activations:
    """Float32 activations: a rank-8 label signal drifting across layers, plus noise."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n_texts) % n_labels
    centres = rng.normal(size=(n_labels, 8))
    latent = centres[labels] + rng.normal(size=(n_texts, 8))
    layers = []
    for _ in range(n_layers):
        latent = latent + 0.3 * rng.normal(size=latent.shape)
        mix = rng.normal(size=(8, width))
        layers.append((latent @ mix + rng.normal(size=(n_texts, width))).astype(np.float32))
    return Activations(layers, labels, [f"label{i}" for i in range(n_labels)])


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def _peak_mib(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def _case(reduced, labels, names, **kw) -> dict[str, Any]:
    build = lambda: build_nrag_from_reduced(reduced, labels, names, **kw)  # noqa: E731
    nrag, t_build = _timed(build)
    metrics, t_metrics = _timed(lambda: compute_metrics(nrag))
    _, t_nx = _timed(lambda: nrag.to_networkx())
    return {
        "build_s": round(t_build, 4),
        "build_peak_mib": round(_peak_mib(build), 1),
        "metrics_s": round(t_metrics, 4),
        "to_networkx_s": round(t_nx, 4),
        "n_regions": nrag.n_regions,
        "n_edge_rows": int(nrag.edge_source.shape[0]),
        "n_edges": metrics["n_edges"],
    }


def run(
    n_texts: int = 10_000, width: int = 768, nd_texts: int = 2_000, nd_width: int = 512, seed: int = 0
) -> dict[str, Any]:
    """Run every case and return the figures (seconds, MiB, sizes)."""
    out: dict[str, Any] = {"n_texts": n_texts, "width": width}
    acts = synthetic_activations(13, n_texts, width, 5, seed=seed)
    reduced, t_reduce = _timed(lambda acts=acts: reduce_layers(acts, PCA(2, random_state=0)))
    out["reduce_2d_13_layers_s"] = round(t_reduce, 3)
    for g in (10, 50):
        out[f"grid_13x{n_texts}_g{g}"] = _case(reduced, acts.labels, acts.label_names, gridsize=g)
    del acts, reduced

    acts = synthetic_activations(33, nd_texts, nd_width, 3, seed=seed)
    reduced, t_reduce = _timed(lambda acts=acts: reduce_layers(acts, PCA(50, random_state=0)))
    out["reduce_nd_33_layers_50_components_s"] = round(t_reduce, 3)
    out[f"components_33x50_{nd_texts}_texts"] = _case(reduced, acts.labels, acts.label_names, threshold=0.3)
    del acts, reduced

    rng = np.random.default_rng(seed)
    labels = np.arange(n_texts) % 10
    walk = np.cumsum(rng.normal(scale=0.3, size=(100, n_texts, 2)), axis=0) + rng.normal(size=(n_texts, 2))
    out[f"grid_100x{n_texts}_g50_10_labels"] = _case(list(walk), labels, [f"l{i}" for i in range(10)], gridsize=50)
    return out


def markdown(r: dict[str, Any], command: str) -> str:
    """The result of :func:`run` as the markdown of the docs."""
    lines = [
        f"`{command}`: synthetic float32 activations (a drifting rank-8 label signal plus noise), "
        f"{r['n_texts']:,} texts {r['width']} wide.",
        "",
        "| case | regions | edge rows | build s | build peak MiB | metrics s | to_networkx s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key, case in r.items():
        if isinstance(case, dict):
            lines.append(
                f"| {key} | {case['n_regions']:,} | {case['n_edge_rows']:,} | {case['build_s']:.3f} | "
                f"{case['build_peak_mib']:.1f} | {case['metrics_s']:.3f} | {case['to_networkx_s']:.3f} |"
            )
    lines += [
        "",
        "| reduction | seconds |",
        "|---|---:|",
        *(
            f"| {k.removeprefix('reduce_').removesuffix('_s').replace('_', ' ')} | {v:.2f} |"
            for k, v in r.items()
            if k.startswith("reduce_")
        ),
    ]
    return "\n".join(lines)


def section(quick: bool = False) -> str:
    """The docs block (protocol of :mod:`bench.docs`); ``quick``: 500 texts, 64 wide."""
    sizes = dict(n_texts=500, width=64, nd_texts=200, nd_width=64) if quick else {}
    r = run(**sizes)
    command = "python -m bench.nrag" + (" --n-texts 500 --width 64 --nd-texts 200 --nd-width 64" if quick else "")
    return markdown(r, command)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-texts", type=int, default=10_000)
    parser.add_argument("--width", type=int, default=768)
    parser.add_argument("--nd-texts", type=int, default=2_000)
    parser.add_argument("--nd-width", type=int, default=512)
    args = parser.parse_args()
    print(json.dumps(run(args.n_texts, args.width, args.nd_texts, args.nd_width), indent=2))


if __name__ == "__main__":
    main()
