"""Which layers of two models agree: linear CKA of activations, AMI of region assignments.

Two runs on the same corpus (any models, any depths) are compared layer pair by
layer pair:

* **linear CKA** (Kornblith et al., ICML 2019, "Similarity of Neural Network
  Representations Revisited"), in its feature form on column-centred
  activations ``X`` (n x p) and ``Y`` (n x q)::

      CKA(X, Y) = ||Y^T X||_F^2 / (||X^T X||_F * ||Y^T Y||_F)

  It is 1 for identical inputs, invariant to orthogonal transforms and
  isotropic scaling, and not invariant to arbitrary invertible linear maps.
  Every layer pair comes from one concatenated product per block of rows
  (centred on float64 column means, multiplied in float32 by default, summed
  in float64), so 10k texts x 4096 wide need about 1 GiB, never an n x n Gram
  matrix.
* **adjusted mutual information** between the region assignments of a layer of
  each run (equal to :func:`sklearn.metrics.adjusted_mutual_info_score`,
  computed for all pairs at once by :mod:`llm_mri_graphdb.analysis.mutual_info`): 1
  when both layers split the texts the same way, about 0 for unrelated splits.

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

from llm_mri_graphdb.analysis.mutual_info import ami_matrix
from llm_mri_graphdb.extract.cache import read_rows

__all__ = ["linear_cka", "cka_matrix", "ami_matrix", "best_matches", "LayerAlignment", "align_layers"]

_BLOCK_ROWS = 4096
_MAX_CROSS = 1 << 26  # entries of one cross-product accumulator (float64): 512 MiB, plus half that in float32


def _check_pair(x: np.ndarray, y: np.ndarray) -> None:
    if x.ndim != 2 or y.ndim != 2:
        raise ValueError(f"activations must be 2-D (n_texts, width); got shapes {x.shape} and {y.shape}.")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"both activations must cover the same texts; got {x.shape[0]} and {y.shape[0]} rows.")
    if x.shape[0] < 2:
        raise ValueError(f"CKA needs at least 2 texts; got {x.shape[0]}.")


def _column_means(layers: Sequence[np.ndarray], block_rows: int) -> list[np.ndarray]:
    """Column means in float64, summed block by block."""
    n = layers[0].shape[0]
    means = []
    for x in layers:
        total = np.zeros(x.shape[1])
        for start in range(0, n, block_rows):
            total += read_rows(x, start, start + block_rows).sum(axis=0, dtype=np.float64)
        means.append(total / n)
    return means


def _fill(out: np.ndarray, layers: Sequence[np.ndarray], means: Sequence[np.ndarray], start: int, stop: int) -> None:
    """Rows ``start:stop`` of ``layers``, centred on their float64 means, side by side in ``out``.

    The subtraction runs in ``out``'s dtype: in float32 it rounds the result
    once, as a float64 subtraction cast to float32 would, and the float32
    rounding of the mean (relative 2^-24) leaves a column offset that changes
    the centred products by a relative amount of order 1e-14.
    """
    column = 0
    for x, mean in zip(layers, means):
        width = x.shape[1]
        rows = x[start:stop] if type(x) is np.ndarray else read_rows(x, start, stop)  # memmaps: plain file reads
        np.subtract(rows, mean.astype(out.dtype), out=out[:, column:column + width])
        column += width


def _buffer(shape: tuple[int, int], dtype) -> np.ndarray:
    """A block buffer written once in order first: its pages are then mapped before the column-slice
    writes of :func:`_fill`, which fault them in several times more slowly (measured: 0.43 s against 0.07 s
    for 160 MiB)."""
    out = np.empty(shape, dtype=dtype)
    out.fill(0.0)
    return out


def _self_norms(layers: Sequence[np.ndarray], means: Sequence[np.ndarray], block_rows: int, dtype) -> np.ndarray:
    """``||X_c^T X_c||_F`` of every layer (block products in ``dtype``, summed in float64)."""
    n = layers[0].shape[0]
    norms = np.empty(len(layers))
    for i, (x, mean) in enumerate(zip(layers, means)):
        gram = np.zeros((x.shape[1], x.shape[1]))
        block = np.empty((min(block_rows, n), x.shape[1]), dtype=dtype)
        for start in range(0, n, block_rows):
            rows = block[:min(block_rows, n - start)]
            _fill(rows, [x], [mean], start, start + rows.shape[0])
            gram += rows.T @ rows  # [width, width]; BLAS syrk
        norms[i] = np.linalg.norm(gram)
    return norms


def _chunks(widths: Sequence[int], limit: int) -> list[list[int]]:
    """Consecutive layers grouped so that each group's total width stays within ``limit`` (or is one layer)."""
    groups: list[list[int]] = [[]]
    total = 0
    for i, w in enumerate(widths):
        if groups[-1] and total + w > limit:
            groups.append([])
            total = 0
        groups[-1].append(i)
        total += w
    return groups


def _cross_sums(layers_a, means_a, layers_b, means_b, block_rows: int, dtype, max_cross: int,
                self_terms: bool) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """``||X_i^T Y_j||_F^2`` for every layer pair, from one concatenated product per group of layers.

    With ``self_terms`` (and room for every layer's Gram matrix) also
    ``||X_i^T X_i||_F`` and ``||Y_j^T Y_j||_F`` from the same centred blocks;
    otherwise those are ``None``.
    """
    n = layers_a[0].shape[0]
    widths_a, widths_b = [x.shape[1] for x in layers_a], [y.shape[1] for y in layers_b]
    limit_a = max(max(widths_a), min(sum(widths_a), max_cross // sum(widths_b)))
    groups_a = _chunks(widths_a, limit_a)
    widest_a = max(sum(widths_a[i] for i in g) for g in groups_a)
    groups_b = _chunks(widths_b, max(max(widths_b), max_cross // widest_a))
    self_terms = self_terms and sum(w * w for w in widths_a + widths_b) <= max_cross
    grams_a = [np.zeros((w, w)) for w in widths_a] if self_terms else []
    grams_b = [np.zeros((w, w)) for w in widths_b] if self_terms else []
    out = np.empty((len(layers_a), len(layers_b)))
    rows = min(block_rows, n)
    for ga in groups_a:
        xs, mx = [layers_a[i] for i in ga], [means_a[i] for i in ga]
        starts_a = np.cumsum([0] + [widths_a[i] for i in ga[:-1]])
        block_a = _buffer((rows, sum(widths_a[i] for i in ga)), dtype)
        for gb in groups_b:
            ys, my = [layers_b[j] for j in gb], [means_b[j] for j in gb]
            starts_b = np.cumsum([0] + [widths_b[j] for j in gb[:-1]])
            block_b = _buffer((rows, sum(widths_b[j] for j in gb)), dtype)
            partial = np.empty((block_a.shape[1], block_b.shape[1]), dtype=dtype)
            cross = np.zeros(partial.shape)  # [widths of a's group, widths of b's group]
            for start in range(0, n, block_rows):
                m = min(block_rows, n - start)
                _fill(block_a[:m], xs, mx, start, start + m)
                _fill(block_b[:m], ys, my, start, start + m)
                np.matmul(block_a[:m].T, block_b[:m], out=partial)
                cross += partial
                if self_terms and gb is groups_b[0]:
                    _add_grams(grams_a, ga, block_a[:m], starts_a, widths_a)
                if self_terms and ga is groups_a[0]:
                    _add_grams(grams_b, gb, block_b[:m], starts_b, widths_b)
            np.square(cross, out=cross)
            out[np.ix_(ga, gb)] = np.add.reduceat(np.add.reduceat(cross, starts_a, axis=0), starts_b, axis=1)
    if not self_terms:
        return out, None, None
    return out, np.array([np.linalg.norm(g) for g in grams_a]), np.array([np.linalg.norm(g) for g in grams_b])


def _add_grams(grams: list[np.ndarray], layers: list[int], block: np.ndarray, starts: np.ndarray,
               widths: list[int]) -> None:
    for i, first in zip(layers, starts):
        rows = block[:, first:first + widths[i]]  # [rows, width]
        grams[i] += rows.T @ rows


def cka_matrix(layers_a: Sequence[np.ndarray], layers_b: Sequence[np.ndarray], *,
               block_rows: int = _BLOCK_ROWS, dtype: type = np.float32, max_cross: int = _MAX_CROSS) -> np.ndarray:
    """Linear CKA of every layer of ``a`` against every layer of ``b``.

    Parameters
    ----------
    layers_a : sequence of ndarray of shape (n_texts, p_i)
    layers_b : sequence of ndarray of shape (n_texts, q_j)
        Row ``t`` of every array is text ``t``; widths may differ. Memory-mapped
        cache files are read block by block.
    block_rows : int, default=4096
        Texts read and multiplied at a time.
    dtype : {numpy.float32, numpy.float64}, default=numpy.float32
        Precision of each block's product. Rows are centred on column means
        computed in float64, and block products are summed in float64; float32 products (the
        activations are cached in float32 anyway) run twice as fast and agree
        with ``float64`` to about 1e-6 (see Notes).
    max_cross : int, default=2**26
        Largest cross-product accumulator, in entries: all layers of both runs
        go into one product while ``sum(p) * sum(q)`` fits, else into groups.

    Returns
    -------
    cka : ndarray of shape (len(layers_a), len(layers_b))
        ``cka[i, j]`` compares layer ``i`` of ``a`` with layer ``j`` of ``b``;
        ``nan`` where a layer is constant over the texts.

    Notes
    -----
    All layer pairs come from one matrix product per block of rows,
    ``[X_1 .. X_La]^T [Y_1 .. Y_Lb]``, whose ``(i, j)`` block is ``X_i^T Y_j``;
    so the work is one large GEMM rather than ``La * Lb`` small ones. With
    float32 products each entry of ``X_i^T Y_j`` carries a relative rounding
    error of order ``sqrt(block_rows) * 2^-24`` (about 4e-6 at 4096 rows,
    random-walk accumulation), and centring before the cast removes the
    cancellation an uncentred product would suffer; the test suite checks the
    result against the float64 path to 1e-6 absolute on data with a large
    common offset.
    """
    if not layers_a or not layers_b:
        raise ValueError("layers_a and layers_b must each hold at least one layer.")
    if np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float32 or float64; got {np.dtype(dtype)}.")
    for x in layers_a:
        _check_pair(x, layers_b[0])
    for y in layers_b:
        _check_pair(layers_a[0], y)
    same = len(layers_a) == len(layers_b) and all(x is y for x, y in zip(layers_a, layers_b))
    means_a = _column_means(layers_a, block_rows)
    means_b = means_a if same else _column_means(layers_b, block_rows)
    numerator, norms_a, norms_b = _cross_sums(layers_a, means_a, layers_b, means_b, block_rows, dtype, max_cross,
                                              self_terms=not same)
    if same:  # the diagonal of the product holds the self terms: the diagonal of the result is exactly 1
        norms_a = norms_b = np.sqrt(np.diag(numerator))
    elif norms_a is None or norms_b is None:
        norms_a = _self_norms(layers_a, means_a, block_rows, dtype)
        norms_b = _self_norms(layers_b, means_b, block_rows, dtype)
    denominator = np.outer(norms_a, norms_b)
    with np.errstate(invalid="ignore", divide="ignore"):
        cka = np.where(denominator > 0.0, numerator / np.where(denominator > 0.0, denominator, 1.0), np.nan)
    if same:
        np.fill_diagonal(cka, np.where(norms_a > 0.0, 1.0, np.nan))  # numerator / denominator, without rounding
    return cka


def linear_cka(x: np.ndarray, y: np.ndarray, *, block_rows: int = _BLOCK_ROWS) -> float:
    """Linear CKA of two activation matrices over the same texts, in float64 throughout.

    Parameters
    ----------
    x : ndarray of shape (n_texts, p)
    y : ndarray of shape (n_texts, q)
        Row ``i`` of both is text ``i``; widths may differ.
    block_rows : int, default=4096
        Rows read at a time.

    Returns
    -------
    cka : float
        In [0, 1]; ``nan`` when either input is constant over the texts.
    """
    return float(cka_matrix([x], [y], block_rows=block_rows, dtype=np.float64)[0, 0])


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
    runs : tuple of (str, str)
        The two stored run ids (empty for in-process scans).
    notes : tuple of str
        One line per measure that could not be computed, saying why.
    """

    cka: np.ndarray | None
    ami: np.ndarray | None
    names: tuple[str, str] = ("a", "b")
    runs: tuple[str, str] = ("", "")
    notes: tuple[str, ...] = ()

    def matrix(self, measure: str = "cka") -> np.ndarray:
        """The matrix of ``measure`` (``'cka'`` or ``'ami'``); ValueError when it was not computed."""
        matrix = {"cka": self.cka, "ami": self.ami}.get(measure, ...)
        if matrix is ...:
            raise ValueError(f"measure must be 'cka' or 'ami'; got {measure!r}.")
        if matrix is None:
            raise ValueError(f"this alignment has no {measure} (see LayerAlignment.notes).")
        return matrix

    def best(self, measure: str = "cka") -> list[int]:
        """For every layer of ``a``, the layer of ``b`` it agrees with most under ``measure``."""
        return best_matches(self.matrix(measure)).tolist()


def align_layers(layers_a: Sequence[np.ndarray] | None, layers_b: Sequence[np.ndarray] | None,
                 paths_a: np.ndarray | None = None, paths_b: np.ndarray | None = None, *,
                 names: tuple[str, str] = ("a", "b"), runs: tuple[str, str] = ("", ""),
                 notes: tuple[str, ...] = (), block_rows: int = _BLOCK_ROWS) -> LayerAlignment:
    """CKA of the activations and AMI of the region paths of two scans over the same texts.

    Either pair may be ``None`` (the measure is then ``None``), not both.
    Passing the same list for ``layers_a`` and ``layers_b`` compares a scan
    with itself: its CKA diagonal is exactly 1.
    """
    if (layers_a is None or layers_b is None) and (paths_a is None or paths_b is None):
        raise ValueError("align_layers needs the activations of both scans (CKA) or their region paths (AMI).")
    cka = None if layers_a is None or layers_b is None else cka_matrix(layers_a, layers_b, block_rows=block_rows)
    ami = None if paths_a is None or paths_b is None else ami_matrix(paths_a, paths_b)
    return LayerAlignment(cka, ami, (str(names[0]), str(names[1])), (str(runs[0]), str(runs[1])), tuple(notes))
