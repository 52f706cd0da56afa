"""``python -m bench all --quick`` end to end: every bench runs on tiny shapes and prints a block that parses.

It starts its own disposable Neo4j servers (``store``, ``gds``), loads the packaged models and Ray, so it is
``slow``; it takes several minutes on 2 cores. ``compare`` needs llm_mri 0.2.1's own venv
(``bash bench/reference/setup.sh``): without it the run must say so in one line naming that command.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench import docs
from bench.__main__ import BENCHES

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REFERENCE = docs.ROOT / "bench" / "reference" / ".venv" / "bin" / "python"


def test_bench_all_quick_prints_every_block_and_writes_nothing():
    before = {rel: (docs.ROOT / rel).read_text() for rel in docs.DOC_FILES}
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "all", "--quick"],
        cwd=docs.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert proc.returncode == 0, proc.stderr[-5000:]
    blocks = docs.blocks(proc.stdout)
    expected = [name for name in BENCHES if name != "compare" or REFERENCE.exists()]
    assert list(blocks) == expected, proc.stderr[-3000:]
    if not REFERENCE.exists():
        assert (
            "Not run: compare: bench/reference/.venv/bin/python is missing: run `bash bench/reference/setup.sh`"
            in proc.stdout
        )
    for name, body in blocks.items():
        assert body.startswith(f"`python -m bench {name} --quick`, "), name
        assert docs.cpu_model() in body.splitlines()[0] and "shared with other jobs" in body.splitlines()[0], name
        tables = docs.tables(body)  # raises on a ragged row
        assert tables and all(t.rows for t in tables), name
        assert "nan" not in body.replace("nan_ok", "").lower().split(), name
    # a few figures that must hold whatever the load: the read-back and the byte-for-byte resume
    assert "| True |" in blocks["scale"]  # the resumed cache entry equals the uninterrupted one
    assert {rel: (docs.ROOT / rel).read_text() for rel in docs.DOC_FILES} == before  # --quick writes nothing
