"""On-disk cache of pooled activations, one folder per extraction key.

An entry is a folder named by the hash of its key (model fingerprint, corpus
fingerprint, site, pooling, max_length, dtype) holding ``layer_000.npy``,
``layer_001.npy``, ... of shape ``(n_texts, width)`` in float32 and a
``manifest.json`` written last. A writer fills the ``.npy`` files batch by
batch through :func:`numpy.lib.format.open_memmap` inside a hidden temp folder
next to the entry, then renames the folder into place, so a reader sees either
a whole entry or none. A process killed mid-write leaves only a ``.tmp-*``
folder, which lookups never read.

A writer given a ``plan`` (a string naming how the work is cut into numbered
units, e.g. the hash of the batch order) is *resumable*: its temp folder is
``.partial-<key>`` and holds ``progress.json`` (the plan and the units done).
The rows of a unit are written before the unit is recorded, and the record is
rewritten atomically (``os.replace``) after the layer files are flushed, at
most every :data:`CHECKPOINT_SECONDS`; so after Ctrl-C, SIGKILL or a lost
worker, a writer opened again with the same key and plan reopens the files and
:attr:`CacheWriter.done` lists the units it need not compute again. The
progress file is removed before the manifest is written, so a resumed entry
is byte for byte the entry of an uninterrupted run (rows are deterministic).
A second writer of the same key, while the first holds the lock, falls back
to a private, non-resumable temp folder.

An entry whose manifest is missing or whose
files disagree with it raises :class:`~llm_mri_graphdb.errors.CacheError`;
:func:`llm_mri_graphdb.extract.extract_activations` then warns, deletes it and
recomputes.

Model fingerprints are cheap so that a cache hit needs no model load:

* a folder: SHA-256 of ``config.json`` plus the name, size and mtime of every
  weight file (``*.safetensors``, ``*.bin``, ``*.pt``, ``*.pth``, ``*.gguf``);
  (top level only, where sharded checkpoints keep them);
* a ``.gguf`` file: SHA-256 of its size, first MiB and last MiB.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from llm_mri_graphdb.errors import CacheError

__all__ = [
    "CACHE_VERSION",
    "folder_fingerprint",
    "gguf_fingerprint",
    "cache_key",
    "entry_path",
    "load_entry",
    "read_rows",
    "CacheWriter",
]

CACHE_VERSION = 1
CHECKPOINT_SECONDS = 1.0  # at most this long between progress records of a resumable writer
_MANIFEST = "manifest.json"
_PROGRESS = "progress.json"
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf", ".h5", ".msgpack")
_MIB = 1 << 20


def folder_fingerprint(folder: str | os.PathLike) -> str:
    """Hash of a model folder's ``config.json`` and its weight files' names, sizes and mtimes."""
    folder = Path(folder)
    h = hashlib.sha256(b"folder-v1\0")
    config = folder / "config.json"
    h.update(config.read_bytes() if config.is_file() else b"")
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix in _WEIGHT_SUFFIXES:
            st = path.stat()
            h.update(f"{path.name}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    return h.hexdigest()


def gguf_fingerprint(path: str | os.PathLike) -> str:
    """Hash of a ``.gguf`` file's size, first MiB and last MiB."""
    size = os.path.getsize(path)
    h = hashlib.sha256(f"gguf-v1\0{size}\0".encode())
    with open(path, "rb") as f:
        h.update(f.read(_MIB))
        f.seek(max(0, size - _MIB))
        h.update(f.read(_MIB))
    return h.hexdigest()


def cache_key(**fields: Any) -> str:
    """Stable hash of the key fields (JSON with sorted keys; the cache version included)."""
    payload = json.dumps({"version": CACHE_VERSION, **fields}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:40]


def entry_path(root: str | os.PathLike, key: str) -> Path:
    """Folder of the entry ``key`` under ``root``."""
    return Path(root) / key


def _layer_file(i: int) -> str:
    return f"layer_{i:03d}.npy"


def load_entry(root: str | os.PathLike, key: str) -> tuple[list[np.ndarray], dict[str, Any]] | None:
    """Memory-mapped layers and manifest of entry ``key``, or ``None`` when there is none.

    Raises :class:`~llm_mri_graphdb.errors.CacheError` when the folder exists
    but has no manifest or a file does not match the manifest's shape.
    """
    folder = entry_path(root, key)
    if not folder.is_dir():
        return None
    manifest_path = folder / _MANIFEST
    if not manifest_path.is_file():
        raise CacheError(f"cache entry {folder} has no {_MANIFEST}; it is incomplete.")
    try:
        manifest = json.loads(manifest_path.read_text())
        shape = (int(manifest["n_texts"]), int(manifest["width"]))
        n_layers = int(manifest["n_layers"])
        layers = [np.load(folder / _layer_file(i), mmap_mode="r") for i in range(n_layers)]
    except (OSError, ValueError, KeyError) as exc:
        raise CacheError(f"cache entry {folder} cannot be read: {exc}") from exc
    for i, layer in enumerate(layers):
        if layer.shape != shape or layer.dtype != np.float32:
            raise CacheError(
                f"cache entry {folder}: {_layer_file(i)} has shape {layer.shape} {layer.dtype}; "
                f"the manifest says {shape} float32."
            )
    return layers, manifest


def read_rows(layer: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Rows ``start:stop`` of ``layer`` as a fresh array.

    A whole memory-mapped cache file is read with plain file reads, so pages
    read once do not stay mapped: a pass over a layer larger than RAM keeps the
    resident memory at one chunk. Other arrays are sliced.
    """
    filename = getattr(layer, "filename", None)
    if (
        isinstance(layer, np.memmap)
        and filename
        and layer.flags.c_contiguous
        and layer.ndim == 2
        and os.path.getsize(filename) == layer.offset + layer.nbytes
    ):
        width = layer.shape[1]
        stop = min(stop, layer.shape[0])
        count = max(0, stop - start) * width
        rows = np.fromfile(
            filename, dtype=layer.dtype, count=count, offset=layer.offset + start * width * layer.itemsize
        )
        return rows.reshape(-1, width)
    return np.array(layer[start:stop])


def _intervals(units: set[int]) -> list[list[int]]:
    """``{0, 1, 2, 5}`` -> ``[[0, 3], [5, 6]]`` (half-open runs)."""
    runs: list[list[int]] = []
    for u in sorted(units):
        if runs and runs[-1][1] == u:
            runs[-1][1] = u + 1
        else:
            runs.append([u, u + 1])
    return runs


def _size(n_bytes: int) -> str:
    """``n_bytes`` for a person: ``1.5 MiB``."""
    value = float(n_bytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def _write_json_atomic(path: Path, payload: Mapping[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload, sort_keys=True))
    os.replace(tmp, path)


class CacheWriter:
    """Write one entry atomically; use as a context manager.

    ``layers`` are float32 memmaps of shape ``(n_texts, width)`` to fill row
    by row; :meth:`commit` flushes them, writes the manifest and renames the
    temp folder into place. Leaving the ``with`` block without a commit
    removes the temp folder, unless the writer is resumable (``plan`` given):
    then it records its progress and keeps the folder for the next run.

    Parameters
    ----------
    root : path
    key : str
    n_layers, n_texts, width : int
    plan : str or None, default=None
        Names how the work is cut into units (see :meth:`mark_done`); a
        partial folder recorded under another plan is discarded.
    """

    def __init__(
        self, root: str | os.PathLike, key: str, *, n_layers: int, n_texts: int, width: int, plan: str | None = None
    ) -> None:
        self.root, self.key = Path(root), key
        self.n_layers, self.n_texts, self.width = n_layers, n_texts, width
        self.plan = plan
        self.layers: list[np.memmap] = []
        self.done: set[int] = set()
        self._tmp: Path | None = None
        self._lock: Any = None
        self._last_checkpoint = 0.0
        self._dirty = False

    @property
    def resumable(self) -> bool:
        """True when this writer keeps its progress across runs."""
        return self._lock is not None

    @property
    def nbytes(self) -> int:
        """Bytes of the layer data: layers x texts x width x 4 (float32)."""
        return self.n_layers * self.n_texts * self.width * 4

    def __enter__(self) -> CacheWriter:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.plan is not None and self._take_lock():
            self._tmp = self.root / f".partial-{self.key}"
            if self._reopen():
                self._allocate_or_leave()
                return self
            shutil.rmtree(self._tmp, ignore_errors=True)
        else:
            self._tmp = self.root / f".tmp-{self.key}-{uuid.uuid4().hex[:12]}"
        try:
            self._check_space(shutil.disk_usage(self.root).free)  # before a byte is written
        except CacheError:
            self._tmp = None
            self._release(remove=True)
            raise
        self._tmp.mkdir()
        shape = (self.n_texts, self.width)
        self.layers = [
            np.lib.format.open_memmap(self._tmp / _layer_file(i), mode="w+", dtype=np.float32, shape=shape)
            for i in range(self.n_layers)
        ]
        self._allocate_or_leave()
        if self.resumable:
            self.checkpoint(force=True)
        return self

    def _no_space(self, free: int) -> CacheError:
        return CacheError(
            f"the activation cache {self.root} has {_size(free)} free but this extraction needs {_size(self.nbytes)} "
            f"({self.n_layers} layers x {self.n_texts} texts x {self.width} values x 4 bytes); free space there, "
            "pass another --cache (cache_dir=), or scan without one."
        )

    def _check_space(self, free: int) -> None:
        """One line naming the folder and the size needed when ``free`` bytes cannot hold the layers."""
        if free < self.nbytes:
            raise self._no_space(free)

    def _allocate_or_leave(self) -> None:
        """Give every layer file its blocks now (``posix_fallocate``), so a full disk is one CacheError here and
        never a SIGBUS when a memory-mapped row is written later. On failure the writer leaves nothing behind."""
        try:
            for layer in self.layers:
                with open(layer.filename, "r+b") as fh:  # type: ignore[arg-type]  # a file-backed memmap
                    os.posix_fallocate(fh.fileno(), 0, os.fstat(fh.fileno()).st_size)
        except OSError as exc:
            free = shutil.disk_usage(self.root).free
            self.layers = []
            if self._tmp is not None:
                shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
            self._release(remove=True)
            error = (
                self._no_space(free)
                if exc.errno == errno.ENOSPC
                else CacheError(
                    f"cannot allocate the activation cache in {self.root}: {exc.strerror or exc}; pass another --cache."
                )
            )
            raise error from exc

    def _take_lock(self) -> bool:
        handle = open(self.root / f".partial-{self.key}.lock", "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._lock = handle
        return True

    def _reopen(self) -> bool:
        """Reopen a partial folder of the same plan; False when there is none to reuse."""
        if self._tmp is None:
            return False
        try:
            progress = json.loads((self._tmp / _PROGRESS).read_text())
            if progress.get("plan") != self.plan:
                return False
            layers = [np.lib.format.open_memmap(self._tmp / _layer_file(i), mode="r+") for i in range(self.n_layers)]
        except (OSError, ValueError):
            return False
        if any(a.shape != (self.n_texts, self.width) or a.dtype != np.float32 for a in layers):
            return False
        self.layers = layers
        self.done = {u for start, stop in progress["done"] for u in range(start, stop)}
        return True

    def mark_done(self, unit: int) -> None:
        """Record that the rows of ``unit`` are written (checkpointed at most every CHECKPOINT_SECONDS)."""
        self.done.add(unit)
        self._dirty = True
        self.checkpoint()

    def checkpoint(self, *, force: bool = False) -> None:
        """Flush the layer files, then record the units done (resumable writers only)."""
        if not self.resumable or self._tmp is None:
            return
        if not force and (not self._dirty or time.monotonic() - self._last_checkpoint < CHECKPOINT_SECONDS):
            return
        for layer in self.layers:
            layer.flush()
        _write_json_atomic(self._tmp / _PROGRESS, {"plan": self.plan, "done": _intervals(self.done)})
        self._last_checkpoint, self._dirty = time.monotonic(), False

    def commit(self, manifest: Mapping[str, Any]) -> Path:
        """Finish the entry; returns its folder (another process's, if it won the race)."""
        assert self._tmp is not None, "commit() outside the with block"
        for layer in self.layers:
            layer.flush()
        self.layers = []
        (self._tmp / _PROGRESS).unlink(missing_ok=True)
        full = {
            **manifest,
            "key": self.key,
            "version": CACHE_VERSION,
            "n_layers": self.n_layers,
            "n_texts": self.n_texts,
            "width": self.width,
        }
        (self._tmp / _MANIFEST).write_text(json.dumps(full, indent=1, sort_keys=True, default=str))
        final = entry_path(self.root, self.key)
        try:
            os.rename(self._tmp, final)
        except OSError:
            if not (final / _MANIFEST).is_file():
                raise
            shutil.rmtree(self._tmp, ignore_errors=True)  # a concurrent writer finished first
        self._tmp = None
        self._release(remove=True)
        return final

    def _release(self, *, remove: bool) -> None:
        if self._lock is not None:
            if remove:
                Path(self._lock.name).unlink(missing_ok=True)
            self._lock.close()  # closing the file releases the flock
            self._lock = None

    def __exit__(self, *exc: object) -> None:
        if self._tmp is not None and self.resumable:
            self.checkpoint(force=True)  # keep the rows written so far for the next run
            self.layers = []
            self._tmp = None
        self.layers = []
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        self._release(remove=False)
