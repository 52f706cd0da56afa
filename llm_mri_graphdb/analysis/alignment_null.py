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
n_bootstrap)``; memory as ``max_rows^2 * (n_layers_a + 2 n_layers_b)`` float64.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    flat_a: np.ndarray,
    sums_a: np.ndarray,
    tot_a: np.ndarray,
    flat_b: np.ndarray,
    sums_b: np.ndarray,
    tot_b: np.ndarray,
    m: int,
) -> np.ndarray:
    """``m (m - 3) HSIC_u`` of every pair (Song et al. 2012, eq. 5) from flattened zero-diagonal Grams."""
    return (
        (flat_a @ flat_b.T).astype(np.float64)
        + np.outer(tot_a, tot_b) / ((m - 1) * (m - 2))
        - 2.0 / (m - 2) * (sums_a @ sums_b.T)
    )


def _self_hsic(flat: np.ndarray, sums: np.ndarray, tot: np.ndarray, m: int) -> np.ndarray:
    return (
        np.einsum("ij,ij->i", flat, flat, dtype=np.float64)
        + tot**2 / ((m - 1) * (m - 2))
        - 2.0 / (m - 2) * np.einsum("ij,ij->i", sums, sums)
    )


def _debiased(grams_a: np.ndarray, grams_b: np.ndarray) -> np.ndarray:
    m = grams_a.shape[1]
    flat_a, flat_b = grams_a.reshape(len(grams_a), -1), grams_b.reshape(len(grams_b), -1)
    sums_a, tot_a = _hsic_terms(grams_a)
    sums_b, tot_b = _hsic_terms(grams_b)
    num = _hsic_u(flat_a, sums_a, tot_a, flat_b, sums_b, tot_b, m)
    den = np.outer(_self_hsic(flat_a, sums_a, tot_a, m), _self_hsic(flat_b, sums_b, tot_b, m))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0.0, num / np.sqrt(np.where(den > 0.0, den, 1.0)), np.nan)


def _best(similarity: np.ndarray) -> np.ndarray:
    return np.argmax(np.where(np.isnan(similarity), -np.inf, similarity), axis=1)


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
    flat_a = grams_a.reshape(len(layers_a), -1)
    sums_a, tot_a = _hsic_terms(grams_a)
    sums_b, tot_b = _hsic_terms(grams_b)
    observed = _hsic_u(flat_a, sums_a, tot_a, grams_b.reshape(len(layers_b), -1), sums_b, tot_b, m)
    shape = (len(layers_a), len(layers_b))
    p_value, null_max = np.full(shape, np.nan), np.full(shape, np.nan)
    if n_permutations:
        exceed: np.ndarray = np.zeros(shape)
        null_max = np.full(shape, -np.inf)
        self_a = _self_hsic(flat_a, sums_a, tot_a, m)
        self_b = _self_hsic(grams_b.reshape(len(layers_b), -1), sums_b, tot_b, m)
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = 1.0 / np.sqrt(np.outer(self_a, self_b))
        flat_b = grams_b.reshape(len(layers_b), -1)
        permuted = np.empty_like(flat_b)
        for _ in range(n_permutations):
            perm = rng.permutation(m)
            np.take(flat_b, (perm[:, None] * m + perm[None, :]).ravel(), axis=1, out=permuted)  # P L_j P^T
            permuted_hsic = _hsic_u(flat_a, sums_a, tot_a, permuted, sums_b[:, perm], tot_b, m)
            exceed += permuted_hsic >= observed - 1e-12 * np.abs(observed)
            with np.errstate(invalid="ignore"):  # a constant layer: 0 x inf, masked by `valid` below
                null_max = np.maximum(null_max, permuted_hsic * scale)
        valid = np.isfinite(scale) & (np.outer(self_a, self_b) > 0.0)
        p_value = np.where(valid, (1.0 + exceed) / (1.0 + n_permutations), np.nan)
        null_max = np.where(valid, null_max, np.nan)
    stability = np.full(len(layers_a), np.nan)
    if n_bootstrap:
        kept = np.zeros(len(layers_a))
        for _ in range(n_bootstrap):
            pick = np.unique(rng.integers(0, m, size=m))
            ix = np.ix_(np.arange(len(layers_a)), pick, pick)
            resampled = _debiased(grams_a[ix], grams_b[np.ix_(np.arange(len(layers_b)), pick, pick)])
            kept += _best(resampled) == np.asarray(best)
        stability = kept / n_bootstrap
    return NullResult(p_value, null_max, stability, int(m), int(n_permutations), int(n_bootstrap))
