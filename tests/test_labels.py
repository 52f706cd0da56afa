"""The one label resolver: names and indices in, indices out, one message for every mistake."""

import numpy as np
import pytest

from llm_mri_graphdb.extract.activations import Activations
from llm_mri_graphdb.labels import resolve_label, resolve_labels

NAMES = ("neg", "pos", "mixed")


@pytest.mark.parametrize(
    "labels, expected",
    [
        (None, [0, 1, 2]),
        ("pos", [1]),
        (2, [2]),
        (np.int64(0), [0]),
        (["mixed", "neg"], [2, 0]),
        (("pos", 0), [1, 0]),
        (np.array([2, 1]), [2, 1]),
    ],
)
def test_resolve_labels_names_and_indices_in_given_order(labels, expected):
    assert resolve_labels(NAMES, labels) == expected


@pytest.mark.parametrize("labels, bad", [("cats", "'cats'"), (3, "3"), (-1, "-1"), ([True], "True"), ([0, "x"], "'x'")])
def test_resolve_labels_unknown_label_names_the_valid_ones(labels, bad):
    with pytest.raises(
        ValueError, match=rf"labels must be names in \['neg', 'pos', 'mixed'\] or indices below 3; got {bad}\."
    ):
        resolve_labels(NAMES, labels)


@pytest.mark.parametrize("labels", [[], ["pos", 1]])
def test_resolve_labels_rejects_empty_and_repeated_selections(labels):
    with pytest.raises(ValueError, match=r"labels must be a non-empty selection without repeats; got "):
        resolve_labels(NAMES, labels)


def test_resolve_label_one_name_or_index():
    assert (resolve_label(NAMES, "mixed"), resolve_label(NAMES, 1)) == (2, 1)
    with pytest.raises(
        ValueError, match=r"label must be one name in \['neg', 'pos', 'mixed'\] or one index; got \['pos'\]"
    ):
        resolve_label(NAMES, ["pos"])
    with pytest.raises(ValueError, match="labels must be names in"):
        resolve_label(NAMES, "cats")


def test_activations_label_index_uses_the_resolver():
    acts = Activations([np.zeros((2, 3))], np.array([0, 1]), ("a", "b"))
    assert (acts.label_index("b"), acts.label_index(0)) == (1, 0)
    with pytest.raises(ValueError, match=r"labels must be names in \['a', 'b'\] or indices below 2; got 'c'"):
        acts.label_index("c")
