"""The fast Qwen image path equals the HF processor bit for bit, and falls back where it must."""

import numpy as np
import pytest
import torch
from PIL import Image

from vldac.models.families import get_family
from vldac.models.image_fast import qwen_encode

QWEN = ["qwen2_vl", "qwen2_5_vl"]


def _hf(fam, processor, images, text):
    return fam.encode(processor, images, text, fast=False)


def _assert_same(a, b):
    assert set(a) == set(b)
    for key in a:
        assert a[key].dtype == b[key].dtype and a[key].shape == b[key].shape, key
        assert torch.equal(a[key], b[key]), key


@pytest.mark.parametrize("family", QWEN)
@pytest.mark.parametrize("sizes", [[(300, 300)], [(64, 40), (90, 120)], [(28, 28)],
                                   [(500, 37)], [(1000, 700)], [(13, 17), (300, 300)]])
def test_fast_encode_is_bit_identical(family, sizes, tiny_loaded, make_image):
    _, processor = tiny_loaded(family)
    fam = get_family(family)
    images = [make_image(w, h, seed) for seed, (w, h) in enumerate(sizes)]
    fast = fam.encode(processor, images, "Current: 3, Target: 7. Move + or -.")
    prompt = "<|vision_start|><|image_pad|><|vision_end|>" * len(images) + "x"
    assert qwen_encode(processor, images, prompt) is not None  # the fast path is taken
    _assert_same(fast, _hf(fam, processor, images, "Current: 3, Target: 7. Move + or -."))


@pytest.mark.parametrize("family", QWEN)
def test_fast_encode_on_smooth_and_extreme_images(family, tiny_loaded):
    _, processor = tiny_loaded(family)
    fam = get_family(family)
    ramp = np.tile(np.linspace(0, 255, 300, dtype=np.uint8), (300, 1))
    images = [Image.fromarray(np.stack([ramp, ramp.T, 255 - ramp], -1), "RGB"),
              Image.new("RGB", (300, 300), (0, 0, 0)),
              Image.new("RGB", (300, 300), (255, 255, 255))]
    for image in images:
        prompt = "<|vision_start|><|image_pad|><|vision_end|>x"
        assert qwen_encode(processor, [image], prompt) is not None
        _assert_same(fam.encode(processor, [image], "x"), _hf(fam, processor, [image], "x"))


@pytest.mark.parametrize("family", QWEN)
def test_other_modes_fall_back_to_the_processor(family, tiny_loaded, make_image):
    _, processor = tiny_loaded(family)
    fam = get_family(family)
    rgba = make_image(50, 60, 1).convert("RGBA")
    grey = make_image(50, 60, 2).convert("L")
    prompt = "<|vision_start|><|image_pad|><|vision_end|>hi"
    for image in (rgba, grey):
        assert qwen_encode(processor, [image], prompt) is None
        _assert_same(fam.encode(processor, [image], "hi"), _hf(fam, processor, [image], "hi"))
    assert qwen_encode(processor, [], "hi") is None
    image = make_image(50, 60, 3)
    processor.image_processor.max_pixels = 4 * 28 * 28  # an override: the processor decides
    try:
        assert qwen_encode(processor, [image], prompt) is None
    finally:
        del processor.image_processor.max_pixels
