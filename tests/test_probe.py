"""Linear probes: llm_mri's evaluate_model contract, parity, separable vs shuffled labels."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedShuffleSplit, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from llm_mri_graphdb.analysis.probe import DEFAULT_METRICS, check_probe_size, display_metrics, evaluate_model

pytestmark = pytest.mark.unit

K = 4


def _blobs(seed=0, n_per=50, width=32, n_layers=3):
    """Layer l mixes label centres with weight l / (n_layers - 1): layer 0 is pure noise."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(K), n_per)
    centres = rng.normal(size=(K, width)) * 4
    layers = [centres[y] * (layer / (n_layers - 1)) + rng.normal(size=(y.size, width)) for layer in range(n_layers)]
    reduced = [PCA(2, random_state=0).fit_transform(x) for x in layers]
    return layers, reduced, y


@pytest.fixture(scope="module")
def data():
    return _blobs()


def test_evaluate_model_separable_scores_high(data):
    layers, reduced, y = data
    r = evaluate_model(layers[-1], reduced, y)
    assert r["full"]["accuracy"]["mean"] > 0.9
    assert r["reduced"]["accuracy"]["mean"] > 0.9


def test_evaluate_model_shuffled_labels_near_chance(data):
    layers, reduced, y = data
    y_shuffled = np.random.default_rng(1).permutation(y)
    r = evaluate_model(layers[-1], reduced, y_shuffled, metrics="accuracy")
    assert abs(r["full"]["accuracy"]["mean"] - 1 / K) < 0.15
    assert abs(r["reduced"]["accuracy"]["mean"] - 1 / K) < 0.15


def test_evaluate_model_result_structure(data):
    layers, reduced, y = data
    r = evaluate_model(layers[-1], reduced, y, n_splits=3)
    assert set(r) == {"delta", "full", "reduced"}
    assert list(r["delta"]) == list(DEFAULT_METRICS)
    for m in DEFAULT_METRICS:
        assert len(r["delta"][m]["per_split"]) == 3
        full, red = np.array(r["full"][m]["per_split"]), np.array(r["reduced"][m]["per_split"])
        assert_allclose(r["delta"][m]["per_split"], full - red)
        assert r["delta"][m]["mean"] == pytest.approx(float(np.mean(full - red)))


def test_evaluate_model_matches_llm_mri_recipe(data):
    """The numbers of llm_mri's Evaluation.evaluate_model, recomputed by its own recipe."""
    layers, reduced, y = data
    Xr = np.concatenate(reduced, axis=1)
    splits = list(StratifiedShuffleSplit(n_splits=4, test_size=0.25, random_state=7).split(Xr, y))
    pipe = lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=7))  # noqa: E731
    f1 = cross_validate(pipe(), layers[-1], y, cv=splits, scoring={"f1_macro": "f1_macro"})["test_f1_macro"]
    r1 = cross_validate(pipe(), Xr, y, cv=splits, scoring={"f1_macro": "f1_macro"})["test_f1_macro"]
    r = evaluate_model(layers[-1], Xr, y, n_splits=4, test_size=0.25, random_state=7, metrics=["f1_macro"])
    assert_allclose(r["delta"]["f1_macro"]["per_split"], f1 - r1)


def test_evaluate_model_n_components_rereduces_both_sides(data):
    layers, reduced, y = data
    Xr = np.concatenate(reduced, axis=1)
    r = evaluate_model(layers[-1], Xr, y, n_components=2, metrics="accuracy")
    by_hand = evaluate_model(
        PCA(2, random_state=42).fit_transform(layers[-1]),
        PCA(2, random_state=42).fit_transform(Xr),
        y,
        metrics="accuracy",
    )
    assert_allclose(r["delta"]["accuracy"]["per_split"], by_hand["delta"]["accuracy"]["per_split"])


def test_evaluate_model_deterministic(data):
    layers, reduced, y = data
    a = evaluate_model(layers[1], reduced, y, metrics="accuracy", random_state=3)
    b = evaluate_model(layers[1], reduced, y, metrics="accuracy", random_state=3)
    assert a == b


def test_evaluate_model_rejects_mismatched_rows(data):
    layers, reduced, y = data
    with pytest.raises(ValueError, match="one row per text"):
        evaluate_model(layers[-1][:-1], reduced, y)


def test_display_metrics_lists_every_metric(data):
    layers, reduced, y = data
    text = display_metrics(evaluate_model(layers[-1], reduced, y, n_splits=2))
    lines = text.splitlines()
    assert len(lines) == 1 + len(DEFAULT_METRICS)
    assert [line.split()[0] for line in lines[1:]] == list(DEFAULT_METRICS)


def test_check_probe_size_names_the_k_fold_need():
    from llm_mri_graphdb.scan_settings import ScanArgumentError

    check_probe_size({"a": 5, "b": 9}, n_splits=5)
    with pytest.raises(ScanArgumentError, match=r"5-fold split needs at least 5 texts of every label; got \{'a': 4\}"):
        check_probe_size({"a": 4, "b": 9}, n_splits=5)


def test_check_probe_size_agrees_with_the_stratified_splits():
    import itertools

    from sklearn.model_selection import StratifiedShuffleSplit

    from llm_mri_graphdb.analysis.probe import check_probe_size
    from llm_mri_graphdb.scan_settings import ScanArgumentError

    checked = 0
    for k in (2, 3, 4):
        for counts in itertools.product(range(1, 6), repeat=k):
            y = np.repeat(np.arange(k), counts)
            try:
                list(StratifiedShuffleSplit(n_splits=5, test_size=0.3, random_state=0).split(np.zeros((y.size, 1)), y))
                splits_ok = True
            except ValueError:
                splits_ok = False
            try:
                check_probe_size({str(c): n for c, n in enumerate(counts)})
                check_ok = True
            except ScanArgumentError as exc:
                assert exc.argument == "probe" and "--no-probe" in str(exc)
                check_ok = False
            assert check_ok == splits_ok, counts
            checked += 1
    assert checked == 5**2 + 5**3 + 5**4


def test_check_probe_size_one_text_per_label_names_the_fix():
    from llm_mri_graphdb.analysis.probe import check_probe_size
    from llm_mri_graphdb.scan_settings import ScanArgumentError

    with pytest.raises(
        ScanArgumentError,
        match=r"^the probe needs at least 2 texts of every label for its stratified "
        r"splits; got \{'yes/no': 1, 'maybe': 1\}\. Add texts, or skip the "
        r"probe with probe=False \(--no-probe\)\.$",
    ):
        check_probe_size({"yes/no": 1, "maybe": 1})
    with pytest.raises(
        ScanArgumentError,
        match=r"splits 6 texts into 4 for training and 2 for testing, each needing "
        r"one text of each of the 3 labels",
    ):
        check_probe_size({"a": 2, "b": 2, "c": 2})
