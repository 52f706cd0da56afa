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
"""

from __future__ import annotations

import re
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
    "pool",
]

_HOOK = {"hidden": "resid_post", "mlp": "mlp_out", "attention": "attn_out"}
_HOOK_RE = re.compile(r"^blocks\.(\d+)\.hook_(resid_pre|resid_post|mlp_out|attn_out)$")


@dataclass(frozen=True)
class Architecture:
    """Module paths of one ``model_type``, relative to the base model.

    ``{i}`` stands for the block index; ``decoder`` says whether the model is
    causal (its pooling ``auto`` is ``last``).
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


def resolve_pooling(pooling: str, *, decoder: bool, has_cls: bool) -> str:
    """Turn ``auto`` into ``last`` for decoders, ``first`` for encoders with a CLS token, else ``mean``."""
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}; got {pooling!r}.")
    if pooling != "auto":
        return pooling
    if decoder:
        return "last"
    return "first" if has_cls else "mean"


def pool(hidden: torch.Tensor, mask: torch.Tensor, pooling: str) -> torch.Tensor:
    """One vector per text from ``hidden`` of shape ``[batch, pos, d_model]``.

    ``mask`` is the ``[batch, pos]`` attention mask. ``first`` and ``last``
    take the first and last *real* token, found from the mask, so they are
    right for left and right padding; ``mean`` averages real tokens only.
    Returns ``[batch, d_model]`` in ``hidden``'s dtype and device.
    """
    import torch

    if pooling == "mean":
        weights = mask.to(hidden.dtype).unsqueeze(1)  # [batch, 1, pos]
        summed = torch.bmm(weights, hidden).squeeze(1)  # [batch, d_model]
        return summed / mask.sum(dim=1, keepdim=True).to(hidden.dtype)
    if pooling == "first":
        index = mask.int().argmax(dim=1)  # [batch]
    elif pooling == "last":
        index = mask.shape[1] - 1 - mask.int().flip(1).argmax(dim=1)  # [batch]
    else:
        raise ValueError(f"pooling must be one of ('first', 'mean', 'last'); got {pooling!r}.")
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), index]  # [batch, d_model]
