"""The VL-DAC objective (paper §3, eqs. 4-6), as pure tensor functions.

    L = L_policy + beta * L_KL + alpha * L_value  (- c_H * H, optional entropy bonus)

- L_policy: token-level clipped PPO; every generated token of step t carries that step's
  advantage A_t (there is no thought/action split and no lambda weighting).
- L_KL:     the k3 estimator of KL(pi_theta || pi_ref) per token, pi_ref being the base model
  (LoRA disabled).
- L_value:  clipped squared error of the step value V(s_t) against the GAE return, with its
  own clip range (the official code reuses the policy epsilon; we make it a separate knob).
- Value warm-up ("policy freeze"): for the first K updates only alpha * L_value is optimised.

Token means divide by the number of real (unpadded) tokens. To make gradient accumulation
exact, callers may pass the token / sample counts of the whole optimiser batch as
``token_normalizer`` / ``sample_normalizer``: the sum of the micro-batch losses then equals
the loss of one big batch.
"""

from __future__ import annotations

import torch


def k3_kl(logprobs: torch.Tensor, ref_logprobs: torch.Tensor) -> torch.Tensor:
    """Per-token k3 estimate of KL(pi || pi_ref) from samples of pi (Schulman, 2020).

    kl_i = exp(l_ref - l) - (l_ref - l) - 1 >= 0, exact 0 where the two agree.
    Shapes: [B, L] -> [B, L].
    """
    log_ratio = ref_logprobs - logprobs
    return torch.exp(log_ratio) - log_ratio - 1.0


def clipped_policy_loss(logprobs: torch.Tensor, old_logprobs: torch.Tensor,
                        advantages: torch.Tensor, clip_eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token clipped surrogate -min(rho A, clip(rho, 1-eps, 1+eps) A).

    Shapes: logprobs, old_logprobs [B, L]; advantages [B] (broadcast over the step's tokens).
    Returns (loss per token [B, L], ratio rho [B, L]).
    """
    ratio = torch.exp(logprobs - old_logprobs)
    adv = advantages.unsqueeze(-1)
    unclipped = ratio * adv
    clipped = torch.clamp(ratio, 1.0 - clip_eps, 1.0 + clip_eps) * adv
    return -torch.minimum(unclipped, clipped), ratio


def clipped_value_loss(values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor,
                       value_clip_eps: float | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample max((V - R)^2, (V_old + clip(V - V_old, +-eps) - R)^2).

    ``value_clip_eps=None`` disables clipping. Shapes: [B] -> ([B] loss, [B] bool clipped).
    """
    unclipped = (values - returns) ** 2
    if value_clip_eps is None:
        return unclipped, torch.zeros_like(values, dtype=torch.bool)
    v_clipped = old_values + torch.clamp(values - old_values, -value_clip_eps, value_clip_eps)
    clipped = (v_clipped - returns) ** 2
    return torch.maximum(unclipped, clipped), clipped > unclipped


def vldac_loss(
    logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    ref_logprobs: torch.Tensor,
    token_mask: torch.Tensor,
    advantages: torch.Tensor,
    values: torch.Tensor,
    old_values: torch.Tensor,
    returns: torch.Tensor,
    *,
    clip_eps: float,
    value_clip_eps: float | None,
    kl_coef: float,
    value_coef: float,
    entropy_coef: float = 0.0,
    entropy: torch.Tensor | None = None,
    policy_frozen: bool = False,
    sample_mask: torch.Tensor | None = None,
    token_normalizer: float | torch.Tensor | None = None,
    sample_normalizer: float | torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The VL-DAC loss for one micro-batch of B environment steps.

    Args:
        logprobs:     [B, L] log pi_theta(y_i | x, y_<i) at the sampling temperature, with grad.
        old_logprobs: [B, L] the same under the behaviour policy (from generation).
        ref_logprobs: [B, L] the same under the reference (adapter disabled).
        token_mask:   [B, L] bool, true on real generated tokens (padding false).
        advantages:   [B] step advantages (already normalised if wanted).
        values:       [B] V(s_t) from the value head, with grad.
        old_values, returns: [B] V at collection time and the GAE return.
        entropy:      [B, L] per-token entropy, required when ``entropy_coef > 0``.
        policy_frozen: value warm-up: the loss is ``value_coef * L_value`` only.
        sample_mask:  [B] bool, false for samples that must not contribute (e.g. steps of a
                      crashed worker's episode); their tokens are dropped too.
        token_normalizer / sample_normalizer: divisors of the token and sample sums;
                      default to this micro-batch's counts.

    Returns:
        (scalar loss, diagnostics: floats for logging, means over this micro-batch).
    """
    if sample_mask is None:
        sample_mask = torch.ones_like(advantages, dtype=torch.bool)
    tokens = token_mask.bool() & sample_mask.unsqueeze(-1)
    tok = tokens.to(logprobs.dtype)
    n_tokens = tok.sum().clamp_min(1.0)
    n_samples = sample_mask.to(values.dtype).sum().clamp_min(1.0)
    token_normalizer = n_tokens if token_normalizer is None else token_normalizer
    sample_normalizer = n_samples if sample_normalizer is None else sample_normalizer

    pg_per_token, ratio = clipped_policy_loss(logprobs, old_logprobs, advantages, clip_eps)
    kl_per_token = k3_kl(logprobs, ref_logprobs)
    v_per_sample, v_clipped = clipped_value_loss(values, old_values, returns, value_clip_eps)

    policy_loss = (pg_per_token * tok).sum() / token_normalizer
    kl_loss = (kl_per_token * tok).sum() / token_normalizer
    value_loss = (v_per_sample * sample_mask).sum() / sample_normalizer

    if policy_frozen:
        loss = value_coef * value_loss
    else:
        loss = policy_loss + kl_coef * kl_loss + value_coef * value_loss
    entropy_mean = None
    if entropy is not None:
        entropy_mean = (entropy * tok).sum() / token_normalizer
        if entropy_coef and not policy_frozen:
            loss = loss - entropy_coef * entropy_mean
    elif entropy_coef:
        raise ValueError("entropy_coef > 0 needs the per-token entropy")

    with torch.no_grad():
        log_ratio = logprobs - old_logprobs
        local = lambda x: float((x * tok).sum() / n_tokens)  # noqa: E731 - micro-batch token mean
        diagnostics = {
            "policy_loss": local(pg_per_token),
            "kl_loss": local(kl_per_token),
            "value_loss": float((v_per_sample * sample_mask).sum() / n_samples),
            "clip_fraction": local(((ratio - 1.0).abs() > clip_eps).to(tok.dtype)),
            # k3 estimate of KL(pi_old || pi_theta): how far this epoch has moved.
            "approx_kl": local(torch.exp(log_ratio) - 1.0 - log_ratio),
            "ratio_mean": local(ratio),
            "ratio_max": float(ratio[tokens].max()) if tokens.any() else 1.0,
            "value_clip_fraction": float((v_clipped & sample_mask).sum() / n_samples),
            "tokens": float(tok.sum()),
        }
        if entropy_mean is not None:
            diagnostics["entropy"] = local(entropy)
    return loss, diagnostics


def explained_variance(values: torch.Tensor, returns: torch.Tensor,
                       mask: torch.Tensor | None = None) -> float:
    """1 - Var(R - V) / Var(R) over masked entries: 1 is a perfect critic, <= 0 a useless one.

    Returns NaN when the returns have no variance. Shapes: any, all equal.
    """
    if mask is not None:
        values, returns = values[mask.bool()], returns[mask.bool()]
    var_r = returns.var() if returns.numel() > 1 else returns.new_tensor(0.0)
    if var_r == 0:
        return float("nan")
    return float(1.0 - (returns - values).var() / var_r)
