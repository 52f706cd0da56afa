"""Component-NRAG edges corrected for multiple tests (Benjamini-Hochberg on Spearman p-values)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.stats import false_discovery_control, spearmanr

from llm_mri_graphdb.nrag.model import build_nrag_from_reduced
from llm_mri_graphdb.nrag.regions import benjamini_hochberg, spearman_pvalues
from llm_mri_graphdb.scan_settings import ScanArgumentError, check_scan

pytestmark = pytest.mark.unit


def test_spearman_pvalues_equal_scipy():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=25), rng.normal(size=25)
    for b in (y, x + 0.5 * y, -x + 0.1 * y):
        rho, p = spearmanr(x, b)
        assert_allclose(spearman_pvalues(np.array([rho]), 25), [p], rtol=1e-10)
    assert spearman_pvalues(np.array([1.0, np.nan]), 10)[0] == 0.0
    assert np.isnan(spearman_pvalues(np.array([np.nan]), 10)[0])


def test_benjamini_hochberg_equals_scipy_false_discovery_control():
    rng = np.random.default_rng(1)
    for _ in range(20):
        p = np.concatenate([rng.uniform(size=40), rng.uniform(0, 0.01, size=rng.integers(0, 15))])
        for q in (0.01, 0.05, 0.2):
            assert np.array_equal(benjamini_hochberg(p, q), false_discovery_control(p, method="bh") <= q)
    with_nan = np.array([0.001, np.nan, 0.5])
    assert benjamini_hochberg(with_nan, 0.05).tolist() == [True, False, False]  # m counts the 2 tested


def _components(seed, planted):
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(60, 10))
    reduced = [base + 0.3 * rng.normal(size=base.shape) if planted else rng.normal(size=(60, 10)) for _ in range(7)]
    return reduced, np.arange(60) % 2


def test_fdr_removes_chance_edges_and_keeps_planted_ones():
    reduced, labels = _components(0, planted=False)  # 30 texts per label, 6 x 100 tests per label
    raw = build_nrag_from_reduced(reduced, labels, ["a", "b"], threshold=0.3)
    corrected = build_nrag_from_reduced(reduced, labels, ["a", "b"], threshold=0.3, fdr=0.05)
    assert raw.edge_weight.size > 60  # rho > 0.3 has p ~ 0.1 on 30 texts: dozens of chance edges
    assert corrected.edge_weight.size <= 3
    assert corrected.settings["fdr"] == 0.05 and "fdr" not in raw.settings and corrected.run_id != raw.run_id
    reduced, labels = _components(0, planted=True)
    planted = build_nrag_from_reduced(reduced, labels, ["a", "b"], threshold=0.3, fdr=0.05)
    diagonal = planted.region_x[planted.edge_source] == planted.region_x[planted.edge_target]
    assert diagonal.sum() == 2 * 6 * 10  # every component -> itself edge survives, for both labels
    # fdr=1 rejects every tested hypothesis: the threshold alone decides
    assert (
        build_nrag_from_reduced(_components(0, False)[0], labels, ["a", "b"], fdr=1.0).edge_weight.size
        == raw.edge_weight.size
    )


def test_fdr_is_checked_before_anything_runs():
    with pytest.raises(ScanArgumentError, match=r"fdr must be a number in \(0, 1\] or None; got 0"):
        check_scan(fdr=0)
    check_scan(fdr=None)
