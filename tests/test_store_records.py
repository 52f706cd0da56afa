"""What the Neo4j store sends: region rows and flow batches built from an NRAG (no database)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from llm_mri_graphdb.nrag.model import NRAG
from llm_mri_graphdb.store import cypher
from llm_mri_graphdb.store.neo4j.columns import (
    LABEL_FLOW,
    REGION_COUNT,
    REGION_INDEX,
    TOTAL_FLOW,
    layer_column_batches,
    layer_columns,
)
from llm_mri_graphdb.store.neo4j.records import flow_batches, n_relationships, region_rows
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
    assert rows[0][6] == nrag.region_counts[0].tolist() and all(len(r) == 8 for r in rows)


def _shuffled_regions(nrag: NRAG, seed: int) -> NRAG:
    """The same graph with its regions in a random order (not canonical): columns must not assume it."""
    order = np.random.default_rng(seed).permutation(nrag.n_regions)
    new = np.argsort(order)  # new[old] = the old region's new index
    return NRAG(
        nrag.kind,
        nrag.n_layers,
        nrag.label_names,
        nrag.region_layer[order],
        nrag.region_x[order],
        nrag.region_y[order],
        nrag.region_counts[order],
        new[nrag.edge_source],
        new[nrag.edge_target],
        nrag.edge_label,
        nrag.edge_weight,
    )


@pytest.mark.parametrize(("seed", "shuffled"), [(0, False), (5, False), (2, True)])
def test_layer_columns_hold_each_layers_regions_and_flows_and_the_flow_batches_totals(seed, shuffled):
    nrag = _random_nrag(seed)
    nrag = _shuffled_regions(nrag, seed) if shuffled else nrag
    columns = layer_columns(nrag)
    assert [c[0] for c in columns] == list(range(nrag.n_layers))
    idx = np.concatenate([np.frombuffer(c[1], REGION_INDEX) for c in columns])
    assert sorted(idx.tolist()) == list(range(nrag.n_regions))  # every region once
    assert all(
        nrag.region_layer[np.frombuffer(c[1], REGION_INDEX)].tolist() == [c[0]] * (len(c[1]) // 4) for c in columns
    )
    counts = np.concatenate([np.frombuffer(c[2], REGION_COUNT) for c in columns]).reshape(-1, nrag.n_labels)
    assert np.array_equal(counts, nrag.region_counts[idx])
    label = np.concatenate([np.frombuffer(c[4], LABEL_FLOW) for c in columns])
    got = [tuple(r) for r in label.tolist()]
    want = zip(
        nrag.edge_source.tolist(), nrag.edge_target.tolist(), nrag.edge_label.tolist(), nrag.edge_weight.tolist()
    )
    assert sorted(got) == sorted(want) and len(got) == nrag.edge_source.size  # every label row once, exactly
    for c in columns:  # a layer's records: its own sources, by (source, target, label)
        records = np.frombuffer(c[4], LABEL_FLOW)
        keys = list(zip(records["source"].tolist(), records["target"].tolist(), records["label"].tolist()))
        assert keys == sorted(keys) and set(nrag.region_layer[records["source"]].tolist()) <= {c[0]}
    batches = {}  # what create_flows writes as :FLOWS_TOTAL, keyed (source, target)
    in_layer = {i: np.flatnonzero(nrag.region_layer == i) for i in range(nrag.n_layers)}
    for group in flow_batches(nrag, 1000):
        for b in group:
            for s, t, w in zip(b.s, b.t, b.total):
                batches[(int(in_layer[b.layer][s]), int(in_layer[b.layer + 1][t]))] = w
    packed = {(s, t): w for c in columns for s, t, w in np.frombuffer(c[3], TOTAL_FLOW).tolist()}
    assert packed == batches  # the same floats as the relationships
    assert sum(len(c[3]) for c in columns) == TOTAL_FLOW.itemsize * len(batches) and TOTAL_FLOW.itemsize == 16
    assert columns[-1][3] == columns[-1][4] == b""


def test_layer_column_batches_hold_whole_layers_up_to_the_size():
    nrag = _random_nrag(1, n_layers=7)
    per_layer = [len(c[4]) // LABEL_FLOW.itemsize for c in layer_columns(nrag)]
    batches = layer_column_batches(nrag, max(per_layer) + 1)
    assert [row[0] for batch in batches for row in batch] == list(range(7)) and len(batches) > 1
    sizes = [sum(len(row[4]) // LABEL_FLOW.itemsize for row in batch) for batch in batches]
    assert all(size <= max(per_layer) + 1 for size in sizes)
    assert len(layer_column_batches(nrag, 0)) == 7  # never an empty batch


def test_write_statements_declare_idempotence():
    assert all(_IDEMPOTENT.search(cypher.load(n)) for n in ("create_flows", "create_regions", "create_layer_columns"))
    assert not _IDEMPOTENT.search(cypher.load("update_region_metrics"))


def test_store_package_imports_no_driver():
    code = "import sys, llm_mri_graphdb.store as s; print('neo4j' in sys.modules, s.LocalStore is s.MemoryStore)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]
