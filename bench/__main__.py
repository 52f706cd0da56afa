"""Run the benchmarks and let each write its own block of the docs.

::

    python -m bench all --write-docs      # every bench; rewrites every marked block
    python -m bench extract --write-docs  # one bench, one block
    python -m bench all --quick           # tiny shapes: checks every bench runs, writes nothing

Each module named in :data:`BENCHES` follows the protocol of :mod:`bench.docs`
(``NAME``, ``TITLE``, ``section(quick)``). The report printed is every
section with its provenance line (command, date, CPU model, load, the
shared-machine note); ``--write-docs`` puts each into its
``<!-- bench:NAME -->`` blocks in ``docs/benchmarks.md``, ``docs/alignment.md``
and ``README.md`` and leaves the rest of those files alone. A bench this
machine cannot run (no CUDA for ``gpu``, no reference venv for ``compare``)
says why and keeps its old block. ``--quick`` cannot be combined with
``--write-docs``: tiny shapes are a smoke test, not figures.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time

from bench import docs

# Order of the run and of new blocks. Neo4j benches start a disposable server unless NEO4J_URI is set.
BENCHES = (
    "compare",
    "extract",
    "nrag",
    "store",
    "gds",
    "imports",
    "scale",
    "alignment",
    "alignment_models",
    "report_size",
    "viz_probe",
    "probe",
    "statistics",
    "coverage",
    "precision",
    "gpu",
)


def _module(name: str):
    return importlib.import_module(f"bench.{name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Run the benchmarks, print markdown.")
    parser.add_argument("which", nargs="*", default=["all"], help=f"all, or some of {list(BENCHES)}")
    parser.add_argument("--quick", action="store_true", help="tiny shapes: a smoke run that writes nothing")
    parser.add_argument("--write-docs", action="store_true", help="write each bench's marked block in the docs")
    args = parser.parse_args(argv)
    names = list(BENCHES) if "all" in args.which else args.which
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark {unknown}; choose from {list(BENCHES)} or all")
    if args.quick and args.write_docs:
        parser.error("--quick runs tiny shapes that are no figures for the docs; drop --quick or --write-docs")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    sections: dict[str, tuple[str, str]] = {}
    skipped: dict[str, str] = {}
    for name in names:
        module = _module(name)
        command = f"python -m bench {name}{' --quick' if args.quick else ''}"
        load, start = os.getloadavg()[0], time.perf_counter()
        print(f"[bench] {name}: running", file=sys.stderr, flush=True)
        try:
            body = module.section(quick=args.quick)
        except docs.Unavailable as why:
            skipped[name] = str(why)
            print(f"[bench] {name}: not run: {why}", file=sys.stderr, flush=True)
            continue
        print(f"[bench] {name}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
        block = f"{docs.provenance(command, load_average=load)}\n\n{body.strip()}\n"
        sections[name] = (module.TITLE, block)
        print(f"## {module.TITLE}\n\n<!-- bench:{name} -->\n{block}<!-- /bench:{name} -->\n", flush=True)
    for name, why in skipped.items():
        print(f"Not run: {name}: {why}")
    if args.write_docs:
        for line in docs.write(sections):
            print(f"[bench] wrote {line}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
