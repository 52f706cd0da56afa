"""The store contract: one list of checks that every :class:`~llm_mri_graphdb.store.base.Store` passes.

scikit-learn's ``parametrize_with_checks`` for our two stores: each check takes a store and a tag (so
runs of one test never meet another's in a shared database), writes its own runs, asserts hand-computed
values, column names and order, types, and the exact error lines, and deletes what it wrote. A check that
passes on both stores is an answer both give identically. ``tests/test_store_contract.py`` runs them on a
LocalStore (unit tier), ``tests/integration/test_store_contract.py`` on a Neo4jStore and across the two.
Every public method of ``Store`` is covered by at least one check (``test_every_store_method_is_checked``).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import pytest

from llm_mri_graphdb.analysis.metrics import compute_metrics
from llm_mri_graphdb.errors import QueryNotFound, RunNotFound
from llm_mri_graphdb.nrag.model import NRAG
from llm_mri_graphdb.store.base import Store
from llm_mri_graphdb.testing import nrag_from_paths, random_components_nrag

# The hand-checked sample of tests/integration/nrag_samples.py: 3 layers, labels ("neg", "pos").
#   t0 pos (0,0) (0,0) (1,1)    t1 pos (0,0) (0,0) (1,1)    t2 pos (0,0) (1,0) (1,1)
#   t3 neg (1,1) (1,0) (0,1)    t4 neg (1,1) (1,0) (1,1)
PATHS = [
    [(0, 0), (0, 0), (1, 1)],
    [(0, 0), (0, 0), (1, 1)],
    [(0, 0), (1, 0), (1, 1)],
    [(1, 1), (1, 0), (0, 1)],
    [(1, 1), (1, 0), (1, 1)],
]
LABELS = [1, 1, 1, 0, 0]
# A second run on the same corpus: layer 2 puts t0 alone in (0,0), t1..t4 in (1,1).
PATHS_B = [
    [(0, 0), (0, 0), (0, 0)],
    [(0, 0), (0, 0), (1, 1)],
    [(1, 1), (1, 1), (1, 1)],
    [(1, 1), (1, 0), (1, 1)],
    [(1, 1), (1, 0), (1, 1)],
]
RUN_KEYS = [
    "run_id",
    "model",
    "corpus",
    "corpus_fingerprint",
    "kind",
    "n_layers",
    "label_names",
    "n_regions",
    "n_edge_rows",
    "completed_at",
    "status",
]


def sample(tag: str, paths: list = PATHS, run: str = "a", *, corpus: str | None = None) -> NRAG:
    """The sample run ``run`` of model ``cm-<run>-<tag>`` on corpus ``cc-<tag>`` (fingerprint ``cf-<tag>``)."""
    corpus = corpus or tag
    meta = {"name": f"cc-{corpus}", "fingerprint": f"cf-{corpus}", "n_texts": 5, "label_names": ["neg", "pos"]}
    return nrag_from_paths(
        paths,
        LABELS,
        ("neg", "pos"),
        model={"name": f"cm-{run}-{tag}"},
        corpus=meta,
        settings={"reducer": "pca", "n_components": 2, "gridsize": 2, "tag": f"{run}-{tag}"},
    )


def texts(tag: str) -> list[str]:
    return [f"t{i} {tag}" for i in range(5)]


@contextmanager
def written(store: Store, *runs: tuple[NRAG, list[str] | None]) -> Iterator[list[str]]:
    """Write ``runs`` (NRAG, texts) for the block, then delete those still stored."""
    ids = [store.write(nrag, texts=t) for nrag, t in runs]
    try:
        yield ids
    finally:
        stored = {row["run_id"] for row in store.runs()}
        for run_id in dict.fromkeys(ids):
            if run_id in stored:
                store.delete(run_id)


def _same(expected: Any, actual: Any, path: str = "value") -> None:
    """Equal values, nan equal to nan, floats to 1e-9, dict keys in the same order."""
    if isinstance(expected, dict):
        assert list(expected) == list(actual), path
        for key in expected:
            _same(expected[key], actual[key], f"{path}.{key}")
    elif isinstance(expected, (list, tuple)):
        assert len(expected) == len(actual), path
        for i, (e, a) in enumerate(zip(expected, actual)):
            _same(e, a, f"{path}[{i}]")
    elif isinstance(expected, float) and not isinstance(expected, bool):
        assert isinstance(actual, float), f"{path}: {type(actual).__name__}"
        assert (math.isnan(expected) and math.isnan(actual)) or actual == pytest.approx(expected, abs=1e-9), path
    else:
        assert expected == actual and type(expected) is type(actual), f"{path}: {expected!r} != {actual!r}"


# -- the checks -----------------------------------------------------------------------------------
def check_write_read_round_trip(store: Store, tag: str) -> None:
    nrag = sample(tag)
    with written(store, (nrag, texts(tag))) as (run_id,):
        assert run_id == nrag.run_id
        back = store.read(run_id)
        assert back.equals(nrag)
        np.testing.assert_array_equal(back.paths, nrag.paths)
        np.testing.assert_array_equal(back.text_labels, LABELS)
        assert store.texts(run_id) == texts(tag)
    bare = sample(tag, run="bare")
    with written(store, (bare, None)) as (run_id,):
        back = store.read(run_id)
        assert back.paths is None and back.text_labels is None  # written without texts: neither is kept
        assert back.equals(dataclasses.replace(bare, paths=None, text_labels=None))


def check_write_replaces_the_run(store: Store, tag: str) -> None:
    nrag = sample(tag)
    heavier = dataclasses.replace(nrag, edge_weight=nrag.edge_weight * 2)
    with written(store, (nrag, None), (heavier, None)) as (run_id, same):
        assert same == run_id
        assert [r["run_id"] for r in store.runs()].count(run_id) == 1
        np.testing.assert_array_equal(store.read(run_id).edge_weight, nrag.edge_weight * 2)


def check_write_refuses_bad_input(store: Store, tag: str) -> None:
    nrag = sample(tag)
    with pytest.raises(TypeError, match=r"^nrag must be an NRAG; got str\.$"):
        store.write("not an nrag")  # type: ignore[arg-type]
    with pytest.raises(
        ValueError,
        match=r"^texts must hold the 5 texts the NRAG was built from, in corpus "
        r"order; got 4\.$",
    ):
        store.write(nrag, texts=texts(tag)[:4])
    skip = sample(tag, run="skip")
    target = np.array(skip.edge_target)
    target[0] = int(np.flatnonzero(skip.region_layer == 2)[0])  # layer 0 -> layer 2
    object.__setattr__(skip, "edge_target", target)  # past NRAG's own check, as a corrupted object would be
    with pytest.raises(
        ValueError,
        match=r"^nrag edges must join regions of neighbouring layers \(target layer = "
        r"source layer \+ 1\); edge row 0 joins layer 0 to layer 2",
    ):
        store.write(skip)
    assert skip.run_id not in {row["run_id"] for row in store.runs()}


def check_runs_models_corpora(store: Store, tag: str) -> None:
    a, b = sample(tag), sample(tag, PATHS_B, "b")
    with written(store, (a, texts(tag)), (b, None)) as (run_a, run_b):
        rows = {row["run_id"]: row for row in store.runs()}
        assert list(rows[run_a]) == RUN_KEYS
        expected = {
            "run_id": run_a,
            "model": f"cm-a-{tag}",
            "corpus": f"cc-{tag}",
            "corpus_fingerprint": f"cf-{tag}",
            "kind": "grid",
            "n_layers": 3,
            "label_names": ["neg", "pos"],
            "n_regions": 6,
            "n_edge_rows": 7,
            "status": "complete",
        }
        assert {k: rows[run_a][k] for k in expected} == expected
        assert isinstance(rows[run_a]["completed_at"], str)
        order = [r["run_id"] for r in store.runs() if r["run_id"] in (run_a, run_b)]
        assert order == [run_b, run_a]  # newest first
        models = [m for m in store.models() if str(m["name"]).endswith(tag)]  # other runs may have nameless models
        assert models == [
            {
                "key": f"cm-{r}-{tag}",
                "name": f"cm-{r}-{tag}",
                "architecture": None,
                "n_layers": None,
                "width": None,
                "n_runs": 1,
            }
            for r in ("a", "b")
        ]
        corpora = [c for c in store.corpora() if c["name"] == f"cc-{tag}"]
        assert corpora == [
            {"key": f"cf-{tag}", "name": f"cc-{tag}", "n_texts": 5, "label_names": ["neg", "pos"], "n_runs": 2}
        ]


def check_delete_and_unknown_runs(store: Store, tag: str) -> None:
    nrag = sample(tag)
    store.write(nrag)
    store.delete(nrag.run_id)
    assert nrag.run_id not in {row["run_id"] for row in store.runs()}
    line = rf"^run_id must name a stored run; got '{nrag.run_id}' \(see `llm-mri-graphdb runs ls`\)\.$"
    for call in (store.read, store.metrics, store.texts, lambda r: store.text_path(r, 0)):
        with pytest.raises(RunNotFound, match=line):
            call(nrag.run_id)
    with pytest.raises(RunNotFound, match=line.replace("runs ls", "runs ls --all")):  # delete takes leftovers too
        store.delete(nrag.run_id)
    assert store.gc() == [] or all(row["run_id"] != nrag.run_id for row in store.gc())


def check_metrics_equal_in_process(store: Store, tag: str) -> None:
    nrag = sample(tag)
    comp = random_components_nrag(3, label_names=("neg", "pos"), tag=tag)
    with written(store, (nrag, None), (comp, None)):
        for run in (nrag, comp):
            _same(compute_metrics(run), store.metrics(run.run_id), "all")
            _same(compute_metrics(run, ["pos"]), store.metrics(run.run_id, "pos"), "pos")
        with pytest.raises(ValueError, match=r"label"):
            store.metrics(nrag.run_id, ["nope"])


def check_text_questions(store: Store, tag: str) -> None:
    a, b = sample(tag), sample(tag, PATHS_B, "b")
    with written(store, (a, texts(tag)), (b, texts(tag))) as (run_a, run_b):
        t = texts(tag)
        assert store.region_texts(run_a, "0_0_0") == [{"index": i, "text": t[i], "label": "pos"} for i in (0, 1, 2)]
        assert store.region_texts(run_a, "1_1_0", label="neg", limit=1, offset=1) == [
            {"index": 4, "text": t[4], "label": "neg"}
        ]
        assert store.text_path(run_a, 3) == [
            {"layer": 0, "region": "0_1_1", "total": 2, "neg": 2, "pos": 0},
            {"layer": 1, "region": "1_1_0", "total": 3, "neg": 2, "pos": 1},
            {"layer": 2, "region": "2_0_1", "total": 1, "neg": 1, "pos": 0},
        ]
        assert store.co_travellers(run_a, 0) == [
            {"index": 1, "text": t[1], "label": "pos", "shared": 3},
            {"index": 2, "text": t[2], "label": "pos", "shared": 2},
            {"index": 4, "text": t[4], "label": "neg", "shared": 1},
        ]
        crossings = store.label_crossings(run_a)
        assert [row["index"] for row in crossings] == [4]
        assert list(crossings[0])[:3] == ["index", "text", "label"]
        diverging = store.diverging_texts(run_a, run_b, 2, 2)
        assert diverging and all(list(row) == list(diverging[0]) for row in diverging)
        for call, line in [
            (
                lambda: store.region_texts(run_a, "9_9_9"),
                r"^region must be an occupied region of run \w+ such as '0_0_0' \('layer_x_y'\); got '9_9_9'\.$",
            ),
            (
                lambda: store.text_path(run_a, 5),
                r"^idx must be a text index in \[0, 4\] \(or -5 to -1, counted from the end\); got 5\.$",
            ),
            (
                lambda: store.co_travellers(run_a, 0, limit=-1),
                r"^limit must be an int in \[0, 9223372036854775807\]; got -1\.$",
            ),
            (
                lambda: store.region_texts(run_a, "0_0_0", offset=-2),
                r"^offset must be an int in \[0, 9223372036854775807\]; got -2\.$",
            ),
            (lambda: store.diverging_texts(run_a, run_b, 0, 3), r"^layer_b must be a layer in \[0, 2\]; got 3\.$"),
        ]:
            with pytest.raises(ValueError, match=line):
                call()


def check_text_questions_refuse_runs_without_texts(store: Store, tag: str) -> None:
    a, other = sample(tag), sample(tag, run="other", corpus=f"{tag}-other")
    bare = sample(tag, run="bare")
    with written(store, (a, texts(tag)), (other, texts(tag)), (bare, None)) as (run_a, run_other, run_bare):
        with pytest.raises(
            ValueError,
            match=rf"^run {run_bare} was stored without texts; scan it again without "
            r"--no-texts \(texts=True\) to ask about its texts\.$",
        ):
            store.label_crossings(run_bare)
        with pytest.raises(
            ValueError,
            match=rf"^run_a and run_b must be on the same corpus; {run_a} is on "
            rf"'cc-{tag}' and {run_other} on 'cc-{tag}-other'\.$",
        ):
            store.diverging_texts(run_a, run_other, 0, 0)


def check_query(store: Store, tag: str) -> None:
    nrag = sample(tag)
    with written(store, (nrag, texts(tag))) as (run_id,):
        assert store.query("co_travellers", run_id=run_id, idx=0, limit=1) == [
            {"index": 1, "text": texts(tag)[1], "label": "pos", "shared": 3}
        ]
        with pytest.raises(QueryNotFound):
            store.query("no_such_query")
        with pytest.raises(ValueError, match="limit"):
            store.query("co_travellers", run_id=run_id, idx=0, limit=-1)


def check_alignment(store: Store, tag: str) -> None:
    a, b = sample(tag), sample(tag, PATHS_B, "b")
    with written(store, (a, texts(tag)), (b, texts(tag))) as (run_a, run_b):
        assert store.alignment(run_a, run_b) is None
        with pytest.warns(UserWarning, match="CKA is skipped"):
            result = store.compare(run_a, run_b)
        assert result.cka is None and result.ami.shape == (3, 3)
        back = store.alignment(run_b, run_a)
        np.testing.assert_allclose(back.ami, result.ami.T, atol=1e-12)
        rows = store.layer_alignment(run_a, measure="ami")
        assert [list(row) for row in rows][:1] == [
            ["layer", "model", "run_id", "best_layer", "n_layers", "score", "cka", "cka_debiased", "cka_null_p", "ami"]
        ]
        assert [(r["layer"], r["run_id"], r["cka"]) for r in rows] == [(i, run_b, None) for i in range(3)]
        assert result.cka_debiased is None and result.cka_null_p is None
        assert back.cka is None and back.cka_debiased is None and back.cka_null_p is None
        assert [(r["cka_debiased"], r["cka_null_p"]) for r in rows] == [(None, None)] * 3
        assert store.layer_alignment(run_a, measure="cka") == []
        assert store.layer_alignment(run_a, measure="cka_null_p") == []
        with pytest.raises(
            ValueError,
            match=r"^measure must be one of \('cka', 'cka_debiased', 'cka_null_p', "
            r"'ami'\); got 'cca'\.$",
        ):
            store.layer_alignment(run_a, measure="cca")
        store.delete(run_b)
        assert store.alignment(run_a, run_b) is None and store.layer_alignment(run_a, measure="ami") == []


def check_analyze_names_its_parts(store: Store, tag: str) -> None:
    nrag = sample(tag)
    with written(store, (nrag, None)) as (run_id,):
        result = store.analyze(run_id, ["louvain", "pagerank"])
        assert {"labels", "algorithms", "communities", "centrality", "membership"} <= set(result)
        assert result["labels"] == ["neg", "pos"]
        assert set(result["membership"]["louvain"]) == set(nrag.region_ids())


def check_show(store: Store, tag: str) -> None:
    nrag = sample(tag)
    with written(store, (nrag, texts(tag))) as (run_id,):
        view = store.show(run_id)
        assert view is not None


def check_metric_statistics_equal_in_process(store: Store, tag: str) -> None:
    from llm_mri_graphdb.analysis.statistics import metric_contrasts, metric_statistics

    nrag = sample(tag)
    with written(store, (nrag, texts(tag))) as (run_id,):
        frame = store.metric_statistics(run_id, n_permutations=5, n_bootstrap=5, seed=0)
        pd.testing.assert_frame_equal(frame, metric_statistics(nrag, None, 5, 5, 0))
        store.save_statistics(run_id, frame)
        pd.testing.assert_frame_equal(
            store.metric_contrasts(run_id, n_permutations=5, n_bootstrap=5, seed=0),
            metric_contrasts(nrag, None, 5, 5, 0),
        )


def check_probe_round_trip(store: Store, tag: str) -> None:
    probe = {"curve": {"chance": 0.5, "layer0": 1.0}, "labels": ["a", "b"]}
    with written(store, (sample(tag), texts(tag))) as (run_id,):
        assert store.probe(run_id) is None
        store.save_probe(run_id, probe)
        assert store.probe(run_id) == probe
        store.save_probe(run_id, {**probe, "curve": {"chance": 0.25}})  # replaced, not added
        assert store.probe(run_id)["curve"] == {"chance": 0.25}
        store.delete(run_id)
    assert store.probe(run_id) is None  # goes with its run
    with pytest.raises(RunNotFound):
        store.save_probe(run_id, probe)


CHECKS: list[Callable[[Store, str], None]] = [
    check_write_read_round_trip,
    check_write_replaces_the_run,
    check_write_refuses_bad_input,
    check_runs_models_corpora,
    check_delete_and_unknown_runs,
    check_metrics_equal_in_process,
    check_text_questions,
    check_text_questions_refuse_runs_without_texts,
    check_query,
    check_alignment,
    check_analyze_names_its_parts,
    check_show,
    check_metric_statistics_equal_in_process,
    check_probe_round_trip,
]

#: Public methods of Store and the checks that call them (kept honest by test_every_store_method_is_checked).
COVERED = {
    "write",
    "read",
    "texts",
    "runs",
    "models",
    "corpora",
    "delete",
    "gc",
    "metrics",
    "analyze",
    "query",
    "region_texts",
    "text_path",
    "co_travellers",
    "label_crossings",
    "diverging_texts",
    "show",
    "compare",
    "alignment",
    "layer_alignment",
    "close",
    "save_alignment",
    "metric_statistics",
    "save_statistics",
    "metric_contrasts",
    "save_probe",
    "probe",
}


def public_methods() -> set[str]:
    return {name for name in dir(Store) if not name.startswith("_") and callable(getattr(Store, name))}


def check_id(check: Callable[..., Any]) -> str:
    return re.sub(r"^check_", "", check.__name__)
