import importlib.util

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from llm_mri_graphdb.data import corpus_fingerprint, load_corpus
from llm_mri_graphdb.errors import ModelLoadError, UnsupportedSite
from llm_mri_graphdb.extract import Extractor, cpu_has_bf16, dtype_name, extract_activations, load_model
from llm_mri_graphdb.scan_settings import ScanArgumentError
from tests.tiny_models import LABELS, TEXTS, save_tiny_model

pytestmark = pytest.mark.unit

KINDS = ("bert", "distilbert", "gpt2", "llama")
# written out here, independently of the sites table, so the table is checked too
SITE_PATHS = {
    "bert": {"mlp": "encoder.layer.{i}.output.dense", "attention": "encoder.layer.{i}.attention.output.dense"},
    "distilbert": {"mlp": "transformer.layer.{i}.ffn", "attention": "transformer.layer.{i}.attention"},
    "gpt2": {"mlp": "h.{i}.mlp", "attention": "h.{i}.attn"},
    "llama": {"mlp": "layers.{i}.mlp", "attention": "layers.{i}.self_attn"},
}


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {kind: save_tiny_model(kind, root / kind) for kind in KINDS}


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(__import__("pandas").DataFrame({"text": TEXTS, "label": LABELS}), name="tiny")


def _reference(folder, site, pooling, texts=TEXTS):
    """Each text alone through a plain forward pass (and plain hooks): [layers, n_texts, d]."""
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(folder).eval()
    tok = AutoTokenizer.from_pretrained(folder)
    captured = []
    if site != "hidden":
        path = SITE_PATHS[model.config.model_type][site]
        for i in range(model.config.num_hidden_layers):
            model.get_submodule(path.format(i=i)).register_forward_hook(
                lambda m, a, out: captured.append(out[0] if isinstance(out, tuple) else out)
            )
    rows = []
    with torch.no_grad():
        for text in texts:
            ids = torch.tensor([tok(text)["input_ids"]])
            captured.clear()
            out = model(input_ids=ids, output_hidden_states=True)
            states = out.hidden_states if site == "hidden" else captured
            take = {
                "first": lambda h: h[0, 0],
                "last": lambda h: h[0, -1],
                "mean": lambda h: h[0].mean(0),
                "max": lambda h: h[0].amax(0),  # a one-token text keeps its token:
                "mean_skip_first": lambda h: h[0, 1:].mean(0) if h.shape[1] > 1 else h[0, 0],
            }[pooling]
            rows.append([take(h).numpy() for h in states])
    return np.stack(rows, axis=1)


@pytest.mark.parametrize("site", ["hidden", "mlp", "attention"])
@pytest.mark.parametrize("kind", KINDS)
def test_extract_activations_equals_single_text_forward(folders, corpus, kind, site):
    acts = extract_activations(str(folders[kind]), corpus, site=site, batch_size=3, progress=False)
    pooling = acts.settings["pooling"]
    # auto: mean over positions >= 1 for decoders (position 0 is the attention sink), mean for encoders
    assert pooling == ("mean_skip_first" if kind in ("gpt2", "llama") else "mean")
    expected = _reference(folders[kind], site, pooling)
    assert acts.n_layers == expected.shape[0] == (3 if site == "hidden" else 2)
    assert_allclose(np.stack(acts.layers), expected, atol=1e-5)


@pytest.mark.parametrize("kind", ["bert", "gpt2"])
def test_extract_activations_mean_pooling_equals_single_text_mean(folders, corpus, kind):
    acts = extract_activations(folders[kind], corpus, pooling="mean", batch_size=4, progress=False)
    assert_allclose(np.stack(acts.layers), _reference(folders[kind], "hidden", "mean"), atol=1e-5)


@pytest.mark.parametrize(
    ("st_mode", "expected"),
    [("pooling_mode_cls_token", "first"), ("pooling_mode_max_tokens", "max"), ("pooling_mode_lasttoken", "last")],
)
def test_extract_activations_auto_takes_sentence_transformers_pooling(folders, corpus, tmp_path, st_mode, expected):
    import json
    import shutil

    folder = shutil.copytree(folders["bert"], tmp_path / "st-bert")
    (folder / "modules.json").write_text(
        json.dumps(
            [
                {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            ]
        )
    )
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({"word_embedding_dimension": 32, st_mode: True}))
    acts = extract_activations(str(folder), corpus, batch_size=3, progress=False)
    assert acts.settings["pooling"] == expected and acts.model["declared_pooling"] == expected
    assert_allclose(np.stack(acts.layers), _reference(folder, "hidden", expected), atol=1e-5)


def test_extract_activations_auto_changes_the_run_id(folders, corpus):
    from llm_mri_graphdb.nrag.model import run_id_for

    auto = extract_activations(folders["llama"], corpus, progress=False)
    last = extract_activations(folders["llama"], corpus, pooling="last", progress=False)
    skip = extract_activations(folders["llama"], corpus, pooling="mean_skip_first", progress=False)
    assert auto.settings == skip.settings and auto.settings["pooling"] == "mean_skip_first"
    ids = {run_id_for(a.model, a.corpus, a.settings) for a in (auto, last)}
    assert len(ids) == 2


@pytest.mark.parametrize("kind", ["gpt2", "llama"])
def test_extractor_ignores_tokenizer_padding_side(folders, corpus, kind):
    model, tok, info = load_model(folders[kind], device="cpu")
    right = Extractor(model, tok, info=info).extract(corpus, batch_size=8, progress=False)
    tok.padding_side = "left"
    left = Extractor(model, tok, info=info).extract(corpus, batch_size=8, progress=False)
    assert_allclose(np.stack(left.layers), np.stack(right.layers), atol=0)


def test_extract_activations_batch_size_changes_nothing(folders, corpus):
    one = extract_activations(folders["llama"], corpus, site="mlp", batch_size=1, progress=False)
    all_ = extract_activations(folders["llama"], corpus, site="mlp", batch_size=len(TEXTS), progress=False)
    assert_allclose(np.stack(one.layers), np.stack(all_.layers), atol=1e-5)


def test_extract_activations_truncates_to_max_length(folders, corpus):
    acts = extract_activations(folders["gpt2"], corpus, max_length=2, progress=False)
    expected = _reference(folders["gpt2"], "hidden", "mean_skip_first", [" ".join(t.split()[:2]) for t in TEXTS])
    assert acts.settings["max_length"] == 2
    assert_allclose(np.stack(acts.layers), expected, atol=1e-5)


def test_extract_activations_fills_metadata(folders, corpus):
    acts = extract_activations(folders["bert"], corpus, progress=False)
    assert {k: acts.model[k] for k in ("name", "architecture", "n_layers", "width", "is_decoder")} == {
        "name": "bert",
        "architecture": "bert",
        "n_layers": 2,
        "width": 32,
        "is_decoder": False,
    }
    assert len(acts.model["fingerprint"]) == 64
    assert acts.corpus == {
        "fingerprint": corpus_fingerprint(corpus),
        "name": "tiny",
        "n_texts": 8,
        "label_names": ["neg", "pos"],
    }
    assert acts.settings == {"site": "hidden", "pooling": "mean", "max_length": 64, "dtype": "float32"}
    assert acts.model["declared_pooling"] is None
    assert acts.label_names == ("neg", "pos")
    assert acts.labels.tolist() == [1, 0, 1, 0, 1, 0, 1, 0]


def test_load_model_gives_decoder_tokenizer_a_pad_token(folders):
    _, tok, info = load_model(folders["gpt2"], device="cpu")
    assert tok.pad_token == tok.eos_token == "<eos>"
    assert info.is_decoder and info.max_length == 64


def test_extract_activations_accepts_loaded_pair(folders, corpus):
    model, tok, _ = load_model(folders["distilbert"], device="cpu")
    pair = extract_activations((model, tok), corpus, progress=False)
    by_path = extract_activations(folders["distilbert"], corpus, progress=False)
    assert_allclose(np.stack(pair.layers), np.stack(by_path.layers), atol=1e-6)


def test_extract_activations_rejects_max_length_over_limit(folders, corpus):
    with pytest.raises(ValueError, match=r"max_length \(100\) must be <= the model's limit \(64\)"):
        extract_activations(folders["bert"], corpus, max_length=100, progress=False)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"site": "ffn"}, r"site must be one of .*; got 'ffn'"),
        ({"pooling": "cls"}, r"pooling must be one of .*; got 'cls'"),
        ({"batch_size": 0}, r"batch_size must be an integer >= 1; got 0"),
        ({"batch_size": 5000}, r"batch_size 5000 is above the limit 4096: .* GiB per layer\. .*allow_large=True"),
        ({"max_length": 0}, r"max_length must be an integer >= 1 or None; got 0"),
        ({"dtype": "float16", "device": "cpu"}, r"dtype float16 needs device cuda or mps; on cpu use bfloat16"),
        ({"dtype": "int8"}, r"dtype must be one of float32, bfloat16, float16, auto; got 'int8'"),
        ({"device": "tpu"}, r"device must be one of auto, cpu, cuda, mps \(or cuda:N\); got 'tpu'"),
    ],
)
def test_extract_activations_rejects_bad_arguments_before_loading(folders, corpus, kwargs, message, monkeypatch):
    import llm_mri_graphdb.extract.run as extract_module

    def no_loading(*args, **kw):
        raise AssertionError("the model was loaded before the arguments were checked")

    monkeypatch.setattr(extract_module, "load_model", no_loading)
    monkeypatch.setattr(extract_module, "load_corpus", no_loading)
    with pytest.raises(ScanArgumentError, match=message):
        extract_activations(folders["gpt2"], corpus, progress=False, **kwargs)


def test_load_model_folder_without_config_names_the_folder_and_the_fix(tmp_path):
    (tmp_path / "readme.txt").write_text("not a model")
    with pytest.raises(
        ModelLoadError,
        match=r"not a model folder \(it has no config.json\); give a folder written "
        r"by save_pretrained",
    ):
        load_model(tmp_path, device="cpu")


def test_load_model_truncated_gguf_says_download_again(tmp_path):
    path = tmp_path / "m.gguf"
    with open(path, "wb") as fh:  # a valid header that promises one key-value pair, then nothing
        fh.write(b"GGUF" + (3).to_bytes(4, "little") + (0).to_bytes(8, "little") + (1).to_bytes(8, "little"))
    with pytest.raises(
        ModelLoadError,
        match=r"m\.gguf: not a complete GGUF model \(24 bytes; the GGUF reader "
        r"says: .*\)\. The file looks truncated or damaged: download it again\.",
    ):
        load_model(path, device="cpu")
    path.write_bytes(b"hello")
    with pytest.raises(ModelLoadError, match=r"not a GGUF file \(it does not start with the GGUF magic bytes\)"):
        load_model(path, device="cpu")


def test_load_model_unavailable_cuda_is_a_usage_error(tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ScanArgumentError, match=r"device 'cuda' is not available on this machine; use device 'cpu'"):
        load_model(tmp_path, device="cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    with pytest.raises(
        ScanArgumentError,
        match=r"device 'cuda:2' is not available on this machine: it has 2 CUDA "
        r"device\(s\), cuda:0 to cuda:1\.$",
    ):
        load_model(tmp_path, device="cuda:2")


def test_extractor_unmapped_architecture_raises_unsupported_site(corpus):
    from transformers import ElectraConfig, ElectraModel

    from tests.tiny_models import make_tokenizer

    model = ElectraModel(
        ElectraConfig(
            vocab_size=40,
            embedding_size=8,
            hidden_size=8,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=16,
            max_position_embeddings=64,
        )
    )
    extractor = Extractor(model, make_tokenizer(encoder=True))
    assert extractor.extract(corpus, progress=False).n_layers == 3  # hidden works for any model
    with pytest.raises(UnsupportedSite, match=r"it can give \('hidden',\)"):
        extractor.extract(corpus, site="attention", progress=False)


def test_load_model_missing_folder_raises(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_model(tmp_path / "nope", device="cpu")
    with pytest.raises(ModelLoadError, match="GGUF file .* does not exist"):
        load_model(str(tmp_path / "nope.gguf"), device="cpu")


def test_load_model_unknown_hub_id_offline_raises(monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ModelLoadError, match=r"could not load model 'nobody-xyz/no-model' \(offline"):
        load_model("nobody-xyz/no-model", device="cpu")


@pytest.mark.parametrize(
    "absent, named",
    [
        (("gguf",), "package gguf"),
        (("accelerate",), "package accelerate"),
        (("gguf", "accelerate"), "packages gguf and accelerate"),
    ],
)
def test_load_model_gguf_without_package_names_it_and_the_install(tmp_path, monkeypatch, absent, named):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in absent else real(name, *a))
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    with pytest.raises(ModelLoadError) as info:
        load_model(tmp_path / "m.gguf", device="cpu")
    assert str(info.value) == (
        f"reading the GGUF file 'm.gguf' needs the {named}: pip install \"llm-mri-graphdb[gguf]\"."
    )


def test_load_model_whole_gguf_that_fails_to_load_is_not_called_damaged(tmp_path):
    from gguf import GGUFWriter

    path = tmp_path / "whole.gguf"
    writer = GGUFWriter(path, arch="no-such-architecture")  # complete header and metadata, no tensors
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(ModelLoadError) as info:
        load_model(path, device="cpu")
    message = str(info.value)
    assert message.startswith(f"could not load the GGUF model {path} (the file itself reads whole): ")
    assert "damaged" not in message and "download" not in message and "\n" not in message


def test_extract_activations_hub_id_with_cache_looks_up_the_hub_cache_then_fails_in_one_line(
    corpus, tmp_path, monkeypatch
):
    # a hub id is fingerprinted from the local hub cache before anything loads (no network here)
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ModelLoadError, match="could not load model 'no-such-org/no-such-model' \\(offline"):
        extract_activations("no-such-org/no-such-model", corpus, cache_dir=tmp_path, progress=False)


@pytest.mark.parametrize(
    ("flags", "expected"),
    [("fpu sse avx512f amx_bf16 amx_tile", True), ("fpu avx512f avx512_bf16", True), ("fpu sse avx2 avx512f", False)],
)
def test_cpu_has_bf16_reads_the_flags_line(tmp_path, flags, expected):
    info = tmp_path / "cpuinfo"
    info.write_text(f"processor\t: 0\nmodel name\t: Some CPU with bf16 in its name\nflags\t\t: {flags}\n")
    assert cpu_has_bf16(info) is expected
    assert cpu_has_bf16(tmp_path / "missing") is False


@pytest.mark.parametrize("picks_bf16", [True, False])
@pytest.mark.parametrize("has_bf16", [True, False])
def test_dtype_auto_on_cpu_follows_the_cpu_flags_once_bf16_may_be_picked(monkeypatch, has_bf16, picks_bf16):
    import llm_mri_graphdb.extract.local as extract_module

    monkeypatch.setattr(extract_module, "cpu_has_bf16", lambda: has_bf16)
    monkeypatch.setattr(extract_module, "AUTO_PICKS_BF16", picks_bf16)
    assert dtype_name("auto", "cpu") == ("bfloat16" if has_bf16 and picks_bf16 else "float32")
    assert dtype_name(None, "cpu") == "float32"
    assert dtype_name("float32", "cpu") == "float32"  # asking for float32 is never overridden
    assert dtype_name("bfloat16", "cpu") == "bfloat16"


def test_extract_activations_bfloat16_on_cpu_is_recorded_and_close_to_float32(folders, corpus):
    full = extract_activations(folders["bert"], corpus, device="cpu", progress=False)
    half = extract_activations(folders["bert"], corpus, device="cpu", dtype="bfloat16", progress=False)
    assert full.settings["dtype"] == "float32" and half.settings["dtype"] == "bfloat16"
    assert half.layers[0].dtype == np.float32  # stored as float32 whatever the compute dtype
    for a, b in zip(full.layers, half.layers):
        rel = np.linalg.norm(a - b, axis=1) / np.linalg.norm(a, axis=1)
        assert 0 < rel.max() < 0.05  # bf16 has 8 bits of mantissa: changed, but only in the low bits
