"""The container that carries pooled activations from extraction to reduction.

An :class:`Activations` holds one ``ndarray of shape (n_texts, width)`` per
layer, the integer label of every text, the label names, and metadata about the
model and corpus it came from. Layers may be memory-mapped views of an on-disk
cache; nothing here copies them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from llm_mri_graphdb.labels import resolve_label

__all__ = ["Activations"]


@dataclass(frozen=True)
class Activations:
    """Pooled activations of one model over one labelled corpus.

    Parameters
    ----------
    layers : sequence of ndarray of shape (n_texts, width)
        One array per layer; layer 0 is the embedding output for ``site="hidden"``.
    labels : ndarray of shape (n_texts,)
        Integer label of each text, indexing ``label_names``.
    label_names : tuple of str
    model : mapping
        At least ``name``; extraction adds ``architecture``, ``fingerprint``,
        ``n_layers``, ``width``.
    corpus : mapping
        At least ``fingerprint`` and ``name``.
    settings : mapping
        Extraction settings: ``site``, ``pooling``, ``max_length``, ``dtype``.
    path : str or None
        Absolute path of the activation cache entry the layers were read from
        (``None`` when no cache was used); not part of ``settings`` (nor of a run id).
    """

    layers: Sequence[np.ndarray]
    labels: np.ndarray
    label_names: tuple[str, ...]
    model: Mapping[str, Any] = field(default_factory=dict)
    corpus: Mapping[str, Any] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    path: str | None = None

    def __post_init__(self) -> None:
        labels = np.asarray(self.labels)
        if labels.ndim != 1:
            raise ValueError(f"labels must be one-dimensional; got shape {labels.shape}.")
        if len(self.layers) == 0:
            raise ValueError("layers must hold at least one layer; got none.")
        for i, layer in enumerate(self.layers):
            if layer.ndim != 2 or layer.shape[0] != labels.shape[0]:
                raise ValueError(f"layer {i} must have shape (n_texts={labels.shape[0]}, width); got {layer.shape}.")
        if labels.size and (labels.min() < 0 or labels.max() >= len(self.label_names)):
            raise ValueError(
                f"labels must index label_names (0..{len(self.label_names) - 1}); "
                f"got values in [{labels.min()}, {labels.max()}]."
            )
        object.__setattr__(self, "labels", labels.astype(np.int64, copy=False))
        object.__setattr__(self, "label_names", tuple(str(n) for n in self.label_names))

    @property
    def n_layers(self) -> int:
        return len(self.layers)

    @property
    def n_texts(self) -> int:
        return int(self.labels.shape[0])

    def layer(self, i: int) -> np.ndarray:
        """The ``ndarray of shape (n_texts, width)`` of layer ``i`` (negative counts from the end)."""
        if not -self.n_layers <= i < self.n_layers:
            raise IndexError(f"layer must be in [0, {self.n_layers - 1}]; got {i}.")
        return self.layers[i]

    def label_index(self, name: str | int) -> int:
        """Index of a label given by name (or already an index); see :func:`llm_mri_graphdb.labels.resolve_label`."""
        return resolve_label(self.label_names, name)
