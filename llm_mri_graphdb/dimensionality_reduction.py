"""``llm_mri.dimensionality_reduction`` drop-ins: PCA, SVD and UMAP settings holders.

``llm_mri`` users write ``PCA(n_components=2, gridsize=10)`` and hand it to
``ActivationAreas``. These classes keep that call (each with ``llm_mri``'s own
positional order, which differs between the three) and carry ``gridsize``;
:meth:`to_reducer` hands the facade our scikit-learn reducer from
:mod:`llm_mri_graphdb.reduce`, which is fitted once per layer on all texts.
"""

from __future__ import annotations

from . import reduce

__all__ = ["DimensionalityReduction", "PCA", "SVD", "UMAP"]


class DimensionalityReduction:
    """Reduction settings: ``n_components``, ``random_state`` and the 2-D ``gridsize``."""

    _reducer: type = reduce.PCA

    def __init__(self, n_components: int, random_state: int | None = None, gridsize: int = 10):
        self.n_components = n_components
        self.random_state = random_state
        self.gridsize = gridsize

    def to_reducer(self):
        """Our estimator with these settings and its documented default scaling."""
        return self._reducer(self.n_components, random_state=self.random_state)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(n_components={self.n_components!r}, "
                f"random_state={self.random_state!r}, gridsize={self.gridsize!r})")


class PCA(DimensionalityReduction):
    """``llm_mri.dimensionality_reduction.PCA(n_components, gridsize=10, random_state=None)``."""

    _reducer = reduce.PCA

    def __init__(self, n_components: int, gridsize: int = 10, random_state: int | None = None):
        super().__init__(n_components, random_state, gridsize)


class SVD(DimensionalityReduction):
    """``llm_mri.dimensionality_reduction.SVD(n_components, random_state=None, gridsize=10)``."""

    _reducer = reduce.SVD


class UMAP(DimensionalityReduction):
    """``llm_mri.dimensionality_reduction.UMAP(n_components, gridsize=10, random_state=None, metric="cosine")``."""

    _reducer = reduce.UMAP

    def __init__(self, n_components: int, gridsize: int = 10, random_state: int | None = None,
                 metric: str = "cosine"):
        super().__init__(n_components, random_state, gridsize)
        self.metric = metric

    def to_reducer(self):
        """Our :class:`llm_mri_graphdb.reduce.UMAP` with these settings (min-max scaling)."""
        return reduce.UMAP(self.n_components, metric=self.metric, random_state=self.random_state)
