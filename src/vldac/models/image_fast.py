"""A fast, bit-identical replacement for the Qwen2-VL processor call on PIL RGB images.

Without torchvision, transformers uses the PIL/NumPy image processor: per 300x300 frame it
spends most of its ~8 ms in float64 rescaling, normalising and copying whole images. The
same output follows from cheaper steps, because after the (PIL, bicubic) resize every value
is one of 256 per channel:

1. resize with PIL exactly as the processor does (same size rule, same resample filter);
2. map bytes to floats through a 3 x 256 table built with the processor's own arithmetic
   (float64 rescale, cast to float32, float32 ``(x - mean) / std``), so every value is
   bit-identical to the processor's;
3. patchify (the processor's reshape/transpose/temporal repeat), one copy.

The text side (placeholder expansion, tokenizer call, ``mm_token_type_ids``) reuses the
processor's tokenizer and helpers. Anything this path does not cover (non-RGB or transparent
images, other processor classes or settings) returns None and the caller uses the processor.
``tests/unit/models/test_image_fast.py`` checks equality with the processor.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

_QWEN_PROCESSORS = ("Qwen2VLImageProcessor", "Qwen2VLImageProcessorPil")
_BICUBIC = 3  # PIL.Image.BICUBIC == PILImageResampling.BICUBIC
_tables: dict[tuple, np.ndarray] = {}


def _lookup_table(scale: float, mean, std) -> np.ndarray:
    """[3, 256] float32: the processor's rescale + normalise of every byte, per channel."""
    key = (float(scale), tuple(float(m) for m in mean), tuple(float(s) for s in std))
    if key not in _tables:
        values = (np.arange(256, dtype=np.uint8).astype(np.float64) * scale).astype(np.float32)
        mean32 = np.array(mean, dtype=np.float32)[:, None]
        std32 = np.array(std, dtype=np.float32)[:, None]
        _tables[key] = ((values[None, :] - mean32) / std32).astype(np.float32)
    return _tables[key]


def _pixel_limits(ip) -> tuple[int, int] | None:
    """(min_pixels, max_pixels) the processor resizes with, or None if unclear."""
    if getattr(ip, "min_pixels", None) is not None or getattr(ip, "max_pixels", None) is not None:
        return None  # per-instance overrides: leave their precedence to the processor
    size = ip.size
    get = size.get if isinstance(size, dict) else lambda key: getattr(size, key, None)
    low, high = get("shortest_edge"), get("longest_edge")
    return (int(low), int(high)) if low and high else None


def _supported(ip) -> bool:
    return (
        type(ip).__name__ in _QWEN_PROCESSORS
        and getattr(ip, "backend", None) == "pil"
        and ip.do_resize and ip.do_rescale and ip.do_normalize and ip.do_convert_rgb
        and ip.resample is not None and int(ip.resample) == _BICUBIC
        and _pixel_limits(ip) is not None
        and len(ip.image_mean) == 3 and len(ip.image_std) == 3
    )  # fmt: skip


def qwen_pixels(ip, images: list[Image.Image]) -> tuple[np.ndarray, np.ndarray] | None:
    """(pixel_values [patches, C*T*P*P] float32, image_grid_thw [n, 3] int64), or None."""
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import smart_resize

    if not _supported(ip) or not images:
        return None
    for image in images:
        if not isinstance(image, Image.Image) or image.mode != "RGB":
            return None
        if image.info.get("transparency") is not None:
            return None
    p, m, t = ip.patch_size, ip.merge_size, ip.temporal_patch_size
    low, high = _pixel_limits(ip)
    table = _lookup_table(ip.rescale_factor, ip.image_mean, ip.image_std)
    channels = np.arange(3)
    patches, grids = [], []
    for image in images:
        w, h = image.size
        rh, rw = smart_resize(h, w, factor=p * m, min_pixels=low, max_pixels=high)
        pixels = np.asarray(image.resize((rw, rh), resample=_BICUBIC))  # [rh, rw, 3] uint8
        values = table[channels, pixels]  # [rh, rw, 3] float32, the processor's values
        gh, gw = rh // p, rw // p
        x = values.reshape(gh // m, m, p, gw // m, m, p, 3)
        x = x.transpose(0, 3, 1, 4, 6, 2, 5)  # (gh/m, gw/m, m, m, C, p, p) as the processor
        x = np.broadcast_to(x[:, :, :, :, :, None], (*x.shape[:5], t, p, p))
        patches.append(x.reshape(gh * gw, 3 * t * p * p))
        grids.append([1, gh, gw])
    return np.concatenate(patches, axis=0), np.array(grids, dtype=np.int64)


def qwen_encode(processor, images: list[Image.Image], prompt: str) -> dict | None:
    """What ``processor(text=[prompt], images=[images], add_special_tokens=False,
    return_tensors="pt")`` returns (tensors only), or None where this path does not apply."""
    if not images or type(processor).__name__ not in ("Qwen2VLProcessor", "Qwen2_5_VLProcessor"):
        return None
    image_token = getattr(processor, "image_token", None)
    if image_token is None or prompt.count(image_token) != len(images):
        return None
    pixels = qwen_pixels(processor.image_processor, images)
    if pixels is None:
        return None
    pixel_values, grid = pixels
    merge = processor.image_processor.merge_size ** 2
    parts = prompt.split(image_token)
    text = parts[0]
    for n, part in zip((int(g.prod()) // merge for g in grid), parts[1:], strict=True):
        text += image_token * n + part
    tokens = processor.tokenizer([text], add_special_tokens=False)
    ids = tokens["input_ids"]
    out = {
        "input_ids": torch.tensor(ids, dtype=torch.long),
        "attention_mask": torch.tensor(tokens["attention_mask"], dtype=torch.long),
        "mm_token_type_ids": torch.tensor(processor.create_mm_token_type_ids(ids)),
        "pixel_values": torch.from_numpy(pixel_values),
        "image_grid_thw": torch.from_numpy(grid),
    }
    if (out["input_ids"] == processor.image_token_id).sum() * merge != len(pixel_values):
        return None  # the tokenizer split a placeholder: let the processor handle (and raise)
    return out
