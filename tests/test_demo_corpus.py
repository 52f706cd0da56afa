"""The demo corpus ships with the package, balanced and free of (near-)duplicates."""

import itertools
import re
from importlib.resources import files

import pandas as pd
import pytest

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def corpus():
    return pd.read_csv(files("llm_mri_graphdb") / "demo" / "corpus.csv")


def test_corpus_columns_and_labels(corpus):
    assert list(corpus.columns) == ["text", "label"]
    assert sorted(corpus["label"].unique()) == ["animals", "cooking", "space", "sports"]
    assert len(corpus) >= 280


def test_corpus_balanced_within_20_percent(corpus):
    counts = corpus["label"].value_counts()
    assert counts.max() <= 1.2 * counts.min()


def test_corpus_texts_nonempty_and_unique(corpus):
    texts = corpus["text"].astype(str).str.strip()
    assert (texts.str.len() > 0).all()
    assert not texts.duplicated().any()
    words = texts.str.split().str.len()
    assert words.between(8, 30).all()


def test_corpus_no_near_duplicates(corpus):
    bags = [set(re.findall(r"[a-z]+", t.lower())) for t in corpus["text"]]
    worst = max(len(a & b) / len(a | b) for a, b in itertools.combinations(bags, 2))
    assert worst <= 0.3
