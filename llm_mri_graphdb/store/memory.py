"""In-process store: the :class:`Neo4jStore` interface over a dict, optionally saved to a folder.

The default when no database is configured. Each run is one ``<run_id>.npz``
(arrays plus the metadata as JSON), replaced atomically, so a crash mid-save
leaves the previous file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from llm_mri_graphdb.errors import RunNotFound, StoreUnavailable
from llm_mri_graphdb.nrag import NRAG
from llm_mri_graphdb.store import cypher

__all__ = ["MemoryStore"]

_ARRAYS = ("region_layer", "region_x", "region_y", "region_counts",
           "edge_source", "edge_target", "edge_label", "edge_weight")


def _meta(nrag: NRAG, completed_at: str) -> dict[str, Any]:
    return {"kind": nrag.kind, "n_layers": nrag.n_layers, "label_names": list(nrag.label_names),
            "model": nrag.model, "corpus": nrag.corpus, "settings": nrag.settings, "completed_at": completed_at}


def _summary(run_id: str, nrag: NRAG, completed_at: str) -> dict[str, Any]:
    return {"run_id": run_id, "model": nrag.model.get("name"), "corpus": nrag.corpus.get("name"),
            "corpus_fingerprint": nrag.corpus.get("fingerprint") or nrag.corpus.get("name"),
            "kind": nrag.kind, "n_layers": nrag.n_layers, "label_names": list(nrag.label_names),
            "n_regions": nrag.n_regions, "n_edge_rows": int(nrag.edge_source.shape[0]),
            "completed_at": completed_at}


class MemoryStore:
    """NRAG runs kept in memory; saved under ``path`` (one ``<run_id>.npz`` each) when given.

    Parameters
    ----------
    path : str or Path, optional
        Folder to save runs to and load them from; created if missing.

    Examples
    --------
    >>> store = MemoryStore()
    >>> store.runs()
    []
    """

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = None if path is None else Path(path)
        self._runs: dict[str, tuple[NRAG, str]] = {}
        if self.path is not None:
            self.path.mkdir(parents=True, exist_ok=True)
            for file in sorted(self.path.glob("*.npz")):
                self._runs[file.stem] = self._load(file)

    def __repr__(self) -> str:
        return f"MemoryStore(path={None if self.path is None else str(self.path)!r})"

    def __enter__(self) -> "MemoryStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to release; present so both stores share one interface."""

    @staticmethod
    def _load(file: Path) -> tuple[NRAG, str]:
        with np.load(file, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            arrays = {name: data[name] for name in _ARRAYS}
            bounds = data["layer_bounds"] if "layer_bounds" in data.files else None
        nrag = NRAG(kind=meta["kind"], n_layers=meta["n_layers"], label_names=tuple(meta["label_names"]),
                    layer_bounds=bounds, model=meta["model"], corpus=meta["corpus"], settings=meta["settings"],
                    **arrays)
        return nrag, meta["completed_at"]

    def _save(self, run_id: str, nrag: NRAG, completed_at: str) -> None:
        arrays = {name: getattr(nrag, name) for name in _ARRAYS}
        if nrag.layer_bounds is not None:
            arrays["layer_bounds"] = nrag.layer_bounds
        meta = json.dumps(_meta(nrag, completed_at), sort_keys=True, default=str)
        fd, tmp = tempfile.mkstemp(prefix=f".{run_id}.", suffix=".npz", dir=self.path)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, meta=np.array(meta), **arrays)
            os.replace(tmp, self.path / f"{run_id}.npz")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _get(self, run_id: str) -> NRAG:
        if run_id not in self._runs:
            raise RunNotFound(f"run_id must name a stored run; got {run_id!r} (stored: {sorted(self._runs)}).")
        return self._runs[run_id][0]

    def write(self, nrag: NRAG) -> str:
        """Store ``nrag`` as its run (replacing an earlier one); returns ``nrag.run_id``."""
        if not isinstance(nrag, NRAG):
            raise TypeError(f"nrag must be an NRAG; got {type(nrag).__name__}.")
        run_id = nrag.run_id
        completed_at = datetime.now(timezone.utc).isoformat()
        if self.path is not None:
            self._save(run_id, nrag, completed_at)
        self._runs[run_id] = (nrag, completed_at)
        return run_id

    def read(self, run_id: str) -> NRAG:
        """The stored NRAG of ``run_id``."""
        return self._get(run_id)

    def delete(self, run_id: str) -> None:
        """Forget a run (and remove its file)."""
        self._get(run_id)
        if self.path is not None:
            (self.path / f"{run_id}.npz").unlink(missing_ok=True)
        del self._runs[run_id]

    def runs(self) -> list[dict[str, Any]]:
        """Stored runs, newest first, with the same keys as :meth:`Neo4jStore.runs`."""
        rows = [_summary(rid, nrag, at) for rid, (nrag, at) in self._runs.items()]
        return sorted(rows, key=lambda r: (r["completed_at"], r["run_id"]), reverse=True)

    def models(self) -> list[dict[str, Any]]:
        """Models of the stored runs with their number of runs."""
        return self._group("model", ("name", "architecture", "n_layers", "width"))

    def corpora(self) -> list[dict[str, Any]]:
        """Corpora of the stored runs with their number of runs."""
        return self._group("corpus", ("name", "n_texts", "label_names"))

    def _group(self, side: str, fields: tuple[str, ...]) -> list[dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for nrag, _ in self._runs.values():
            meta = getattr(nrag, side)
            key = str(meta.get("fingerprint") or meta.get("name") or "unknown")
            row = out.setdefault(key, {"key": key, **{f: meta.get(f) for f in fields}, "n_runs": 0})
            row["n_runs"] += 1
        return sorted(out.values(), key=lambda r: (str(r["name"]), r["key"]))

    def metrics(self, run_id: str, labels: Sequence[str] | str | None = None, *, save: bool = False) -> dict[str, Any]:
        """In-process metrics of a run (:func:`llm_mri_graphdb.metrics.compute_metrics`); ``save`` stores nothing."""
        from llm_mri_graphdb.metrics import compute_metrics

        nrag = self._get(run_id)
        return compute_metrics(nrag, [labels] if isinstance(labels, str) else labels)

    def analyze(self, run_id: str, algorithms: Sequence[str] | str | None = None,
                labels: Sequence[str] | str | None = None, save: bool = False) -> dict[str, Any]:
        """Communities and centrality in process (:func:`llm_mri_graphdb.analysis.analyze_nrag`);
        ``save`` is accepted for interface parity and stores nothing (the result holds the membership)."""
        from llm_mri_graphdb.analysis import analyze_nrag

        return analyze_nrag(self._get(run_id), algorithms, [labels] if isinstance(labels, str) else labels)

    def query(self, name: str, **params: Any) -> list[dict[str, Any]]:
        """The Cypher library needs Neo4j: raises StoreUnavailable (QueryNotFound for an unknown name)."""
        cypher.load_query(name)
        raise StoreUnavailable(f"query {name!r} runs Cypher and needs Neo4j; set NEO4J_URI or start a server "
                               "with `llm-mri-graphdb neo4j start`.")
