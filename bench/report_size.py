"""Size and build time of the HTML report for a 10k-text scan (interactive graph and heatmaps with texts).

Run: ``python -m bench.report_size [--texts 10000] [--layers 13] [--gridsize 10 20]``. Prints, per grid
size, the report's bytes and the share of its parts, against the bytes of neo4j-viz's own page template
(the NVL bundle every interactive graph inlines, the floor of any report with one) measured in the same run.
Texts are ~300-character random sentences, so every example is cut to 200 characters.
"""

from __future__ import annotations

import argparse
import re
import time
from importlib.resources import files

import numpy as np

from llm_mri_graphdb.analysis.metrics import compute_metrics
from llm_mri_graphdb.nrag.model import NRAG, build_nrag_from_reduced
from llm_mri_graphdb.report.heatmap import heatmap_panels
from llm_mri_graphdb.report.scan import build_report

__all__ = ["scan_with_texts", "measure", "run", "markdown", "section"]

NAME, TITLE = "report_size", "Report size"


def scan_with_texts(
    n_texts: int, n_layers: int, gridsize: int, n_labels: int = 4, seed: int = 0
) -> tuple[NRAG, list[str], np.ndarray]:
    """A grid scan of Gaussian blobs per label (drifting apart layer by layer), ~300-character texts, labels."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_labels, n_texts)
    centres = rng.normal(size=(n_labels, 2)) * 3
    reduced = [
        centres[labels] * (layer / max(n_layers - 1, 1)) + rng.normal(size=(n_texts, 2)) for layer in range(n_layers)
    ]
    nrag = build_nrag_from_reduced(reduced, labels, [f"label{i}" for i in range(n_labels)], gridsize=gridsize)
    words = np.array(
        [
            "model",
            "layer",
            "token",
            "region",
            "graph",
            "signal",
            "review",
            "plot",
            "brain",
            "attention",
            "neuron",
            "story",
            "quiet",
            "bright",
            "river",
            "stone",
        ]
    )
    texts = [" ".join(rng.choice(words, 50)) for _ in range(n_texts)]
    return nrag, texts, labels


def measure(n_texts: int, n_layers: int, gridsize: int) -> dict[str, float]:
    nrag, texts, labels = scan_with_texts(n_texts, n_layers, gridsize)
    assert nrag.region_counts.sum() == n_texts * n_layers
    t = time.perf_counter()
    page = build_report(nrag, {"all": compute_metrics(nrag)}, texts=texts, text_labels=labels)
    seconds = time.perf_counter() - t
    frame = re.search(r"<iframe.*?</iframe>", page, re.S).group(0)
    heatmaps = heatmap_panels(nrag, texts=texts, text_labels=labels)
    pngs = sum(len(m) for m in re.findall(r"data:image/png;base64,[^\"']*", page))
    return {
        "regions": nrag.n_regions,
        "report_mb": len(page.encode()) / 1e6,
        "graph_frame_mb": len(frame.encode()) / 1e6,
        "heatmaps_mb": len(heatmaps.encode()) / 1e6,
        "pngs_mb": pngs / 1e6,
        "seconds": seconds,
    }


def run(n_texts: int = 10_000, n_layers: int = 13, gridsizes=(10, 20)) -> dict:
    """Bytes of neo4j-viz's page template and of the report at each grid size."""
    template = (files("neo4j_viz") / "resources" / "nvl_entrypoint" / "index.html").read_bytes()
    return {
        "n_texts": n_texts,
        "n_layers": n_layers,
        "template_mb": len(template) / 1e6,
        "rows": [{"gridsize": g, **measure(n_texts, n_layers, g)} for g in gridsizes],
    }


def markdown(r: dict, command: str) -> str:
    """The result of :func:`run` as the markdown of the docs."""
    base = r["template_mb"]
    lines = [
        f"`{command}`: a grid scan of {r['n_texts']:,} texts of about 300 characters, {r['n_layers']} layers; "
        f"neo4j-viz's page template (the NVL bundle every interactive graph inlines, the floor of any report "
        f"with one): {base:.2f} MB.",
        "",
        "| grid | regions | report MB | x template | graph frame MB | heatmaps MB | PNGs MB | build s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for x in r["rows"]:
        lines.append(
            f"| {x['gridsize']} | {x['regions']} | {x['report_mb']:.2f} | {x['report_mb'] / base:.2f} | "
            f"{x['graph_frame_mb']:.2f} | {x['heatmaps_mb']:.2f} | {x['pngs_mb']:.2f} | {x['seconds']:.1f} |"
        )
    return "\n".join(lines)


def section(quick: bool = False) -> str:
    """The docs block (protocol of :mod:`bench.docs`); ``quick``: 300 texts, 4 layers, grid 5."""
    args = (300, 4, (5,)) if quick else (10_000, 13, (10, 20))
    command = (
        f"python -m bench.report_size --texts {args[0]} --layers {args[1]} --gridsize {' '.join(map(str, args[2]))}"
    )
    return markdown(run(*args), command)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=10_000)
    parser.add_argument("--layers", type=int, default=13)
    parser.add_argument("--gridsize", type=int, nargs="+", default=[10, 20])
    args = parser.parse_args()
    command = f"python -m bench.report_size --texts {args.texts} --layers {args.layers} --gridsize " + " ".join(
        map(str, args.gridsize)
    )
    print(markdown(run(args.texts, args.layers, tuple(args.gridsize)), command))


if __name__ == "__main__":
    main()
