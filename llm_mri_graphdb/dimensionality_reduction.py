"""``llm_mri.dimensionality_reduction`` drop-ins: PCA, SVD and UMAP settings holders.

``llm_mri`` users write ``PCA(n_components=2, gridsize=10)`` and hand it to
``ActivationAreas``. These classes keep that call (each with ``llm_mri``'s own
positional order, which differs between the three) and carry ``gridsize``;
:meth:`to_reducer` hands the facade our scikit-learn reducer from
:mod:`llm_mri_graphdb.reduce`, which is fitted once per layer on all texts.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["DimensionalityReduction", "PCA", "SVD", "UMAP"]


class DimensionalityReduction:
    """Reduction settings: ``n_components``, ``random_state`` and the 2-D ``gridsize``."""

    _reducer: str = "PCA"  # class name in llm_mri_graphdb.reduce, imported (with scikit-learn) when needed

    def __init__(self, n_components: int, random_state: int | None = None, gridsize: int = 10):
        self.n_components = n_components
        self.random_state = random_state
        self.gridsize = gridsize

    def to_reducer(self) -> Any:
        """Our estimator with these settings and its documented default scaling."""
        return _reducer_class(self._reducer)(self.n_components, random_state=self.random_state)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n_components={self.n_components!r}, "
            f"random_state={self.random_state!r}, gridsize={self.gridsize!r})"
        )


class PCA(DimensionalityReduction):
    """``llm_mri.dimensionality_reduction.PCA(n_components, gridsize=10, random_state=None)``."""

    _reducer = "PCA"

    def __init__(self, n_components: int, gridsize: int = 10, random_state: int | None = None):
        super().__init__(n_components, random_state, gridsize)


class SVD(DimensionalityReduction):
    """``llm_mri.dimensionality_reduction.SVD(n_components, random_state=None, gridsize=10)``."""

    _reducer = "SVD"


class UMAP(DimensionalityReduction):
    """``llm_mri.dimensionality_reduction.UMAP(n_components, gridsize=10, random_state=None, metric="cosine")``."""

    _reducer = "UMAP"

    def __init__(self, n_components: int, gridsize: int = 10, random_state: int | None = None, metric: str = "cosine"):
        super().__init__(n_components, random_state, gridsize)
        self.metric = metric

    def to_reducer(self) -> Any:
        """Our :class:`llm_mri_graphdb.reduce.UMAP` with these settings (min-max scaling)."""
        return _reducer_class("UMAP")(self.n_components, metric=self.metric, random_state=self.random_state)


def _reducer_class(name: str) -> type:
    return getattr(import_module("llm_mri_graphdb.reduce"), name)
