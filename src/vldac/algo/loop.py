"""The LOOP baseline (Chen et al., 2025): leave-one-out PPO without a critic.

K episodes are played from the same start (same seed) as a group g. Episode i's advantage
is its return minus the mean return of the OTHER episodes of its group,

    A_i = R_i - 1/(K_g - 1) * sum_{j in g(i), j != i} R_j  =  K_g / (K_g - 1) * (R_i - mean_g R),

and every generated token of every step of episode i carries A_i. The loss is token-level
clipped PPO plus an optional k3 KL to the reference; there is no value function:

    L = mean_tokens -min(rho_i A, clip(rho_i, 1-eps, 1+eps) A) + beta * mean_tokens k3_i

A group of one episode has no baseline: its advantage is 0 (it contributes no policy
gradient). Token means divide by the number of real tokens, or by ``token_normalizer`` (the
count of the whole accumulation group) as in ``vldac_loss``.
"""

from __future__ import annotations

import torch

from vldac.algo.losses import clipped_policy_loss, k3_kl


def leave_one_out_advantages(returns: torch.Tensor, groups: torch.Tensor) -> torch.Tensor:
    """A_i = R_i - mean of the returns of the other episodes of i's group.

    Shapes: returns [E]; groups [E] long, any ids (need not be contiguous or sorted).
    Returns [E]; episodes alone in their group get 0.
    """
    _, inverse = torch.unique(groups, return_inverse=True)
    n_groups = int(inverse.max()) + 1 if inverse.numel() else 0
    sums = returns.new_zeros(n_groups).index_add(0, inverse, returns)
    counts = returns.new_zeros(n_groups).index_add(0, inverse, torch.ones_like(returns))
    k = counts[inverse]
    others_mean = (sums[inverse] - returns) / (k - 1.0).clamp_min(1.0)
    return torch.where(k > 1, returns - others_mean, torch.zeros_like(returns))


def episode_advantages_to_steps(episode_of_step: torch.Tensor, episode_advantages: torch.Tensor,
                                valid: torch.Tensor) -> torch.Tensor:
    """Broadcast episode advantages onto the [T, N] step grid of the trainer.

    Args:
        episode_of_step:    [T, N] long, index into ``episode_advantages`` of the episode that
                            step (t, n) belongs to, or -1 for steps of no counted episode.
        episode_advantages: [E].
        valid:              [T, N] bool, the steps that are trained on; a valid step must
                            have an episode (ValueError otherwise).

    Returns:
        [T, N]: the episode's advantage on valid steps, 0 elsewhere.
    """
    valid = valid.bool()
    if bool((valid & (episode_of_step < 0)).any()):
        raise ValueError("a valid step belongs to no counted episode (episode_of_step == -1)")
    gathered = episode_advantages[episode_of_step.clamp_min(0)]
    return torch.where(valid, gathered, torch.zeros_like(gathered))


def loop_loss(
    logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    ref_logprobs: torch.Tensor,
    token_mask: torch.Tensor,
    advantages: torch.Tensor,
    *,
    clip_eps: float,
    kl_coef: float,
    sample_normalizer: float | torch.Tensor | None = None,
    token_normalizer: float | torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The LOOP loss for one micro-batch of B environment steps.

    Args:
        logprobs:     [B, L] log pi_theta(y_i | x, y_<i), with grad.
        old_logprobs: [B, L] the same under the behaviour policy (from generation).
        ref_logprobs: [B, L] the same under the reference (adapter disabled).
        token_mask:   [B, L] bool, true on real generated tokens (padding false).
        advantages:   [B] the leave-one-out advantage of each step's episode.
        clip_eps, kl_coef: PPO clip range and beta; the KL term is left out when
                      ``kl_coef == 0`` (still reported in the diagnostics).
        sample_normalizer: accepted for a call signature like ``vldac_loss``'s; LOOP has no
                      per-sample term, so it does not enter the loss.
        token_normalizer: divisor of the token sums; defaults to this micro-batch's count.

    Returns:
        (scalar loss, diagnostics) with the keys of ``vldac_loss`` (without ``entropy``), token
        means over this micro-batch as there. There is no critic: ``value_loss`` and
        ``value_clip_fraction`` are always 0.0 (not NaN, so averaging loggers stay finite).
    """
    del sample_normalizer  # no per-sample (value) term in LOOP
    tokens = token_mask.bool()
    tok = tokens.to(logprobs.dtype)
    n_tokens = tok.sum().clamp_min(1.0)
    token_normalizer = n_tokens if token_normalizer is None else token_normalizer

    zero = torch.zeros_like(logprobs)
    pg_per_token, ratio = clipped_policy_loss(logprobs, old_logprobs, advantages, clip_eps)
    pg_per_token = torch.where(tokens, pg_per_token, zero)
    kl_per_token = torch.where(tokens, k3_kl(logprobs, ref_logprobs), zero)

    policy_loss = pg_per_token.sum() / token_normalizer
    kl_loss = kl_per_token.sum() / token_normalizer
    loss = policy_loss + kl_coef * kl_loss if kl_coef else policy_loss

    with torch.no_grad():
        log_ratio = logprobs - old_logprobs
        local = lambda x: float((x * tok).sum() / n_tokens)  # noqa: E731 - micro-batch token mean
        diagnostics = {
            "policy_loss": float(pg_per_token.sum() / n_tokens),
            "kl_loss": float(kl_per_token.sum() / n_tokens),
            "value_loss": 0.0,
            "clip_fraction": local(((ratio - 1.0).abs() > clip_eps).to(tok.dtype)),
            # k3 estimate of KL(pi_old || pi_theta): how far this epoch has moved.
            "approx_kl": local(torch.exp(log_ratio) - 1.0 - log_ratio),
            "ratio_mean": local(ratio),
            "ratio_max": float(ratio[tokens].max()) if tokens.any() else 1.0,
            "value_clip_fraction": 0.0,
            "tokens": float(tok.sum()),
        }
    return loss, diagnostics
