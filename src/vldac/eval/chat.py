"""An image-text model answering chat conversations: the benchmarks' view of a model.

:class:`ChatModel` wraps any supported VLM (a hub id, a local folder such as a merged
checkpoint from :func:`vldac.models.merge.merge_checkpoint`, or ``tiny:<family>``) behind one
call, :meth:`ChatModel.generate`, that answers a batch of conversations in the Hugging Face
chat format::

    [{"role": "system" | "user" | "assistant",
      "content": [{"type": "image", "image": PIL.Image} | {"type": "text", "text": str}]}]

Conversations are rendered with the model's own chat template (generation prompt added), their
images taken in the order they appear, left-padded into one batch and decoded greedily
(temperature 0) or sampled at the temperature (plain sampling: no top-k, top-p 1). Image
placeholder tokens are never generated (a random or weak model would otherwise emit them).

The BALROG runner and the lmms-eval model class build on exactly this interface.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image

from vldac.errors import ModelLoadError


@dataclass(frozen=True)
class Usage:
    """Token counts of one answered conversation: prompt tokens (images' placeholder tokens
    included, padding excluded) and generated tokens (EOS included)."""

    input_tokens: int
    output_tokens: int


class ChatModel:
    """A VLM ready to answer chat conversations; see the module docstring for the format.

    ``device``: ``auto`` (CUDA when visible) | ``cpu`` | ``cuda``; ``dtype``: ``auto``
    (float32 on CPU, bfloat16 on GPU) | ``float32`` | ``bfloat16``; ``min_pixels`` /
    ``max_pixels`` override the image processor's resolution bounds (Qwen families).

    ``model_generation_config``: False (default) decodes exactly as :meth:`generate` says
    (greedy, or plain sampling at the temperature). True lets the model's own
    ``generation_config.json`` fill every knob :meth:`generate` does not set (top-k, top-p,
    repetition penalty, ...), as plain ``transformers`` ``generate`` calls (lmms-eval's model
    classes) and vLLM's ``--generation-config auto`` do.
    """

    def __init__(
        self,
        path: str,
        *,
        device: str = "auto",
        dtype: str = "auto",
        min_pixels: int | None = None,
        max_pixels: int | None = None,
        model_generation_config: bool = False,
    ):
        from transformers import AutoConfig, AutoModelForImageTextToText

        from vldac.models.families import family_of
        from vldac.models.loading import resolve_device, resolve_dtype, resolve_model_path
        from vldac.models.tiny import load_processor

        self.path = path
        self.model_generation_config = model_generation_config
        local = resolve_model_path(path)
        self.device = resolve_device(device)
        self.dtype = resolve_dtype(dtype, self.device)
        try:
            config = AutoConfig.from_pretrained(local)
            self.family = family_of(config)
        except (OSError, ValueError) as err:
            raise ModelLoadError(
                f"cannot load model {path!r} ({_first_line(err)}); give a local folder, a "
                "reachable hub id, or tiny:<family> of a supported family."
            ) from None
        try:
            self.model = AutoModelForImageTextToText.from_pretrained(local, dtype=self.dtype)
            self.processor = _processor(local, load_processor)
        except (OSError, ValueError) as err:
            raise ModelLoadError(f"cannot load model {path!r}: {_first_line(err)}.") from None
        _set_pixel_bounds(self.processor, min_pixels, max_pixels)
        self.model.to(self.device)
        self._finish_setup()

    @classmethod
    def from_model(cls, model, processor, *, name: str, min_pixels: int | None = None,
                   max_pixels: int | None = None,
                   model_generation_config: bool = False) -> ChatModel:
        """Wrap an already loaded model and processor (e.g. a run's merged policy, see
        :func:`vldac.models.merge.load_merged`); ``name`` is what results call the model.
        The model stays on its device and in its dtype."""
        from vldac.models.families import family_of

        self = cls.__new__(cls)
        self.path, self.model, self.processor = name, model, processor
        self.model_generation_config = model_generation_config
        self.family = family_of(model)
        self.device = next(model.parameters()).device
        self.dtype = next(model.parameters()).dtype
        _set_pixel_bounds(processor, min_pixels, max_pixels)
        self._finish_setup()
        return self

    def _finish_setup(self) -> None:
        self.model.eval()
        tok = self.processor.tokenizer
        self.pad_token_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        eos = self.model.generation_config.eos_token_id
        eos = [eos] if isinstance(eos, int) else list(eos or [tok.eos_token_id])
        self.eos_token_ids = sorted(set(eos))
        self.suppressed_token_ids = self.family.suppressed_token_ids(self.processor)
        self.last_usage: list[Usage] = []
        """Per conversation of the latest :meth:`generate` call, its token counts."""

    # ------------------------------------------------------------------ prompts

    def encode(self, conversation: list[dict]) -> dict[str, torch.Tensor]:
        """One conversation -> unpadded model inputs (batch dimension 1, CPU tensors)."""
        images = [
            part["image"]
            for message in conversation
            for part in _parts(message)
            if part.get("type") == "image"
        ]
        if any(not isinstance(image, Image.Image) for image in images):
            raise TypeError("every image content part must carry a PIL.Image under 'image'.")
        prompt = self.processor.apply_chat_template(
            _normalise(conversation), add_generation_prompt=True, tokenize=False
        )
        if images and self.family.image_layout == "patches":
            from vldac.models.image_fast import qwen_encode

            encoded = qwen_encode(self.processor, images, prompt)  # bit-identical, faster
            if encoded is not None:
                return encoded
        kwargs = {"images": [images]} if images else {}
        out = self.processor(text=[prompt], add_special_tokens=False, return_tensors="pt", **kwargs)
        return {k: v for k, v in out.items() if isinstance(v, torch.Tensor)}

    # ------------------------------------------------------------------ generation

    @torch.no_grad()
    def generate(
        self,
        conversations: list[list[dict]],
        *,
        max_new_tokens: int,
        temperature: float = 0.0,
        seed: int | None = None,
    ) -> list[str]:
        """The model's answer to each conversation, in order (special tokens removed).

        ``temperature == 0`` decodes greedily; otherwise tokens are sampled from the softmax
        at ``temperature`` with torch's generator seeded from ``seed`` (the global RNG
        state is restored afterwards). Nothing else shapes the distribution unless
        :attr:`model_generation_config` is set. Token counts land in :attr:`last_usage`.
        """
        if not conversations:
            self.last_usage = []
            return []
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}.")
        from transformers import GenerationConfig

        from vldac.models.policy import response_mask_from_eos

        sample = temperature > 0
        encodings = [self.encode(c) for c in conversations]
        batch = self.family.collate(encodings, self.pad_token_id)
        batch = {k: v.to(self.device) for k, v in batch.items()}
        knobs = {"do_sample": sample, "temperature": temperature if sample else None}
        if not self.model_generation_config:
            # transformers fills every knob left unset from the model's generation_config.json
            # (Qwen2-VL-Instruct: top_k 1, top_p 0.001, repetition_penalty 1.05), so pin them
            knobs.update(num_beams=1, repetition_penalty=1.0, no_repeat_ngram_size=0,
                         top_k=0 if sample else None, top_p=1.0 if sample else None,
                         typical_p=1.0 if sample else None)
        config = GenerationConfig(
            **knobs,
            max_new_tokens=max_new_tokens,
            pad_token_id=self.pad_token_id,
            eos_token_id=self.eos_token_ids,
            suppress_tokens=self.suppressed_token_ids or None,
        )
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            if seed is not None:
                torch.manual_seed(seed)
            out = self.model.generate(**batch, generation_config=config)
        response = out[:, batch["input_ids"].shape[1]:]
        eos = torch.tensor(self.eos_token_ids, device=response.device)
        mask = response_mask_from_eos(response, eos)  # up to and including the first EOS
        prompt_tokens = batch["attention_mask"].sum(dim=1).tolist()
        self.last_usage = [
            Usage(int(p), int(n)) for p, n in zip(prompt_tokens, mask.sum(dim=1).tolist(),
                                                   strict=True)
        ]
        response = response.masked_fill(~mask, self.pad_token_id)
        return self.processor.tokenizer.batch_decode(response, skip_special_tokens=True)


def _parts(message: dict) -> list[dict]:
    content = message.get("content", [])
    return [{"type": "text", "text": content}] if isinstance(content, str) else list(content)


def _normalise(conversation: list[dict]) -> list[dict]:
    """The conversation as chat templates expect it: list contents, images as bare markers."""
    out = []
    for message in conversation:
        if message.get("role") not in ("system", "user", "assistant"):
            raise ValueError(
                f"message role must be system, user or assistant, got {message.get('role')!r}."
            )
        parts = []
        for part in _parts(message):
            if part.get("type") == "image":
                parts.append({"type": "image"})
            elif part.get("type") == "text":
                parts.append({"type": "text", "text": part["text"]})
            else:
                raise ValueError(f"content parts are image or text, got {part.get('type')!r}.")
        out.append({"role": message["role"], "content": parts})
    return out


def _processor(local: str, load_processor):
    """The model's processor; a hub id is fetched (or read from the HF cache) first."""
    folder = Path(local)
    if not folder.is_dir():
        from huggingface_hub import snapshot_download

        folder = Path(snapshot_download(local, allow_patterns=["*.json", "*.txt", "*.jinja",
                                                               "*.model", "*.tiktoken"]))
    return load_processor(folder)


def _set_pixel_bounds(processor, min_pixels: int | None, max_pixels: int | None) -> None:
    image_processor = getattr(processor, "image_processor", None)
    if image_processor is None:
        return
    for key, value, size_key in (("min_pixels", min_pixels, "shortest_edge"),
                                 ("max_pixels", max_pixels, "longest_edge")):
        if value is None:
            continue
        setattr(image_processor, key, value)
        if isinstance(getattr(image_processor, "size", None), dict):
            image_processor.size[size_key] = value


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
