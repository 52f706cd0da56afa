"""Embedded store: the :class:`Neo4jStore` interface over files, or over memory alone.

The default when no database is configured. With a folder, each run is one
``<run_id>.npz`` (arrays plus the metadata as JSON), replaced atomically, so a
crash mid-save leaves the previous file (and a ``.<run_id>.*.npz`` leftover,
listed by ``runs(all=True)`` and removed by :meth:`LocalStore.gc`). Nothing is
read when the store opens: listing reads only each file's metadata, and a
run's arrays are read when it is asked for. A run written with texts also
holds its ``paths``, ``text_labels`` and the texts (UTF-8 bytes and offsets,
read only when a text question needs them); the text questions are answered
by :mod:`llm_mri_graphdb.nrag.texts`, with the rows the Neo4j queries give.

Above 400 lines: one class, every step of :class:`~llm_mri_graphdb.store.base.Store` over files
(runs, texts, statistics, alignments); the file format helpers are the next cut.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from llm_mri_graphdb.analysis.alignment import LayerAlignment
from llm_mri_graphdb.errors import StoreUnavailable
from llm_mri_graphdb.nrag import texts as text_queries
from llm_mri_graphdb.nrag.model import NRAG
from llm_mri_graphdb.store import alignment as shared_alignment
from llm_mri_graphdb.store import cypher
from llm_mri_graphdb.store.base import Store, run_not_found
from llm_mri_graphdb.store.probes import forget_probe
from llm_mri_graphdb.store.statistics import local_statistics_file, save_local_statistics
from llm_mri_graphdb.values import identity, identity_key

__all__ = ["LocalStore", "MemoryStore"]

_ARRAYS = (
    "region_layer",
    "region_x",
    "region_y",
    "region_counts",
    "edge_source",
    "edge_target",
    "edge_label",
    "edge_weight",
)
_OPTIONAL = ("layer_bounds", "paths", "text_labels")


def _meta(nrag: NRAG, completed_at: str, n_texts: int) -> dict[str, Any]:
    return {
        "kind": nrag.kind,
        "n_layers": nrag.n_layers,
        "label_names": list(nrag.label_names),
        "model": nrag.model,
        "corpus": nrag.corpus,
        "settings": nrag.settings,
        "completed_at": completed_at,
        "n_regions": nrag.n_regions,
        "n_edge_rows": int(nrag.edge_source.shape[0]),
        "n_texts": n_texts,
        "text_paths": nrag.paths is not None,
        "activations_path": nrag.activations_path,
        "degenerate_layers": None if nrag.degenerate_layers is None else list(nrag.degenerate_layers),
    }


def _encode_texts(texts: list[str]) -> dict[str, np.ndarray]:
    blobs = [t.encode("utf-8") for t in texts]
    offsets = np.cumsum([0] + [len(b) for b in blobs], dtype=np.int64)
    return {"text_blob": np.frombuffer(b"".join(blobs), dtype=np.uint8), "text_offsets": offsets}


def _decode_texts(blob: np.ndarray, offsets: np.ndarray) -> list[str]:
    raw = blob.tobytes()
    return [raw[a:b].decode("utf-8") for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]


def _summary(run_id: str, meta: dict[str, Any]) -> dict[str, Any]:
    model, corpus = meta["model"], meta["corpus"]
    return {
        "run_id": run_id,
        "model": model.get("name"),
        "corpus": corpus.get("name"),
        "corpus_fingerprint": identity(corpus),
        "kind": meta["kind"],
        "n_layers": meta["n_layers"],
        "label_names": list(meta["label_names"]),
        "n_regions": meta["n_regions"],
        "n_edge_rows": meta["n_edge_rows"],
        "completed_at": meta["completed_at"],
        "status": "complete",
    }


def _text_labels(nrag: NRAG) -> np.ndarray:
    """The label of every text of a run stored with texts (which always keeps them)."""
    if nrag.text_labels is None:
        raise ValueError(f"run {nrag.run_id} holds no text labels; write it again with its texts.")
    return nrag.text_labels


def _unreadable(file: Path, exc: Exception) -> ValueError:
    return ValueError(
        f"{file} is not a run saved by llm-mri-graphdb ({type(exc).__name__}: {exc}); move it out of {file.parent}."
    )


def _read_meta(file: Path) -> dict[str, Any]:
    """The metadata of a saved run without its arrays (sizes from the array headers in older files)."""
    try:
        with np.load(file, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if "n_regions" not in meta:
                meta["n_regions"] = int(data["region_layer"].shape[0])
                meta["n_edge_rows"] = int(data["edge_source"].shape[0])
    except (OSError, ValueError, KeyError) as exc:
        raise _unreadable(file, exc) from exc
    return meta


def _text_path_rows(store: LocalStore, p: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of query ``text_path``: the counts as one list aligned with ``label_names``."""
    names = list(store.read(p["run_id"]).label_names)
    return [
        {
            "layer": r["layer"],
            "region": r["region"],
            "total": r["total"],
            "counts": [r[n] for n in names],
            "label_names": names,
        }
        for r in store.text_path(p["run_id"], p["idx"])
    ]


#: Library queries the embedded store answers in process: name -> rows from the bound parameters.
_IN_PROCESS = {
    "region_texts": lambda s, p: s.region_texts(
        p["run_id"], p["region"], label=p["label"], limit=p["limit"], offset=p["offset"]
    ),
    "text_path": _text_path_rows,
    "co_travellers": lambda s, p: s.co_travellers(p["run_id"], p["idx"], limit=p["limit"]),
    "label_crossings": lambda s, p: s.label_crossings(p["run_id"], limit=p["limit"]),
    "diverging_texts": lambda s, p: s.diverging_texts(
        p["run_a"], p["run_b"], p["layer_a"], p["layer_b"], limit=p["limit"]
    ),
    "layer_alignment": lambda s, p: s.layer_alignment(p["run_a"], measure=p["measure"], other=p["other"]),
}


class LocalStore(Store):
    """NRAG runs saved under ``path`` (one ``<run_id>.npz`` each), or kept in memory when ``path`` is None.

    Parameters
    ----------
    path : str or Path, optional
        Folder to save runs to and read them from; created if missing.

    Examples
    --------
    >>> store = LocalStore()
    >>> store.runs()
    []
    """

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = None if path is None else Path(path)
        self._runs: dict[str, NRAG] = {}  # read or written by this process
        self._meta: dict[str, dict[str, Any]] = {}
        self._texts: dict[str, list[str]] = {}
        self._alignments: dict[str, Any] = {}  # without a folder: "<run_a> <run_b>" -> entry
        if self.path is not None:
            self.path.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"LocalStore(path={None if self.path is None else str(self.path)!r})"

    def close(self) -> None:
        """Nothing to release."""

    # -- files -----------------------------------------------------------------------
    def _file(self, run_id: str) -> Path | None:
        if self.path is None or not run_id or "/" in run_id or run_id.startswith("."):
            return None
        file = self.path / f"{run_id}.npz"
        return file if file.is_file() else None

    def _run_ids(self) -> list[str]:
        if self.path is None:
            return list(self._meta)
        return sorted(p.stem for p in self.path.glob("*.npz") if not p.name.startswith("."))

    def _leftovers(self) -> list[Path]:
        return [] if self.path is None else sorted(self.path.glob(".*.npz"))

    def _metadata(self, run_id: str) -> dict[str, Any]:
        if run_id not in self._meta:
            file = self._file(run_id)
            if file is None:
                raise run_not_found(run_id)
            self._meta[run_id] = _read_meta(file)
        return self._meta[run_id]

    def _stored_file(self, run_id: str) -> Path:
        """The file of a saved run; RunNotFound when it is gone (another process deleted it)."""
        file = self._file(run_id)
        if file is None:
            raise run_not_found(run_id)
        return file

    def _save(self, folder: Path, run_id: str, nrag: NRAG, completed_at: str, texts: list[str] | None) -> None:
        arrays = {name: getattr(nrag, name) for name in _ARRAYS}
        arrays.update({name: getattr(nrag, name) for name in _OPTIONAL if getattr(nrag, name) is not None})
        if texts is not None:
            arrays.update(_encode_texts(texts))
        meta = json.dumps(_meta(nrag, completed_at, len(texts or ())), sort_keys=True, default=str)
        fd, tmp = tempfile.mkstemp(prefix=f".{run_id}.", suffix=".npz", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, meta=np.array(meta), **arrays)
            os.replace(tmp, folder / f"{run_id}.npz")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _get(self, run_id: str) -> NRAG:
        if run_id in self._runs and (self.path is None or self._file(run_id) is not None):
            return self._runs[run_id]
        meta = self._metadata(run_id)
        if self.path is None:
            return self._runs[run_id]
        file = self._stored_file(run_id)
        try:
            with np.load(file, allow_pickle=False) as data:
                arrays = {name: data[name] for name in _ARRAYS}
                arrays.update({name: data[name] if name in data.files else None for name in _OPTIONAL})
        except (OSError, ValueError, KeyError) as exc:
            raise _unreadable(file, exc) from exc
        nrag = NRAG(
            kind=meta["kind"],
            n_layers=meta["n_layers"],
            label_names=tuple(meta["label_names"]),
            model=meta["model"],
            corpus=meta["corpus"],
            settings=meta["settings"],
            activations_path=meta.get("activations_path"),
            degenerate_layers=meta.get("degenerate_layers"),
            **arrays,
        )
        self._runs[run_id] = nrag
        return nrag

    # -- the store interface ---------------------------------------------------------
    def _write(self, nrag: NRAG, texts: list[str] | None) -> str:
        """Store ``nrag`` as its run (replacing an earlier one); without texts, no paths or text labels."""
        if texts is None and (nrag.paths is not None or nrag.text_labels is not None):
            nrag = dataclasses.replace(nrag, paths=None, text_labels=None)
        run_id = nrag.run_id
        completed_at = datetime.now(timezone.utc).isoformat()
        if self.path is not None:
            self._save(self.path, run_id, nrag, completed_at, texts)
        self._runs[run_id] = nrag
        self._meta[run_id] = json.loads(json.dumps(_meta(nrag, completed_at, len(texts or ())), default=str))
        self._texts.pop(run_id, None)
        if texts is not None and self.path is None:
            self._texts[run_id] = texts
        return run_id

    def read(self, run_id: str) -> NRAG:
        """The stored NRAG of ``run_id`` (its file is read on first use)."""
        return self._get(run_id)

    def delete(self, run_id: str) -> None:
        """Forget a run and remove its file, or remove a leftover of an interrupted save."""
        leftover = next((p for p in self._leftovers() if p.name == run_id), None)
        if leftover is not None:
            leftover.unlink(missing_ok=True)
            return
        if run_id not in self._run_ids():
            raise run_not_found(run_id, leftovers=True)
        if self.path is not None:
            (self.path / f"{run_id}.npz").unlink(missing_ok=True)
            statistics = local_statistics_file(self, run_id)
            if statistics is not None:
                statistics.unlink(missing_ok=True)
        for held in (self._runs, self._meta, self._texts):
            held.pop(run_id, None)
        entries = self._alignment_entries()  # the alignments it is part of
        kept = {key: entry for key, entry in entries.items() if run_id not in key.split(" ")}
        if len(kept) != len(entries):
            self._save_alignment_entries(kept)
        forget_probe(self, run_id)

    def gc(self) -> list[dict[str, Any]]:
        """Remove the leftovers of interrupted saves; returns what was removed."""
        removed = [{"version": p.name, "run_id": p.name.split(".")[1], "status": "writing"} for p in self._leftovers()]
        for p in self._leftovers():
            p.unlink(missing_ok=True)
        return removed

    def runs(self, *, all: bool = False) -> list[dict[str, Any]]:  # noqa: A002 - mirrors `runs ls --all`
        """Stored runs, newest first (:meth:`Store.runs`); with ``all=True`` also the leftovers of
        interrupted saves (status ``writing``)."""
        rows = sorted(
            (_summary(rid, self._metadata(rid)) for rid in self._run_ids()),
            key=lambda r: (r["completed_at"], r["run_id"]),
            reverse=True,
        )
        if all:
            rows += [{"run_id": p.name, "status": "writing"} for p in self._leftovers()]
        return rows

    def models(self) -> list[dict[str, Any]]:
        """Models of the stored runs with their number of runs."""
        return self._group("model", ("name", "architecture", "n_layers", "width"))

    def corpora(self) -> list[dict[str, Any]]:
        """Corpora of the stored runs with their number of runs."""
        return self._group("corpus", ("name", "n_texts", "label_names"))

    def _group(self, side: str, fields: tuple[str, ...]) -> list[dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for run_id in self._run_ids():
            meta = self._metadata(run_id)[side]
            key = identity_key(meta)
            row = out.setdefault(key, {"key": key, **{f: meta.get(f) for f in fields}, "n_runs": 0})
            row["n_runs"] += 1
        return sorted(out.values(), key=lambda r: (str(r["name"]), r["key"]))

    def metrics(self, run_id: str, labels: Sequence[str] | str | None = None, *, save: bool = False) -> dict[str, Any]:
        """In-process metrics of a run (:func:`llm_mri_graphdb.analysis.metrics.compute_metrics`); ``save`` stores nothing."""
        from llm_mri_graphdb.analysis.metrics import compute_metrics

        nrag = self._get(run_id)
        return compute_metrics(nrag, [labels] if isinstance(labels, str) else labels)

    def analyze(
        self,
        run_id: str,
        algorithms: Sequence[str] | str | None = None,
        labels: Sequence[str] | str | None = None,
        save: bool = False,
    ) -> dict[str, Any]:
        """Communities and centrality in process (:func:`llm_mri_graphdb.analysis.analyze_nrag`);
        ``save`` is accepted for interface parity and stores nothing (the result holds the membership)."""
        from llm_mri_graphdb.analysis.communities import analyze_nrag

        return analyze_nrag(self._get(run_id), algorithms, [labels] if isinstance(labels, str) else labels)

    def _text_paths(self, run_id: str):
        from llm_mri_graphdb.analysis.statistics import TextPaths

        return TextPaths.of(self._get(run_id))

    def _save_statistics(self, run_id: str, record: dict[str, Any]) -> None:
        save_local_statistics(self, run_id, record)

    def query(self, name: str, **params: Any) -> list[dict[str, Any]]:
        """The library queries about texts and layer alignment, answered in process with the rows Neo4j gives.

        ``region_texts``, ``text_path``, ``co_travellers``, ``label_crossings``,
        ``diverging_texts`` and ``layer_alignment`` run here (their parameters
        checked as for Neo4j); the others need Neo4j and raise StoreUnavailable
        (QueryNotFound for an unknown name).
        """
        cypher.load_query(name)
        if name not in _IN_PROCESS:
            raise StoreUnavailable(
                f"query {name!r} runs Cypher and needs Neo4j; set NEO4J_URI or start a server "
                "with `llm-mri-graphdb neo4j start`."
            )
        return _IN_PROCESS[name](self, cypher.bind_parameters(name, params))

    def _with_texts(self, run_id: str, *, paths: bool = True) -> tuple[NRAG, list[str]]:
        """The run's NRAG and texts, after the checks the Neo4j store makes (texts read on first use)."""
        nrag = self._get(run_id)
        meta = self._metadata(run_id)
        text_queries.require_texts(
            run_id, nrag.kind, int(meta.get("n_texts") or 0), nrag.paths is not None, paths=paths
        )
        if run_id not in self._texts:
            file = self._stored_file(run_id)
            try:
                with np.load(file, allow_pickle=False) as data:
                    self._texts[run_id] = _decode_texts(data["text_blob"], data["text_offsets"])
            except (OSError, ValueError, KeyError) as exc:
                raise _unreadable(file, exc) from exc
        return nrag, self._texts[run_id]

    def region_texts(
        self, run_id: str, region: str, label: str | None = None, limit: int = 20, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Texts of ``region`` (``"layer_x_y"``) of a grid run, in corpus order: ``index``, ``text``, ``label``."""
        nrag, texts = self._with_texts(run_id)
        limit, offset = text_queries.check_count(limit, "limit"), text_queries.check_count(offset, "offset")
        try:
            text_queries.region_index(nrag, region)
        except ValueError:
            raise ValueError(
                f"region must be an occupied region of run {run_id} such as {nrag.region_ids()[0]!r} "
                f"('layer_x_y'); got {region!r}."
            ) from None
        return text_queries.region_texts(
            nrag, region, texts, _text_labels(nrag), label=label, limit=limit, offset=offset
        )

    def text_path(self, run_id: str, idx: int) -> list[dict[str, Any]]:
        """Text ``idx``'s region at every layer: ``layer``, ``region``, ``total`` and one count per label."""
        nrag, texts = self._with_texts(run_id)
        return text_queries.text_path(nrag, text_queries.check_text_index(idx, len(texts)))

    def co_travellers(self, run_id: str, idx: int, limit: int = 20) -> list[dict[str, Any]]:
        """Texts sharing text ``idx``'s region at the most layers: ``index``, ``text``, ``label``, ``shared``."""
        nrag, texts = self._with_texts(run_id)
        return text_queries.co_travellers(nrag, idx, texts, _text_labels(nrag), limit=limit)

    def label_crossings(self, run_id: str, limit: int = 20) -> list[dict[str, Any]]:
        """Texts whose last-layer region another label dominates (see query ``label_crossings``)."""
        nrag, texts = self._with_texts(run_id)
        return text_queries.label_crossings(nrag, texts, _text_labels(nrag), limit=limit)

    def diverging_texts(
        self, run_a: str, run_b: str, layer_a: int, layer_b: int, limit: int = 20
    ) -> list[dict[str, Any]]:
        """Pairs of texts together in one run's layer and apart in the other's (see query ``diverging_texts``)."""
        (a, _), (b, _) = self._with_texts(run_a), self._with_texts(run_b)
        if identity_key(a.corpus) != identity_key(b.corpus):
            raise ValueError(
                f"run_a and run_b must be on the same corpus; {run_a} is on {a.corpus.get('name')!r} "
                f"and {run_b} on {b.corpus.get('name')!r}."
            )
        return text_queries.diverging_texts(a, b, layer_a, layer_b, limit=limit)

    def texts(self, run_id: str) -> list[str]:
        """The corpus texts of a run stored with texts, in corpus order."""
        return list(self._with_texts(run_id, paths=False)[1])

    # -- alignment steps (Store.compare computes) ----------------------------------------
    def _alignment_entries(self) -> dict[str, Any]:
        return dict(self._alignments) if self.path is None else shared_alignment.read_entries(self.path)

    def _save_alignment_entries(self, entries: dict[str, Any]) -> None:
        if self.path is not None:
            shared_alignment.save_entries(self.path, entries)
        self._alignments = entries if self.path is None else {}

    def _save_alignment(self, alignment: LayerAlignment) -> None:
        self._save_alignment_entries(shared_alignment.with_entry(self._alignment_entries(), alignment))

    def _read_alignment(
        self, run_a: str, run_b: str, runs: dict[str, dict[str, Any]], names: tuple[str, str]
    ) -> LayerAlignment | None:
        return shared_alignment.entry_alignment(self._alignment_entries(), run_a, run_b, names)

    def _layer_alignment(self, run_a: str, measure: str, other: str | None) -> list[dict[str, Any]]:
        runs = {row["run_id"]: row for row in self.runs()}
        if run_a not in runs:
            raise run_not_found(run_a)
        out = []
        for key in sorted(self._alignment_entries()):
            first, second = key.split(" ")
            if run_a not in (first, second):
                continue
            other_run = second if first == run_a else first
            summary = runs.get(other_run)
            if summary is None or (other is not None and other not in (other_run, summary["model"])):
                continue
            stored = self.alignment(run_a, other_run)
            out += [] if stored is None else shared_alignment.best_rows(stored, other_run, summary, measure)
        return sorted(out, key=lambda r: (str(r["model"]), r["run_id"], r["layer"]))


MemoryStore = LocalStore
"""The earlier name of :class:`LocalStore`, kept as an alias."""
