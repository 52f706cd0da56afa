"""Time the default probe (``probe_curve``, ridge) against its scikit-learn pipeline reference.

Run: ``python -m bench.probe [--rounds 2] [--threads N] [--no-demo]``. In one process, the
closed-form ridge (:mod:`llm_mri_graphdb.analysis._ridge`, the default) and the
reference (one ``StandardScaler`` + ``RidgeClassifierCV`` pipeline per fold and
target, ``probing._SHARED_RIDGE = False``) probe the same layers in turn, A B A B,
and the medians and their ratio are printed with whether the two curves are equal.
Two inputs: 800 synthetic texts x 7 layers x 384 features (4 labels whose
Gaussian centres drift apart layer by layer), the shape of a MiniLM scan of 800
texts; and the MiniLM activations of the demo corpus (``--no-demo`` skips them).
``--threads N`` caps the BLAS threads (threadpoolctl): on a shared machine whose
cores are busy, two BLAS threads spin against the other processes and a
384 x 384 eigendecomposition takes several times longer than on one.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np

from llm_mri_graphdb.analysis import probing

NAME, TITLE = "probe", "The probe: closed-form ridge against scikit-learn pipelines"
__all__ = ["synthetic_layers", "demo_layers", "run", "markdown", "section"]


def synthetic_layers(
    n_texts: int = 800, n_layers: int = 7, width: int = 384, n_labels: int = 4, seed: int = 0
) -> tuple[list[np.ndarray], np.ndarray]:
    """Layers whose label centres drift apart with depth, correlated features, like pooled activations."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_labels, n_texts)
    centres = rng.normal(size=(n_labels, width))
    mixing = rng.normal(size=(width, width)) / np.sqrt(width)
    layers = [(centres[y] * (i / (8 * n_layers)) + rng.normal(size=(n_texts, width))) @ mixing for i in range(n_layers)]
    return layers, y


def demo_layers() -> tuple[list[np.ndarray], np.ndarray]:
    """MiniLM activations (the model's own pooling) of the demo corpus."""
    from llm_mri_graphdb.data import load_corpus
    from llm_mri_graphdb.demo import corpus_path, model_path
    from llm_mri_graphdb.extract.run import extract_activations

    acts = extract_activations(
        str(model_path()), load_corpus(corpus_path(), name="demo"), cache_dir=None, progress=False, device="cpu"
    )
    return [np.asarray(x, dtype=np.float64) for x in acts.layers], np.asarray(acts.labels)


def _probe(layers, y, shared: bool, n_repeats: int) -> tuple[float, dict[str, Any]]:
    probing._SHARED_RIDGE = shared
    try:
        start = time.perf_counter()
        curve = probing.probe_curve(layers, y, n_repeats=n_repeats)
        return time.perf_counter() - start, curve
    finally:
        probing._SHARED_RIDGE = True


def run(layers, y, *, rounds: int = 2, n_repeats: int = 5) -> dict[str, Any]:
    """Seconds of ``rounds`` alternating calls of each path, and whether their curves are equal."""
    times: dict[str, list[float]] = {"closed_form": [], "sklearn": []}
    curves = {}
    for _ in range(rounds):
        for key, shared in (("closed_form", True), ("sklearn", False)):
            seconds, curves[key] = _probe(layers, y, shared, n_repeats)
            times[key].append(seconds)
    medians = {k: statistics.median(v) for k, v in times.items()}
    return {
        "texts": int(np.size(y)),
        "layers": len(layers),
        "width": int(np.shape(layers[0])[1]),
        "labels": int(np.unique(y).size),
        "repeats": n_repeats,
        "times": times,
        "median": medians,
        "ratio": medians["sklearn"] / medians["closed_form"],
        "equal": curves["closed_form"] == curves["sklearn"],
    }


def markdown(results: list[tuple[str, dict[str, Any]]], command: str) -> str:
    """The results of :func:`run` as a table."""
    lines = [
        f"`{command}`: `probe_curve` (5 x {results[0][1]['repeats']} folds, full and reduced, shuffled-label "
        "control), median seconds of alternating calls in one process.",
        "",
        "| input | texts | layers | width | labels | closed form s | sklearn pipelines s | speed-up | same curve |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, r in results:
        lines.append(
            f"| {name} | {r['texts']} | {r['layers']} | {r['width']} | {r['labels']} | "
            f"{r['median']['closed_form']:.2f} | {r['median']['sklearn']:.2f} | {r['ratio']:.1f}x | "
            f"{'yes' if r['equal'] else 'NO'} |"
        )
    return "\n".join(lines)


def section(quick: bool = False) -> str:
    """The docs block (protocol of :mod:`bench.docs`); ``quick``: 100 synthetic texts, 2 layers, 1 repeat."""
    if quick:
        layers, y = synthetic_layers(100, 2, 32)
        return markdown([("synthetic", run(layers, y, rounds=1, n_repeats=1))], "python -m bench.probe (quick)")
    return markdown(_inputs(demo=True, rounds=2), "python -m bench.probe")


def _inputs(*, demo: bool, rounds: int) -> list[tuple[str, dict[str, Any]]]:
    out = [("synthetic", run(*synthetic_layers(), rounds=rounds))]
    if demo:
        out.append(("MiniLM, demo corpus", run(*demo_layers(), rounds=rounds)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="alternating calls of each path (A B A B: 2)")
    parser.add_argument("--threads", type=int, default=None, help="cap the BLAS threads (default: the library's)")
    parser.add_argument("--no-demo", action="store_true", help="skip the MiniLM activations of the demo corpus")
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    command = f"python -m bench.probe --rounds {args.rounds}" + (" --no-demo" if args.no_demo else "")
    command += f" --threads {args.threads}" if args.threads else ""
    with threadpool_limits(args.threads):
        print(markdown(_inputs(demo=not args.no_demo, rounds=args.rounds), command))


if __name__ == "__main__":
    main()
