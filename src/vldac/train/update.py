"""Stages 2 and 3 of an update: advantages over env steps, then the PPO epochs."""

from __future__ import annotations

import contextlib
import math
from collections import defaultdict

import torch

from vldac.algo import explained_variance, normalize_advantages, step_gae, vldac_loss
from vldac.config import AlgoConfig, TrainConfig
from vldac.models.policy import VLMPolicy
from vldac.rollout.buffer import Rollout, pad_right


def compute_advantages(rollout: Rollout, algo: AlgoConfig) -> dict[str, float]:
    """Fill ``rollout.advantages`` / ``returns`` (GAE over env steps) and normalise."""
    advantages, returns = step_gae(rollout.rewards, rollout.values, rollout.bootstrap_values,
                                   rollout.terminated, rollout.truncated, algo.gamma, algo.lam,
                                   algo.truncation)
    raw_std = float(advantages[rollout.valid].std()) if rollout.valid.sum() > 1 else 0.0
    if algo.normalize_advantages:
        advantages = normalize_advantages(advantages, rollout.valid)
    rollout.advantages, rollout.returns = advantages, returns
    return {"explained_variance": explained_variance(rollout.values, returns, rollout.valid),
            "advantage_std": raw_std,
            "value_mean": float(rollout.values[rollout.valid].mean()),
            "return_mean": float(returns[rollout.valid].mean())}


def _minibatch(policy: VLMPolicy, rollout: Rollout, idx: list[int]):
    samples = [rollout.samples[i] for i in idx]
    batch = policy.collate([s.prompt for s in samples])
    response, mask = pad_right([s.response_ids for s in samples], policy.pad_token_id)
    old, _ = pad_right([s.old_logprobs for s in samples], 0.0)
    ref, _ = pad_right([s.ref_logprobs for s in samples], 0.0)
    flat = lambda x: x.flatten()[idx].to(policy.device)  # noqa: E731
    dev = lambda x: x.to(policy.device)  # noqa: E731
    return (batch, dev(response), dev(mask), dev(old), dev(ref), flat(rollout.advantages),
            flat(rollout.values), flat(rollout.returns))


def _head_leaf(policy: VLMPolicy, value_inputs: torch.Tensor) -> torch.Tensor:
    """V(s) for the loss as a leaf tensor: the loss's backward stops here and leaves
    d loss / d V in ``.grad``; :func:`_head_backward` takes it into the value head."""
    with torch.no_grad():
        values = policy.value_head(value_inputs)
    return values.requires_grad_(True)


def _head_backward(policy: VLMPolicy, inputs: list[torch.Tensor],
                   grads: list[torch.Tensor]) -> None:
    """The value head's backward, once per optimiser step over all of its micro-batches.

    The head sees only detached hidden states, so its gradient is the sum over samples of
    (d loss / d V) * dV/dphi, whatever the grouping; one pass over the group replaces one per
    micro-batch (on the paper's 3072-2048 head these weight-gradient products dominate).
    """
    if inputs:
        torch.autograd.backward(policy.value_head(torch.cat(inputs)), torch.cat(grads))


def ppo_update(policy: VLMPolicy, optimizer: torch.optim.Optimizer, scheduler,
               rollout: Rollout, algo: AlgoConfig, train: TrainConfig, temperature: float,
               policy_frozen: bool) -> dict[str, float]:
    """``ppo_epochs`` passes over the rollout in shuffled mini-batches.

    Each optimiser step accumulates ``grad_accum_steps`` mini-batches of ``mini_batch_size``
    padded samples; the loss is normalised by the token / sample counts of the whole
    accumulation group, so the step equals one on the group as a single batch. During the
    value warm-up (``policy_frozen``) the loss is the value term alone and only the value
    head receives gradient.
    """
    policy.train()
    sums: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    valid = rollout.valid_indices()
    group = train.mini_batch_size * train.grad_accum_steps
    params = policy.trainable_parameters()
    for _epoch in range(train.ppo_epochs):
        order = valid[torch.randperm(valid.numel())].tolist()
        for g_start in range(0, len(order), group):
            group_idx = order[g_start:g_start + group]
            token_total = float(sum(rollout.samples[i].response_ids.numel() for i in group_idx))
            optimizer.zero_grad(set_to_none=True)
            head_inputs, head_grads = [], []
            for m_start in range(0, len(group_idx), train.mini_batch_size):
                idx = group_idx[m_start:m_start + train.mini_batch_size]
                batch, resp, mask, old, ref, adv, old_v, ret = _minibatch(policy, rollout, idx)
                # During the warm-up the loss is the value term alone, and the value head
                # reads a detached hidden state: the backbone pass needs no graph then.
                with torch.no_grad() if policy_frozen else contextlib.nullcontext():
                    scores = policy.score(batch, resp, mask, temperature=temperature,
                                          values=False, entropy=algo.entropy_coef > 0)
                values = _head_leaf(policy, scores.value_inputs)
                loss, diag = vldac_loss(
                    scores.logprobs, old, ref, mask, adv, values, old_v, ret,
                    clip_eps=algo.clip_eps, value_clip_eps=algo.value_clip_eps,
                    kl_coef=algo.kl_coef, value_coef=algo.value_coef,
                    entropy_coef=algo.entropy_coef, entropy=scores.entropy,
                    policy_frozen=policy_frozen, token_normalizer=max(token_total, 1.0),
                    sample_normalizer=float(len(group_idx)))
                loss.backward()
                if values.grad is not None:
                    head_inputs.append(scores.value_inputs)
                    head_grads.append(values.grad)
                sums["loss/total"] += loss.item()  # micro-batch losses sum to the group loss
                for key, value in diag.items():
                    sums[key] += value
                    counts[key] += 1
            _head_backward(policy, head_inputs, head_grads)
            if train.max_grad_norm is not None:
                norm = torch.nn.utils.clip_grad_norm_(params, train.max_grad_norm)
            else:
                norm = torch.linalg.vector_norm(torch.stack(
                    [p.grad.norm() for p in params if p.grad is not None]))
            if not math.isfinite(float(norm)):
                raise FloatingPointError("non-finite gradient norm; lower train.lr or check "
                                         "the model's dtype")
            sums["grad_norm"] += float(norm)
            counts["grad_norm"] += 1
            counts["loss/total"] += 1
            optimizer.step()
            scheduler.step()
    policy.eval()
    out = {k: sums[k] / max(counts[k], 1) for k in sums}
    return out
