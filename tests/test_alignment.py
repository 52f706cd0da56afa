"""CKA and AMI properties, against hand-computed values and an independent Gram-form CKA."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.stats import ortho_group

from llm_mri_graphdb.analysis.alignment import ami_matrix, best_matches, cka_matrix, linear_cka
from llm_mri_graphdb.analysis.mutual_info import adjusted_mutual_info


def _gram_cka(x, y):
    """CKA through double-centred Gram matrices (HSIC form), independent of the feature form."""

    def centred_gram(z):
        k = z @ z.T
        return k - k.mean(axis=0) - k.mean(axis=1)[:, None] + k.mean()

    kx, ky = centred_gram(x), centred_gram(y)
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
    assert m[1, 2] == pytest.approx(linear_cka(layers[1], layers[2]), abs=1e-6)
    assert best_matches(m).tolist() == [0, 1, 2, 3]


def _offset_layers(rng, n, widths, offset):
    """Float32 layers sharing a low-rank signal, with a large common offset and different scales."""
    base = rng.standard_normal((n, 16))
    return [
        (base @ rng.standard_normal((16, w)) * (1 + k) + rng.standard_normal((n, w)) * (0.3 + k) + offset).astype(
            np.float32
        )
        for k, w in enumerate(widths)
    ]


def test_cka_matrix_float32_products_match_the_float64_reference():
    rng = np.random.default_rng(5)
    a = _offset_layers(rng, 1500, [48, 32, 40], offset=50.0)
    b = _offset_layers(rng, 1500, [24, 56], offset=-20.0)
    mixed = cka_matrix(a, b, block_rows=600)
    exact = cka_matrix(a, b, block_rows=600, dtype=np.float64)
    reference = np.array([[_gram_cka(x.astype(np.float64), y.astype(np.float64)) for y in b] for x in a])
    assert_allclose(exact, reference, rtol=1e-10)
    assert_allclose(mixed, exact, atol=1e-6)
    assert np.all((mixed > 0.0) & (mixed < 1.0))


def test_cka_matrix_groups_and_blocks_do_not_change_the_value():
    rng = np.random.default_rng(6)
    a, b = _offset_layers(rng, 500, [12, 20, 8], 3.0), _offset_layers(rng, 500, [16, 4], -1.0)
    one = cka_matrix(a, b, dtype=np.float64)
    grouped = cka_matrix(a, b, dtype=np.float64, block_rows=77, max_cross=20 * 16)  # 3 x 2 groups, 7 blocks
    assert_allclose(grouped, one, rtol=1e-12)
    assert_allclose(grouped[2, 1], linear_cka(a[2], b[1]), rtol=1e-12)


def test_cka_matrix_rejects_bad_dtype_and_empty_runs():
    x = np.zeros((4, 2))
    with pytest.raises(ValueError, match="dtype must be float32 or float64; got float16"):
        cka_matrix([x], [x], dtype=np.float16)
    with pytest.raises(ValueError, match="must each hold at least one layer"):
        cka_matrix([], [x])


@pytest.mark.parametrize("seed", range(6))
def test_adjusted_mutual_info_equals_sklearn_on_random_partitions(seed):
    from sklearn.metrics import adjusted_mutual_info_score

    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 3000))
    x = rng.integers(0, int(rng.integers(2, 40)), n)
    y = (x * 7 + rng.integers(0, 3, n)) % int(rng.integers(2, 300)) if seed % 2 else rng.integers(0, 50, n)
    assert adjusted_mutual_info(x, y) == pytest.approx(adjusted_mutual_info_score(x, y), abs=1e-10)


@pytest.mark.parametrize(
    "case",
    ["one cluster", "both one cluster", "all singletons", "singletons both", "identical", "relabelled", "two items"],
)
def test_adjusted_mutual_info_equals_sklearn_on_edge_cases(case):
    from sklearn.metrics import adjusted_mutual_info_score

    rng = np.random.default_rng(0)
    n = 500
    other = rng.integers(0, 6, n)
    x, y = {
        "one cluster": (np.zeros(n, int), other),
        "both one cluster": (np.zeros(n, int), np.full(n, 3)),
        "all singletons": (np.arange(n), other),
        "singletons both": (np.arange(n), np.arange(n)[::-1]),
        "identical": (other, other),
        "relabelled": (other, (other + 3) * 10),
        "two items": (np.array([0, 1]), np.array([1, 1])),
    }[case]
    assert adjusted_mutual_info(x, y) == pytest.approx(adjusted_mutual_info_score(x, y), abs=1e-10)


def test_ami_matrix_equals_sklearn_on_every_layer_pair():
    from sklearn.metrics import adjusted_mutual_info_score

    rng = np.random.default_rng(9)
    a = rng.integers(0, 30, (2000, 4)) * np.array([1, 2, 1, 5])
    b = np.column_stack([a[:, 0] // 3, rng.integers(0, 80, 2000), a[:, 3] % 7])
    expected = [[adjusted_mutual_info_score(a[:, i], b[:, j]) for j in range(3)] for i in range(4)]
    assert_allclose(ami_matrix(a, b), expected, atol=1e-10)


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
    from llm_mri_graphdb.analysis.alignment import align_layers
    from llm_mri_graphdb.nrag.model import build_nrag_from_reduced

    rng = np.random.default_rng(11)
    labels = rng.integers(0, 2, 50)
    layers = [rng.standard_normal((50, 6)) + labels[:, None] * k for k in range(3)]
    nrag = build_nrag_from_reduced([x[:, :2] for x in layers], labels, ["x", "y"], gridsize=3)
    result = align_layers(layers, layers, nrag.paths, nrag.paths, names=("m", "m"))
    assert_allclose(np.diag(result.cka), 1.0, atol=1e-12)
    assert_allclose(np.diag(result.ami), 1.0, atol=1e-12)
    assert result.best("cka") == [0, 1, 2] and result.best("ami") == [0, 1, 2]
    with pytest.raises(ValueError, match="measure must be one of .*; got 'cca'"):
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
