"""What the Neo4j store sends: region rows and flow batches built from an NRAG (no database)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from llm_mri_graphdb.nrag.model import NRAG
from llm_mri_graphdb.store import cypher
from llm_mri_graphdb.store.neo4j.records import (
    LABEL_FLOW,
    TOTAL_FLOW,
    flow_batches,
    n_relationships,
    region_packed_flows,
    region_rows,
)
from llm_mri_graphdb.store.neo4j.runner import _IDEMPOTENT


def _random_nrag(seed: int, n_layers: int = 5, n_labels: int = 3) -> NRAG:
    rng = np.random.default_rng(seed)
    cells = [np.unique(rng.integers(0, 4, (6, 2)), axis=0) for _ in range(n_layers)]
    layer = np.concatenate([np.full(len(c), i) for i, c in enumerate(cells)])
    xy = np.concatenate(cells)
    first = np.r_[0, np.cumsum([len(c) for c in cells])]
    rows = set()
    for i in range(n_layers - 1):
        for _ in range(15):
            rows.add(
                (
                    first[i] + rng.integers(len(cells[i])),
                    first[i + 1] + rng.integers(len(cells[i + 1])),
                    rng.integers(n_labels),
                )
            )
    src, tgt, lab = np.array(sorted(rows)).T
    return NRAG(
        "grid",
        n_layers,
        tuple("abc"[:n_labels]),
        layer,
        xy[:, 0],
        xy[:, 1],
        np.ones((layer.size, n_labels), np.int64),
        src,
        tgt,
        lab,
        rng.uniform(1, 5, src.size),
    )


@pytest.mark.parametrize("size", [1, 4, 7, 1000])
def test_flow_batches_rebuild_every_edge_once(size):
    nrag = _random_nrag(size)
    position = np.concatenate([np.arange(np.sum(nrag.region_layer == i)) for i in range(nrag.n_layers)])
    first = {i: int(np.flatnonzero(nrag.region_layer == i)[0]) for i in range(nrag.n_layers)}
    got, totals = [], {}
    for group in flow_batches(nrag, size):
        assert len({b.layer for b in group}) == 1
        for batch in group:
            assert batch.n_relationships < size + 1 + nrag.n_labels  # whole pairs, about size
            assert len(set(zip(batch.s, batch.t))) == len(batch.s)
            for s, t, label, w in zip(batch.fs, batch.ft, batch.fl, batch.fw):
                got.append((first[batch.layer] + s, first[batch.layer + 1] + t, label, w))
                assert (s, t) in set(zip(batch.s, batch.t))
            for s, t, total in zip(batch.s, batch.t, batch.total):
                totals[(first[batch.layer] + s, first[batch.layer + 1] + t)] = total
    want = sorted(
        zip(nrag.edge_source.tolist(), nrag.edge_target.tolist(), nrag.edge_label.tolist(), nrag.edge_weight.tolist())
    )
    assert sorted(got) == want
    for (s, t), total in totals.items():
        rows = (nrag.edge_source == s) & (nrag.edge_target == t)
        assert total == pytest.approx(nrag.edge_weight[rows].sum())
    assert len(totals) + len(got) == n_relationships(nrag)
    assert all(position[s] >= 0 for s, *_ in got)


def test_flow_batches_split_a_layer_pair_at_the_size():
    nrag = _random_nrag(3)
    pairs0 = len(set(zip(*[a[nrag.region_layer[nrag.edge_source] == 0] for a in (nrag.edge_source, nrag.edge_target)])))
    group = flow_batches(nrag, 4)[0]
    assert len(group) > 1 and sum(len(b.s) for b in group) == pairs0


def test_region_rows_are_keyed_by_version_in_canonical_order():
    nrag = _random_nrag(1)
    rows = region_rows(nrag, "run#v1")
    assert [r[2] for r in rows] == list(range(nrag.n_regions))
    assert rows[0][0] == f"run#v1:{nrag.region_ids()[0]}" and rows[0][7] == nrag.n_labels
    assert [r[8:] for r in rows] == [list(p) for p in zip(*region_packed_flows(nrag))]


@pytest.mark.parametrize("seed", [0, 5])
def test_region_packed_flows_hold_each_regions_flows_and_the_flow_batches_totals(seed):
    nrag = _random_nrag(seed)
    total, label = region_packed_flows(nrag)
    assert len(total) == len(label) == nrag.n_regions
    got = []
    for region, data in enumerate(label):
        records = np.frombuffer(data, LABEL_FLOW)
        keys = list(zip(records["target"].tolist(), records["label"].tolist()))
        assert keys == sorted(keys)  # by target, then label
        got += [(region, t, k, w) for (t, k), w in zip(keys, records["weight"].tolist())]
    want = zip(
        nrag.edge_source.tolist(), nrag.edge_target.tolist(), nrag.edge_label.tolist(), nrag.edge_weight.tolist()
    )
    assert got == sorted(want)  # every label row once, exactly
    batches = {}  # what create_flows writes as :FLOWS_TOTAL, keyed (source, target)
    first = {i: int(np.flatnonzero(nrag.region_layer == i)[0]) for i in range(nrag.n_layers)}
    for group in flow_batches(nrag, 1000):
        for b in group:
            for s, t, w in zip(b.s, b.t, b.total):
                batches[(first[b.layer] + s, first[b.layer + 1] + t)] = w
    packed = {
        (region, int(t)): float(w)
        for region, data in enumerate(total)
        for t, w in np.frombuffer(data, TOTAL_FLOW).tolist()
    }
    assert packed == batches  # the same floats as the relationships
    assert sum(len(b) for b in total) == TOTAL_FLOW.itemsize * len(batches) and TOTAL_FLOW.itemsize == 12
    last = np.flatnonzero(nrag.region_layer == nrag.n_layers - 1)
    assert all(total[i] == b"" and label[i] == b"" for i in last)


def test_write_statements_declare_idempotence():
    assert _IDEMPOTENT.search(cypher.load("create_flows")) and _IDEMPOTENT.search(cypher.load("create_regions"))
    assert not _IDEMPOTENT.search(cypher.load("update_region_metrics"))


def test_store_package_imports_no_driver():
    code = "import sys, llm_mri_graphdb.store as s; print('neo4j' in sys.modules, s.LocalStore is s.MemoryStore)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]
