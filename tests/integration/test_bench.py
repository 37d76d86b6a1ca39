"""``vldac bench train``: the official loop's re-creation does the work it claims, and the
benchmark runs end to end (at a few steps; its numbers are not checked, they are timings)."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import torch

from vldac import bench
from vldac.models import load_policy

STEPS, EPOCHS = 4, 2


@pytest.fixture
def short_bench(monkeypatch):
    monkeypatch.setattr(bench, "STEPS_PER_UPDATE", STEPS)
    monkeypatch.setattr(bench, "NEW_TOKENS", 3)
    monkeypatch.setattr(bench, "PPO_EPOCHS", EPOCHS)


def _adapters_off(policy) -> bool:
    return any(getattr(m, "disable_adapters", False) for m in policy.hf_model.modules()
               if hasattr(m, "lora_A"))


def test_official_recreation_runs_the_documented_passes(short_bench, monkeypatch):
    """Per update: 2 processor runs and 1 generate per step, a grad-enabled re-forward and an
    adapter-off reference forward per step, a get_value forward, one processor run and one
    forward per sample per epoch; the rollout after an update runs in train mode."""
    cfg = bench._config(1, 1, "tiny:qwen2_vl")
    policy = load_policy(cfg.model, seed=0)
    seen: Counter = Counter()
    in_generate = False
    encode, generate = policy.encode, policy.generate

    def counting_encode(images, text, fast=True):
        seen["processor" if not fast else "fast_encode"] += 1
        return encode(images, text, fast=fast)

    def counting_generate(*args, **kwargs):
        nonlocal in_generate
        seen[f"generate/{'train' if policy.training else 'eval'}"] += 1
        in_generate = True
        try:
            return generate(*args, **kwargs)
        finally:
            in_generate = False

    def on_forward(_module, _args):
        if not in_generate:
            kind = "reference" if _adapters_off(policy) else "policy"
            seen[f"{kind}/{'grad' if torch.is_grad_enabled() else 'no_grad'}"] += 1

    monkeypatch.setattr(policy, "encode", counting_encode)
    monkeypatch.setattr(policy, "generate", counting_generate)
    policy.hf_model.register_forward_pre_hook(on_forward)

    bench._run_official(policy, cfg, updates=2)

    per_update = {"processor": 2 * STEPS + 1 + STEPS * EPOCHS,
                  "policy/grad": STEPS + 1 + STEPS * EPOCHS, "reference/no_grad": STEPS}
    assert {k: seen[k] for k in per_update} == {k: 2 * v for k, v in per_update.items()}
    assert seen["fast_encode"] == 0 and seen["policy/no_grad"] == 0
    assert seen["generate/eval"] == STEPS and seen["generate/train"] == STEPS


def test_bench_prints_the_table_and_writes_json(short_bench, tmp_path, capsys):
    out = tmp_path / "bench.json"
    rows = bench.bench_train(num_envs=2, updates=1, repeats=1, loop="both", out=str(out))
    assert [r["loop"] for r in rows] == ["official", "vldac"]
    assert [r["envs"] for r in rows] == [1, 2]
    for row in rows:
        assert all(row[k] > 0 for k in ("rollout_steps_per_s", "update_steps_per_s",
                                        "total_steps_per_s", "gen_tokens_per_s"))
    assert json.loads(out.read_text()) == rows
    printed = capsys.readouterr().out
    assert "| official | 1 |" in printed and "| vldac | 2 |" in printed
    assert "speed-up (total)" in printed
