"""Closed-form ridge classifier with exact leave-one-out over an alpha grid, for several targets at once.

:func:`llm_mri_graphdb.analysis.probing.probe_curve` fits, in every fold, the
same standardized training matrix to the real labels and to the shuffled-label
control. scikit-learn's ``RidgeClassifierCV`` (its ``_RidgeGCV``) would
decompose that matrix once per target and pay its per-call checks a hundred
times per layer; here one eigendecomposition serves every target and alpha.

The model is ``RidgeClassifierCV(alphas, fit_intercept=True)`` without sample
weights: one-vs-rest least squares on ``{-1, +1}`` indicator columns (one column
for two classes), an unpenalised intercept (the columns of ``X`` and ``Y`` are
centred), and the alpha with the smallest mean squared leave-one-out residual
over all the target's columns (the first on ties). With the centred ``X`` and
the hat matrix ``H = 11'/n + X (X'X + alpha I)^-1 X'``, the leave-one-out
residual of text ``i`` is ``(y_i - yhat_i) / (1 - H_ii)`` (Rifkin & Lippert 2007,
"Notes on regularized least squares", MIT-CSAIL-TR-2007-025; scikit-learn's
``_RidgeGCV``). From ``X'X = V diag(lambda) V'`` (``n > p``; ``Q = X V``) or
``XX' = U diag(lambda) U'`` (``n <= p``; ``Q = U diag(sqrt(lambda))``),
``H_ii - 1/n = sum_j Q_ij^2 / (lambda_j + alpha)`` and the fitted values are
``Q diag(1 / (lambda + alpha)) Q' y``, so every alpha costs ``O(n p)``.
``tests/test_probing.py`` checks the chosen alpha and the predictions against
scikit-learn's estimator.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.preprocessing import StandardScaler

__all__ = ["fit_predict_loo_ridge", "shared_ridge_scores"]


def _indicators(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The classes and the ``{-1, +1}`` targets ``LabelBinarizer(neg_label=-1)`` gives (one column for <= 2 classes)."""
    classes, codes = np.unique(y, return_inverse=True)
    if classes.size <= 2:
        column = codes == 1 if classes.size == 2 else np.zeros(y.size, dtype=bool)
        return classes, np.where(column, 1.0, -1.0)[:, None]
    return classes, np.where(codes[:, None] == np.arange(classes.size), 1.0, -1.0)


def fit_predict_loo_ridge(
    X_train: np.ndarray, targets: Sequence[np.ndarray], X_test: np.ndarray, alphas: Sequence[float]
) -> list[tuple[np.ndarray, float]]:
    """Fit ``RidgeClassifierCV(alphas)`` on ``X_train`` once per target; predict ``X_test``.

    Parameters
    ----------
    X_train : ndarray of shape (n_train, n_features)
    targets : sequence of ndarray of shape (n_train,)
        Class labels; each is a separate classifier sharing one decomposition of ``X_train``.
    X_test : ndarray of shape (n_test, n_features)
    alphas : sequence of float
        Penalties, tried in order; the first with the smallest mean squared leave-one-out error wins.

    Returns
    -------
    fits : list of (predictions, alpha)
        Per target, the predicted classes of ``X_test`` and the chosen alpha.
    """
    X = np.asarray(X_train, dtype=np.float64)
    n, p = X.shape
    x_mean = X.mean(axis=0)
    X = X - x_mean
    encoded = [_indicators(np.asarray(y)) for y in targets]
    widths = [Y.shape[1] for _, Y in encoded]
    Y = np.hstack([Y for _, Y in encoded])
    y_mean = Y.mean(axis=0)
    Y = Y - y_mean
    if n > p:
        eigvals, V = np.linalg.eigh(X.T @ X)
        Q = X @ V
    else:
        eigvals, U = np.linalg.eigh(X @ X.T)
        Q = U * np.sqrt(np.clip(eigvals, 0.0, None))
    QtY, Q2 = Q.T @ Y, Q**2
    starts = np.cumsum([0, *widths])
    best: list[tuple[float, float]] = []
    for alpha in map(float, alphas):
        D = 1.0 / (eigvals + alpha)
        loo = (Y - Q @ (D[:, None] * QtY)) / (1.0 - 1.0 / n - Q2 @ D)[:, None]
        for t in range(len(targets)):
            score = float(np.mean(loo[:, starts[t] : starts[t + 1]] ** 2))
            if len(best) <= t:
                best.append((score, alpha))
            elif score < best[t][0]:  # strictly better: the first alpha wins ties
                best[t] = (score, alpha)
    test = np.asarray(X_test, dtype=np.float64) - x_mean
    out = []
    for t, ((classes, _), (_, alpha)) in enumerate(zip(encoded, best)):
        D = 1.0 / (eigvals + alpha)
        columns = slice(starts[t], starts[t + 1])
        if n > p:  # primal: V diag(D) V' X'y = V diag(D) Q'y
            coef = V @ (D[:, None] * QtY[:, columns])
        else:  # dual: X' U diag(D) U'y
            coef = X.T @ (U @ (D[:, None] * (U.T @ Y[:, columns])))
        decision = test @ coef + y_mean[columns]
        if decision.shape[1] > 1:
            index = decision.argmax(axis=1)
        else:
            index = (decision[:, 0] > 0).astype(int) if classes.size == 2 else np.zeros(len(test), dtype=int)
        out.append((classes[index], alpha))
    return out


def shared_ridge_scores(y, control_by_fold, folds, make_reducer, alphas):
    """A layer's scorer for the probe: ``[reducer,] StandardScaler, RidgeClassifierCV(alphas)`` per fold.

    The returned ``score(X)`` gives, like the probe's scikit-learn pipelines fitted once per fold and
    target, the fold accuracies on ``y``, those on ``control_by_fold[f]`` and the chosen ``C = 1 / alpha``.
    The reducer (fitted without labels, as every reducer of :mod:`llm_mri_graphdb.reduce` is), the
    scaler and the ridge's decomposition depend only on the fold's training rows, so the labels and
    their control reuse them; each is still fitted on the training fold only.
    """

    def score(X):
        scores, ctrl, chosen = np.empty(len(folds)), np.empty(len(folds)), []
        for f, (train, test) in enumerate(folds):
            X_train, X_test = X[train], X[test]
            if make_reducer is not None:
                est = make_reducer()
                X_train, X_test = est.fit_transform(X_train), est.transform(X_test)
            scaler = StandardScaler().fit(X_train)
            (pred, alpha), (pred_ctrl, _) = fit_predict_loo_ridge(
                scaler.transform(X_train), [y[train], control_by_fold[f][train]], scaler.transform(X_test), alphas
            )
            scores[f] = float(np.mean(pred == y[test]))
            ctrl[f] = float(np.mean(pred_ctrl == control_by_fold[f][test]))
            chosen.append(1.0 / alpha)
        return scores, ctrl, chosen

    return score
