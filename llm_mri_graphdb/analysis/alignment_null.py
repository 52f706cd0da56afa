"""Is a layer pair's debiased CKA above chance, and is a best match stable? Permutations and resamples.

:func:`cka_null_and_stability` answers both from Gram matrices of the texts, so
every permutation or resample costs a gather and one small product for *all*
layer pairs at once instead of a new ``n x p`` by ``n x q`` GEMM:

* **permutation null.** Rows of ``b`` are permuted (the same permutation for
  all its layers, ``n_permutations`` of them, seeded) and the debiased CKA of
  every pair recomputed as ``HSIC_u(K_i, P L_j P^T)`` from the zero-diagonal
  Gram matrices ``K_i = X_i X_i^T`` (Song et al. 2012, eq. 5). The one-sided
  p-value is ``(1 + #{permuted >= observed}) / (1 + n_permutations)``
  (Phipson & Smyth 2010), so it is never 0 and its floor is ``1 / 101`` at the
  default 100 permutations.
* **bootstrap stability.** ``n_bootstrap`` draws of texts with replacement; the
  debiased CKA matrix is recomputed on the distinct texts of each draw (a
  U-statistic needs distinct rows: a duplicated text would pair with itself)
  and each layer of ``a`` counts how often its best layer of ``b`` is the one
  found on all texts.

**Cost.** Gram matrices need ``n^2`` entries per layer and each permutation
moves ``n^2`` entries per layer of ``b``; with ``n = 10,000`` texts that is 400
MB per layer, so both run on a seeded subsample of ``max_rows`` texts (default
1,000) when the corpus is larger. The p-value is then that of the exact
permutation test on the subsample (valid at any size, with less power than on
all texts), and the stability that of best matches found on about 630 texts
(more variable than on all of them). Below ``max_rows`` every text is used.
Time grows as ``max_rows^2 * (n_layers_a + n_layers_b) * (n_permutations +
n_bootstrap)``; memory as about ``2 max_rows^2 * (n_layers_a + n_layers_b)`` float32 (the Grams, their
upper triangles and one permuted copy).
A permutation gathers only the upper triangle of ``P L P^T`` (the Grams are
symmetric with a zero diagonal), row by row; the permutations and the
resamples run in two threads (numpy's gathers and products release the GIL)
on draws taken beforehand in one seeded order, so a seed gives the same
numbers as the sequential algorithm. ``python -m bench.alignment --ratio-only``
times the whole comparison against the one before debiased CKA.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from llm_mri_graphdb.extract.cache import read_rows

__all__ = ["NullResult", "cka_null_and_stability"]

MAX_ROWS = 1000


@dataclass(frozen=True)
class NullResult:
    """What :func:`cka_null_and_stability` found.

    Attributes
    ----------
    p_value : ndarray of shape (n_layers_a, n_layers_b)
        One-sided permutation p-value of each pair's debiased CKA (nan where it is nan).
    null_max : ndarray of shape (n_layers_a, n_layers_b)
        The largest debiased CKA over the permutations (a feel for the null's reach).
    stability : ndarray of shape (n_layers_a,)
        Share of resamples in which each layer of ``a`` keeps the best layer of ``b`` it has on all texts.
    n_rows : int
        Texts the null and the resamples were computed on.
    n_permutations, n_bootstrap : int
    """

    p_value: np.ndarray
    null_max: np.ndarray
    stability: np.ndarray
    n_rows: int
    n_permutations: int
    n_bootstrap: int


def _grams(layers: Sequence[np.ndarray], rows: np.ndarray) -> np.ndarray:
    """Zero-diagonal Gram matrices of the chosen rows, column-centred (HSIC_u does not depend on the centring,
    the rounding does), shape (n_layers, m, m): products in float64, kept in float32 (half the bytes to move
    per permutation; the observed value and its permutations share that rounding)."""
    out = np.empty((len(layers), rows.size, rows.size), dtype=np.float32)
    contiguous = rows.size == rows[-1] + 1  # all rows, in order
    for i, x in enumerate(layers):
        z = (read_rows(x, 0, rows.size) if contiguous else np.asarray(x[rows])).astype(np.float64)  # [m, width]
        z -= z.mean(axis=0)
        gram = z @ z.T  # [m, m]
        gram.flat[:: rows.size + 1] = 0.0
        out[i] = gram
    return out


def _hsic_terms(grams: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row sums ``K~ 1`` (shape (n_layers, m)) and totals ``1^T K~ 1`` (shape (n_layers,)), in float64."""
    sums = grams.sum(axis=2, dtype=np.float64)
    return sums, sums.sum(axis=1)


def _hsic_u(
    cross: np.ndarray, sums_a: np.ndarray, tot_a: np.ndarray, sums_b: np.ndarray, tot_b: np.ndarray, m: int
) -> np.ndarray:
    """``m (m - 3) HSIC_u`` of every pair (Song et al. 2012, eq. 5); ``cross`` holds ``sum_ij K~_ij L~_ij``."""
    return cross + np.outer(tot_a, tot_b) / ((m - 1) * (m - 2)) - 2.0 / (m - 2) * (sums_a @ sums_b.T)


def _self_hsic(self_cross: np.ndarray, sums: np.ndarray, tot: np.ndarray, m: int) -> np.ndarray:
    """``m (m - 3) HSIC_u`` of each layer with itself; ``self_cross`` holds ``sum_ij K~_ij^2``."""
    return self_cross + tot**2 / ((m - 1) * (m - 2)) - 2.0 / (m - 2) * np.einsum("ij,ij->i", sums, sums)


def _debiased(grams_a: np.ndarray, grams_b: np.ndarray) -> np.ndarray:
    """Debiased CKA of every pair from zero-diagonal Grams of shape (n_layers, m, m)."""
    m = grams_a.shape[1]
    flat_a, flat_b = grams_a.reshape(len(grams_a), -1), grams_b.reshape(len(grams_b), -1)
    sums_a, tot_a = _hsic_terms(grams_a)
    sums_b, tot_b = _hsic_terms(grams_b)
    num = _hsic_u((flat_a @ flat_b.T).astype(np.float64), sums_a, tot_a, sums_b, tot_b, m)
    den = np.outer(
        _self_hsic(np.einsum("ij,ij->i", flat_a, flat_a, dtype=np.float64), sums_a, tot_a, m),
        _self_hsic(np.einsum("ij,ij->i", flat_b, flat_b, dtype=np.float64), sums_b, tot_b, m),
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0.0, num / np.sqrt(np.where(den > 0.0, den, 1.0)), np.nan)


def _best(similarity: np.ndarray) -> np.ndarray:
    return np.argmax(np.where(np.isnan(similarity), -np.inf, similarity), axis=1)


def _permutation_null(
    grams_a: np.ndarray,
    grams_b: np.ndarray,
    sums_a: np.ndarray,
    tot_a: np.ndarray,
    sums_b: np.ndarray,
    tot_b: np.ndarray,
    perms: list[np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """One-sided p-value and largest permuted debiased CKA of every pair over the row permutations ``perms``.

    The Grams are symmetric with a zero diagonal: ``sum_ij K_ij L_ij`` is twice the sum over the upper
    triangles, so a permutation moves half the entries. The observed value takes the same path (and
    rounding) as its permutations.
    """
    shape = (len(grams_a), len(grams_b))
    if not perms:
        return np.full(shape, np.nan), np.full(shape, np.nan)
    m = grams_a.shape[1]
    tri_rows, tri_cols = np.triu_indices(m, 1)  # row by row
    packed_a, packed_b = grams_a[:, tri_rows, tri_cols], grams_b[:, tri_rows, tri_cols]
    flat_b = grams_b.reshape(len(grams_b), -1)

    def cross(b: np.ndarray) -> np.ndarray:
        return 2.0 * (packed_a @ b.T).astype(np.float64)

    observed = _hsic_u(cross(packed_b), sums_a, tot_a, sums_b, tot_b, m)
    self_ab = np.outer(
        _self_hsic(2.0 * np.einsum("ij,ij->i", packed_a, packed_a, dtype=np.float64), sums_a, tot_a, m),
        _self_hsic(2.0 * np.einsum("ij,ij->i", packed_b, packed_b, dtype=np.float64), sums_b, tot_b, m),
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = 1.0 / np.sqrt(self_ab)
    exceed = np.zeros(shape)
    null_max = np.full(shape, -np.inf)
    permuted = np.empty_like(packed_b)
    for perm in perms:
        # the triangle of P L_j P^T: entry (i, j) is L_j[perm[i], perm[j]]; taken row by row, so each output
        # row reads one row of L_j (cache friendly, unlike positions in a packed triangle)
        np.take(flat_b, perm[tri_rows] * m + perm[tri_cols], axis=1, out=permuted)
        permuted_hsic = _hsic_u(cross(permuted), sums_a, tot_a, sums_b[:, perm], tot_b, m)
        exceed += permuted_hsic >= observed - 1e-12 * np.abs(observed)
        with np.errstate(invalid="ignore"):  # a constant layer: 0 x inf, masked by `valid` below
            null_max = np.maximum(null_max, permuted_hsic * scale)
    valid = np.isfinite(scale) & (self_ab > 0.0)
    return np.where(valid, (1.0 + exceed) / (1.0 + len(perms)), np.nan), np.where(valid, null_max, np.nan)


def _best_match_stability(
    grams_a: np.ndarray, grams_b: np.ndarray, best: np.ndarray, draws: list[np.ndarray]
) -> np.ndarray:
    """Share of the resamples ``draws`` (row indices, with repeats) keeping each layer of a's best layer of b.

    Debiased CKA is a U-statistic: a resample is computed on its distinct texts.
    """
    if not draws:
        return np.full(len(grams_a), np.nan)
    m = grams_a.shape[1]
    flat_a, flat_b = grams_a.reshape(len(grams_a), -1), grams_b.reshape(len(grams_b), -1)
    kept = np.zeros(len(grams_a))
    for draw in draws:
        pick = np.unique(draw)
        cells = (pick[:, None] * m + pick[None, :]).ravel()  # the resample's Gram entries, one flat gather
        k = pick.size
        resampled = _debiased(
            np.take(flat_a, cells, axis=1).reshape(len(grams_a), k, k),
            np.take(flat_b, cells, axis=1).reshape(len(grams_b), k, k),
        )
        kept += _best(resampled) == best
    return kept / len(draws)


def cka_null_and_stability(
    layers_a: Sequence[np.ndarray],
    layers_b: Sequence[np.ndarray],
    best: np.ndarray,
    *,
    n_permutations: int = 100,
    n_bootstrap: int = 100,
    max_rows: int = MAX_ROWS,
    random_state: int | None = 0,
) -> NullResult:
    """Permutation p-value of every pair's debiased CKA and bootstrap stability of each best match.

    Parameters
    ----------
    layers_a : sequence of ndarray of shape (n_texts, p_i)
    layers_b : sequence of ndarray of shape (n_texts, q_j)
    best : ndarray of shape (n_layers_a,)
        The best layer of ``b`` for each layer of ``a`` on all texts (by debiased CKA).
    n_permutations : int, default=100
        Permutations of ``b``'s rows; 0 skips the null (p-values nan).
    n_bootstrap : int, default=100
        Resamples for the stability; 0 skips it (nan).
    max_rows : int, default=1000
        Larger corpora are subsampled (seeded) to this many texts for both (see the module's Cost).
    random_state : int or None, default=0
        Seeds the subsample, the permutations and the resamples.

    Returns
    -------
    NullResult

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.standard_normal((300, 384)), rng.standard_normal((300, 576))
    >>> r = cka_null_and_stability([x], [y], np.array([0]), n_bootstrap=0, random_state=0)
    >>> bool(r.p_value[0, 0] > 0.05), r.n_rows
    (True, 300)
    """
    for name, value in (("n_permutations", n_permutations), ("n_bootstrap", n_bootstrap)):
        if not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name} must be an int >= 0; got {value!r}.")
    if not isinstance(max_rows, (int, np.integer)) or max_rows < 8:
        raise ValueError(f"max_rows must be an int >= 8; got {max_rows!r}.")
    rng = np.random.default_rng(random_state)
    n = layers_a[0].shape[0]
    rows = np.arange(n) if n <= max_rows else np.sort(rng.choice(n, size=max_rows, replace=False))
    m = rows.size
    grams_a, grams_b = _grams(layers_a, rows), _grams(layers_b, rows)
    sums_a, tot_a = _hsic_terms(grams_a)
    sums_b, tot_b = _hsic_terms(grams_b)
    # Every draw is taken here, in the order of the sequential algorithm, so the two halves below can run
    # at once (numpy's gathers and products release the GIL) and still give the same numbers for a seed.
    perms = [rng.permutation(m) for _ in range(n_permutations)]
    draws = [rng.integers(0, m, size=m) for _ in range(n_bootstrap)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        null = pool.submit(_permutation_null, grams_a, grams_b, sums_a, tot_a, sums_b, tot_b, perms)
        stability = _best_match_stability(grams_a, grams_b, np.asarray(best), draws)
        p_value, null_max = null.result()
    return NullResult(p_value, null_max, stability, int(m), int(n_permutations), int(n_bootstrap))
