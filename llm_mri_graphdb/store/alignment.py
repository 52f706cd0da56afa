"""Which layers of two stored runs agree, computed from the store and kept in it.

:meth:`Store.compare <llm_mri_graphdb.store.base.Store.compare>` reads two runs of one corpus, takes AMI
from their stored region paths (``store.read(run).paths``) and linear CKA from the activation cache entry
each run records (``store.read(run).activations_path``), and saves the result:

* in Neo4j as ``(:Layer {run_id, index})`` nodes joined by
  ``(:Layer)-[:ALIGNS {cka, cka_debiased, cka_null_p, ami}]->(:Layer)`` from the layers of ``run_a`` to
  those of ``run_b`` (``cypher/merge_alignment.cypher``; a rerun replaces the
  pair's relationships in the same transaction, whichever direction they were
  stored in; :mod:`llm_mri_graphdb.store.neo4j.alignment`);
* in a :class:`~llm_mri_graphdb.store.local.LocalStore` as ``alignments.json``
  next to its ``.npz`` files (on the store itself when it has no folder).

Both stores answer ``store.alignment(run_a, run_b)`` and ``store.layer_alignment(run_a)`` with the same
values; ``layer_alignment`` on Neo4j is the library query ``cypher/queries/layer_alignment.cypher``.
Deleting a run removes its layers and their alignments. A missing measure (CKA without cached
activations, AMI of a run without paths) is stored as null and skipped by the best-match queries.
This module holds what both stores share (the inputs, the local file, the best-match rows) and the
function forms :func:`compare_runs`, :func:`write_alignment`, :func:`read_alignment` and
:func:`layer_alignment`, which call the store's methods.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from llm_mri_graphdb.analysis.alignment import MEASURES, LayerAlignment, best_matches
from llm_mri_graphdb.errors import CacheError
from llm_mri_graphdb.extract.cache import load_entry
from llm_mri_graphdb.nrag.model import NRAG
from llm_mri_graphdb.values import identity_key, plain

if TYPE_CHECKING:
    from llm_mri_graphdb.store.base import Store

__all__ = [
    "MEASURES",
    "compare_runs",
    "write_alignment",
    "read_alignment",
    "layer_alignment",
    "same_corpus",
    "alignment_inputs",
    "region_context",
    "matrix_lists",
    "list_matrix",
    "read_entries",
    "save_entries",
    "with_entry",
    "entry_alignment",
    "best_rows",
]

FILE = "alignments.json"


def same_corpus(nrag_a: NRAG, nrag_b: NRAG, run_a: str, run_b: str) -> None:
    """ValueError naming both corpora unless the two runs scan one corpus (same fingerprint, else name)."""
    if identity_key(nrag_a.corpus) != identity_key(nrag_b.corpus):
        raise ValueError(
            f"run_a and run_b must scan the same corpus; run {run_a} scans "
            f"{nrag_a.corpus.get('name')!r} and run {run_b} {nrag_b.corpus.get('name')!r}: "
            "compare two runs of one corpus."
        )


def _activations(run_id: str, nrag: NRAG, n_texts: int | None) -> tuple[list[np.ndarray] | None, str | None]:
    """The run's cached layers (memory-mapped), or ``None`` and the one line saying why not."""
    path = nrag.activations_path
    if not path:
        return None, (
            f"run {run_id} records no activation cache (scan it with a cache folder, e.g. "
            "`--cache`), so CKA is skipped and only AMI is stored."
        )
    folder = Path(path)
    try:
        entry = load_entry(folder.parent, folder.name)
    except CacheError as exc:
        return None, f"run {run_id}'s activation cache cannot be read ({exc}); CKA is skipped, AMI only."
    if entry is None:
        return None, (
            f"run {run_id}'s activation cache {folder} is gone (rescan with the same cache folder to "
            "restore it); CKA is skipped and only AMI is stored."
        )
    layers, _ = entry
    if n_texts is not None and layers[0].shape[0] != n_texts:
        return None, (
            f"run {run_id}'s activation cache {folder} holds {layers[0].shape[0]} texts, the run "
            f"{n_texts}; CKA is skipped and only AMI is stored."
        )
    return layers, None


def alignment_inputs(run_a: str, nrag_a: NRAG, run_b: str, nrag_b: NRAG) -> tuple[Any, Any, Any, Any, list[str]]:
    """``(layers_a, layers_b, paths_a, paths_b, notes)`` of two runs of one corpus: a missing measure's
    inputs are None and ``notes`` says why; ValueError when neither measure can be computed."""
    notes: list[str] = []
    paths_a, paths_b = nrag_a.paths, nrag_b.paths
    if paths_a is None or paths_b is None:
        missing = run_a if paths_a is None else run_b
        notes.append(
            f"run {missing} has no region paths (component runs and runs written without texts have "
            "none), so AMI is skipped."
        )
        paths_a = paths_b = None
    n_texts = None if paths_a is None else paths_a.shape[0]
    layers_a, why_a = _activations(run_a, nrag_a, n_texts)
    layers_b, why_b = (layers_a, why_a) if run_b == run_a else _activations(run_b, nrag_b, n_texts)
    if layers_a is None or layers_b is None:
        notes.append(why_a or why_b or "the activations of a run are not available.")
        layers_a = layers_b = None
    if layers_a is None and paths_a is None:
        raise ValueError(f"runs {run_a} and {run_b} can be compared by neither measure: " + " ".join(notes))
    return layers_a, layers_b, paths_a, paths_b, notes


def region_context(nrag: NRAG, layers: Sequence[np.ndarray] | None) -> dict[str, Any]:
    """What one run's regions can carry, per layer: AMI of the regions with the labels, variance kept.

    ``ami_labels`` is AMI(region of each text, its label) per layer (``None``
    without paths); ``variance_kept`` the share of each layer's variance in its
    top ``n_components`` principal components, what a PCA of that many
    components keeps (``None`` without activations, or wider than 4,096).
    """
    from llm_mri_graphdb.analysis.mutual_info import ami_matrix

    ami_labels = None
    if nrag.paths is not None and nrag.text_labels is not None:
        ami_labels = ami_matrix(nrag.paths, np.asarray(nrag.text_labels).reshape(-1, 1))[:, 0].tolist()
    k = int(nrag.settings.get("n_components") or 2)
    kept = None
    if layers is not None and max(x.shape[1] for x in layers) <= 4096:
        kept = []
        for x in layers:
            values = np.linalg.eigvalsh(np.cov(np.asarray(x, dtype=np.float64), rowvar=False))[::-1]
            kept.append(float(values[:k].sum() / values.sum()) if values.sum() > 0 else None)
    return {"ami_labels": ami_labels, "variance_kept": kept, "n_components": k}


def matrix_lists(matrix: np.ndarray | None) -> list[list[float | None]] | None:
    """A matrix as nested lists with nan as None (JSON and Neo4j have no nan that sorts as we want)."""
    return None if matrix is None else plain(np.asarray(matrix, dtype=float), nan=None)


def list_matrix(values: list[list[float | None]] | None) -> np.ndarray | None:
    """The inverse of :func:`matrix_lists`."""
    if values is None:
        return None
    return np.array([[np.nan if v is None else v for v in row] for row in values], dtype=float)


def read_entries(folder: Path) -> dict[str, Any]:
    """The alignments saved in ``folder/alignments.json`` (``"<run_a> <run_b>"`` -> entry); {} without one."""
    file = Path(folder) / FILE
    if not file.is_file():
        return {}
    try:
        return json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(
            f"{file} is not an alignment file of llm-mri-graphdb ({exc}); move it away and compare the runs again."
        ) from exc


def save_entries(folder: Path, entries: dict[str, Any]) -> None:
    """Replace ``folder/alignments.json`` atomically."""
    fd, tmp = tempfile.mkstemp(prefix=".alignments.", suffix=".json", dir=folder)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(entries, fh, sort_keys=True)
        os.replace(tmp, Path(folder) / FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def with_entry(entries: dict[str, Any], alignment: LayerAlignment) -> dict[str, Any]:
    """``entries`` (of ``alignments.json``) with ``alignment`` replacing its pair's entry, either direction."""
    run_a, run_b = alignment.runs
    entries = {key: entry for key, entry in entries.items() if key != f"{run_b} {run_a}"}
    entries[f"{run_a} {run_b}"] = {
        "run_a": run_a,
        "run_b": run_b,
        **{m: matrix_lists(getattr(alignment, m)) for m in MEASURES},
        "computed_at": datetime.now(timezone.utc).isoformat(),
    }
    return entries


def entry_alignment(entries: dict[str, Any], run_a: str, run_b: str, names: tuple[str, str]) -> LayerAlignment | None:
    """The alignment of ``entries`` for the pair, oriented ``run_a`` x ``run_b``; None when none is saved
    (a measure missing from an older entry is None)."""
    entry, flip = entries.get(f"{run_a} {run_b}"), False
    if entry is None:
        entry, flip = entries.get(f"{run_b} {run_a}"), True
    if entry is None:
        return None
    found: dict[str, Any] = {m: list_matrix(entry.get(m)) for m in MEASURES}
    if flip:
        found = {m: None if v is None else v.T for m, v in found.items()}
    return LayerAlignment(names=names, runs=(run_a, run_b), **found)


def best_rows(stored: LayerAlignment, other_run: str, summary: dict[str, Any], measure: str) -> list[dict[str, Any]]:
    """Rows of ``layer_alignment`` for one compared run: each layer's best match under ``measure`` (the
    highest value, or for ``cka_null_p`` the smallest p-value; ties: the lower layer)."""
    matrix = getattr(stored, measure)
    if matrix is None:
        return []
    rows = []
    best = best_matches(-matrix if measure == "cka_null_p" else matrix)
    for layer, j in enumerate(best.tolist()):
        if np.isnan(matrix[layer, j]):
            continue
        value = lambda m, i=layer, k=j: None if m is None or np.isnan(m[i, k]) else float(m[i, k])  # noqa: E731
        rows.append(
            {
                "layer": layer,
                "model": summary["model"],
                "run_id": other_run,
                "best_layer": int(j),
                "n_layers": summary["n_layers"],
                "score": float(matrix[layer, j]),
                **{m: value(getattr(stored, m)) for m in MEASURES},
            }
        )
    return rows


# -- the function forms, over the store's methods ----------------------------------------------------
def compare_runs(
    store: Store,
    run_a: str,
    run_b: str,
    *,
    save: bool = True,
    n_permutations: int = 100,
    n_bootstrap: int = 100,
    null_rows: int | None = None,
    random_state: int | None = 0,
) -> LayerAlignment:
    """:meth:`Store.compare <llm_mri_graphdb.store.base.Store.compare>`."""
    return store.compare(
        run_a,
        run_b,
        save=save,
        n_permutations=n_permutations,
        n_bootstrap=n_bootstrap,
        null_rows=null_rows,
        random_state=random_state,
    )


def write_alignment(store: Store, alignment: LayerAlignment) -> None:
    """:meth:`Store.save_alignment <llm_mri_graphdb.store.base.Store.save_alignment>`."""
    store.save_alignment(alignment)


def read_alignment(store: Store, run_a: str, run_b: str) -> LayerAlignment | None:
    """:meth:`Store.alignment <llm_mri_graphdb.store.base.Store.alignment>`."""
    return store.alignment(run_a, run_b)


def layer_alignment(
    store: Store, run_a: str, *, measure: str = "cka", other: str | None = None
) -> list[dict[str, Any]]:
    """:meth:`Store.layer_alignment <llm_mri_graphdb.store.base.Store.layer_alignment>`."""
    return store.layer_alignment(run_a, measure=measure, other=other)
