"""compare_runs on the embedded store: values equal to the in-process alignment, kept in alignments.json."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from llm_mri_graphdb.analysis.alignment import MEASURES, ami_matrix, cka_matrices, cka_matrix
from llm_mri_graphdb.errors import RunNotFound
from llm_mri_graphdb.store import LocalStore
from llm_mri_graphdb.store.alignment import compare_runs, layer_alignment, read_alignment
from tests.alignment_runs import TEXTS, cached_scan


@pytest.fixture()
def scans(tmp_path):
    a, layers_a = cached_scan(tmp_path / "cache", "u", "mini", 1, 3, 6)
    b, layers_b = cached_scan(tmp_path / "cache", "u", "smol", 2, 4, 5)
    store = LocalStore(tmp_path / "runs")
    store.write(a, texts=TEXTS)
    store.write(b, texts=TEXTS)
    return store, a, b, layers_a, layers_b


def test_compare_runs_equals_the_in_process_measures(scans):
    store, a, b, layers_a, layers_b = scans
    with pytest.warns(UserWarning, match="smol-u layer 0: one coordinate holds 52 %"):
        result = compare_runs(store, a.run_id, b.run_id)
    assert result.runs == (a.run_id, b.run_id) and result.names == ("mini-u", "smol-u")
    assert len(result.notes) == 1 and result.notes[0].startswith("smol-u layer 0: one coordinate")
    assert_allclose(result.cka, cka_matrix(layers_a, layers_b), rtol=1e-12)
    assert_allclose(result.cka_debiased, cka_matrices(layers_a, layers_b).cka_debiased, rtol=1e-12)
    assert result.cka_null_p.shape == (3, 4) and result.stability.shape == (3,)
    assert np.all((result.cka_null_p >= 1 / 101) & (result.cka_null_p <= 1))
    context_a, context_b = result.context
    assert len(context_a["ami_labels"]) == 3 and len(context_b["variance_kept"]) == 4
    assert_allclose(context_a["ami_labels"][1], ami_matrix(a.paths[:, [1]], a.text_labels[:, None])[0, 0])
    top2 = np.linalg.eigvalsh(np.cov(layers_b[2].astype(float), rowvar=False))[::-1]
    assert context_b["variance_kept"][2] == pytest.approx(top2[:2].sum() / top2.sum(), rel=1e-12)
    assert_allclose(result.ami, ami_matrix(a.paths, b.paths), rtol=1e-12)
    assert result.cka.shape == (3, 4) and np.all((result.cka >= 0) & (result.cka <= 1))
    stored = read_alignment(LocalStore(store.path), b.run_id, a.run_id)  # a fresh store reads the file, transposed
    assert_allclose(stored.cka, result.cka.T, rtol=1e-12)
    assert_allclose(stored.ami, result.ami.T, rtol=1e-12)
    for measure in MEASURES:
        assert_allclose(getattr(stored, measure), getattr(result, measure).T, rtol=1e-12)


def test_compare_runs_of_a_run_with_itself_is_one_on_the_diagonal(scans):
    store, a, _, _, _ = scans
    result = store.compare(a.run_id, a.run_id)  # the store methods are the module's functions
    assert np.diag(result.cka).tolist() == [1.0, 1.0, 1.0]
    assert_allclose(np.diag(result.ami), 1.0, atol=1e-12)
    assert_allclose(store.alignment(a.run_id, a.run_id).cka, result.cka, rtol=1e-15)
    rows = store.layer_alignment(a.run_id)
    assert [(r["layer"], r["best_layer"], r["score"]) for r in rows] == [(0, 0, 1.0), (1, 1, 1.0), (2, 2, 1.0)]


def test_layer_alignment_rows_are_the_best_match_per_layer(scans):
    store, a, b, _, _ = scans
    result = compare_runs(store, a.run_id, b.run_id)
    for measure in MEASURES:
        matrix = getattr(result, measure)
        key = -matrix if measure == "cka_null_p" else matrix  # smallest p-value first
        rows = layer_alignment(store, a.run_id, measure=measure)
        assert [r["layer"] for r in rows] == [0, 1, 2]
        for r in rows:
            assert r["best_layer"] == int(np.argmax(key[r["layer"]]))
            assert r["score"] == pytest.approx(matrix[r["layer"], r["best_layer"]], rel=1e-12)
            assert r[measure] == r["score"]
            assert (r["model"], r["run_id"], r["n_layers"]) == ("smol-u", b.run_id, 4)
        back = layer_alignment(store, b.run_id, measure=measure, other="mini-u")
        assert [r["best_layer"] for r in back] == np.argmax(key.T, axis=1).tolist()
    with pytest.raises(ValueError, match="measure must be one of .*; got 'cca'"):
        layer_alignment(store, a.run_id, measure="cca")


def test_compare_runs_rerun_replaces_the_pair_and_delete_forgets_it(scans):
    store, a, b, _, _ = scans
    compare_runs(store, a.run_id, b.run_id)
    compare_runs(store, b.run_id, a.run_id)  # the other direction replaces it
    compare_runs(store, a.run_id, a.run_id)
    assert sorted({r["run_id"] for r in layer_alignment(store, a.run_id)}) == sorted([a.run_id, b.run_id])
    assert len(layer_alignment(store, b.run_id)) == 4
    store.delete(b.run_id)
    assert read_alignment(store, a.run_id, b.run_id) is None
    assert [r["run_id"] for r in layer_alignment(store, a.run_id)] == [a.run_id] * 3


def test_compare_runs_without_activations_stores_ami_only(tmp_path):
    a, _ = cached_scan(tmp_path, "n", "mini", 1, 3, 6)
    b, _ = cached_scan(tmp_path, "n", "plain", 2, 2, 4, cache=False)
    store = LocalStore()  # in memory
    store.write(a, texts=TEXTS)
    store.write(b, texts=TEXTS)
    with pytest.warns(UserWarning, match=f"run {b.run_id} records no activation cache .* only AMI is stored"):
        result = compare_runs(store, a.run_id, b.run_id)
    assert result.cka is None and result.ami.shape == (3, 2) and len(result.notes) == 1
    assert read_alignment(store, a.run_id, b.run_id).cka is None
    assert layer_alignment(store, a.run_id, measure="cka") == []
    assert len(layer_alignment(store, a.run_id, measure="ami")) == 3


def test_compare_runs_refuses_runs_of_different_corpora(tmp_path):
    a, _ = cached_scan(tmp_path, "c", "mini", 1, 3, 6)
    b, _ = cached_scan(tmp_path, "c", "smol", 2, 2, 4, corpus="other")
    store = LocalStore()
    store.write(a, texts=TEXTS)
    store.write(b, texts=TEXTS)
    with pytest.raises(ValueError, match="must scan the same corpus; .* 'corpus-c' .* 'other-c'"):
        compare_runs(store, a.run_id, b.run_id)
    with pytest.raises(RunNotFound, match="no-such-run"):
        compare_runs(store, a.run_id, "no-such-run")
