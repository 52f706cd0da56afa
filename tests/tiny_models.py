"""Tiny random-init models and offline word-level tokenizers, saved to folders.

Shared by the extraction and cache tests: the folders go through the real
``AutoModel``/``AutoTokenizer`` loading code.
"""

from __future__ import annotations

from pathlib import Path

import torch

WORDS = (
    "the a cat dog bird sat ran flew on over under mat roof tree far away and then it was "
    "very good bad happy sad loud quiet small big red green"
).split()
TEXTS = [
    "the cat sat on the mat",
    "a dog ran",
    "the bird flew over the big green tree and then it was very happy",
    "sad",
    "the small red cat ran far away under the roof",
    "it was loud",
    "a quiet dog sat under a tree and the cat was very sad then",
    "green bird",
]
LABELS = ["pos", "neg", "pos", "neg", "pos", "neg", "pos", "neg"]


def make_tokenizer(encoder: bool):
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"] if encoder else ["<unk>", "<eos>"]
    vocab = {w: i for i, w in enumerate(specials + WORDS)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token=specials[1] if encoder else "<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    if encoder:
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
        )
        return PreTrainedTokenizerFast(
            tokenizer_object=tok,
            unk_token="[UNK]",
            pad_token="[PAD]",
            cls_token="[CLS]",
            sep_token="[SEP]",
            model_max_length=64,
        )
    # no pad token on purpose: extraction must add one without changing results
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<eos>", model_max_length=64)


def _config(kind: str, vocab: int):
    from transformers import BertConfig, DistilBertConfig, GPT2Config, LlamaConfig

    if kind == "bert":
        return BertConfig(
            vocab_size=vocab,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=64,
        )
    if kind == "distilbert":
        return DistilBertConfig(
            vocab_size=vocab, dim=32, n_layers=2, n_heads=2, hidden_dim=64, max_position_embeddings=64
        )
    if kind == "gpt2":
        return GPT2Config(
            vocab_size=vocab, n_embd=32, n_layer=2, n_head=2, n_positions=64, bos_token_id=1, eos_token_id=1
        )
    return LlamaConfig(
        vocab_size=vocab,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=64,
        bos_token_id=1,
        eos_token_id=1,
        pad_token_id=None,
    )


def save_tiny_model(kind: str, folder: Path, seed: int = 0) -> Path:
    """Save a 2-layer, width-32 random ``kind`` model and its tokenizer into ``folder``."""
    from transformers import AutoModel

    tokenizer = make_tokenizer(encoder=kind in ("bert", "distilbert"))
    torch.manual_seed(seed)
    model = AutoModel.from_config(_config(kind, len(tokenizer)))
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
