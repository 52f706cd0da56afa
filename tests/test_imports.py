"""Imports are cheap and have no side effects: no heavy module, no matplotlib backend change.

Each check runs in a fresh interpreter (``sys.modules`` of the test process
already holds everything), started in the repository root with
``MPLBACKEND`` unset. No timing is asserted here; ``python -m bench.imports``
measures the times.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "transformers", "neo4j", "matplotlib")


def _run(code: str) -> dict:
    """Run ``code`` in a fresh python in the repository root; it prints one JSON object last."""
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


_LOADED = f"import json, sys; print(json.dumps({{'loaded': [m for m in {HEAVY!r} if m in sys.modules]}}))"


@pytest.mark.parametrize(
    "statement",
    [
        "import llm_mri_graphdb",
        "from llm_mri_graphdb import ActivationAreas, Evaluation, Metrics",
        "from llm_mri_graphdb.dimensionality_reduction import PCA, SVD, UMAP",
        "import llm_mri_graphdb.store; from llm_mri_graphdb.store import MemoryStore",
        "import llm_mri_graphdb.report",
        "import llm_mri_graphdb.cli",
    ],
)
def test_import_loads_no_heavy_module(statement):
    assert _run(f"{statement}\n{_LOADED}") == {"loaded": []}


def test_cli_help_loads_no_heavy_module():
    out = _run(f"""
        import contextlib, io
        from llm_mri_graphdb.cli import main
        with contextlib.redirect_stdout(io.StringIO()) as buf:
            code = main(["--help"])
        assert code == 0 and "Usage: llm-mri-graphdb" in buf.getvalue(), buf.getvalue()
        {_LOADED}
    """)
    assert out == {"loaded": []}


def test_facade_and_report_keep_the_users_backend():
    """A backend chosen before the import (here ``svg``) is the backend after importing and rendering."""
    out = _run("""
        import json, sys
        import matplotlib
        matplotlib.use("svg")
        before = matplotlib.get_backend()
        from llm_mri_graphdb import ActivationAreas
        import llm_mri_graphdb.facade, llm_mri_graphdb.report, llm_mri_graphdb.viz
        after_import = matplotlib.get_backend()
        from llm_mri_graphdb.analysis.metrics import compute_metrics
        from llm_mri_graphdb.report import build_report
        from llm_mri_graphdb.testing import random_grid_nrag
        nrag = random_grid_nrag(0, n_texts=12, n_layers=3, label_names=("a", "b"))
        page = build_report(nrag, {"all": compute_metrics(nrag)})
        print(json.dumps({"before": before, "after_import": after_import, "after_report": matplotlib.get_backend(),
                          "images": page.count("data:image/png;base64,"),
                          "pyplot": "matplotlib.pyplot" in sys.modules}))
    """)
    # the scan figure, one heatmap per label and the layered graph, rendered without pyplot
    assert out == {"before": "svg", "after_import": "svg", "after_report": "svg", "images": 4, "pyplot": False}


def test_rendering_a_report_leaves_an_unset_backend_unresolved():
    """With no backend chosen, matplotlib still picks its own after a report: we never set one."""
    out = _run("""
        import json
        import matplotlib
        from matplotlib import rcsetup
        from llm_mri_graphdb.analysis.metrics import compute_metrics
        from llm_mri_graphdb.report import build_report
        from llm_mri_graphdb.testing import random_grid_nrag
        nrag = random_grid_nrag(1, n_texts=12, n_layers=3, label_names=("a", "b"))
        build_report(nrag, {"all": compute_metrics(nrag)})
        unset = matplotlib.rcParams._get("backend") is rcsetup._auto_backend_sentinel
        print(json.dumps({"unset": unset}))
    """)
    assert out == {"unset": True}
