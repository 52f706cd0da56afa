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


def scan_with_texts(n_texts: int, n_layers: int, gridsize: int, n_labels: int = 4,
                    seed: int = 0) -> tuple[NRAG, list[str], np.ndarray]:
    """A grid scan of Gaussian blobs per label (drifting apart layer by layer), ~300-character texts, labels."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_labels, n_texts)
    centres = rng.normal(size=(n_labels, 2)) * 3
    reduced = [centres[labels] * (layer / max(n_layers - 1, 1)) + rng.normal(size=(n_texts, 2)) for layer in range(n_layers)]
    nrag = build_nrag_from_reduced(reduced, labels, [f"label{i}" for i in range(n_labels)], gridsize=gridsize)
    words = np.array(["model", "layer", "token", "region", "graph", "signal", "review", "plot", "brain",
                      "attention", "neuron", "story", "quiet", "bright", "river", "stone"])
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
    return {"regions": nrag.n_regions, "report_mb": len(page.encode()) / 1e6, "graph_frame_mb": len(frame.encode()) / 1e6,
            "heatmaps_mb": len(heatmaps.encode()) / 1e6, "pngs_mb": pngs / 1e6, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=10_000)
    parser.add_argument("--layers", type=int, default=13)
    parser.add_argument("--gridsize", type=int, nargs="+", default=[10, 20])
    args = parser.parse_args()
    template = (files("neo4j_viz") / "resources" / "nvl_entrypoint" / "index.html").read_bytes()
    base = len(template) / 1e6
    print(f"neo4j-viz page template (NVL inlined): {base:.2f} MB")
    print("| texts | layers | grid | regions | report MB | x template | graph frame MB | heatmaps MB | PNGs MB | build s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for g in args.gridsize:
        r = measure(args.texts, args.layers, g)
        print(f"| {args.texts} | {args.layers} | {g} | {r['regions']} | {r['report_mb']:.2f} | "
              f"{r['report_mb'] / base:.2f} | {r['graph_frame_mb']:.2f} | {r['heatmaps_mb']:.2f} | "
              f"{r['pngs_mb']:.2f} | {r['seconds']:.1f} |")


if __name__ == "__main__":
    main()
