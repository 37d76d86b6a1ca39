"""Generalised advantage estimation over environment steps (VL-DAC §3, eq. 3).

VL-DAC learns one value per *environment step*, not per token, so GAE runs over the
[T, N] grid of (time step, parallel env). Episodes end inside a rollout in two ways:

- termination: the MDP ended; the next state has value 0 and nothing is bootstrapped;
- truncation (a time limit): the episode was cut, the next state still has a value.
  ``truncation="bootstrap"`` (the standard treatment, our default) bootstraps it from
  V(s_{t+1}) of the final observation. ``truncation="zero_advantage"`` reproduces the
  official code, which multiplies the GAE by a "bad mask" and so sets the advantage of a
  truncated step to 0 (its return to V_t), erasing e.g. MiniWorld's time-out penalty.

Either way the recursion never crosses an episode boundary.
"""

from __future__ import annotations

import torch

TRUNCATION_MODES = ("bootstrap", "zero_advantage")


def step_gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    bootstrap_values: torch.Tensor,
    terminated: torch.Tensor,
    truncated: torch.Tensor,
    gamma: float,
    lam: float,
    truncation: str = "bootstrap",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Advantages and returns for N parallel envs over T steps.

    Args:
        rewards:    [T, N] reward r_t received after the action at step t.
        values:     [T, N] V(s_t) of the state the action was taken in.
        bootstrap_values: [N] V(s_T), the state after the last step; or [T, N] where
                    entry (t, n) is V of the state reached by step t (its final
                    observation when the episode was truncated there). With the [N] form
                    a truncation before the last step cannot be bootstrapped and, under
                    ``truncation="bootstrap"``, raises ValueError.
        terminated: [T, N] bool, the episode terminated at step t.
        truncated:  [T, N] bool, the episode was cut by a time limit at step t
                    (ignored where ``terminated`` is also set: termination wins).
        gamma, lam: discount and GAE lambda.
        truncation: "bootstrap" or "zero_advantage" (see module docstring).

    Returns:
        (advantages [T, N], returns [T, N]) with returns = advantages + values.
    """
    if truncation not in TRUNCATION_MODES:
        raise ValueError(f"truncation must be one of {TRUNCATION_MODES}, got {truncation!r}")
    if rewards.dim() != 2 or values.shape != rewards.shape:
        raise ValueError(f"rewards and values must both be [T, N]; got {tuple(rewards.shape)} "
                         f"and {tuple(values.shape)}")
    T, N = rewards.shape
    terminated = terminated.bool()
    truncated = truncated.bool() & ~terminated
    done = terminated | truncated

    # next_values[t] = V(s_{t+1}) as seen from step t, before masking episode ends.
    if bootstrap_values.shape == (N,):
        next_values = torch.cat([values[1:], bootstrap_values.unsqueeze(0)], dim=0)
        if truncation == "bootstrap" and truncated[:-1].any():
            raise ValueError(
                "a truncation before the last step needs per-step bootstrap_values of shape "
                "[T, N] holding V of each truncated episode's final observation"
            )
    elif bootstrap_values.shape == (T, N):
        # Entries at non-final, non-truncated steps may be anything: use the next V there.
        next_values = torch.cat([values[1:], bootstrap_values[-1:]], dim=0)
        next_values = torch.where(truncated, bootstrap_values, next_values)
    else:
        raise ValueError(f"bootstrap_values must be [N] or [T, N] = [{T}, {N}], "
                         f"got {tuple(bootstrap_values.shape)}")

    if truncation == "zero_advantage":
        # Official behaviour: no bootstrap at any episode end, then zero the truncated GAE.
        next_values = next_values * (~done)
    else:
        next_values = next_values * (~terminated)

    advantages = torch.zeros_like(rewards)
    carry = torch.zeros(N, dtype=rewards.dtype, device=rewards.device)
    for t in reversed(range(T)):
        # delta_t = r_t + gamma * V(s_{t+1}) - V(s_t)
        delta = rewards[t] + gamma * next_values[t] - values[t]
        # A_t = delta_t + gamma * lambda * A_{t+1}, with the chain cut at episode ends.
        carry = delta + gamma * lam * carry * (~done[t])
        if truncation == "zero_advantage":
            carry = carry * (~truncated[t])
        advantages[t] = carry
    return advantages, advantages + values


def normalize_advantages(advantages: torch.Tensor, mask: torch.Tensor | None = None,
                         eps: float = 1e-8) -> torch.Tensor:
    """(A - mean) / (std + eps) over the entries where ``mask`` is true (all if None).

    Shapes: advantages [...], mask [...] bool. Masked-out entries are returned as 0.
    """
    if mask is None:
        mask = torch.ones_like(advantages, dtype=torch.bool)
    picked = advantages[mask]
    zero = torch.zeros_like(advantages)
    if picked.numel() == 0:
        return zero
    # A single sample has no spread: centre it (to 0) rather than divide by an undefined std.
    std = picked.std() if picked.numel() > 1 else advantages.new_tensor(1.0)
    return torch.where(mask, (advantages - picked.mean()) / (std + eps), zero)
