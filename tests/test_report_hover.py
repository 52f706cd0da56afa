"""The report in headless Chromium with the network off: hovering a region or a heatmap cell shows its texts.

Needs Chromium (``/usr/bin/chromium``, or ``$CHROMIUM``) and the ``playwright`` package; without them the
test fails, never skips. The browser steps are ``bench.report_hover``'s, which a reader runs on a real
report. Screenshots land in ``/tmp/report_hover_graph.png`` and ``/tmp/report_hover_heatmap.png`` for a look.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.report_hover import graph_frame, hover_cell, hover_region, offline_page
from llm_mri_graphdb.analysis.metrics import compute_metrics
from llm_mri_graphdb.nrag.model import build_nrag_from_reduced
from llm_mri_graphdb.report.interactive import PALETTE
from llm_mri_graphdb.report.scan import write_report

SHOTS = Path("/tmp")

# 12 texts, 6 "pos" then 6 "neg", gridsize 3 (coordinates 0, 1, 2 fall in cells 0, 1, 2).
# Last layer: texts 0..6 share cell (1, 1), texts 7..10 cell (2, 2), text 11 cell (0, 0).
HOSTILE = '<img src=x onerror="window.pwned=1"> & "double" \'single\' &amp;'
TEXTS = [
    "the film was a joy",
    "a warm, clever story",
    HOSTILE,
    "long " * 60,
    "great acting throughout",
    "I loved every minute",
    "dull and far too long",
    "a waste of time",
    "flat characters",
    "the plot goes nowhere",
    "I walked out",
    "never again",
]
LABELS = [0] * 6 + [1] * 6
FIRST_FIVE = [TEXTS[0], TEXTS[1], HOSTILE, "long " * 39 + "long\u2026", TEXTS[4]]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    spread = np.array([[i % 3, (i // 3) % 3] for i in range(12)], dtype=float)
    middle = np.array([[i % 3, i % 2 + 1] for i in range(12)], dtype=float)
    last = np.array([[1, 1]] * 7 + [[2, 2]] * 4 + [[0, 0]], dtype=float)
    nrag = build_nrag_from_reduced([spread, middle, last], LABELS, ["pos", "neg"], gridsize=3)
    path = tmp_path_factory.mktemp("report") / "report.html"
    write_report(path, nrag, {"all": compute_metrics(nrag)}, texts=TEXTS, text_labels=LABELS)
    return path


def test_report_hover_shows_region_and_cell_texts_offline(report):
    attempted: list[str] = []
    with offline_page(report, attempted=attempted) as page:
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))

        # the graph: region 2_1_1 holds texts 0..6; its tooltip lists the first five, in corpus order
        tip = hover_region(page, "2_1_1", SHOTS / "report_hover_graph.png")
        text = tip.inner_text()
        assert "Region 2_1_1" in text and "layer 2 \u00b7 7 texts \u00b7 mostly pos" in text
        assert tip.locator("li").all_inner_texts() == FIRST_FIVE
        frame = graph_frame(page, "2_1_1")
        assert tip.locator("img").count() == 0 and frame.evaluate("window.pwned") is None  # escaped, inert

        # the colour switch recolours through NVL: by layer, region 2_1_1 takes the third colour
        frame.locator("button[data-by=layer]").click()
        assert frame.evaluate("window.llmMriView.nvl().getNodeById('2_1_1').color").lower() == PALETTE[2].lower()

        # a heatmap cell: label "neg" at layer 2, cell (1, 1) holds text 6 only; "pos" there holds 0..5
        heat_tip = hover_cell(page, 2, "neg", "2_1_1")
        assert "Layer 2 \u00b7 cell (1, 1)" in heat_tip.inner_text()
        assert "neg: 1 text in this cell" in heat_tip.inner_text()
        assert heat_tip.locator("li").all_inner_texts() == [TEXTS[6]]
        heat_tip = hover_cell(page, 2, "pos", "2_1_1", SHOTS / "report_hover_heatmap.png")
        assert heat_tip.locator("li").all_inner_texts() == FIRST_FIVE
        assert errors == []
        assert attempted == []  # nothing but the file itself was requested
        # the recorder does see a request that leaves the machine
        page.evaluate("fetch('http://example.com/probe').catch(() => null)")
        page.wait_for_timeout(200)
        assert attempted == ["http://example.com/probe"]


def test_report_hover_needs_chromium(report, monkeypatch):
    import bench.report_hover

    monkeypatch.setattr(bench.report_hover, "CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(FileNotFoundError, match="Chromium is missing at /nonexistent/chromium: install it"):
        with offline_page(report, attempted=[]):
            pass
