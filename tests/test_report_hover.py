"""The report in headless Chromium with the network off: hovering a region or a heatmap cell shows its texts.

Needs Chromium (``/usr/bin/chromium``, or ``$CHROMIUM``) and the ``playwright`` package; without them the
test fails, never skips. Screenshots land in ``/tmp/report_hover_graph.png`` and
``/tmp/report_hover_heatmap.png`` for a look.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from llm_mri_graphdb.interactive import PALETTE
from llm_mri_graphdb.metrics import compute_metrics
from llm_mri_graphdb.nrag import build_nrag_from_reduced
from llm_mri_graphdb.report import write_report

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = Path("/tmp")

# 12 texts, 6 "pos" then 6 "neg", gridsize 3 (coordinates 0, 1, 2 fall in cells 0, 1, 2).
# Last layer: texts 0..6 share cell (1, 1), texts 7..10 cell (2, 2), text 11 cell (0, 0).
HOSTILE = '<img src=x onerror="window.pwned=1"> & "double" \'single\' &amp;'
TEXTS = ["the film was a joy", "a warm, clever story", HOSTILE, "long " * 60, "great acting throughout",
         "I loved every minute", "dull and far too long", "a waste of time", "flat characters",
         "the plot goes nowhere", "I walked out", "never again"]
LABELS = [0] * 6 + [1] * 6


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    spread = np.array([[i % 3, (i // 3) % 3] for i in range(12)], dtype=float)
    middle = np.array([[i % 3, i % 2 + 1] for i in range(12)], dtype=float)
    last = np.array([[1, 1]] * 7 + [[2, 2]] * 4 + [[0, 0]], dtype=float)
    nrag = build_nrag_from_reduced([spread, middle, last], LABELS, ["pos", "neg"], gridsize=3)
    path = tmp_path_factory.mktemp("report") / "report.html"
    write_report(path, nrag, {"all": compute_metrics(nrag)}, texts=TEXTS, text_labels=LABELS)
    return path


def _browser(playwright):
    assert Path(CHROMIUM).is_file(), f"Chromium is missing at {CHROMIUM}: install it (apt-get install chromium) or set $CHROMIUM."
    return playwright.chromium.launch(executable_path=CHROMIUM, args=["--host-resolver-rules=MAP * ~NOTFOUND"])


def test_report_hover_shows_region_and_cell_texts_offline(report):
    from playwright.sync_api import sync_playwright

    attempted: list[str] = []

    def only_files(route):
        url = route.request.url
        if url.startswith(("file:", "data:", "about:", "blob:")):
            route.continue_()
        else:
            attempted.append(url)
            route.abort()

    with sync_playwright() as p:
        browser = _browser(p)
        try:
            context = browser.new_context(viewport={"width": 1200, "height": 900}, offline=True)
            context.route("**/*", only_files)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(report.as_uri())

            # the graph: region 2_1_1 holds texts 0..6; its tooltip lists the first five, in corpus order
            iframe = page.locator("iframe[title=NRAG]")
            iframe.scroll_into_view_if_needed()
            frame = next(f for f in page.frames if f.url == "about:srcdoc")
            frame.wait_for_function("window.llmMriView && window.llmMriView.screenPosition('2_1_1')", timeout=15000)
            pos = frame.evaluate("window.llmMriView.screenPosition('2_1_1')")
            box = iframe.bounding_box()
            page.mouse.move(box["x"] + pos["x"], box["y"] + pos["y"])
            tip = frame.locator(".llm-mri-tip")
            tip.wait_for(state="visible", timeout=5000)
            text = tip.inner_text()
            assert "Region 2_1_1" in text and "layer 2 \u00b7 7 texts \u00b7 mostly pos" in text
            items = tip.locator("li").all_inner_texts()
            assert items == [TEXTS[0], TEXTS[1], HOSTILE, "long " * 39 + "long\u2026", TEXTS[4]]
            assert tip.locator("img").count() == 0 and frame.evaluate("window.pwned") is None  # escaped, inert
            page.screenshot(path=str(SHOTS / "report_hover_graph.png"), clip=box)

            # the colour switch recolours through NVL: by layer, region 2_1_1 takes the third colour
            frame.locator("button[data-by=layer]").click()
            colour = frame.evaluate("window.llmMriView.nvl().getNodeById('2_1_1').color")
            assert colour.lower() == PALETTE[2].lower()

            # a heatmap cell: label "neg" at layer 2, cell (1, 1) holds text 6 only; "pos" there holds 0..5
            cell = page.locator("svg[data-layer='2'][data-label='neg'] rect[data-r='2_1_1']")
            cell.scroll_into_view_if_needed()
            cell.hover()
            heat_tip = page.locator("body > .llm-mri-tip")
            heat_tip.wait_for(state="visible", timeout=5000)
            assert "Layer 2 \u00b7 cell (1, 1)" in heat_tip.inner_text()
            assert "neg: 1 text in this cell" in heat_tip.inner_text()
            assert heat_tip.locator("li").all_inner_texts() == [TEXTS[6]]
            page.locator("svg[data-layer='2'][data-label='pos'] rect[data-r='2_1_1']").hover()
            assert heat_tip.locator("li").all_inner_texts() == [TEXTS[0], TEXTS[1], HOSTILE,
                                                                "long " * 39 + "long\u2026", TEXTS[4]]
            page.screenshot(path=str(SHOTS / "report_hover_heatmap.png"))
            assert errors == []
            assert attempted == []  # nothing but the file itself was requested
            # the recorder does see a request that leaves the machine
            page.evaluate("fetch('http://example.com/probe').catch(() => null)")
            page.wait_for_timeout(200)
            assert attempted == ["http://example.com/probe"]
        finally:
            browser.close()
