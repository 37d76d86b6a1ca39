"""``vldac_chat``: an lmms-eval model class over :class:`vldac.eval.chat.ChatModel`.

It runs any model family we load (a merged checkpoint folder, a hub id, ``tiny:<family>``) on
CPU or GPU inside lmms-eval's harness, as a "simple" lmms-eval model: each request brings the
task's text (``doc_to_text``) and visuals (``doc_to_visual``), and the model answers one user
turn holding the visuals first, then the text, as lmms-eval's Qwen2-VL class does. The chat
template is the model's own (for Qwen2-VL it adds the default system prompt, as lmms-eval's
class does explicitly).

Visuals: PIL images as they are; a video path (VSI-Bench) becomes up to ``max_num_frames``
frames sampled uniformly over the whole video (``np.linspace(0, n - 1, k)``, decoded with decord,
as lmms-eval's multi-image VSI-Bench variant samples them), passed as images. Image resolution
is bounded by ``min_pixels``/``max_pixels`` (the paper: 3136 and 200704).

Decoding follows the task's ``generation_kwargs``: greedy when ``do_sample`` is false or the
temperature is 0, else plain sampling at the temperature; the reply is cut at the first ``until``
string. Beam search is not supported.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
from lmms_eval.api.instance import Instance
from lmms_eval.api.model import lmms
from PIL import Image

MODEL_NAME = "vldac_chat"
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm")
DEFAULT_MAX_NEW_TOKENS = 128  # lmms-eval's simple models' default when a task sets none


def video_frames(path: str | Path, max_num_frames: int) -> list[Image.Image]:
    """Up to ``max_num_frames`` RGB frames sampled uniformly over the whole video at ``path``."""
    import decord

    reader = decord.VideoReader(str(path), ctx=decord.cpu(0))
    total = len(reader)
    if total == 0:
        raise ValueError(f"the video {path} holds no frame.")
    indices = np.linspace(0, total - 1, min(max_num_frames, total), dtype=int)
    return [Image.fromarray(frame) for frame in reader.get_batch(indices).asnumpy()]


def visual_images(visuals: Iterable | None, max_num_frames: int) -> list[Image.Image]:
    """The images a request's visuals stand for: images as they are, videos as frames."""
    images: list[Image.Image] = []
    for visual in visuals or []:
        if isinstance(visual, Image.Image):
            images.append(visual.convert("RGB"))
        elif isinstance(visual, (str, Path)) and str(visual).lower().endswith(VIDEO_SUFFIXES):
            images.extend(video_frames(visual, max_num_frames))
        elif isinstance(visual, (str, Path)) and Path(visual).is_file():
            with Image.open(visual) as image:
                images.append(image.convert("RGB"))
        else:
            raise ValueError(f"{MODEL_NAME} takes images and videos; got a visual of type "
                             f"{type(visual).__name__}.")
    return images


def decoding(gen_kwargs: dict) -> tuple[int, float, list[str]]:
    """``(max_new_tokens, temperature, until)`` from a task's ``generation_kwargs``."""
    if int(gen_kwargs.get("num_beams") or 1) > 1:
        raise ValueError(f"{MODEL_NAME} decodes greedily or by sampling; beam search "
                         "(num_beams > 1) is not supported.")
    temperature = float(gen_kwargs.get("temperature") or 0.0)
    if not gen_kwargs.get("do_sample", temperature > 0):
        temperature = 0.0
    until = gen_kwargs.get("until") or []
    until = [until] if isinstance(until, str) else list(until)
    max_new_tokens = int(gen_kwargs.get("max_new_tokens") or DEFAULT_MAX_NEW_TOKENS)
    return max_new_tokens, temperature, until


def cut_at(reply: str, until: list[str]) -> str:
    """``reply`` up to the first occurrence of any stop string, stripped."""
    stop = min((reply.index(s) for s in until if s and s in reply), default=len(reply))
    return reply[:stop].strip()


class VldacChat(lmms):
    """lmms-eval model ``vldac_chat`` (see the module docstring).

    ``pretrained``: a model path as :class:`ChatModel` takes it; ``chat_model``: an already
    loaded :class:`ChatModel` (then ``pretrained`` only names it); ``max_new_tokens_cap``:
    at most this many new tokens whatever the task allows (smoke tests; changes scores).
    """

    is_simple = True

    def __init__(
        self,
        pretrained: str = "",
        device: str | None = "auto",
        dtype: str = "auto",
        batch_size: int | str = 1,
        max_pixels: int = 200704,
        min_pixels: int = 3136,
        max_num_frames: int = 32,
        chat_model=None,
        max_batch_size: int | None = None,  # passed by lmms-eval's CLI; batches are fixed-size
        max_new_tokens_cap: int | None = None,
    ) -> None:
        super().__init__()
        if chat_model is None:
            if not pretrained:
                raise ValueError(f"{MODEL_NAME} needs pretrained=<model path>.")
            from vldac.eval.chat import ChatModel

            chat_model = ChatModel(pretrained, device=device or "auto", dtype=dtype,
                                   min_pixels=int(min_pixels), max_pixels=int(max_pixels))
        self.chat = chat_model
        self.pretrained = pretrained or str(getattr(chat_model, "path", ""))
        self.batch_size = int(batch_size)
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
        self.max_num_frames = int(max_num_frames)
        # Smoke tests only: caps each task's own max_new_tokens (a random tiny model rarely
        # stops, and ERQA's CoT allows 1024 tokens); it changes scores, so runs record it.
        self.max_new_tokens_cap = int(max_new_tokens_cap) if max_new_tokens_cap else None

    def conversation(self, request: Instance) -> list[dict]:
        """The one-turn chat conversation of a ``generate_until`` request."""
        context, _gen_kwargs, doc_to_visual, doc_id, task, split = request.args
        doc = self.task_dict[task][split][doc_id]
        images = visual_images(doc_to_visual(doc), self.max_num_frames)
        content = [{"type": "image", "image": image} for image in images]
        content.append({"type": "text", "text": context.replace("<image>", "")})
        return [{"role": "user", "content": content}]

    def generate_until(self, requests: list[Instance]) -> list[str]:
        replies: list[str | None] = [None] * len(requests)
        groups: dict[tuple, list[int]] = {}
        for index, request in enumerate(requests):  # one decoding setting per generate call
            gen_kwargs = request.args[1]
            groups.setdefault((request.args[4], repr(sorted(gen_kwargs.items()))), []).append(index)
        for indices in groups.values():
            max_new_tokens, temperature, until = decoding(requests[indices[0]].args[1])
            if self.max_new_tokens_cap:
                max_new_tokens = min(max_new_tokens, self.max_new_tokens_cap)
            for start in range(0, len(indices), self.batch_size):
                batch = indices[start:start + self.batch_size]
                conversations = [self.conversation(requests[i]) for i in batch]
                answers = self.chat.generate(conversations, max_new_tokens=max_new_tokens,
                                             temperature=temperature)
                for i, answer in zip(batch, answers, strict=True):
                    replies[i] = cut_at(answer, until)
                    self.cache_hook.add_partial("generate_until", requests[i].args[:2], replies[i])
        return replies

    def loglikelihood(self, requests):
        raise NotImplementedError(f"{MODEL_NAME} only generates; loglikelihood tasks need "
                                  "another lmms-eval model class.")

    def generate_until_multi_round(self, requests):
        raise NotImplementedError(f"{MODEL_NAME} answers single-turn tasks only.")


def register() -> None:
    """Make ``vldac_chat`` a model name in lmms-eval's registry (this process)."""
    from lmms_eval.models import MODEL_REGISTRY_V2
    from lmms_eval.models.registry_v2 import ModelManifest

    MODEL_REGISTRY_V2.register_manifest(
        ModelManifest(model_id=MODEL_NAME, simple_class_path=f"{__name__}.VldacChat"),
        overwrite=True,
    )
