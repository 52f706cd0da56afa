"""On-disk cache of pooled activations, one folder per extraction key.

An entry is a folder named by the hash of its key (model fingerprint, corpus
fingerprint, site, pooling, max_length, dtype) holding ``layer_000.npy``,
``layer_001.npy``, ... of shape ``(n_texts, width)`` in float32 and a
``manifest.json`` written last. A writer fills the ``.npy`` files batch by
batch through :func:`numpy.lib.format.open_memmap` inside a hidden temp folder
next to the entry, then renames the folder into place, so a reader sees either
a whole entry or none. A process killed mid-write leaves only a ``.tmp-*``
folder, which lookups never read. An entry whose manifest is missing or whose
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

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .errors import CacheError

__all__ = [
    "CACHE_VERSION",
    "folder_fingerprint",
    "gguf_fingerprint",
    "cache_key",
    "entry_path",
    "load_entry",
    "CacheWriter",
]

CACHE_VERSION = 1
_MANIFEST = "manifest.json"
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


class CacheWriter:
    """Write one entry atomically; use as a context manager.

    ``layers`` are float32 memmaps of shape ``(n_texts, width)`` to fill row
    by row; :meth:`commit` flushes them, writes the manifest and renames the
    temp folder into place. Leaving the ``with`` block without a commit
    removes the temp folder.
    """

    def __init__(self, root: str | os.PathLike, key: str, *, n_layers: int, n_texts: int, width: int) -> None:
        self.root, self.key = Path(root), key
        self.n_layers, self.n_texts, self.width = n_layers, n_texts, width
        self.layers: list[np.memmap] = []
        self._tmp: Path | None = None

    def __enter__(self) -> CacheWriter:
        self.root.mkdir(parents=True, exist_ok=True)
        self._tmp = self.root / f".tmp-{self.key}-{uuid.uuid4().hex[:12]}"
        self._tmp.mkdir()
        shape = (self.n_texts, self.width)
        self.layers = [
            np.lib.format.open_memmap(self._tmp / _layer_file(i), mode="w+", dtype=np.float32, shape=shape)
            for i in range(self.n_layers)
        ]
        return self

    def commit(self, manifest: Mapping[str, Any]) -> Path:
        """Finish the entry; returns its folder (another process's, if it won the race)."""
        assert self._tmp is not None, "commit() outside the with block"
        for layer in self.layers:
            layer.flush()
        self.layers = []
        full = {**manifest, "key": self.key, "version": CACHE_VERSION,
                "n_layers": self.n_layers, "n_texts": self.n_texts, "width": self.width}
        (self._tmp / _MANIFEST).write_text(json.dumps(full, indent=1, sort_keys=True, default=str))
        final = entry_path(self.root, self.key)
        try:
            os.rename(self._tmp, final)
        except OSError:
            if not (final / _MANIFEST).is_file():
                raise
            shutil.rmtree(self._tmp, ignore_errors=True)  # a concurrent writer finished first
        self._tmp = None
        return final

    def __exit__(self, *exc: object) -> None:
        self.layers = []
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
