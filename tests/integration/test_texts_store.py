"""Texts in the stores: (:Text) nodes and IN memberships in Neo4j, the text queries on both stores.

Hand-checked answers on a five-text sample, the demo corpus scanned with MiniLM
(region members rebuilt from the reduced activations by ``pandas.cut``), Neo4j
against LocalStore, rewrite and delete semantics, and idempotent batches.
"""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from llm_mri_graphdb.data import load_corpus
from llm_mri_graphdb.extract import extract_activations
from llm_mri_graphdb.nrag.model import build_nrag
from llm_mri_graphdb.pipeline import demo_corpus_path, demo_model_path, make_reducer
from llm_mri_graphdb.reduce.layers import reduce_layers
from llm_mri_graphdb.store import LocalStore, Neo4jStore
from llm_mri_graphdb.store.neo4j.records import membership_groups
from llm_mri_graphdb.testing import random_components_nrag
from tests.integration.nrag_samples import QUERY_LABELS, QUERY_PATHS, nrag_from_paths

pytestmark = pytest.mark.integration

TAG = uuid.uuid4().hex[:8]
TEXTS = [f"t{i} {TAG}" for i in range(5)]
# A second run on the sample's corpus (see nrag_samples): layer 2 puts t0 alone in (0,0), t1..t4 in (1,1).
PATHS_C = [
    [(0, 0), (0, 0), (0, 0)],
    [(0, 0), (0, 0), (1, 1)],
    [(1, 1), (1, 1), (1, 1)],
    [(1, 1), (1, 0), (1, 1)],
    [(1, 1), (1, 0), (1, 1)],
]


def _sample(paths, tag):
    corpus = {"name": f"tc-{TAG}", "fingerprint": f"tc-{TAG}", "n_texts": 5, "label_names": ["neg", "pos"]}
    return nrag_from_paths(
        paths,
        QUERY_LABELS,
        ("neg", "pos"),
        model={"name": f"tm-{TAG}"},
        corpus=corpus,
        settings={"reducer": "pca", "n_components": 2, "gridsize": 2, "tag": f"{tag}-{TAG}"},
    )


def _count(store, query, **params):
    records, _, _ = store.runner.driver.execute_query(query, params, database_=store.database)
    return records[0].data()


def _texts_of(store, corpus):
    return _count(store, "MATCH (t:Text {corpus: $c}) RETURN count(t) AS n", c=corpus)["n"]


@pytest.fixture(scope="module")
def neo(neo4j_settings):
    with Neo4jStore.from_settings(neo4j_settings, batch_size=3) as store:  # small batches: many of each kind
        yield store


@pytest.fixture(scope="module")
def sample(neo):
    a, c = _sample(QUERY_PATHS, "a"), _sample(PATHS_C, "c")
    local = LocalStore()
    for nrag in (a, c):
        neo.write(nrag, texts=TEXTS)
        local.write(nrag, texts=TEXTS)
    try:
        yield {"neo4j": neo, "local": local}, a.run_id, c.run_id
    finally:
        neo.delete(a.run_id)
        neo.delete(c.run_id)


@pytest.fixture(params=["neo4j", "local"])
def stores(request, sample):
    both, a, c = sample
    return both[request.param], a, c


# -- hand-checked answers, the same from both stores -------------------------------------------------------
def test_region_texts_hand_checked(stores):
    store, a, _ = stores
    assert store.region_texts(a, "1_1_0") == [
        {"index": i, "text": TEXTS[i], "label": lab} for i, lab in ((2, "pos"), (3, "neg"), (4, "neg"))
    ]
    assert [r["index"] for r in store.region_texts(a, "1_1_0", label="neg")] == [3, 4]
    assert [r["index"] for r in store.region_texts(a, "1_1_0", limit=1, offset=1)] == [3]


def test_text_path_hand_checked(stores):
    store, a, _ = stores
    assert store.text_path(a, 2) == [
        {"layer": 0, "region": "0_0_0", "total": 3, "neg": 0, "pos": 3},
        {"layer": 1, "region": "1_1_0", "total": 3, "neg": 2, "pos": 1},
        {"layer": 2, "region": "2_1_1", "total": 4, "neg": 1, "pos": 3},
    ]


def test_texts_and_show_of_a_stored_run(stores):
    store, a, _ = stores
    assert store.texts(a) == TEXTS
    nodes = {node.id: node.properties for node in store.show(a).nodes}
    assert sorted(nodes) == ["0_0_0", "0_1_1", "1_0_0", "1_1_0", "2_0_1", "2_1_1"]
    assert [nodes["1_1_0"][f"example {k}"] for k in (1, 2, 3)] == [TEXTS[2], TEXTS[3], TEXTS[4]]
    assert (nodes["1_1_0"]["neg"], nodes["1_1_0"]["pos"]) == (2, 1)
    assert sorted(node.id for node in store.show(a, layers=[-1], color_by="layer").nodes) == ["2_0_1", "2_1_1"]


@pytest.mark.parametrize(
    "name, params",
    [
        ("region_texts", {"region": "1_1_0", "label": "neg"}),
        ("region_texts", {"region": "2_1_1", "limit": 2, "offset": 1}),
        ("text_path", {"idx": 3}),
        ("co_travellers", {"idx": 0}),
        ("label_crossings", {}),
    ],
)
def test_library_text_queries_give_the_same_rows_on_both_stores(sample, name, params):
    (both, a, _) = sample
    rows = both["neo4j"].query(name, run_id=a, **params)
    assert rows and rows == both["local"].query(name, run_id=a, **params)


def test_library_diverging_texts_gives_the_same_rows_on_both_stores(sample):
    both, a, c = sample
    rows = both["neo4j"].query("diverging_texts", run_a=a, run_b=c, layer_a=2, layer_b=2)
    assert rows and rows == both["local"].query("diverging_texts", run_a=a, run_b=c, layer_a=2, layer_b=2)


def test_co_travellers_hand_checked(stores):
    store, a, _ = stores
    assert [(r["index"], r["shared"]) for r in store.co_travellers(a, 0)] == [(1, 3), (2, 2), (4, 1)]
    assert [(r["index"], r["shared"]) for r in store.co_travellers(a, 4)] == [(2, 2), (3, 2), (0, 1), (1, 1)]
    assert [r["index"] for r in store.co_travellers(a, 4, limit=1)] == [2]


def test_label_crossings_hand_checked(stores):
    store, a, _ = stores
    assert store.label_crossings(a) == [
        {
            "index": 4,
            "text": TEXTS[4],
            "label": "neg",
            "region": "2_1_1",
            "dominant_label": "pos",
            "label_count": 1,
            "dominant_count": 3,
        }
    ]


def test_diverging_texts_hand_checked(stores):
    store, a, c = stores
    rows = store.diverging_texts(a, c, 2, 2)
    got = [(r["together"], r["i"], r["j"], r["region"], r["region_i"], r["region_j"]) for r in rows]
    assert got == [
        ("a", 0, 1, "2_1_1", "2_0_0", "2_1_1"),
        ("a", 0, 2, "2_1_1", "2_0_0", "2_1_1"),
        ("a", 0, 4, "2_1_1", "2_0_0", "2_1_1"),
        ("b", 1, 3, "2_1_1", "2_1_1", "2_0_1"),
        ("b", 2, 3, "2_1_1", "2_1_1", "2_0_1"),
        ("b", 3, 4, "2_1_1", "2_0_1", "2_1_1"),
    ]
    assert len(store.diverging_texts(a, c, 2, 2, limit=4)) == 4
    assert store.diverging_texts(a, a, 1, 1) == []


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda s, a, c: s.region_texts(a, "7_0_0"), r"region must be an occupied region .* such as '0_0_0'"),
        (
            lambda s, a, c: s.text_path(a, 5),
            r"idx must be a text index in \[0, 4\] \(or -5 to -1, counted from the end\); got 5",
        ),
        (lambda s, a, c: s.co_travellers(a, -6), r"idx must be a text index in \[0, 4\] \(or -5 to -1"),
        (lambda s, a, c: s.region_texts(a, "1_1_0", label="maybe"), r"maybe"),
        (lambda s, a, c: s.label_crossings(a, limit=-2), r"limit must be an int in \[0, 9223372036854775807\]; got -2"),
        (lambda s, a, c: s.diverging_texts(a, c, 3, 0), r"layer_a must be a layer in \[0, 2\]; got 3"),
    ],
)
def test_text_queries_bad_input_one_line(stores, call, match):
    store, a, c = stores
    with pytest.raises(ValueError, match=match):
        call(store, a, c)


def test_read_returns_paths_and_text_labels(stores):
    store, a, _ = stores
    back, want = store.read(a), _sample(QUERY_PATHS, "a")
    assert back.equals(want)
    np.testing.assert_array_equal(back.paths, want.paths)
    np.testing.assert_array_equal(back.text_labels, QUERY_LABELS)


# -- what Neo4j holds ---------------------------------------------------------------------------------------
def test_neo4j_texts_once_per_corpus_with_memberships(sample):
    both, a, c = sample
    neo = both["neo4j"]
    corpus = f"tc-{TAG}"
    assert _count(
        neo,
        "MATCH (:Corpus {fingerprint: $c})-[:HAS_TEXT]->(t:Text) RETURN count(t) AS n, "
        "collect(t.uid)[0] STARTS WITH $c AS keyed",
        c=corpus,
    ) == {"n": 5, "keyed": True}
    for run_id in (a, c):  # one IN per text and layer, to this version's regions of the right layer
        row = _count(
            neo,
            "MATCH (r:Run {id: $id}) MATCH (t:Text)-[:IN]->(g:Region {version: r.version}) "
            "RETURN count(*) AS n, count(DISTINCT t) AS texts, "
            "sum(CASE WHEN g.layer >= 0 AND g.layer < 3 THEN 0 ELSE 1 END) AS wrong",
            id=run_id,
        )
        assert row == {"n": 15, "texts": 5, "wrong": 0}


def test_neo4j_rewrite_leaves_no_stale_memberships(neo):
    nrag = _sample(QUERY_PATHS, "rewrite")
    try:
        neo.write(nrag, texts=TEXTS)
        neo.write(nrag, texts=TEXTS)
        row = _count(
            neo,
            "MATCH (r:Run {run_id: $id}) WITH collect(r.version) AS versions "
            "MATCH (t:Text {corpus: $c})-[:IN]->(g:Region) WHERE g.run_id = $id "
            "RETURN count(*) AS n, count(DISTINCT g.version) AS versions_in, size(versions) AS runs",
            id=nrag.run_id,
            c=f"tc-{TAG}",
        )
        assert row == {"n": 15, "versions_in": 1, "runs": 1}
        assert [r["index"] for r in neo.region_texts(nrag.run_id, "1_1_0")] == [2, 3, 4]
        neo.write(nrag)  # rewritten without texts: no memberships left, the corpus's texts stay (other runs)
        assert (
            _count(neo, "MATCH (:Text)-[m:IN]->(g:Region {run_id: $id}) RETURN count(m) AS n", id=nrag.run_id)["n"] == 0
        )
        assert neo.read(nrag.run_id).paths is None
        with pytest.raises(ValueError, match="stored without texts"):
            neo.region_texts(nrag.run_id, "1_1_0")
    finally:
        neo.delete(nrag.run_id)


def test_neo4j_delete_keeps_texts_while_another_run_uses_them(neo):
    corpus = f"kc-{TAG}"
    first, second = (
        nrag_from_paths(
            p,
            QUERY_LABELS,
            ("neg", "pos"),
            model={"name": f"tm-{TAG}"},
            corpus={"name": corpus, "fingerprint": corpus},
            settings={"tag": f"{t}-{TAG}"},
        )
        for p, t in ((QUERY_PATHS, 1), (PATHS_C, 2))
    )
    neo.write(first, texts=TEXTS)
    neo.write(second, texts=TEXTS)
    assert _texts_of(neo, corpus) == 5
    neo.delete(first.run_id)
    assert _texts_of(neo, corpus) == 5
    assert [r["index"] for r in neo.region_texts(second.run_id, "2_1_1")] == [1, 2, 3, 4]
    neo.delete(second.run_id)
    assert _texts_of(neo, corpus) == 0


def test_neo4j_component_run_stores_texts_without_memberships(neo):
    nrag = random_components_nrag(3, tag=TAG)
    labels = np.arange(40) % nrag.n_labels
    nrag = dataclasses.replace(nrag, text_labels=labels, corpus={"name": f"nd-{TAG}", "fingerprint": f"nd-{TAG}"})
    texts = [f"c{i}" for i in range(40)]
    try:
        neo.write(nrag, texts=texts)
        corpus = f"nd-{TAG}"
        assert _texts_of(neo, corpus) == 40
        assert (
            _count(neo, "MATCH (:Text)-[m:IN]->(:Region {run_id: $id}) RETURN count(m) AS n", id=nrag.run_id)["n"] == 0
        )
        back = neo.read(nrag.run_id)
        assert back.paths is None
        np.testing.assert_array_equal(back.text_labels, labels)
        with pytest.raises(ValueError, match="is a components run: its texts have no region"):
            neo.text_path(nrag.run_id, 0)
    finally:
        neo.delete(nrag.run_id)
    assert _texts_of(neo, corpus) == 0


def test_neo4j_membership_batch_is_a_noop_once_applied(neo):
    """A batch retried after its commit (a lost acknowledgement) creates nothing."""
    nrag = _sample(QUERY_PATHS, "retry")
    try:
        neo.write(nrag, texts=TEXTS)
        version = _count(neo, "MATCH (r:Run {id: $id}) RETURN r.version AS v", id=nrag.run_id)["v"]
        batch = {**membership_groups(nrag, 3)[0][1], "version": version, "corpus": f"tc-{TAG}"}
        assert neo.runner.write_batch("create_memberships", batch).relationships_created == 0
        merged = neo.runner.write_batch(
            "merge_texts", {"corpus": f"tc-{TAG}", "idx": [0, 1], "text": TEXTS[:2], "label": ["pos", "pos"]}
        )
        assert (merged.nodes_created, merged.relationships_created) == (0, 0)
        assert (
            _count(neo, "MATCH (:Text)-[m:IN]->(:Region {run_id: $id}) RETURN count(m) AS n", id=nrag.run_id)["n"] == 15
        )
    finally:
        neo.delete(nrag.run_id)


def test_neo4j_write_rejects_texts_of_another_length(neo):
    nrag = _sample(QUERY_PATHS, "bad")
    with pytest.raises(ValueError, match="texts must hold the 5 texts"):
        neo.write(nrag, texts=TEXTS[:4])
    assert _count(neo, "MATCH (r:Run {run_id: $id}) RETURN count(r) AS n", id=nrag.run_id)["n"] == 0


# -- the demo corpus, scanned with MiniLM ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo(neo, tmp_path_factory):
    cache = tmp_path_factory.mktemp("activations")
    dataset = load_corpus(demo_corpus_path())
    acts = extract_activations(str(demo_model_path()), dataset, device="cpu", cache_dir=cache, progress=False)
    reducer = make_reducer("pca", 2, random_state=0)
    reduced = reduce_layers(acts, reducer)
    nrag = build_nrag(acts, reducer, reduced=reduced, gridsize=6)
    texts = list(dataset["text"])
    local = LocalStore(tmp_path_factory.mktemp("runs"))
    neo.write(nrag, texts=texts)
    local.write(nrag, texts=texts)
    try:
        yield {
            "nrag": nrag,
            "reduced": reduced,
            "texts": texts,
            "cache": cache,
            "neo4j": neo,
            "local": LocalStore(local.path),
            "labels": np.asarray(dataset["label"]),
        }
    finally:
        neo.delete(nrag.run_id)


def test_demo_activations_path_is_the_cache_entry(demo):
    nrag = demo["nrag"]
    path = Path(nrag.activations_path)
    assert path.is_absolute() and path.parent == Path(demo["cache"]).resolve()
    assert (path / "manifest.json").is_file() and (path / "layer_000.npy").is_file()
    again = extract_activations(
        str(demo_model_path()), demo_corpus_path(), device="cpu", cache_dir=demo["cache"], progress=False
    )  # a cache hit reports the same entry
    assert again.path == nrag.activations_path
    for store in (demo["neo4j"], demo["local"]):
        back = store.read(nrag.run_id)
        assert back.activations_path == nrag.activations_path
        np.testing.assert_array_equal(back.paths, nrag.paths)
        np.testing.assert_array_equal(back.text_labels, demo["labels"])


def test_demo_region_texts_are_the_texts_in_that_cell(demo):
    """The members of a region, rebuilt from the reduced activations with pandas.cut, on both stores."""
    nrag, texts = demo["nrag"], demo["texts"]
    cells = [
        [f"{layer}_{x}_{y}" for x, y in zip(pd.cut(r[:, 0], 6, labels=False), pd.cut(r[:, 1], 6, labels=False))]
        for layer, r in enumerate(demo["reduced"])
    ]
    n = len(texts)
    for layer in (0, nrag.n_layers // 2, nrag.n_layers - 1):
        for region in sorted(set(cells[layer]), key=cells[layer].count, reverse=True)[:2]:
            want = [
                {"index": i, "text": texts[i], "label": nrag.label_names[demo["labels"][i]]}
                for i in range(n)
                if cells[layer][i] == region
            ]
            assert demo["neo4j"].region_texts(nrag.run_id, region, limit=n) == want
            assert demo["local"].region_texts(nrag.run_id, region, limit=n) == want


def test_demo_text_path_is_the_nrag_path(demo):
    nrag = demo["nrag"]
    ids = nrag.region_ids()
    for idx in (0, 17, len(demo["texts"]) - 1):
        rows = demo["neo4j"].text_path(nrag.run_id, idx)
        assert [r["region"] for r in rows] == [ids[r] for r in nrag.paths[idx]]
        assert [[r[name] for name in nrag.label_names] for r in rows] == nrag.region_counts[nrag.paths[idx]].tolist()
        assert rows == demo["local"].text_path(nrag.run_id, idx)


def test_demo_neo4j_and_local_store_answer_the_same(demo):
    nrag, neo, local = demo["nrag"], demo["neo4j"], demo["local"]
    run, last = nrag.run_id, nrag.n_layers - 1
    for name, args, kwargs in [
        ("co_travellers", (run, 3), {"limit": 50}),
        ("co_travellers", (run, 250), {}),
        ("label_crossings", (run,), {"limit": 300}),
        ("diverging_texts", (run, run, 1, last), {"limit": 100}),
        (
            "region_texts",
            (run, nrag.region_ids()[nrag.paths[5, last]]),
            {"label": int(nrag.text_labels[5]), "offset": 1},
        ),
    ]:
        got = getattr(neo, name)(*args, **kwargs)
        assert got and got == getattr(local, name)(*args, **kwargs), name


def test_neo4j_failed_write_keeps_the_published_run_and_its_texts(neo, monkeypatch):
    """A write failing after its memberships (here: a wrong membership count) removes only its own version."""
    corpus = f"fail-{TAG}"
    nrag = nrag_from_paths(
        QUERY_PATHS,
        QUERY_LABELS,
        ("neg", "pos"),
        model={"name": f"tm-{TAG}"},
        corpus={"name": corpus, "fingerprint": corpus},
        settings={"tag": f"fail-{TAG}"},
    )
    read = neo.runner.read

    def wrong_count(name, **params):
        return [{"n": -1}] if name == "read_membership_count" else read(name, **params)

    try:
        neo.write(nrag, texts=TEXTS)
        monkeypatch.setattr(neo.runner, "read", wrong_count)
        with pytest.raises(RuntimeError, match=r"holds -1 of its 15 text memberships"):
            neo.write(nrag, texts=TEXTS)
        monkeypatch.undo()
        row = _count(
            neo,
            "MATCH (r:Run {run_id: $id}) WITH collect(r) AS runs "
            "MATCH (:Text)-[m:IN]->(g:Region {run_id: $id}) "
            "RETURN size(runs) AS runs, count(m) AS n, count(DISTINCT g.version) AS versions",
            id=nrag.run_id,
        )
        assert row == {"runs": 1, "n": 15, "versions": 1}
        assert [r["index"] for r in neo.region_texts(nrag.run_id, "1_1_0")] == [2, 3, 4]
    finally:
        monkeypatch.undo()
        neo.delete(nrag.run_id)
    monkeypatch.setattr(neo.runner, "read", wrong_count)  # a first write that fails leaves no texts behind
    with pytest.raises(RuntimeError, match="text memberships"):
        neo.write(nrag, texts=TEXTS)
    monkeypatch.undo()
    assert _texts_of(neo, corpus) == 0
    assert _count(neo, "MATCH (r:Run {run_id: $id}) RETURN count(r) AS n", id=nrag.run_id)["n"] == 0
