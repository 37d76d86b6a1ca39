"""The actor-critic on a tiny Qwen2-VL: log-prob consistency, gradient flow, warm-up."""

import pytest
import torch

from vldac.models import adapter_counts, load_policy
from vldac.rollout import EnvSpec, RolloutCollector, VectorEnv
from vldac.train.update import _minibatch, compute_advantages, ppo_update


def collect(cfg, policy):
    vec = VectorEnv(EnvSpec(cfg.env.name, {}), cfg.env.num_envs, 0)
    collector = RolloutCollector(policy, vec, seed=cfg.seed, history=1,
                                 max_new_tokens=cfg.rollout.max_new_tokens,
                                 temperature=cfg.rollout.temperature, do_sample=True,
                                 stats_window=10)
    rollout, _ = collector.collect(cfg.rollout.steps_per_env)
    vec.close()
    compute_advantages(rollout, cfg.algo)
    return rollout


@pytest.fixture
def setup(make_config):
    cfg = make_config(rollout={"temperature": 0.7})
    policy = load_policy(cfg.model, seed=cfg.seed)
    return cfg, policy, collect(cfg, policy)


def lora_params(policy):
    return {n: p for n, p in policy.named_parameters() if "lora_" in n}


def test_first_epoch_ratio_is_one_and_kl_to_reference_is_zero(setup):
    cfg, policy, rollout = setup
    policy.train()  # update mode; LoRA dropout is 0 in this config
    batch, resp, mask, old, ref, *_ = _minibatch(policy, rollout, list(range(len(rollout.samples))))
    new = policy.score(batch, resp, mask, temperature=0.7).logprobs
    assert mask.sum() > 0
    assert (new - old)[mask].abs().max() < 1e-5  # behaviour log-probs from generation logits
    assert (new - ref)[mask].abs().max() < 1e-5  # LoRA B starts at 0: policy == base model


def test_gradients_reach_only_lora_and_the_value_head(setup):
    cfg, policy, rollout = setup
    policy.train()
    batch, resp, mask, old, ref, adv, old_v, ret = _minibatch(policy, rollout, [0, 1, 2, 3])
    scores = policy.score(batch, resp, mask, temperature=0.7)
    loss = (scores.logprobs * mask).sum() + scores.values.sum()
    loss.backward()
    with_grad = {n for n, p in policy.named_parameters() if p.grad is not None}
    assert with_grad and all("lora_" in n or n.startswith("value_head.") for n in with_grad)
    assert any(n.startswith("value_head.") for n in with_grad)
    assert any("lora_B" in n for n in with_grad)
    frozen = [n for n, p in policy.named_parameters() if p.requires_grad
              and "lora_" not in n and not n.startswith("value_head.")]
    assert frozen == []


def test_value_head_input_is_detached(setup):
    cfg, policy, rollout = setup
    policy.train()
    batch, resp, mask, *_ = _minibatch(policy, rollout, [0, 1])
    policy.score(batch, resp, mask).values.sum().backward()
    assert all(p.grad is None for n, p in lora_params(policy).items())


def test_warmup_moves_the_value_head_but_not_lora(setup):
    cfg, policy, rollout = setup
    before = {n: p.detach().clone() for n, p in policy.named_parameters() if p.requires_grad}
    opt = torch.optim.Adam(policy.trainable_parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    ppo_update(policy, opt, sched, rollout, cfg.algo, cfg.train, 0.7, policy_frozen=True)
    for name, p in policy.named_parameters():
        if "lora_" in name:
            assert torch.equal(p, before[name]), name
    assert any(not torch.equal(p, before[n]) for n, p in policy.named_parameters()
               if n.startswith("value_head."))


def test_every_lora_tensor_changes_after_one_policy_update(setup):
    cfg, policy, rollout = setup
    assert cfg.train.ppo_epochs >= 2  # lora_A first moves once lora_B is non-zero
    before = {n: p.detach().clone() for n, p in lora_params(policy).items()}
    opt = torch.optim.Adam(policy.trainable_parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    ppo_update(policy, opt, sched, rollout, cfg.algo, cfg.train, 0.7, policy_frozen=False)
    unchanged = [n for n, p in lora_params(policy).items() if torch.equal(p, before[n])]
    assert before and unchanged == []


@pytest.mark.parametrize("family", ["qwen2_vl", "qwen2_5_vl", "gemma3", "idefics3"])
def test_lora_sits_in_the_language_model_only(make_config, family):
    cfg = make_config(model={"path": f"tiny:{family}"})
    policy = load_policy(cfg.model)
    counts = adapter_counts(policy)
    assert counts["vision"] == 0 and counts["other"] == 0
    assert counts["language_model"] == 2 * 7  # 2 layers x (q, k, v, o, gate, up, down)
    # and the whole learner path runs for this family
    rollout = collect(cfg, policy)
    assert rollout.valid.all() and len(rollout.samples) == 12
