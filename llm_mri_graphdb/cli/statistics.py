"""Commands ``statistics`` and ``sensitivity``: how far a run's metrics are evidence."""

from __future__ import annotations

import math
from typing import Annotated

import typer

from .options import (
    FormatOpt,
    RunArg,
    StoreOpt,
    StorePathOpt,
    app,
    open_target,
    print_rows,
)

LabelOpt = Annotated[list[str] | None, typer.Option("--label", help="Restrict to these labels (repeat).")]


def _rows(frame) -> list[dict]:
    return [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
        for r in frame.to_dict("records")
    ]


@app.command("statistics")
def statistics_cmd(
    run_id: RunArg,
    label: LabelOpt = None,
    permutations: Annotated[int, typer.Option(min=0, help="Label permutations of the null (0: none).")] = 200,
    bootstrap: Annotated[
        int, typer.Option(min=0, help="Stratified bootstrap resamples of the intervals (0: none).")
    ] = 200,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the permutations and the bootstrap.")] = 0,
    correction: Annotated[
        str, typer.Option(help="holm (family-wise) or bh (Benjamini-Hochberg), within each metric.")
    ] = "holm",
    contrasts: Annotated[
        bool, typer.Option("--contrasts", help="Pairwise label differences instead of per-label values.")
    ] = False,
    save: Annotated[bool, typer.Option("--save", help="Also keep them with the run; read-only otherwise.")] = False,
    refit: Annotated[
        bool,
        typer.Option(
            "--refit", help="Refit the reducer inside each bootstrap resample (slow; needs the run's --cache entry)."
        ),
    ] = False,
    fmt: FormatOpt = "table",
    store: StoreOpt = "auto",
    store_path: StorePathOpt = None,
) -> None:
    """Print each per-label metric with its bootstrap interval and label-permutation p.

    Example: llm-mri-graphdb statistics 3f2a9c0d1b2e4f5a --permutations 1000 --contrasts
    """
    if correction not in ("holm", "bh"):
        raise typer.BadParameter(f"--correction must be holm or bh; got {correction!r}.", param_hint="'--correction'")
    if contrasts and (save or refit):
        raise typer.BadParameter(
            "--save and --refit apply to the per-label statistics; drop --contrasts.", param_hint="'--contrasts'"
        )
    with open_target(store, store_path) as target:
        if label:
            from ..labels import resolve_labels

            try:
                resolve_labels(target.read(run_id).label_names, list(label))
            except ValueError as exc:
                raise typer.BadParameter(str(exc), param_hint="'--label'") from exc
        try:
            if contrasts:
                frame = target.metric_contrasts(
                    run_id, label or None, permutations, bootstrap, seed, correction=correction
                )
            else:
                frame = target.metric_statistics(
                    run_id, label or None, permutations, bootstrap, seed, correction=correction, save=save, refit=refit
                )
        except ValueError as exc:
            if any(s in str(exc) for s in ("per-text region paths", "grid NRAG", "need >= 2 labels", "activation")):
                raise typer.BadParameter(str(exc), param_hint="'RUN_ID'") from exc
            raise
    print_rows(_rows(frame), fmt)


@app.command("sensitivity")
def sensitivity_cmd(
    run_id: RunArg,
    gridsize: Annotated[
        list[int] | None, typer.Option("--gridsize", min=1, help="Grid sizes to compare (repeat; default 8 10 12).")
    ] = None,
    values: Annotated[
        bool, typer.Option("--values", help="Print every (setting, label, metric) value, not the summary.")
    ] = False,
    fmt: FormatOpt = "table",
    store: StoreOpt = "auto",
    store_path: StorePathOpt = None,
) -> None:
    """Flag the metrics that move more with the grid settings than between labels.

    Rebuilds the run's grid at gridsize 8, 10, 12, with equal-width and quantile
    cells, and with 3 reducer seeds for UMAP runs, from its activation cache
    entry (scan with --cache DIR).

    Example: llm-mri-graphdb sensitivity 3f2a9c0d1b2e4f5a
    """
    from ..analysis.sensitivity import GRIDSIZES, run_sensitivity

    with open_target(store, store_path) as target:
        nrag = target.read(run_id)
    try:
        table, summary = run_sensitivity(nrag, gridsizes=tuple(gridsize or GRIDSIZES))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="'RUN_ID'") from exc
    print_rows(_rows(table if values else summary), fmt)


__all__ = ["sensitivity_cmd", "statistics_cmd"]
