"""The synthetic NRAG factory shared by tests and benchmarks, checked by hand."""

import numpy as np
from numpy.testing import assert_array_equal

from llm_mri_graphdb.nrag.model import build_nrag_from_reduced
from llm_mri_graphdb.testing import nrag_from_paths, random_grid_nrag


def test_nrag_from_paths_counts_texts_per_cell_and_move():
    # t0 a: (0,0)->(1,1); t1 a: (0,0)->(1,1); t2 b: (0,0)->(0,1)
    g = nrag_from_paths([[(0, 0), (1, 1)], [(0, 0), (1, 1)], [(0, 0), (0, 1)]], [0, 0, 1], ["a", "b"])
    assert g.region_ids() == ["0_0_0", "1_0_1", "1_1_1"]
    assert_array_equal(g.region_counts, [[2, 1], [0, 1], [2, 0]])
    assert_array_equal(np.stack([g.edge_source, g.edge_target, g.edge_label]), [[0, 0], [1, 2], [1, 0]])
    assert_array_equal(g.edge_weight, [1.0, 2.0])


def test_nrag_from_paths_equals_the_builder_on_the_same_cells():
    # points at cell centres of a unit-spaced 3 x 3 grid: the builder cuts them into the same cells
    rng = np.random.default_rng(4)
    cells = rng.integers(0, 3, (30, 4, 2))
    cells[0, :, :] = 0
    cells[1, :, :] = 2  # every layer spans the full grid
    labels = np.arange(30) % 2
    reduced = [cells[:, layer, :] + 0.5 for layer in range(4)]
    built = build_nrag_from_reduced(reduced, labels, ["x", "y"], gridsize=3)
    ours = nrag_from_paths(cells, labels, ["x", "y"])
    assert ours.region_ids() == built.region_ids()
    assert_array_equal(ours.region_counts, built.region_counts)
    assert_array_equal(
        np.stack([ours.edge_source, ours.edge_target, ours.edge_label]),
        np.stack([built.edge_source, built.edge_target, built.edge_label]),
    )
    assert_array_equal(ours.edge_weight, built.edge_weight)


def test_random_grid_nrag_is_deterministic_per_seed():
    a, b, c = random_grid_nrag(3), random_grid_nrag(3), random_grid_nrag(4)
    assert a.equals(b) and a.run_id == b.run_id and a.run_id != c.run_id
    assert a.region_counts.sum() == 40 * 4 and a.edge_weight.sum() == 40 * 3
