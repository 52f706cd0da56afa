"""The store contract: one abstract :class:`Store` that :class:`~llm_mri_graphdb.store.local.LocalStore` and
:class:`~llm_mri_graphdb.store.neo4j.store.Neo4jStore` implement.

The role of httpx's ``BaseTransport`` or the ``QueryRunner`` ABC of the ``graphdatascience`` client: callers
are typed against :class:`Store` and never ask which store they hold. The checks both stores make live here
once (the NRAG and its texts before a write, ``limit``/``offset``/text-index checks, the corpus of two runs,
the "run_id must name a stored run" line), and so do the template steps: :meth:`Store.write` checks, then
calls the store's ``_write``; :meth:`Store.compare` reads both runs, computes the alignment
(:mod:`llm_mri_graphdb.store.alignment`) and hands it to the store's ``_save_alignment``.

Extending the contract: every public store method is declared here (abstract, or concrete over abstract
steps) and covered by the contract suite ``tests/integration/test_store_contract.py``, which runs one
list of checks on a LocalStore and a Neo4jStore and asserts the same rows, types, order and errors.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from llm_mri_graphdb.analysis.alignment import LayerAlignment, align_layers
from llm_mri_graphdb.errors import RunNotFound
from llm_mri_graphdb.nrag.model import NRAG
from llm_mri_graphdb.nrag.regions import check_edges
from llm_mri_graphdb.nrag.texts import check_texts
from llm_mri_graphdb.store.alignment import MEASURES, alignment_inputs, region_context, same_corpus
from llm_mri_graphdb.store.probes import ProbeQuestions
from llm_mri_graphdb.store.statistics import StatisticsQuestions

__all__ = ["Store", "run_not_found"]


def run_not_found(run_id: str, *, leftovers: bool = False) -> RunNotFound:
    """The one line both stores raise for a run id that names no stored (complete) run; ``leftovers``: the
    caller (``delete``) also takes the versions an interrupted write left, listed by ``runs ls --all``."""
    listing = "runs ls --all" if leftovers else "runs ls"
    return RunNotFound(f"run_id must name a stored run; got {run_id!r} (see `llm-mri-graphdb {listing}`).")


class Store(StatisticsQuestions, ProbeQuestions, ABC):
    """Where NRAG runs live: written once, read back equal, listed, measured and asked about.

    Subclasses implement the abstract methods; the concrete ones are the same for every store
    (``metric_statistics``, ``save_statistics`` and ``metric_contrasts`` come from
    :class:`~llm_mri_graphdb.store.statistics.StatisticsQuestions` over ``_text_paths``/``_save_statistics``;
    ``save_probe`` and ``probe`` from :class:`~llm_mri_graphdb.store.probes.ProbeQuestions`).
    Reading never writes unless ``save=True``. A store is a context manager: ``with`` closes it.
    """

    # -- lifetime --------------------------------------------------------------------
    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @abstractmethod
    def close(self) -> None:
        """Release what the store opened (a driver); closing twice is harmless."""

    # -- writes ----------------------------------------------------------------------
    def write(self, nrag: NRAG, texts: Sequence[str] | None = None) -> str:
        """Store ``nrag`` as its run, replacing an earlier version; returns ``nrag.run_id``.

        Parameters
        ----------
        nrag : NRAG
            Its edges must join regions of neighbouring layers (checked here for every store).
        texts : sequence of str, None or False, default=None
            The corpus texts in corpus order (``nrag.text_labels`` gives their labels); kept with the
            run's ``paths`` and ``text_labels``. None or False: no texts, and neither is kept.
        """
        if not isinstance(nrag, NRAG):
            raise TypeError(f"nrag must be an NRAG; got {type(nrag).__name__}.")
        check_edges(nrag.region_layer, nrag.edge_source, nrag.edge_target)
        return self._write(nrag, check_texts(nrag, texts))

    @abstractmethod
    def _write(self, nrag: NRAG, texts: list[str] | None) -> str:
        """Store a checked NRAG (and its checked texts); returns its run id."""

    @abstractmethod
    def delete(self, run_id: str) -> None:
        """Delete a run (and the alignments it is part of), or a leftover of an interrupted write."""

    @abstractmethod
    def gc(self) -> list[dict[str, Any]]:
        """Remove the leftovers of interrupted writes; returns what was removed."""

    # -- reads -----------------------------------------------------------------------
    @abstractmethod
    def read(self, run_id: str) -> NRAG:
        """The stored NRAG of ``run_id``, equal (:meth:`NRAG.equals`) to the one written."""

    @abstractmethod
    def runs(self, *, all: bool = False) -> list[dict[str, Any]]:  # noqa: A002 - mirrors `runs ls --all`
        """Complete runs, newest first: ``run_id, model, corpus, corpus_fingerprint, kind, n_layers,
        label_names, n_regions, n_edge_rows, completed_at, status``; with ``all`` also leftovers."""

    @abstractmethod
    def models(self) -> list[dict[str, Any]]:
        """Stored models: ``key, name, architecture, n_layers, width, n_runs``, by name then key."""

    @abstractmethod
    def corpora(self) -> list[dict[str, Any]]:
        """Stored corpora: ``key, name, n_texts, label_names, n_runs``, by name then key."""

    @abstractmethod
    def texts(self, run_id: str) -> list[str]:
        """The corpus texts of a run stored with texts, in corpus order."""

    # -- metrics and queries -----------------------------------------------------------
    @abstractmethod
    def metrics(self, run_id: str, labels: Sequence[str] | str | None = None, *, save: bool = False) -> dict[str, Any]:
        """The metrics of :func:`llm_mri_graphdb.analysis.metrics.compute_metrics` for ``labels`` (None: all)."""

    @abstractmethod
    def analyze(
        self,
        run_id: str,
        algorithms: Sequence[str] | str | None = None,
        labels: Sequence[str] | str | None = None,
        save: bool = False,
    ) -> dict[str, Any]:
        """Communities and centrality of a run."""

    @abstractmethod
    def query(self, name: str, **params: Any) -> list[dict[str, Any]]:
        """The library query ``cypher/queries/<name>.cypher`` with ``params`` (where the store can answer it)."""

    # -- the text questions --------------------------------------------------------------
    @abstractmethod
    def region_texts(
        self, run_id: str, region: str, label: str | None = None, limit: int = 20, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Texts of ``region`` (``"layer_x_y"``) of a grid run, in corpus order: ``index``, ``text``, ``label``."""

    @abstractmethod
    def text_path(self, run_id: str, idx: int) -> list[dict[str, Any]]:
        """Text ``idx``'s region at every layer: ``layer``, ``region``, ``total`` and one count per label."""

    @abstractmethod
    def co_travellers(self, run_id: str, idx: int, limit: int = 20) -> list[dict[str, Any]]:
        """Texts sharing text ``idx``'s region at the most layers: ``index``, ``text``, ``label``, ``shared``."""

    @abstractmethod
    def label_crossings(self, run_id: str, limit: int = 20) -> list[dict[str, Any]]:
        """Texts whose last-layer region another label dominates (see query ``label_crossings``)."""

    @abstractmethod
    def diverging_texts(
        self, run_a: str, run_b: str, layer_a: int, layer_b: int, limit: int = 20
    ) -> list[dict[str, Any]]:
        """Pairs of texts together in one run's layer and apart in the other's (see query ``diverging_texts``)."""

    def show(self, run_id: str, *, color_by: str = "label", layers: int | Sequence[int] | None = None) -> Any:
        """The interactive NVL view of a stored run (:func:`llm_mri_graphdb.report.interactive.scan_view`),
        with example texts when the run was stored with them; shows itself in a notebook."""
        from llm_mri_graphdb.report.interactive import scan_view

        nrag = self.read(run_id)
        return scan_view(nrag, self.texts(run_id) if nrag.paths is not None else None, color_by=color_by, layers=layers)

    # -- alignment -------------------------------------------------------------------
    def compare(
        self,
        run_a: str,
        run_b: str,
        *,
        save: bool = True,
        n_permutations: int = 100,
        n_bootstrap: int = 100,
        null_rows: int | None = None,
        random_state: int | None = 0,
    ) -> LayerAlignment:
        """CKA (plain and debiased, with its null) and AMI of every layer pair of two stored runs of the same
        corpus (any models, any depths).

        Parameters
        ----------
        run_a, run_b : str
            Stored run ids; equal ids compare a run with itself (diagonal 1).
        save : bool, default=True
            Store the result (replacing an earlier alignment of the pair).
        n_permutations, n_bootstrap, null_rows, random_state
            The null of debiased CKA and the stability of best matches
            (:func:`llm_mri_graphdb.analysis.alignment.align_layers`).

        Returns
        -------
        LayerAlignment
            ``cka`` is ``None`` when a run has no readable activation cache, and ``ami`` when a run has
            no region paths; ``notes`` says why, and the same line is issued as a :class:`UserWarning`.

        Raises
        ------
        RunNotFound
            A run id names no stored run.
        ValueError
            The runs scan different corpora, or neither measure can be computed.
        """
        nrag_a = self.read(run_a)
        nrag_b = nrag_a if run_b == run_a else self.read(run_b)
        same_corpus(nrag_a, nrag_b, run_a, run_b)
        layers_a, layers_b, paths_a, paths_b, notes = alignment_inputs(run_a, nrag_a, run_b, nrag_b)
        for note in notes:
            warnings.warn(note, UserWarning, stacklevel=2)
        context = (region_context(nrag_a, layers_a), region_context(nrag_b, layers_b))
        result = align_layers(
            layers_a,
            layers_b,
            paths_a,
            paths_b,
            names=(str(nrag_a.model.get("name", run_a)), str(nrag_b.model.get("name", run_b))),
            runs=(run_a, run_b),
            notes=tuple(notes),
            n_permutations=n_permutations,
            n_bootstrap=n_bootstrap,
            null_rows=null_rows,
            random_state=random_state,
            context=context,
        )
        if save:
            self.save_alignment(result)
        return result

    def save_alignment(self, alignment: LayerAlignment) -> None:
        """Store ``alignment`` (from :meth:`compare`) for its two runs, replacing the pair's earlier one."""
        run_a, run_b = alignment.runs
        if not run_a or not run_b:
            raise ValueError("alignment.runs must name the two stored runs; use store.compare(run_a, run_b).")
        if alignment.cka is None and alignment.ami is None:
            raise ValueError("an alignment must hold CKA or AMI; this one holds neither.")
        self._save_alignment(alignment)

    @abstractmethod
    def _save_alignment(self, alignment: LayerAlignment) -> None:
        """Store a checked alignment."""

    def alignment(self, run_a: str, run_b: str) -> LayerAlignment | None:
        """The stored alignment of two runs, oriented ``run_a`` x ``run_b``; ``None`` when none is stored
        (or a run is no longer stored). A measure stored as null for every pair is ``None``; single
        missing pairs are nan."""
        runs = {row["run_id"]: row for row in self.runs()}
        if run_a not in runs or run_b not in runs:
            return None
        names = (str(runs[run_a].get("model") or run_a), str(runs[run_b].get("model") or run_b))
        return self._read_alignment(run_a, run_b, runs, names)

    @abstractmethod
    def _read_alignment(
        self, run_a: str, run_b: str, runs: dict[str, dict[str, Any]], names: tuple[str, str]
    ) -> LayerAlignment | None:
        """The stored alignment of two stored runs (``runs``: the summaries of :meth:`runs` by id)."""

    def layer_alignment(self, run_a: str, *, measure: str = "cka", other: str | None = None) -> list[dict[str, Any]]:
        """For every layer of ``run_a``, its best match in each run it was compared with.

        The rows of the library query ``layer_alignment``: ``layer, model, run_id, best_layer, n_layers,
        score, cka, cka_debiased, cka_null_p, ami``, ordered by model, run and layer. ``measure`` is one of
        :data:`~llm_mri_graphdb.analysis.alignment.MEASURES`; the best match has the highest value, or for
        ``cka_null_p`` the smallest p-value (ties: the lower layer). ``other`` restricts to one run id or
        model name.
        """
        if measure not in MEASURES:
            raise ValueError(f"measure must be one of {MEASURES}; got {measure!r}.")
        return self._layer_alignment(run_a, measure, other)

    @abstractmethod
    def _layer_alignment(self, run_a: str, measure: str, other: str | None) -> list[dict[str, Any]]:
        """Rows of :meth:`layer_alignment` for a checked measure."""
