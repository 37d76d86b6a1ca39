"""``vldac bench train``: end-to-end training throughput on the tiny reference model.

Settings of the comparison (NumberLine, one 300x300 frame = 121 image tokens, 32 new tokens
every step, 32 env steps per update, 4 PPO epochs, the paper's 3072-2048 value head and LoRA
dropout 0.1):

- ``vldac``:    this package's loop: N envs in worker processes, one batched generate per
                step (value from the prompt pass), one batched reference forward, padded
                mini-batches in the update.
- ``official``: the work pattern of the official code (corl-team/VL-DAC, read at commit
                a3a5457) rebuilt from this package's components; what it does per step and
                per update, and the file each fact comes from, is in :func:`_run_official`.
                Same model, same settings, same machine; it is a re-creation, not the
                official code (which needs DeepSpeed and a GPU).

Generation runs to the full 32 tokens in both (EOS suppressed) so that both do equal work.
Reported: env steps/s for rollout, update and in total, generated tokens/s, peak RSS;
medians over repeats.
"""

from __future__ import annotations

import contextlib
import json
import resource
import statistics
import tempfile
import time
from pathlib import Path

import torch

STEPS_PER_UPDATE = 32
NEW_TOKENS = 32
PPO_EPOCHS = 4


def _config(num_envs: int, mini_batch: int, model_path: str):
    from vldac.config import from_dict

    mini_batch = min(mini_batch, STEPS_PER_UPDATE)
    return from_dict({
        "model": {"path": model_path, "value_head": [3072, 2048], "dtype": "float32",
                  "lora": {"dropout": 0.1}},
        "env": {"name": "gym_cards/NumberLine-v0", "num_envs": num_envs,
                "num_workers": min(2, num_envs)},
        "rollout": {"steps_per_env": STEPS_PER_UPDATE // num_envs,
                    "max_new_tokens": NEW_TOKENS},
        "algo": {"warmup_updates": 0},
        "train": {"ppo_epochs": PPO_EPOCHS, "mini_batch_size": mini_batch,
                  # one optimiser step per epoch in both loops (the paper accumulates 128)
                  "grad_accum_steps": STEPS_PER_UPDATE // mini_batch, "lr": 1e-4},
    })


def _run_vldac(policy, cfg, updates: int) -> list[tuple[float, float, int]]:
    from vldac.rollout import EnvSpec, RolloutCollector, VectorEnv
    from vldac.train.update import compute_advantages, ppo_update

    opt = torch.optim.Adam(policy.trainable_parameters(), lr=cfg.train.lr, fused=True)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    out = []
    with VectorEnv(EnvSpec(cfg.env.name, {}), cfg.env.num_envs, cfg.env.num_workers) as vec:
        col = RolloutCollector(policy, vec, seed=0, history=1, max_new_tokens=NEW_TOKENS,
                               temperature=1.0, do_sample=True, stats_window=50)
        col.gen_kwargs["min_new_tokens"] = NEW_TOKENS  # equal work: always 32 tokens
        col.start()
        for _ in range(updates):
            t0 = time.perf_counter()
            rollout, stats = col.collect(cfg.rollout.steps_per_env)
            t1 = time.perf_counter()
            compute_advantages(rollout, cfg.algo)
            ppo_update(policy, opt, sched, rollout, cfg.algo, cfg.train, 1.0, False)
            out.append((t1 - t0, time.perf_counter() - t1,
                        int(stats["response_tokens"] * STEPS_PER_UPDATE)))
    return out


def _official_forward(policy, batch, response_ids, *, grad: bool):
    """``model_evaluate`` (interface.py): one forward over prompt + response with every
    hidden state returned, a full-vocabulary fp32 log-softmax over every position, then a
    gather of the response tokens; V(s) from the detached last-layer state at the last
    prompt token. Runs with grad enabled where the official code does not disable it."""
    inputs = policy.family.with_response(batch, response_ids, torch.ones_like(response_ids))
    P, L = batch["input_ids"].shape[1], response_ids.shape[1]
    with contextlib.nullcontext() if grad else torch.no_grad():
        out = policy.hf_model(**inputs, output_hidden_states=True)
        logp = out.logits.float().log_softmax(-1)[:, P - 1:P + L - 1]
        logp = logp.gather(-1, response_ids[..., None]).squeeze(-1)
        values = policy.value_head(out.hidden_states[-1][:, P - 1].detach())
    return logp, values


def _run_official(policy, cfg, updates: int) -> list[tuple[float, float, int]]:
    """The official loop's work pattern, with this package's components (file references
    are to corl-team/VL-DAC).

    Per env step, all at batch 1:
      - ``model.py:VLMPolicy.process_obs`` runs the HF processor (no fast path);
      - ``interface.py:model_generate``: generate (vision tower in the prefill);
      - ``interface.py:model_evaluate``: a policy re-forward over prompt + response, with
        grad enabled (it runs after the inference-mode block), every hidden state returned,
        a full-vocabulary log-softmax, and V(s_t) from the same pass;
      - ``model.py:get_reference_model_logits``: the processor again, then the same forward
        with the adapters disabled.
    ``algo/ppo.py:PPO.update`` calls ``train()`` and nothing calls ``eval()``, so after the
    first update the rollouts run in train mode, LoRA dropout on. After the rollout,
    ``get_value`` runs the processor and a prompt forward for V(s_T). In the update every
    sample of every epoch runs the processor and one forward (log-probs and value).

    Departures, all in the official loop's favour: one optimiser step per epoch, as in our
    loop (the gymcards config steps every 2 samples); no bf16 casts, no deep copies of the
    stored conversations, no unused generate outputs (scores, hidden states).
    """
    from vldac.algo import step_gae, vldac_loss
    from vldac.envs import make

    def processor(o):  # model.py:process_obs, the HF processor path (no fast path)
        return policy.collate([policy.encode(o.images, o.text, fast=False)])

    env = make(cfg.env.name)
    obs = env.reset(0)
    opt = torch.optim.Adam(policy.trainable_parameters(), lr=cfg.train.lr, fused=True)
    out = []
    for _ in range(updates):
        t0 = time.perf_counter()
        steps, rewards, values, dones, tokens = [], [], [], [], 0
        for _ in range(STEPS_PER_UPDATE):
            batch = processor(obs)
            gen = policy.generate(batch, NEW_TOKENS, 1.0, min_new_tokens=NEW_TOKENS)
            old, value = _official_forward(policy, batch, gen.response_ids, grad=True)
            old, value = old.detach(), value.detach()
            with policy.model.disable_adapter():
                ref, _ = _official_forward(policy, processor(obs), gen.response_ids, grad=False)
            tokens += int(gen.response_mask.sum())
            res = env.step(gen.texts[0])
            steps.append((obs, gen.response_ids, gen.response_mask, old, ref))
            rewards.append(res.reward)
            values.append(float(value[0]))
            dones.append(res.terminated or res.truncated)
            obs = env.reset(len(rewards)) if dones[-1] else res.observation
        _, last_value = _official_forward(policy, processor(obs), gen.response_ids[:, :0],
                                          grad=True)  # get_value: a prompt-only forward
        t1 = time.perf_counter()
        r, v = torch.tensor(rewards)[:, None], torch.tensor(values)[:, None]
        d = torch.tensor(dones)[:, None]
        adv, ret = step_gae(r, v, last_value.detach().float(), d, torch.zeros_like(d),
                            0.99, 0.95)
        policy.train()
        for _epoch in range(PPO_EPOCHS):
            for i in torch.randperm(STEPS_PER_UPDATE).tolist():
                step_obs, resp, mask, old, ref = steps[i]
                logp, value = _official_forward(policy, processor(step_obs), resp, grad=True)
                loss, _ = vldac_loss(logp, old, ref, mask, adv[i], value, v[i], ret[i],
                                     clip_eps=0.1, value_clip_eps=0.1, kl_coef=0.05,
                                     value_coef=0.15)
                (loss / STEPS_PER_UPDATE).backward()
            opt.step()  # one optimiser step per epoch, as in the batched loop
            opt.zero_grad()
        out.append((t1 - t0, time.perf_counter() - t1, tokens))
    env.close()
    return out


def bench_train(num_envs: int = 32, updates: int = 2, repeats: int = 3, loop: str = "both",
                out: str | None = None) -> list[dict]:
    from vldac.models import load_policy
    from vldac.models.tiny import make_tiny

    torch.set_num_threads(torch.get_num_threads())
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        model_path = str(make_tiny("qwen2_vl", Path(tmp) / "tiny-qwen2vl"))
        loops = ["official", "vldac"] if loop == "both" else [loop]
        for name in loops:
            envs = 1 if name == "official" else num_envs
            cfg = _config(envs, 1 if name == "official" else 8, model_path)
            policy = load_policy(cfg.model, seed=0)
            run = _run_official if name == "official" else _run_vldac
            run(policy, cfg, 1)  # warm-up: allocator, worker start, first-call overheads
            samples = [t for _ in range(repeats) for t in run(policy, cfg, updates)]
            roll = statistics.median(s[0] for s in samples)
            upd = statistics.median(s[1] for s in samples)
            toks = statistics.median(s[2] for s in samples)
            rows.append({"loop": name, "envs": envs, "rollout_steps_per_s": STEPS_PER_UPDATE / roll,
                         "update_steps_per_s": STEPS_PER_UPDATE / upd,
                         "total_steps_per_s": STEPS_PER_UPDATE / (roll + upd),
                         "gen_tokens_per_s": toks / roll,
                         "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20})
            del policy
    _print_table(rows, updates, repeats)
    if out:
        Path(out).write_text(json.dumps(rows, indent=2))
    return rows


def _print_table(rows: list[dict], updates: int, repeats: int) -> None:
    print(f"\nNumberLine, tiny Qwen2-VL reference model, {STEPS_PER_UPDATE} env steps/update, "
          f"{NEW_TOKENS} new tokens/step, {PPO_EPOCHS} PPO epochs; medians over "
          f"{updates * repeats} updates; torch threads {torch.get_num_threads()}")
    print("| loop | envs | rollout steps/s | update steps/s | total steps/s | gen tok/s | peak RSS GB |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['loop']} | {r['envs']} | {r['rollout_steps_per_s']:.1f} | "
              f"{r['update_steps_per_s']:.1f} | {r['total_steps_per_s']:.2f} | "
              f"{r['gen_tokens_per_s']:.0f} | {r['peak_rss_gb']:.2f} |")
    if len(rows) == 2 and rows[0]["loop"] == "official":
        print(f"speed-up (total): {rows[1]['total_steps_per_s'] / rows[0]['total_steps_per_s']:.1f}x")
