"""Loading a VLM (hub id, local folder or ``tiny:<family>``), LoRA, and the value head."""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import torch

from vldac.config import ModelConfig
from vldac.errors import ModelLoadError
from vldac.models.dropout import use_fast_lora_dropout
from vldac.models.families import FAMILIES, family_of
from vldac.models.policy import VLMPolicy
from vldac.models.value_head import ValueHead


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError("model.device is cuda but no CUDA GPU is visible; use cpu or auto.")
    return torch.device(device)


def resolve_dtype(dtype: str, device: torch.device) -> torch.dtype:
    """auto = float32 on CPU (bf16 is slower there and breaks ratio == 1), bfloat16 on GPU."""
    if dtype == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    return {"float32": torch.float32, "bfloat16": torch.bfloat16}[dtype]


def tiny_cache_dir() -> Path:
    root = os.environ.get("VLDAC_CACHE") or Path.home() / ".cache" / "vldac"
    return Path(root) / "tiny"


def resolve_model_path(path: str) -> str:
    """``tiny:<family>[@<env>]`` -> a folder holding that tiny model, built offline on
    first use; ``@<env>`` adds the answer-format prior for that env (see models.prime)."""
    if not path.startswith("tiny:"):
        return path
    family, _, env = path.removeprefix("tiny:").partition("@")
    if family not in FAMILIES:
        raise ModelLoadError(
            f"model.path tiny:<family> needs one of {', '.join(FAMILIES)}; got {family!r}."
        )
    from vldac.models.tiny import make_tiny

    base = tiny_cache_dir() / family
    if not (base / "config.json").is_file():
        make_tiny(family, base)
    if not env:
        return str(base)
    from vldac.models.prime import prime_answer_format

    primed = tiny_cache_dir() / f"{family}@{env.replace('/', '_')}"
    if not (primed / "config.json").is_file():
        prime_answer_format(base, env, primed)
    return str(primed)


def load_policy(cfg: ModelConfig, seed: int = 0) -> VLMPolicy:
    """The VLM with LoRA on its language model and a fresh value head, ready to train."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoConfig, AutoModelForImageTextToText

    from vldac.models.tiny import load_processor

    path = resolve_model_path(cfg.path)
    device = resolve_device(cfg.device)
    dtype = resolve_dtype(cfg.dtype, device)
    try:
        hf_config = AutoConfig.from_pretrained(path)
    except (OSError, ValueError) as err:
        raise ModelLoadError(
            f"cannot load model config from {cfg.path!r} ({_first_line(err)}); give a local "
            "folder, a reachable hub id, or tiny:<family>."
        ) from None
    try:
        family = family_of(hf_config)
    except ValueError as err:  # unknown family: the message lists the supported ones
        raise ModelLoadError(str(err)) from None
    kwargs = {"dtype": dtype}
    if cfg.attn_implementation != "auto":
        kwargs["attn_implementation"] = cfg.attn_implementation
    try:
        model = AutoModelForImageTextToText.from_pretrained(path, **kwargs)
        processor = load_processor(path)
    except (OSError, ValueError) as err:
        raise ModelLoadError(f"cannot load model {cfg.path!r}: {_first_line(err)}") from None
    image_processor = getattr(processor, "image_processor", None)
    for key in ("min_pixels", "max_pixels"):
        if getattr(cfg, key) is not None and image_processor is not None:
            setattr(image_processor, key, getattr(cfg, key))
            if hasattr(image_processor, "size") and isinstance(image_processor.size, dict):
                image_processor.size[
                    {"min_pixels": "shortest_edge", "max_pixels": "longest_edge"}[key]
                ] = getattr(cfg, key)
    model.to(device)
    for p in model.parameters():
        p.requires_grad_(False)

    lora = LoraConfig(
        r=cfg.lora.r,
        lora_alpha=cfg.lora.alpha,
        lora_dropout=cfg.lora.dropout,
        bias="none",
        target_modules=family.lora_target_regex(cfg.lora.targets),
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = get_peft_model(model, lora)
        use_fast_lora_dropout(model)
        value_head = ValueHead(_hidden_size(hf_config), cfg.value_head).to(device)
    policy = VLMPolicy(model, processor, family, value_head, device, cfg.logprob_chunk)
    policy.eval()
    return policy


def adapter_counts(policy: VLMPolicy) -> Counter:
    """How many LoRA-wrapped modules sit in each part of the network.

    Groups: ``language_model`` (the text decoder), ``vision`` (the vision tower and its
    projector/merger) and ``other``. VL-DAC adapts the language model only.
    """
    counts: Counter = Counter()
    for name, module in policy.hf_model.named_modules():
        if not hasattr(module, "lora_A"):
            continue
        if re.search(
            r"(^|\.)(visual|vision_tower|vision_model|multi_modal_projector|connector)\.", name
        ):
            counts["vision"] += 1
        elif re.search(r"(^|\.)(language_model|text_model)\.", name):
            counts["language_model"] += 1
        else:
            counts["other"] += 1
    return counts


def _hidden_size(hf_config) -> int:
    text = hf_config.get_text_config() if hasattr(hf_config, "get_text_config") else hf_config
    return int(text.hidden_size)


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
