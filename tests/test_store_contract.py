"""The store contract (tests/store_contract.py) on a LocalStore, in memory and in a folder; the same checks
run on a Neo4jStore in tests/integration/test_store_contract.py."""

from __future__ import annotations

import uuid

import pytest

from llm_mri_graphdb.store import LocalStore
from llm_mri_graphdb.store.base import Store
from tests.store_contract import CHECKS, COVERED, check_id, public_methods

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("folder", [False, True], ids=["memory", "folder"])
@pytest.mark.parametrize("check", CHECKS, ids=check_id)
def test_local_store_meets_the_contract(check, folder, tmp_path):
    with LocalStore(tmp_path if folder else None) as store:
        check(store, uuid.uuid4().hex[:8])


def test_every_store_method_is_checked():
    assert public_methods() == COVERED


def test_stores_subclass_the_contract():
    from llm_mri_graphdb.store.neo4j.store import Neo4jStore

    assert issubclass(LocalStore, Store) and issubclass(Neo4jStore, Store)
    assert not LocalStore.__abstractmethods__ and not Neo4jStore.__abstractmethods__
    with pytest.raises(TypeError, match="abstract"):
        Store()  # type: ignore[abstract]


def test_scan_closes_the_store_it_opens_and_only_that(tmp_path, monkeypatch):
    import pandas as pd

    from llm_mri_graphdb import pipeline
    from tests.tiny_models import LABELS, TEXTS, save_tiny_model

    closed: list = []

    class ClosingRecorded(LocalStore):
        def close(self) -> None:
            closed.append(self.path)

    monkeypatch.setattr(pipeline, "open_store", lambda *a, **k: ClosingRecorded(tmp_path / "opened"))
    model = save_tiny_model("bert", tmp_path / "bert")
    corpus = tmp_path / "corpus.csv"
    pd.DataFrame({"text": TEXTS, "label": LABELS}).to_csv(corpus, index=False)
    run = dict(device="cpu", gridsize=3, probe=False, progress=False, out=tmp_path / "out")
    result = pipeline.scan(str(model), str(corpus), **run)
    assert closed == [tmp_path / "opened"]
    assert ClosingRecorded(tmp_path / "opened").read(result.run_id).equals(result.nrag)
    pipeline.scan(str(model), str(corpus), store=ClosingRecorded(tmp_path / "given"), **run)
    assert closed == [tmp_path / "opened"]  # a store the caller passed stays open
