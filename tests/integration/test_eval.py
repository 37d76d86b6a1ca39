"""In-domain evaluation: one whole episode per held-out seed, batched over parallel envs."""

import json

import torch

from vldac.eval import evaluate, heldout_seeds, load_run_policy
from vldac.models import load_policy
from vldac.rollout import EnvSpec, VectorEnv
from vldac.train import train

SPEC = EnvSpec("gym_cards/NumberLine-v0", {})


def _evaluate(policy, seeds, num_envs=3, **kwargs):
    with VectorEnv(SPEC, num_envs, 0) as vec:
        return evaluate(policy, vec, seeds, env_name=SPEC.name, history=1, max_new_tokens=6,
                        temperature=1.0, **kwargs)


def test_every_seed_is_played_once_in_order_and_greedy_is_deterministic(make_config):
    cfg = make_config()
    policy = load_policy(cfg.model, seed=cfg.seed)
    seeds = heldout_seeds(0, 7)  # more seeds than envs: envs take new seeds as they finish
    first = _evaluate(policy, seeds, decoding="greedy")
    assert [e.seed for e in first.episodes] == seeds
    for e in first.episodes:
        assert e.length == len(e.texts) == len(e.rewards) >= 1
        assert e.episode_return == sum(e.rewards)
    again = _evaluate(policy, seeds, num_envs=2, decoding="greedy")
    assert [e.texts for e in again.episodes] == [e.texts for e in first.episodes]
    summary = first.summary()
    assert summary["episodes"] == 7 and 0.0 <= summary["success_rate"] <= 1.0
    lo, hi = summary["success_rate_ci95"]
    assert lo <= summary["success_rate"] <= hi


def test_base_model_evaluation_turns_the_adapter_off(make_config):
    cfg = make_config()
    policy = load_policy(cfg.model, seed=cfg.seed)
    seeds = heldout_seeds(1, 3)
    before = _evaluate(policy, seeds, decoding="greedy")
    with torch.no_grad():  # a LoRA B matrix that is no longer zero changes the policy
        for name, p in policy.model.named_parameters():
            if "lora_B" in name:
                p.add_(torch.randn_like(p) * 5.0)
    base = _evaluate(policy, seeds, decoding="greedy", base_model=True)
    tuned = _evaluate(policy, seeds, decoding="greedy", base_model=False)
    assert [e.texts for e in base.episodes] == [e.texts for e in before.episodes]
    assert [e.texts for e in tuned.episodes] != [e.texts for e in before.episodes]


def test_a_trained_run_is_loaded_from_its_checkpoint_and_written_as_json(make_config, tmp_path):
    cfg = make_config()
    result = train(cfg)
    policy, saved = load_run_policy(result.output_dir)
    assert saved.to_dict() == cfg.to_dict()
    trained = dict(policy.trainable_state_dict())
    for key, value in torch.load(result.checkpoint / "trainer_state.pt",
                                 weights_only=False)["trainable"].items():
        assert torch.equal(trained[key], value)
    out = tmp_path / "eval" / "numberline.json"
    _evaluate(policy, heldout_seeds(0, 2), decoding="sampled").write(out)
    data = json.loads(out.read_text())
    assert data["summary"]["decoding"] == "sampled" and len(data["episodes"]) == 2
