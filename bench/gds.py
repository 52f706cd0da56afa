"""Metrics in Neo4j against the in-process metrics, and analyze, on the ``bench.store`` run.

Run ``python -m bench.gds`` (settings from ``NEO4J_URI``/``NEO4J_USER``/
``NEO4J_PASSWORD``, else a disposable local server is started and stopped).
Writes the ``bench.store`` NRAG (32 layers x 50x50 x 3 labels by default) once,
then times, in the same run and interleaved, ``store.metrics`` (all labels and
one label) against ``compute_metrics`` on the same NRAG, ``repeats`` times each
after one warm-up (the first call also plans the statement), and reports the
best time of each and their ratio. Then it times a GDS projection of the run
alone (what a ``gds.degree`` path would pay before any metric) and each
``analyze`` algorithm (read-only, nothing saved). The run is deleted afterwards.

Times are wall-clock seconds; CPU time of this process is not the database's,
so only the ratios from one run are comparable across machines.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from bench.store import synthetic_nrag
from llm_mri_graphdb.analysis.metrics import compute_metrics
from llm_mri_graphdb.settings import neo4j_settings
from llm_mri_graphdb.store import Neo4jStore
from llm_mri_graphdb.store.neo4j.metrics import projection

__all__ = ["run", "markdown", "section"]

NAME, TITLE = "gds", "Metrics in the database"


def _best(fn, repeats: int) -> float:
    fn()  # warm-up: plans the statement, loads the pages
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def run(n_layers: int = 32, gridsize: int = 50, n_labels: int = 3, n_texts: int = 5000, *, repeats: int = 3,
        algorithms: tuple[str, ...] = ("louvain", "leiden", "pagerank", "betweenness"), settings=None) -> dict:
    """Time metrics and analyze; returns the figures (seconds and ratios)."""
    nrag = synthetic_nrag(n_layers, gridsize, n_labels, n_texts, seed=7)  # not bench.store's run id
    one = nrag.label_names[0]
    out = {"n_layers": n_layers, "gridsize": gridsize, "n_labels": n_labels, "n_texts": n_texts,
           "n_regions": nrag.n_regions, "n_flows": int(nrag.edge_source.shape[0]), "repeats": repeats}
    with Neo4jStore.from_settings(settings or neo4j_settings()) as store:
        run_id = store.write(nrag)
        try:
            out["store_metrics_all_s"] = _best(lambda: store.metrics(run_id), repeats)
            out["in_process_metrics_all_s"] = _best(lambda: compute_metrics(nrag), repeats)
            out["store_metrics_one_label_s"] = _best(lambda: store.metrics(run_id, one), repeats)
            out["in_process_metrics_one_label_s"] = _best(lambda: compute_metrics(nrag, [one]), repeats)

            def project() -> None:
                with projection(store.runner, "project_run_total", run_id=run_id, undirected=False):
                    pass

            out["gds_projection_all_s"] = _best(project, repeats)
            for algo in algorithms:
                start = time.perf_counter()
                store.analyze(run_id, [algo])
                out[f"analyze_{algo}_s"] = time.perf_counter() - start
        finally:
            store.delete(run_id)
    out["ratio_all"] = out["store_metrics_all_s"] / out["in_process_metrics_all_s"]
    out["ratio_one_label"] = out["store_metrics_one_label_s"] / out["in_process_metrics_one_label_s"]
    return out


def markdown(r: dict, command: str) -> str:
    """The result of :func:`run` as the markdown of the docs."""
    algorithms = [k.removeprefix("analyze_").removesuffix("_s") for k in r if k.startswith("analyze_")]
    return "\n".join([
        f"`{command}`: the `bench.store` random-walk shape, {r['n_layers']} layers x {r['gridsize']}x{r['gridsize']} "
        f"x {r['n_labels']} labels, {r['n_texts']:,} texts: {r['n_regions']:,} regions, {r['n_flows']:,} `FLOWS`; "
        f"best of {r['repeats']} after one warm-up.", "",
        "| | Neo4j (`store.metrics`) | in-process (`compute_metrics`) | ratio |", "|---|---:|---:|---:|",
        f"| metrics, all labels | {r['store_metrics_all_s']:.2f} s | {r['in_process_metrics_all_s']:.3f} s | "
        f"**{r['ratio_all']:.1f}x** (target <= 1.5x) |",
        f"| metrics, one label | {r['store_metrics_one_label_s']:.2f} s | {r['in_process_metrics_one_label_s']:.3f} s | "
        f"**{r['ratio_one_label']:.1f}x** (target <= 2x) |",
        f"| GDS projection of the run alone | {r['gds_projection_all_s']:.2f} s | | |",
        *(f"| analyze: {a} | {r[f'analyze_{a}_s']:.2f} s | | |" for a in algorithms),
    ])


def section(quick: bool = False) -> str:
    """The docs block (protocol of :mod:`bench.docs`) on a disposable server; ``quick``: 4 layers x 10x10, 300 texts."""
    from bench.store import QUICK_MEMORY, fresh_neo4j

    shape = dict(n_layers=4, gridsize=10, n_texts=300) if quick else {}
    kwargs = dict(repeats=1, algorithms=("louvain", "pagerank")) if quick else {}
    with fresh_neo4j(**(QUICK_MEMORY if quick else {})) as (settings, _):
        r = run(**shape, **kwargs, settings=settings)
    args = " --layers 4 --gridsize 10 --texts 300 --repeats 1 --algorithms louvain,pagerank" if quick else ""
    return markdown(r, f"python -m bench.gds{args}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=32)
    parser.add_argument("--gridsize", type=int, default=50)
    parser.add_argument("--labels", type=int, default=3)
    parser.add_argument("--texts", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--algorithms", default="louvain,leiden,pagerank,betweenness")
    a = parser.parse_args()
    kwargs = dict(repeats=a.repeats, algorithms=tuple(x for x in a.algorithms.split(",") if x))
    settings = neo4j_settings() if os.environ.get("NEO4J_URI") else None
    if settings is not None:
        result = run(a.layers, a.gridsize, a.labels, a.texts, settings=settings, **kwargs)
    else:
        from llm_mri_graphdb.server import LocalNeo4j, free_port

        server = LocalNeo4j(Path(tempfile.mkdtemp(prefix="bench-gds-")), bolt_port=free_port(),
                            http_port=free_port(), heap="2g")
        server.start(password="bench-" + os.urandom(6).hex())
        try:
            result = run(a.layers, a.gridsize, a.labels, a.texts, settings=server.settings(), **kwargs)
        finally:
            server.stop()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
