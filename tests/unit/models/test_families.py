"""Family API on the tiny models: LoRA targets, suppression, batching, generate + re-score."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForImageTextToText, GenerationConfig, LogitsProcessor

from vldac.models.families import FAMILIES, family_of, get_family
from vldac.models.tiny import TINY_FAMILIES

FAMILY_NAMES = list(TINY_FAMILIES)
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
TEMPERATURE = 0.7


def test_lookup(tiny_loaded):
    assert set(FAMILIES) == set(TINY_FAMILIES)
    for name in FAMILY_NAMES:
        model = tiny_loaded(name)[0]
        assert family_of(model) is get_family(name) is family_of(model.config)
    assert get_family("idefics3") is family_of(type("C", (), {"model_type": "smolvlm"})())
    with pytest.raises(ValueError, match="supported families: qwen2_vl"):
        get_family("llava")
    with pytest.raises(ValueError, match="'llava'.*gemma3"):
        family_of(type("C", (), {"model_type": "llava"})())


def _lm(name: str) -> bool:
    return ".language_model." in name or ".text_model." in name


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_lora_regex_targets_language_model_only(family, tiny_path):
    from peft import LoraConfig, get_peft_model
    from peft.tuners.tuners_utils import BaseTunerLayer

    fam = get_family(family)
    model = AutoModelForImageTextToText.from_pretrained(tiny_path(family))
    # The vision side of these families has modules with the same short names, which a plain
    # name list would wrap too: the regex must exclude them.
    clashes = [
        n
        for n, m in model.named_modules()
        if isinstance(m, torch.nn.Linear) and n.rsplit(".", 1)[-1] in LORA_TARGETS and not _lm(n)
    ]
    assert bool(clashes) == (family != "qwen2_vl")
    peft_model = get_peft_model(
        model, LoraConfig(r=4, target_modules=fam.lora_target_regex(LORA_TARGETS))
    )
    wrapped = [n for n, m in peft_model.named_modules() if isinstance(m, BaseTunerLayer)]
    assert wrapped and all(_lm(n) for n in wrapped)  # zero adapters in vision tower / projector
    layers = model.config.get_text_config().num_hidden_layers
    for target in LORA_TARGETS:
        assert sum(n.endswith("." + target) for n in wrapped) == layers, target
    assert len(wrapped) == layers * len(LORA_TARGETS)
    with pytest.raises(ValueError):
        fam.lora_target_regex(["q_proj|.*"])


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_suppressed_token_ids(family, tiny_loaded):
    model, processor = tiny_loaded(family)
    ids = get_family(family).suppressed_token_ids(processor)
    tok = processor.tokenizer
    assert model.config.image_token_id in ids
    assert tok.eos_token_id not in ids and tok.pad_token_id not in ids
    expected = {
        "qwen2_vl": ["<|video_pad|>", "<|vision_start|>", "<|vision_end|>"],
        "qwen2_5_vl": ["<|video_pad|>", "<|vision_start|>", "<|vision_end|>"],
        "gemma3": ["<start_of_image>", "<end_of_image>"],
        "idefics3": ["<fake_token_around_image>", "<global-img>", "<row_1_col_1>"],
    }[family]
    assert set(tok.convert_tokens_to_ids(expected)) <= set(ids)


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_encode_and_collate_layout(family, tiny_loaded, mixed_samples):
    model, processor = tiny_loaded(family)
    fam = get_family(family)
    encs = [fam.encode(processor, imgs, text) for imgs, text in mixed_samples]
    assert "pixel_values" not in encs[0]
    for enc in encs:
        assert enc["input_ids"].shape[0] == 1 and enc["attention_mask"].all()
    tail = processor.tokenizer.decode(encs[0]["input_ids"][0])
    assert tail.endswith(("assistant\n", "model\n", "Assistant:"))
    pad = processor.tokenizer.pad_token_id
    batch = fam.collate(encs, pad)
    lengths = [e["input_ids"].shape[1] for e in encs]
    assert batch["input_ids"].shape == (3, max(lengths))
    for i, n in enumerate(lengths):  # left padding: each prompt ends at the last column
        assert batch["attention_mask"][i].tolist() == [0] * (max(lengths) - n) + [1] * n
        assert (batch["input_ids"][i, : max(lengths) - n] == pad).all()
        assert torch.equal(batch["input_ids"][i, -n:], encs[i]["input_ids"][0])
    if family.startswith("qwen"):
        assert batch["image_grid_thw"].shape == (3, 3)
        assert batch["pixel_values"].shape[0] == int(batch["image_grid_thw"].prod(-1).sum())
    elif family == "gemma3":
        assert batch["pixel_values"].shape == (3, 3, 32, 32)
        assert batch["token_type_ids"].shape == batch["input_ids"].shape
    else:
        crops = [e["pixel_values"].shape[1] for e in encs[1:]]
        assert batch["pixel_values"].shape == (3, max(crops), 3, 32, 32)
        assert not batch["pixel_values"][0].any() and not batch["pixel_attention_mask"][0].any()
        assert batch["pixel_attention_mask"][1, : crops[0]].all()


class _BoostEos(LogitsProcessor):
    """Makes EOS likely so that some responses end early (raw output_logits are unaffected)."""

    def __init__(self, eos: list[int], boost: float):
        self.eos, self.boost = eos, boost

    def __call__(self, input_ids, scores):
        scores[:, self.eos] += self.boost
        return scores


def _logprobs(logits, ids, suppressed):
    logits = logits.float() / TEMPERATURE
    logits[..., suppressed] = float("-inf")
    return torch.log_softmax(logits, -1).gather(-1, ids[..., None])[..., 0]


@pytest.mark.parametrize("boost", [0.0, 3.0])
@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_generate_logits_match_teacher_forced_forward(family, boost, tiny_loaded, mixed_samples):
    model, processor = tiny_loaded(family)
    fam = get_family(family)
    pad = processor.tokenizer.pad_token_id
    eos = list(model.generation_config.eos_token_id)
    suppressed = fam.suppressed_token_ids(processor)
    batch = fam.collate([fam.encode(processor, i, t) for i, t in mixed_samples], pad)
    config = GenerationConfig(
        do_sample=True, temperature=TEMPERATURE, top_k=0, top_p=1.0, max_new_tokens=8,
        output_logits=True, return_dict_in_generate=True, suppress_tokens=suppressed,
        eos_token_id=eos, pad_token_id=pad,
    )  # fmt: skip
    extra = {"logits_processor": [_BoostEos(eos, boost)]} if boost else {}
    torch.manual_seed(0)
    with torch.no_grad():
        out = model.generate(**batch, generation_config=config, **extra)
    prompt_len = batch["input_ids"].shape[1]
    response = out.sequences[:, prompt_len:]
    is_eos = torch.isin(response, torch.tensor(eos))
    mask = (is_eos.cumsum(1) - is_eos.long()) == 0  # up to and including the first EOS
    assert not torch.isin(response[mask], torch.tensor(suppressed)).any()
    if boost:
        assert not mask.all() and (response[~mask] == pad).all()
    expected = _logprobs(torch.stack(out.logits, 1), response, suppressed)

    inputs = fam.with_response(batch, response, mask)
    with torch.no_grad():
        logits = model(**inputs).logits[:, prompt_len - 1 : -1]
    got = _logprobs(logits, response, suppressed)
    assert torch.isfinite(got[mask]).all()
    assert (got - expected)[mask].abs().max() < 1e-5


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_sample_alone_equals_sample_in_batch(family, tiny_loaded, mixed_samples):
    model, processor = tiny_loaded(family)
    fam = get_family(family)
    pad = processor.tokenizer.pad_token_id
    encs = [fam.encode(processor, i, t) for i, t in mixed_samples]
    text_only = [encs[0], fam.encode(processor, [], "Go.")]  # no images at all in this batch
    for group in (encs, text_only):
        with torch.no_grad():
            batched = model(**fam.collate(group, pad)).logits
            for i, enc in enumerate(group):
                alone = model(**fam.collate([enc], pad)).logits[0]
                assert (batched[i, -alone.shape[0] :] - alone).abs().max() < 1e-5


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_with_response_layout(family, tiny_loaded, mixed_samples):
    _, processor = tiny_loaded(family)
    fam = get_family(family)
    batch = fam.collate([fam.encode(processor, i, t) for i, t in mixed_samples[:2]], 0)
    response = torch.tensor([[5, 6, 7], [8, 9, 0]])
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]], dtype=torch.bool)
    out = fam.with_response(batch, response, mask)
    prompt_len = batch["input_ids"].shape[1]
    assert torch.equal(out["input_ids"][:, prompt_len:], response)
    assert out["attention_mask"][:, prompt_len:].tolist() == [[1, 1, 1], [1, 1, 0]]
    for key in ("mm_token_type_ids", "token_type_ids"):
        if key in batch:
            assert not out[key][:, prompt_len:].any()
    if "position_ids" in batch:
        last = batch["position_ids"][:, -1:]
        assert torch.equal(out["position_ids"][:, prompt_len:], last + torch.tensor([1, 2, 3]))
    for key in set(batch) - {"input_ids", "attention_mask", "position_ids", *_types()}:
        assert out[key] is batch[key]  # image tensors pass through unchanged
    with pytest.raises(ValueError):
        fam.with_response(batch, response, mask[:, :2])


def _types():
    return ("mm_token_type_ids", "token_type_ids")
