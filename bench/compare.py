"""Side by side with llm_mri 0.2.1 and with the bare forward pass, on the same model and texts.

Run from the repository root, after ``bash bench/reference/setup.sh``::

    python -m bench.compare --sizes 150 600 2400 --repeats 2

For each corpus size it alternates three fresh processes (so each one's peak
memory is its own): llm_mri's documented flow (``process_activation_areas`` +
``get_graph`` + ``Metrics`` per label), ours with the same settings (PCA, 2
components, gridsize 10, first-token pooling, hidden states; extraction +
reduction + NRAG + metrics per label), and the bare forward pass over the same
texts (model load, tokenisation, length-sorted batches, forward with hidden
states). The headline time is the whole process, from its start to its exit
(interpreter start-up and every import included), best of the repeats; the
time inside the process after its imports (the model's transformers module
included, which differs between transformers 4 and 5) is given beside it.
Peak memory is the process's maximum resident set. The versions of Python,
torch, transformers, numpy and llm_mri in each environment head the table,
since the reference runs in its own venv (transformers 4, numpy 1).

It then checks that both tools give the same per-label metrics: relative
difference at most ``--tolerance`` (default 1e-6). Mirror images of the PCA
plane give identical metrics, so sign conventions do not matter; llm_mri runs
PCA in float32 (torchdr), so a text sitting on a cell edge can land in the
neighbouring cell, and any such disagreement is reported, not hidden.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_PYTHON = ROOT / "bench" / "reference" / ".venv" / "bin" / "python"
COMPARED = (
    "mean_degree",
    "var_degree",
    "skew_degree",
    "kurt_degree",
    "mean_strength",
    "var_strength",
    "assortativity",
    "density",
    "center_of_mass",
)
MAX_LENGTH = 512  # llm_mri truncates at 512 tokens
PACKAGES = ("torch", "transformers", "numpy", "scikit-learn", "llm-mri", "llm-mri-graphdb")
_VERSIONS = """
import json, platform, importlib.metadata as m
def version(name):
    try:
        return m.version(name)
    except m.PackageNotFoundError:
        return None
print(json.dumps({"python": platform.python_version(), **{n: version(n) for n in PACKAGES}}))
""".replace("PACKAGES", repr(PACKAGES))

NAME, TITLE = "compare", "Against llm_mri 0.2.1 and the bare forward pass"


def _model_dir() -> str:
    from llm_mri_graphdb import demo

    return str(demo.model_path())


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _import_model_code(model: str) -> None:
    """Import the model's transformers module before the clock starts, in every worker alike.

    transformers imports a model's code on first use; that cost belongs to the
    library version (5.x here, 4.x in the reference venv), not to either tool.
    """
    import importlib

    from transformers import AutoConfig

    kind = AutoConfig.from_pretrained(model).model_type
    importlib.import_module(f"transformers.models.{kind}.modeling_{kind}")


def _worker_ours(model: str, corpus: str, gridsize: int, batch_size: int) -> dict:
    import datasets  # noqa: F401  imported before the clock, as the reference runner does

    from llm_mri_graphdb.analysis.metrics import compute_metrics
    from llm_mri_graphdb.data import load_corpus
    from llm_mri_graphdb.extract import extract_activations
    from llm_mri_graphdb.nrag.model import build_nrag_from_reduced
    from llm_mri_graphdb.reduce.layers import PCA, reduce_layers

    _import_model_code(model)
    start = time.perf_counter()
    dataset = load_corpus(corpus)
    acts = extract_activations(
        model,
        dataset,
        site="hidden",
        pooling="first",
        device="cpu",
        batch_size=batch_size,
        max_length=MAX_LENGTH,
        progress=False,
    )
    extracted = time.perf_counter()
    reduced = reduce_layers(acts, PCA(2))
    nrag = build_nrag_from_reduced(reduced, acts.labels, acts.label_names, gridsize=gridsize)
    metrics = {label: compute_metrics(nrag, [label]) for label in nrag.label_names}
    done = time.perf_counter()
    return {
        "extract_s": extracted - start,
        "total_s": done - start,
        "peak_rss_mb": _peak_mb(),
        "metrics": {k: {m: v[m] for m in COMPARED} for k, v in metrics.items()},
        "coords": [np.asarray(layer).tolist() for layer in reduced],  # after the clock
    }


def _worker_bare(model: str, corpus: str, batch_size: int) -> dict:
    import pandas as pd
    from transformers import AutoModel, AutoTokenizer

    from bench.extract import bare_forward

    _import_model_code(model)
    start = time.perf_counter()
    texts = pd.read_csv(corpus)["text"].tolist()
    tokenizer = AutoTokenizer.from_pretrained(model)
    net = AutoModel.from_pretrained(model).eval()
    bare_forward(net, tokenizer, texts, batch_size, MAX_LENGTH)
    return {"total_s": time.perf_counter() - start, "peak_rss_mb": _peak_mb()}


def _spawn(cmd: list[str]) -> dict:
    """Run ``cmd`` in a fresh process; its JSON result plus ``process_s``, the whole process's wall seconds."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    process_s = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} failed:\n{proc.stderr[-3000:]}")
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "process_s": process_s}


def environment(python: str | Path) -> dict:
    """Python and package versions of the interpreter ``python`` (its own venv)."""
    proc = subprocess.run([str(python), "-c", _VERSIONS], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def _corpus_csv(n_texts: int, folder: Path) -> Path:
    from bench.extract import uneven_corpus

    dataset = uneven_corpus(n_texts)
    names = dataset.features["label"].names
    path = folder / f"corpus-{n_texts}.csv"
    import pandas as pd

    pd.DataFrame({"text": dataset["text"], "label": [names[i] for i in dataset["label"]]}).to_csv(path, index=False)
    return path


def cell_differences(ours: list, theirs: list, gridsize: int) -> list[tuple[int, int, float]]:
    """``(layer, texts in another cell, farthest of them from a cell edge in bin widths)`` for each layer
    where the two tools' grids (``pandas.cut`` into ``gridsize`` equal bins per axis, as llm_mri does) put a
    text in different cells. An axis may be mirrored (PCA's sign), which changes no metric."""
    import pandas as pd

    found = []
    for layer, (a, b) in enumerate(zip(ours, theirs)):
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        moved = np.zeros(a.shape[0], dtype=bool)
        edge = np.zeros(a.shape[0])
        for axis in range(a.shape[1]):
            cells_a = pd.cut(a[:, axis], gridsize, labels=False)
            cells_b = pd.cut(b[:, axis], gridsize, labels=False)
            same, mirrored = cells_a != cells_b, cells_a != gridsize - 1 - cells_b
            differ = same if same.sum() <= mirrored.sum() else mirrored
            low, high = a[:, axis].min(), a[:, axis].max()
            width = (high - low) / gridsize or 1.0  # a constant axis (first-token layer 0): one cell, no edge
            position = (a[:, axis] - low) / width
            edge = np.where(differ, np.maximum(edge, np.abs(position - np.round(position))), edge)
            moved |= differ
        if moved.any():
            found.append((layer, int(moved.sum()), float(edge[moved].max())))
    return found


def _max_rel_diff(ours: dict, ref: dict) -> tuple[float, str]:
    worst, where = 0.0, ""
    for label, values in ref.items():
        for key in COMPARED:
            a, b = ours[label][key], values.get(key)
            a = None if isinstance(a, float) and math.isnan(a) else a
            if a is None or b is None:
                if a is not b:
                    return math.inf, f"{label}.{key}: ours {a}, llm_mri {b}"
                continue
            rel = abs(a - b) / max(abs(b), 1e-12)
            if rel > worst:
                worst, where = rel, f"{label}.{key}: ours {a:.6g}, llm_mri {b:.6g}"
    return worst, where


def run(
    sizes=(150, 600, 2400),
    repeats: int = 2,
    gridsize: int = 10,
    batch_size: int = 32,
    tolerance: float = 1e-6,
    model: str | None = None,
) -> dict:
    """Measure every size; return rows with times, memory, ratios and the metric check."""
    if not REFERENCE_PYTHON.exists():
        raise FileNotFoundError(f"{REFERENCE_PYTHON} is missing: run `bash bench/reference/setup.sh` first.")
    model = model or _model_dir()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            corpus = str(_corpus_csv(n, Path(tmp)))
            best: dict[str, dict] = {}
            for _ in range(repeats):
                runs = {
                    "llm_mri": [
                        str(REFERENCE_PYTHON),
                        "bench/reference/run_reference.py",
                        model,
                        corpus,
                        "--gridsize",
                        str(gridsize),
                    ],
                    "ours": [
                        sys.executable,
                        "-m",
                        "bench.compare",
                        "--worker",
                        "ours",
                        "--model",
                        model,
                        "--corpus",
                        corpus,
                        "--gridsize",
                        str(gridsize),
                        "--batch-size",
                        str(batch_size),
                    ],
                    "bare": [
                        sys.executable,
                        "-m",
                        "bench.compare",
                        "--worker",
                        "bare",
                        "--model",
                        model,
                        "--corpus",
                        corpus,
                        "--batch-size",
                        str(batch_size),
                    ],
                }
                for name, cmd in runs.items():
                    result = _spawn(cmd)
                    if name not in best or result["process_s"] < best[name]["process_s"]:
                        best[name] = result
            diff, where = _max_rel_diff(best["ours"]["metrics"], best["llm_mri"]["metrics"])
            rows.append(
                {
                    "texts": n,
                    "llm_mri_s": best["llm_mri"]["process_s"],
                    "ours_s": best["ours"]["process_s"],
                    "bare_s": best["bare"]["process_s"],
                    "ours_extract_s": best["ours"]["extract_s"],
                    "llm_mri_work_s": best["llm_mri"]["total_s"],
                    "ours_work_s": best["ours"]["total_s"],
                    "bare_work_s": best["bare"]["total_s"],
                    "speedup_vs_llm_mri": best["llm_mri"]["process_s"] / best["ours"]["process_s"],
                    "ours_over_bare": best["ours"]["process_s"] / best["bare"]["process_s"],
                    "llm_mri_peak_mb": best["llm_mri"]["peak_rss_mb"],
                    "ours_peak_mb": best["ours"]["peak_rss_mb"],
                    "bare_peak_mb": best["bare"]["peak_rss_mb"],
                    "memory_ratio": best["ours"]["peak_rss_mb"] / best["llm_mri"]["peak_rss_mb"],
                    "max_rel_metric_diff": diff,
                    "worst_metric": where,
                    "metrics_match": diff <= tolerance,
                    "cells_differ": cell_differences(best["ours"]["coords"], best["llm_mri"]["coords"], gridsize),
                }
            )
    return {
        "model": model,
        "gridsize": gridsize,
        "batch_size": batch_size,
        "tolerance": tolerance,
        "repeats": repeats,
        "environments": {"llm_mri": environment(REFERENCE_PYTHON), "ours": environment(sys.executable)},
        "rows": rows,
    }


def markdown(result: dict) -> str:
    """The environments and the result as markdown tables."""
    envs = result["environments"]
    lines = ["| environment | " + " | ".join(["python", *PACKAGES]) + " |", "|---|" + "---|" * (len(PACKAGES) + 1)]
    for name, label in (("llm_mri", "reference venv (`bench/reference/setup.sh`)"), ("ours", "ours (`uv.lock`)")):
        lines.append(f"| {label} | " + " | ".join(str(envs[name].get(k) or "-") for k in ("python", *PACKAGES)) + " |")
    lines += [
        "",
        "Times are whole fresh processes, start to exit (imports, model load included); in brackets the "
        "time inside the process after its imports.",
        "",
        "| texts | llm_mri s | ours s | bare forward s | speed-up vs llm_mri | ours / bare | "
        "llm_mri peak MB | ours peak MB | ours / llm_mri memory | metrics match (max rel diff) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|:--|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['texts']} | {r['llm_mri_s']:.1f} ({r['llm_mri_work_s']:.1f}) | {r['ours_s']:.1f} "
            f"({r['ours_work_s']:.1f}) | {r['bare_s']:.1f} ({r['bare_work_s']:.1f}) | "
            f"{r['speedup_vs_llm_mri']:.2f}x | {r['ours_over_bare']:.2f}x | {r['llm_mri_peak_mb']:.0f} | "
            f"{r['ours_peak_mb']:.0f} | {r['memory_ratio']:.2f} | "
            f"{'yes' if r['metrics_match'] else 'NO'} ({r['max_rel_metric_diff']:.1e}) |"
        )
    mismatches = [
        f"- {r['texts']} texts: {r['worst_metric']}; {_cells_said(r.get('cells_differ', []))}"
        for r in result["rows"]
        if not r["metrics_match"]
    ]
    if mismatches:
        lines += ["", "Largest metric differences, and the texts the two grids put in different cells:", *mismatches]
    return "\n".join(lines)


def _cells_said(cells: list) -> str:
    if not cells:
        return "every text is in the same cell in both tools (the difference is in the metrics themselves)"
    return "; ".join(
        f"layer {layer}: {n} text{'s' if n > 1 else ''} in a neighbouring cell, at most {edge:.0e} bin widths "
        "from the edge (the two tools' float32 activations differ in the last bits)"
        for layer, n, edge in cells
    )


def section(quick: bool = False) -> str:
    """The docs block (protocol of :mod:`bench.docs`): 150, 600 and 2,400 texts, best of 2; ``quick``: 40, once."""
    if not REFERENCE_PYTHON.exists():
        from bench.docs import Unavailable

        raise Unavailable(
            f"{REFERENCE_PYTHON.relative_to(ROOT)} is missing: run `bash bench/reference/setup.sh` "
            "once (installs llm-mri 0.2.1 into its own venv)"
        )
    sizes, repeats = ((40,), 1) if quick else ((150, 600, 2400), 2)
    r = run(sizes=sizes, repeats=repeats)
    return (
        f"`python -m bench.compare --sizes {' '.join(map(str, sizes))} --repeats {repeats}`: MiniLM-L6, "
        f"PCA 2 components, gridsize {r['gridsize']}, first-token pooling, hidden states; each tool in a fresh "
        f"process, runs alternated, best of {repeats}.\n\n{markdown(r)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Compare with llm_mri 0.2.1 and the bare forward pass.")
    parser.add_argument("--sizes", type=int, nargs="+", default=[150, 600, 2400])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--gridsize", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--tolerance", type=float, default=1e-6)
    parser.add_argument("--model", default=None, help="model folder (default: the packaged MiniLM)")
    parser.add_argument("--worker", choices=["ours", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    if args.worker == "ours":
        print(json.dumps(_worker_ours(args.model, args.corpus, args.gridsize, args.batch_size)))
    elif args.worker == "bare":
        print(json.dumps(_worker_bare(args.model, args.corpus, args.batch_size)))
    else:
        result = run(args.sizes, args.repeats, args.gridsize, args.batch_size, args.tolerance, args.model)
        print(json.dumps(result, indent=2) if args.json else markdown(result))


if __name__ == "__main__":
    main()
