"""The one value cleaner: plain Python for JSON, hashing and Neo4j results."""

import math
from pathlib import Path

import numpy as np
import pytest

from llm_mri_graphdb.nrag.model import run_id_for
from llm_mri_graphdb.values import plain, to_json

pytestmark = pytest.mark.unit


def test_plain_turns_numpy_tuples_paths_and_objects_into_python():
    value = {
        "a": np.int64(3),
        "b": (np.float32(0.5), np.bool_(True)),
        "c": np.arange(3),
        "p": Path("/x/y"),
        1: object.__new__(type("Thing", (), {"__repr__": lambda self: "Thing()"})),
    }
    assert plain(value) == {"a": 3, "b": [0.5, True], "c": [0, 1, 2], "p": "/x/y", "1": "Thing()"}
    assert type(plain(np.int64(3))) is int and type(plain(np.float64(2.5))) is float


def test_plain_nan_stays_or_becomes_none():
    assert math.isnan(plain(float("nan")))
    assert plain([np.float64("nan"), 1.0], nan=None) == [None, 1.0]


def test_plain_reads_neo4j_temporal_values():
    class DateTime:  # the one method of neo4j.time values it relies on
        def iso_format(self):
            return "2026-11-28T06:00:00Z"

    assert plain({"completed_at": DateTime()}) == {"completed_at": "2026-11-28T06:00:00Z"}


def test_to_json_sorts_keys_and_writes_strict_nan():
    assert to_json({"b": 1, "a": np.float32(0.25)}) == '{"a": 0.25, "b": 1}'
    assert to_json({"x": float("nan")}, strict=True) == '{"x": null}'
    assert to_json({"x": float("nan")}) == '{"x": NaN}'


def test_run_id_does_not_depend_on_key_order_or_numpy_types():
    a = run_id_for({"fingerprint": "m"}, {"fingerprint": "c"}, {"gridsize": 10, "reducer": "PCA"})
    b = run_id_for({"fingerprint": "m"}, {"fingerprint": "c"}, {"reducer": "PCA", "gridsize": np.int64(10)})
    c = run_id_for({"fingerprint": "m"}, {"fingerprint": "c"}, {"reducer": "PCA", "gridsize": 11})
    assert a == b != c
