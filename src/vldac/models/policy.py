"""The actor-critic around a VLM: LoRA policy, adapter-off reference, detached value head.

One object owns the three views of the network VL-DAC needs, with one copy of the weights:

- the policy pi_theta: the VLM with LoRA adapters on its language model;
- the reference pi_ref: the same network inside ``disable_adapter()``;
- the critic V: :class:`ValueHead` on the last-layer hidden state at the last prompt token.

Prompts are left-padded so every prompt ends at the same column P-1; responses are
right-padded after it. ``generate`` is one prompt pass (which also yields V(s_t), read from
the decoder output by a hook) followed by decoding from that KV cache, and returns the
behaviour log-probs from the raw generation logits at the sampling temperature.

The vision tower is frozen, so for families that accept precomputed vision features
(:attr:`Family.image_embeds`) :meth:`VLMPolicy.image_features` runs it once per prompt batch
and every later pass (generation, reference, bootstrap value, the PPO epochs) reuses the
features (``image_embeds`` in the batch) instead of re-encoding the pixels.
"""

from __future__ import annotations

import contextlib
import inspect
from dataclasses import dataclass

import torch
from torch import nn

from vldac.models.families import IMAGE_EMBEDS, Family
from vldac.models.logprobs import token_entropy, token_logprobs
from vldac.models.value_head import ValueHead


@dataclass
class Generation:
    """One batched generate call, B prompts.

    response_ids [B, L] right-padded; response_mask [B, L] bool (real tokens, EOS included);
    old_logprobs [B, L] float32 at the sampling temperature; values [B] float32 V(s_t);
    texts: the decoded responses.
    """

    response_ids: torch.Tensor
    response_mask: torch.Tensor
    old_logprobs: torch.Tensor
    values: torch.Tensor
    texts: list[str]


@dataclass
class Scores:
    """A teacher-forced pass over prompt + response: logprobs [B, L] float32, values [B]
    float32 (None when not asked for), entropy [B, L] (None unless asked for), and the
    value head's input, the hidden state at the last prompt token [B, H] (detached unless
    asked otherwise)."""

    logprobs: torch.Tensor
    values: torch.Tensor | None
    entropy: torch.Tensor | None = None
    value_inputs: torch.Tensor | None = None


class VLMPolicy(nn.Module):
    """Policy, reference and critic over one VLM. Build it with :func:`vldac.models.load_policy`."""

    def __init__(
        self,
        model: nn.Module,
        processor,
        family: Family,
        value_head: ValueHead,
        device: torch.device,
        logprob_chunk: int = 1024,
    ):
        super().__init__()
        self.model = model  # the PeftModel
        self.value_head = value_head
        self.processor = processor
        self.family = family
        self.device = device
        self.logprob_chunk = logprob_chunk
        tok = processor.tokenizer
        self.pad_token_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        eos = self.hf_model.generation_config.eos_token_id
        eos = [eos] if isinstance(eos, int) else list(eos or [tok.eos_token_id])
        self.eos_token_ids = torch.tensor(sorted(set(eos)), device=device)
        # transformers fills every generation setting a call leaves unset from the checkpoint's
        # generation_config.json (Qwen2-VL-Instruct ships top_k 1, top_p 0.001 and a 1.05
        # repetition penalty). Rollouts must sample exactly the distribution their log-probs
        # score, so the policy generates from a neutral config that keeps only the special
        # tokens; the checkpoint's own stays here for whoever saves the model (vldac.models.merge).
        from transformers import GenerationConfig

        self.checkpoint_generation_config = self.hf_model.generation_config
        self.hf_model.generation_config = GenerationConfig(
            bos_token_id=self.checkpoint_generation_config.bos_token_id,
            eos_token_id=self.checkpoint_generation_config.eos_token_id,
            pad_token_id=self.checkpoint_generation_config.pad_token_id,
        )
        self.suppressed = torch.tensor(
            sorted(set(family.suppressed_token_ids(processor))), dtype=torch.long, device=device
        )
        forward_params = inspect.signature(self.hf_model.forward).parameters
        self._takes_logits_to_keep = "logits_to_keep" in forward_params
        self._takes_image_embeds = family.image_embeds and "mm_encoder_outputs" in forward_params
        image_token = getattr(self.hf_model.config, "image_token_id", None)
        self._image_token_id = image_token if self._takes_image_embeds else None

    # -- structure --------------------------------------------------------------------------
    @property
    def hf_model(self) -> nn.Module:
        """The transformers model (adapters injected in place)."""
        return self.model.get_base_model()

    def trainable_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.parameters() if p.requires_grad]

    @contextlib.contextmanager
    def _last_hidden(self):
        """Capture the decoder's final (normed) hidden states of the first forward inside."""
        captured: list[torch.Tensor] = []

        def hook(_module, _args, output):
            if not captured:
                captured.append(
                    output[0] if isinstance(output, tuple) else output.last_hidden_state
                )

        handle = self.hf_model.get_decoder().register_forward_hook(hook)
        try:
            yield captured
        finally:
            handle.remove()

    # -- prompts ----------------------------------------------------------------------------
    def encode(self, images, text: str, fast: bool = True) -> dict[str, torch.Tensor]:
        """One prompt (a user turn: the images, then the text) -> unpadded CPU tensors
        (``fast=False``: always through the HF processor; the result is the same)."""
        return self.family.encode(self.processor, images, text, fast=fast)

    def collate(self, encodings: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        """Left-padded prompt batch on the policy's device."""
        batch = self.family.collate(encodings, self.pad_token_id)
        return {k: v.to(self.device) for k, v in batch.items()}

    # -- vision features (frozen tower: computed once per prompt, reused by every pass) ---
    @torch.no_grad()
    def image_features(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """``batch`` with its pixels replaced by the vision tower's output (``image_embeds``,
        one row per image placeholder token, in batch order) where the family's forward
        accepts precomputed features; otherwise ``batch`` unchanged. Every pass gives the same
        result either way: the vision tower is frozen and has no dropout."""
        if not self._takes_image_embeds or "pixel_values" not in batch:
            return batch
        out = {k: v for k, v in batch.items() if k != "pixel_values"}
        features = self.hf_model.model.get_image_features(
            batch["pixel_values"], batch["image_grid_thw"], return_dict=True)
        out[IMAGE_EMBEDS] = torch.cat(list(features.pooler_output), dim=0)
        return out

    def split_image_features(self, batch: dict[str, torch.Tensor]) -> list[torch.Tensor | None]:
        """Per prompt, its rows of ``batch[IMAGE_EMBEDS]`` (None for prompts without images)."""
        counts = (batch["input_ids"] == self._image_token_id).sum(1).tolist()
        rows = torch.split(batch[IMAGE_EMBEDS], [c for c in counts if c])
        it = iter(rows)
        return [next(it) if c else None for c in counts]

    def _model_inputs(self, batch: dict[str, torch.Tensor]) -> dict:
        """Keyword arguments of the HF forward/generate for a (possibly featurised) batch."""
        if IMAGE_EMBEDS not in batch:
            return batch
        from transformers.modeling_outputs import BaseModelOutputWithPooling

        out = {k: v for k, v in batch.items() if k != IMAGE_EMBEDS}
        features = BaseModelOutputWithPooling(pooler_output=(batch[IMAGE_EMBEDS],))
        out["mm_encoder_outputs"] = {"image": features}
        return out

    # -- rollout-time passes (eval mode, no grad) -----------------------------------------
    @torch.no_grad()
    def generate(
        self,
        batch: dict[str, torch.Tensor],
        max_new_tokens: int,
        temperature: float,
        do_sample: bool = True,
        min_new_tokens: int | None = None,
    ) -> Generation:
        """Sample responses for a prompt batch; V(s_t) comes from the same prompt pass.

        ``min_new_tokens`` (benchmarks only) forbids EOS before that length; it changes
        the sampling distribution, so training never sets it."""
        from transformers import GenerationConfig

        config = GenerationConfig(
            do_sample=do_sample,
            temperature=temperature if do_sample else None,
            top_k=0 if do_sample else None,
            top_p=1.0 if do_sample else None,
            max_new_tokens=max_new_tokens,
            min_new_tokens=min_new_tokens,
            pad_token_id=self.pad_token_id,
            eos_token_id=self.eos_token_ids.tolist(),
            suppress_tokens=self.suppressed.tolist() or None,
            output_logits=True,
            return_dict_in_generate=True,
        )
        with self._last_hidden() as hidden:
            out = self.hf_model.generate(**self._model_inputs(batch), generation_config=config)
        values = self.value_head(hidden[0][:, -1])
        prompt_len = batch["input_ids"].shape[1]
        response = out.sequences[:, prompt_len:]
        logits = torch.stack(out.logits, dim=1)
        mask = response_mask_from_eos(response, self.eos_token_ids)
        logprobs = (
            token_logprobs(logits, response, temperature, self.suppressed, self.logprob_chunk)
            * mask
        )
        response = response.masked_fill(~mask, self.pad_token_id)
        texts = self.processor.tokenizer.batch_decode(response, skip_special_tokens=True)
        return Generation(response, mask, logprobs, values, texts)

    @torch.no_grad()
    def prompt_values(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """V(s) from a prompt-only pass (bootstrap values): [B] float32."""
        with self._last_hidden() as hidden:
            self.hf_model(**self._model_inputs(batch), **self._keep(1))
        return self.value_head(hidden[0][:, -1])

    @torch.no_grad()
    def reference_logprobs(self, batch, response_ids, response_mask,
                           temperature: float) -> torch.Tensor:
        """log pi_ref(y_i | x, y_<i) at ``temperature`` with the adapters disabled: [B, L]."""
        with self.model.disable_adapter():
            return self.score(batch, response_ids, response_mask, temperature=temperature,
                              values=False).logprobs

    # -- the teacher-forced pass (used with grad in the update) ---------------------------
    def score(
        self,
        batch: dict[str, torch.Tensor],
        response_ids: torch.Tensor,
        response_mask: torch.Tensor,
        *,
        temperature: float = 1.0,
        values: bool = True,
        entropy: bool = False,
        detach_value_input: bool = True,
    ) -> Scores:
        """Re-score given responses: log-probs of every response token, and V(s_t).

        Only the response positions' logits are computed (``logits_to_keep``), and only the
        LoRA weights and the value head receive gradients. The value head's input, the
        hidden state at the last prompt token, is detached (VL-DAC's stop-gradient) unless
        ``detach_value_input`` is False (RL4VLM: the value loss reaches the LoRA weights).
        """
        inputs = self._model_inputs(self.family.with_response(batch, response_ids, response_mask))
        L = response_ids.shape[1]
        with self._last_hidden() as hidden:
            logits = self.hf_model(**inputs, **self._keep(L + 1)).logits
        logits = logits[:, -(L + 1) : -1]
        logprobs = (
            token_logprobs(logits, response_ids, temperature, self.suppressed, self.logprob_chunk)
            * response_mask
        )
        prompt_len = batch["input_ids"].shape[1]
        value_inputs = hidden[0][:, prompt_len - 1]
        if detach_value_input:
            value_inputs = value_inputs.detach()
        value = self.value_head(value_inputs) if values else None
        ent = token_entropy(logits, temperature, self.suppressed) if entropy else None
        return Scores(logprobs, value, ent, value_inputs)

    def _keep(self, n: int) -> dict[str, int]:
        return {"logits_to_keep": n} if self._takes_logits_to_keep else {}

    # -- persistence ------------------------------------------------------------------------
    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        """Adapter and value-head weights (everything the optimiser changes)."""
        return {n: p.detach().cpu().clone() for n, p in self.named_parameters() if p.requires_grad}

    def load_trainable_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        params = dict(self.named_parameters())
        missing = [n for n, p in params.items() if p.requires_grad and n not in state]
        if missing:
            raise ValueError(
                f"checkpoint lacks {len(missing)} trainable tensors, e.g. {missing[0]}; "
                "was it written for another model or LoRA config?"
            )
        with torch.no_grad():
            for name, tensor in state.items():
                params[name].copy_(tensor.to(params[name].device, params[name].dtype))


def response_mask_from_eos(response: torch.Tensor, eos_ids: torch.Tensor) -> torch.Tensor:
    """True up to and including the first EOS of each row: [B, L] -> [B, L] bool."""
    is_eos = torch.isin(response, eos_ids)
    after_eos = (is_eos.cumsum(dim=1) - is_eos.long()) > 0
    return ~after_eos
