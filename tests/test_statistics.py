"""Metric statistics: the vectorised resampling kernel against NRAG rebuilds, calibration, corrections, inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from llm_mri_graphdb.analysis.metrics import compute_metrics
from llm_mri_graphdb.analysis.resampling import _bootstraps, _observed, _Paths, _permutations
from llm_mri_graphdb.analysis.statistics import (
    CONTRAST_COLUMNS,
    STATISTIC_METRICS,
    STATISTICS_COLUMNS,
    adjust_p,
    metric_contrasts,
    metric_statistics,
    rebuild_from_paths,
    resample_metrics,
)
from llm_mri_graphdb.nrag.model import build_nrag_from_reduced

pytestmark = pytest.mark.unit


def random_nrag(seed: int, n: int = 90, n_layers: int = 5, gridsize: int = 4, n_labels: int = 3, spread: float = 0.0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_labels, n)
    labels[:n_labels] = np.arange(n_labels)
    layers = [rng.normal(size=(n, 2)) * (1 + spread * labels[:, None]) for _ in range(n_layers)]  # label c spreads more
    return build_nrag_from_reduced(layers, labels, [f"l{c}" for c in range(n_labels)], gridsize=gridsize)


def same(a: float, b: float) -> bool:
    return (np.isnan(a) and np.isnan(b)) or abs(a - b) <= 1e-12 * max(1.0, abs(b))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("scheme", ["observed", "permutation", "bootstrap"])
def test_resample_metrics_equal_compute_metrics_on_the_rebuilt_nrag(seed, scheme):
    nrag = random_nrag(seed, n=40 + 30 * seed, n_layers=2 + 2 * seed, gridsize=3 + seed)
    paths = _Paths(nrag, None)
    rng = np.random.default_rng(seed)
    occurrences = {
        "observed": _observed(paths.codes),
        "permutation": _permutations(paths.codes, 3, rng),
        "bootstrap": _bootstraps(paths.codes, 3, rng),
    }[scheme]
    values = resample_metrics(paths, occurrences, paths.names.__len__())
    for r, (texts, groups) in enumerate(occurrences):
        rebuilt = rebuild_from_paths(nrag, texts, groups, paths.names)
        whole = compute_metrics(rebuilt)
        for g, name in enumerate(paths.names):
            expected = compute_metrics(rebuilt, [name])
            bad = {
                m: (values[m][r, g], expected[m]) for m in STATISTIC_METRICS if not same(values[m][r, g], expected[m])
            }
            assert not bad, (scheme, r, name, bad)
        pairs = list(whole["js_divergence_mean"].values())
        assert_allclose(values["js_divergence_mean"][r], pairs, rtol=0, atol=1e-12)


def test_rebuild_of_the_observed_texts_is_the_nrag():
    nrag = random_nrag(3)
    paths = _Paths(nrag, None)
    rebuilt = rebuild_from_paths(nrag, np.arange(nrag.paths.shape[0]), nrag.text_labels, nrag.label_names)
    assert rebuilt.equals(nrag)
    assert paths.codes.tolist() == nrag.text_labels.tolist()


def test_metric_statistics_values_are_compute_metrics_per_label():
    nrag = random_nrag(4, n=120)
    frame = metric_statistics(nrag, n_permutations=20, n_bootstrap=20)
    assert tuple(frame.columns) == STATISTICS_COLUMNS
    for name in nrag.label_names:
        expected = compute_metrics(nrag, [name])
        rows = frame[frame.label == name].set_index("metric")
        assert list(rows.index) == list(STATISTIC_METRICS)
        for metric in STATISTIC_METRICS:
            assert same(rows.at[metric, "value"], expected[metric]), metric
    js = frame[frame.metric == "js_divergence_mean"].set_index("label")["value"]
    assert_allclose(js.to_numpy(), list(compute_metrics(nrag)["js_divergence_mean"].values()), atol=1e-12)
    assert js.index.tolist() == ["l0|l1", "l0|l2", "l1|l2"]


def test_metric_statistics_is_seeded_and_the_null_does_not_depend_on_the_bootstrap():
    nrag = random_nrag(5)
    a = metric_statistics(nrag, n_permutations=30, n_bootstrap=30, seed=7)
    b = metric_statistics(nrag, n_permutations=30, n_bootstrap=30, seed=7)
    c = metric_statistics(nrag, n_permutations=30, n_bootstrap=0, seed=7)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_series_equal(a.p, c.p)
    assert c.ci_low.isna().all() and a.ci_low.notna().any()
    assert not metric_statistics(nrag, n_permutations=30, n_bootstrap=0, seed=8).p.equals(c.p)


def test_null_summary_by_hand():
    # one label's texts all in one cell of a 2-layer grid: n_regions 2, the smallest a label of its size can have
    rng = np.random.default_rng(0)
    n = 60
    labels = np.repeat([0, 1], n // 2)
    layers = [np.vstack([np.zeros((n // 2, 2)), rng.uniform(1, 2, (n // 2, 2))]) for _ in range(2)]
    nrag = build_nrag_from_reduced(layers, labels, ["tight", "spread"], gridsize=8)
    frame = metric_statistics(nrag, n_permutations=99, n_bootstrap=50, seed=1).set_index(["label", "metric"])
    row = frame.loc[("tight", "n_regions")]
    assert row.value == 2.0 and row.ci_low == 2.0 and row.ci_high == 2.0  # every resample of it stays in one cell
    # no permutation puts 30 random texts in one cell each layer: p = (1 + 0) / (1 + 99)
    assert row.p == pytest.approx(1 / 100) and row.z < -3


def test_planted_difference_is_found():
    strong = metric_statistics(random_nrag(6, n=300, gridsize=6, spread=1.5), n_permutations=99, n_bootstrap=0)
    assert (strong.loc[strong.metric == "n_regions", "p_adjusted"] < 0.05).all()


def test_random_labels_are_calibrated():
    # >= 2,000 per-label tests on NRAGs whose labels are random: about 5 % below 0.05
    p = []
    for seed in range(24):
        rng = np.random.default_rng(1000 + seed)
        n = 200
        layers = [rng.normal(size=(n, 2)) for _ in range(5)]
        nrag = build_nrag_from_reduced(layers, rng.integers(0, 4, n), list("abcd"), gridsize=6)
        p.append(metric_statistics(nrag, n_permutations=100, n_bootstrap=0, seed=seed).p.to_numpy())
    p = np.concatenate(p)
    p = p[np.isfinite(p)]
    assert p.size >= 2000
    assert 0.03 <= (p < 0.05).mean() <= 0.07


def test_adjust_p_by_hand():
    p = [0.01, 0.04, 0.03, np.nan, 0.5]
    # Holm: sorted 0.01*4, 0.03*3, 0.04*2, 0.5*1 -> 0.04, 0.09, 0.09 (monotone), 0.5
    assert_allclose(adjust_p(p), [0.04, 0.09, 0.09, np.nan, 0.5])
    # BH: 0.01*4/1, 0.03*4/2, 0.04*4/3, 0.5*4/4 -> 0.04, 0.053.., 0.053.., 0.5
    assert_allclose(adjust_p(p, "bh"), [0.04, 0.16 / 3, 0.16 / 3, np.nan, 0.5])
    with pytest.raises(ValueError, match="correction must be one of"):
        adjust_p(p, "bonferroni")


def test_metric_contrasts_difference_interval_and_p():
    nrag = random_nrag(7, n=240, gridsize=6, spread=1.5)
    stats = metric_statistics(nrag, n_permutations=0, n_bootstrap=0)
    frame = metric_contrasts(nrag, n_permutations=99, n_bootstrap=60, correction="bh")
    assert tuple(frame.columns) == CONTRAST_COLUMNS
    assert len(frame) == 3 * len(STATISTIC_METRICS)
    value = stats.set_index(["label", "metric"]).value
    row = frame[(frame.label_a == "l0") & (frame.label_b == "l2") & (frame.metric == "center_of_mass")].iloc[0]
    assert row.difference == pytest.approx(value[("l0", "center_of_mass")] - value[("l2", "center_of_mass")])
    assert row.ci_low <= row.difference <= row.ci_high
    far = frame[(frame.label_a == "l0") & (frame.label_b == "l2") & (frame.metric == "n_regions")].iloc[0]
    # a bootstrap resample holds ~63 % distinct texts, so counts of occupied regions shrink in it; the interval is
    # the resamples' spread about their median around the observed difference, so it holds it
    assert far.ci_low < far.difference < far.ci_high < 0
    assert far.p == pytest.approx(1 / 100) and far.p_adjusted < 0.05
    assert frame.p.dropna().between(1 / 100, 1).all()


def test_label_subset_reports_the_rows_of_the_full_frame():
    nrag = random_nrag(8, n=150)
    full = metric_statistics(nrag, n_permutations=30, n_bootstrap=20).set_index(["label", "metric"])
    sub = metric_statistics(nrag, labels=["l2", "l0"], n_permutations=30, n_bootstrap=20)
    assert sub.label.unique().tolist() == ["l2", "l0", "l2|l0"]
    rows = sub.set_index(["label", "metric"])
    same_rows = full.loc[[k if k[0] != "l2|l0" else ("l0|l2", k[1]) for k in rows.index]]
    cols = ["value", "ci_low", "ci_high", "null_mean", "null_sd", "z", "p"]  # p_adjusted: a smaller family here
    assert_allclose(rows[cols].to_numpy(float), same_rows[cols].to_numpy(float), atol=1e-12)
    assert rows.value[("l2", "n_regions")] == compute_metrics(nrag, ["l2"])["n_regions"]
    pairs = metric_contrasts(nrag, labels=["l2", "l0"], n_permutations=10, n_bootstrap=10)
    assert pairs[["label_a", "label_b"]].drop_duplicates().values.tolist() == [["l2", "l0"]]


def test_bad_inputs_name_the_problem():
    nrag = random_nrag(9)
    with pytest.raises(ValueError, match="n_permutations must be an integer >= 0"):
        metric_statistics(nrag, n_permutations=-1)
    with pytest.raises(ValueError, match="confidence must be in"):
        metric_statistics(nrag, confidence=95)
    rng = np.random.default_rng(0)
    components = build_nrag_from_reduced([rng.normal(size=(30, 3))] * 2, np.arange(30) % 2, ["a", "b"])
    with pytest.raises(ValueError, match="need a grid NRAG"):
        metric_statistics(components)
    import dataclasses

    with pytest.raises(ValueError, match="per-text region paths"):
        metric_statistics(dataclasses.replace(nrag, paths=None))
    with pytest.raises(ValueError, match="need >= 2 labels"):
        metric_contrasts(nrag, labels=["l0"])


def test_refit_bootstrap_with_an_identity_reducer_is_the_fixed_bootstrap():
    # a "reducer" that returns its input, on integer coordinates 0..3 that every resample spans (P(a resample
    # of 60 uniform draws misses 0 or 3) ~ 1e-7): the redrawn grid has the run's cells, so the refitted
    # bootstrap draws the same resamples and finds the same values as the fixed one
    class Identity:
        def fit_transform(self, x):
            return x

    rng = np.random.default_rng(11)
    coords = [rng.integers(0, 4, (120, 2)).astype(float) for _ in range(3)]
    nrag = build_nrag_from_reduced(coords, np.arange(120) % 2, ["a", "b"], gridsize=4)
    fixed = metric_statistics(nrag, n_permutations=0, n_bootstrap=15, seed=4)
    refit = metric_statistics(nrag, n_permutations=0, n_bootstrap=15, seed=4, refit=(coords, Identity))
    assert refit.attrs["refit"] and not fixed.attrs["refit"]
    assert np.isfinite(refit.ci_low).sum() > 40
    assert_allclose(refit[["ci_low", "ci_high"]].to_numpy(), fixed[["ci_low", "ci_high"]].to_numpy(), atol=1e-12)


def test_interval_is_the_resamples_spread_about_their_median_reflected_about_the_value():
    from llm_mri_graphdb.analysis.statistics import _interval

    x = np.arange(101.0)
    boot = np.stack([x + 1, x**2, np.full(101, np.nan)], axis=1)  # column 1 is skewed to the right
    low, high = _interval(boot, np.array([200.0, 3000.0, 1.0]), 0.9)
    # column 0: q5 = 6, median = 51, q95 = 96 -> [200 - 45, 200 + 45]
    # column 1: q5 = 25, median = 2500, q95 = 9025 -> [3000 - 6525, 3000 + 2475]: the long right tail goes left
    assert_allclose(low[:2], [155.0, -3525.0]) and assert_allclose(high[:2], [245.0, 5475.0])
    assert np.isnan(low[2]) and np.isnan(high[2])  # no finite resample, no interval
    assert np.isnan(_interval(boot[:, :1], np.array([np.nan]), 0.9)[0][0])  # no value, no interval


def test_count_intervals_cover_the_expected_count_where_percentile_intervals_miss_it():
    # fresh corpora of 40 texts a label from a population of 4,000: the expected n_regions at that size is their
    # mean; a resample holds ~63 % distinct texts, so percentile intervals of counts sit below it
    from bench.coverage import coverage, synthetic_population

    rows = coverage(synthetic_population(4_000, n_layers=4), 40, samples=30, truth_draws=150, n_bootstrap=60)
    for metric in ("n_regions", "n_edges", "mean_degree"):
        percentile, centred = rows[metric]["percentile"][0], rows[metric]["centred"][0]
        assert percentile < 0.3 and centred > 0.7, (metric, percentile, centred)


def test_intervals_stay_in_each_metrics_range():
    from llm_mri_graphdb.analysis.statistics import _clip, metric_range

    low, high = _clip(
        np.array([0.99, -0.2, -3.0]), np.array([1.004, 0.5, 2.0]), ["js_divergence_mean", "n_regions", "kurt_degree"]
    )
    assert_allclose(low, [0.99, 0.0, -3.0]) and assert_allclose(high, [1.0, 0.5, 2.0])
    low, high = _clip(np.array([-1.5]), np.array([0.2]), ["density"], difference=True)  # a difference of densities
    assert_allclose(low, [-1.0]) and assert_allclose(high, [0.2])
    nrag = random_nrag(3, n=120, gridsize=3)  # few cells: densities and divergences near their bounds
    frame = metric_statistics(nrag, n_permutations=0, n_bootstrap=40)
    bounds = np.array([metric_range(m) for m in frame.metric])
    finite = frame.ci_low.notna().to_numpy()
    assert finite.sum() > 50
    assert (frame.ci_low.to_numpy()[finite] >= bounds[finite, 0]).all()
    assert (frame.ci_high.to_numpy()[finite] <= bounds[finite, 1]).all()
