"""Small, consistent NRAGs built by hand for the store, GDS and query tests."""

from __future__ import annotations

import numpy as np

from llm_mri_graphdb.nrag import NRAG


def nrag_from_paths(paths, labels, label_names, *, model=None, corpus=None, settings=None) -> NRAG:
    """Grid NRAG of texts whose cell at every layer is given.

    ``paths`` is an array of shape (n_texts, n_layers, 2) of (x, y) cells, ``labels``
    the label index of each text. Counts and edge weights are text counts, so
    the NRAG is consistent the way a builder's is.
    """
    paths = np.asarray(paths, np.int64)
    labels = np.asarray(labels, np.int64)
    n_texts, n_layers, _ = paths.shape
    layer = np.broadcast_to(np.arange(n_layers), (n_texts, n_layers))
    cells = np.stack([layer, paths[..., 0], paths[..., 1]], axis=-1).reshape(-1, 3)
    regions, inverse = np.unique(cells, axis=0, return_inverse=True)  # sorted by (layer, x, y)
    inverse = inverse.reshape(n_texts, n_layers)
    counts = np.zeros((regions.shape[0], len(label_names)), np.int64)
    np.add.at(counts, (inverse.ravel(), np.repeat(labels, n_layers)), 1)
    rows = np.stack([inverse[:, :-1].ravel(), inverse[:, 1:].ravel(), np.repeat(labels, n_layers - 1)], axis=1)
    edges, weight = np.unique(rows, axis=0, return_counts=True)  # sorted by (source, target, label)
    return NRAG("grid", n_layers, tuple(label_names), regions[:, 0], regions[:, 1], regions[:, 2], counts,
                edges[:, 0], edges[:, 1], edges[:, 2], weight.astype(np.float64),
                layer_bounds=np.tile([0.0, 1.0, 0.0, 1.0], (n_layers, 1)),
                model=model or {"name": "tiny-model", "architecture": "gpt2", "n_layers": n_layers, "width": 8},
                corpus=corpus or {"name": "tiny-corpus", "fingerprint": "fp-tiny", "n_texts": n_texts,
                                  "label_names": list(label_names)},
                settings=settings or {"reducer": "pca", "n_components": 2, "gridsize": 3, "threshold": 0.0,
                                      "random_state": 0, "extract": {"site": "hidden", "pooling": "mean"}})


def random_grid_nrag(seed: int, *, n_texts=40, n_layers=4, gridsize=3, label_names=tuple("abcde"), tag="") -> NRAG:
    """A random walk of texts through a ``gridsize`` x ``gridsize`` grid, labels drawn at random."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(label_names), n_texts)
    steps = rng.integers(-1, 2, (n_texts, n_layers, 2))
    paths = np.clip(rng.integers(0, gridsize, (n_texts, 1, 2)) + np.cumsum(steps, axis=1), 0, gridsize - 1)
    return nrag_from_paths(paths, labels, label_names,
                           settings={"reducer": "pca", "n_components": 2, "gridsize": gridsize, "seed": seed,
                                     "tag": tag, "extract": {"site": "hidden", "pooling": "mean"}})


def random_components_nrag(seed: int, *, n_layers=4, n_components=3, label_names=("x", "y", "z"),
                           threshold=0.3, tag="") -> NRAG:
    """An N-D NRAG: every component a region, signed correlation weights above ``threshold``."""
    rng = np.random.default_rng(seed)
    layer, comp = np.divmod(np.arange(n_layers * n_components), n_components)
    counts = rng.integers(0, 6, (layer.shape[0], len(label_names)))
    rows = []
    for i in range(n_layers - 1):
        for a in range(n_components):
            for b in range(n_components):
                for lab in range(len(label_names)):
                    w = float(rng.uniform(-1, 1))
                    if abs(w) > threshold:
                        rows.append((i * n_components + a, (i + 1) * n_components + b, lab, w))
    rows.sort()
    e = np.array(rows, dtype=object).reshape(-1, 4)
    return NRAG("components", n_layers, tuple(label_names), layer, comp, np.full(layer.shape[0], -1), counts,
                e[:, 0].astype(np.int64), e[:, 1].astype(np.int64), e[:, 2].astype(np.int64),
                e[:, 3].astype(np.float64),
                model={"name": "tiny-nd-model"}, corpus={"name": "tiny-nd", "fingerprint": "fp-nd"},
                settings={"reducer": "pca", "n_components": n_components, "threshold": threshold, "seed": seed,
                          "tag": tag})


# Hand-checked sample for the query library: 3 layers, labels ("neg", "pos"), cells (x, y).
#   t0 pos (0,0) (0,0) (1,1)    t1 pos (0,0) (0,0) (1,1)    t2 pos (0,0) (1,0) (1,1)
#   t3 neg (1,1) (1,0) (0,1)    t4 neg (1,1) (1,0) (1,1)
# Regions 0_0_0 [neg 0, pos 3], 0_1_1 [2, 0], 1_0_0 [0, 2], 1_1_0 [2, 1], 2_0_1 [1, 0], 2_1_1 [1, 3].
# FLOWS 0_0_0->1_0_0 pos 2, 0_0_0->1_1_0 pos 1, 0_1_1->1_1_0 neg 2, 1_0_0->2_1_1 pos 2,
#       1_1_0->2_0_1 neg 1, 1_1_0->2_1_1 neg 1 and pos 1.
QUERY_PATHS = [[(0, 0), (0, 0), (1, 1)], [(0, 0), (0, 0), (1, 1)], [(0, 0), (1, 0), (1, 1)],
               [(1, 1), (1, 0), (0, 1)], [(1, 1), (1, 0), (1, 1)]]
QUERY_LABELS = [1, 1, 1, 0, 0]
# The second run drops t4 and sends t3 to (0,0) in layer 2:
# regions 0_0_0, 0_1_1, 1_0_0, 1_1_0, 2_0_0 [1, 0], 2_1_1 [0, 3].
QUERY_PATHS_B = [[(0, 0), (0, 0), (1, 1)], [(0, 0), (0, 0), (1, 1)], [(0, 0), (1, 0), (1, 1)],
                 [(1, 1), (1, 0), (0, 0)]]
QUERY_LABELS_B = [1, 1, 1, 0]


def query_nrags(tag: str) -> tuple[NRAG, NRAG]:
    """The two hand-checked runs (models ``qm-a-<tag>`` and ``qm-b-<tag>``, corpus ``qc-<tag>``)."""
    corpus = {"name": f"qc-{tag}", "fingerprint": f"qc-{tag}", "n_texts": 5, "label_names": ["neg", "pos"]}
    settings = {"reducer": "pca", "n_components": 2, "gridsize": 2, "tag": tag}
    a = nrag_from_paths(QUERY_PATHS, QUERY_LABELS, ("neg", "pos"), model={"name": f"qm-a-{tag}"},
                        corpus=corpus, settings=settings)
    b = nrag_from_paths(QUERY_PATHS_B, QUERY_LABELS_B, ("neg", "pos"), model={"name": f"qm-b-{tag}"},
                        corpus=corpus, settings=settings)
    return a, b
