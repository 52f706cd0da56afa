"""Texts in the embedded store and the CLI's `texts` and `path` commands (no Neo4j: see
tests/integration/test_texts_store.py for Neo4j and the parity of both stores)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from llm_mri_graphdb.cli import main
from llm_mri_graphdb.store import LocalStore
from llm_mri_graphdb.store.neo4j.records import membership_groups, run_props, text_batches
from llm_mri_graphdb.testing import nrag_from_paths

pytestmark = pytest.mark.unit

# t0..t4: the hand-checked sample of tests/integration/nrag_samples.py (regions 0_0_0, 0_1_1, 1_0_0, 1_1_0,
# 2_0_1, 2_1_1).
PATHS = [
    [(0, 0), (0, 0), (1, 1)],
    [(0, 0), (0, 0), (1, 1)],
    [(0, 0), (1, 0), (1, 1)],
    [(1, 1), (1, 0), (0, 1)],
    [(1, 1), (1, 0), (1, 1)],
]
LABELS = [1, 1, 1, 0, 0]
TEXTS = ["the cat", "a dog", "über café", "sad 😢", "it was loud"]


@pytest.fixture
def nrag():
    return dataclasses.replace(nrag_from_paths(PATHS, LABELS, ("neg", "pos")), activations_path="/cache/entry")


def test_local_store_texts_round_trip_through_the_folder(nrag, tmp_path):
    run_id = LocalStore(tmp_path).write(nrag, texts=TEXTS)
    store = LocalStore(tmp_path)
    back = store.read(run_id)
    assert back.equals(nrag) and back.activations_path == "/cache/entry"
    np.testing.assert_array_equal(back.paths, nrag.paths)
    np.testing.assert_array_equal(back.text_labels, LABELS)
    assert store.region_texts(run_id, "1_1_0") == [
        {"index": 2, "text": "über café", "label": "pos"},
        {"index": 3, "text": "sad 😢", "label": "neg"},
        {"index": 4, "text": "it was loud", "label": "neg"},
    ]
    assert [r["region"] for r in store.text_path(run_id, 3)] == ["0_1_1", "1_1_0", "2_0_1"]


def test_local_store_without_texts_keeps_no_paths(nrag, tmp_path):
    run_id = LocalStore(tmp_path).write(nrag)
    for store in (LocalStore(tmp_path), LocalStore()):
        if store.path is None:
            store.write(nrag, texts=False)
        back = store.read(run_id)
        assert back.paths is None and back.text_labels is None and back.activations_path == "/cache/entry"
        with pytest.raises(ValueError, match=f"run {run_id} was stored without texts; scan it again"):
            store.region_texts(run_id, "1_1_0")


def test_local_store_rewrite_with_texts_replaces_them(nrag):
    store = LocalStore()
    run_id = store.write(nrag, texts=TEXTS)
    store.write(nrag, texts=[t.upper() for t in TEXTS])
    assert store.region_texts(run_id, "0_1_1", limit=1) == [{"index": 3, "text": "SAD 😢", "label": "neg"}]


def test_local_store_write_checks_texts(nrag):
    store = LocalStore()
    with pytest.raises(ValueError, match="texts must hold the 5 texts the NRAG was built from, in corpus order; got 4"):
        store.write(nrag, texts=TEXTS[:4])
    with pytest.raises(TypeError, match="texts must be a sequence of str"):
        store.write(nrag, texts="one text")
    with pytest.raises(ValueError, match="texts need the NRAG's text_labels"):
        store.write(dataclasses.replace(nrag, paths=None, text_labels=None), texts=TEXTS)
    assert store.runs() == []


def test_nrag_text_labels_checked_and_dropped_by_select_labels(nrag):
    with pytest.raises(ValueError, match=r"text_labels must have shape \(n_texts=5,\) and index label_names \(0..1\)"):
        dataclasses.replace(nrag, text_labels=[0, 1, 2, 0, 0])
    with pytest.raises(ValueError, match=r"text_labels must have shape \(n_texts=5,\)"):
        dataclasses.replace(nrag, text_labels=[0, 1])
    subset = nrag.select_labels(["pos"])
    assert subset.paths is None and subset.text_labels is None and subset.activations_path == "/cache/entry"
    assert subset.run_id == nrag.run_id == dataclasses.replace(nrag, activations_path=None).run_id


def test_csv_round_trip_keeps_paths_text_labels_and_activations_path(nrag, tmp_path):
    nrag.to_csv(tmp_path)
    back = type(nrag).from_csv(tmp_path)
    assert back.equals(nrag) and back.activations_path == "/cache/entry"
    np.testing.assert_array_equal(back.paths, nrag.paths)
    np.testing.assert_array_equal(back.text_labels, LABELS)
    dataclasses.replace(nrag, paths=None, text_labels=None, activations_path=None).to_csv(tmp_path)
    back = type(nrag).from_csv(tmp_path)
    assert back.paths is None and back.text_labels is None and back.activations_path is None


def test_records_text_batches_and_membership_positions(nrag):
    assert text_batches(TEXTS, ["pos"] * 5, 2) == [
        {"idx": [0, 1], "text": TEXTS[:2], "label": ["pos", "pos"]},
        {"idx": [2, 3], "text": TEXTS[2:4], "label": ["pos", "pos"]},
        {"idx": [4], "text": TEXTS[4:], "label": ["pos"]},
    ]
    groups = membership_groups(nrag, 10, workers=2)  # texts 0-2 and 3-4; positions within each layer
    assert [[(b["layer"], b["start"], b["r"]) for b in g] for g in groups] == [
        [(0, 0, [0, 0, 0]), (1, 0, [0, 0, 1]), (2, 0, [1, 1, 1])],
        [(0, 3, [1, 1]), (1, 3, [1, 1]), (2, 3, [0, 1])],
    ]
    props = run_props(nrag, n_texts=5, text_paths=True)
    assert (props["corpus_key"], props["n_texts"], props["text_paths"], props["activations_path"]) == (
        "fp-tiny",
        5,
        True,
        "/cache/entry",
    )


def test_cli_texts_and_path_print_tables(nrag, tmp_path, capsys):
    run_id = LocalStore(tmp_path).write(nrag, texts=TEXTS)
    where = ["--store", "local", "--store-path", str(tmp_path)]
    assert main(["texts", run_id, "1_1_0", "--label", "neg", *where]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["index", "text", "label"] and len(out) == 3 and "it was loud" in out[2]
    assert main(["path", run_id, "4", "--format", "json", *where]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["region"], r["neg"], r["pos"]) for r in rows] == [("0_1_1", 2, 0), ("1_1_0", 2, 1), ("2_1_1", 1, 3)]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["texts", "{run}", "9_9_9"], "region must be an occupied region of run {run} such as '0_0_0'"),
        (["path", "{run}", "5"], "idx must be a text index in [0, 4] (or -5 to -1, counted from the end); got 5."),
        (["texts", "{run}", "1_1_0", "--label", "maybe"], "maybe"),
    ],
)
def test_cli_texts_and_path_bad_input_exit_2(nrag, tmp_path, capsys, argv, message):
    run_id = LocalStore(tmp_path).write(nrag, texts=TEXTS)
    code = main([a.format(run=run_id) for a in argv] + ["--store", "local", "--store-path", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and message.format(run=run_id) in err and len(err.strip().splitlines()) == 1


def test_report_of_a_stored_run_lists_its_texts_on_hover(nrag, tmp_path):
    from llm_mri_graphdb.pipeline import report_run

    store = LocalStore(tmp_path / "runs")
    with_texts = store.write(nrag, texts=["hover-text-" + t for t in TEXTS])
    page = report_run(store, with_texts, out=tmp_path / "reports").read_text()
    assert "hover-text-über café" in page and "example texts come with runs stored" not in page
    without = store.write(dataclasses.replace(nrag, settings={**nrag.settings, "tag": "no texts"}))
    page = report_run(store, without, out=tmp_path / "reports").read_text()
    assert "hover-text-" not in page and "example texts come with runs stored with their texts" in page


def test_runs_export_then_import_keeps_the_texts(nrag, tmp_path, capsys):
    source, target = tmp_path / "source", tmp_path / "target"
    texts = [t + ',\n"quoted" NA' for t in TEXTS]  # separators, a newline, quotes and a pandas NA marker
    run_id = LocalStore(source).write(nrag, texts=texts)
    plain = LocalStore(source).write(dataclasses.replace(nrag, settings={**nrag.settings, "tag": "no texts"}))
    for rid in (run_id, plain):
        assert (
            main(
                ["runs", "export", rid, str(tmp_path / "export" / rid), "--store", "local", "--store-path", str(source)]
            )
            == 0
        )
    assert (
        main(
            [
                "runs",
                "import",
                str(tmp_path / "export" / run_id),
                str(tmp_path / "export" / plain),
                "--store",
                "local",
                "--store-path",
                str(target),
            ]
        )
        == 0
    )
    back = LocalStore(target)
    assert back.texts(run_id) == texts
    assert back.region_texts(run_id, "1_1_0") == LocalStore(source).region_texts(run_id, "1_1_0")
    with pytest.raises(ValueError, match="stored without texts"):
        back.texts(plain)
