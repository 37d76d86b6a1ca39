"""Tiny models shared by the model tests: each family is built once per session, lazily."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from PIL import Image

from vldac.models.tiny import TINY_FAMILIES, load_processor, make_tiny

FAMILY_NAMES = list(TINY_FAMILIES)


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models gain nothing from intra-op threads, and threads spinning against another busy
    process on a 2-core machine made these tests 15x slower. Restored after each test."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_path(tmp_path_factory) -> Callable[[str], Path]:
    built: dict[str, Path] = {}

    def get(family: str) -> Path:
        if family not in built:
            built[family] = make_tiny(family, tmp_path_factory.mktemp(f"tiny_{family}"))
        return built[family]

    return get


@pytest.fixture(scope="session")
def tiny_loaded(tiny_path) -> Callable[[str], tuple]:
    """family -> (model in eval mode, fp32, processor), loaded back from the saved folder."""
    from transformers import AutoModelForImageTextToText

    loaded: dict[str, tuple] = {}

    def get(family: str) -> tuple:
        if family not in loaded:
            path = tiny_path(family)
            model = AutoModelForImageTextToText.from_pretrained(path, dtype=torch.float32)
            loaded[family] = (model.eval(), load_processor(path))
        return loaded[family]

    return get


def _image(width: int, height: int, seed: int) -> Image.Image:
    g = torch.Generator().manual_seed(seed)
    pixels = torch.randint(0, 256, (height, width, 3), generator=g, dtype=torch.uint8)
    return Image.fromarray(pixels.numpy(), "RGB")


@pytest.fixture(scope="session")
def make_image() -> Callable[[int, int, int], Image.Image]:
    """(width, height, seed) -> a deterministic noisy RGB image."""
    return _image


@pytest.fixture(scope="session")
def mixed_samples() -> list[tuple[list[Image.Image], str]]:
    """Three prompts with 0, 1 and 2 images of different sizes."""
    return [
        ([], "You see a red box two steps ahead. What do you do?"),
        ([_image(300, 300, 1)], "The cards are 3, 7, K and 10. Make 24."),
        (
            [_image(64, 40, 2), _image(90, 120, 3)],
            'Answer in JSON: {"thoughts": "...", "action": "..."}',
        ),
    ]
