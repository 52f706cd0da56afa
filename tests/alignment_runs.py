"""Two small scans of one corpus with cached activations, for the alignment tests of both stores."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from llm_mri_graphdb.extract.cache import CacheWriter, cache_key
from llm_mri_graphdb.nrag.model import NRAG, build_nrag_from_reduced

N_TEXTS = 60
TEXTS = [f"text {i}" for i in range(N_TEXTS)]


def _layers(seed: int, n_layers: int, width: int) -> list[np.ndarray]:
    """Layers that drift away from a shared signal, so early layers agree across runs."""
    rng = np.random.default_rng(seed)
    signal = np.random.default_rng(0).standard_normal((N_TEXTS, 3))
    mix = rng.standard_normal((3, width))
    return [
        (signal @ mix * (1.0 - k / n_layers) + rng.standard_normal((N_TEXTS, width)) * (0.2 + k)).astype(np.float32)
        for k in range(n_layers)
    ]


def cached_scan(
    root: Path,
    tag: str,
    model: str,
    seed: int,
    n_layers: int,
    width: int,
    *,
    corpus: str = "corpus",
    cache: bool = True,
) -> tuple[NRAG, list[np.ndarray]]:
    """An NRAG of ``n_layers`` over the shared corpus, its layers cached under ``root`` (when ``cache``)."""
    layers = _layers(seed, n_layers, width)
    path = None
    if cache:
        key = cache_key(model=model, tag=tag, seed=seed)
        with CacheWriter(root, key, n_layers=n_layers, n_texts=N_TEXTS, width=width) as writer:
            for target, layer in zip(writer.layers, layers):
                target[:] = layer
            path = str(writer.commit({"model": model}))
    labels = (np.arange(N_TEXTS) % 2).astype(np.int64)
    nrag = build_nrag_from_reduced(
        [x[:, :2] for x in layers],
        labels,
        ["neg", "pos"],
        gridsize=3,
        model={"name": f"{model}-{tag}"},
        corpus={"name": f"{corpus}-{tag}", "fingerprint": f"{corpus}-{tag}"},
        settings={"tag": tag, "seed": seed},
        activations_path=path,
    )
    return nrag, layers
