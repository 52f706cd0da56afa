"""Import-time benchmark: how long the entry points take to import, and what they pull in.

Run ``python -m bench.imports`` from the repository root (``--repeats`` to
change the number of fresh processes per command, ``--check`` to exit 1 when a
target is missed). Every command runs in a fresh ``python -X importtime -c ...``
process, ``repeats`` times, interleaved with a ``python -c pass`` baseline in
the same run, so the table can be compared across loaded and idle machines by
its "over baseline" column. Targets (issue 10) are on the median wall time of
the whole process:

* ``import llm_mri_graphdb`` <= 0.3 s;
* ``from llm_mri_graphdb import ActivationAreas`` <= 1.0 s, loading none of
  torch, transformers, neo4j, matplotlib;
* ``llm-mri-graphdb --help`` <= 1.0 s (what the console script runs:
  ``llm_mri_graphdb.cli.main`` with ``--help``).

The "top imports" column lists the packages with the largest cumulative import
time in the median run (outermost import of each top-level package), leaving
out those that ``python -c pass`` imports as well (``site`` and its ``.pth``
hooks).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "transformers", "neo4j", "matplotlib", "sklearn", "datasets", "pandas", "scipy")
BASELINE = "pass"

__all__ = ["TARGETS", "Measurement", "measure", "run", "markdown", "section"]

NAME, TITLE = "imports", "Imports"


@dataclass(frozen=True)
class Target:
    name: str
    code: str
    limit_s: float | None


def _cli(*args: str) -> str:
    """What the ``llm-mri-graphdb`` console script runs, as ``-c`` code (the worktree first on sys.path)."""
    return (
        f"import sys; sys.argv = ['llm-mri-graphdb', *{list(args)!r}]; "
        "from llm_mri_graphdb.cli import main; sys.exit(main())"
    )


TARGETS = (
    Target("import llm_mri_graphdb", "import llm_mri_graphdb", 0.3),
    Target("from llm_mri_graphdb import ActivationAreas", "from llm_mri_graphdb import ActivationAreas", 1.0),
    Target("llm-mri-graphdb --help", _cli("--help"), 1.0),
    Target("llm-mri-graphdb scan --help", _cli("scan", "--help"), None),
    Target(
        "from llm_mri_graphdb.dimensionality_reduction import PCA",
        "from llm_mri_graphdb.dimensionality_reduction import PCA",
        None,
    ),
    Target("import llm_mri_graphdb.store", "import llm_mri_graphdb.store", None),
)


@dataclass
class Measurement:
    """Wall times of one command's fresh processes and the import profile of its median run."""

    name: str
    limit_s: float | None
    walls: list[float] = field(default_factory=list)
    profiles: list[dict[str, int]] = field(default_factory=list)

    @property
    def median_s(self) -> float:
        return statistics.median(self.walls)

    def median_profile(self) -> dict[str, int]:
        order = sorted(range(len(self.walls)), key=self.walls.__getitem__)
        return self.profiles[order[len(order) // 2]]


def _importtime(stderr: str) -> dict[str, int]:
    """Cumulative microseconds per module from ``-X importtime`` output (``name -> us``)."""
    out: dict[str, int] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = (part.strip() for part in line[len("import time:") :].split("|"))
        out[name] = max(out.get(name, 0), int(cumulative))
    return out


def measure(code: str, *, root: Path = ROOT) -> tuple[float, dict[str, int]]:
    """Wall seconds of one fresh ``python -X importtime -c code`` process run in ``root``, and its import profile."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=root, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"`python -c {code!r}` failed with exit code {proc.returncode}: {proc.stderr[-500:]}")
    return wall, _importtime(proc.stderr)


def run(
    repeats: int = 7, targets: tuple[Target, ...] = TARGETS, *, root: Path = ROOT
) -> tuple[Measurement, list[Measurement]]:
    """Measure the baseline and every target ``repeats`` times, interleaved round by round.

    ``root`` is the checkout whose package is imported (python runs there, so
    its ``llm_mri_graphdb`` comes first on ``sys.path``).
    """
    baseline = Measurement("python -c pass", None)
    results = [Measurement(t.name, t.limit_s) for t in targets]
    measure(BASELINE, root=root)  # warm the file cache once
    for _ in range(repeats):
        for m, code in [(baseline, BASELINE), *((r, t.code) for r, t in zip(results, targets))]:
            wall, profile = measure(code, root=root)
            m.walls.append(wall)
            m.profiles.append(profile)
    return baseline, results


def _top_packages(profile: dict[str, int], startup: set[str], n: int = 4) -> list[tuple[str, int]]:
    """Largest cumulative import per top-level package, leaving out our own and what ``pass`` imports too."""
    per_package: dict[str, int] = {}
    for name, us in profile.items():
        top = name.split(".")[0]
        if top == "llm_mri_graphdb" or top in startup:
            continue
        per_package[top] = max(per_package.get(top, 0), us)
    return sorted(per_package.items(), key=lambda kv: -kv[1])[:n]


def markdown(baseline: Measurement, results: list[Measurement]) -> str:
    """The results as a markdown table, one row per command, baseline first."""
    base = baseline.median_s
    startup = {name.split(".")[0] for profile in baseline.profiles for name in profile}
    lines = [
        f"Median of {len(baseline.walls)} fresh processes per command, `{Path(sys.executable).name}` "
        f"{sys.version.split()[0]}, baseline `python -c pass` = {base:.3f} s in the same run.",
        "",
        "| command | target | median wall (s) | over baseline (s) | x baseline | meets | heavy modules loaded "
        "| top imports (cumulative ms) |",
        "|---|---:|---:|---:|---:|:---:|---|---|",
    ]
    for m in results:
        profile = m.median_profile()
        heavy = [h for h in HEAVY if h in profile] or ["none"]
        top = ", ".join(f"{name} {us / 1000:.0f}" for name, us in _top_packages(profile, startup))
        limit = f"<= {m.limit_s:.1f} s" if m.limit_s is not None else "-"
        meets = "-" if m.limit_s is None else ("yes" if m.median_s <= m.limit_s else "**no**")
        lines.append(
            f"| `{m.name}` | {limit} | {m.median_s:.3f} | {m.median_s - base:.3f} | "
            f"{m.median_s / base:.1f} | {meets} | {', '.join(heavy)} | {top} |"
        )
    return "\n".join(lines)


def section(quick: bool = False) -> str:
    """The docs block (protocol of :mod:`bench.docs`): 7 fresh processes per command; ``quick``: 1."""
    repeats = 1 if quick else 7
    baseline, results = run(repeats)
    return f"`python -m bench.imports --repeats {repeats}`:\n\n{markdown(baseline, results)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.imports", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="fresh processes per command (default 7)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--root",
        type=Path,
        default=ROOT,
        help="checkout to measure, e.g. an older one for a before/after (default: this one)",
    )
    args = parser.parse_args(argv)
    baseline, results = run(args.repeats, root=args.root)
    print(f"Checkout: `{args.root.resolve()}`\n")
    print(markdown(baseline, results))
    missed = [m.name for m in results if m.limit_s is not None and m.median_s > m.limit_s]
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
