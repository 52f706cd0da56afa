"""Run llm_mri 0.2.1's documented flow and print timings, peak memory and metrics as JSON.

Runs inside the reference virtual environment (``bench/reference/setup.sh``)::

    bench/reference/.venv/bin/python bench/reference/run_reference.py MODEL_DIR corpus.csv --gridsize 10

The flow is the library's README: ``ActivationAreas(...).process_activation_areas()``,
then ``get_graph(label)`` and ``Metrics(g, label, model).get_basic_metrics()``
for every label. Only the standard library, numpy, pandas and llm_mri are used here.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("corpus", help="CSV with text,label columns")
    parser.add_argument("--gridsize", type=int, default=10)
    parser.add_argument("--components", type=int, default=2)
    args = parser.parse_args()

    import pandas as pd
    from datasets import ClassLabel, Dataset

    frame = pd.read_csv(args.corpus)
    names = sorted(frame["label"].unique())
    dataset = Dataset.from_pandas(frame[["text", "label"]], preserve_index=False)
    dataset = dataset.cast_column("label", ClassLabel(names=names))

    import importlib

    from llm_mri import ActivationAreas, Metrics
    from llm_mri.dimensionality_reduction import PCA
    from transformers import AutoConfig

    # Import the model's code before the clock starts, as bench/compare.py does for ours.
    kind = AutoConfig.from_pretrained(args.model).model_type
    importlib.import_module(f"transformers.models.{kind}.modeling_{kind}")

    start = time.perf_counter()
    areas = ActivationAreas(model=args.model, device="cpu", dataset=dataset,
                            reduction_method=PCA(n_components=args.components, gridsize=args.gridsize))
    areas.process_activation_areas()
    processed = time.perf_counter()
    metrics = {}
    for label in names:
        graph = areas.get_graph(label)
        basic = Metrics(graph, label=label, model_name=args.model).get_basic_metrics()
        metrics[label] = {k: (None if isinstance(v, float) and math.isnan(v) else v)
                          for k, v in basic.items() if isinstance(v, (int, float))}
    done = time.perf_counter()
    # After the clock: each layer's 2-D coordinates as the grid saw them (the reduction is deterministic), so
    # a metric difference can be traced to the texts that fall in another cell.
    import numpy as np

    hidden = areas.hidden_states_dataset
    coords = [np.asarray(areas.reduction_method.get_reduction(np.array(hidden[name]))).tolist()
              for name in sorted((c for c in hidden.column_names if c.startswith("hidden_state")),
                                 key=lambda c: int(c.rsplit("_", 1)[-1]))]
    print(json.dumps({
        "process_s": processed - start,
        "total_s": done - start,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "metrics": metrics,
        "coords": coords,
    }))


if __name__ == "__main__":
    main()
