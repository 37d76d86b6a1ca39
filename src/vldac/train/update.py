"""Stages 2 and 3 of an update: advantages over env steps, then the PPO epochs.

Both take a :class:`~vldac.train.distributed.World`; alone (the default) they are the
single-process computation. Across K ranks (see :mod:`vldac.train.distributed`) GAE stays
per env, advantage normalisation and the rollout diagnostics use the moments of all ranks'
valid steps, and each optimiser step sums the ranks' gradients of one accumulation group
normalised by the group's global token and sample counts.
"""

from __future__ import annotations

import contextlib
import math
from collections import defaultdict

import torch

from vldac.algo import explained_variance, normalize_advantages, step_gae, vldac_loss
from vldac.algo.loop import episode_advantages_to_steps, leave_one_out_advantages, loop_loss
from vldac.algo.rl4vlm import rl4vlm_loss
from vldac.config import AlgoConfig, TrainConfig
from vldac.models.policy import VLMPolicy
from vldac.rollout.buffer import Rollout, pad_right
from vldac.train.distributed import World, masked_moments, sum_gradients

SINGLE = World()


def compute_advantages(rollout: Rollout, algo: AlgoConfig,
                       world: World = SINGLE) -> dict[str, float]:
    """Fill ``rollout.advantages`` / ``returns`` and normalise: GAE over env steps, or for
    LOOP the leave-one-out episode advantages (see :func:`loop_advantages`)."""
    if algo.name == "loop":
        advantages, returns = loop_advantages(rollout, algo.group_size)
    else:
        advantages, returns = step_gae(rollout.rewards, rollout.values,
                                       rollout.bootstrap_values, rollout.terminated,
                                       rollout.truncated, algo.gamma, algo.lam, algo.truncation)
    if world.distributed:
        stats = _global_advantages(rollout, advantages, returns, algo, world)
    else:
        stats = _local_advantages(rollout, advantages, returns, algo)
    if algo.name == "loop":  # no critic: its value statistics mean nothing
        stats.update(explained_variance=float("nan"), value_mean=float("nan"))
    return stats


def loop_advantages(rollout: Rollout, group_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """LOOP over one round of episodes (:meth:`RolloutCollector.collect` with groups):
    env n played one episode, counted where any of its steps is valid (it ended within the
    round and its worker did not crash), with return R_n = sum of its rewards. Envs
    g*K .. g*K+K-1 form group g (same start); each counted episode's advantage is
    R_n - mean of the group's other counted returns, on every step of the episode.
    Returns (advantages [T, N], returns [T, N]: R_n on the episode's steps)."""
    valid = rollout.valid
    episode_returns = (rollout.rewards * valid).sum(0)  # [N]
    counted = valid.any(0).nonzero().squeeze(-1)
    advantages = leave_one_out_advantages(episode_returns[counted], counted // group_size)
    episode_of_step = torch.full(valid.shape, -1, dtype=torch.long)
    episode_of_step[:, counted] = torch.arange(counted.numel())
    episode_of_step[~valid] = -1
    grid = episode_advantages_to_steps(episode_of_step, advantages, valid)
    return grid, torch.where(valid, episode_returns.expand_as(valid), 0.0)


def _local_advantages(rollout: Rollout, advantages: torch.Tensor, returns: torch.Tensor,
                      algo: AlgoConfig) -> dict[str, float]:
    raw_std = float(advantages[rollout.valid].std()) if rollout.valid.sum() > 1 else 0.0
    if algo.normalize_advantages:
        advantages = normalize_advantages(advantages, rollout.valid)
    rollout.advantages, rollout.returns = advantages, returns
    return {"explained_variance": explained_variance(rollout.values, returns, rollout.valid),
            "advantage_std": raw_std,
            "value_mean": float(rollout.values[rollout.valid].mean()),
            "return_mean": float(returns[rollout.valid].mean())}


def _global_advantages(rollout: Rollout, advantages: torch.Tensor, returns: torch.Tensor,
                       algo: AlgoConfig, world: World) -> dict[str, float]:
    """:func:`compute_advantages` over K ranks: every statistic is that of the union of the
    ranks' valid steps (n, mean, var from :func:`masked_moments`),

        A <- (A - mean_A) / (std_A + 1e-8),   EV = 1 - Var(R - V) / Var(R),

    so K ranks x N envs normalise like one process with K*N envs.
    """
    valid = rollout.valid
    n, mean, var = masked_moments(advantages, valid, world)
    raw_std = math.sqrt(var) if n > 1 else 0.0
    if algo.normalize_advantages:
        std = math.sqrt(var) if n > 1 else 1.0  # one sample: centre it, as alone
        advantages = torch.where(valid, (advantages - mean) / (std + 1e-8),
                                 torch.zeros_like(advantages))
    rollout.advantages, rollout.returns = advantages, returns
    _, return_mean, var_r = masked_moments(returns, valid, world)
    _, _, var_e = masked_moments(returns - rollout.values, valid, world)
    _, value_mean, _ = masked_moments(rollout.values, valid, world)
    nan = float("nan")
    return {"explained_variance": 1.0 - var_e / var_r if var_r > 0 else nan,
            "advantage_std": raw_std,
            "value_mean": value_mean if n else nan,
            "return_mean": return_mean if n else nan}


def _minibatch(policy: VLMPolicy, rollout: Rollout, idx: list[int]):
    samples = [rollout.samples[i] for i in idx]
    batch = policy.collate([s.prompt for s in samples])
    response, mask = pad_right([s.response_ids for s in samples], policy.pad_token_id)
    old, _ = pad_right([s.old_logprobs for s in samples], 0.0)
    ref, _ = pad_right([s.ref_logprobs for s in samples], 0.0)
    flat = lambda x: x.flatten()[idx].to(policy.device)  # noqa: E731
    dev = lambda x: x.to(policy.device)  # noqa: E731
    action = (dev(pad_right([s.action_mask for s in samples], False)[0])
              if samples[0].action_mask is not None else None)
    return (batch, dev(response), dev(mask), dev(old), dev(ref), flat(rollout.advantages),
            flat(rollout.values), flat(rollout.returns), action)


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


def _loss(algo: AlgoConfig, scores, old, ref, mask, adv, values, old_values, returns, action,
          policy_frozen: bool, normalizers: dict) -> tuple[torch.Tensor, dict[str, float]]:
    """The objective of ``algo.name`` on one micro-batch: VL-DAC's (token-level PPO, KL,
    value), RL4VLM's (one lambda-weighted ratio per step, value) or LOOP's (token-level PPO
    and KL on leave-one-out advantages, no critic)."""
    if algo.name == "loop":
        return loop_loss(scores.logprobs, old, ref, mask, adv, clip_eps=algo.clip_eps,
                         kl_coef=algo.kl_coef, **normalizers)
    if algo.name == "rl4vlm":
        return rl4vlm_loss(scores.logprobs, old, ref, mask, action, adv, values, old_values,
                           returns, thought_weight=algo.thought_weight, clip_eps=algo.clip_eps,
                           value_clip_eps=algo.value_clip_eps, value_coef=algo.value_coef,
                           kl_coef=algo.kl_coef, policy_frozen=policy_frozen, **normalizers)
    return vldac_loss(scores.logprobs, old, ref, mask, adv, values, old_values, returns,
                      clip_eps=algo.clip_eps, value_clip_eps=algo.value_clip_eps,
                      kl_coef=algo.kl_coef, value_coef=algo.value_coef,
                      entropy_coef=algo.entropy_coef, entropy=scores.entropy,
                      policy_frozen=policy_frozen, **normalizers)


def ppo_update(policy: VLMPolicy, optimizer: torch.optim.Optimizer, scheduler,
               rollout: Rollout, algo: AlgoConfig, train: TrainConfig, temperature: float,
               policy_frozen: bool, world: World = SINGLE) -> dict[str, float]:
    """``ppo_epochs`` passes over the rollout in shuffled mini-batches.

    Each optimiser step accumulates ``grad_accum_steps`` mini-batches of ``mini_batch_size``
    padded samples; the loss is normalised by the token / sample counts of the whole
    accumulation group, so the step equals one on the group as a single batch. During the
    value warm-up (``policy_frozen``) the loss is the value term alone and only the value
    head receives gradient.

    Across K ranks the group is the union of the ranks' groups (K x mini_batch_size x
    grad_accum_steps samples): the normalisers are its global counts, the gradients are
    summed over ranks before clipping, and the number of groups per epoch is the largest
    over ranks (a rank whose samples ran out contributes zero gradient), so every rank
    takes the same optimiser steps. The returned metrics are over all ranks.
    """
    policy.train()
    sums: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    valid = rollout.valid_indices()
    group = train.mini_batch_size * train.grad_accum_steps
    params = policy.trainable_parameters()
    n_groups = -(-valid.numel() // group)
    if world.distributed:
        n_groups = int(world.all_reduce_max(float(n_groups)))
    for _epoch in range(train.ppo_epochs):
        order = valid[torch.randperm(valid.numel())].tolist()
        groups = [order[g * group:(g + 1) * group] for g in range(n_groups)]
        # [tokens, samples] of each group, summed over ranks: the loss normalisers
        totals = torch.tensor([[float(sum(rollout.samples[i].response_ids.numel() for i in g)),
                                float(len(g))] for g in groups], dtype=torch.float64)
        if world.distributed and n_groups:
            totals = world.all_reduce_sum(totals)
        for group_idx, (token_total, sample_total) in zip(groups, totals.tolist(), strict=True):
            optimizer.zero_grad(set_to_none=True)
            head_inputs, head_grads = [], []
            for m_start in range(0, len(group_idx), train.mini_batch_size):
                idx = group_idx[m_start:m_start + train.mini_batch_size]
                batch, resp, mask, old, ref, adv, old_v, ret, action = _minibatch(
                    policy, rollout, idx)
                # During the warm-up the loss is the value term alone, and the value head
                # reads a detached hidden state: the backbone pass needs no graph then.
                no_graph = policy_frozen and algo.value_stop_grad
                with torch.no_grad() if no_graph else contextlib.nullcontext():
                    scores = policy.score(batch, resp, mask, temperature=temperature,
                                          values=False, entropy=algo.entropy_coef > 0,
                                          detach_value_input=algo.value_stop_grad)
                if algo.value_stop_grad:
                    values = _head_leaf(policy, scores.value_inputs)
                else:  # RL4VLM: the value loss also trains the backbone (LoRA)
                    values = policy.value_head(scores.value_inputs, detach=False)
                normalizers = dict(token_normalizer=max(token_total, 1.0),
                                   sample_normalizer=sample_total)
                loss, diag = _loss(algo, scores, old, ref, mask, adv, values, old_v, ret,
                                   action, policy_frozen, normalizers)
                loss.backward()
                if algo.value_stop_grad and values.grad is not None:
                    head_inputs.append(scores.value_inputs)
                    head_grads.append(values.grad)
                sums["loss/total"] += loss.item()  # micro-batch losses sum to the group loss
                for key, value in diag.items():
                    sums[key] += value
                    counts[key] += 1
            _head_backward(policy, head_inputs, head_grads)
            sum_gradients(params, world)  # K ranks: sum_r grad_r; alone: nothing
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
    if world.distributed:
        return _merge_update_metrics(world.all_gather_object((dict(sums), dict(counts))))
    out = {k: sums[k] / max(counts[k], 1) for k in sums}
    return out


def _merge_update_metrics(per_rank: list[tuple[dict, dict]]) -> dict[str, float]:
    """The metrics of :func:`ppo_update` over all ranks, from each rank's (sums, counts).

    loss/total: the group loss is the sum of the ranks' parts, averaged over the (common)
    number of groups; grad_norm: the same on every rank (summed gradients), taken from
    rank 0; every diagnostic: the mean over all ranks' micro-batches.
    """
    sums0, counts0 = per_rank[0]
    keys = sorted({k for sums, _ in per_rank for k in sums})
    out = {}
    for key in keys:
        total = sum(sums.get(key, 0.0) for sums, _ in per_rank)
        if key == "loss/total":
            out[key] = total / max(counts0.get(key, 0), 1)
        elif key == "grad_norm":
            out[key] = sums0[key] / max(counts0[key], 1)
        else:
            out[key] = total / max(sum(counts.get(key, 0) for _, counts in per_rank), 1)
    return out
