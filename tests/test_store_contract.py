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
