"""Which layers of two stored runs agree, computed from the store and kept in it.

:func:`compare_runs` reads two runs of one corpus, takes AMI from their
stored region paths (``store.read(run).paths``) and linear CKA from the
activation cache entry each run records (``store.read(run).activations_path``),
and saves the result:

* in Neo4j as ``(:Layer {run_id, index})`` nodes joined by
  ``(:Layer)-[:ALIGNS {cka, ami}]->(:Layer)`` from the layers of ``run_a`` to
  those of ``run_b`` (``cypher/merge_alignment.cypher``; a rerun replaces the
  pair's relationships in the same transaction, whichever direction they were
  stored in);
* in a :class:`~llm_mri_graphdb.store.local.LocalStore` as ``alignments.json``
  next to its ``.npz`` files (in memory when the store has no folder).

Both stores answer :func:`read_alignment` and :func:`layer_alignment` with
the same values, also as their methods ``store.compare(run_a, run_b)``,
``store.alignment(run_a, run_b)`` and ``store.layer_alignment(run_a)``
(:class:`AlignmentQuestions`); ``layer_alignment`` on Neo4j is the library query
``cypher/queries/layer_alignment.cypher``. Deleting a run removes its layers and
their alignments (:func:`forget_run`, called by both stores' ``delete``).
A missing measure (CKA without cached activations, AMI of a run without
paths) is stored as null and skipped by the best-match queries.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
import weakref
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from llm_mri_graphdb.analysis.alignment import LayerAlignment, align_layers, best_matches
from llm_mri_graphdb.errors import CacheError
from llm_mri_graphdb.extract.cache import load_entry
from llm_mri_graphdb.nrag.model import NRAG
from llm_mri_graphdb.store import cypher
from llm_mri_graphdb.values import plain

__all__ = ["MEASURES", "AlignmentQuestions", "compare_runs", "write_alignment", "read_alignment", "layer_alignment",
           "forget_run"]

MEASURES = ("cka", "ami")
_FILE = "alignments.json"
_IN_MEMORY: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def _is_local(store: Any) -> bool:
    """A store without a Cypher runner (LocalStore) keeps its alignments in ``alignments.json``.

    Asked of the store, not of its class, so this module needs no import of ``store.local`` (which
    imports this one); the abstract ``Store`` is to replace this switch by methods of each store.
    """
    return getattr(store, "runner", None) is None


def _corpus_key(nrag: NRAG) -> str:
    return str(nrag.corpus.get("fingerprint") or nrag.corpus.get("name") or "unknown")


def _activations(run_id: str, nrag: NRAG, n_texts: int | None) -> tuple[list[np.ndarray] | None, str | None]:
    """The run's cached layers (memory-mapped), or ``None`` and the one line saying why not."""
    path = nrag.activations_path
    if not path:
        return None, (f"run {run_id} records no activation cache (scan it with a cache folder, e.g. "
                      "`--cache`), so CKA is skipped and only AMI is stored.")
    folder = Path(path)
    try:
        entry = load_entry(folder.parent, folder.name)
    except CacheError as exc:
        return None, f"run {run_id}'s activation cache cannot be read ({exc}); CKA is skipped, AMI only."
    if entry is None:
        return None, (f"run {run_id}'s activation cache {folder} is gone (rescan with the same cache folder to "
                      "restore it); CKA is skipped and only AMI is stored.")
    layers, _ = entry
    if n_texts is not None and layers[0].shape[0] != n_texts:
        return None, (f"run {run_id}'s activation cache {folder} holds {layers[0].shape[0]} texts, the run "
                      f"{n_texts}; CKA is skipped and only AMI is stored.")
    return layers, None


def compare_runs(store: Any, run_a: str, run_b: str, *, save: bool = True) -> LayerAlignment:
    """CKA and AMI of every layer pair of two stored runs of the same corpus (any models, any depths).

    Parameters
    ----------
    store : Neo4jStore or LocalStore
    run_a, run_b : str
        Stored run ids; equal ids compare a run with itself (diagonal 1).
    save : bool, default=True
        Store the result (replacing an earlier alignment of the pair).

    Returns
    -------
    LayerAlignment
        ``cka`` is ``None`` when a run has no readable activation cache, and
        ``ami`` when a run has no region paths; ``notes`` says why, and the
        same line is issued as a :class:`UserWarning`.

    Raises
    ------
    RunNotFound
        A run id names no stored run.
    ValueError
        The runs scan different corpora, or neither measure can be computed.
    """
    nrag_a = store.read(run_a)
    nrag_b = nrag_a if run_b == run_a else store.read(run_b)
    if _corpus_key(nrag_a) != _corpus_key(nrag_b):
        raise ValueError(f"run_a and run_b must scan the same corpus; run {run_a} scans "
                         f"{nrag_a.corpus.get('name')!r} and run {run_b} {nrag_b.corpus.get('name')!r}: "
                         "compare two runs of one corpus.")
    notes: list[str] = []
    paths_a, paths_b = nrag_a.paths, nrag_b.paths
    if paths_a is None or paths_b is None:
        missing = run_a if paths_a is None else run_b
        notes.append(f"run {missing} has no region paths (component runs and runs written without texts have "
                     "none), so AMI is skipped.")
        paths_a = paths_b = None
    n_texts = None if paths_a is None else paths_a.shape[0]
    layers_a, why_a = _activations(run_a, nrag_a, n_texts)
    layers_b, why_b = (layers_a, why_a) if run_b == run_a else _activations(run_b, nrag_b, n_texts)
    if layers_a is None or layers_b is None:
        notes.append(why_a or why_b or "the activations of a run are not available.")
        layers_a = layers_b = None
    if layers_a is None and paths_a is None:
        raise ValueError(f"runs {run_a} and {run_b} can be compared by neither measure: " + " ".join(notes))
    for note in notes:
        warnings.warn(note, UserWarning, stacklevel=2)
    result = align_layers(layers_a, layers_b, paths_a, paths_b,
                          names=(str(nrag_a.model.get("name", run_a)), str(nrag_b.model.get("name", run_b))),
                          runs=(run_a, run_b), notes=tuple(notes))
    if save:
        write_alignment(store, result)
    return result


def _plain(matrix: np.ndarray | None) -> list[list[float | None]] | None:
    """A matrix as nested lists with nan as None (JSON and Neo4j have no nan that sorts as we want)."""
    return None if matrix is None else plain(np.asarray(matrix, dtype=float), nan=None)


def _shape(alignment: LayerAlignment) -> tuple[int, int]:
    matrix = alignment.cka if alignment.cka is not None else alignment.ami
    if matrix is None:
        raise ValueError("an alignment must hold CKA or AMI; this one holds neither.")
    return matrix.shape


def write_alignment(store: Any, alignment: LayerAlignment) -> None:
    """Store ``alignment`` (from :func:`compare_runs`) for its two runs, replacing the pair's earlier one."""
    run_a, run_b = alignment.runs
    if not run_a or not run_b:
        raise ValueError("alignment.runs must name the two stored runs; use compare_runs(store, run_a, run_b).")
    cka, ami = _plain(alignment.cka), _plain(alignment.ami)
    n_a, n_b = _shape(alignment)
    if _is_local(store):
        entries = _local_entries(store)
        entries.pop(f"{run_b} {run_a}", None)
        entries[f"{run_a} {run_b}"] = {"run_a": run_a, "run_b": run_b, "cka": cka, "ami": ami,
                                       "computed_at": datetime.now(timezone.utc).isoformat()}
        _save_local(store, entries)
        return
    rows = [{"a": i, "b": j, "cka": None if cka is None else cka[i][j], "ami": None if ami is None else ami[i][j]}
            for i in range(n_a) for j in range(n_b)]
    for statement in cypher.statements("schema_alignment"):
        store.runner.run_text(statement, {}, write=True)
    store.runner.write("merge_alignment", run_a=run_a, run_b=run_b, rows=rows)


def _matrix(values: list[list[float | None]] | None) -> np.ndarray | None:
    if values is None:
        return None
    return np.array([[np.nan if v is None else v for v in row] for row in values], dtype=float)


def _summaries(store: Any) -> dict[str, dict[str, Any]]:
    return {row["run_id"]: row for row in store.runs()}


def read_alignment(store: Any, run_a: str, run_b: str) -> LayerAlignment | None:
    """The stored alignment of two runs, oriented ``run_a`` x ``run_b``; ``None`` when none is stored
    (or a run is no longer stored).

    A measure stored as null for every pair is ``None``; single missing pairs are nan.
    """
    runs = _summaries(store)
    if run_a not in runs or run_b not in runs:
        return None
    name_a, name_b = (str(runs.get(r, {}).get("model") or r) for r in (run_a, run_b))
    names = (name_a, name_b)
    if _is_local(store):
        entries = _local_entries(store)
        entry, flip = entries.get(f"{run_a} {run_b}"), False
        if entry is None:
            entry, flip = entries.get(f"{run_b} {run_a}"), True
        if entry is None:
            return None
        cka, ami = _matrix(entry["cka"]), _matrix(entry["ami"])
        if flip:
            cka, ami = (None if cka is None else cka.T), (None if ami is None else ami.T)
        return LayerAlignment(cka, ami, names, runs=(run_a, run_b))
    rows = store.runner.read("read_alignment", run_a=run_a, run_b=run_b)
    if not rows:
        return None
    shape = (int(runs[run_a]["n_layers"]), int(runs[run_b]["n_layers"]))
    cka, ami = np.full(shape, np.nan), np.full(shape, np.nan)
    for row in rows:
        i, j = (row["source"], row["target"]) if row["source_run"] == run_a else (row["target"], row["source"])
        cka[i, j] = np.nan if row["cka"] is None else row["cka"]
        ami[i, j] = np.nan if row["ami"] is None else row["ami"]
    return LayerAlignment(None if np.isnan(cka).all() else cka, None if np.isnan(ami).all() else ami, names,
                          runs=(run_a, run_b))


def layer_alignment(store: Any, run_a: str, *, measure: str = "cka", other: str | None = None) -> list[dict[str, Any]]:
    """For every layer of ``run_a``, its best match in each run it was compared with.

    The rows of the library query ``layer_alignment`` (Neo4j) or the same rows
    computed from ``alignments.json`` (LocalStore): ``layer, model, run_id,
    best_layer, n_layers, score, cka, ami``, ordered by model, run and layer.
    ``other`` restricts to one run id or model name.
    """
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}; got {measure!r}.")
    if not _is_local(store):
        return store.query("layer_alignment", run_a=run_a, measure=measure, other=other)
    runs = _summaries(store)
    if run_a not in runs:
        store.read(run_a)  # RunNotFound naming the stored runs
    out = []
    for key in sorted(_local_entries(store)):
        first, second = key.split(" ")
        if run_a not in (first, second):
            continue
        other_run = second if first == run_a else first
        summary = runs.get(other_run)
        if summary is None or (other is not None and other not in (other_run, summary["model"])):
            continue
        stored = read_alignment(store, run_a, other_run)
        if stored is not None:  # deleted since the summaries were read
            out += _best_rows(stored, other_run, summary, measure)
    return sorted(out, key=lambda r: (str(r["model"]), r["run_id"], r["layer"]))


def _best_rows(stored: LayerAlignment, other_run: str, summary: dict[str, Any], measure: str) -> list[dict[str, Any]]:
    matrix = stored.cka if measure == "cka" else stored.ami
    if matrix is None:
        return []
    rows = []
    best = best_matches(matrix)
    for layer, j in enumerate(best.tolist()):
        if np.isnan(matrix[layer, j]):
            continue
        value = lambda m, layer=layer, j=j: None if m is None or np.isnan(m[layer, j]) else float(m[layer, j])  # noqa: E731
        rows.append({"layer": layer, "model": summary["model"], "run_id": other_run, "best_layer": int(j),
                     "n_layers": summary["n_layers"], "score": float(matrix[layer, j]),
                     "cka": value(stored.cka), "ami": value(stored.ami)})
    return rows


def forget_run(store: Any, run_id: str) -> None:
    """Remove a deleted run's layers and every alignment it is part of."""
    if not _is_local(store):
        store.runner.write("delete_layers", run_id=run_id)
        return
    entries = _local_entries(store)
    kept = {key: entry for key, entry in entries.items() if run_id not in key.split(" ")}
    if len(kept) != len(entries):
        _save_local(store, kept)


def _local_entries(store: Any) -> dict[str, Any]:
    if store.path is None:
        return dict(_IN_MEMORY.get(store, {}))
    file = Path(store.path) / _FILE
    if not file.is_file():
        return {}
    try:
        return json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{file} is not an alignment file of llm-mri-graphdb ({exc}); move it away and "
                         "compare the runs again.") from exc


def _save_local(store: Any, entries: dict[str, Any]) -> None:
    if store.path is None:
        _IN_MEMORY[store] = entries
        return
    fd, tmp = tempfile.mkstemp(prefix=".alignments.", suffix=".json", dir=store.path)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(entries, fh, sort_keys=True)
        os.replace(tmp, Path(store.path) / _FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class AlignmentQuestions:
    """``compare``, ``alignment`` and ``layer_alignment`` as methods of both stores (a base class of each)."""

    def compare(self, run_a: str, run_b: str, *, save: bool = True) -> LayerAlignment:
        """:func:`compare_runs` on this store."""
        return compare_runs(self, run_a, run_b, save=save)

    def alignment(self, run_a: str, run_b: str) -> LayerAlignment | None:
        """:func:`read_alignment` on this store."""
        return read_alignment(self, run_a, run_b)

    def layer_alignment(self, run_a: str, *, measure: str = "cka", other: str | None = None) -> list[dict[str, Any]]:
        """:func:`layer_alignment` on this store."""
        return layer_alignment(self, run_a, measure=measure, other=other)
