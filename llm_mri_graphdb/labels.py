"""The one label resolver: label names or indices to label indices.

Every place that takes labels from a user (an NRAG selection, a heatmap, a
graph drawing, a store's metrics, the facade) resolves them here, so they all
accept the same things and fail with the same message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["resolve_labels", "resolve_label"]


def resolve_labels(label_names: Sequence[str], labels: Any) -> list[int]:
    """Indices of ``labels`` (None = all; a name, an index, or a sequence of them).

    Parameters
    ----------
    label_names : sequence of str
        The labels of a scan, in index order.
    labels : None, str, int or sequence of str or int
        ``None`` selects every label.

    Returns
    -------
    idx : list of int
        In the order given.

    Raises
    ------
    ValueError
        Naming the valid labels, for an unknown name or index, and for a
        repeated or empty selection.

    Examples
    --------
    >>> resolve_labels(["neg", "pos"], None)
    [0, 1]
    >>> resolve_labels(["neg", "pos"], ["pos", 0])
    [1, 0]
    """
    names = list(label_names)
    if labels is None:
        return list(range(len(names)))
    if isinstance(labels, (str, int, np.integer)):
        labels = [labels]
    idx = []
    for lab in labels:
        if isinstance(lab, (int, np.integer)) and not isinstance(lab, bool) and 0 <= int(lab) < len(names):
            idx.append(int(lab))
        elif isinstance(lab, str) and lab in names:
            idx.append(names.index(lab))
        else:
            raise ValueError(f"labels must be names in {names} or indices below {len(names)}; got {lab!r}.")
    if not idx or len(set(idx)) != len(idx):
        raise ValueError(f"labels must be a non-empty selection without repeats; got {list(labels)!r}.")
    return idx


def resolve_label(label_names: Sequence[str], label: str | int) -> int:
    """Index of one label given by name or index (:func:`resolve_labels` for a single label).

    Examples
    --------
    >>> resolve_label(["neg", "pos"], "pos")
    1
    """
    if not isinstance(label, (str, int, np.integer)):
        raise ValueError(f"label must be one name in {list(label_names)} or one index; got {label!r}.")
    return resolve_labels(label_names, label)[0]
