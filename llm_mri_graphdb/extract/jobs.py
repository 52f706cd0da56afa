"""Running an extraction: the batch plan, the job, and filling memory or a resumable cache entry.

Shared by every engine (:class:`llm_mri_graphdb.extract.Extractor` and
:mod:`llm_mri_graphdb.extract.distributed`): :func:`plan_batches` tokenises a corpus
once and sorts it longest first into a :class:`BatchPlan`; an engine computes
pooled blocks for batch indices; :func:`run_job` writes them into the rows of
in-memory arrays or of a resumable :class:`~llm_mri_graphdb.extract.cache.CacheWriter`,
so every engine returns its rows in corpus order under one cache key.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from llm_mri_graphdb import settings
from llm_mri_graphdb.data import corpus_fingerprint, corpus_name
from llm_mri_graphdb.errors import CacheError
from llm_mri_graphdb.extract import cache
from llm_mri_graphdb.extract.activations import Activations

__all__ = [
    "cache_root",
    "entry_key",
    "read_cached",
    "as_activations",
    "BatchPlan",
    "plan_batches",
    "ExtractionJob",
    "run_job",
]


def cache_root(cache_dir: str | os.PathLike | bool | None) -> Path | None:
    """Folder of the activation cache: None (no cache), True (the default home) or a path."""
    if cache_dir is None or cache_dir is False:
        return None
    return settings.cache_home() / "activations" if cache_dir is True else Path(cache_dir)


#: How ``pooling="auto"`` enters a cache key: the version of its rule, so entries that an
#: older rule (``first`` for encoders, ``last`` for decoders) wrote are never read as the new one.
AUTO_POOLING_KEY = "auto-v2"


def entry_key(model_fp: str, dataset, site: str, pooling: str, max_length: int | None, dtype: str) -> str:
    """Cache key of one extraction (the ``pooling`` argument as given, ``auto`` with its rule version)."""
    return cache.cache_key(
        model=model_fp,
        corpus=corpus_fingerprint(dataset),
        site=site,
        pooling=AUTO_POOLING_KEY if pooling == "auto" else pooling,
        max_length=max_length,
        dtype=dtype,
    )


def read_cached(root: Path, key: str, dataset) -> Activations | None:
    """The cached entry as Activations; a broken entry is deleted with a warning (None)."""
    try:
        found = cache.load_entry(root, key)
    except CacheError as exc:
        warnings.warn(f"{exc} Recomputing it.", stacklevel=3)
        shutil.rmtree(cache.entry_path(root, key), ignore_errors=True)
        return None
    if found is None:
        return None
    layers, manifest = found
    return as_activations(
        layers, dataset, manifest["model"], manifest["settings"], path=str(cache.entry_path(root, key).resolve())
    )


def as_activations(layers, dataset, model_meta: dict, settings_meta: dict, path: str | None = None) -> Activations:
    """Wrap layers in corpus order with the corpus's labels and metadata (``path``: the cache entry, if any)."""
    names = tuple(dataset.features["label"].names)
    corpus = {
        "fingerprint": corpus_fingerprint(dataset),
        "name": corpus_name(dataset),
        "n_texts": len(dataset),
        "label_names": list(names),
    }
    labels = np.asarray(list(dataset["label"]), dtype=np.int64)
    return Activations(layers, labels, names, model=model_meta, corpus=corpus, settings=settings_meta, path=path)


@dataclass(frozen=True)
class BatchPlan:
    """Token ids of a corpus sorted longest first and cut into batches (one plan, every engine).

    ``batch(i)`` are the corpus rows of batch ``i``; every batch but the last
    holds ``batch_size`` texts. ``fingerprint`` names the cut, so a resumed
    cache entry is only continued under the same plan.
    """

    encoded: list
    lengths: np.ndarray
    order: np.ndarray
    batch_size: int

    @property
    def n_batches(self) -> int:
        return -(-len(self.order) // self.batch_size)

    def batch(self, i: int) -> np.ndarray:
        """Corpus rows of batch ``i``, longest text first."""
        return self.order[i * self.batch_size : (i + 1) * self.batch_size]

    @property
    def fingerprint(self) -> str:
        h = hashlib.sha256(f"sorted-v1\0{self.batch_size}\0".encode())
        h.update(np.ascontiguousarray(self.order, dtype=np.int64).tobytes())
        return h.hexdigest()[:24]

    def subset(self, batches) -> BatchPlan:
        """The plan of ``batches`` only (rows renumbered 0..); its batch ``j`` is ``batches[j]``."""
        rows = np.concatenate([self.batch(b) for b in batches])
        return BatchPlan([self.encoded[r] for r in rows], self.lengths[rows], np.arange(len(rows)), self.batch_size)


def plan_batches(tokenizer, texts, *, max_length: int | None, batch_size: int) -> BatchPlan:
    """Tokenise ``texts`` once without padding and sort them longest first (stable)."""
    encoded = tokenizer(
        list(texts),
        truncation=max_length is not None,
        max_length=max_length,
        return_attention_mask=False,
        return_token_type_ids=False,
    )["input_ids"]
    lengths = np.fromiter((len(ids) for ids in encoded), dtype=np.int64, count=len(encoded))
    if lengths.min() == 0:
        raise ValueError(f"text of row {int(lengths.argmin())} has no tokens; give it some words.")
    return BatchPlan(encoded, lengths, np.argsort(-lengths, kind="stable"), batch_size)


@dataclass
class ExtractionJob:
    """A validated extraction: what to compute and where it goes (see :func:`prepare_job`)."""

    dataset: Any  # a datasets.Dataset with text and label columns
    site: str
    pooling: str
    batch_size: int
    max_length: int | None
    n_layers: int
    width: int
    model_meta: dict
    settings_meta: dict
    root: Path | None = None
    key: str | None = None
    cached: Activations | None = None


def run_job(job: ExtractionJob, plan: BatchPlan, compute, *, progress: bool = True) -> Activations:
    """Fill the job's rows with ``compute(batches)`` and return them in corpus order.

    ``compute`` takes a list of batch indices of ``plan`` and yields
    ``(batch, block)`` with ``block`` a float32 array ``[layers, batch, width]``,
    in any order. With a cache the entry is resumable: batches recorded by an
    interrupted run with the same key and plan are not computed again.
    """
    from tqdm.auto import tqdm

    n_texts, dataset = len(plan.order), job.dataset
    root, key = job.root, job.key
    writer = None
    out: Sequence[np.ndarray]  # in memory, or the writer's memory maps
    if root is None or key is None:
        out = [np.empty((n_texts, job.width), dtype=np.float32) for _ in range(job.n_layers)]
    else:
        writer = cache.CacheWriter(
            root, key, n_layers=job.n_layers, n_texts=n_texts, width=job.width, plan=plan.fingerprint
        ).__enter__()
        out = writer.layers
    try:
        todo = [b for b in range(plan.n_batches) if writer is None or b not in writer.done]
        initial = n_texts - sum(len(plan.batch(b)) for b in todo)
        with tqdm(total=n_texts, initial=initial, unit="text", disable=not progress, desc="extract") as bar:
            for b, block in compute(todo):
                rows = plan.batch(b)
                for layer, values in zip(out, block):
                    layer[rows] = values
                if writer is not None:
                    writer.mark_done(b)
                bar.update(len(rows))
        if writer is None:
            return as_activations(out, dataset, job.model_meta, job.settings_meta)
        writer.commit(
            {"model": job.model_meta, "settings": job.settings_meta, "corpus_fingerprint": corpus_fingerprint(dataset)}
        )
    finally:
        if writer is not None:
            writer.__exit__(None, None, None)
    assert root is not None and key is not None  # the writer above was opened on them
    written = read_cached(root, key, dataset)
    if written is None:  # read_cached warned why and removed it
        raise CacheError(f"cache entry {key} under {root} was just written but cannot be read back.")
    return written
