"""The rollout: what one round of environment interaction hands to the update."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class StepSample:
    """One environment step of one env, as the update needs it (CPU tensors).

    prompt:        the prompt's processor encoding, unpadded (batch dim 1).
    response_ids:  [L] the generated tokens, EOS included, no padding.
    old_logprobs:  [L] log pi_old at the sampling temperature (from generation).
    ref_logprobs:  [L] log pi_ref (adapter disabled).
    action_mask:   [L] bool, the answer's action tokens (RL4VLM only; None otherwise).
    """

    prompt: dict[str, torch.Tensor]
    response_ids: torch.Tensor
    old_logprobs: torch.Tensor
    ref_logprobs: torch.Tensor
    action_mask: torch.Tensor | None = None


@dataclass
class Rollout:
    """T steps of N envs. ``samples[t * N + n]`` is env n at step t (None for a step an env
    did not play: episodic rounds); every grid is [T, N].

    valid is false for steps that must not be learned from (the episode of a crashed
    worker). bootstrap_values[t, n] is V of the state reached by step t when the episode
    was truncated there, and V(s_T) on the last row; elsewhere it is unused (0).
    advantages and returns are filled in by the trainer.
    """

    samples: list[StepSample | None]
    rewards: torch.Tensor
    values: torch.Tensor
    terminated: torch.Tensor
    truncated: torch.Tensor
    valid: torch.Tensor
    bootstrap_values: torch.Tensor
    advantages: torch.Tensor | None = None
    returns: torch.Tensor | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.rewards.shape)  # type: ignore[return-value]

    def valid_indices(self) -> torch.Tensor:
        """Flat sample indices (t * N + n) of the steps to learn from."""
        return self.valid.flatten().nonzero().squeeze(-1)


def pad_right(rows: list[torch.Tensor], value: float | int) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack 1-D tensors of different lengths: ([B, L] padded, [B, L] bool mask)."""
    width = max(1, max((r.numel() for r in rows), default=1))
    out = rows[0].new_full((len(rows), width), value) if rows else torch.zeros(0, width)
    mask = torch.zeros(len(rows), width, dtype=torch.bool)
    for i, r in enumerate(rows):
        out[i, : r.numel()] = r
        mask[i, : r.numel()] = True
    return out, mask
