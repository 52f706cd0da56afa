"""Where activations are read (sites) and how a text's tokens become one vector (pooling).

Three sites, named by the user and by TransformerLens's grammar inside (cache keys):

``hidden``
    The residual stream after each block, with the embedding output as layer 0,
    exactly the model's ``output_hidden_states`` (what llm_mri reads). Names:
    ``blocks.0.hook_resid_pre`` for layer 0, then ``blocks.{l}.hook_resid_post``.
    For models whose base applies a final norm (Llama, Mistral, Qwen2, GPT-2),
    Hugging Face reports the last entry after that norm; we keep that.
``mlp``
    What each block's feed-forward sub-layer adds to the residual stream,
    ``blocks.{l}.hook_mlp_out``, read with a forward hook.
``attention``
    What each block's attention sub-layer adds to the residual stream,
    ``blocks.{l}.hook_attn_out`` (element 0 when the module returns a tuple).

Post-LN encoders need care. In BERT and RoBERTa ``encoder.layer.{i}.output``
returns ``LayerNorm(x + FFN(x))``, which *is* ``hidden_states[i + 1]``, and
``encoder.layer.{i}.attention`` returns ``LayerNorm(x + Attn(x))``, the
normalised residual mid. Neither is a sub-layer output, so (as TransformerLens
does for post-LN models) we hook the projections that produce the sub-layer's
contribution before Add & LayerNorm: ``encoder.layer.{i}.output.dense`` and
``encoder.layer.{i}.attention.output.dense`` (their dropout is identity in
eval mode). DistilBERT's ``ffn`` and ``attention`` modules already return
those contributions, as do GPT-2's ``mlp``/``attn`` and Llama's ``mlp``/``self_attn``.

Pooling
-------
A text's tokens become one vector by one of these rules, all over *real*
tokens only (the attention mask; padding never counts):

``first``
    The first real token (``[CLS]`` of a BERT; ``llm_mri``'s only rule).
``last``
    The last real token (the only one a causal model has let see the whole text).
``mean``
    The average of every real token, special tokens included: ``[CLS]`` and
    ``[SEP]`` count like any other token, exactly as sentence-transformers'
    ``pooling_mode_mean_tokens`` does, so on a sentence-transformers model our
    ``mean`` is its sentence embedding before normalisation.
``mean_skip_first``
    The average of real tokens at positions >= 1. In decoders the first token
    is an attention sink whose activations are massive outliers (Xiao et al.
    2024, *Efficient Streaming Language Models with Attention Sinks*; Sun et
    al. 2024, *Massive Activations in Large Language Models*): in SmolLM2-135M
    its norm is 42-162x the other tokens' in layers 12-27, so a plain mean
    mostly encodes 1 / length. A one-token text keeps its only token.
``max``
    The element-wise maximum over real tokens (sentence-transformers' ``max``).

``auto`` (the CLI's, :func:`llm_mri_graphdb.pipeline.scan`'s and the demo's
default) reads the model: the pooling its sentence-transformers files declare
(``modules.json`` naming a ``sentence_transformers.models.Pooling`` module whose
``config.json`` sets exactly one of ``cls``, ``mean``, ``max`` or
``lasttoken``); else ``mean`` for encoders and ``mean_skip_first`` for
decoders. The resolved rule is what the run's settings record (and so its
run id). The ``llm_mri`` facade keeps ``first`` as its default for parity.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from llm_mri_graphdb.errors import UnsupportedSite
from llm_mri_graphdb.scan_settings import POOLINGS, SITES

if TYPE_CHECKING:  # torch is imported where tensors are handled, not at import
    import torch

__all__ = [
    "SITES",
    "POOLINGS",
    "Architecture",
    "ARCHITECTURES",
    "architecture",
    "hook_name",
    "hook_names",
    "parse_hook_name",
    "find_site_modules",
    "resolve_pooling",
    "sentence_transformers_pooling",
    "folder_pooling",
    "pool",
]

_HOOK = {"hidden": "resid_post", "mlp": "mlp_out", "attention": "attn_out"}
_HOOK_RE = re.compile(r"^blocks\.(\d+)\.hook_(resid_pre|resid_post|mlp_out|attn_out)$")


@dataclass(frozen=True)
class Architecture:
    """Module paths of one ``model_type``, relative to the base model.

    ``{i}`` stands for the block index; ``decoder`` says whether the model is
    causal (its pooling ``auto`` is ``mean_skip_first``).
    """

    mlp: str
    attention: str
    decoder: bool


_BERT = Architecture("encoder.layer.{i}.output.dense", "encoder.layer.{i}.attention.output.dense", False)
_LLAMA = Architecture("layers.{i}.mlp", "layers.{i}.self_attn", True)
ARCHITECTURES: dict[str, Architecture] = {
    "bert": _BERT,
    "roberta": _BERT,
    "xlm-roberta": _BERT,
    "distilbert": Architecture("transformer.layer.{i}.ffn", "transformer.layer.{i}.attention", False),
    "gpt2": Architecture("h.{i}.mlp", "h.{i}.attn", True),
    "llama": _LLAMA,
    "mistral": _LLAMA,
    "qwen2": _LLAMA,
    "qwen3": _LLAMA,
    "gemma": _LLAMA,
}


def architecture(model_type: str) -> Architecture | None:
    """The table entry of ``model_type``, or ``None`` when only ``hidden`` is known."""
    return ARCHITECTURES.get(model_type)


def hook_name(layer: int, site: str) -> str:
    """Internal name of activation layer ``layer`` of ``site`` (an index into ``Activations.layers``).

    >>> hook_name(0, "hidden"), hook_name(3, "hidden"), hook_name(3, "mlp")
    ('blocks.0.hook_resid_pre', 'blocks.2.hook_resid_post', 'blocks.3.hook_mlp_out')
    """
    if site not in SITES:
        raise ValueError(f"site must be one of {SITES}; got {site!r}.")
    if site == "hidden":
        return "blocks.0.hook_resid_pre" if layer == 0 else f"blocks.{layer - 1}.hook_resid_post"
    return f"blocks.{layer}.hook_{_HOOK[site]}"


def hook_names(site: str, n_blocks: int) -> list[str]:
    """Names of every activation layer of ``site`` for a model with ``n_blocks`` blocks."""
    n = n_blocks + 1 if site == "hidden" else n_blocks
    return [hook_name(i, site) for i in range(n)]


def parse_hook_name(name: str) -> tuple[int, str]:
    """Inverse of :func:`hook_name`: ``(layer, site)``.

    >>> parse_hook_name("blocks.2.hook_resid_post")
    (3, 'hidden')
    """
    m = _HOOK_RE.match(name)
    if m is None:
        raise ValueError(f"name must look like 'blocks.<l>.hook_<resid_post|mlp_out|attn_out>'; got {name!r}.")
    block, hook = int(m.group(1)), m.group(2)
    if hook == "resid_pre":
        if block != 0:
            raise ValueError(f"only blocks.0 has hook_resid_pre; got {name!r}.")
        return 0, "hidden"
    if hook == "resid_post":
        return block + 1, "hidden"
    return block, {"mlp_out": "mlp", "attn_out": "attention"}[hook]


def _supported(model_type: str) -> tuple[str, ...]:
    return SITES if model_type in ARCHITECTURES else ("hidden",)


def find_site_modules(model: torch.nn.Module, model_type: str, site: str) -> list[torch.nn.Module]:
    """The module of every block whose output is ``site``, found through the table.

    ``model`` is the base model (``PreTrainedModel.base_model``). Raises
    :class:`~llm_mri_graphdb.errors.UnsupportedSite` naming the sites the model
    can give when its type has no table entry or a module is missing.
    """
    if site not in SITES:
        raise ValueError(f"site must be one of {SITES}; got {site!r}.")
    arch = ARCHITECTURES.get(model_type)
    if arch is None:
        raise UnsupportedSite(
            f"site {site!r} is not mapped for model_type {model_type!r}; it can give {_supported(model_type)}."
        )
    pattern = getattr(arch, site)
    modules = dict(model.named_modules())
    found: list[torch.nn.Module] = []
    while (module := modules.get(pattern.format(i=len(found)))) is not None:
        found.append(module)
    n_blocks = getattr(model.config, "num_hidden_layers", None)
    if not found or (n_blocks is not None and len(found) != n_blocks):
        raise UnsupportedSite(
            f"model_type {model_type!r} should have {n_blocks} modules {pattern!r} for site {site!r}; "
            f"found {len(found)}. It can give ('hidden',)."
        )
    return found


_ST_MODES = {
    "pooling_mode_cls_token": "first",
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_max_tokens": "max",
    "pooling_mode_lasttoken": "last",
}
_ST_NAMES = {"cls": "first", "mean": "mean", "max": "max", "lasttoken": "last"}
_ST_POOLING = "sentence_transformers.models.Pooling"


def sentence_transformers_pooling(read: Callable[[str], str | None]) -> str | None:
    """The pooling a sentence-transformers model declares, as one of our rule names, or None.

    Parameters
    ----------
    read : callable
        ``read(relative_path)`` returns the text of a file of the model (e.g.
        ``"modules.json"``), or None when the model has no such file.

    Returns
    -------
    str or None
        ``first`` (``cls``), ``mean``, ``max`` or ``last`` (``lasttoken``) when
        ``modules.json`` names a Pooling module whose ``config.json`` sets exactly
        one of them; None when there is no such file, or when the configuration
        asks for what we do not compute (``mean_sqrt_len_tokens``,
        ``weightedmean``, or several modes concatenated).

    Examples
    --------
    >>> files = {"modules.json": '[{"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]',
    ...          "1_Pooling/config.json": '{"pooling_mode_cls_token": false, "pooling_mode_mean_tokens": true}'}
    >>> sentence_transformers_pooling(files.get)
    'mean'
    """
    try:
        modules = json.loads(read("modules.json") or "null")
        entry = next((m for m in modules or () if m.get("type") == _ST_POOLING), None)
        if entry is None:
            return None
        config = json.loads(read(f"{entry['path']}/config.json".lstrip("/")) or "null")
    except (ValueError, TypeError, AttributeError, KeyError, OSError):
        return None  # an unreadable file is no declaration
    if not isinstance(config, dict):
        return None
    if isinstance(config.get("pooling_mode"), str):  # the newer one-string form
        return _ST_NAMES.get(config["pooling_mode"])
    flags = {k: v for k, v in config.items() if k.startswith("pooling_mode_") and v is True}
    if len(flags) != 1:
        return None
    return _ST_MODES.get(next(iter(flags)))


def folder_pooling(folder) -> str | None:
    """:func:`sentence_transformers_pooling` of a model folder (None when it is not a folder)."""
    from pathlib import Path

    root = Path(folder)

    def read(name: str) -> str | None:
        path = root / name
        return path.read_text(encoding="utf-8") if path.is_file() else None

    return sentence_transformers_pooling(read) if root.is_dir() else None


def resolve_pooling(pooling: str, *, decoder: bool, configured: str | None = None) -> str:
    """The rule ``pooling`` stands for on this model (see Pooling in the module docstring).

    ``auto`` is ``configured`` (the model's sentence-transformers pooling) when
    given, else ``mean_skip_first`` for decoders and ``mean`` for encoders;
    any other name is itself.

    >>> resolve_pooling("auto", decoder=True), resolve_pooling("auto", decoder=False)
    ('mean_skip_first', 'mean')
    >>> resolve_pooling("auto", decoder=False, configured="first"), resolve_pooling("last", decoder=False)
    ('first', 'last')
    """
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}; got {pooling!r}.")
    if pooling != "auto":
        return pooling
    if configured is not None:
        return configured
    return "mean_skip_first" if decoder else "mean"


def pool(hidden: torch.Tensor, mask: torch.Tensor, pooling: str) -> torch.Tensor:
    """One vector per text from ``hidden`` of shape ``[batch, pos, d_model]``.

    ``mask`` is the ``[batch, pos]`` attention mask. Every rule reads real
    tokens only, found from the mask, so it is right for left and right
    padding; ``mean_skip_first`` drops each text's first *real* token (a
    one-token text keeps it). Returns ``[batch, d_model]`` in ``hidden``'s
    dtype and device.
    """
    import torch

    rows = torch.arange(hidden.shape[0], device=hidden.device)
    first = mask.int().argmax(dim=1)  # [batch] first real token
    if pooling in ("mean", "mean_skip_first"):
        weights = mask.to(hidden.dtype)  # [batch, pos]
        if pooling == "mean_skip_first":
            skipped = weights.clone()
            skipped[rows, first] = 0
            weights = torch.where(skipped.sum(dim=1, keepdim=True) > 0, skipped, weights)
        summed = torch.bmm(weights.unsqueeze(1), hidden).squeeze(1)  # [batch, d_model]
        return summed / weights.sum(dim=1, keepdim=True)
    if pooling == "max":
        return hidden.masked_fill(mask.unsqueeze(-1) == 0, float("-inf")).amax(dim=1)  # [batch, d_model]
    if pooling == "first":
        index = first
    elif pooling == "last":
        index = mask.shape[1] - 1 - mask.int().flip(1).argmax(dim=1)  # [batch]
    else:
        raise ValueError(f"pooling must be one of {POOLINGS[1:]}; got {pooling!r}.")
    return hidden[rows, index]  # [batch, d_model]
