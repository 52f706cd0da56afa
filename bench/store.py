"""Store benchmark: Neo4j write throughput and GDS metric time for a realistic NRAG.

Run ``python -m bench.store`` (settings from ``NEO4J_URI``/``NEO4J_USER``/
``NEO4J_PASSWORD``). The synthetic NRAG follows ``n_texts`` texts on random
walks through a ``gridsize`` x ``gridsize`` grid over ``n_layers`` layers,
each label starting in its own corner, so cells and edges are as sparse as a
real 2-D scan. The run is deleted afterwards.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from llm_mri_graphdb.metrics import compute_metrics
from llm_mri_graphdb.nrag import NRAG
from llm_mri_graphdb.settings import neo4j_settings
from llm_mri_graphdb.store import Neo4jStore
from llm_mri_graphdb.testing import nrag_from_paths

__all__ = ["synthetic_nrag", "run"]


def synthetic_nrag(n_layers: int = 32, gridsize: int = 50, n_labels: int = 3, n_texts: int = 5000,
                   *, step: int = 3, seed: int = 0) -> NRAG:
    """Grid NRAG of ``n_texts`` random walks, each label starting near its own corner (text counts)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n_texts) % n_labels
    corners = rng.integers(0, gridsize, (n_labels, 2))
    start = np.clip(corners[labels] + rng.integers(-8, 9, (n_texts, 2)), 0, gridsize - 1)
    walk = np.cumsum(rng.integers(-step, step + 1, (n_texts, n_layers, 2)), axis=1)
    paths = np.clip(start[:, None, :] + walk, 0, gridsize - 1)
    names = tuple(f"label{i}" for i in range(n_labels))
    return nrag_from_paths(paths, labels, names,
                           model={"name": "bench-model"}, corpus={"name": "bench-corpus", "fingerprint": f"bench-{seed}"},
                           settings={"reducer": "pca", "n_components": 2, "gridsize": gridsize, "bench": True,
                                     "seed": seed})


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def run(n_layers: int = 32, gridsize: int = 50, n_labels: int = 3, n_texts: int = 5000, *,
        batch_size: int = 10_000, workers: int = 2, repeats: int = 2, settings=None) -> dict:
    """Time writes, a read and GDS metrics; returns the figures.

    The first write on a server that has just started runs before the JVM has
    compiled the write path, so it is reported on its own (``cold_write_s``)
    and deleted. Then ``repeats`` fresh writes (each deleted after) and one
    replacement of a stored run, which also deletes the version it replaces.
    ``*_per_s`` counts :FLOWS plus :FLOWS_TOTAL relationships over the whole
    ``write`` call.
    """
    settings = settings or neo4j_settings()
    if settings is None:
        raise SystemExit("Set NEO4J_URI, NEO4J_USER and NEO4J_PASSWORD (or start one: llm-mri-graphdb neo4j start).")
    nrag = synthetic_nrag(n_layers, gridsize, n_labels, n_texts)
    n_pairs = np.unique(np.stack([nrag.edge_source, nrag.edge_target]), axis=1).shape[1]
    n_rels = int(nrag.edge_source.shape[0] + n_pairs)
    out = {"n_layers": n_layers, "gridsize": gridsize, "n_labels": n_labels, "n_texts": n_texts,
           "n_regions": nrag.n_regions, "n_flows": int(nrag.edge_source.shape[0]), "n_flows_total": int(n_pairs),
           "n_relationships": n_rels, "batch_size": batch_size, "workers": workers}
    with Neo4jStore.from_settings(settings, batch_size=batch_size, workers=workers) as store:
        run_id, out["cold_write_s"] = _timed(lambda: store.write(nrag))
        store.delete(run_id)
        fresh = []
        for i in range(repeats):
            run_id, seconds = _timed(lambda: store.write(nrag))
            fresh.append(seconds)
            if i < repeats - 1:
                store.delete(run_id)
        _, out["replace_s"] = _timed(lambda: store.write(nrag))
        try:
            back, out["read_s"] = _timed(lambda: store.read(run_id))
            out["read_equal"] = back.equals(nrag)
            _, out["gds_metrics_all_s"] = _timed(lambda: store.metrics(run_id))
            _, out["gds_metrics_one_label_s"] = _timed(lambda: store.metrics(run_id, labels=nrag.label_names[0]))
            _, out["in_process_metrics_all_s"] = _timed(lambda: compute_metrics(nrag))
        finally:
            store.delete(run_id)
    out["fresh_write_s"] = fresh
    out["cold_relationships_per_s"] = n_rels / out["cold_write_s"]
    out["fresh_relationships_per_s"] = [n_rels / s for s in fresh]
    out["replace_relationships_per_s"] = n_rels / out["replace_s"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=32)
    parser.add_argument("--gridsize", type=int, default=50)
    parser.add_argument("--labels", type=int, default=3)
    parser.add_argument("--texts", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    a = parser.parse_args()
    print(json.dumps(run(a.layers, a.gridsize, a.labels, a.texts, batch_size=a.batch_size,
                         workers=a.workers, repeats=a.repeats),
                     indent=2))


if __name__ == "__main__":
    main()
