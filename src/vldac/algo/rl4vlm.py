"""The RL4VLM baseline (Zhai et al., 2024): sequence-level PPO with a thought weight lambda.

RL4VLM scores one environment step with ONE log-probability. The generated answer is a JSON
object whose ``"action":`` key comes after the chain of thought; the tokens from that key on
are the action tokens a_t, everything before them the thought tokens c_t:

    log pi(step) = lambda * sum_{i in c_t} log p(y_i) + sum_{i in a_t} log p(y_i)

and PPO runs on one ratio per step (not per token):

    rho_t    = exp(log pi_theta(step) - log pi_old(step))
    L_policy = mean_t -min(rho_t A_t, clip(rho_t, 1-eps, 1+eps) A_t)
    L        = L_policy + alpha * L_value (+ beta * L_KL, optional)

- L_value: the clipped squared error of V(s_t) against the return, as in VL-DAC
  (``clipped_value_loss``). In the original the value gradient flows into the backbone; that
  is the trainer's choice (what produced ``values``), not this module's.
- L_KL: optional token mean of the k3 estimate of KL(pi_theta || pi_ref) (RL4VLM itself uses
  none: ``kl_coef=0`` by default).
- Value warm-up ("policy freeze") as in VL-DAC: only alpha * L_value is optimised.

Marker rule: the action tokens start at the token holding the first character of the LAST
occurrence of the marker (``"action"``) in the answer. If the marker does not occur, the whole
answer is scored as action (every token weight 1: lambda does not apply to that step).

Normalisers as in ``vldac_loss``: per-sample sums (policy, value) are divided by
``sample_normalizer`` (default: B), token sums (KL) by ``token_normalizer`` (default: the
number of real tokens), so micro-batch losses add up to the loss of the accumulation group.
"""

from __future__ import annotations

import torch

from vldac.algo.losses import clipped_policy_loss, clipped_value_loss, k3_kl

ACTION_MARKER = '"action"'


def action_token_mask(token_texts: list[list[str]], marker: str = ACTION_MARKER) -> torch.Tensor:
    """Which generated tokens belong to the action part of each answer.

    Args:
        token_texts: token_texts[b] is the decoded text of each generated token of sample b,
                     in order, without padding. Token i covers the characters [start_i, end_i)
                     of the concatenation ``"".join(token_texts[b])``.
        marker:      the string that opens the action part.

    Returns:
        [B, L] bool, L the longest row (0 if all rows are empty), padding False. True for the
        token containing the first character of the LAST occurrence of ``marker`` and every
        token after it (a marker split across tokens starts at the token holding its first
        character). A row without the marker is all True: the whole answer is the action.
    """
    width = max((len(row) for row in token_texts), default=0)
    mask = torch.zeros(len(token_texts), width, dtype=torch.bool)
    for b, row in enumerate(token_texts):
        pos = "".join(row).rfind(marker)
        if pos < 0:
            mask[b, : len(row)] = True
            continue
        end = 0
        for i, text in enumerate(row):
            end += len(text)
            if end > pos:  # first token whose span [start, end) contains character pos
                mask[b, i : len(row)] = True
                break
    return mask


def step_logprob(logprobs: torch.Tensor, token_mask: torch.Tensor, action_mask: torch.Tensor,
                 thought_weight: float) -> torch.Tensor:
    """log pi(step) = lambda * sum(thought log-probs) + sum(action log-probs).

    Shapes: logprobs [B, L]; token_mask, action_mask [B, L] bool (only real tokens count:
    thought = token_mask & ~action_mask, action = token_mask & action_mask). Returns [B].
    """
    real = token_mask.bool()
    weight = torch.where(action_mask.bool(), 1.0, thought_weight)
    weighted = torch.where(real, logprobs * weight.to(logprobs.dtype), torch.zeros_like(logprobs))
    return weighted.sum(-1)


def rl4vlm_loss(
    logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    ref_logprobs: torch.Tensor,
    token_mask: torch.Tensor,
    action_mask: torch.Tensor,
    advantages: torch.Tensor,
    values: torch.Tensor,
    old_values: torch.Tensor,
    returns: torch.Tensor,
    *,
    thought_weight: float,
    clip_eps: float,
    value_clip_eps: float | None,
    value_coef: float,
    kl_coef: float = 0.0,
    policy_frozen: bool = False,
    sample_normalizer: float | torch.Tensor | None = None,
    token_normalizer: float | torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The RL4VLM loss for one micro-batch of B environment steps.

    Args:
        logprobs:     [B, L] log pi_theta(y_i | x, y_<i) of the generated tokens, with grad.
        old_logprobs: [B, L] the same under the behaviour policy (from generation).
        ref_logprobs: [B, L] the same under the reference (only used by the KL term).
        token_mask:   [B, L] bool, true on real generated tokens (padding false).
        action_mask:  [B, L] bool, true on action tokens (see ``action_token_mask``).
        advantages:   [B] step advantages.
        values:       [B] V(s_t), with grad. old_values, returns: [B].
        thought_weight: lambda, the weight of the thought tokens' log-probabilities.
        clip_eps, value_clip_eps: PPO and value clip ranges (``value_clip_eps=None``: no clip).
        value_coef, kl_coef: alpha and beta; the KL term is left out when ``kl_coef == 0``.
        policy_frozen: value warm-up: the loss is ``value_coef * L_value`` only.
        sample_normalizer / token_normalizer: divisors of the sample sums (policy, value) and
                      token sums (KL); default to this micro-batch's counts.

    Returns:
        (scalar loss, diagnostics), the diagnostics having the keys of ``vldac_loss`` (without
        ``entropy``), as micro-batch means but read at the step level:
        policy_loss (sample mean of the clipped step surrogate), kl_loss (token mean of k3 to
        the reference, reported even when not optimised), value_loss (sample mean),
        clip_fraction (fraction of steps with |rho_t - 1| > eps), approx_kl (sample mean of the
        k3 estimate of KL(pi_old || pi_theta) from the step log-ratio), ratio_mean / ratio_max
        (mean / max of the step ratios rho_t), value_clip_fraction (fraction of steps whose
        clipped value error is the larger one), tokens (number of real tokens).
    """
    tokens = token_mask.bool()
    tok = tokens.to(logprobs.dtype)
    n_tokens = tok.sum().clamp_min(1.0)
    n_samples = values.new_tensor(float(max(advantages.shape[0], 1)))
    token_normalizer = n_tokens if token_normalizer is None else token_normalizer
    sample_normalizer = n_samples if sample_normalizer is None else sample_normalizer

    new_step = step_logprob(logprobs, tokens, action_mask, thought_weight)
    old_step = step_logprob(old_logprobs, tokens, action_mask, thought_weight)
    pg, ratio = clipped_policy_loss(new_step.unsqueeze(-1), old_step.unsqueeze(-1), advantages,
                                    clip_eps)
    pg_per_sample, ratio = pg.squeeze(-1), ratio.squeeze(-1)
    kl_per_token = torch.where(tokens, k3_kl(logprobs, ref_logprobs), torch.zeros_like(logprobs))
    v_per_sample, v_clipped = clipped_value_loss(values, old_values, returns, value_clip_eps)

    policy_loss = pg_per_sample.sum() / sample_normalizer
    kl_loss = kl_per_token.sum() / token_normalizer
    value_loss = v_per_sample.sum() / sample_normalizer

    if policy_frozen:
        loss = value_coef * value_loss
    else:
        loss = policy_loss + value_coef * value_loss
        if kl_coef:
            loss = loss + kl_coef * kl_loss

    with torch.no_grad():
        log_ratio = new_step - old_step
        has_samples = ratio.numel() > 0
        diagnostics = {
            "policy_loss": float(pg_per_sample.sum() / n_samples),
            "kl_loss": float(kl_per_token.sum() / n_tokens),
            "value_loss": float(v_per_sample.sum() / n_samples),
            "clip_fraction": float(((ratio - 1.0).abs() > clip_eps).sum() / n_samples),
            "approx_kl": float((torch.exp(log_ratio) - 1.0 - log_ratio).sum() / n_samples),
            "ratio_mean": float(ratio.sum() / n_samples) if has_samples else 1.0,
            "ratio_max": float(ratio.max()) if has_samples else 1.0,
            "value_clip_fraction": float(v_clipped.sum() / n_samples),
            "tokens": float(tok.sum()),
        }
    return loss, diagnostics
