"""How a benchmark writes its own part of the docs.

The protocol
    A bench module (``bench/NAME.py``) exposes three names:

    ``NAME``
        its name on the command line (``python -m bench NAME``) and in the
        markers of the docs;
    ``TITLE``
        the heading its block gets when the docs have no block for it yet;
    ``section(quick: bool = False) -> str``
        runs the bench and returns its markdown: the command with its sizes,
        then its tables. ``quick=True`` runs tiny shapes (a smoke run of the
        code, seconds to a minute, never written to the docs). It raises
        :class:`Unavailable` with one line when this machine cannot run it
        (no CUDA, no reference venv); the docs then keep their old block.

    ``bench/__main__.py`` lists the modules in ``BENCHES``; adding a bench is
    one entry there.

The docs
    A bench's figures live between ``<!-- bench:NAME -->`` and
    ``<!-- /bench:NAME -->`` in any of :data:`DOC_FILES`; :func:`write`
    replaces what lies between them (in every file that has them) with
    :func:`provenance` (the command, date, CPU model, cores, memory, load and
    the "machine shared" note) and the section, and leaves everything outside
    the markers as it was. A bench with no block anywhere gets one appended to
    ``docs/benchmarks.md`` under ``## TITLE``. So no figure in a marked block is
    typed by hand, and no prose outside the blocks carries one.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC_FILES = ("docs/benchmarks.md", "docs/alignment.md", "docs/precision.md", "README.md")
DEFAULT_DOC = "docs/benchmarks.md"
_BLOCK = re.compile(r"(<!-- bench:(?P<name>[\w.-]+) -->\n)(?P<body>.*?)(<!-- /bench:(?P=name) -->)", re.S)

__all__ = ["Unavailable", "Table", "cpu_model", "machine", "provenance", "blocks", "tables", "replace_block", "write"]


class Unavailable(RuntimeError):
    """This machine cannot run the bench (one line saying what is missing and how to get it)."""


@dataclass(frozen=True)
class Table:
    """A markdown table: its header cells and its rows of cells."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (``platform.processor()`` elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> str:
    """Cores, CPU model, memory and torch's thread count, in one phrase."""
    try:
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        memory = f"{mem_kb / 2**20:.0f} GiB"
    except (OSError, StopIteration):
        memory = "unknown memory"
    torch = sys.modules.get("torch")  # threads only when a bench loaded torch; never imported for this line
    threads = f", torch {torch.__version__} with {torch.get_num_threads()} threads" if torch else ""
    return f"{os.cpu_count()} cores ({cpu_model()}), {memory}{threads}"


def provenance(command: str, *, load_average: float | None = None, now: dt.datetime | None = None) -> str:
    """The line that opens every block: command, date, machine, load, and the shared-machine note."""
    now = now or dt.datetime.now(dt.timezone.utc)
    load = os.getloadavg()[0] if load_average is None else load_average
    return (
        f"`{command}`, {now:%Y-%m-%d %H:%M} UTC, {machine()}; load average {load:.1f} at the start. "
        "The machine was shared with other jobs: compare ratios within one table, not seconds across runs."
    )


def blocks(text: str) -> dict[str, str]:
    """Every marked block of ``text``: ``{name: what lies between its markers}``."""
    return {m["name"]: m["body"] for m in _BLOCK.finditer(text)}


def tables(markdown: str) -> list[Table]:
    """Every table of ``markdown``; raises ``ValueError`` when a row's cell count differs from its header's."""
    found: list[Table] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        if (
            lines[i].startswith("|")
            and i + 1 < len(lines)
            and re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", lines[i + 1].strip())
        ):
            header = _cells(lines[i])
            if len(_cells(lines[i + 1])) != len(header):
                raise ValueError(
                    f"table at line {i + 1}: the rule has {len(_cells(lines[i + 1]))} cells, the header {len(header)}"
                )
            rows = []
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                row = _cells(lines[i])
                if len(row) != len(header):
                    raise ValueError(
                        f"table row at line {i + 1} has {len(row)} cells, its header {len(header)}: {lines[i]!r}"
                    )
                rows.append(row)
                i += 1
            found.append(Table(header, tuple(rows)))
        else:
            i += 1
    return found


def _cells(line: str) -> tuple[str, ...]:
    inner = line.strip()[1:-1] if line.strip().endswith("|") else line.strip()[1:]
    return tuple(cell.strip() for cell in re.split(r"(?<!\\)\|", inner))


def replace_block(text: str, name: str, body: str) -> tuple[str, int]:
    """``text`` with every block ``name`` holding ``body``; also the number of blocks replaced."""
    body = body.rstrip("\n") + "\n"
    found = [m for m in _BLOCK.finditer(text) if m["name"] == name]
    return _BLOCK.sub(lambda m: m[1] + body + m[4] if m["name"] == name else m[0], text), len(found)


def write(sections: dict[str, tuple[str, str]], *, root: Path = ROOT, files: tuple[str, ...] = DOC_FILES) -> list[str]:
    """Put each ``{name: (title, block body)}`` into its blocks; append the ones no file has to the default doc.

    Returns the ``file: name`` pairs written. Text outside the blocks is kept.
    """
    written, placed = [], set()
    for rel in files:
        path = root / rel
        if not path.exists():
            continue
        text = original = path.read_text()
        for name, (_, body) in sections.items():
            text, n = replace_block(text, name, body)
            if n:
                placed.add(name)
                written.append(f"{rel}: {name}")
        if text != original:
            path.write_text(text)
    missing = [name for name in sections if name not in placed]
    if missing:
        path = root / DEFAULT_DOC
        path.parent.mkdir(parents=True, exist_ok=True)
        text = path.read_text() if path.exists() else "# Benchmarks\n"
        for name in missing:
            title, body = sections[name]
            text = (
                text.rstrip("\n")
                + f"\n\n## {title}\n\n<!-- bench:{name} -->\n{body.rstrip()}\n<!-- /bench:{name} -->\n"
            )
            written.append(f"{DEFAULT_DOC}: {name} (new block)")
        path.write_text(text)
    return written
