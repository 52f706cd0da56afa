import pytest
import torch
from numpy.testing import assert_allclose

from llm_mri_graphdb.errors import UnsupportedSite
from llm_mri_graphdb.extract.sites import (
    ARCHITECTURES,
    find_site_modules,
    folder_pooling,
    hook_name,
    hook_names,
    parse_hook_name,
    pool,
    resolve_pooling,
)

pytestmark = pytest.mark.unit


def test_hook_name_follows_transformerlens_grammar():
    assert hook_names("hidden", 2) == [
        "blocks.0.hook_resid_pre",
        "blocks.0.hook_resid_post",
        "blocks.1.hook_resid_post",
    ]
    assert hook_names("mlp", 2) == ["blocks.0.hook_mlp_out", "blocks.1.hook_mlp_out"]
    assert hook_names("attention", 1) == ["blocks.0.hook_attn_out"]


@pytest.mark.parametrize("site", ["hidden", "mlp", "attention"])
@pytest.mark.parametrize("layer", [0, 1, 5])
def test_parse_hook_name_inverts_hook_name(site, layer):
    assert parse_hook_name(hook_name(layer, site)) == (layer, site)


def test_hook_name_rejects_unknown_site():
    with pytest.raises(ValueError, match=r"site must be one of .*; got 'ffn'"):
        hook_name(0, "ffn")
    with pytest.raises(ValueError, match="blocks.3.hook_resid_pre"):
        parse_hook_name("blocks.3.hook_resid_pre")


@pytest.mark.parametrize(
    ("pooling", "decoder", "configured", "expected"),
    [
        ("auto", True, None, "mean_skip_first"),
        ("auto", False, None, "mean"),
        ("auto", False, "first", "first"),
        ("auto", True, "last", "last"),
        ("mean", True, None, "mean"),
        ("first", True, "mean", "first"),
        ("mean_skip_first", False, None, "mean_skip_first"),
    ],
)
def test_resolve_pooling_auto_reads_the_model(pooling, decoder, configured, expected):
    assert resolve_pooling(pooling, decoder=decoder, configured=configured) == expected


def test_resolve_pooling_rejects_unknown():
    with pytest.raises(ValueError, match=r"pooling must be one of .*; got 'cls'"):
        resolve_pooling("cls", decoder=True)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False}, "first"),
        ({"pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False}, "mean"),
        ({"pooling_mode_max_tokens": True}, "max"),
        ({"pooling_mode_lasttoken": True}, "last"),
        ({"pooling_mode": "lasttoken"}, "last"),
        ({"pooling_mode_mean_sqrt_len_tokens": True}, None),  # not a rule we compute
        ({"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": True}, None),  # concatenated: not one rule
    ],
)
def test_folder_pooling_reads_sentence_transformers_config(tmp_path, config, expected):
    import json

    (tmp_path / "modules.json").write_text(
        json.dumps(
            [
                {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            ]
        )
    )
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"word_embedding_dimension": 4, **config}))
    assert folder_pooling(tmp_path) == expected


def test_folder_pooling_none_without_modules_or_pooling_module(tmp_path):
    assert folder_pooling(tmp_path) is None
    (tmp_path / "modules.json").write_text('[{"path": "", "type": "sentence_transformers.models.Transformer"}]')
    assert folder_pooling(tmp_path) is None
    (tmp_path / "modules.json").write_text("not json")
    assert folder_pooling(tmp_path) is None
    assert folder_pooling(tmp_path / "absent") is None


def _padded(side):
    # two texts of 3 and 1 real tokens, d_model=2; token t of text b has value [10*b + t, -(10*b + t)]
    real = [[[0.0, 0.0], [1.0, -1.0], [2.0, -2.0]], [[10.0, -10.0]]]
    hidden = torch.full((2, 3, 2), 99.0)
    mask = torch.zeros(2, 3, dtype=torch.long)
    for b, rows in enumerate(real):
        n = len(rows)
        cols = slice(0, n) if side == "right" else slice(3 - n, 3)
        hidden[b, cols] = torch.tensor(rows)
        mask[b, cols] = 1
    return hidden, mask


@pytest.mark.parametrize("side", ["left", "right"])
def test_pool_reads_real_tokens_under_either_padding(side):
    hidden, mask = _padded(side)
    assert_allclose(pool(hidden, mask, "first").numpy(), [[0, 0], [10, -10]])
    assert_allclose(pool(hidden, mask, "last").numpy(), [[2, -2], [10, -10]])
    assert_allclose(pool(hidden, mask, "mean").numpy(), [[1, -1], [10, -10]])
    # tokens 1 and 2 of text 0 (the first real token dropped); text 1 has one token and keeps it
    assert_allclose(pool(hidden, mask, "mean_skip_first").numpy(), [[1.5, -1.5], [10, -10]])
    assert_allclose(pool(hidden, mask, "max").numpy(), [[2, 0], [10, -10]])  # padding (99) never wins


def _tiny(kind):
    from transformers import AutoModel, BertConfig, DistilBertConfig, ElectraConfig, GPT2Config, LlamaConfig

    configs = {
        "bert": BertConfig(
            vocab_size=20, hidden_size=8, num_hidden_layers=2, num_attention_heads=2, intermediate_size=16
        ),
        "distilbert": DistilBertConfig(vocab_size=20, dim=8, n_layers=2, n_heads=2, hidden_dim=16),
        "gpt2": GPT2Config(vocab_size=20, n_embd=8, n_layer=2, n_head=2, bos_token_id=0, eos_token_id=0),
        "llama": LlamaConfig(
            vocab_size=20,
            hidden_size=8,
            intermediate_size=16,
            num_hidden_layers=2,
            num_attention_heads=2,
            bos_token_id=0,
            eos_token_id=0,
            pad_token_id=None,
        ),
        "electra": ElectraConfig(
            vocab_size=20,
            embedding_size=8,
            hidden_size=8,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=16,
        ),
    }
    return AutoModel.from_config(configs[kind])


@pytest.mark.parametrize(
    ("kind", "site", "path"),
    [
        ("bert", "mlp", "encoder.layer.1.output.dense"),
        ("bert", "attention", "encoder.layer.1.attention.output.dense"),
        ("distilbert", "mlp", "transformer.layer.1.ffn"),
        ("distilbert", "attention", "transformer.layer.1.attention"),
        ("gpt2", "mlp", "h.1.mlp"),
        ("gpt2", "attention", "h.1.attn"),
        ("llama", "mlp", "layers.1.mlp"),
        ("llama", "attention", "layers.1.self_attn"),
    ],
)
def test_find_site_modules_uses_the_table(kind, site, path):
    model = _tiny(kind)
    found = find_site_modules(model, model.config.model_type, site)
    assert len(found) == 2
    assert found[1] is model.get_submodule(path)


def test_find_site_modules_unmapped_model_names_its_sites():
    model = _tiny("electra")
    assert "electra" not in ARCHITECTURES
    with pytest.raises(UnsupportedSite, match=r"model_type 'electra'; it can give \('hidden',\)"):
        find_site_modules(model, "electra", "mlp")
