"""Texts in a scan: NRAG.paths against cells computed independently, region_texts and text_path."""

import numpy as np
import pandas as pd
import pytest

from llm_mri_graphdb.nrag.model import build_nrag_from_reduced
from llm_mri_graphdb.nrag.texts import region_members, region_texts, text_path

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def scan():
    rng = np.random.default_rng(5)
    n, layers = 40, 3
    labels = rng.integers(0, 2, n)
    reduced = [rng.standard_normal((n, 2)) + labels[:, None] * (layer + 1) for layer in range(layers)]
    nrag = build_nrag_from_reduced(reduced, labels, ["neg", "pos"], gridsize=4)
    # the cell of every text, independently: pandas.cut per axis, as llm_mri bins
    cells = [
        [f"{layer}_{x}_{y}" for x, y in zip(pd.cut(r[:, 0], 4, labels=False), pd.cut(r[:, 1], 4, labels=False))]
        for layer, r in enumerate(reduced)
    ]
    texts = [f"text {i}" for i in range(n)]
    return nrag, cells, texts, labels


def test_paths_name_each_texts_cell_at_every_layer(scan):
    nrag, cells, _, _ = scan
    ids = np.array(nrag.region_ids())
    assert nrag.paths.shape == (40, 3)
    for layer in range(3):
        assert ids[nrag.paths[:, layer]].tolist() == cells[layer]


def test_paths_agree_with_region_counts(scan):
    nrag, _, _, labels = scan
    for r in range(nrag.n_regions):
        members = region_members(nrag, nrag.region_ids()[r])
        assert np.bincount(labels[members], minlength=2).tolist() == nrag.region_counts[r].tolist()


def test_region_texts_are_exactly_the_texts_in_that_cell(scan):
    nrag, cells, texts, labels = scan
    region = cells[2][0]
    want = [i for i in range(40) if cells[2][i] == region]
    rows = region_texts(nrag, region, texts, labels)
    assert [r["index"] for r in rows] == want
    assert [r["text"] for r in rows] == [texts[i] for i in want]
    only_pos = region_texts(nrag, region, texts, labels, label="pos")
    assert [r["index"] for r in only_pos] == [i for i in want if labels[i] == 1]
    assert [r["index"] for r in region_texts(nrag, region, texts, labels, limit=1, offset=1)] == want[1:2]


def test_text_path_follows_the_cells_with_label_mix(scan):
    nrag, cells, _, _ = scan
    path = text_path(nrag, 7)
    assert [step["region"] for step in path] == [cells[layer][7] for layer in range(3)]
    r = nrag.region_ids().index(path[1]["region"])
    assert (path[1]["neg"], path[1]["pos"], path[1]["total"]) == (
        *nrag.region_counts[r].tolist(),
        int(nrag.region_counts[r].sum()),
    )


def test_texts_errors_name_the_fix(scan):
    nrag, _, texts, labels = scan
    with pytest.raises(ValueError, match="region must be an occupied region such as '0_"):
        region_texts(nrag, "9_9_9", texts, labels)
    with pytest.raises(
        ValueError, match=r"index must be a text index in \[0, 39\] \(or -40 to -1, counted from the end\); got 40"
    ):
        text_path(nrag, 40)
    with pytest.raises(ValueError, match="holds no text paths"):
        text_path(nrag.select_labels("pos"), 0)
    with pytest.raises(ValueError, match="must hold the 40 texts"):
        region_texts(nrag, nrag.region_ids()[0], texts[:3], labels)


def test_nrag_rejects_paths_that_skip_a_layer(scan):
    nrag, _, _, _ = scan
    import dataclasses

    bad = nrag.paths.copy()
    bad[0, 1] = bad[0, 0]  # a layer-0 region in the layer-1 column
    with pytest.raises(ValueError, match="in column l, regions of layer l"):
        dataclasses.replace(nrag, paths=bad)
