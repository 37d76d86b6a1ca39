"""In-domain evaluation: a policy on held-out seeds of the world it was trained in.

Every seed is played as one whole episode; N envs run in parallel and the prompts of the
envs still playing are batched into one ``generate`` call per step, with the same K-frame
history the rollouts use. Held-out seeds are odd and training seeds even
(:func:`vldac.rollout.collector.episode_seed`), so no evaluation episode was ever trained on.

Decoding is ``greedy`` (the argmax answer) or ``sampled`` (at the rollout temperature).
The base model is the same network with its adapter disabled (see :func:`evaluate`).
"""

from __future__ import annotations

import contextlib
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from vldac.config import Config, from_dict
from vldac.models.policy import VLMPolicy
from vldac.rollout.collector import EnvSlot, prompt_text
from vldac.rollout.vector_env import VectorEnv

DECODINGS = ("greedy", "sampled")
_Z95 = 1.959963984540054  # two-sided 95% normal quantile


def heldout_seeds(base_seed: int, num_episodes: int) -> list[int]:
    """``num_episodes`` distinct odd reset seeds, reproducible from ``base_seed``."""
    state = np.random.SeedSequence([base_seed, 0xE7A1]).generate_state(num_episodes * 2)
    seeds = list(dict.fromkeys(int(s) | 1 for s in state))  # odd, deduplicated, ordered
    return seeds[:num_episodes]


@dataclass
class EvalEpisode:
    """One evaluation episode: its seed, outcome, and the model's answers step by step."""

    seed: int
    success: bool
    episode_return: float
    length: int
    parse_failures: int
    texts: list[str] = field(default_factory=list)
    actions: list[str | None] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)
    frames: list[str] = field(default_factory=list)
    """With ``frames_dir``: the image the model saw at each step, relative to that folder."""


def wilson_interval(successes: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval of a binomial proportion (sensible at 0 and n)."""
    if n == 0:
        return (math.nan, math.nan)
    p, z2 = successes / n, _Z95**2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = _Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    lo = 0.0 if successes == 0 else max(0.0, centre - half)  # exact ends, no rounding dust
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return (lo, hi)


def mean_interval(values: list[float]) -> tuple[float, float]:
    """95% normal-approximation interval of the mean (degenerate for fewer than 2 values)."""
    if not values:
        return (math.nan, math.nan)
    mean = float(np.mean(values))
    if len(values) < 2:
        return (mean, mean)
    half = _Z95 * float(np.std(values, ddof=1)) / math.sqrt(len(values))
    return (mean - half, mean + half)


@dataclass
class EvalResult:
    """All episodes of one (policy, world, decoding) evaluation."""

    env: str
    decoding: str
    episodes: list[EvalEpisode]

    def summary(self) -> dict[str, float | int | str | list[float]]:
        eps = self.episodes
        steps = sum(e.length for e in eps)
        returns = [e.episode_return for e in eps]
        wins = sum(e.success for e in eps)
        return {
            "env": self.env, "decoding": self.decoding, "episodes": len(eps),
            "success_rate": wins / len(eps) if eps else math.nan,
            "success_rate_ci95": list(wilson_interval(wins, len(eps))),
            "return_mean": float(np.mean(returns)) if eps else math.nan,
            "return_ci95": list(mean_interval(returns)),
            "episode_length": steps / len(eps) if eps else math.nan,
            "parse_failure_rate": sum(e.parse_failures for e in eps) / steps if steps else 0.0,
        }

    def write(self, path: Path) -> None:
        """Summary plus every episode, as one JSON file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"summary": self.summary(),
                                    "episodes": [asdict(e) for e in self.episodes]}, indent=2))


@torch.no_grad()
def evaluate(policy: VLMPolicy, vec_env: VectorEnv, seeds: list[int], *, env_name: str,
             history: int, max_new_tokens: int, temperature: float, decoding: str = "greedy",
             base_model: bool = False, progress: bool = False,
             frames_dir: Path | None = None) -> EvalResult:
    """Play one episode per seed and return every episode's outcome.

    ``base_model=True`` evaluates the network with its adapter disabled (the reference
    policy, i.e. the model before training). A crashed env's episode is replayed from its
    seed on the restarted worker, so every seed yields exactly one episode. ``frames_dir``
    saves the latest image of each observation the model answered (for a rollout viewer).
    """
    if decoding not in DECODINGS:
        raise ValueError(f"decoding must be one of {list(DECODINGS)}, got {decoding!r}.")
    from tqdm.auto import tqdm

    gen_kwargs = dict(max_new_tokens=max_new_tokens, temperature=temperature,
                      do_sample=decoding == "sampled")
    policy.eval()
    queue = list(reversed(seeds))
    slots: dict[int, EnvSlot] = {}
    records: dict[int, EvalEpisode] = {}
    finished: list[EvalEpisode] = []
    bar = tqdm(total=len(seeds), desc=f"eval {decoding}", unit="episode", disable=not progress)

    def start(indices: list[int]) -> None:
        assign = {i: queue.pop() for i in indices if queue}
        while assign:
            observations, crashed = vec_env.reset(assign)
            for i, obs in observations.items():
                slots[i] = EnvSlot(i)
                slots[i].begin(assign[i], obs, history)
                records[i] = EvalEpisode(assign[i], False, 0.0, 0, 0)
            assign = {i: assign[i] for i in crashed}

    adapter_off = policy.model.disable_adapter() if base_model else contextlib.nullcontext()
    with adapter_off:
        start(list(range(vec_env.num_envs)))
        while slots:
            active = sorted(slots)
            if frames_dir is not None:
                for i in active:
                    _save_frame(frames_dir, records[i], slots[i].observation)
            prompts = [policy.encode(list(slots[i].frames),
                                     prompt_text(slots[i].observation, len(slots[i].frames)))
                       for i in active]
            gen = policy.generate(policy.collate(prompts), **gen_kwargs)
            results, crashed = vec_env.step(dict(zip(active, gen.texts, strict=True)))
            ended = []
            for i, res in results.items():
                slot, rec = slots[i], records[i]
                slot.texts.append(gen.texts[active.index(i)])
                rec.texts.append(slot.texts[-1])
                rec.actions.append(res.info.get("action"))
                rec.rewards.append(float(res.reward))
                rec.episode_return += float(res.reward)
                rec.length += 1
                rec.parse_failures += bool(res.info.get("parse_failed", False))
                if res.terminated or res.truncated:
                    rec.success = bool(res.info.get("success", False))
                    finished.append(rec)
                    bar.update(1)
                    ended.append(i)
                else:
                    slot.see(res.observation)
            for i in crashed:  # play the same seed again from the start
                queue.append(records[i].seed)
                ended.append(i)
            for i in ended:
                del slots[i], records[i]
            start(ended)
    bar.close()
    order = {s: k for k, s in enumerate(seeds)}
    finished.sort(key=lambda e: order[e.seed])
    return EvalResult(env_name, decoding, finished)


def _save_frame(frames_dir: Path, episode: EvalEpisode, observation) -> None:
    """Save the observation's latest image as ``seed<seed>/step<t>.png`` under ``frames_dir``."""
    if not observation.images:
        episode.frames.append("")
        return
    name = f"seed{episode.seed}/step{episode.length:03d}.png"
    (frames_dir / name).parent.mkdir(parents=True, exist_ok=True)
    observation.images[-1].convert("RGB").save(frames_dir / name)
    episode.frames.append(name)


def load_run_policy(run_dir: Path, checkpoint: str | None = None) -> tuple[VLMPolicy, Config]:
    """The policy of a training run at a checkpoint (default: its latest) and the run's config."""
    from vldac.models import load_policy
    from vldac.train.checkpoint import latest_checkpoint, load_checkpoint

    run_dir = Path(run_dir)
    config_file = run_dir / "config.json"
    if not config_file.is_file():
        raise FileNotFoundError(f"{run_dir} holds no config.json; give the output_dir of a "
                                "`vldac train` run.")
    cfg = from_dict(json.loads(config_file.read_text()))
    path = (run_dir / "checkpoints" / checkpoint if checkpoint
            else latest_checkpoint(run_dir / "checkpoints"))
    if path is None or not (path / "trainer_state.pt").is_file():
        raise FileNotFoundError(f"no checkpoint {checkpoint or 'latest'} under "
                                f"{run_dir / 'checkpoints'}; train first or name one that exists.")
    policy = load_policy(cfg.model, seed=cfg.seed)
    load_checkpoint(path, policy)
    return policy, cfg
