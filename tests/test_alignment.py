"""CKA and AMI properties, against hand-computed values and an independent Gram-form CKA."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.stats import ortho_group

from llm_mri_graphdb.alignment import ami_matrix, best_matches, cka_matrix, linear_cka


def _gram_cka(x, y):
    """CKA through centred Gram matrices (HSIC form), independent of the feature form."""
    n = x.shape[0]
    h = np.eye(n) - np.ones((n, n)) / n
    kx, ky = h @ x @ x.T @ h, h @ y @ y.T @ h
    return np.sum(kx * ky) / (np.linalg.norm(kx) * np.linalg.norm(ky))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    return rng.standard_normal((60, 5)), rng.standard_normal((60, 3))


def test_linear_cka_identical_inputs_is_one(data):
    x, _ = data
    assert linear_cka(x, x) == pytest.approx(1.0, abs=1e-12)


def test_linear_cka_equals_gram_form(data):
    x, y = data
    assert linear_cka(x, y) == pytest.approx(_gram_cka(x, y), rel=1e-10)


def test_linear_cka_invariant_to_orthogonal_transform_and_isotropic_scaling(data):
    x, y = data
    q = ortho_group.rvs(5, random_state=1)
    assert linear_cka(x @ q * 3.5 + 2.0, y) == pytest.approx(linear_cka(x, y), rel=1e-10)


def test_linear_cka_not_invariant_to_invertible_linear_map(data):
    x, y = data
    a = np.diag([1.0, 10.0, 0.1, 5.0, 1.0])  # invertible, not orthogonal up to scale
    assert abs(linear_cka(x @ a, y) - linear_cka(x, y)) > 1e-3


def test_linear_cka_hand_computed():
    # centred: x = [-1, 0, 1], y = [-1, -1, 2]; for 1-D inputs CKA = r^2 = 3^2 / (2 * 6) = 0.75
    x = np.array([[0.0], [1.0], [2.0]])
    y = np.array([[0.0], [0.0], [3.0]])
    r = np.corrcoef(x[:, 0], y[:, 0])[0, 1]
    assert linear_cka(x, y) == pytest.approx(r * r, rel=1e-12)
    assert linear_cka(x, y) == pytest.approx(0.75, rel=1e-12)


def test_linear_cka_blocks_do_not_change_the_value(data):
    x, y = data
    assert linear_cka(x, y, block_rows=7) == pytest.approx(linear_cka(x, y, block_rows=4096), rel=1e-12)


def test_linear_cka_constant_input_is_nan(data):
    x, _ = data
    assert np.isnan(linear_cka(x, np.ones((60, 2))))


def test_linear_cka_rejects_different_texts(data):
    x, y = data
    with pytest.raises(ValueError, match="same texts; got 60 and 59 rows"):
        linear_cka(x, y[:59])


def test_cka_matrix_of_a_run_with_itself_has_unit_diagonal():
    rng = np.random.default_rng(3)
    layers = [rng.standard_normal((40, 6)) for _ in range(4)]
    m = cka_matrix(layers, layers, block_rows=16)
    assert_allclose(np.diag(m), 1.0, atol=1e-12)
    assert_allclose(m, m.T, atol=1e-12)
    assert m[1, 2] == pytest.approx(linear_cka(layers[1], layers[2]), rel=1e-12)
    assert best_matches(m).tolist() == [0, 1, 2, 3]


def test_ami_matrix_diagonal_and_hand_computed():
    paths = np.array([[0, 0, 5], [0, 0, 5], [1, 1, 5], [1, 1, 6], [2, 2, 6], [2, 2, 6]])
    m = ami_matrix(paths, paths)
    assert_allclose(np.diag(m)[:2], 1.0)
    assert m[0, 1] == pytest.approx(1.0)  # same partition under other ids
    # a constant layer against itself: sklearn defines AMI of two single-cluster labelings as 1
    relabelled = np.array([[7], [7], [3], [3], [9], [9]])
    assert ami_matrix(paths[:, :1], relabelled)[0, 0] == pytest.approx(1.0)


def test_ami_matrix_rejects_different_texts():
    with pytest.raises(ValueError, match="same texts"):
        ami_matrix(np.zeros((4, 2), int), np.zeros((3, 2), int))


def test_align_layers_of_a_scan_with_itself_is_one_on_the_diagonal_and_best_matches_itself():
    from llm_mri_graphdb.alignment import align_layers
    from llm_mri_graphdb.nrag import build_nrag_from_reduced

    rng = np.random.default_rng(11)
    labels = rng.integers(0, 2, 50)
    layers = [rng.standard_normal((50, 6)) + labels[:, None] * k for k in range(3)]
    nrag = build_nrag_from_reduced([x[:, :2] for x in layers], labels, ["x", "y"], gridsize=3)
    result = align_layers(layers, layers, nrag.paths, nrag.paths, names=("m", "m"))
    assert_allclose(np.diag(result.cka), 1.0, atol=1e-12)
    assert_allclose(np.diag(result.ami), 1.0, atol=1e-12)
    assert result.best("cka") == [0, 1, 2] and result.best("ami") == [0, 1, 2]
    with pytest.raises(ValueError, match="measure must be 'cka' or 'ami'; got 'cca'"):
        result.best("cca")
    only_ami = align_layers(None, None, nrag.paths, nrag.paths)
    assert only_ami.cka is None
    with pytest.raises(ValueError, match="this alignment has no cka"):
        only_ami.best("cka")
    with pytest.raises(ValueError, match="needs the activations of both scans"):
        align_layers(layers, None)


def test_plot_alignment_boxes_the_best_layer_of_b_for_each_layer_of_a():
    from llm_mri_graphdb.viz import plot_alignment

    matrix = np.array([[0.9, 0.2, 0.1], [0.3, 0.4, 0.8]])
    ax = plot_alignment(matrix, measure="CKA", names=("bert", "llama"))
    boxes = ax.collections[0].get_offsets()
    assert boxes.tolist() == [[0.0, 0.0], [2.0, 1.0]]
    assert ax.get_xlabel() == "layer of llama" and ax.get_title() == "CKA: bert vs llama"
    with pytest.raises(ValueError, match="matrix must be 2-D"):
        plot_alignment(np.zeros(3))
