"""Layer alignment benchmark: CKA + AMI of every layer pair of two scans, against a bare GEMM.

Run from the repository root::

    python -m bench.alignment                      # 10k texts, 13 x 13 layers, widths 384/384 and 384/576
    python -m bench.alignment --n-texts 2000 --repeats 2
    python -m bench.alignment --ratio-only         # the target: today's compare against debiased CKA + null, 384/384

Each case runs in a fresh process (imports and allocations of one case never
warm the next). Inside it, two synthetic 13-layer scans of ``n_texts`` texts
(float32 activations with a drifting low-rank signal, and grid paths from
binning two of their directions 10 x 10, as a 2-D scan would) are compared
with :func:`llm_mri_graphdb.analysis.alignment.align_layers` (169 layer pairs, linear CKA
and AMI). Baselines measured in the same process right after the measured
call, best of ``--repeats`` each:

* ``gemm32`` / ``gemm64``: one numpy product ``X^T Y`` of the concatenated
  layers (``n_texts x 13*p`` by ``n_texts x 13*q``) in float32 / float64, the
  floor for any exact CKA of all pairs;
* ``sklearn AMI``: :func:`sklearn.metrics.adjusted_mutual_info_score` on 5 layer
  pairs, scaled to 169;
* ``today``: ``align_layers`` as ``main`` had it before debiased CKA (its source is
  read from git: the parent of the commit of ``--baseline-ref``'s history, default
  ``main``, that brought ``cka_debiased``), i.e. linear CKA and AMI only,
  timed in the same process in consecutive blocks with ``compare`` (debiased CKA,
  a 100-permutation null and 100 bootstrap resamples on the default 1,000-text
  subsample); ``compare / today`` is the ratio the target (<= 3x) is about.

``compare from cache`` times the same call on the layers written to an
activation cache entry and read back memory-mapped, as
:func:`llm_mri_graphdb.store.alignment.compare_runs` reads them. CPU seconds
(all threads) are printed next to wall seconds: on a shared machine they
move less than wall time.

The machine is shared and noisy, so read the ratios to ``gemm32`` rather than
the seconds; the load average at the start is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["synthetic_scan", "run_case", "markdown", "section", "main"]

NAME, TITLE = "alignment", "Layer alignment (`compare`)"

CASES = ((384, 384), (384, 576))


def synthetic_scan(n_texts: int, n_layers: int, width: int, *, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Float32 layers (rank-8 signal drifting across layers, plus noise) and their 10 x 10 grid paths."""
    rng = np.random.default_rng(seed)
    latent = np.random.default_rng(0).normal(size=(n_texts, 8))  # shared by both scans: the corpus
    layers, paths = [], []
    for _ in range(n_layers):
        latent = latent + 0.3 * rng.normal(size=latent.shape)
        layers.append((latent @ rng.normal(size=(8, width)) + rng.normal(size=(n_texts, width))).astype(np.float32))
        plane = latent[:, :2]
        edges = [np.linspace(plane[:, k].min(), plane[:, k].max(), 11)[1:-1] for k in range(2)]
        paths.append(np.digitize(plane[:, 0], edges[0]) * 10 + np.digitize(plane[:, 1], edges[1]))
    return layers, np.stack(paths, axis=1)


def _best(fn: Callable[[], Any], repeats: int) -> float:
    return _best_wall_cpu(fn, repeats)[0]


def _best_wall_cpu(fn: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """Best wall time and best CPU time (all threads) of ``repeats`` calls."""
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def _cached(root: str, layers: list[np.ndarray], key: str) -> list[np.ndarray]:
    """``layers`` written as one activation cache entry, read back memory-mapped (as compare_runs reads them)."""
    from llm_mri_graphdb.extract.cache import CacheWriter, load_entry

    with CacheWriter(root, key, n_layers=len(layers), n_texts=layers[0].shape[0], width=layers[0].shape[1]) as w:
        for target, layer in zip(w.layers, layers):
            target[:] = layer
        w.commit({})
    return load_entry(root, key)[0]


def _load_baseline(path: str):
    """``align_layers`` of the saved source of an earlier ``llm_mri_graphdb/alignment.py``."""
    import importlib.util
    import re
    import types

    def current(match: re.Match[str]) -> str:
        """``from .X`` of the old flat layout -> the module named X in today's package (``analysis.X`` ...)."""
        name = match.group(1)
        for prefix in ("llm_mri_graphdb.", "llm_mri_graphdb.analysis.", "llm_mri_graphdb.extract."):
            if importlib.util.find_spec(prefix + name) is not None:
                return f"from {prefix}{name} "
        raise ImportError(f"the saved alignment.py imports .{name}, which today's package no longer has")

    source = re.sub(r"from \.(\w+) ", current, open(path).read())
    module = types.ModuleType("alignment_today")
    sys.modules["alignment_today"] = module  # dataclasses look their module up
    exec(compile(source, path, "exec"), module.__dict__)  # noqa: S102 - our own file from git
    return module.align_layers


def ratio_case(n_texts: int, width_a: int, width_b: int, n_layers: int, repeats: int, baseline: str) -> dict[str, Any]:
    """Only today's compare against the new one (``--ratio-only``), alternated, best of ``repeats`` each."""
    from llm_mri_graphdb.analysis.alignment import align_layers

    layers_a, paths_a = synthetic_scan(n_texts, n_layers, width_a, seed=1)
    layers_b, paths_b = synthetic_scan(n_texts, n_layers, width_b, seed=2)
    old = _load_baseline(baseline)
    today = lambda: old(layers_a, layers_b, paths_a, paths_b)  # noqa: E731
    compare = lambda: align_layers(layers_a, layers_b, paths_a, paths_b)  # noqa: E731
    today()
    compare()  # imports and first-touch pages out of the timing
    timings = [(_best_wall_cpu(today, 1), _best_wall_cpu(compare, 1)) for _ in range(repeats)]
    result = align_layers(layers_a, layers_b, paths_a, paths_b)
    return {
        "n_texts": n_texts,
        "widths": [width_a, width_b],
        "layer_pairs": n_layers * n_layers,
        "today_s": min(t[0][0] for t in timings),
        "today_cpu_s": min(t[0][1] for t in timings),
        "compare_s": min(t[1][0] for t in timings),
        "compare_cpu_s": min(t[1][1] for t in timings),
        "null_rows": int(result.null["n_rows"]),
        "ratio_only": True,
    }


def run_case(
    n_texts: int, width_a: int, width_b: int, n_layers: int, repeats: int, baseline: str | None = None
) -> dict[str, Any]:
    """Times of one case in this process (see the module docstring)."""
    from sklearn.metrics import adjusted_mutual_info_score

    from llm_mri_graphdb.analysis.alignment import align_layers, cka_matrix
    from llm_mri_graphdb.analysis.mutual_info import ami_matrix

    layers_a, paths_a = synthetic_scan(n_texts, n_layers, width_a, seed=1)
    layers_b, paths_b = synthetic_scan(n_texts, n_layers, width_b, seed=2)
    x32, y32 = np.concatenate(layers_a, axis=1), np.concatenate(layers_b, axis=1)
    x64, y64 = x32.astype(np.float64), y32.astype(np.float64)
    compare = lambda: align_layers(layers_a, layers_b, paths_a, paths_b)  # noqa: E731
    compare()  # first call: imports out of the timing
    today_s = today_cpu_s = None
    if baseline:
        old = _load_baseline(baseline)
        today = lambda: old(layers_a, layers_b, paths_a, paths_b)  # noqa: E731
        today()
        # alternated blocks: today, new, today, new ...; best of each
        timings = [(_best_wall_cpu(today, 1), _best_wall_cpu(compare, 1)) for _ in range(repeats)]
        today_s, today_cpu_s = min(t[0][0] for t in timings), min(t[0][1] for t in timings)
        new_s, new_cpu_s = min(t[1][0] for t in timings), min(t[1][1] for t in timings)
    # not alternated: a call right after the 100 MB GEMM output is freed runs about 0.5 s slower (page
    # faults of fresh memory), which would charge the baseline's cost to the measured call
    total = [_best_wall_cpu(compare, 1) for _ in range(repeats)] if not baseline else [(new_s, new_cpu_s)]
    gemm32 = [_best_wall_cpu(lambda: x32.T @ y32, 1) for _ in range(repeats)]
    with tempfile.TemporaryDirectory() as root:
        cached_a, cached_b = _cached(root, layers_a, "a"), _cached(root, layers_b, "b")
        from_cache = _best(lambda a=cached_a, b=cached_b: align_layers(a, b, paths_a, paths_b), repeats)
        del cached_a, cached_b
    result = align_layers(layers_a, layers_b, paths_a, paths_b)
    pairs = [(i, j) for i in range(0, n_layers, 3) for j in range(0, n_layers, 5)][:5]
    sk = _best(lambda: [adjusted_mutual_info_score(paths_a[:, i], paths_b[:, j]) for i, j in pairs], 1)
    out = {
        "n_texts": n_texts,
        "n_layers": n_layers,
        "widths": [width_a, width_b],
        "layer_pairs": n_layers * n_layers,
        "gemm32_s": min(w for w, _ in gemm32),
        "gemm32_cpu_s": min(c for _, c in gemm32),
        "gemm64_s": _best(lambda: x64.T @ y64, 1),
        "compare_s": min(w for w, _ in total),
        "compare_cpu_s": min(c for _, c in total),
        "compare_from_cache_s": from_cache,
        "today_s": today_s,
        "today_cpu_s": today_cpu_s,
        "null_rows": int(result.null["n_rows"]) if result.null else None,
        "cka_s": _best(lambda: cka_matrix(layers_a, layers_b), repeats),
        "ami_s": _best(lambda: ami_matrix(paths_a, paths_b), repeats),
        "sklearn_ami_169_s": sk / len(pairs) * n_layers * n_layers,
        "cka_float64_s": _best(lambda: cka_matrix(layers_a, layers_b, dtype=np.float64), 1),
        "ami_max_abs_diff_vs_sklearn": max(
            abs(result.ami[i, j] - adjusted_mutual_info_score(paths_a[:, i], paths_b[:, j])) for i, j in pairs
        ),
    }
    from llm_mri_graphdb.analysis.alignment import cka_matrices

    exact = cka_matrix(layers_a, layers_b, dtype=np.float64)
    out["cka_debiased_max_abs_diff_vs_float64"] = float(
        np.max(np.abs(result.cka_debiased - cka_matrices(layers_a, layers_b, dtype=np.float64).cka_debiased))
    )
    out["cka_max_abs_diff_vs_float64"] = float(np.max(np.abs(result.cka - exact)))
    return out


def _fresh(
    n_texts: int,
    n_layers: int,
    repeats: int,
    width_a: int,
    width_b: int,
    baseline_file: str | None = None,
    ratio_only: bool = False,
) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "bench.alignment",
        "--child",
        f"{width_a},{width_b}",
        "--n-texts",
        str(n_texts),
        "--n-layers",
        str(n_layers),
        "--repeats",
        str(repeats),
    ]
    if baseline_file:
        command += ["--baseline-file", baseline_file]
    if ratio_only:
        command += ["--ratio-only"]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _baseline_source(ref: str, folder: str) -> str | None:
    """Today's ``alignment.py`` (before debiased CKA) from git, saved under ``folder``; None outside a checkout."""
    paths = ("llm_mri_graphdb/analysis/alignment.py", "llm_mri_graphdb/alignment.py")
    introduced = subprocess.run(  # the commit that brought debiased CKA: its parent is the last "today"
        ["git", "log", "--format=%H", "--reverse", "-S", "cka_debiased", ref, "--", *paths],
        capture_output=True,
        text=True,
    ).stdout.split()
    revisions = (ref, f"{ref}~1") + ((f"{introduced[0]}~1",) if introduced else ())
    for revision, path in ((r, p) for r in revisions for p in paths):
        done = subprocess.run(["git", "show", f"{revision}:{path}"], capture_output=True, text=True)
        if done.returncode == 0 and "cka_debiased" not in done.stdout:
            path = os.path.join(folder, "alignment_today.py")
            with open(path, "w") as fh:
                fh.write(done.stdout)
            return path
    return None


def _table(rows: list[dict[str, Any]]) -> str:
    lines = ["| widths | texts | pairs | today s (cpu) | compare s (cpu) | **compare / today** | null texts |"]
    lines.append("|---|---|---|---|---|---|---|")
    for r in rows:
        if r.get("today_s"):
            lines.append(
                f"| {r['widths'][0]}/{r['widths'][1]} | {r['n_texts']} | {r['layer_pairs']} | "
                f"{r['today_s']:.2f} ({r['today_cpu_s']:.2f}) | {r['compare_s']:.2f} "
                f"({r['compare_cpu_s']:.2f}) | **{r['compare_s'] / r['today_s']:.2f}x** | {r['null_rows']} |"
            )
    if all(r.get("ratio_only") for r in rows):
        return "\n".join(lines)
    lines += [
        "",
        "| widths | texts | pairs | gemm32 s (cpu) | gemm64 s | compare s (cpu) | compare / gemm32 | "
        "compare from cache s | CKA s | CKA float64 s | AMI s | sklearn AMI x169 s | "
        "max CKA diff vs float64 | max debiased CKA diff vs float64 | max AMI diff vs sklearn |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r.get("ratio_only"):
            continue
        lines.append(
            f"| {r['widths'][0]}/{r['widths'][1]} | {r['n_texts']} | {r['layer_pairs']} | "
            f"{r['gemm32_s']:.2f} ({r['gemm32_cpu_s']:.2f}) | {r['gemm64_s']:.2f} | "
            f"{r['compare_s']:.2f} ({r['compare_cpu_s']:.2f}) | {r['compare_s'] / r['gemm32_s']:.2f} | "
            f"{r['compare_from_cache_s']:.2f} | {r['cka_s']:.2f} | {r['cka_float64_s']:.2f} | "
            f"{r['ami_s']:.3f} | {r['sklearn_ami_169_s']:.1f} | {r['cka_max_abs_diff_vs_float64']:.1e} | "
            f"{r['cka_debiased_max_abs_diff_vs_float64']:.1e} | "
            f"{r['ami_max_abs_diff_vs_sklearn']:.1e} |"
        )
    return "\n".join(lines)


def markdown(rows: list[dict[str, Any]], command: str) -> str:
    """The docs block's table (``docs/benchmarks.md`` and ``docs/alignment.md``) for the rows of every case."""
    r0 = rows[0]
    n_pairs = r0["layer_pairs"]
    lines = [
        f"`{command}`: two synthetic {r0['n_layers']}-layer scans of "
        f"{r0['n_texts']:,} texts with 10 x 10 grid paths, CKA + AMI of all {n_pairs} layer pairs "
        "(`align_layers`), each case in a fresh process, best of the repeats.",
        "",
        f"| widths | compare (CKA + AMI, {n_pairs} pairs) | one float32 GEMM of all layers | compare / GEMM | "
        f"same, from the memory-mapped cache | CKA in float64 | our AMI, {n_pairs} pairs | "
        f"sklearn AMI, {n_pairs} calls |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['widths'][0]} / {r['widths'][1]} | **{r['compare_s']:.2f} s** | {r['gemm32_s']:.2f} s | "
            f"{r['compare_s'] / r['gemm32_s']:.2f}x | {r['compare_from_cache_s']:.2f} s | "
            f"{r['cka_float64_s']:.2f} s | {r['ami_s']:.3f} s | {r['sklearn_ami_169_s']:.1f} s |"
        )
    lines += [
        "",
        "The compare includes debiased CKA, its 100-permutation null and 100 resamples for the stability "
        "(the 3 s target of two 13-layer 384-wide runs was set for plain CKA + AMI; the cost of the rest is "
        f"below). Max difference of the float32-product CKA from the "
        f"float64 path: {max(r['cka_max_abs_diff_vs_float64'] for r in rows):.1e}; of our AMI from "
        f"sklearn's: {max(r['ami_max_abs_diff_vs_sklearn'] for r in rows):.1e}. The sklearn column is 5 calls "
        f"scaled to {n_pairs}.",
    ]
    return "\n".join(lines)


def section(quick: bool = False) -> str:
    """The docs block (protocol of :mod:`bench.docs`): 10,000 texts, best of 3; ``quick``: 500 texts x 4 layers."""
    n_texts, n_layers, repeats = (500, 4, 1) if quick else (10_000, 13, 3)
    rows = [_fresh(n_texts, n_layers, repeats, a, b) for a, b in CASES]
    block = markdown(rows, f"python -m bench.alignment --n-texts {n_texts} --n-layers {n_layers} --repeats {repeats}")
    with tempfile.TemporaryDirectory() as folder:
        baseline_file = _baseline_source("HEAD", folder)
        if baseline_file is None:
            return block + "\n\nThe cost against the compare before debiased CKA needs the git history (not run)."
        r = _fresh(n_texts, n_layers, repeats, *CASES[0], baseline_file, ratio_only=True)
    return block + (
        f"\n\nWhat debiased CKA, its permutation null and the bootstrap stability cost "
        f"(`python -m bench.alignment --ratio-only --n-texts {n_texts} --n-layers {n_layers} --repeats {repeats}`: "
        f"`align_layers` before them, read from git, alternated with today's in one fresh process, "
        f"{r['widths'][0]} / {r['widths'][1]} wide, null and stability on {r['null_rows']:,} texts): "
        f"{r['today_s']:.2f} s -> {r['compare_s']:.2f} s wall (**{r['compare_s'] / r['today_s']:.2f}x**), "
        f"{r['today_cpu_s']:.2f} s -> {r['compare_cpu_s']:.2f} s CPU ({r['compare_cpu_s'] / r['today_cpu_s']:.2f}x); "
        "target <= 3x."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.alignment", description=__doc__.splitlines()[0])
    parser.add_argument("--n-texts", type=int, default=10_000)
    parser.add_argument("--n-layers", type=int, default=13)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--baseline-ref", default="main", help="git revision whose alignment.py is today's compare (default main)."
    )
    parser.add_argument(
        "--ratio-only",
        action="store_true",
        help="only today's compare against the new one, widths 384/384 (the target's case)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--baseline-file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        width_a, width_b = (int(w) for w in args.child.split(","))
        case = ratio_case if args.ratio_only else run_case
        print(json.dumps(case(args.n_texts, width_a, width_b, args.n_layers, args.repeats, args.baseline_file)))
        return 0
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        baseline_file = _baseline_source(args.baseline_ref, folder)
        if args.ratio_only and baseline_file is None:
            parser.error(
                f"--ratio-only needs today's alignment.py from git: no revision of {args.baseline_ref!r} without "
                "debiased CKA was found; run it in a clone with the history (git fetch --unshallow)."
            )
        rows = [
            _fresh(args.n_texts, args.n_layers, args.repeats, a, b, baseline_file, args.ratio_only)
            for a, b in (CASES[:1] if args.ratio_only else CASES)
        ]
    cpu = (
        next(
            (line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
            "unknown CPU",
        )
        if os.path.exists("/proc/cpuinfo")
        else "unknown CPU"
    )
    print(f"CPU: {cpu}")
    print(
        f"Layer alignment, {args.n_layers} x {args.n_layers} layers, {os.cpu_count()} cores, "
        f"load average {load:.2f} at start; best of {args.repeats}, each case in a fresh process.\n"
    )
    print(_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
