"""The report's interactive heatmaps: one SVG per label and layer, each cell pointing at its example texts."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from llm_mri_graphdb.analysis.metrics import compute_metrics
from llm_mri_graphdb.nrag.model import build_nrag_from_reduced
from llm_mri_graphdb.report.heatmap import heatmap_panels
from llm_mri_graphdb.report.scan import build_report
from llm_mri_graphdb.testing import random_components_nrag

TEXTS = ["t0", "t1", "t2"]


@pytest.fixture(scope="module")
def tiny():
    # layer 0: texts 0, 1 (label a) in cell (0, 0), text 2 (b) in (1, 1); layer 1: text 0 in (0, 0), 1 and 2 in (1, 1)
    layer0 = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    layer1 = np.array([[0.0, 0.0], [1.0, 1.0], [1.0, 1.0]])
    return build_nrag_from_reduced([layer0, layer1], [0, 0, 1], ["a", "b"], gridsize=2)


def _cells(fragment: str) -> tuple[dict[tuple[str, str], dict[str, str]], dict]:
    """``{(region, label index): rect attributes}`` and the JSON block."""
    rects = {}
    for attrs in re.findall(r"<rect ([^>]*data-r=[^>]*)/>", fragment):
        a = dict(re.findall(r'([\w-]+)="([^"]*)"', attrs))
        rects[(a["data-r"], a["data-label"])] = a
    data = json.loads(re.search(r"id='llm-mri-heatmaps'>(.*?)</script>", fragment).group(1))
    return rects, data


def test_heatmap_panels_cells_point_at_texts_of_their_label(tiny):
    rects, data = _cells(heatmap_panels(tiny, texts=TEXTS, text_labels=[0, 0, 1]))
    # one rect per non-empty (region, label): 0_0_0/a=2, 0_1_1/b=1, 1_0_0/a=1, 1_1_1/a=1, 1_1_1/b=1
    assert set(rects) == {("0_0_0", "0"), ("0_1_1", "1"), ("1_0_0", "0"), ("1_1_1", "0"), ("1_1_1", "1")}
    examples = {key: [data["texts"][int(i)] for i in a["data-t"].split()] for key, a in rects.items()}
    assert examples == {
        ("0_0_0", "0"): ["t0", "t1"],
        ("0_1_1", "1"): ["t2"],
        ("1_0_0", "0"): ["t0"],
        ("1_1_1", "0"): ["t1"],
        ("1_1_1", "1"): ["t2"],
    }
    assert data["perLabel"] is True and data["counts"]["1_1_1"] == [1, 1] and data["labels"] == ["a", "b"]
    # y grows upward: cell (0, 0) is the bottom row of a 104-pixel panel of 2 x 2 cells
    assert (rects[("0_0_0", "0")]["x"], rects[("0_0_0", "0")]["y"]) == ("0.00", "52.00")
    assert (rects[("0_1_1", "1")]["x"], rects[("0_1_1", "1")]["y"]) == ("52.00", "0.00")


def test_heatmap_panels_without_labels_lists_every_text_of_the_cell(tiny):
    rects, data = _cells(heatmap_panels(tiny, texts=TEXTS))
    assert data["perLabel"] is False
    assert [data["texts"][int(i)] for i in rects[("1_1_1", "1")]["data-t"].split()] == ["t1", "t2"]
    rects, data = _cells(heatmap_panels(tiny))
    assert data["texts"] == [] and rects[("0_0_0", "0")]["data-t"] == ""


def test_heatmap_panels_escapes_texts_and_rejects_bad_input(tiny):
    fragment = heatmap_panels(tiny, texts=["</script><b>x</b>", "t1", "t2"])
    assert (
        "</script><b>" not in fragment
        and json.loads(re.search(r"id='llm-mri-heatmaps'>(.*?)</script>", fragment).group(1))["texts"][0]
        == "</script><b>x</b>"
    )
    with pytest.raises(ValueError, match=r"texts must hold one text per row of the scan's paths \(3\); got 2"):
        heatmap_panels(tiny, texts=["t0", "t1"])
    with pytest.raises(ValueError, match="interactive heatmaps need a grid"):
        heatmap_panels(random_components_nrag(0))


def test_report_has_interactive_heatmaps_for_grid_scans_only(tiny):
    page = build_report(tiny, {"all": compute_metrics(tiny)})
    assert "id='interactive-heatmaps'" in page and "example texts come with runs stored with their texts" in page
    assert page.count("<svg") == 4  # 2 labels x 2 layers
    components = random_components_nrag(0)
    assert "llm-mri-heatmaps" not in build_report(components, {"all": compute_metrics(components)})
