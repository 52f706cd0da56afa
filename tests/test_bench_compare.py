"""bench.compare traces a metric difference with llm_mri to the texts its grid puts in another cell."""

from __future__ import annotations

import numpy as np
import pytest

from bench.compare import _cells_said, cell_differences

pytestmark = pytest.mark.unit


def _layer(seed: int, n: int = 200) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, 2))


def test_a_text_a_hair_across_an_edge_is_found_with_its_distance():
    ours = _layer(0)
    low, high = ours[:, 0].min(), ours[:, 0].max()
    edge = low + 3 * (high - low) / 10  # the edge between cells 2 and 3 of axis 0
    ours[5, 0] = edge - 1e-9 * (high - low)  # cell 2, 1e-8 bin widths from the edge
    theirs = ours.copy()
    theirs[5, 0] = edge + 1e-9 * (high - low)  # cell 3
    found = cell_differences([ours, ours], [ours, theirs], 10)
    assert [(layer, n) for layer, n, _ in found] == [(1, 1)]
    assert 0.5e-8 < found[0][2] < 2e-8
    assert _cells_said(found).startswith("layer 1: 1 text in a neighbouring cell, at most 1e-08 bin widths")


def test_a_mirrored_axis_moves_no_text():
    ours = _layer(1)
    assert cell_differences([ours], [ours * np.array([-1.0, 1.0])], 10) == []
    assert _cells_said([]).startswith("every text is in the same cell")


def test_a_constant_layer_moves_no_text_and_warns_nothing():
    constant = np.ones((50, 2))
    with np.errstate(all="raise"):
        assert cell_differences([constant], [constant.copy()], 10) == []
