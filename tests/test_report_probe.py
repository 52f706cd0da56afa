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
    expected = f"{full['mean'][1]:.3f} [{full['low'][1]:.3f}, {min(full['high'][1], 1.0):.3f}]"  # cut at 1
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


def test_report_probing_cuts_intervals_at_the_score_range_and_tabulates_the_evaluation(scan):
    nrag, curve = scan
    curve = {**curve, "full": {**curve["full"], "high": [1.0147, *curve["full"]["high"][1:]]}}
    evaluation = {
        "delta": {"accuracy": {"per_split": [0.1, 0.0, 0.05], "mean": 0.05}},
        "full": {"accuracy": {"per_split": [1.0, 0.9, 0.95], "mean": 0.95}},
        "reduced": {"accuracy": {"per_split": [0.9, 0.9, 0.9], "mean": 0.9}},
    }
    page = build_report(nrag, {"all": compute_metrics(nrag)}, probe={"curve": curve, "evaluation": evaluation})
    section = page[page.index("<h2 id='probing'>") :]
    full = curve["full"]
    assert f"<td>0</td><td>{full['mean'][0]:.3f} [{full['low'][0]:.3f}, 1.000]</td>" in section
    assert "1.015" not in section
    # layer 0's control row carries the same interval as the table's layer 0
    assert f"<td>layer 0 (embeddings), full</td><td>{full['mean'][0]:.3f} [{full['low'][0]:.3f}, 1.000]</td>" in section
    assert (
        "<td>accuracy</td><td>0.950 [0.900, 1.000]</td><td>0.900 [0.900, 0.900]</td>"
        "<td>+0.050 [+0.000, +0.100]</td>" in section
    )
    assert "over 3 stratified random train/test splits" in section


def test_report_statistics_puts_label_pairs_in_their_own_table(scan):
    import pandas as pd

    nrag, _ = scan
    rows = [
        ("n_regions", "neg", 5.0, 4.0, 6.0, 2.0, 0.01),
        ("n_regions", "pos", 7.0, 6.0, 8.0, float("nan"), 0.5),
        ("js_divergence_mean", "neg|pos", 0.25, 0.125, 0.5, 3.0, 0.04),
    ]
    stats = pd.DataFrame(rows, columns=["metric", "label", "value", "ci_low", "ci_high", "z", "p_adjusted"])
    page = build_report(nrag, {"all": compute_metrics(nrag)}, statistics=stats)
    section = page[page.index("<h2 id='statistics'>") : page.index("<h2 id='activation-regions'>")]
    assert section.count("<table") == 2
    assert "<td>n_regions</td><td>5 [4, 6] z=+2.0 &#9733;</td><td>7 [6, 8]</td>" in section
    assert "<th>neg|pos</th>" in section
    assert "<td>js_divergence_mean</td><td>0.25 [0.125, 0.5] z=+3.0 &#9733;</td>" in section
