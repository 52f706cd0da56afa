"""A run's probe results (:func:`llm_mri_graphdb.analysis.probing.probe_curve`), kept in the store beside the run.

* in Neo4j as ``(:Run)-[:HAS_PROBE]->(:ProbeSet {run_id, probe_json, ...})``
  (``cypher/merge_probe_set.cypher``): the whole result as ``probe_json`` and,
  for Cypher questions, every per-layer curve as a list property named
  ``<side>_<key>`` (``full_mean``, ``full_low``, ``full_selectivity_mean``,
  ``reduced_control_mean``, ``random_weights_mean``, ...) plus ``majority_mean``,
  ``chance`` and ``layer0``; deleted with its run;
* in a :class:`~llm_mri_graphdb.store.local.LocalStore` as ``probes.json``
  next to its ``.npz`` files (in memory when the store has no folder).

Both answer :func:`read_probe` with the same dict (NaN as ``None``), also as
the stores' methods ``save_probe(run_id, probe)`` and ``probe(run_id)``.
"""

from __future__ import annotations

import json
import os
import tempfile
import weakref
from pathlib import Path
from typing import Any

from llm_mri_graphdb.values import to_json

__all__ = ["ProbeQuestions", "write_probe", "read_probe", "probe_properties", "forget_probe"]

_FILE = "probes.json"
_IN_MEMORY: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()
_SIDES = ("full", "reduced", "random_weights")
_CURVE_KEYS = (
    "mean",
    "low",
    "high",
    "control_mean",
    "control_low",
    "control_high",
    "selectivity_mean",
    "selectivity_low",
    "selectivity_high",
)


def _is_local(store: Any) -> bool:
    """A store without a Cypher runner (LocalStore) keeps its probes in ``probes.json``; asked of the store,
    not of its class, so this module needs no import of ``store.local`` (which imports this one)."""
    return getattr(store, "runner", None) is None


def probe_properties(probe: dict[str, Any]) -> dict[str, Any]:
    """The ``ProbeSet`` properties of a probe result: per-layer lists of numbers (NaN kept), scalars, the JSON."""
    curve = probe.get("curve", probe)
    props: dict[str, Any] = {"probe_json": to_json(probe, strict=True)}
    for side in _SIDES:
        if isinstance(curve.get(side), dict):
            for key in _CURVE_KEYS:
                props[f"{side}_{key}"] = [float("nan") if v is None else float(v) for v in curve[side][key]]
    for name in ("majority", "bag_of_words"):
        if isinstance(curve.get(name), dict):
            for key in ("mean", "low", "high"):
                props[f"{name}_{key}"] = float(curve[name][key])
    for name in ("chance", "layer0"):
        if curve.get(name) is not None:
            props[name] = float(curve[name])
    if curve.get("mdl"):
        props["mdl_codelength"] = [float(m["codelength"]) for m in curve["mdl"]]
    return props


def write_probe(store: Any, run_id: str, probe: dict[str, Any]) -> None:
    """Keep ``probe`` (``{"curve": probe_curve(...), ...}``) with the stored run ``run_id``, replacing an earlier one."""
    if _is_local(store):
        store.read(run_id)  # RunNotFound naming the stored runs
        entries = _entries(store)
        entries[run_id] = json.loads(to_json(probe, strict=True))
        _save(store, entries)
        return
    rows = store.runner.write("merge_probe_set", run_id=run_id, props=probe_properties(probe))
    if not rows:
        from llm_mri_graphdb.errors import RunNotFound

        raise RunNotFound(f"run_id must name a complete stored run; got {run_id!r} (see `llm-mri-graphdb runs ls`).")


def read_probe(store: Any, run_id: str) -> dict[str, Any] | None:
    """The probe result kept with ``run_id``; ``None`` when none is."""
    if _is_local(store):
        return _entries(store).get(run_id)
    rows = store.runner.read("read_probe_set", run_id=run_id)
    return json.loads(rows[0]["probe_json"]) if rows else None


def forget_probe(store: Any, run_id: str) -> None:
    """Drop a deleted run's probe from a LocalStore (Neo4j deletes the ``ProbeSet`` with the run)."""
    entries = _entries(store)
    if run_id in entries:
        del entries[run_id]
        _save(store, entries)


def _entries(store: Any) -> dict[str, Any]:
    if store.path is None:
        return dict(_IN_MEMORY.get(store, {}))
    file = Path(store.path) / _FILE
    if not file.is_file():
        return {}
    try:
        return json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(
            f"{file} is not a probe file of llm-mri-graphdb ({exc}); move it away and scan again."
        ) from exc


def _save(store: Any, entries: dict[str, Any]) -> None:
    if store.path is None:
        _IN_MEMORY[store] = entries
        return
    fd, tmp = tempfile.mkstemp(prefix=".probes.", suffix=".json", dir=store.path)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(entries, fh, sort_keys=True)
        os.replace(tmp, Path(store.path) / _FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ProbeQuestions:
    """``save_probe`` and ``probe`` as methods of both stores (a base class of each)."""

    def save_probe(self, run_id: str, probe: dict[str, Any]) -> None:
        """:func:`write_probe` on this store."""
        write_probe(self, run_id, probe)

    def probe(self, run_id: str) -> dict[str, Any] | None:
        """:func:`read_probe` on this store."""
        return read_probe(self, run_id)
