"""The VL-DAC training loop: collect -> advantages -> update, with exact resume.

    for update k in 0 .. num_updates-1:
        1. collect:    N envs x T steps, batched generation, no gradients
        2. advantages: GAE over environment steps, normalised
        3. update:     PPO epochs on token-level clipped surrogate + k3 KL + value loss
                       (value only for the first ``warmup_updates`` updates)
        4. log:        rollout/, loss/, policy/, time/ metrics to metrics.jsonl and dvclive
        5. checkpoint: every ``checkpoint_every`` updates and after the last one

Data parallel (``torchrun --nproc-per-node K -m vldac train ...``, see
:mod:`vldac.train.distributed` and docs/distributed.md): every rank runs this loop with
``env.num_envs`` envs of its own (global env indices r*N .. r*N+N-1), one policy with
identical weights on every rank; ``train.total_env_steps`` counts the steps of all ranks.
Rank 0 alone writes the run folder; its checkpoints hold every rank's env replay logs and
RNG states, and resume only with the same number of processes.
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
from vldac.train import distributed
from vldac.train.checkpoint import (
    checkpoint_world_size,
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


def num_updates(cfg: Config, world_size: int = 1) -> int:
    """Updates of the run: ``train.total_env_steps`` over the env steps of one update of
    all ranks together (``world_size`` x num_envs x steps_per_env); alone, cfg.num_updates."""
    return max(1, -(-cfg.train.total_env_steps // (world_size * cfg.steps_per_update)))


def _prepare_output(cfg: Config, resume: bool, world_size: int = 1) -> tuple[Path, Path | None]:
    out = Path(cfg.output_dir)
    ckpt = latest_checkpoint(out / "checkpoints")
    if resume:
        if ckpt is None:
            raise RunExistsError(f"--resume found no checkpoint under {out}/checkpoints; "
                                 "start the run without --resume.")
        saved_world = checkpoint_world_size(ckpt)
        if saved_world != world_size:
            raise RunExistsError(f"{ckpt} was written by {saved_world} training process(es) "
                                 f"and this run has {world_size}; resume with the same "
                                 f"number (torchrun --nproc-per-node {saved_world}, or no "
                                 "torchrun for 1).")
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


def write_manifest(out: Path, cfg: Config, device: torch.device, world_size: int = 1) -> None:
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
        "model": cfg.model.path, "env": cfg.env.name, "world_size": world_size,
        "cuda": torch.cuda.get_device_name(0) if device.type == "cuda" else None,
    }, indent=2))


def train(cfg: Config, resume: bool = False, stop_after: int | None = None) -> TrainResult:
    """Run (or continue) the training described by ``cfg``; ``stop_after`` ends the run
    early after that many updates in total (a checkpoint is written there).

    Under torchrun every rank calls this; each returns the same :class:`TrainResult`.
    """
    world = distributed.setup(cfg.model.device)
    try:
        return _train(cfg, world, resume, stop_after)
    finally:
        distributed.destroy(world)


def _prepare_ranks(cfg: Config, resume: bool, world: distributed.World) -> tuple[Path, Path | None]:
    """:func:`_prepare_output` on rank 0; the others get its answer (or its refusal)."""
    if not world.distributed:
        return _prepare_output(cfg, resume)
    answer: tuple = (None, None, None)
    if world.is_main:
        try:
            out, ckpt = _prepare_output(cfg, resume, world.world_size)
            answer = (str(out), None if ckpt is None else str(ckpt), None)
        except RunExistsError as err:
            answer = (None, None, str(err))
    out, ckpt, error = world.broadcast_object(answer)
    if error is not None:
        raise RunExistsError(error)
    return Path(out), None if ckpt is None else Path(ckpt)


def _materialise_model(cfg: Config, world: distributed.World) -> None:
    """Build a ``tiny:`` model (or anything :func:`resolve_model_path` writes) once: rank 0
    first, then the first rank of each other node, so no two processes write one folder."""
    if not world.distributed:
        return
    from vldac.models.loading import resolve_model_path

    if world.is_main:
        resolve_model_path(cfg.model.path)
    world.barrier()
    if world.local_rank == 0 and not world.is_main:
        resolve_model_path(cfg.model.path)
    world.barrier()


def _merge_rollout_stats(stats: dict[str, float], window: int,
                         world: distributed.World) -> dict[str, float]:
    """Rollout statistics over all ranks: per-step rates are averaged (every rank steps
    the same number of times), counts are summed, and the episode statistics are the means
    over the union of the ranks' windows of recent episodes (``train.eval_episodes`` each)."""
    if not world.distributed:
        return stats
    per_rank = world.all_gather_object((stats, window))
    keys = list(dict.fromkeys(k for s, _ in per_rank for k in s))  # a rank may lack episodes
    out: dict[str, float] = {}
    for key in keys:
        present = [(s[key], w) for s, w in per_rank if key in s]
        if key in ("episodes", "worker_restarts", "env_steps_played", "unfinished_episodes"):
            out[key] = float(sum(v for v, _ in present))
        elif key in ("success_rate", "episode_return", "episode_length"):
            out[key] = sum(v * w for v, w in present) / sum(w for _, w in present)
        else:
            out[key] = sum(v for v, _ in present) / len(present)
    return out


def _train(cfg: Config, world: distributed.World, resume: bool,
           stop_after: int | None) -> TrainResult:
    out, ckpt = _prepare_ranks(cfg, resume, world)
    seed_everything(cfg.seed)
    _materialise_model(cfg, world)
    # Every rank loads the same model with the same seed: identical LoRA and value head.
    policy = load_policy(cfg.model, seed=cfg.seed)
    if world.distributed:  # then each rank samples, shuffles and drops out on its own streams
        seed_everything(distributed.rank_seed(cfg.seed, world.rank))
    if world.is_main:
        write_manifest(out, cfg, policy.device, world.world_size)
    # fused: one kernel over all parameters instead of a Python loop per tensor.
    optimizer = torch.optim.Adam(policy.trainable_parameters(), lr=cfg.train.lr,
                                 eps=cfg.train.adam_eps, weight_decay=cfg.train.weight_decay,
                                 fused=True)
    updates = num_updates(cfg, world.world_size)
    total_opt_steps = updates * cfg.optimizer_steps_per_update
    scheduler = cosine_schedule(optimizer, total_opt_steps, cfg.train.lr, cfg.train.end_lr)
    vec_env = VectorEnv(EnvSpec(cfg.env.name, cfg.env.constructor_kwargs()), cfg.env.num_envs,
                        cfg.env.num_workers)
    collector = RolloutCollector(
        policy, vec_env, seed=cfg.seed, history=cfg.env.history,
        max_new_tokens=cfg.rollout.max_new_tokens, temperature=cfg.rollout.temperature,
        do_sample=cfg.rollout.do_sample, stats_window=cfg.train.eval_episodes,
        env_offset=world.rank * cfg.env.num_envs,
        group_size=cfg.algo.group_size if cfg.algo.name == "loop" else None,
        action_masks=cfg.algo.name == "rl4vlm")
    start_update, env_steps, history = 0, 0, []
    logger = None
    try:
        if ckpt is not None:
            state = load_checkpoint(ckpt, policy)
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            mine = state["ranks"][world.rank] if world.distributed else state
            collector.load_state_dict(mine["collector"])
            start_update, env_steps, history = state["update"], state["env_steps"], state["history"]
            set_rng_state(mine["rng"])  # last: replay and loading must not shift the streams
        distributed.assert_identical(policy.trainable_parameters(), world,
                                     "after loading" if ckpt is None else f"after loading {ckpt}")
        if world.is_main:
            logger = MetricsLogger(out, history, cfg.log.dvclive, resume=ckpt is not None)
        end_update = updates if stop_after is None else min(stop_after, updates)
        last_ckpt = ckpt
        steps_per_update = cfg.steps_per_update * world.world_size  # all ranks together

        from tqdm.auto import tqdm

        bar = tqdm(range(start_update, end_update), initial=start_update, total=updates,
                   desc="VL-DAC", unit="update", disable=not (cfg.log.progress and world.is_main))
        try:
            for update in bar:
                t0 = time.perf_counter()
                # 1. collect
                rollout, rollout_stats = collector.collect(cfg.rollout.steps_per_env)
                rollout_stats = _merge_rollout_stats(rollout_stats, len(collector.window), world)
                t1 = time.perf_counter()
                # 2. advantages
                adv_stats = compute_advantages(rollout, cfg.algo, world)
                # 3. update
                frozen = update < cfg.algo.warmup_updates
                upd = ppo_update(policy, optimizer, scheduler, rollout, cfg.algo, cfg.train,
                                 cfg.rollout.temperature, policy_frozen=frozen, world=world)
                t2 = time.perf_counter()
                # episodic rounds (LOOP) play fewer steps than the grid holds
                played = int(rollout_stats.get("env_steps_played", steps_per_update))
                env_steps += played
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
                               "time/env_steps_per_s": played / (t2 - t0)})
                if logger is not None:
                    logger.log(record)
                bar.set_postfix(success=f"{rollout_stats.get('success_rate', float('nan')):.2f}",
                                steps_per_s=f"{record['time/env_steps_per_s']:.1f}")
                # 5. checkpoint
                if (update + 1) % cfg.train.checkpoint_every == 0 or update + 1 == end_update:
                    last_ckpt = _checkpoint(out, update + 1, policy, world, {
                        "update": update + 1, "env_steps": env_steps,
                        "history": logger.history if logger is not None else None,
                        "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                    }, {"collector": collector.state_dict(), "rng": rng_state()})
        finally:
            bar.close()
    finally:
        if logger is not None:
            logger.close()
        vec_env.close()
    final = (logger.history[-1] if logger.history else {}) if logger is not None else None
    if world.is_main:
        (out / "final_metrics.json").write_text(json.dumps(final, indent=2))
    final = world.broadcast_object(final)
    return TrainResult(out, last_ckpt, out / "metrics.jsonl", final)


def _checkpoint(out: Path, update: int, policy, world: distributed.World,
                shared: dict, own: dict) -> Path:
    """Save checkpoint ``update``: ``shared`` (the same on every rank) and, per rank,
    ``own`` (its env replay logs and RNG states), gathered to rank 0, which writes.

    Across ranks, each also reports a digest of its trainable weights; differing digests
    stop the run (the ranks must hold one policy)."""
    state = {**shared, **own, "world_size": world.world_size}
    if world.distributed:
        own = {**own, "weights_sha256": distributed.weights_digest(
            policy.trainable_parameters())}
        ranks = world.all_gather_object(own)
        if len({r["weights_sha256"] for r in ranks}) != 1:
            raise RuntimeError(f"the ranks' trainable weights diverged by update {update}; "
                               "the run cannot continue as one policy.")
        state["ranks"] = ranks
    path = out / "checkpoints" / f"update_{update:06d}"
    if world.is_main:
        path = save_checkpoint(out / "checkpoints", update, policy, state)
    world.barrier()  # the checkpoint is complete on disk when any rank goes on
    return path
