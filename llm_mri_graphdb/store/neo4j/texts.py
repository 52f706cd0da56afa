"""Texts in Neo4j: ``(:Text)`` nodes per corpus, ``(:Text)-[:IN]->(:Region)`` per grid run, and their queries.

Written with a run's staging version by :meth:`Neo4jStore.write
<llm_mri_graphdb.store.neo4j.Neo4jStore.write>` (``texts=...``):

* ``(:Text {uid, corpus, idx, text, label})`` once per corpus (``uid`` is
  ``"<corpus key>:<idx>"``), linked ``(:Corpus)-[:HAS_TEXT]->(:Text)``, in
  batches every node and relationship of which is MERGEd (``merge_texts``): a
  retried batch, or a second run on the same corpus, creates nothing.
* For grid runs, one ``(:Text)-[:IN]->(:Region)`` per text and layer against
  the *staging* version's regions (``create_memberships``: a batch is a layer
  and a range of texts, with its first membership as its marker). Publishing
  the version publishes them; deleting a version's regions deletes them, so a
  rewrite leaves no stale ``IN``.
* Component (N-D) runs get texts but no ``IN``: every text has a score on
  every component, so "the region of a text" has no single answer.

Text nodes of a corpus go when the last run (complete, writing or deleting)
on that corpus is deleted (``delete_texts``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from llm_mri_graphdb.labels import resolve_label
from llm_mri_graphdb.nrag.model import NRAG
from llm_mri_graphdb.nrag.texts import check_count, check_layer, check_text_index, require_texts
from llm_mri_graphdb.store.neo4j.records import corpus_key, membership_groups, text_batches
from llm_mri_graphdb.store.neo4j.runner import CypherRunner, Reader, VersionChanged, complete_run

__all__ = ["write_texts", "read_text_arrays", "delete_texts", "TextQuestions"]


def _membership_check(params: dict[str, Any], counters: Any) -> None:
    if counters.relationships_created not in (0, len(params["r"])):
        raise RuntimeError(
            f"a membership batch of layer {params['layer']} created {counters.relationships_created} "
            f"of {len(params['r'])} relationships."
        )


def write_texts(
    runner: CypherRunner, nrag: NRAG, texts: list[str], version: str, *, batch_size: int, workers: int
) -> None:
    """Merge the corpus's texts, then create the memberships of a grid ``nrag`` against ``version``.

    Raises RuntimeError when the version does not end with one ``IN`` per
    text and layer (nothing is published then).
    """
    corpus = corpus_key(nrag.corpus)
    if nrag.text_labels is None:
        raise ValueError("texts need the NRAG's text_labels: build it from texts (build_nrag).")
    labels = [nrag.label_names[i] for i in nrag.text_labels.tolist()]
    runner.write_batches(
        "merge_texts", [{"corpus": corpus, **batch} for batch in text_batches(texts, labels, batch_size)]
    )
    if nrag.paths is None:
        return
    groups = [
        [{**batch, "version": version, "corpus": corpus} for batch in group]
        for group in membership_groups(nrag, batch_size, workers)
    ]
    runner.write_groups("create_memberships", groups, workers=workers, check=_membership_check)
    expected = nrag.paths.size
    found = runner.read("read_membership_count", version=version)[0]["n"]
    if found != expected:
        raise RuntimeError(f"version {version} holds {found} of its {expected} text memberships; write the run again.")


def read_text_arrays(read: Reader, run: dict[str, Any]) -> tuple[np.ndarray | None, np.ndarray | None]:
    """``(paths, text_labels)`` of a complete run's Run node properties (None where it stored none).

    ``read`` is that of :meth:`CypherRunner.read_together`, the transaction that
    resolved ``run``; :class:`~.runner.VersionChanged` when the version went meanwhile.
    """
    n_texts = int(run.get("n_texts") or 0)
    if not n_texts:
        return None, None
    names = read("read_text_labels", corpus=run["corpus_key"])[0]["labels"]
    index = {name: i for i, name in enumerate(run["label_names"])}
    if len(names) != n_texts or not set(names) <= set(index):
        raise VersionChanged(run["run_id"], run["version"])
    text_labels = np.array([index[name] for name in names], np.int64)
    if not run.get("text_paths"):
        return None, text_labels
    cols = read("read_memberships", version=run["version"])[0]
    paths = np.full((n_texts, int(run["n_layers"])), -1, np.int64)
    paths[np.asarray(cols["text"], np.int64), np.asarray(cols["layer"], np.int64)] = cols["region"]
    if len(cols["text"]) != paths.size or (paths < 0).any():
        raise VersionChanged(run["run_id"], run["version"])
    return paths, text_labels


def delete_texts(runner: CypherRunner, corpus: str, limit: int) -> None:
    """Delete the Text nodes of ``corpus`` in batches once no run uses it (a no-op while one does)."""
    while True:
        rows = runner.write("delete_texts", corpus=corpus, limit=limit)
        if not rows or not rows[0]["deleted"]:
            return


# -- the text queries, checked first (one line naming the fix), then run from the library ---------------------
def _texts_run(store: TextQuestions, run_id: str, *, paths: bool = True) -> dict[str, Any]:
    run = complete_run(store.runner, run_id)
    require_texts(run_id, run["kind"], int(run.get("n_texts") or 0), bool(run.get("text_paths")), paths=paths)
    return run


def _check_region(store: TextQuestions, run: dict[str, Any], region: str) -> None:
    row = store.runner.read("read_region", version=run["version"], region=str(region))[0]
    if not row["found"]:
        raise ValueError(
            f"region must be an occupied region of run {run['run_id']} such as {row['example']!r} "
            f"('layer_x_y'); got {region!r}."
        )


def _region_texts(
    store: TextQuestions, run_id: str, region: str, label: str | None = None, limit: int = 20, offset: int = 0
) -> list[dict[str, Any]]:
    """Rows of query ``region_texts`` (see :meth:`Neo4jStore.region_texts`)."""
    run = _texts_run(store, run_id)
    limit, offset = check_count(limit, "limit"), check_count(offset, "offset")
    if label is not None:
        label = run["label_names"][resolve_label(run["label_names"], label)]
    _check_region(store, run, region)
    return store.query("region_texts", run_id=run_id, region=str(region), label=label, limit=limit, offset=offset)


def _text_path(store: TextQuestions, run_id: str, idx: int) -> list[dict[str, Any]]:
    """Rows of query ``text_path`` with the counts spread into one column per label."""
    run = _texts_run(store, run_id)
    idx = check_text_index(idx, int(run["n_texts"]))
    return [
        {
            "layer": row["layer"],
            "region": row["region"],
            "total": row["total"],
            **dict(zip(row["label_names"], row["counts"])),
        }
        for row in store.query("text_path", run_id=run_id, idx=idx)
    ]


def _co_travellers(store: TextQuestions, run_id: str, idx: int, limit: int = 20) -> list[dict[str, Any]]:
    """Rows of query ``co_travellers``."""
    run = _texts_run(store, run_id)
    idx = check_text_index(idx, int(run["n_texts"]))
    return store.query("co_travellers", run_id=run_id, idx=idx, limit=check_count(limit, "limit"))


def _label_crossings(store: TextQuestions, run_id: str, limit: int = 20) -> list[dict[str, Any]]:
    """Rows of query ``label_crossings``."""
    _texts_run(store, run_id)
    return store.query("label_crossings", run_id=run_id, limit=check_count(limit, "limit"))


def _diverging_texts(
    store: TextQuestions, run_a: str, run_b: str, layer_a: int, layer_b: int, limit: int = 20
) -> list[dict[str, Any]]:
    """Rows of query ``diverging_texts``."""
    a, b = _texts_run(store, run_a), _texts_run(store, run_b)
    if a["corpus_key"] != b["corpus_key"]:
        raise ValueError(
            f"run_a and run_b must be on the same corpus; {run_a} is on {a['corpus_name']!r} and "
            f"{run_b} on {b['corpus_name']!r}."
        )
    layer_a = check_layer(layer_a, int(a["n_layers"]), "layer_a")
    layer_b = check_layer(layer_b, int(b["n_layers"]), "layer_b")
    return store.query(
        "diverging_texts", run_a=run_a, run_b=run_b, layer_a=layer_a, layer_b=layer_b, limit=check_count(limit, "limit")
    )


class TextQuestions:
    """The text questions as methods of :class:`~llm_mri_graphdb.store.neo4j.Neo4jStore` (needs its
    ``runner`` and ``query``), with the signatures of :class:`~llm_mri_graphdb.store.local.LocalStore`'s."""

    if TYPE_CHECKING:  # provided by Neo4jStore

        @property
        def runner(self) -> CypherRunner: ...

        def read(self, run_id: str) -> NRAG: ...

        def query(self, name: str, **params: Any) -> list[dict[str, Any]]: ...

    def region_texts(
        self, run_id: str, region: str, label: str | None = None, limit: int = 20, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Texts of ``region`` (``"layer_x_y"``) of a grid run, in corpus order: ``index``, ``text``, ``label``."""
        return _region_texts(self, run_id, region, label, limit, offset)

    def text_path(self, run_id: str, idx: int) -> list[dict[str, Any]]:
        """Text ``idx``'s region at every layer: ``layer``, ``region``, ``total`` and one count per label."""
        return _text_path(self, run_id, idx)

    def co_travellers(self, run_id: str, idx: int, limit: int = 20) -> list[dict[str, Any]]:
        """Texts sharing text ``idx``'s region at the most layers: ``index``, ``text``, ``label``, ``shared``."""
        return _co_travellers(self, run_id, idx, limit)

    def label_crossings(self, run_id: str, limit: int = 20) -> list[dict[str, Any]]:
        """Texts whose last-layer region another label dominates (see query ``label_crossings``)."""
        return _label_crossings(self, run_id, limit)

    def diverging_texts(
        self, run_a: str, run_b: str, layer_a: int, layer_b: int, limit: int = 20
    ) -> list[dict[str, Any]]:
        """Pairs of texts together in one run's layer and apart in the other's (see query ``diverging_texts``)."""
        return _diverging_texts(self, run_a, run_b, layer_a, layer_b, limit)

    def texts(self, run_id: str) -> list[str]:
        """The corpus texts of a run stored with texts, in corpus order."""
        run = _texts_run(self, run_id, paths=False)
        return list(self.runner.read("read_run_texts", corpus=run["corpus_key"])[0]["texts"])
