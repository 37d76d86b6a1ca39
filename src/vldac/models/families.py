"""What differs between VLM families, behind one small API.

The policy code batches prompts with `encode` + `collate`, calls `model.generate(**batch)`, and
re-scores the sampled responses with `model(**fam.with_response(batch, response, mask))`. All
family quirks live here:

- Prompts are LEFT padded so every prompt ends at the same column and generated tokens line up.
- Position ids: `collate` adds the ones `generate` itself would derive from the attention mask
  (0, 1, 2, ... over real tokens) and `with_response` continues them exactly as `generate` does
  (last + 1, + 2, ...), so a plain forward sees the same positions as generation. Qwen batches
  that hold images are the exception: the model computes its 3-D m-rope index itself from
  `mm_token_type_ids`, `image_grid_thw` and the attention mask (padding-aware), in `generate`
  and in a plain forward alike.
- Image tensors: Qwen concatenates patch rows of all images (with `image_grid_thw`), Gemma3 stacks
  one fixed-size tensor per image, Idefics3/SmolVLM keep a per-sample image axis padded with
  all-zero images (the model drops those) plus a `pixel_attention_mask`.
- Vision features: the vision tower is frozen (LoRA adapts the language model only), so for
  families whose forward takes precomputed encoder outputs (Qwen: `mm_encoder_outputs`) an
  encoding may carry `image_embeds` (the merged vision features, one row per image
  placeholder token) in place of `pixel_values`; `collate` concatenates them like patch rows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from PIL import Image

_SEQ_PAD = {"attention_mask": 0, "mm_token_type_ids": 0, "token_type_ids": 0}  # + input_ids
_TOKEN_TYPES = ("mm_token_type_ids", "token_type_ids")
IMAGE_EMBEDS = "image_embeds"  # precomputed vision features (families with `image_embeds`)


@dataclass(frozen=True)
class Family:
    name: str
    model_types: tuple[str, ...]
    language_modules: tuple[str, ...]  # attribute names of the language model inside the VLM
    image_tokens: tuple[str, ...]  # first = the image placeholder; all must never be generated
    image_keys: tuple[str, ...]  # image tensors the processor returns
    image_layout: str  # "patches" (Qwen) | "stacked" (Gemma3) | "padded" (Idefics3)
    model_positions_with_images: bool  # the model builds its own (m-rope) positions from images
    # the forward accepts precomputed vision features (`mm_encoder_outputs`), one row per image
    # placeholder token, so the frozen vision tower runs once per state instead of every pass
    image_embeds: bool = False

    # ------------------------------------------------------------------ LoRA / generation

    def lora_target_regex(self, targets: Sequence[str]) -> str:
        """A peft `target_modules` regex for the language model's layers named `targets`."""
        if not targets or any(not re.fullmatch(r"\w+", t) for t in targets):
            raise ValueError(
                f"LoRA targets must be plain module names like 'q_proj', got {targets!r}."
            )
        lm = "|".join(re.escape(m) for m in self.language_modules)
        names = "|".join(re.escape(t) for t in targets)
        return rf"(?:.*\.)?(?:{lm})\.(?:.*\.)?(?:{names})"

    def suppressed_token_ids(self, processor) -> list[int]:
        """Ids that generation must never emit (image placeholders and image delimiters)."""
        tokenizer = getattr(processor, "tokenizer", processor)
        vocab = tokenizer.get_vocab()
        placeholder = self.image_tokens[0]
        if placeholder not in vocab:
            raise ValueError(f"{self.name}: the tokenizer has no image token {placeholder!r}.")
        return sorted({vocab[t] for t in self.image_tokens if t in vocab})

    # ------------------------------------------------------------------ batching

    def encode(
        self, processor, images: list[Image.Image], text: str, fast: bool = True
    ) -> dict[str, torch.Tensor]:
        """One user turn (images first, then text) with the generation prompt; batch dim 1.

        ``fast``: Qwen prompts with PIL RGB images skip the processor's slow NumPy image path
        for a bit-identical one (:mod:`vldac.models.image_fast`); ``fast=False`` always runs
        the processor."""
        content = [{"type": "image"} for _ in images] + [{"type": "text", "text": text}]
        prompt = processor.apply_chat_template(
            [{"role": "user", "content": content}], add_generation_prompt=True, tokenize=False
        )
        if fast and images and self.image_layout == "patches":
            from vldac.models.image_fast import qwen_encode

            encoded = qwen_encode(processor, list(images), prompt)
            if encoded is not None:
                return encoded
        kwargs = {"images": [list(images)]} if images else {}
        out = processor(text=[prompt], add_special_tokens=False, return_tensors="pt", **kwargs)
        return {k: v for k, v in out.items() if isinstance(v, torch.Tensor)}

    def collate(
        self, encodings: list[dict[str, torch.Tensor]], pad_token_id: int
    ) -> dict[str, torch.Tensor]:
        """Left-pad sequences to one width and merge the image tensors of many `encode` outputs."""
        if not encodings:
            raise ValueError("collate needs at least one encoding.")
        seq_keys = [k for k in ("input_ids", *_SEQ_PAD) if k in encodings[0]]
        allowed = set(seq_keys) | set(self.image_keys) | ({IMAGE_EMBEDS} if self.image_embeds else set())
        for enc in encodings:
            unknown = set(enc) - allowed
            if unknown or set(seq_keys) - set(enc):
                raise ValueError(f"{self.name}: unexpected encoding keys {sorted(enc)}.")
        width = max(enc["input_ids"].shape[1] for enc in encodings)
        batch = {}
        for key in seq_keys:
            value = pad_token_id if key == "input_ids" else _SEQ_PAD[key]
            rows = [_left_pad(enc[key], width, value) for enc in encodings]
            batch[key] = torch.cat(rows, dim=0)
        with_images = [enc for enc in encodings if "pixel_values" in enc or IMAGE_EMBEDS in enc]
        if with_images:
            batch.update(self._merge_images(encodings, with_images))
        if not (with_images and self.model_positions_with_images):
            batch["position_ids"] = _positions(batch["attention_mask"])
        return batch

    def _merge_images(self, encodings, with_images) -> dict[str, torch.Tensor]:
        if all(IMAGE_EMBEDS in e for e in with_images):  # vision features instead of pixels
            keys = [IMAGE_EMBEDS, *(k for k in self.image_keys if k != "pixel_values")]
            return {k: torch.cat([e[k] for e in with_images], dim=0) for k in keys}
        if any("pixel_values" not in e for e in with_images):
            raise ValueError(f"{self.name}: cannot batch encodings with vision features and "
                             "encodings with pixels together.")
        if self.image_layout in ("patches", "stacked"):
            return {k: torch.cat([e[k] for e in with_images], dim=0) for k in self.image_keys}
        # "padded": [1, n_i, C, H, W] per sample -> [B, max n, C, max H, max W]; padding is zeros
        n = max(e["pixel_values"].shape[1] for e in with_images)
        c = with_images[0]["pixel_values"].shape[2]
        h = max(e["pixel_values"].shape[3] for e in with_images)
        w = max(e["pixel_values"].shape[4] for e in with_images)
        ref = with_images[0]
        pixels = ref["pixel_values"].new_zeros(len(encodings), n, c, h, w)
        mask = ref["pixel_attention_mask"].new_zeros(len(encodings), n, h, w)
        for i, enc in enumerate(encodings):
            if "pixel_values" in enc:
                _, k, _, hi, wi = enc["pixel_values"].shape
                pixels[i, :k, :, :hi, :wi] = enc["pixel_values"][0]
                mask[i, :k, :hi, :wi] = enc["pixel_attention_mask"][0]
        return {"pixel_values": pixels, "pixel_attention_mask": mask}

    def with_response(
        self, batch: dict, response_ids: torch.Tensor, response_mask: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Inputs for a teacher-forced forward over prompt + (right padded) response."""
        if response_ids.shape != response_mask.shape or response_ids.shape[0] != len(
            batch["input_ids"]
        ):
            raise ValueError("response_ids and response_mask must both be [batch, length].")
        out = dict(batch)
        ids, mask = batch["input_ids"], batch["attention_mask"]
        out["input_ids"] = torch.cat([ids, response_ids.to(ids.device, ids.dtype)], dim=1)
        out["attention_mask"] = torch.cat([mask, response_mask.to(mask.device, mask.dtype)], dim=1)
        for key in _TOKEN_TYPES:
            if key in batch:
                out[key] = torch.cat([batch[key], torch.zeros_like(response_ids)], dim=1)
        if "position_ids" in batch:
            pos = batch["position_ids"]
            step = torch.arange(1, response_ids.shape[1] + 1, device=pos.device, dtype=pos.dtype)
            out["position_ids"] = torch.cat([pos, pos[..., -1:] + step], dim=-1)
        return out


def _left_pad(x: torch.Tensor, width: int, value: int) -> torch.Tensor:
    return torch.nn.functional.pad(x, (width - x.shape[1], 0), value=value)


def _positions(attention_mask: torch.Tensor) -> torch.Tensor:
    """What `generate` uses: 0, 1, 2, ... over real tokens, 0 on the left padding."""
    pos = attention_mask.long().cumsum(-1) - 1
    return pos.masked_fill(attention_mask == 0, 0)


_QWEN_IMAGE_TOKENS = (
    "<|image_pad|>",
    "<|video_pad|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
)
_IDEFICS_IMAGE_TOKENS = (
    "<image>",
    "<fake_token_around_image>",
    "<global-img>",
    *(f"<row_{r}_col_{c}>" for r in range(1, 7) for c in range(1, 7)),
)

FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            "qwen2_vl", ("qwen2_vl",), ("language_model",), _QWEN_IMAGE_TOKENS,
            ("pixel_values", "image_grid_thw"), "patches", True, image_embeds=True,
        ),
        Family(
            "qwen2_5_vl", ("qwen2_5_vl",), ("language_model",), _QWEN_IMAGE_TOKENS,
            ("pixel_values", "image_grid_thw"), "patches", True, image_embeds=True,
        ),
        Family(
            "gemma3", ("gemma3",), ("language_model",),
            ("<image_soft_token>", "<start_of_image>", "<end_of_image>"),
            ("pixel_values",), "stacked", False,
        ),
        Family(
            "idefics3", ("idefics3", "smolvlm"), ("text_model",), _IDEFICS_IMAGE_TOKENS,
            ("pixel_values", "pixel_attention_mask"), "padded", False,
        ),
    )
}  # fmt: skip


def _supported() -> str:
    return ", ".join(f"{f.name} (model_type {'/'.join(f.model_types)})" for f in FAMILIES.values())


def get_family(name: str) -> Family:
    if name not in FAMILIES:
        raise ValueError(f"Unknown model family {name!r}; supported families: {_supported()}.")
    return FAMILIES[name]


def family_of(model_or_config) -> Family:
    """The family of a model (plain or peft-wrapped) or of its config, from `config.model_type`."""
    config = getattr(model_or_config, "config", model_or_config)
    model_type = getattr(config, "model_type", None)
    for family in FAMILIES.values():
        if model_type in family.model_types:
            return family
    raise ValueError(f"Unsupported model_type {model_type!r}; supported families: {_supported()}.")
