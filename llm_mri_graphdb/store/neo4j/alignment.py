"""Layer alignments in Neo4j: ``(:Layer {run_id, index})-[:ALIGNS {cka, cka_debiased, cka_null_p, ami}]->(:Layer)``,
for :class:`~llm_mri_graphdb.store.neo4j.store.Neo4jStore`'s alignment steps (the computation is
:meth:`Store.compare <llm_mri_graphdb.store.base.Store.compare>`'s)."""

from __future__ import annotations

from typing import Any

import numpy as np

from llm_mri_graphdb.analysis.alignment import MEASURES, LayerAlignment
from llm_mri_graphdb.store import cypher
from llm_mri_graphdb.store.alignment import matrix_lists
from llm_mri_graphdb.store.neo4j.runner import CypherRunner

__all__ = ["save_alignment", "read_alignment", "forget_alignments"]


def save_alignment(runner: CypherRunner, alignment: LayerAlignment) -> None:
    """Merge the pair's ``ALIGNS`` (replacing its earlier ones, whichever direction they were stored in)."""
    run_a, run_b = alignment.runs
    values = {m: matrix_lists(getattr(alignment, m)) for m in MEASURES}
    matrix = alignment.cka if alignment.cka is not None else alignment.ami
    assert matrix is not None  # Store.save_alignment checked
    n_a, n_b = matrix.shape
    rows = [
        {"a": i, "b": j, **{m: None if v is None else v[i][j] for m, v in values.items()}}
        for i in range(n_a)
        for j in range(n_b)
    ]
    for statement in cypher.statements("schema_alignment"):
        runner.run_text(statement, {}, write=True)
    runner.write("merge_alignment", run_a=run_a, run_b=run_b, rows=rows)


def read_alignment(
    runner: CypherRunner, run_a: str, run_b: str, runs: dict[str, dict[str, Any]], names: tuple[str, str]
) -> LayerAlignment | None:
    """The stored alignment of two stored runs, oriented ``run_a`` x ``run_b``; None when none is stored."""
    rows = runner.read("read_alignment", run_a=run_a, run_b=run_b)
    if not rows:
        return None
    shape = (int(runs[run_a]["n_layers"]), int(runs[run_b]["n_layers"]))
    found = {m: np.full(shape, np.nan) for m in MEASURES}
    for row in rows:
        i, j = (row["source"], row["target"]) if row["source_run"] == run_a else (row["target"], row["source"])
        for m in MEASURES:
            found[m][i, j] = np.nan if row[m] is None else row[m]
    return LayerAlignment(
        names=names,
        runs=(run_a, run_b),
        **{m: None if np.isnan(v).all() else v for m, v in found.items()},  # type: ignore[arg-type]  # matrices
    )


def forget_alignments(runner: CypherRunner, run_id: str) -> None:
    """Remove a deleted run's ``Layer`` nodes and their ``ALIGNS``."""
    runner.write("delete_layers", run_id=run_id)
