"""The interactive NVL view: regions, example texts and flows as neo4j-viz nodes and relationships."""

from __future__ import annotations

import html as html_lib
import json
import re

import numpy as np
import pytest

from llm_mri_graphdb.nrag.model import build_nrag_from_reduced
from llm_mri_graphdb.report.interactive import (
    PALETTE,
    framed,
    graph_view,
    region_example_ids,
    region_examples,
    view_html,
)


@pytest.fixture(scope="module")
def tiny():
    # layer 0: texts 0, 1 in cell (0, 0), text 2 in (1, 1); layer 1: text 0 in (0, 0), texts 1, 2 in (1, 1)
    layer0 = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    layer1 = np.array([[0.0, 0.0], [1.0, 1.0], [1.0, 1.0]])
    nrag = build_nrag_from_reduced([layer0, layer1], [0, 0, 1], ["a", "b"], gridsize=2)
    paths = np.array([[0, 2], [0, 3], [1, 3]])  # region indices: 0_0_0, 0_1_1, 1_0_0, 1_1_1
    return nrag, paths


def test_region_examples_lists_texts_of_each_region_in_corpus_order(tiny):
    nrag, paths = tiny
    assert nrag.region_ids() == ["0_0_0", "0_1_1", "1_0_0", "1_1_1"]
    examples = region_examples(paths, ["first", "second   text", "third"], nrag.n_regions, max_examples=5)
    assert examples == [["first", "second text"], ["third"], ["first"], ["second text", "third"]]
    assert region_examples(paths, ["x" * 10] * 3, 4, max_examples=1, max_chars=4)[0] == ["xxx\u2026"]


def test_graph_view_nodes_carry_counts_examples_and_flows(tiny):
    nrag, paths = tiny
    examples = region_examples(paths, ["t0", "t1", "t2"], nrag.n_regions)
    view = graph_view(nrag, examples=examples)
    nodes = {n.id: n for n in view.nodes}
    assert set(nodes) == {"0_0_0", "0_1_1", "1_0_0", "1_1_1"}
    assert nodes["1_1_1"].properties["a"] == 1 and nodes["1_1_1"].properties["b"] == 1
    assert nodes["1_1_1"].properties["example 2"] == "t2"
    assert nodes["0_0_0"].properties["dominant label"] == "a"
    flows = {(r.source, r.target): r.properties["weight"] for r in view.relationships}
    assert flows == {("0_0_0", "1_0_0"): 1.0, ("0_0_0", "1_1_1"): 1.0, ("0_1_1", "1_1_1"): 1.0}
    html = view_html(view)
    assert "neo4j-viz-data" in html and "t2" in html and "<script src=" not in html  # inlined, offline


def test_graph_view_rejects_unknown_colouring(tiny):
    with pytest.raises(ValueError, match="color_by must be one of"):
        graph_view(tiny[0], color_by="community")


def test_region_example_ids_per_region_and_label(tiny):
    nrag, paths = tiny
    ids = region_example_ids(paths, nrag.n_regions, text_labels=[0, 0, 1], n_labels=2)
    # entry region * 2 + label: 0_0_0/a holds texts 0, 1; 0_1_1/b text 2; 1_0_0/a text 0; 1_1_1/a 1 and /b 2
    assert ids == [[0, 1], [], [], [2], [0], [], [1], [2]]
    assert region_example_ids(paths, nrag.n_regions, max_examples=1) == [[0], [2], [0], [1]]
    with pytest.raises(ValueError, match=r"text_labels must hold one label index below n_labels=2 per text \(3\)"):
        region_example_ids(paths, nrag.n_regions, text_labels=[0, 2, 1], n_labels=2)


def test_graph_view_layers_shows_a_subset_side_by_side(tiny):
    nrag, paths = tiny
    examples = region_examples(paths, ["t0", "t1", "t2"], nrag.n_regions)
    last = graph_view(nrag, examples=examples, layers=[-1])
    assert [n.id for n in last.nodes] == ["1_0_0", "1_1_1"]
    assert last.relationships == []  # flows leave layer 0, which is not shown
    # the shown layer takes the first panel: 1_0_0 sits where 0_0_0 sits in the full view
    full = {n.id: (n.x, n.y) for n in graph_view(nrag).nodes}
    assert (last.nodes[0].x, last.nodes[0].y) == full["0_0_0"]
    assert last.nodes[1].properties["example 1"] == "t1"
    assert [n.id for n in graph_view(nrag, layers=[1, 0]).nodes] == list(full)
    with pytest.raises(ValueError, match=r"layers must be indices in -2\.\.1 \(one or more\); got \[2\]"):
        graph_view(nrag, layers=[2])


def test_view_html_inlines_hover_script_and_escapes_texts(tiny):
    nrag, paths = tiny
    hostile = "</script><script>window.pwned=1</script>"
    examples = region_examples(paths, [hostile, "t1", "t2"], nrag.n_regions)
    page = view_html(graph_view(nrag, examples=examples))
    meta = json.loads(re.search(r'<script type="application/json" id="llm-mri-view">(.*?)</script>', page).group(1))
    assert meta == {
        "labels": ["a", "b"],
        "palette": list(PALETTE),
        "maxExamples": 5,
        "colorBy": "label",
        "hasExamples": True,
    }
    assert "window.llmMriView" in page and hostile not in page and "<script src=" not in page
    assert '"colorBy": "layer"' in view_html(graph_view(nrag, color_by="layer"))
    assert "llm-mri-view" not in view_html(graph_view(nrag), hover=False)


def test_graph_view_max_relationships_keeps_the_strongest_flows():
    # layer 0 -> 1 flows: (0,0)->(0,0) three texts, (1,1)->(1,1) two, (0,0)->(1,1) one
    layer0 = np.array([[0.0, 0.0]] * 4 + [[1.0, 1.0]] * 2)
    layer1 = np.array([[0.0, 0.0]] * 3 + [[1.0, 1.0]] * 3)
    nrag = build_nrag_from_reduced([layer0, layer1], [0, 1, 0, 1, 0, 1], ["a", "b"], gridsize=2)
    flows = lambda view: [(r.source, r.target, r.properties["weight"]) for r in view.relationships]  # noqa: E731
    assert flows(graph_view(nrag, max_relationships=2)) == [("0_0_0", "1_0_0", 3.0), ("0_1_1", "1_1_1", 2.0)]
    assert (
        len(graph_view(nrag).relationships) == 3
        and graph_view(nrag, min_weight=1.0).relationships[0].id == "0_0_0>1_0_0"
    )


def test_graph_view_shows_itself_framed_with_hover_in_a_notebook(tiny):
    from neo4j_viz import VisualizationGraph

    view = graph_view(tiny[0])
    assert isinstance(view, VisualizationGraph)
    frame = view._repr_html_()
    doc = re.fullmatch(r"<iframe title='NRAG' style='[^']*' srcdoc='([^']*)'></iframe>", frame, re.S).group(1)
    assert 'id="llm-mri-view"' in html_lib.unescape(doc) and "neo4j-viz-data" in doc
    assert framed("a'b&amp;c", title="x<y") == (
        "<iframe title='x&lt;y' style='width:100%;height:640px;border:1px "
        "solid #eee' srcdoc='a&#39;b&amp;amp;c'></iframe>"
    )
