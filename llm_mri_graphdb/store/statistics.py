"""Metric statistics of a stored run, the same frame from both stores.

Each store reads what the kernel needs, the per-text region paths (on Neo4j the
``(:Text)-[:IN]->(:Region)`` memberships, through ``cypher/read_statistics_input.cypher``),
into a :class:`llm_mri_graphdb.analysis.statistics.TextPaths`, and runs the same numpy
kernel (:func:`llm_mri_graphdb.analysis.statistics.metric_statistics`), so equal seeds
give equal frames. ``save=True`` keeps the result with the run's metrics: a
``(:Run)-[:HAS_STATISTICS]->(:StatisticSet)`` on Neo4j (columns as list
properties, one set per selection and settings), ``<run_id>.statistics.json``
beside the run file of the local store.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from llm_mri_graphdb.analysis.statistics import (
    TextPaths,
    metric_contrasts,
    metric_statistics,
    statistics_record,
)
from llm_mri_graphdb.errors import RunNotFound

__all__ = ["StatisticsQuestions", "local_statistics_file", "save_local_statistics", "text_paths_from_rows"]


def text_paths_from_rows(row: dict[str, Any], run_id: str) -> TextPaths:
    """The :class:`TextPaths` of one ``read_statistics_input`` record."""
    names = tuple(row["label_names"])
    n_layers, n_texts = int(row["n_layers"]), int(row["n_texts"] or 0)
    if row["kind"] != "grid" or not n_texts or not row["text_paths"]:
        return TextPaths(row["kind"], n_layers, names, np.zeros(0, np.int64), None, None)
    index = {name: i for i, name in enumerate(names)}
    labels = row["text_labels"]
    if len(labels) != n_texts or not set(labels) <= set(index):
        raise RunNotFound(f"the texts of run {run_id!r} changed while they were read; read again.")
    region, layer = np.asarray(row["region"], np.int64), np.asarray(row["layer"], np.int64)
    paths = np.full((n_texts, n_layers), -1, np.int64)
    paths[np.asarray(row["text"], np.int64), layer] = region
    if region.size != paths.size or (paths < 0).any():
        raise RunNotFound(f"the memberships of run {run_id!r} changed while they were read; read again.")
    region_layer = np.zeros(int(region.max()) + 1, np.int64)
    region_layer[region] = layer
    return TextPaths("grid", n_layers, names, region_layer, paths, np.array([index[x] for x in labels], np.int64))


def local_statistics_file(store: Any, run_id: str) -> Path | None:
    return None if store.path is None else Path(store.path) / f"{run_id}.statistics.json"


_IN_MEMORY: dict[int, dict[str, dict[str, Any]]] = {}


def save_local_statistics(store: Any, run_id: str, record: dict[str, Any]) -> None:
    """Merge ``record`` into the run's statistics file (or the in-memory store's dict)."""
    file = local_statistics_file(store, run_id)
    if file is None:
        _IN_MEMORY.setdefault(id(store), {})[f"{run_id}|{record['key']}"] = record
        return
    entries = json.loads(file.read_text()) if file.exists() else {}
    entries[record["key"]] = record
    fd, tmp = tempfile.mkstemp(prefix=f".{run_id}.statistics.", suffix=".json", dir=file.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(entries, fh, sort_keys=True)  # nan as NaN, read back by json.loads
        os.replace(tmp, file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class StatisticsQuestions:
    """``metric_statistics`` and ``metric_contrasts`` as methods of both stores (a base class of each).

    A store provides ``_text_paths(run_id) -> TextPaths`` and
    ``_save_statistics(run_id, record)``.
    """

    def metric_statistics(
        self,
        run_id: str,
        labels: Sequence[str] | str | None = None,
        n_permutations: int = 200,
        n_bootstrap: int = 200,
        seed: int | None = 0,
        *,
        confidence: float = 0.95,
        correction: str = "holm",
        save: bool = False,
        refit: bool = False,
    ) -> pd.DataFrame:
        """:func:`llm_mri_graphdb.analysis.statistics.metric_statistics` of a stored run; kept on the run with ``save``.

        ``refit=True`` takes the intervals from bootstrap resamples that refit the run's reducer (slow; needs
        the run's activation cache entry, see :func:`llm_mri_graphdb.analysis.sensitivity.run_activations`).
        """
        selection = [labels] if isinstance(labels, str) else labels
        refit_with = None
        if refit:
            from llm_mri_graphdb.analysis.sensitivity import run_activations, run_reducer_factory

            nrag = self.read(run_id)  # type: ignore[attr-defined]
            refit_with = (run_activations(nrag), run_reducer_factory(nrag)[0])
            paths = TextPaths.of(nrag)
        else:
            paths = self._text_paths(run_id)  # type: ignore[attr-defined]
        frame = metric_statistics(
            paths,
            selection,
            n_permutations,
            n_bootstrap,
            seed,
            confidence=confidence,
            correction=correction,
            refit=refit_with,
        )
        if save:
            self.save_statistics(run_id, frame)
        return frame

    def save_statistics(self, run_id: str, frame: pd.DataFrame) -> None:
        """Keep a :func:`~llm_mri_graphdb.analysis.statistics.metric_statistics` frame of ``run_id`` with the run."""
        names = [n for n in dict.fromkeys(frame.label) if "|" not in n]
        self._save_statistics(run_id, statistics_record(frame, names))  # type: ignore[attr-defined]

    def metric_contrasts(
        self,
        run_id: str,
        labels: Sequence[str] | str | None = None,
        n_permutations: int = 200,
        n_bootstrap: int = 200,
        seed: int | None = 0,
        *,
        confidence: float = 0.95,
        correction: str = "holm",
    ) -> pd.DataFrame:
        """:func:`llm_mri_graphdb.analysis.statistics.metric_contrasts` of a stored run."""
        selection = [labels] if isinstance(labels, str) else labels
        return metric_contrasts(
            self._text_paths(run_id),  # type: ignore[attr-defined]  # each store defines it
            selection,
            n_permutations,
            n_bootstrap,
            seed,
            confidence=confidence,
            correction=correction,
        )
