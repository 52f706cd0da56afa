"""``degenerate_layers`` on the Run: written and read back by Neo4j and the embedded store alike."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from llm_mri_graphdb.nrag.model import build_nrag_from_reduced
from llm_mri_graphdb.store import MemoryStore

pytestmark = pytest.mark.integration


def _nrag(flat_layers, tag):
    rng = np.random.default_rng(5)
    reduced = [np.zeros((20, 2)) if layer in flat_layers else rng.normal(size=(20, 2)) for layer in range(4)]
    return build_nrag_from_reduced(reduced, np.arange(20) % 2, ["a", "b"], gridsize=3, settings={"tag": tag})


@pytest.mark.parametrize("flat", [(), (0,), (0, 3)])
def test_degenerate_layers_round_trip_in_both_stores(store, tmp_path, flat):
    nrag = _nrag(flat, f"degenerate-{uuid.uuid4().hex[:8]}")
    assert nrag.degenerate_layers == flat
    run_id = store.write(nrag)
    try:
        back = store.read(run_id)
        assert back.equals(nrag) and back.degenerate_layers == flat
        props = store.runner.read("read_run", run_id=run_id)[0]["run"]
        assert props["degenerate_layers"] == list(flat)  # a Run property, empty list when none
        local = MemoryStore(tmp_path)
        assert MemoryStore(tmp_path).read(local.write(nrag)).degenerate_layers == flat
    finally:
        store.delete(run_id)
