"""The VL-DAC training loop: collect -> advantages -> update, with exact resume.

    for update k in 0 .. num_updates-1:
        1. collect:    N envs x T steps, batched generation, no gradients
        2. advantages: GAE over environment steps, normalised
        3. update:     PPO epochs on token-level clipped surrogate + k3 KL + value loss
                       (value only for the first ``warmup_updates`` updates)
        4. log:        rollout/, loss/, policy/, time/ metrics to metrics.jsonl and dvclive
        5. checkpoint: every ``checkpoint_every`` updates and after the last one
"""

from __future__ import annotations

import json
import math
import platform
import random
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from vldac.config import Config
from vldac.errors import RunExistsError
from vldac.models import load_policy
from vldac.rollout import EnvSpec, RolloutCollector, VectorEnv
from vldac.train.checkpoint import (
    latest_checkpoint,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from vldac.train.metrics import MetricsLogger
from vldac.train.update import compute_advantages, ppo_update


@dataclass
class TrainResult:
    output_dir: Path
    checkpoint: Path
    metrics: Path
    final: dict


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def cosine_schedule(optimizer, total_steps: int, lr: float, end_lr: float):
    """lr -> end_lr along half a cosine over ``total_steps`` optimiser steps, then flat."""
    def factor(step: int) -> float:
        progress = min(step / max(total_steps - 1, 1), 1.0)
        return (end_lr + 0.5 * (lr - end_lr) * (1 + math.cos(math.pi * progress))) / lr
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _prepare_output(cfg: Config, resume: bool) -> tuple[Path, Path | None]:
    out = Path(cfg.output_dir)
    ckpt = latest_checkpoint(out / "checkpoints")
    if resume:
        if ckpt is None:
            raise RunExistsError(f"--resume found no checkpoint under {out}/checkpoints; "
                                 "start the run without --resume.")
        saved = json.loads((out / "config.json").read_text())
        if saved != cfg.to_dict():
            changed = sorted(k for k in saved if saved[k] != cfg.to_dict().get(k))
            raise RunExistsError(f"the config differs from the one {out} was started with "
                                 f"(sections: {', '.join(changed)}); resume with the same config.")
    elif out.exists() and any(out.iterdir()):
        raise RunExistsError(f"{out} already holds files; pass --resume to continue that run "
                             "or choose another output_dir.")
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2))
    return out, ckpt


def write_manifest(out: Path, cfg: Config, device: torch.device) -> None:
    """Provenance: package versions, git commit, seed and device of this run."""
    import peft
    import transformers

    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=5, cwd=Path(__file__).parent).stdout.strip() or None
    except (OSError, subprocess.TimeoutExpired):
        commit = None
    from vldac import __version__

    (out / "manifest.json").write_text(json.dumps({
        "vldac": __version__, "git_commit": commit, "python": platform.python_version(),
        "torch": torch.__version__, "transformers": transformers.__version__,
        "peft": peft.__version__, "device": str(device), "seed": cfg.seed,
        "model": cfg.model.path, "env": cfg.env.name,
        "cuda": torch.cuda.get_device_name(0) if device.type == "cuda" else None,
    }, indent=2))


def train(cfg: Config, resume: bool = False, stop_after: int | None = None) -> TrainResult:
    """Run (or continue) the training described by ``cfg``; ``stop_after`` ends the run
    early after that many updates in total (a checkpoint is written there)."""
    out, ckpt = _prepare_output(cfg, resume)
    seed_everything(cfg.seed)
    policy = load_policy(cfg.model, seed=cfg.seed)
    write_manifest(out, cfg, policy.device)
    # fused: one kernel over all parameters instead of a Python loop per tensor.
    optimizer = torch.optim.Adam(policy.trainable_parameters(), lr=cfg.train.lr,
                                 eps=cfg.train.adam_eps, weight_decay=cfg.train.weight_decay,
                                 fused=True)
    total_opt_steps = cfg.num_updates * cfg.optimizer_steps_per_update
    scheduler = cosine_schedule(optimizer, total_opt_steps, cfg.train.lr, cfg.train.end_lr)
    vec_env = VectorEnv(EnvSpec(cfg.env.name, cfg.env.constructor_kwargs()), cfg.env.num_envs,
                        cfg.env.num_workers)
    collector = RolloutCollector(
        policy, vec_env, seed=cfg.seed, history=cfg.env.history,
        max_new_tokens=cfg.rollout.max_new_tokens, temperature=cfg.rollout.temperature,
        do_sample=cfg.rollout.do_sample, stats_window=cfg.train.eval_episodes)
    start_update, env_steps, history = 0, 0, []
    if ckpt is not None:
        state = load_checkpoint(ckpt, policy)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        collector.load_state_dict(state["collector"])
        start_update, env_steps, history = state["update"], state["env_steps"], state["history"]
        set_rng_state(state["rng"])  # last: replay and loading must not shift the streams
    logger = MetricsLogger(out, history, cfg.log.dvclive, resume=ckpt is not None)
    end_update = cfg.num_updates if stop_after is None else min(stop_after, cfg.num_updates)
    last_ckpt = ckpt

    from tqdm.auto import tqdm

    bar = tqdm(range(start_update, end_update), initial=start_update, total=cfg.num_updates,
               desc="VL-DAC", unit="update", disable=not cfg.log.progress)
    try:
        for update in bar:
            t0 = time.perf_counter()
            # 1. collect
            rollout, rollout_stats = collector.collect(cfg.rollout.steps_per_env)
            t1 = time.perf_counter()
            # 2. advantages
            adv_stats = compute_advantages(rollout, cfg.algo)
            # 3. update
            frozen = update < cfg.algo.warmup_updates
            upd = ppo_update(policy, optimizer, scheduler, rollout, cfg.algo, cfg.train,
                             cfg.rollout.temperature, policy_frozen=frozen)
            t2 = time.perf_counter()
            env_steps += cfg.steps_per_update
            # 4. log
            record = {"update": update + 1, "env_steps": env_steps}
            record.update({f"rollout/{k}": v for k, v in rollout_stats.items()})
            record.update({"loss/total": upd.pop("loss/total", float("nan")),
                           "loss/policy": upd.pop("policy_loss", float("nan")),
                           "loss/value": upd.pop("value_loss", float("nan")),
                           "loss/kl": upd.pop("kl_loss", float("nan"))})
            upd["kl_ref"] = record["loss/kl"]
            upd.pop("tokens", None)
            record.update({f"policy/{k}": v for k, v in {**upd, **adv_stats}.items()})
            record["policy/lr"] = scheduler.get_last_lr()[0]
            record["policy/frozen"] = float(frozen)
            record.update({"time/rollout_s": t1 - t0, "time/update_s": t2 - t1,
                           "time/env_steps_per_s": cfg.steps_per_update / (t2 - t0)})
            logger.log(record)
            bar.set_postfix(success=f"{rollout_stats.get('success_rate', float('nan')):.2f}",
                            steps_per_s=f"{record['time/env_steps_per_s']:.1f}")
            # 5. checkpoint
            if (update + 1) % cfg.train.checkpoint_every == 0 or update + 1 == end_update:
                last_ckpt = save_checkpoint(out / "checkpoints", update + 1, policy, {
                    "update": update + 1, "env_steps": env_steps, "history": logger.history,
                    "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                    "collector": collector.state_dict(), "rng": rng_state()})
    finally:
        bar.close()
        logger.close()
        vec_env.close()
    final = logger.history[-1] if logger.history else {}
    (out / "final_metrics.json").write_text(json.dumps(final, indent=2))
    return TrainResult(out, last_ckpt, logger.path, final)
