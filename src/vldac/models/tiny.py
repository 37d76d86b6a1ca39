"""Tiny random image-text models built fully offline, plus an offline processor loader.

`make_tiny(family, out_dir)` writes a folder that loads with
`AutoModelForImageTextToText.from_pretrained(out_dir)` and `load_processor(out_dir)`. The weights
are random (seeded), the tokenizer is a byte-level BPE trained here on a small generated corpus,
so nothing ever maps to `<unk>`. These models exist for tests and demos: they exercise the real
architectures, processors and chat templates at a size a CPU runs in milliseconds.
"""

from __future__ import annotations

import inspect
import json
import os
import random
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (
    AutoImageProcessor,
    AutoModelForImageTextToText,
    AutoProcessor,
    AutoTokenizer,
    GenerationConfig,
    PreTrainedTokenizerFast,
)
from transformers.models.auto.processing_auto import PROCESSOR_MAPPING_NAMES
from transformers.utils import is_torchvision_available

TINY_FAMILIES = ("qwen2_vl", "qwen2_5_vl", "gemma3", "idefics3")
BPE_VOCAB = 440  # byte alphabet (256) + learned merges; special tokens come on top

# ----------------------------------------------------------------------------- corpus / tokenizer


def tiny_corpus() -> list[str]:
    """A few hundred deterministic sentences in the domain of the project's tasks."""
    rng = random.Random(1234)
    cards = ["A", "2", "3", "4", "5", "6", "7", "8", "9", "10", "J", "Q", "K"]
    colors = ["red", "green", "blue", "yellow", "purple", "grey"]
    things = ["box", "ball", "key", "door", "apple", "mug", "card", "table", "fridge", "drawer"]
    moves = ["turn left", "turn right", "move forward", "move back", "pick up", "drop", "open"]
    actions = ["hit", "stand", "+", "-", "left", "right", "forward", "pickup", "toggle", "done"]
    ops = ["+", "-", "*", "/"]
    out: list[str] = []
    for _ in range(80):
        a, b, c = rng.randint(1, 13), rng.randint(1, 13), rng.randint(1, 9)
        op1, op2 = rng.choice(ops), rng.choice(ops)
        out.append(f"({a} {op1} {b}) {op2} {c} = ?")
        out.append(f"{a} + {b} = {a + b}, {a} * {c} = {a * c}, {a + b} - {c} = {a + b - c}.")
        hand = ", ".join(rng.sample(cards, 4))
        out.append(f"The cards are {hand}. Use each card once with + - * / and ( ) to make 24.")
    for _ in range(60):
        total, dealer = rng.randint(4, 21), rng.choice(cards)
        out.append(f"Your hand totals {total} and the dealer shows {dealer}. Do you hit or stand?")
        cur, tgt = rng.randint(0, 9), rng.randint(0, 9)
        out.append(f"Current: {cur}, Target: {tgt}. Move the number toward the target with + or -.")
    for _ in range(80):
        col, thing, move = rng.choice(colors), rng.choice(things), rng.choice(moves)
        steps = rng.randint(1, 5)
        out.append(f"You see a {col} {thing} {steps} steps ahead. You should {move} to reach it.")
        out.append(f"Go to the {thing} {rng.randint(1, 3)}, then {move} the {col} {thing}.")
    for _ in range(80):
        thing, act = rng.choice(things), rng.choice(actions)
        thought = rng.choice(
            [
                f"The {thing} is on my left, so I turn left.",
                f"My total is {rng.randint(4, 21)}, which is low, so I should {act}.",
                f"{rng.randint(1, 9)} * {rng.randint(1, 9)} is close to 24, keep going.",
                f"I need the {rng.choice(colors)} {thing} first.",
            ]
        )
        out.append(json.dumps({"thoughts": thought, "action": act}))
    out += [f"{i} {i * 7 % 100} {i * 13 % 1000}" for i in range(40)]
    out += ["Answer in JSON with the keys thoughts and action.", "What is in the image?"]
    out += ["system", "You are a helpful assistant.", "user", "assistant", "model"] * 5
    out += ["User: What do you see?", "Assistant: I see a card."] * 5
    return out


def train_bpe(special_tokens: list[str], vocab_size: int = BPE_VOCAB) -> Tokenizer:
    """Byte-level BPE on `tiny_corpus()`. Special tokens get the first ids, in the given order."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size + len(special_tokens),
        special_tokens=special_tokens,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(tiny_corpus(), trainer=trainer)
    return tok


# ----------------------------------------------------------------------------- chat templates

_CONTENT = (
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for c in message['content'] %}"
    "{% if c['type'] == 'image' %}IMAGE{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}"
    "{% endfor %}{% endif %}"
)


def _chat_template(head: str, turn: str, image: str, end: str, gen: str, role: str = "") -> str:
    """One generic template: `turn` holds ROLE where `role` (a Jinja expression) goes."""
    role = "{{ " + (role or "message['role']") + " }}"
    return (
        head
        + "{% for message in messages %}"
        + turn.replace("ROLE", role)
        + _CONTENT.replace("IMAGE", image)
        + end
        + "{% endfor %}"
        + "{% if add_generation_prompt %}"
        + gen
        + "{% endif %}"
    )


# ----------------------------------------------------------------------------- per-family builders


def _wrap_tokenizer(tok: Tokenizer, template: str, **special) -> PreTrainedTokenizerFast:
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, **special)
    fast.chat_template = template
    return fast


def _qwen(family: str) -> tuple:
    from transformers import Qwen2_5_VLConfig, Qwen2VLConfig, Qwen2VLImageProcessorPil
    from transformers import Qwen2_5_VLProcessor as Q25P
    from transformers import Qwen2VLProcessor as Q2P

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>"]
    specials += ["<|vision_pad|>", "<|image_pad|>", "<|video_pad|>"]
    ids = {s: i for i, s in enumerate(specials)}
    template = _chat_template(
        "{% if messages[0]['role'] != 'system' %}"
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}",
        "<|im_start|>ROLE\n",
        "<|vision_start|><|image_pad|><|vision_end|>",
        "<|im_end|>\n",
        "<|im_start|>assistant\n",
    )
    tokenizer = _wrap_tokenizer(
        train_bpe(specials), template, eos_token="<|im_end|>", pad_token="<|endoftext|>"
    )
    image_processor = Qwen2VLImageProcessorPil(
        min_pixels=3136, max_pixels=12845056, patch_size=14, temporal_patch_size=2, merge_size=2
    )
    text = dict(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
        rope_parameters={"rope_type": "default", "rope_theta": 1e6, "mrope_section": [2, 3, 3]},
        bos_token_id=None, eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"],
    )  # fmt: skip
    common = dict(
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
    )  # fmt: skip
    vision = dict(depth=2, num_heads=2, patch_size=14, temporal_patch_size=2, spatial_merge_size=2)
    if family == "qwen2_vl":
        vision.update(embed_dim=32, hidden_size=64, mlp_ratio=2)
        config = Qwen2VLConfig(text_config=text, vision_config=vision, **common)
        processor = image_only_processor_class(Q2P)(image_processor, tokenizer, template)
    else:
        vision.update(
            hidden_size=32, intermediate_size=64, out_hidden_size=64, window_size=112,
            fullatt_block_indexes=[1],
        )  # fmt: skip
        config = Qwen2_5_VLConfig(text_config=text, vision_config=vision, **common)
        processor = image_only_processor_class(Q25P)(image_processor, tokenizer, template)
    eos = [ids["<|im_end|>"], ids["<|endoftext|>"]]
    return config, processor, eos, ids["<|endoftext|>"], None


def _gemma3(family: str) -> tuple:
    from transformers import Gemma3Config, Gemma3ImageProcessorPil, Gemma3Processor

    specials = ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>"]
    specials += ["<start_of_image>", "<end_of_image>", "<image_soft_token>"]
    ids = {s: i for i, s in enumerate(specials)}
    template = _chat_template(
        "{{ bos_token }}",
        "<start_of_turn>ROLE\n",
        "<start_of_image>",
        "<end_of_turn>\n",
        "<start_of_turn>model\n",
        role="'model' if message['role'] == 'assistant' else message['role']",
    )
    tokenizer = _wrap_tokenizer(
        train_bpe(specials), template, pad_token="<pad>", eos_token="<eos>", bos_token="<bos>",
        unk_token="<unk>",
        extra_special_tokens={
            "boi_token": "<start_of_image>", "eoi_token": "<end_of_image>",
            "image_token": "<image_soft_token>",
        },
    )  # fmt: skip
    image_processor = Gemma3ImageProcessorPil(size={"height": 32, "width": 32})
    processor = Gemma3Processor(
        image_processor=image_processor, tokenizer=tokenizer, chat_template=template,
        image_seq_length=4,
    )  # fmt: skip
    text = dict(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16, query_pre_attn_scalar=16,
        sliding_window=512, layer_types=["sliding_attention", "full_attention"],
        max_position_embeddings=4096, pad_token_id=0, eos_token_id=1, bos_token_id=2,
    )  # fmt: skip
    vision = dict(
        model_type="siglip_vision_model", hidden_size=32, intermediate_size=64,
        num_hidden_layers=2, num_attention_heads=2, image_size=32, patch_size=8,
        vision_use_head=False,
    )  # fmt: skip
    config = Gemma3Config(
        text_config=text, vision_config=vision, mm_tokens_per_image=4,
        boi_token_index=ids["<start_of_image>"], eoi_token_index=ids["<end_of_image>"],
        image_token_index=ids["<image_soft_token>"],
    )  # fmt: skip
    return config, processor, [ids["<eos>"], ids["<end_of_turn>"]], 0, ids["<bos>"]


def _idefics3(family: str) -> tuple:
    from transformers import Idefics3Config, Idefics3ImageProcessorPil, Idefics3Processor

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<end_of_utterance>"]
    specials += ["<fake_token_around_image>", "<image>", "<global-img>"]
    specials += [f"<row_{r}_col_{c}>" for r in range(1, 7) for c in range(1, 7)]
    ids = {s: i for i, s in enumerate(specials)}
    template = _chat_template(
        "<|im_start|>",
        "ROLE:",
        "<image>",
        "<end_of_utterance>\n",
        "Assistant:",
        role="message['role'] | capitalize",
    )
    tokenizer = _wrap_tokenizer(
        train_bpe(specials), template, bos_token="<|im_start|>", eos_token="<end_of_utterance>",
        pad_token="<|endoftext|>",
        extra_special_tokens=["<fake_token_around_image>", "<image>", "<end_of_utterance>"],
    )  # fmt: skip
    image_processor = Idefics3ImageProcessorPil(
        size={"longest_edge": 64}, max_image_size={"longest_edge": 32}, do_image_splitting=True
    )
    processor = Idefics3Processor(image_processor, tokenizer, 4, chat_template=template)
    text = dict(
        model_type="llama", vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=4096, pad_token_id=0, bos_token_id=1, eos_token_id=3,
    )  # fmt: skip
    vision = dict(
        hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
        image_size=32, patch_size=8,
    )  # fmt: skip
    config = Idefics3Config(
        text_config=text, vision_config=vision, scale_factor=2, image_token_id=ids["<image>"]
    )
    eos = [ids["<end_of_utterance>"], ids["<|endoftext|>"]]
    return config, processor, eos, ids["<|endoftext|>"], ids["<|im_start|>"]


_BUILDERS: dict[str, Callable[[str], tuple]] = {
    "qwen2_vl": _qwen,
    "qwen2_5_vl": _qwen,
    "gemma3": _gemma3,
    "idefics3": _idefics3,
}


def make_tiny(family: str, out_dir: str | Path, *, seed: int = 0) -> Path:
    """Build a tiny random `family` model with its processor and save both into `out_dir`.

    Files are written to a scratch folder next to `out_dir` and moved in one by one with
    `config.json` last, so a folder holding `config.json` is complete.
    """
    if family not in _BUILDERS:
        raise ValueError(f"Unknown tiny family {family!r}; supported: {', '.join(TINY_FAMILIES)}.")
    config, processor, eos_ids, pad_id, bos_id = _BUILDERS[family](family)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = AutoModelForImageTextToText.from_config(config, dtype=torch.float32)
    model.generation_config = GenerationConfig(
        bos_token_id=bos_id, eos_token_id=eos_ids, pad_token_id=pad_id
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.") as tmp:
        model.save_pretrained(tmp)
        processor.save_pretrained(tmp)
        files = sorted(Path(tmp).iterdir(), key=lambda f: f.name == "config.json")
        for file in files:
            os.replace(file, out / file.name)
    return out


# ----------------------------------------------------------------------------- loading


def _processor_class(path: Path) -> type:
    """The processor class a saved folder asks for (its processor_class, else by model_type)."""
    import transformers

    for name in ("processor_config.json", "preprocessor_config.json", "tokenizer_config.json"):
        file = path / name
        if file.is_file() and (cls_name := json.loads(file.read_text()).get("processor_class")):
            return getattr(transformers, cls_name)
    model_type = json.loads((path / "config.json").read_text())["model_type"]
    return getattr(transformers, PROCESSOR_MAPPING_NAMES[model_type])


_IMAGE_ONLY: dict[type, type] = {}


def image_only_processor_class(cls: type) -> type:
    """`cls` without its video processor: same name, behaviour on images/text, and saved files.

    Needed because `video_processor=None` fails the base class's type check when torchvision is
    missing. Video inputs raise on the resulting processor.
    """
    if cls not in _IMAGE_ONLY:
        base_init = cls.__init__

        def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
            base_init(
                self,
                image_processor=image_processor,
                tokenizer=tokenizer,
                video_processor=None,
                chat_template=chat_template,
                **kwargs,
            )
            self.video_processor = None

        attrs = {
            "__init__": __init__,
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
        }
        _IMAGE_ONLY[cls] = type(cls.__name__, (cls,), attrs)
    return _IMAGE_ONLY[cls]


def load_processor(path: str | Path):
    """Load a processor from a local folder, offline (tiny folders and real checkpoints alike).

    Processors that also take a video processor (Qwen2-VL, Qwen2.5-VL, SmolVLM) cannot build it
    without torchvision; then the same class is built with images only.
    """
    path = Path(path)
    cls = _processor_class(path)
    if "video_processor" not in cls.get_attributes() or is_torchvision_available():
        return AutoProcessor.from_pretrained(path, local_files_only=True)
    processor_dict, _ = cls.get_processor_dict(path, local_files_only=True)
    named = inspect.signature(cls.__init__).parameters
    skip = {"self", "image_processor", "tokenizer", "video_processor"}
    extra = {k: v for k, v in processor_dict.items() if k in named and k not in skip}
    return image_only_processor_class(cls)(
        image_processor=AutoImageProcessor.from_pretrained(path, local_files_only=True),
        tokenizer=AutoTokenizer.from_pretrained(path, local_files_only=True),
        **extra,
    )
