"""Small, consistent NRAGs for the store, GDS and query tests.

The factories live in :mod:`llm_mri_graphdb.testing` (shared with the
benchmarks); the hand-checked query sample is here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from llm_mri_graphdb.nrag.model import NRAG
from llm_mri_graphdb.testing import nrag_from_paths, random_components_nrag, random_grid_nrag

__all__ = [
    "nrag_from_paths",
    "random_grid_nrag",
    "random_components_nrag",
    "query_nrags",
    "QUERY_PATHS",
    "QUERY_LABELS",
    "QUERY_PATHS_B",
    "QUERY_LABELS_B",
]


# Hand-checked sample for the query library: 3 layers, labels ("neg", "pos"), cells (x, y).
#   t0 pos (0,0) (0,0) (1,1)    t1 pos (0,0) (0,0) (1,1)    t2 pos (0,0) (1,0) (1,1)
#   t3 neg (1,1) (1,0) (0,1)    t4 neg (1,1) (1,0) (1,1)
# Regions 0_0_0 [neg 0, pos 3], 0_1_1 [2, 0], 1_0_0 [0, 2], 1_1_0 [2, 1], 2_0_1 [1, 0], 2_1_1 [1, 3].
# FLOWS 0_0_0->1_0_0 pos 2, 0_0_0->1_1_0 pos 1, 0_1_1->1_1_0 neg 2, 1_0_0->2_1_1 pos 2,
#       1_1_0->2_0_1 neg 1, 1_1_0->2_1_1 neg 1 and pos 1.
QUERY_PATHS = [
    [(0, 0), (0, 0), (1, 1)],
    [(0, 0), (0, 0), (1, 1)],
    [(0, 0), (1, 0), (1, 1)],
    [(1, 1), (1, 0), (0, 1)],
    [(1, 1), (1, 0), (1, 1)],
]
QUERY_LABELS = [1, 1, 1, 0, 0]
# The second run drops t4 and sends t3 to (0,0) in layer 2:
# regions 0_0_0, 0_1_1, 1_0_0, 1_1_0, 2_0_0 [1, 0], 2_1_1 [0, 3].
QUERY_PATHS_B = [[(0, 0), (0, 0), (1, 1)], [(0, 0), (0, 0), (1, 1)], [(0, 0), (1, 0), (1, 1)], [(1, 1), (1, 0), (0, 0)]]
QUERY_LABELS_B = [1, 1, 1, 0]


def query_nrags(tag: str) -> tuple[NRAG, NRAG]:
    """The two hand-checked runs (models ``qm-a-<tag>`` and ``qm-b-<tag>``, corpus ``qc-<tag>``)."""
    corpus = {"name": f"qc-{tag}", "fingerprint": f"qc-{tag}", "n_texts": 5, "label_names": ["neg", "pos"]}
    settings = {"reducer": "pca", "n_components": 2, "gridsize": 2, "tag": tag}
    a = nrag_from_paths(
        QUERY_PATHS, QUERY_LABELS, ("neg", "pos"), model={"name": f"qm-a-{tag}"}, corpus=corpus, settings=settings
    )
    b = nrag_from_paths(
        QUERY_PATHS_B, QUERY_LABELS_B, ("neg", "pos"), model={"name": f"qm-b-{tag}"}, corpus=corpus, settings=settings
    )
    return a, b


def power_iteration_pagerank(G, d=0.85, iterations=300):
    """PageRank as GDS defines it, by plain iteration over a networkx graph's dicts (independent of both
    implementations under test): (1 - d) + d * the in-neighbours' weighted shares; no normalisation, and the
    mass of dangling nodes is dropped."""
    out_weight = {u: sum(w for _, _, w in G.out_edges(u, data="weight")) for u in G}
    score = dict.fromkeys(G, 1.0)
    for _ in range(iterations):
        score = {
            v: (1 - d) + d * sum(score[u] * w / out_weight[u] for u, _, w in G.in_edges(v, data="weight")) for v in G
        }
    return score


@contextmanager
def stored_runs(store, nrags: dict[str, NRAG]) -> Iterator[dict[str, NRAG]]:
    """Write ``nrags`` into ``store`` for the block, then delete their runs."""
    for nrag in nrags.values():
        store.write(nrag)
    try:
        yield nrags
    finally:
        for nrag in nrags.values():
            store.delete(nrag.run_id)
