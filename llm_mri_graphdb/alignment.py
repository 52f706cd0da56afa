"""Which layers of two models agree: linear CKA of activations, AMI of region assignments.

Two runs on the same corpus (any models, any depths) are compared layer pair by
layer pair:

* **linear CKA** (Kornblith et al., ICML 2019, "Similarity of Neural Network
  Representations Revisited"), in its feature form on column-centred
  activations ``X`` (n x p) and ``Y`` (n x q)::

      CKA(X, Y) = ||Y^T X||_F^2 / (||X^T X||_F * ||Y^T Y||_F)

  It is 1 for identical inputs, invariant to orthogonal transforms and
  isotropic scaling, and not invariant to arbitrary invertible linear maps.
  Sums run in float64 over blocks of rows, so 10k texts x 4096 wide need a
  few hundred MiB, never an n x n Gram matrix.
* **adjusted mutual information** between the region assignments of a layer of
  each run (:func:`sklearn.metrics.adjusted_mutual_info_score`): 1 when both
  layers split the texts the same way, about 0 for unrelated splits.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = rng.standard_normal((50, 4))
>>> round(linear_cka(x, x), 6), round(linear_cka(x, 3 * x), 6)
(1.0, 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["linear_cka", "cka_matrix", "ami_matrix", "best_matches", "LayerAlignment", "align_layers"]

_BLOCK_ROWS = 4096


def _centred_blocks(x: np.ndarray, mean: np.ndarray, block_rows: int):
    for start in range(0, x.shape[0], block_rows):
        yield np.asarray(x[start:start + block_rows], dtype=np.float64) - mean


def _column_mean(x: np.ndarray, block_rows: int) -> np.ndarray:
    total = np.zeros(x.shape[1])
    for start in range(0, x.shape[0], block_rows):
        total += np.asarray(x[start:start + block_rows], dtype=np.float64).sum(axis=0)
    return total / x.shape[0]


def _cross(x: np.ndarray, x_mean: np.ndarray, y: np.ndarray, y_mean: np.ndarray, block_rows: int) -> np.ndarray:
    """``X_c^T Y_c`` summed over blocks of rows (float64)."""
    out = np.zeros((x.shape[1], y.shape[1]))
    for xb, yb in zip(_centred_blocks(x, x_mean, block_rows), _centred_blocks(y, y_mean, block_rows)):
        out += xb.T @ yb
    return out


def _self_norm(x: np.ndarray, mean: np.ndarray, block_rows: int) -> float:
    return float(np.linalg.norm(_cross(x, mean, x, mean, block_rows)))


def _check_pair(x: np.ndarray, y: np.ndarray) -> None:
    if x.ndim != 2 or y.ndim != 2:
        raise ValueError(f"activations must be 2-D (n_texts, width); got shapes {x.shape} and {y.shape}.")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"both activations must cover the same texts; got {x.shape[0]} and {y.shape[0]} rows.")
    if x.shape[0] < 2:
        raise ValueError(f"CKA needs at least 2 texts; got {x.shape[0]}.")


def linear_cka(x: np.ndarray, y: np.ndarray, *, block_rows: int = _BLOCK_ROWS) -> float:
    """Linear CKA of two activation matrices over the same texts.

    Parameters
    ----------
    x : ndarray of shape (n_texts, p)
    y : ndarray of shape (n_texts, q)
        Row ``i`` of both is text ``i``; widths may differ. Memory-mapped
        arrays are read block by block.
    block_rows : int, default=4096
        Rows converted to float64 at a time.

    Returns
    -------
    cka : float
        In [0, 1]; ``nan`` when either input is constant over the texts.
    """
    _check_pair(x, y)
    mx, my = _column_mean(x, block_rows), _column_mean(y, block_rows)
    denominator = _self_norm(x, mx, block_rows) * _self_norm(y, my, block_rows)
    if denominator == 0.0:
        return float("nan")
    return float(np.sum(_cross(x, mx, y, my, block_rows) ** 2) / denominator)


def cka_matrix(layers_a: Sequence[np.ndarray], layers_b: Sequence[np.ndarray], *,
               block_rows: int = _BLOCK_ROWS) -> np.ndarray:
    """Linear CKA of every layer of ``a`` against every layer of ``b``.

    Returns
    -------
    cka : ndarray of shape (len(layers_a), len(layers_b))
        ``cka[i, j]`` compares layer ``i`` of ``a`` with layer ``j`` of ``b``.
    """
    if not layers_a or not layers_b:
        raise ValueError("layers_a and layers_b must each hold at least one layer.")
    for x in layers_a:
        _check_pair(x, layers_b[0])
    for y in layers_b:
        _check_pair(layers_a[0], y)
    mean_a = [_column_mean(x, block_rows) for x in layers_a]
    mean_b = [_column_mean(y, block_rows) for y in layers_b]
    norm_a = [_self_norm(x, m, block_rows) for x, m in zip(layers_a, mean_a)]
    norm_b = [_self_norm(y, m, block_rows) for y, m in zip(layers_b, mean_b)]
    out = np.full((len(layers_a), len(layers_b)), np.nan)
    for i, (x, mx) in enumerate(zip(layers_a, mean_a)):
        for j, (y, my) in enumerate(zip(layers_b, mean_b)):
            denominator = norm_a[i] * norm_b[j]
            if denominator > 0.0:
                out[i, j] = np.sum(_cross(x, mx, y, my, block_rows) ** 2) / denominator
    return out


def ami_matrix(paths_a: np.ndarray, paths_b: np.ndarray) -> np.ndarray:
    """Adjusted mutual information of the region assignments of every layer pair.

    Parameters
    ----------
    paths_a : ndarray of shape (n_texts, n_layers_a)
        Region of each text at each layer of run ``a`` (any integer ids).
    paths_b : ndarray of shape (n_texts, n_layers_b)

    Returns
    -------
    ami : ndarray of shape (n_layers_a, n_layers_b)
    """
    from sklearn.metrics import adjusted_mutual_info_score

    paths_a, paths_b = np.asarray(paths_a), np.asarray(paths_b)
    if paths_a.ndim != 2 or paths_b.ndim != 2 or paths_a.shape[0] != paths_b.shape[0]:
        raise ValueError("paths must be (n_texts, n_layers) arrays over the same texts; "
                         f"got shapes {paths_a.shape} and {paths_b.shape}.")
    out = np.empty((paths_a.shape[1], paths_b.shape[1]))
    for i in range(paths_a.shape[1]):
        for j in range(paths_b.shape[1]):
            out[i, j] = adjusted_mutual_info_score(paths_a[:, i], paths_b[:, j])
    return out


def best_matches(similarity: np.ndarray) -> np.ndarray:
    """For every layer of ``a`` (row), the layer of ``b`` (column) most similar to it (nan-safe)."""
    sim = np.where(np.isnan(similarity), -np.inf, similarity)
    return np.argmax(sim, axis=1)


@dataclass(frozen=True)
class LayerAlignment:
    """How the layers of two scans of one corpus agree.

    Attributes
    ----------
    cka : ndarray of shape (n_layers_a, n_layers_b) or None
        Linear CKA of the activations; ``None`` when they were not given.
    ami : ndarray of shape (n_layers_a, n_layers_b) or None
        AMI of the region assignments; ``None`` when a scan has no paths.
    names : tuple of (str, str)
        The two models' names.
    """

    cka: np.ndarray | None
    ami: np.ndarray | None
    names: tuple[str, str] = ("a", "b")

    def best(self, measure: str = "cka") -> list[int]:
        """For every layer of ``a``, the layer of ``b`` it agrees with most under ``measure``."""
        matrix = {"cka": self.cka, "ami": self.ami}.get(measure, ...)
        if matrix is ...:
            raise ValueError(f"measure must be 'cka' or 'ami'; got {measure!r}.")
        if matrix is None:
            raise ValueError(f"this alignment has no {measure} (see LayerAlignment).")
        return best_matches(matrix).tolist()


def align_layers(layers_a: Sequence[np.ndarray] | None, layers_b: Sequence[np.ndarray] | None,
                 paths_a: np.ndarray | None = None, paths_b: np.ndarray | None = None, *,
                 names: tuple[str, str] = ("a", "b"), block_rows: int = _BLOCK_ROWS) -> LayerAlignment:
    """CKA of the activations and AMI of the region paths of two scans over the same texts.

    Either pair may be ``None`` (the measure is then ``None``), not both.
    """
    if (layers_a is None or layers_b is None) and (paths_a is None or paths_b is None):
        raise ValueError("align_layers needs the activations of both scans (CKA) or their region paths (AMI).")
    cka = None if layers_a is None or layers_b is None else cka_matrix(layers_a, layers_b, block_rows=block_rows)
    ami = None if paths_a is None or paths_b is None else ami_matrix(paths_a, paths_b)
    return LayerAlignment(cka, ami, tuple(names))
