"""The report's Probing section: the curve with its bands and controls, and the tables with intervals,
checked in the HTML and in headless Chromium (system browser, as tests/test_report_hover.py)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from bench.report_hover import offline_page
from llm_mri_graphdb.analysis.metrics import compute_metrics
from llm_mri_graphdb.analysis.probing import probe_curve
from llm_mri_graphdb.nrag.model import build_nrag_from_reduced
from llm_mri_graphdb.report.scan import build_report, write_report


@pytest.fixture(scope="module")
def scan():
    rng = np.random.default_rng(0)
    y = np.arange(60) % 2
    layers = [rng.standard_normal((60, 5)), rng.standard_normal((60, 5)) + 1.5 * y[:, None]]
    nrag = build_nrag_from_reduced([x[:, :2] for x in layers], y, ["neg", "pos"], gridsize=3)
    curve = probe_curve(layers, y, n_repeats=2, mdl=True, texts=[f"w{label} t{i}" for i, label in enumerate(y)])
    return nrag, curve


def test_report_probing_section_lists_intervals_controls_and_selectivity(scan):
    nrag, curve = scan
    page = build_report(nrag, {"all": compute_metrics(nrag)}, probe={"curve": curve})
    section = page[page.index("<h2 id='probing'>") :]
    assert "Linear probe" not in section  # the title lives in the figure, which is an image
    assert section.count("data:image/png") == 1
    full = curve["full"]
    expected = f"{full['mean'][1]:.3f} [{full['low'][1]:.3f}, {full['high'][1]:.3f}]"
    assert f"<td>1</td><td>{expected}</td>" in section  # layer 1: accuracy [95 % interval]
    assert f"{full['selectivity_mean'][1]:.3f} [{full['selectivity_low'][1]:.3f}" in section
    assert "<td>majority class</td><td>0.500 [0.500, 0.500]</td>" in section
    assert "bag of words" in section and "MDL codelength, layer 1" in section
    assert "corrected resampled t (Nadeau &amp; Bengio 2003)" in section


def test_report_probing_section_renders_in_headless_chromium(scan, tmp_path):
    nrag, curve = scan
    path = write_report(tmp_path / "report.html", nrag, {"all": compute_metrics(nrag)}, probe={"curve": curve})
    attempted: list[str] = []
    with offline_page(path, attempted=attempted) as page:
        page.locator("#probing").scroll_into_view_if_needed()
        image = page.locator("#probing ~ img").first
        box = image.bounding_box()
        assert box is not None and box["width"] > 500 and box["height"] > 250  # the curve, drawn and decoded
        assert page.evaluate("(img) => img.naturalWidth > 0", image.element_handle())
        rows = page.locator("#probing ~ table").first.locator("tr")
        assert rows.count() == 1 + 2  # header and two layers
        assert re.match(r"0\.\d{3} \[", rows.nth(2).locator("td").nth(1).inner_text())
        page.screenshot(path=str(tmp_path / "probing.png"), full_page=True)
    assert attempted == []  # nothing fetched from the network
