"""Collecting a rollout: N envs, one batched generate call per step, no gradients.

Per step t, for all N envs at once:
  1. build each env's prompt (its last K frames, then the env's text) and encode it once;
  2. one batched generate: responses, behaviour log-probs, and V(s_t) from the prompt pass;
  3. one batched forward with the adapters disabled: reference log-probs;
  4. step every env with its text in the worker processes; start new episodes where one ended.
After T steps, one batched prompt pass gives V of the last states and of the final states of
truncated episodes (for bootstrapping).

Everything an env does is replayable from (episode seed, texts so far): ``state_dict`` keeps
exactly that, so a resumed run rebuilds mid-episode envs and their frame histories.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from vldac.envs import Observation
from vldac.models.families import IMAGE_EMBEDS
from vldac.models.policy import VLMPolicy
from vldac.rollout.buffer import Rollout, StepSample
from vldac.rollout.vector_env import VectorEnv


def episode_seed(base_seed: int, env_index: int, episode: int) -> int:
    """A reproducible reset seed for every (run seed, env, episode).

    Training seeds are even; evaluation seeds (:func:`vldac.eval.heldout_seeds`) are odd,
    so no evaluation episode is ever one the policy trained on.
    """
    state = np.random.SeedSequence([base_seed, env_index, episode]).generate_state(1)[0]
    return int(state) & ~1


def prompt_text(obs: Observation, num_frames: int) -> str:
    if num_frames <= 1:
        return obs.text
    return (f"The {num_frames} images are your last {num_frames} observations, oldest first; "
            f"the last one is the current state.\n{obs.text}")


@dataclass
class EnvSlot:
    """The trainer-side view of one env: its episode, replay log and frame history."""

    index: int
    episode: int = 0
    seed: int = 0
    texts: list[str] = field(default_factory=list)
    episode_return: float = 0.0
    observation: Observation | None = None
    frames: deque = field(default_factory=deque)
    encoded: tuple | None = None  # ((episode, step), prompt encoding) of the current state

    def begin(self, seed: int, obs: Observation, history: int) -> None:
        self.seed, self.texts, self.episode_return = seed, [], 0.0
        self.frames = deque(maxlen=history)
        self.see(obs)

    def see(self, obs: Observation) -> None:
        self.observation = obs
        self.frames.extend(obs.images)  # each frame enters the history exactly once


def _with_features(prompts: list[dict], batch: dict, policy: VLMPolicy) -> list[dict]:
    """The prompts to store for the update: with their vision features in place of pixels
    when the batch carries features (see :meth:`VLMPolicy.image_features`)."""
    if IMAGE_EMBEDS not in batch:
        return prompts
    out = []
    for prompt, rows in zip(prompts, policy.split_image_features(batch), strict=True):
        if rows is None:
            out.append(prompt)
        else:
            out.append({**{k: v for k, v in prompt.items() if k != "pixel_values"},
                        IMAGE_EMBEDS: rows.cpu()})
    return out


class RolloutCollector:
    """Runs the policy in ``vec_env`` and keeps episode statistics across rollouts.

    ``env_offset`` shifts the env indices that episode seeds are drawn with (see
    :func:`episode_seed`); 0 for a single process.
    """

    def __init__(self, policy: VLMPolicy, vec_env: VectorEnv, *, seed: int, history: int,
                 max_new_tokens: int, temperature: float, do_sample: bool, stats_window: int,
                 value_batch_size: int = 32, env_offset: int = 0,
                 group_size: int | None = None, action_masks: bool = False):
        self.policy, self.vec_env = policy, vec_env
        self.seed, self.history = seed, history
        # Global index of this collector's first env: rank r of a data-parallel run holds
        # envs r*N .. r*N+N-1, so no two ranks ever play the same episode seed.
        self.env_offset = env_offset
        self.gen_kwargs = dict(max_new_tokens=max_new_tokens, temperature=temperature,
                               do_sample=do_sample)
        self.value_batch_size = value_batch_size
        self.slots = [EnvSlot(i) for i in range(vec_env.num_envs)]
        self.window: deque = deque(maxlen=stats_window)  # (success, return, length) per episode
        self.episodes_done = 0
        self._started = False
        self.group_size = group_size  # episodic rounds of seed-sharing groups (LOOP)
        self.round = 0
        self.action_masks = action_masks  # RL4VLM: mark each answer's action tokens

    # -- episodes ---------------------------------------------------------------------------
    def _new_episodes(self, indices, seed_of=None) -> None:
        """Start a new episode in each env of ``indices``; ``seed_of(i)`` is env i's seed
        (default: a fresh one per episode, :func:`episode_seed`). An env whose reset
        crashes is reset again, with ``seed_of``'s seed or a fresh default one."""
        pending = list(indices)
        while pending:
            seeds = {}
            for i in pending:
                slot = self.slots[i]
                slot.episode += 1
                seeds[i] = (seed_of(i) if seed_of is not None
                            else episode_seed(self.seed, self.env_offset + i, slot.episode))
            observations, crashed = self.vec_env.reset(seeds)
            for i, obs in observations.items():
                self.slots[i].begin(seeds[i], obs, self.history)
            pending = sorted(crashed)

    def _new_round(self) -> None:
        """Episodic rounds (LOOP): every env starts one episode, and the ``group_size``
        consecutive envs of a group share its seed, so their episodes start from the same
        state."""
        self.round += 1
        self._new_episodes(range(len(self.slots)), lambda i: episode_seed(
            self.seed, (self.env_offset + i) // self.group_size, self.round))

    def start(self) -> None:
        if not self._started:
            self._new_episodes(list(range(len(self.slots))))
            self._started = True

    # -- one rollout --------------------------------------------------------------------------
    @torch.no_grad()
    def collect(self, num_steps: int) -> tuple[Rollout, dict[str, float]]:
        """T steps of every env. In episodic rounds (``group_size``) every env starts a
        new episode here and plays it to its end or to step T, then waits: its later steps
        are not played (their samples are None, their ``valid`` False), and an episode
        still running at T is not counted (``valid`` False throughout)."""
        rounds = self.group_size is not None
        if rounds:
            self._new_round()
        else:
            self.start()
        self.policy.eval()  # no LoRA dropout while acting
        N, T = len(self.slots), num_steps
        grid = lambda dtype=torch.float32: torch.zeros(T, N, dtype=dtype)  # noqa: E731
        rewards, values, boot = grid(), grid(), grid()
        terminated, truncated = grid(torch.bool), grid(torch.bool)
        valid = torch.ones(T, N, dtype=torch.bool)
        samples: list[StepSample | None] = []
        episode_start = [0] * N  # first row of each env's current episode in this rollout
        final_prompts: dict[tuple[int, int], dict] = {}
        parse_failed = invalid = gen_tokens = steps = 0
        acting = list(range(N))  # envs that play this step

        for t in range(T):
            if not acting:  # episodic rounds: every episode has ended
                valid[t:] = False
                samples.extend([None] * (N * (T - t)))
                break
            prompts = [self._encode_state(self.slots[n]) for n in acting]
            # the frozen vision tower runs once per state: generation, the reference pass
            # and every PPO epoch reuse these features
            batch = self.policy.image_features(self.policy.collate(prompts))
            gen = self.policy.generate(batch, **self.gen_kwargs)
            ref = self.policy.reference_logprobs(batch, gen.response_ids, gen.response_mask,
                                                self.gen_kwargs["temperature"])
            values[t, acting] = gen.values.float().cpu()
            lengths = gen.response_mask.sum(1).tolist()
            gen_tokens += sum(lengths)
            steps += len(acting)
            stored = _with_features(prompts, batch, self.policy)
            masks = (self._action_masks(gen.response_ids, lengths) if self.action_masks
                     else [None] * len(acting))
            row: list[StepSample | None] = [None] * N
            for k, (n, length) in enumerate(zip(acting, lengths, strict=True)):
                row[n] = StepSample(stored[k], gen.response_ids[k, :length].cpu(),
                                    gen.old_logprobs[k, :length].cpu(),
                                    ref[k, :length].float().cpu(), masks[k])
            samples.extend(row)
            idle = sorted(set(range(N)) - set(acting))
            valid[t, idle] = False

            texts = dict(zip(acting, gen.texts, strict=True))
            results, crashed = self.vec_env.step(texts)
            ended: list[int] = []
            for n, res in results.items():
                slot = self.slots[n]
                slot.texts.append(texts[n])
                slot.episode_return += res.reward
                rewards[t, n] = res.reward
                terminated[t, n], truncated[t, n] = res.terminated, res.truncated
                parse_failed += bool(res.info.get("parse_failed", False))
                invalid += not res.info.get("action_is_valid", True)
                if res.terminated or res.truncated:
                    self.window.append((float(bool(res.info.get("success", False))),
                                        slot.episode_return, len(slot.texts)))
                    self.episodes_done += 1
                    if res.truncated and not res.terminated and not rounds:
                        frames = (list(slot.frames) + list(res.observation.images))[-self.history:]
                        final_prompts[(t, n)] = self.policy.encode(
                            frames, prompt_text(res.observation, len(frames)))
                    ended.append(n)
                else:
                    slot.see(res.observation)
            for n in crashed:  # discard what this rollout holds of the lost episode
                valid[episode_start[n]: t + 1, n] = False
                terminated[t, n] = True
                ended.append(n)
            for n in ended:
                episode_start[n] = t + 1
            if rounds:  # an ended episode waits for the next round
                acting = [n for n in acting if n not in ended]
            else:
                self._new_episodes(sorted(ended))

        if rounds:  # episodes still running at T have no return to compare: not counted
            for n in acting:
                valid[episode_start[n]:, n] = False
        else:  # V(s_T) for every env, and V of each truncated episode's final state
            final_prompts.update({(T - 1, n): self._encode_state(s) for n, s in
                                  enumerate(self.slots) if (T - 1, n) not in final_prompts})
            keys = list(final_prompts)
            for start in range(0, len(keys), self.value_batch_size):
                chunk = keys[start:start + self.value_batch_size]
                v = self.policy.prompt_values(
                    self.policy.collate([final_prompts[k] for k in chunk]))
                for (t, n), value in zip(chunk, v.float().cpu().tolist(), strict=True):
                    boot[t, n] = value

        per_step = max(steps, 1)
        stats = {"parse_failure_rate": parse_failed / per_step,
                 "invalid_action_rate": invalid / per_step,
                 "response_tokens": gen_tokens / per_step, "episodes": float(self.episodes_done),
                 "worker_restarts": float(self.vec_env.restarts)}
        if rounds:  # fewer steps than T x N are played; the trainer counts these
            stats.update(env_steps_played=float(steps), unfinished_episodes=float(len(acting)))
        if self.window:
            success, ret, length = (float(np.mean(x)) for x in zip(*self.window, strict=True))
            stats.update(success_rate=success, episode_return=ret, episode_length=length)
        return Rollout(samples, rewards, values, terminated, truncated, valid, boot), stats

    def _action_masks(self, response_ids: torch.Tensor, lengths: list[int]) -> list[torch.Tensor]:
        """Per answer, [L] bool: its action tokens (RL4VLM's split, see
        :func:`vldac.algo.rl4vlm.action_token_mask`)."""
        from vldac.algo.rl4vlm import action_token_mask

        tok = self.policy.processor.tokenizer
        texts = [[tok.decode([i]) for i in response_ids[k, :length].tolist()]
                 for k, length in enumerate(lengths)]
        mask = action_token_mask(texts)
        return [mask[k, :length].clone() for k, length in enumerate(lengths)]

    def _encode_state(self, slot: EnvSlot) -> dict:
        """The prompt of a slot's current state, encoded once: the bootstrap pass at the end
        of a rollout and the first step of the next one share it."""
        key = (slot.episode, len(slot.texts))
        if slot.encoded is None or slot.encoded[0] != key:
            frames = list(slot.frames)
            slot.encoded = (key, self.policy.encode(frames, prompt_text(slot.observation,
                                                                        len(frames))))
        return slot.encoded[1]

    # -- resume -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"slots": [{"episode": s.episode, "seed": s.seed, "texts": list(s.texts),
                           "episode_return": s.episode_return} for s in self.slots],
                "window": list(self.window), "episodes_done": self.episodes_done,
                "started": self._started, "round": self.round}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Rebuild every env mid-episode by replaying its texts from its episode seed."""
        self.window.extend(tuple(w) for w in state["window"])
        self.episodes_done = state["episodes_done"]
        self._started = state["started"]
        self.round = state.get("round", 0)  # rounds start afresh: nothing to replay
        if not self._started:
            return
        for slot, saved in zip(self.slots, state["slots"], strict=True):
            slot.episode, slot.seed = saved["episode"], saved["seed"]
        replies, crashed = self.vec_env.replay(
            {i: (s["seed"], s["texts"]) for i, s in enumerate(state["slots"])})
        if crashed:
            raise RuntimeError(f"envs {sorted(crashed)} crashed while replaying their episodes; "
                               "the checkpoint cannot be resumed exactly.")
        for i, observations in replies.items():
            slot, saved = self.slots[i], state["slots"][i]
            slot.begin(saved["seed"], observations[0], self.history)
            for obs in observations[1:]:
                slot.see(obs)
            slot.texts, slot.episode_return = list(saved["texts"]), saved["episode_return"]
