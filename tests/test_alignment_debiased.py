"""Debiased linear CKA, its permutation null and best-match stability: the values a reviewer checks."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from llm_mri_graphdb.analysis.alignment import (
    align_layers,
    cka_matrices,
    debiased_linear_cka,
    dominance_notes,
    linear_cka,
)
from llm_mri_graphdb.analysis.alignment_null import cka_null_and_stability


def _hsic_unbiased(k, g):
    """Song et al. (2012), eq. 5, written out on explicit n x n Gram matrices (no shortcut)."""
    n = k.shape[0]
    kt, lt = k.copy(), g.copy()
    np.fill_diagonal(kt, 0.0)
    np.fill_diagonal(lt, 0.0)
    one = np.ones(n)
    return (
        np.trace(kt @ lt)
        + (one @ kt @ one) * (one @ lt @ one) / ((n - 1) * (n - 2))
        - 2.0 / (n - 2) * (one @ kt @ lt @ one)
    ) / (n * (n - 3))


def _reference(x, y):
    k, g = x @ x.T, y @ y.T  # uncentred on purpose: the estimator does not depend on the centring
    return _hsic_unbiased(k, g) / np.sqrt(_hsic_unbiased(k, k) * _hsic_unbiased(g, g))


@pytest.fixture(scope="module")
def gaussians():
    rng = np.random.default_rng(0)  # any seed: p is uniform under independence (5 % of seeds fall below 0.05)
    return rng.standard_normal((300, 384)), rng.standard_normal((300, 576))


def test_independent_gaussians_plain_cka_is_biased_debiased_is_zero_and_not_above_null(gaussians):
    x, y = gaussians
    assert linear_cka(x, y) == pytest.approx(0.6, abs=0.03)
    assert abs(debiased_linear_cka(x, y)) < 0.05
    null = cka_null_and_stability([x], [y], np.array([0]), n_bootstrap=0, random_state=0)
    assert null.p_value[0, 0] > 0.05
    assert null.n_rows == 300


def test_debiased_cka_of_identical_inputs_is_one(gaussians):
    x, _ = gaussians
    assert debiased_linear_cka(x, x) == pytest.approx(1.0, abs=1e-12)
    assert debiased_linear_cka(x, 3.0 * x - 2.0) == pytest.approx(1.0, abs=1e-12)
    same = cka_matrices([x, x[:, :50]], [x, x[:, :50]])
    assert_allclose(np.diag(same.cka_debiased), 1.0, atol=0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_debiased_cka_equals_the_explicit_unbiased_hsic_formula(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((70, 9)) * 2.0 + 7.0
    y = x[:, :4] @ rng.standard_normal((4, 6)) + rng.standard_normal((70, 6)) + 3.0
    assert debiased_linear_cka(x, y) == pytest.approx(_reference(x, y), abs=1e-10)
    matrices = cka_matrices([x, y], [y, x[:, :3]], dtype=np.float64, block_rows=16)  # blocks do not change it
    expected = [[_reference(a, b) for b in (y, x[:, :3])] for a in (x, y)]
    assert_allclose(matrices.cka_debiased, expected, atol=1e-10)


def test_gram_null_observed_value_equals_the_feature_form(gaussians):
    from llm_mri_graphdb.analysis.alignment_null import _debiased, _grams

    x, y = gaussians
    rows = np.arange(300)
    assert _debiased(_grams([x], rows), _grams([y[:, :40]], rows))[0, 0] == pytest.approx(
        debiased_linear_cka(x, y[:, :40]), abs=1e-5
    )  # float32 Gram entries


def test_related_layers_are_above_their_null_and_their_best_match_is_stable():
    rng = np.random.default_rng(3)
    latent = rng.standard_normal((200, 5))
    a = [latent @ rng.standard_normal((5, 30)) + rng.standard_normal((200, 30)) * s for s in (0.5, 5.0)]
    b = [rng.standard_normal((200, 20)), latent @ rng.standard_normal((5, 20)) + rng.standard_normal((200, 20))]
    result = align_layers(a, b, random_state=1)
    assert result.best("cka_debiased") == [1, 1]
    assert result.cka_null_p[0, 1] == pytest.approx(1 / 101)  # no permutation reaches it
    assert result.cka_null_p[0, 0] > 0.05  # b's layer 0 is noise
    assert result.stability[0] == 1.0
    assert result.null["n_permutations"] == 100 and result.null["n_rows"] == 200


def test_null_and_stability_are_seeded_and_subsample_large_corpora(gaussians):
    x, y = gaussians
    first = cka_null_and_stability([x], [y], np.array([0]), max_rows=100, random_state=5)
    again = cka_null_and_stability([x], [y], np.array([0]), max_rows=100, random_state=5)
    assert first.n_rows == 100
    assert_allclose(first.p_value, again.p_value)
    assert_allclose(first.null_max, again.null_max)
    with pytest.raises(ValueError, match="n_permutations must be an int >= 0; got -1"):
        cka_null_and_stability([x], [y], np.array([0]), n_permutations=-1)


def test_align_layers_warns_when_one_coordinate_holds_most_of_a_layers_variance():
    rng = np.random.default_rng(0)
    quiet = rng.standard_normal((100, 8))
    loud = quiet.copy()
    loud[:, 0] *= 20.0  # one coordinate: 400 / (400 + 7) of the variance
    with pytest.warns(UserWarning, match=r"smol layer 1: one coordinate holds 98 % of the variance.*position 0"):
        result = align_layers([quiet], [quiet, loud], names=("mini", "smol"), n_permutations=0, n_bootstrap=0)
    assert len(result.notes) == 1 and result.cka_null_p is None
    assert dominance_notes([0.2, 0.6, 0.7, 0.1, 0.9], "m")[0].startswith(
        "m layers 1-2, 4: one coordinate holds 60-90 %"
    )


def test_permutation_p_values_of_independent_inputs_are_about_uniform():
    p = [
        cka_null_and_stability(
            [np.random.default_rng(s).standard_normal((60, 10))],
            [np.random.default_rng(1000 + s).standard_normal((60, 7))],
            np.array([0]),
            n_permutations=50,
            n_bootstrap=0,
            random_state=s,
        ).p_value[0, 0]
        for s in range(40)
    ]
    assert 0.35 < np.mean(p) < 0.65
    assert np.mean(np.asarray(p) <= 0.1) <= 0.25


def test_null_and_stability_equal_the_explicit_formula_on_each_permutation_and_resample():
    """The packed-triangle permutations and the threaded halves give what the written-out estimator gives
    on ``y[perm]`` and on each resample's distinct texts, with the same seeded draws in the same order."""
    rng = np.random.default_rng(11)
    latent = rng.standard_normal((40, 3))
    a = [latent @ rng.standard_normal((3, 6)) + rng.standard_normal((40, 6)), rng.standard_normal((40, 5))]
    b = [rng.standard_normal((40, 4)), latent @ rng.standard_normal((3, 7)) + 2.0 * rng.standard_normal((40, 7))]
    observed = np.array([[_reference(x, y) for y in b] for x in a])
    best = np.argmax(observed, axis=1)
    got = cka_null_and_stability(a, b, best, n_permutations=30, n_bootstrap=20, random_state=4)

    draws = np.random.default_rng(4)
    perms = [draws.permutation(40) for _ in range(30)]
    picks = [np.unique(draws.integers(0, 40, size=40)) for _ in range(20)]
    null = np.array([[[_reference(x, y[perm]) for y in b] for x in a] for perm in perms])
    assert_allclose(got.p_value, (1 + (null >= observed - 1e-9).sum(axis=0)) / 31)
    assert_allclose(got.null_max, null.max(axis=0), atol=1e-5)  # float32 Gram entries
    kept = [[np.argmax([_reference(x[pick], y[pick]) for y in b]) for x in a] for pick in picks]
    assert_allclose(got.stability, (np.array(kept) == best).mean(axis=0))
    assert 0 < got.p_value.min() < got.p_value.max() <= 1 and 0 < got.stability.min() <= 1
