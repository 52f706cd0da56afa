"""All benchmarks in one run: ``python -m bench all [--write-docs] [--quick]``.

Runs, in this order, each in one go so their ratios come from one run:

* ``bench.compare``: llm_mri 0.2.1 vs ours vs the bare forward pass at 150, 600
  and 2,400 texts (needs ``bash bench/reference/setup.sh`` once);
* ``bench.extract``: our extraction against the bare forward pass over the same
  sorted batches, and against llm_mri's padded-to-longest batching;
* ``bench.nrag``: NRAG build and metric time and memory;
* ``bench.store``: Neo4j write throughput and GDS metric time (uses ``NEO4J_URI``
  when set, else starts a disposable local server).

It prints one markdown report; ``--write-docs`` also writes it to
``docs/benchmarks.md`` with the machine and the date.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))
        mem = f"{mem_kb / 2**20:.0f} GiB"
    except (OSError, StopIteration):
        mem = "unknown memory"
    import torch

    return f"{os.cpu_count()} cores ({cpu}), {mem}, torch {torch.__version__} with {torch.get_num_threads()} threads"


def _extract_section(quick: bool) -> str:
    from bench import extract

    r = extract.run(n_texts=256 if quick else 1024, repeats=2 if quick else 3)
    return "\n".join([
        f"`python -m bench.extract --n-texts {r['n_texts']}`: MiniLM-L6, batch {r['batch_size']}, "
        f"tokens per text min {r['tokens']['min']} / median {r['tokens']['median']:.0f} / max {r['tokens']['max']}.",
        "", "| approach | seconds | texts/s |", "|---|---:|---:|",
        *(f"| {k} | {r['seconds'][k]:.2f} | {r['texts_per_s'][k]:.0f} |" for k in ("ours", "bare", "llm_mri")),
        "", f"Ours / bare forward: **{r['ratio_ours_over_bare']:.3f}x** (target <= 1.15x); "
        f"llm_mri's padded batching / ours: **{r['ratio_llm_mri_over_ours']:.2f}x**.",
    ])


def _nrag_section(quick: bool) -> str:
    from bench import nrag

    r = nrag.run(n_texts=2000 if quick else 10_000)
    lines = ["`python -m bench.nrag`", "", "| case | regions | edge rows | build s | build peak MiB | metrics s |",
             "|---|---:|---:|---:|---:|---:|"]
    for key, case in r.items():
        if isinstance(case, dict):
            lines.append(f"| {key} | {case.get('n_regions', '')} | {case.get('n_edge_rows', '')} | "
                         f"{case.get('build_s', '')} | {case.get('build_peak_mib', '')} | {case.get('metrics_s', '')} |")
    lines += ["", *(f"- {k}: {v} s" for k, v in r.items() if k.startswith("reduce_"))]
    return "\n".join(lines)


def _store_section(quick: bool) -> str:
    from bench import store
    from llm_mri_graphdb.server import LocalNeo4j, free_port
    from llm_mri_graphdb.settings import neo4j_settings

    kwargs = {"n_layers": 8 if quick else 32, "repeats": 1 if quick else 2}
    settings = neo4j_settings()
    server = None
    if settings is None:
        server = LocalNeo4j(Path(tempfile.mkdtemp(prefix="bench-neo4j-")), bolt_port=free_port(),
                            http_port=free_port(), heap="2g")
        server.start()
        settings = server.settings()
    try:
        r = store.run(settings=settings, **kwargs)
    finally:
        if server is not None:
            server.stop()
    fresh = ", ".join(f"{x:,.0f}" for x in r["fresh_relationships_per_s"])
    return "\n".join([
        f"`python -m bench.store --layers {r['n_layers']}`: {r['n_layers']} layers x {r['gridsize']}x{r['gridsize']} "
        f"grid x {r['n_labels']} labels: {r['n_regions']:,} regions, {r['n_relationships']:,} relationships "
        f"({r['workers']} writer threads, {r['batch_size']:,} rows a batch).",
        "", f"- fresh writes: **{fresh} relationships/s** (target >= 50,000/s)",
        f"- the first write after the server started (JVM not yet warm): {r['cold_relationships_per_s']:,.0f} relationships/s",
        f"- replacing a stored run (also deletes the old version): {r['replace_relationships_per_s']:,.0f} relationships/s",
        f"- read back: {r['read_s']:.2f} s, equal to what was written: {r['read_equal']}",
        f"- GDS metrics, all labels: {r['gds_metrics_all_s']:.2f} s; one label: {r['gds_metrics_one_label_s']:.2f} s; "
        f"in-process metrics, all labels: {r['in_process_metrics_all_s']:.2f} s",
    ])


def _compare_section(quick: bool) -> str:
    from bench import compare

    if not compare.REFERENCE_PYTHON.exists():
        return "Not run: `bash bench/reference/setup.sh` installs llm_mri 0.2.1 into its own venv first."
    sizes = (150, 600) if quick else (150, 600, 2400)
    r = compare.run(sizes=sizes, repeats=1 if quick else 2)
    return "\n".join([
        f"`python -m bench.compare --sizes {' '.join(map(str, sizes))}`: MiniLM-L6, PCA 2 components, gridsize 10, "
        "first-token pooling, hidden states; each tool in a fresh process, runs alternated, best of the repeats.",
        "", compare.markdown(r),
    ])


SECTIONS = {"compare": ("Against llm_mri 0.2.1 and the bare forward pass", _compare_section),
            "extract": ("Extraction", _extract_section),
            "nrag": ("NRAG construction and metrics", _nrag_section),
            "store": ("Neo4j store and GDS metrics", _store_section)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Run the benchmarks, print markdown.")
    parser.add_argument("which", nargs="*", default=["all"], help=f"all, or some of {list(SECTIONS)}")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, one repeat (a smoke run)")
    parser.add_argument("--write-docs", action="store_true", help="also write docs/benchmarks.md")
    args = parser.parse_args()
    names = list(SECTIONS) if "all" in args.which else args.which
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        parser.error(f"unknown benchmark {unknown}; choose from {list(SECTIONS)} or all")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parts = [f"# Benchmarks\n\nRun on {dt.date.today().isoformat()}: {_machine()}.",
             f"Command: `python -m bench {' '.join(args.which)}{' --quick' if args.quick else ''}`. "
             "Times are wall seconds on a shared machine; compare ratios within one table, not across runs."]
    for name in names:
        title, section = SECTIONS[name]
        parts.append(f"## {title}\n\n{section(args.quick)}")
    report = "\n\n".join(parts) + "\n"
    print(report)
    if args.write_docs:
        (ROOT / "docs").mkdir(exist_ok=True)
        (ROOT / "docs" / "benchmarks.md").write_text(report)


if __name__ == "__main__":
    main()
