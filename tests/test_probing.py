"""The leakage-free probe: intervals, controls, selectivity, MDL and the random-weights control."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.linear_model import RidgeClassifierCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from llm_mri_graphdb.analysis import probing
from llm_mri_graphdb.analysis._ridge import fit_predict_loo_ridge
from llm_mri_graphdb.analysis.probing import CS, corrected_t_interval, online_codelength, probe_curve


@pytest.fixture(scope="module")
def task():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 60)
    signal = np.where(y[:, None] == 1, 1.0, -1.0) * np.array([1.5, 0.0, 0.0, 0.0])
    layers = [
        rng.standard_normal((120, 6)),
        np.hstack([signal + rng.standard_normal((120, 4)), rng.standard_normal((120, 2))]),
    ]
    return layers, y


def _ridge_dataset(kind: str, seed: int):
    """(X, y) of one shape the probe meets: ``n`` texts, ``p`` features, ``k`` labels."""
    rng = np.random.default_rng(seed)
    n, p, k, weights = {
        "binary-long": (200, 30, 2, None),
        "binary-wide": (60, 150, 2, None),
        "four-long": (240, 20, 4, None),
        "four-wide": (80, 200, 4, None),
        "imbalanced-long": (150, 10, 3, [0.8, 0.15, 0.05]),
        "imbalanced-wide": (50, 90, 2, [0.85, 0.15]),
        "reduced-2d": (300, 2, 2, None),
    }[kind]
    y = rng.choice(k, size=n, p=weights)
    means = rng.normal(scale=rng.uniform(0.0, 1.0), size=(k, p))  # some label signal, seeded strength
    X = (means[y] + rng.standard_normal((n, p))) * rng.gamma(2.0, size=p) + rng.normal(size=p)
    return X, np.asarray(["abcd"[c] for c in y])  # string labels, as a corpus has


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    "kind",
    ["binary-long", "binary-wide", "four-long", "four-wide", "imbalanced-long", "imbalanced-wide", "reduced-2d"],
)
def test_loo_ridge_chooses_the_alpha_and_predicts_as_ridge_classifier_cv(kind, seed):
    X, y = _ridge_dataset(kind, seed)
    train, test = slice(0, int(0.8 * len(y))), slice(int(0.8 * len(y)), None)
    alphas = [1.0 / c for c in CS]
    reference = make_pipeline(StandardScaler(), RidgeClassifierCV(alphas=alphas)).fit(X[train], y[train])
    scaler = StandardScaler().fit(X[train])
    shuffled = np.random.default_rng(seed).permutation(y[train])
    (pred, alpha), (pred_shuffled, alpha_shuffled) = fit_predict_loo_ridge(
        scaler.transform(X[train]), [y[train], shuffled], scaler.transform(X[test]), alphas
    )
    assert alpha == reference[-1].alpha_
    np.testing.assert_array_equal(pred, reference.predict(X[test]))
    control = make_pipeline(StandardScaler(), RidgeClassifierCV(alphas=alphas)).fit(X[train], shuffled)
    assert alpha_shuffled == control[-1].alpha_  # the second target shares the decomposition, not the answer
    np.testing.assert_array_equal(pred_shuffled, control.predict(X[test]))


def test_loo_ridge_of_one_class_predicts_it_with_the_first_alpha():
    X = np.random.default_rng(0).standard_normal((20, 3))
    y = np.full(20, "a")
    reference = make_pipeline(StandardScaler(), RidgeClassifierCV(alphas=[3.0, 1.0])).fit(X[:15], y[:15])
    ((pred, alpha),) = fit_predict_loo_ridge(X[:15], [y[:15]], X[15:], [3.0, 1.0])
    assert alpha == reference[-1].alpha_ == 3.0  # every alpha leaves no residual: the first wins the tie
    np.testing.assert_array_equal(pred, reference.predict(X[15:]))


@pytest.mark.parametrize("reducer", [None, "pca"])
def test_probe_curve_equals_its_scikit_learn_pipeline_reference(task, reducer, monkeypatch):
    from llm_mri_graphdb.reduce.layers import PCA as ProjectPCA

    layers, y = task
    X4, y4 = _ridge_dataset("four-wide", 1)  # training folds have fewer texts (64) than features (200)
    est = None if reducer is None else ProjectPCA(2)
    for data, labels in ((layers, y), ([X4[:, :20], X4], y4)):
        fast = probe_curve(data, labels, reducer=est, n_repeats=2, random_state=3, random_layers=data[::-1])
        monkeypatch.setattr(probing, "_SHARED_RIDGE", False)
        reference = probe_curve(data, labels, reducer=est, n_repeats=2, random_state=3, random_layers=data[::-1])
        monkeypatch.setattr(probing, "_SHARED_RIDGE", True)
        assert fast == reference


def test_corrected_t_interval_hand_computed():
    # mean 0.8, s^2 = 0.02 / 3, (1/4 + 25/75) * s^2 = 0.0038889, t_{0.975, 3} = 3.182446
    mean, low, high = corrected_t_interval([0.8, 0.9, 0.7, 0.8], n_train=75, n_test=25)
    assert mean == pytest.approx(0.8)
    assert high - mean == pytest.approx(3.182446305 * np.sqrt((1 / 4 + 1 / 3) * 0.02 / 3), rel=1e-8)
    assert mean - low == pytest.approx(high - mean)


def test_probe_on_shuffled_labels_covers_chance_and_selectivity_covers_zero(task):
    layers, y = task
    shuffled = np.random.default_rng(5).permutation(y)
    curve = probe_curve(layers, shuffled, n_repeats=3, random_state=1)
    assert curve["chance"] == 0.5
    for side in ("full", "reduced"):
        for layer in (0, 1):
            assert curve[side]["low"][layer] <= 0.5 <= curve[side]["high"][layer]
            assert curve[side]["selectivity_low"][layer] <= 0.0 <= curve[side]["selectivity_high"][layer]


def test_probe_on_a_separable_layer_is_selective_and_beats_its_controls(task):
    layers, y = task
    curve = probe_curve(layers, y, n_repeats=3, random_state=1)
    full = curve["full"]
    assert full["mean"][1] > 0.85 and full["low"][1] > curve["majority"]["high"]
    assert full["selectivity_low"][1] > 0.2  # accuracy well above the shuffled-label control
    assert full["low"][0] <= 0.5 <= full["high"][0]  # layer 0 is noise here
    assert curve["layer0"] == full["mean"][0]
    assert curve["majority"] == {"mean": 0.5, "low": 0.5, "high": 0.5}  # balanced folds: always half
    assert curve["method"]["repeats"] == 3 and curve["method"]["splits"] == 5
    assert curve == probe_curve(layers, y, n_repeats=3, random_state=1)  # seeded


class _RowCounter(TransformerMixin, BaseEstimator):
    """PCA that records how many texts each fit saw."""

    seen: list = []

    def __init__(self, n_components=2):
        self.n_components = n_components

    def fit(self, X, y=None):
        _RowCounter.seen.append(X.shape[0])
        self.pca_ = PCA(self.n_components).fit(X)
        return self

    def transform(self, X):
        return self.pca_.transform(X)


def test_the_reduction_is_fitted_on_training_folds_only(task):
    layers, y = task
    _RowCounter.seen = []
    probe_curve(layers[:1], y, reducer=_RowCounter(), n_splits=4, n_repeats=2)
    assert set(_RowCounter.seen) == {90}  # 120 texts, 4 folds: every fit sees 90, never the test texts
    assert len(_RowCounter.seen) == 4 * 2  # 8 folds; the labels and the shuffled labels share each fold's fit


def test_probe_controls_on_request_random_weights_and_bag_of_words(task):
    layers, y = task
    texts = [("good fine" if label else "bad poor") + f" text {i}" for i, label in enumerate(y)]
    curve = probe_curve(layers, y, n_repeats=1, texts=texts, random_layers=layers[::-1])
    assert curve["bag_of_words"]["mean"] == 1.0  # the words give the label away
    assert curve["random_weights"]["mean"] == curve["full"]["mean"][::-1]
    with pytest.raises(ValueError, match="random_layers \\(1\\) must have one entry per layer \\(2\\)"):
        probe_curve(layers, y, random_layers=layers[:1])
    with pytest.raises(ValueError, match="classifier must be one of"):
        probe_curve(layers, y, classifier="svm")


def test_mdl_ranks_a_separable_task_below_a_random_one(task):
    layers, y = task
    rng = np.random.default_rng(3)
    separable = online_codelength(layers[1], y, random_state=0)
    random_task = online_codelength(layers[1], rng.permutation(y), random_state=0)
    assert separable["codelength"] < random_task["codelength"]
    assert separable["compression"] > 1.5 and random_task["compression"] < 1.1
    assert separable["uniform"] == pytest.approx(120.0)  # 120 labels x log2(2) bits
    curve = probe_curve(layers, y, n_repeats=1, mdl=True)
    assert curve["mdl"][1]["codelength"] < curve["mdl"][0]["codelength"]


def test_random_weights_activations_are_seeded(tmp_path):
    import pandas as pd

    from llm_mri_graphdb.analysis.probing import random_weights_activations
    from llm_mri_graphdb.data import load_corpus
    from tests.tiny_models import LABELS, TEXTS, save_tiny_model

    folder = save_tiny_model("bert", tmp_path / "bert")
    corpus = load_corpus(pd.DataFrame({"text": TEXTS, "label": LABELS}), name="tiny")
    first = random_weights_activations(folder, corpus, seed=3, progress=False, device="cpu")
    again = random_weights_activations(folder, corpus, seed=3, progress=False, device="cpu")
    other = random_weights_activations(folder, corpus, seed=4, progress=False, device="cpu")
    assert len(first.layers) == len(other.layers) and first.layers[1].shape[0] == len(TEXTS)
    np.testing.assert_array_equal(first.layers[-1], again.layers[-1])
    assert not np.allclose(first.layers[-1], other.layers[-1])


def test_accuracy_intervals_stop_at_the_range_of_an_accuracy():
    from llm_mri_graphdb.analysis.probing import _summary, corrected_t_interval

    scores = np.array([1.0, 1.0, 1.0, 0.9])
    assert corrected_t_interval(scores, 80, 20)[2] > 1  # the t interval itself passes 1
    assert _summary(scores, 80, 20) == pytest.approx(
        {"mean": 0.975, "low": corrected_t_interval(scores, 80, 20)[1], "high": 1.0}
    )
    assert _summary(-scores, 80, 20, lowest=-1.0)["low"] == -1.0  # a selectivity stops at -1
