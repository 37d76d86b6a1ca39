"""The paper's baselines in the trainer: RL4VLM and LOOP on a tiny Qwen2-VL (tiny budgets:
these tests check the machinery, not the baselines' learning)."""

from __future__ import annotations

import math

import pytest
import torch

from vldac.config import ConfigError
from vldac.models import load_policy
from vldac.rollout import EnvSpec, RolloutCollector, VectorEnv
from vldac.train import train
from vldac.train.update import compute_advantages, ppo_update

RL4VLM = {"name": "rl4vlm", "thought_weight": 0.5, "value_stop_grad": False, "kl_coef": 0.0,
          "warmup_updates": 0}
LOOP = {"name": "loop", "group_size": 2, "warmup_updates": 0}


def collector(cfg, policy, vec):
    return RolloutCollector(
        policy, vec, seed=cfg.seed, history=1, max_new_tokens=cfg.rollout.max_new_tokens,
        temperature=1.0, do_sample=True, stats_window=10,
        group_size=cfg.algo.group_size if cfg.algo.name == "loop" else None,
        action_masks=cfg.algo.name == "rl4vlm")


def trainable(run_dir, update):
    state = torch.load(run_dir / "checkpoints" / f"update_{update:06d}" / "trainer_state.pt",
                       weights_only=False)
    return state["trainable"]


# -- RL4VLM ------------------------------------------------------------------------------------
def test_rl4vlm_marks_action_tokens_and_trains_the_backbone_through_the_value(make_config):
    cfg = make_config(algo={**RL4VLM, "warmup_updates": 1})
    policy = load_policy(cfg.model, seed=cfg.seed)
    with VectorEnv(EnvSpec(cfg.env.name, {}), cfg.env.num_envs, 0) as vec:
        rollout, _ = collector(cfg, policy, vec).collect(cfg.rollout.steps_per_env)
    for sample in rollout.samples:
        assert sample.action_mask is not None
        assert sample.action_mask.shape == sample.response_ids.shape
    compute_advantages(rollout, cfg.algo)
    lora = {n: p.detach().clone() for n, p in policy.named_parameters() if "lora_" in n}
    opt = torch.optim.Adam(policy.trainable_parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    # Warm-up: the loss is the value term alone, yet LoRA moves, since RL4VLM's value head
    # reads a hidden state that is not detached (VL-DAC's warm-up leaves LoRA unchanged).
    ppo_update(policy, opt, sched, rollout, cfg.algo, cfg.train, 1.0, policy_frozen=True)
    moved = [n for n, p in policy.named_parameters() if "lora_" in n
             and not torch.equal(p.detach(), lora[n])]
    assert moved


def test_rl4vlm_training_runs_and_logs_its_losses(make_config):
    cfg = make_config(algo=RL4VLM)
    result = train(cfg)
    assert result.final["update"] == cfg.num_updates
    assert math.isfinite(result.final["loss/policy"]) and math.isfinite(result.final["loss/value"])


# -- LOOP ------------------------------------------------------------------------------------
def test_loop_rounds_share_starts_within_groups_and_wait_after_the_episode(make_config):
    cfg = make_config(algo=LOOP, env={"num_envs": 4, "max_episode_steps": 2},
                      rollout={"steps_per_env": 4})
    policy = load_policy(cfg.model, seed=cfg.seed)
    with VectorEnv(EnvSpec(cfg.env.name, {"max_episode_steps": 2}), 4, 0) as vec:
        col = collector(cfg, policy, vec)
        rollout, stats = col.collect(4)
        first = [s.prompt["input_ids"] for s in rollout.samples[:4]]
        seeds = [slot.seed for slot in col.slots]
        _, _ = col.collect(4)
        seeds_next = [slot.seed for slot in col.slots]
    assert seeds[0] == seeds[1] and seeds[2] == seeds[3] and seeds[0] != seeds[2]
    assert seeds_next[0] == seeds_next[1] and seeds_next[0] != seeds[0]  # a new round
    assert torch.equal(first[0], first[1]) and torch.equal(first[2], first[3])
    # every episode ends within 2 steps, so rows 2 and 3 are not played
    assert rollout.samples[8:] == [None] * 8
    assert not rollout.valid[2:].any() and rollout.valid[0].all()
    assert stats["env_steps_played"] <= 8 and stats["unfinished_episodes"] == 0
    from vldac.train.update import loop_advantages

    returns = (rollout.rewards * rollout.valid).sum(0)
    expected = torch.stack([returns[0] - returns[1], returns[1] - returns[0],
                            returns[2] - returns[3], returns[3] - returns[2]])
    grid, _ = loop_advantages(rollout, group_size=2)
    assert torch.equal(grid[0], expected)  # leave-one-out within each group, on every step
    assert torch.equal(grid[1][rollout.valid[1]], expected[rollout.valid[1]])
    assert not grid[~rollout.valid].any()


def test_loop_training_counts_played_steps_and_resumes_exactly(make_config, tmp_path):
    sections = dict(algo=LOOP, env={"num_envs": 4, "max_episode_steps": 3},
                    rollout={"steps_per_env": 3},
                    train={"total_env_steps": 36, "checkpoint_every": 1})
    straight = make_config(**sections, output_dir=str(tmp_path / "straight"))
    result = train(straight)
    assert result.final["update"] == 3
    assert 0 < result.final["env_steps"] <= 36  # episodes may end before the 3rd step
    stopped = make_config(**sections, output_dir=str(tmp_path / "stopped"))
    train(stopped, stop_after=1)
    train(stopped, resume=True)
    a, b = trainable(tmp_path / "straight", 3), trainable(tmp_path / "stopped", 3)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_loop_config_is_checked(make_config):
    with pytest.raises(ConfigError, match="multiple of algo.group_size"):
        make_config(algo={**LOOP, "group_size": 3}, env={"num_envs": 4})
    with pytest.raises(ConfigError, match="no critic"):
        make_config(algo={**LOOP, "warmup_updates": 2})
