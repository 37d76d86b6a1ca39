"""make_tiny / load_processor: offline build, reload, determinism, and the Qwen2-VL sizes."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file
from transformers.utils import is_torchvision_available

from vldac.models.tiny import (
    TINY_FAMILIES,
    image_only_processor_class,
    load_processor,
    make_tiny,
    train_bpe,
)

FAMILY_NAMES = list(TINY_FAMILIES)


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_reload_and_run(family, tiny_loaded, make_image):
    model, processor = tiny_loaded(family)
    assert model.config.model_type == family
    text = model.config.get_text_config()
    assert (text.hidden_size, text.num_hidden_layers) == (64, 2)
    assert text.vocab_size == len(processor.tokenizer)
    assert processor.chat_template and processor.tokenizer.chat_template
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Hi"}]}]
    prompt = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    inputs = processor(
        text=[prompt],
        images=[[make_image(50, 70, 0)]],
        add_special_tokens=False,
        return_tensors="pt",
    )
    with torch.no_grad():
        logits = model(**inputs).logits
    assert logits.shape == (1, inputs["input_ids"].shape[1], text.vocab_size)
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_tokenizer_is_byte_level_and_lossless(family, tiny_loaded):
    tok = tiny_loaded(family)[1].tokenizer
    text = 'Naïve ☃ {"thoughts": "(3 + 5) * 3 = 24", "action": "stand"}\n\tß'
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert tok.unk_token_id not in ids
    assert tok.decode(ids) == text


def test_tokenizer_training_is_deterministic():
    a, b = train_bpe(["<a>", "<b>"]), train_bpe(["<a>", "<b>"])
    assert a.to_str() == b.to_str()
    assert a.token_to_id("<a>") == 0 and a.token_to_id("<b>") == 1
    assert 256 < a.get_vocab_size() < 520


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_make_tiny_is_deterministic(family, tiny_path, tmp_path):
    again = make_tiny(family, tmp_path / "again", seed=0)
    other = make_tiny(family, tmp_path / "other", seed=1)
    ref = load_file(tiny_path(family) / "model.safetensors")
    same = load_file(again / "model.safetensors")
    diff = load_file(other / "model.safetensors")
    assert ref.keys() == same.keys() == diff.keys()
    assert all(torch.equal(ref[k], same[k]) for k in ref)
    assert any(not torch.equal(ref[k], diff[k]) for k in ref)
    for name in ("tokenizer.json", "chat_template.jinja", "processor_config.json", "config.json"):
        assert (again / name).read_text() == (tiny_path(family) / name).read_text()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # scratch dirs removed


def test_qwen2_vl_sizes_and_image_tokens(tiny_loaded, make_image):
    model, processor = tiny_loaded("qwen2_vl")
    text, vision = model.config.text_config, model.config.vision_config
    assert (text.hidden_size, text.num_hidden_layers) == (64, 2)
    assert (text.num_attention_heads, text.num_key_value_heads) == (4, 2)
    assert 400 <= text.vocab_size <= 500
    assert (vision.depth, vision.embed_dim, vision.patch_size) == (2, 32, 14)
    assert (vision.temporal_patch_size, vision.spatial_merge_size) == (2, 2)
    ip = processor.image_processor
    assert (ip.size["shortest_edge"], ip.size["longest_edge"]) == (3136, 12845056)
    assert (ip.patch_size, ip.temporal_patch_size, ip.merge_size) == (14, 2, 2)
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "x"}]}]
    prompt = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    inputs = processor(text=[prompt], images=[[make_image(300, 300, 0)]], return_tensors="pt")
    assert inputs["image_grid_thw"].tolist() == [[1, 22, 22]]
    assert int((inputs["input_ids"] == model.config.image_token_id).sum()) == 121


@pytest.mark.skipif(is_torchvision_available(), reason="with torchvision AutoProcessor is used")
@pytest.mark.parametrize("family", ["qwen2_vl", "qwen2_5_vl"])
def test_image_only_processor(family, tiny_path, tmp_path):
    from transformers import Qwen2_5_VLProcessor, Qwen2VLProcessor

    base = {"qwen2_vl": Qwen2VLProcessor, "qwen2_5_vl": Qwen2_5_VLProcessor}[family]
    processor = load_processor(tiny_path(family))
    assert isinstance(processor, base) and type(processor).__name__ == base.__name__
    assert type(processor) is image_only_processor_class(base)
    assert processor.video_processor is None
    processor.save_pretrained(tmp_path)  # saves exactly what a full processor would save
    saved = json.loads((tmp_path / "processor_config.json").read_text())
    original = json.loads((tiny_path(family) / "processor_config.json").read_text())
    assert saved == original and saved["processor_class"] == base.__name__


def test_unknown_family_raises(tmp_path):
    with pytest.raises(ValueError, match="qwen2_vl"):
        make_tiny("llava", tmp_path)
