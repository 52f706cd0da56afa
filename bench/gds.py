"""Metrics read from Neo4j against the in-process metrics, and analyze, on a sparse and two dense shapes.

Run ``python -m bench.gds`` (settings from ``NEO4J_URI``/``NEO4J_USER``/
``NEO4J_PASSWORD``, else one disposable local server is started and stopped).
Shapes (``--shape``, default ``all``), each timed in a fresh Python process:

``sparse``
    the ``bench.store`` random-walk NRAG: 5,000 texts over 32 layers of 50x50
    cells, 3 labels (about two texts a region);
``dense``
    10,000 texts, 16 layers of 50x50, 3 labels, AR(1) coordinates
    (``x[l + 1] = rho x[l] + sqrt(1 - rho^2) e``, rho 0.5): about 149k edge rows;
``dense-g10``
    10,000 texts, 13 layers of 10x10, AR(1) with rho 0.8: about 23k edge rows.

For each shape the NRAG is written once, then ``store.metrics`` (all labels and
one label) and ``compute_metrics`` on the same NRAG are timed interleaved,
``repeats`` times each after three warm-up calls (the first plans the
statement; the JVM compiles it over the first few); the best time of each,
their ratio, and the largest relative difference between the two stores'
numbers (from the last warm-up) are reported. Then a GDS projection
of the run alone and each ``analyze`` algorithm asked for (read-only). The run
is deleted afterwards. ``--markdown`` prints the table ``docs/benchmarks.md``
holds.

Times are wall-clock seconds; CPU time of this process is not the database's,
so only the ratios from one run are comparable across machines.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

__all__ = ["SHAPES", "ar1_nrag", "markdown", "max_relative_difference", "run", "section"]

NAME, TITLE = "gds", "Metrics in the database"
WARM_UP = 3  # calls of each before timing: the first two of a fresh server run 2-8x slower (JIT)

SHAPES = {
    "sparse": {"kind": "walk", "n_layers": 32, "gridsize": 50, "n_texts": 5000},
    "dense": {"kind": "ar1", "n_layers": 16, "gridsize": 50, "n_texts": 10_000, "rho": 0.5},
    "dense-g10": {"kind": "ar1", "n_layers": 13, "gridsize": 10, "n_texts": 10_000, "rho": 0.8},
}


def ar1_nrag(
    n_layers: int = 16, gridsize: int = 50, n_labels: int = 3, n_texts: int = 10_000, *, rho: float = 0.5, seed: int = 0
):
    """Grid NRAG of 2-D AR(1) coordinates per text: layer l + 1 keeps ``rho`` of layer l (dense regions)."""
    from llm_mri_graphdb.nrag.model import build_nrag_from_reduced

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_texts, 2))
    reduced = [x]
    for _ in range(n_layers - 1):
        x = rho * x + math.sqrt(1 - rho**2) * rng.normal(size=(n_texts, 2))
        reduced.append(x)
    return build_nrag_from_reduced(
        reduced,
        np.arange(n_texts) % n_labels,
        [f"label{i}" for i in range(n_labels)],
        gridsize=gridsize,
        model={"name": "bench-model"},
        corpus={"name": "bench-corpus", "fingerprint": f"bench-ar1-{seed}"},
        settings={"bench": "gds-ar1", "rho": rho, "n_layers": n_layers, "seed": seed},
    )


def _nrag(shape: str):
    spec = SHAPES[shape]
    if spec["kind"] == "walk":
        from bench.store import synthetic_nrag

        return synthetic_nrag(spec["n_layers"], spec["gridsize"], 3, spec["n_texts"], seed=7)
    return ar1_nrag(spec["n_layers"], spec["gridsize"], 3, spec["n_texts"], rho=spec["rho"])


def max_relative_difference(a, b) -> float:
    """Largest ``|a - b| / max(|a|, |b|)`` over the floats of two metric dicts (nan equal to nan)."""
    if isinstance(a, dict):
        return max((max_relative_difference(a[k], b[k]) for k in a), default=0.0)
    if isinstance(a, list):
        return max((max_relative_difference(x, y) for x, y in zip(a, b)), default=0.0)
    if isinstance(a, float):
        if math.isnan(a) and math.isnan(b):
            return 0.0
        scale = max(abs(a), abs(b))
        return 0.0 if scale == 0 else abs(a - b) / scale
    return 0.0 if a == b else math.inf


def run(shape: str = "sparse", *, repeats: int = 3, algorithms: tuple[str, ...] = (), settings=None) -> dict:
    """Time metrics (and analyze) of one shape; returns the figures (seconds and ratios)."""
    from llm_mri_graphdb.analysis.metrics import compute_metrics, metric_arrays
    from llm_mri_graphdb.settings import neo4j_settings
    from llm_mri_graphdb.store import Neo4jStore
    from llm_mri_graphdb.store.neo4j.metrics import projection

    nrag = _nrag(shape)
    one = nrag.label_names[0]
    a = metric_arrays(nrag)
    degree = np.bincount(a["edge_source"], minlength=nrag.n_regions) + np.bincount(
        a["edge_target"], minlength=nrag.n_regions
    )
    out = {
        "shape": shape,
        **SHAPES[shape],
        "n_regions": nrag.n_regions,
        "n_edge_rows": int(nrag.edge_source.shape[0]),
        "n_pairs": int(a["edge_source"].shape[0]),
        "max_region_degree": int(degree.max()),
        "repeats": repeats,
    }
    times: dict[str, list[float]] = {k: [] for k in ("store_all", "local_all", "store_one", "local_one")}
    calls = {"store_all": None, "local_all": None, "store_one": None, "local_one": None}
    with Neo4jStore.from_settings(settings or neo4j_settings()) as store:
        run_id = store.write(nrag)
        try:
            calls = {
                "store_all": lambda: store.metrics(run_id),
                "local_all": lambda: compute_metrics(nrag),
                "store_one": lambda: store.metrics(run_id, one),
                "local_one": lambda: compute_metrics(nrag, [one]),
            }
            for _ in range(WARM_UP):  # plans the statements, loads the pages, lets the JVM compile them
                results = {k: f() for k, f in calls.items()}
            out["max_rel_diff_all"] = max_relative_difference(results["local_all"], results["store_all"])
            out["max_rel_diff_one_label"] = max_relative_difference(results["local_one"], results["store_one"])
            for _ in range(repeats):  # interleaved
                for k, f in calls.items():
                    start = time.perf_counter()
                    f()
                    times[k].append(time.perf_counter() - start)

            def project() -> None:
                with projection(store.runner, "project_run_total", run_id=run_id, undirected=False):
                    pass

            if algorithms:
                start = time.perf_counter()
                project()
                out["gds_projection_all_s"] = time.perf_counter() - start
            for algo in algorithms:
                start = time.perf_counter()
                store.analyze(run_id, [algo])
                out[f"analyze_{algo}_s"] = time.perf_counter() - start
        finally:
            store.delete(run_id)
    best = {k: min(v) for k, v in times.items()}
    out.update(
        {
            "store_metrics_all_s": best["store_all"],
            "in_process_metrics_all_s": best["local_all"],
            "store_metrics_one_label_s": best["store_one"],
            "in_process_metrics_one_label_s": best["local_one"],
            "ratio_all": best["store_all"] / best["local_all"],
            "ratio_one_label": best["store_one"] / best["local_one"],
        }
    )
    return out


def markdown(results: list[dict]) -> str:
    """The docs table: one row per shape."""
    lines = [
        (
            "| shape | regions | edge rows | max degree | Neo4j all labels s | in-process s | ratio | "
            "Neo4j one label s | in-process s | ratio | max rel. diff |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['shape']} ({r['n_layers']} layers x {r['gridsize']}x{r['gridsize']}, {r['n_texts']:,} texts) | "
            f"{r['n_regions']:,} | {r['n_edge_rows']:,} | {r['max_region_degree']} | {r['store_metrics_all_s']:.2f} | "
            f"{r['in_process_metrics_all_s']:.2f} | **{r['ratio_all']:.2f}x** | {r['store_metrics_one_label_s']:.2f} | "
            f"{r['in_process_metrics_one_label_s']:.2f} | **{r['ratio_one_label']:.2f}x** | "
            f"{max(r['max_rel_diff_all'], r['max_rel_diff_one_label']):.1e} |"
        )
    return "\n".join(lines)


def _in_fresh_processes(shapes: list[str], args: argparse.Namespace, env: dict[str, str]) -> list[dict]:
    results = []
    for shape in shapes:
        cmd = [
            sys.executable,
            "-m",
            "bench.gds",
            "--shape",
            shape,
            "--repeats",
            str(args.repeats),
            "--algorithms",
            args.algorithms if shape == "sparse" else "",
            "--json",
        ]
        print(f"bench.gds: {shape} in a fresh process ...", file=sys.stderr, flush=True)
        done = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
        results.append(json.loads(done.stdout))
    return results


def section(quick: bool = False) -> str:
    """The docs block (protocol of :mod:`bench.docs`): each shape in a fresh process on one disposable server.

    ``quick``: the ``dense-g10`` shape only, one repeat, a small server.
    """
    from bench.store import QUICK_MEMORY, fresh_neo4j

    shapes = ["dense-g10"] if quick else list(SHAPES)
    args = argparse.Namespace(repeats=1 if quick else 3, algorithms="")
    with fresh_neo4j(**(QUICK_MEMORY if quick else {})) as (settings, _):
        env = {
            **os.environ,
            "NEO4J_URI": settings.uri,
            "NEO4J_USER": settings.user,
            "NEO4J_PASSWORD": settings.password,
        }
        results = _in_fresh_processes(shapes, args, env)
    command = "python -m bench.gds --markdown" + (" --shape dense-g10 --repeats 1" if quick else "")
    return f"`{command}` (each shape in a fresh process; best of the repeats, interleaved):\n\n{markdown(results)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", default="all", help=f"all, or one of {list(SHAPES)}")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--algorithms",
        default="louvain,leiden,pagerank,betweenness",
        help="analyze algorithms to time (sparse shape only with --shape all)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON (one shape)")
    parser.add_argument("--markdown", action="store_true", help="print the docs table")
    a = parser.parse_args()
    shapes = list(SHAPES) if a.shape == "all" else [a.shape]
    unknown = [s for s in shapes if s not in SHAPES]
    if unknown:
        parser.error(f"--shape must be all or one of {list(SHAPES)}; got {a.shape!r}")
    if len(shapes) == 1 and os.environ.get("NEO4J_URI"):
        result = run(shapes[0], repeats=a.repeats, algorithms=tuple(x for x in a.algorithms.split(",") if x))
        print(json.dumps(result, indent=2) if a.json or not a.markdown else markdown([result]))
        return
    env = dict(os.environ)
    server = None
    if not env.get("NEO4J_URI"):
        from llm_mri_graphdb.server import LocalNeo4j, free_port

        server = LocalNeo4j(
            Path(tempfile.mkdtemp(prefix="bench-gds-")), bolt_port=free_port(), http_port=free_port(), heap="2g"
        )
        server.start(password="bench-" + os.urandom(6).hex())
        s = server.settings()
        env.update({"NEO4J_URI": s.uri, "NEO4J_USER": s.user, "NEO4J_PASSWORD": s.password})
    try:
        results = _in_fresh_processes(shapes, a, env)
    finally:
        if server is not None:
            server.stop()
    print(markdown(results) if a.markdown else json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
