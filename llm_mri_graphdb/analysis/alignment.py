"""Which layers of two models agree: linear CKA of activations, AMI of region assignments.

Above 400 lines: plain and debiased CKA share one block-GEMM pass over the cache (their sums are computed
together), and AMI's contingency kernel sits beside them; splitting would copy the pass.

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
* **debiased linear CKA**: the same ratio with every HSIC replaced by the
  unbiased estimator of Song et al. (JMLR 2012, eq. 5), as Kornblith et al.
  (2019, section 3 and appendix) propose; plain CKA of two *independent*
  Gaussian matrices is about 0.6 at n = 300, p = 384, q = 576, debiased CKA
  about 0. For linear kernels on column-centred data (the estimator is
  invariant to centring) with ``a_t = ||x_t||^2`` and ``b_t = ||y_t||^2``::

      HSIC_u(X, Y) * n (n - 3) = ||Y^T X||_F^2 - n / (n - 2) * sum_t a_t b_t
                                 + (sum_t a_t)(sum_t b_t) / ((n - 1)(n - 2))

  so it costs one extra pass over the rows (their squared norms), no n x n
  matrix. Its permutation null and the stability of best matches are in
  :mod:`llm_mri_graphdb.analysis.alignment_null`.
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
from numpy.typing import ArrayLike

from llm_mri_graphdb.analysis.mutual_info import ami_matrix
from llm_mri_graphdb.extract.cache import read_rows

__all__ = [
    "linear_cka",
    "debiased_linear_cka",
    "cka_matrix",
    "cka_matrices",
    "CKAMatrices",
    "dominance_notes",
    "ami_matrix",
    "best_matches",
    "MEASURES",
    "LayerAlignment",
    "align_layers",
]

#: Measures a :class:`LayerAlignment` can hold; the first three are similarities (higher agrees more),
#: ``cka_null_p`` is the permutation p-value of ``cka_debiased`` (lower is further above its null).
MEASURES = ("cka", "cka_debiased", "cka_null_p", "ami")
#: Share of a layer's variance held by one coordinate above which CKA mostly follows that coordinate.
DOMINANCE_LIMIT = 0.5

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
        np.subtract(rows, mean.astype(out.dtype), out=out[:, column : column + width])
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
            rows = block[: min(block_rows, n - start)]
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


def _cross_sums(
    layers_a, means_a, layers_b, means_b, block_rows: int, dtype, max_cross: int, self_terms: bool
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
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


def _add_grams(
    grams: list[np.ndarray], layers: list[int], block: np.ndarray, starts: np.ndarray, widths: list[int]
) -> None:
    for i, first in zip(layers, starts):
        rows = block[:, first : first + widths[i]]  # [rows, width]
        grams[i] += rows.T @ rows


@dataclass(frozen=True)
class CKAMatrices:
    """Linear and debiased linear CKA of every layer pair, with what the layers' rows told along the way.

    Attributes
    ----------
    cka, cka_debiased : ndarray of shape (n_layers_a, n_layers_b)
    top_share_a, top_share_b : ndarray of shape (n_layers,)
        Share of each layer's total variance held by its largest-variance coordinate.
    """

    cka: np.ndarray
    cka_debiased: np.ndarray
    top_share_a: np.ndarray
    top_share_b: np.ndarray


def _row_stats(
    layers: Sequence[np.ndarray], means: Sequence[np.ndarray], block_rows: int
) -> tuple[np.ndarray, np.ndarray]:
    """Squared norms of every centred row (float64, shape (n, n_layers)) and each layer's top-coordinate share."""
    n = layers[0].shape[0]
    norms = np.empty((n, len(layers)))
    shares = np.empty(len(layers))
    for i, (x, mean) in enumerate(zip(layers, means)):
        column = np.zeros(x.shape[1])
        for start in range(0, n, block_rows):
            rows = read_rows(x, start, start + block_rows).astype(np.float64) - mean  # [rows, width]
            np.square(rows, out=rows)
            norms[start : start + rows.shape[0], i] = rows.sum(axis=1)
            column += rows.sum(axis=0)
        total = column.sum()
        shares[i] = column.max() / total if total > 0 else np.nan
    return norms, shares


def _hsic_u(cross: np.ndarray, norms_a: np.ndarray, norms_b: np.ndarray) -> np.ndarray:
    """``n (n - 3) HSIC_u`` of every layer pair from ``||X_i^T Y_j||_F^2`` and the rows' squared norms."""
    n = norms_a.shape[0]
    return (
        cross
        - n / (n - 2) * (norms_a.T @ norms_b)
        + np.outer(norms_a.sum(axis=0), norms_b.sum(axis=0)) / ((n - 1) * (n - 2))
    )


def _ratio(numerator: np.ndarray, self_a: np.ndarray, self_b: np.ndarray) -> np.ndarray:
    denominator = np.outer(self_a, self_b)
    ok = (np.outer(self_a > 0.0, self_b > 0.0)) & (denominator > 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, numerator / np.sqrt(np.where(ok, denominator, 1.0)), np.nan)


def cka_matrices(
    layers_a: Sequence[np.ndarray],
    layers_b: Sequence[np.ndarray],
    *,
    block_rows: int = _BLOCK_ROWS,
    dtype: type = np.float32,
    max_cross: int = _MAX_CROSS,
) -> CKAMatrices:
    """Linear CKA and debiased linear CKA of every layer of ``a`` against every layer of ``b``.

    Parameters and the GEMM are those of :func:`cka_matrix`; the debiased
    estimator adds one pass over the rows (their squared centred norms, see the
    module docstring); it is ``nan`` with fewer than 4 texts.

    Returns
    -------
    CKAMatrices
        ``nan`` where a layer is constant over the texts (or, for the debiased
        estimator, where a layer's unbiased self-HSIC is not positive).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.standard_normal((300, 384)), rng.standard_normal((300, 576))
    >>> m = cka_matrices([x], [y], dtype=np.float64)
    >>> round(float(m.cka[0, 0]), 2), abs(float(m.cka_debiased[0, 0])) < 0.05
    (0.61, True)
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
    numerator, norms_a, norms_b = _cross_sums(
        layers_a, means_a, layers_b, means_b, block_rows, dtype, max_cross, self_terms=not same
    )
    if same:  # the diagonal of the product holds the self terms: the diagonal of the result is exactly 1
        norms_a = norms_b = np.sqrt(np.diag(numerator))
    elif norms_a is None or norms_b is None:
        norms_a = _self_norms(layers_a, means_a, block_rows, dtype)
        norms_b = _self_norms(layers_b, means_b, block_rows, dtype)
    rows_a, share_a = _row_stats(layers_a, means_a, block_rows)
    rows_b, share_b = (rows_a, share_a) if same else _row_stats(layers_b, means_b, block_rows)
    cka = _ratio(numerator, norms_a**2, norms_b**2)
    self_a = np.diag(_hsic_u(norms_a[:, None] ** 2 * np.eye(len(layers_a)), rows_a, rows_a))
    self_b = self_a if same else np.diag(_hsic_u(norms_b[:, None] ** 2 * np.eye(len(layers_b)), rows_b, rows_b))
    debiased = _ratio(_hsic_u(numerator, rows_a, rows_b), self_a, self_b)
    if rows_a.shape[0] < 4:
        debiased[:] = np.nan
    if same:  # numerator / denominator, without rounding
        np.fill_diagonal(cka, np.where(norms_a > 0.0, 1.0, np.nan))
        np.fill_diagonal(debiased, np.where(self_a > 0.0, 1.0, np.nan))
    return CKAMatrices(cka, debiased, share_a, share_b)


def cka_matrix(
    layers_a: Sequence[np.ndarray],
    layers_b: Sequence[np.ndarray],
    *,
    block_rows: int = _BLOCK_ROWS,
    dtype: type = np.float32,
    max_cross: int = _MAX_CROSS,
) -> np.ndarray:
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
    common offset. :func:`cka_matrices` returns the debiased estimator from the
    same product.
    """
    return cka_matrices(layers_a, layers_b, block_rows=block_rows, dtype=dtype, max_cross=max_cross).cka


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


def debiased_linear_cka(x: np.ndarray, y: np.ndarray, *, block_rows: int = _BLOCK_ROWS) -> float:
    """Debiased linear CKA (unbiased HSIC) of two activation matrices, in float64 throughout.

    About 0 for independent inputs whatever their width (plain CKA is not),
    exactly 1 for identical ones; it can be slightly negative. ``nan`` for a
    constant input or fewer than 4 texts.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((50, 4))
    >>> round(debiased_linear_cka(x, x), 6), round(debiased_linear_cka(x, 2 * x + 1), 6)
    (1.0, 1.0)
    """
    return float(cka_matrices([x], [y], block_rows=block_rows, dtype=np.float64).cka_debiased[0, 0])


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
        One line per measure that could not be computed, or per warning, saying why.
    cka_debiased : ndarray of shape (n_layers_a, n_layers_b) or None
        Debiased linear CKA (unbiased HSIC): about 0 for unrelated layers.
    cka_null_p : ndarray of shape (n_layers_a, n_layers_b) or None
        Permutation p-value of ``cka_debiased`` (see :mod:`llm_mri_graphdb.analysis.alignment_null`).
    stability : ndarray of shape (n_layers_a,) or None
        Share of bootstrap resamples keeping each layer's best debiased-CKA match.
    null : dict or None
        How the null and the stability were computed: ``n_rows``, ``n_permutations``,
        ``n_bootstrap``, ``random_state``, and ``null_max`` (the largest permuted value per pair).
    context : tuple of (dict, dict) or None
        Per run, what a layer's regions can carry: ``ami_labels`` (AMI of the regions with
        the labels, per layer) and ``variance_kept`` (share of variance the reduction keeps, per layer).
    """

    cka: np.ndarray | None
    ami: np.ndarray | None
    names: tuple[str, str] = ("a", "b")
    runs: tuple[str, str] = ("", "")
    notes: tuple[str, ...] = ()
    cka_debiased: np.ndarray | None = None
    cka_null_p: np.ndarray | None = None
    stability: np.ndarray | None = None
    null: dict | None = None
    context: tuple[dict, dict] | None = None

    def matrix(self, measure: str = "cka") -> np.ndarray:
        """The matrix of ``measure`` (one of :data:`MEASURES`); ValueError when it was not computed."""
        if measure not in MEASURES:
            raise ValueError(f"measure must be one of {MEASURES}; got {measure!r}.")
        matrix = getattr(self, measure)
        if matrix is None:
            raise ValueError(f"this alignment has no {measure} (see LayerAlignment.notes).")
        return matrix

    def best(self, measure: str = "cka") -> list[int]:
        """For every layer of ``a``, the layer of ``b`` it agrees with most under ``measure``
        (for ``cka_null_p``: the smallest p-value)."""
        matrix = self.matrix(measure)
        return best_matches(-matrix if measure == "cka_null_p" else matrix).tolist()

    def above_null(self, alpha: float = 0.05) -> np.ndarray | None:
        """Pairs whose debiased CKA is above its permutation null (``p <= alpha``); None without a null."""
        if self.cka_null_p is None:
            return None
        return np.asarray(self.cka_null_p) <= alpha


def _span(layers: list[int]) -> str:
    """``[1, 2, 3, 7]`` as ``'1-3, 7'``."""
    parts, start = [], None
    for i, layer in enumerate(layers):
        if start is None:
            start = layer
        if i + 1 == len(layers) or layers[i + 1] != layer + 1:
            parts.append(str(start) if start == layer else f"{start}-{layer}")
            start = None
    return ", ".join(parts)


def dominance_notes(shares: ArrayLike, name: str, *, limit: float = DOMINANCE_LIMIT) -> list[str]:
    """One line naming the layers of ``name`` where one coordinate holds more than ``limit`` of the variance.

    Examples
    --------
    >>> dominance_notes([0.1, 0.92, 0.97, 0.2], "SmolLM2")[0][:71]
    'SmolLM2 layers 1-2: one coordinate holds 92-97 % of the variance, so CK'
    >>> dominance_notes([0.1, 0.3], "MiniLM")
    []
    """
    values = np.asarray(shares, dtype=float)
    hit = [int(i) for i in np.flatnonzero(values > limit)]
    if not hit:
        return []
    low, high = 100 * values[hit].min(), 100 * values[hit].max()
    share = f"{low:.0f} %" if round(low) == round(high) else f"{low:.0f}-{high:.0f} %"
    which = f"layer {hit[0]}" if len(hit) == 1 else f"layers {_span(hit)}"
    return [
        f"{name} {which}: one coordinate holds {share} of the variance, so CKA there follows that one "
        "coordinate; pool without position 0 (e.g. mean over positions >= 1) or standardise the "
        "coordinates, then compare again."
    ]


def align_layers(
    layers_a: Sequence[np.ndarray] | None,
    layers_b: Sequence[np.ndarray] | None,
    paths_a: np.ndarray | None = None,
    paths_b: np.ndarray | None = None,
    *,
    names: tuple[str, str] = ("a", "b"),
    runs: tuple[str, str] = ("", ""),
    notes: tuple[str, ...] = (),
    block_rows: int = _BLOCK_ROWS,
    n_permutations: int = 100,
    n_bootstrap: int = 100,
    null_rows: int | None = None,
    random_state: int | None = 0,
    context: tuple[dict, dict] | None = None,
) -> LayerAlignment:
    """CKA (plain and debiased, with a permutation null and best-match stability) and AMI of two scans.

    Either pair may be ``None`` (the measure is then ``None``), not both.
    Passing the same list for ``layers_a`` and ``layers_b`` compares a scan
    with itself: its CKA diagonals are exactly 1.

    Parameters
    ----------
    layers_a, layers_b : sequence of ndarray of shape (n_texts, width) or None
    paths_a, paths_b : ndarray of shape (n_texts, n_layers) or None
        Region index of every text at every layer.
    names, runs, notes
        Carried into the result.
    block_rows : int, default=4096
    n_permutations : int, default=100
        Permutations of ``b``'s rows for the null of debiased CKA; 0 skips it.
    n_bootstrap : int, default=100
        Resamples for the stability of best matches; 0 skips it.
    null_rows : int, default=None
        Texts the null and the resamples use (a seeded subsample when the corpus is larger);
        None is :data:`llm_mri_graphdb.analysis.alignment_null.MAX_ROWS`.
    random_state : int or None, default=0
        Seeds the null and the resamples.
    context : tuple of (dict, dict), default=None
        Carried into the result (see :class:`LayerAlignment`).

    Warns
    -----
    UserWarning
        When one coordinate holds more than half of a layer's variance (one line per model, also in ``notes``).
    """
    import warnings

    from llm_mri_graphdb.analysis.alignment_null import MAX_ROWS, cka_null_and_stability

    if (layers_a is None or layers_b is None) and (paths_a is None or paths_b is None):
        raise ValueError("align_layers needs the activations of both scans (CKA) or their region paths (AMI).")
    cka = debiased = p_value = stability = null = None
    found_notes = list(notes)
    if layers_a is not None and layers_b is not None:
        matrices = cka_matrices(layers_a, layers_b, block_rows=block_rows)
        cka, debiased = matrices.cka, matrices.cka_debiased
        same = len(layers_a) == len(layers_b) and all(x is y for x, y in zip(layers_a, layers_b))
        found = dominance_notes(matrices.top_share_a, names[0])
        found += [] if same else dominance_notes(matrices.top_share_b, names[1])
        for line in found:
            warnings.warn(line, UserWarning, stacklevel=2)
        found_notes += found
        if n_permutations or n_bootstrap:
            result = cka_null_and_stability(
                layers_a,
                layers_b,
                best_matches(debiased),
                n_permutations=n_permutations,
                n_bootstrap=n_bootstrap,
                max_rows=null_rows or MAX_ROWS,
                random_state=random_state,
            )
            p_value = result.p_value if n_permutations else None
            stability = result.stability if n_bootstrap else None
            null = {
                "n_rows": result.n_rows,
                "n_permutations": result.n_permutations,
                "n_bootstrap": result.n_bootstrap,
                "random_state": random_state,
                "null_max": result.null_max,
            }
    ami = None if paths_a is None or paths_b is None else ami_matrix(paths_a, paths_b)
    return LayerAlignment(
        cka,
        ami,
        (str(names[0]), str(names[1])),
        (str(runs[0]), str(runs[1])),
        tuple(found_notes),
        cka_debiased=debiased,
        cka_null_p=p_value,
        stability=stability,
        null=null,
        context=context,
    )
