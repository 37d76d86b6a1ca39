"""Play BALROG episodes with a chat model and write BALROG's result layout plus our summary.

Layout (BALROG's, ``balrog/evaluator.py`` and ``balrog/utils.py``)::

    out_dir/<env>/<task>/<task>_run_XX.json   one record per episode (BALROG's keys)
    out_dir/<env>/<task>/<task>_run_XX.csv    the trajectory: Step, Action, Reasoning,
                                              Observation, Reward, Done
    out_dir/<env>/<env>_summary.json          BALROG's per-environment summary
    out_dir/summary.json                      our summary (shape in :func:`run_balrog`)
    out_dir/balrog_run.json                   the settings the run started with (resume)

Episodes of one task run side by side in batches: every step, the prompts of the episodes
still playing go to the model in one ``generate`` call. Each episode keeps its own history
and env, so batching changes nothing in the protocol; with greedy decoding the answers equal
one-at-a-time answers (up to padding numerics), with sampling the random stream depends on
the batch (results are reproducible for a given ``seed`` and ``batch_size``).

Seeds: episode ``i`` of a task is reset with a seed derived from ``(seed, env, task, i)``,
so reruns replay the same levels. (BALROG draws a fresh random seed per episode; the seed
is recorded in each episode's record either way.) TextWorld plays pre-made games: episode
``i`` plays the task's game ``i`` (``make_env(..., seed=i)``), as BALROG's game factory hands
out a task's games in turn.

Known differences from running BALROG's own ``eval.py`` (the protocol itself is BALROG's,
see :mod:`vldac.eval.balrog.protocol`):

- the model runs locally through ``transformers`` (:class:`vldac.eval.chat.ChatModel`), not
  behind an OpenAI-compatible server; prompts go through the same chat template, images
  through the model's own processor. Decoding is plain greedy/sampling unless the model
  was loaded with ``model_generation_config=True`` (what vLLM's ``--generation-config auto``
  does with the model's ``generation_config.json``);
- episode seeds are derived from ``seed`` instead of drawn at random; the global ``random``
  / ``numpy`` generators are seeded before each reset as in BALROG, but episodes played
  side by side share them while they play;
- token counts are the prompt's tokens (image placeholders included, padding excluded) and
  the generated tokens (EOS included), not an API's usage numbers;
- per-episode records always carry ``done`` (BALROG writes it only when true), ``agent``
  adds ``feedback_on_invalid_action``, ``client`` names this runner, ``process_num`` is
  None, and ``env_name`` is added; ``out_dir/summary.json`` has our shape (below), while
  ``<env>_summary.json`` has BALROG's.
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
import os
import random
import zlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from vldac.errors import RunExistsError
from vldac.eval.balrog.base import BalrogEnv
from vldac.eval.balrog.protocol import AgentSettings, AgentState
from vldac.eval.balrog.summary import summarize

BALROG_SOURCE = "balrog-ai/BALROG@af7d1f1 (MIT)"
RUN_KEY_FILE = "balrog_run.json"  # the settings a run started with (checked by resume)
BALROG_TEMPERATURE = 1.0  # BALROG's client.generate_kwargs.temperature
BALROG_MAX_TOKENS = 8192  # BALROG's client.generate_kwargs.max_tokens


class ChatModelLike(Protocol):
    """What the runner needs of a model (:class:`vldac.eval.chat.ChatModel` is one)."""

    def generate(self, conversations: list[list[dict]], *, max_new_tokens: int,
                 temperature: float = 0.0, seed: int | None = None) -> list[str]: ...


def episode_seed(seed: int, env_name: str, task: str, index: int) -> int:
    """The reset seed of episode ``index`` of ``env_name/task`` (a 31-bit integer)."""
    words = [seed & 0xFFFFFFFF, zlib.crc32(env_name.encode()), zlib.crc32(task.encode()), index]
    return int(np.random.SeedSequence(words).generate_state(1)[0]) & 0x7FFFFFFF


@dataclass
class _Episode:
    index: int
    seed: int
    env: BalrogEnv
    agent: AgentState
    limit: int
    steps: int = 0
    episode_return: float = 0.0
    done: bool = False
    input_tokens: int = 0
    output_tokens: int = 0
    actions: Counter = field(default_factory=Counter)
    trajectory: list[list[Any]] = field(default_factory=list)


def run_balrog(
    model: ChatModelLike,
    *,
    envs: Sequence[str] | None = None,
    tasks: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
    agent: str = "naive",
    image: bool = True,
    episodes: int | None = None,
    max_steps: int | None = None,
    seed: int = 0,
    temperature: float = BALROG_TEMPERATURE,
    max_new_tokens: int = BALROG_MAX_TOKENS,
    out_dir: str | Path,
    progress: bool = True,
    batch_size: int | None = None,
    max_text_history: int = 16,
    max_cot_history: int = 1,
    feedback_on_invalid_action: bool = True,
    alternate_roles: bool = False,
    model_name: str | None = None,
    env_options: Mapping[str, Mapping[str, Any]] | None = None,
    make_env: Callable[..., BalrogEnv] | None = None,
    resume: bool = False,
) -> dict[str, Any]:
    """Play BALROG and return (and write) the summary.

    ``envs``: BALROG environment names (default: all of them, or with a task list the worlds
    of those tasks; worlds whose simulator is not installed are skipped and listed under
    ``missing``). ``tasks``: a list of task names (each must belong to one of ``envs``) or a
    mapping env -> tasks (default: BALROG's).
    ``image``: VLM mode (``max_image_history=1``, envs render images) or language mode
    (``max_image_history=0``). ``episodes``: per task (default: BALROG's per-env counts).
    ``max_steps``: per episode (default: each env's own limit). ``batch_size``: episodes
    of a task played side by side (default: all of them). ``env_options``: per env, extra
    ``make_env`` options (e.g. ``{"textworld": {"games_dir": ...}}``). ``make_env``: an env factory
    with the signature of ``vldac.eval.balrog.envs.make_env`` (tests); with it, ``envs``,
    ``tasks`` (as a mapping) and ``episodes`` must be given. ``alternate_roles``: BALROG's
    client option for chat templates that need alternating roles (Gemma 3), off by default.

    Returns ``{"benchmark": "balrog", "agent", "mode", "model", "seed",
    "average_progression", "standard_error", "environments": {env: {"progression",
    "standard_error", "episodes", "tasks": {task: {"progression", "standard_error",
    "episodes"}}}}, "missing": {env: why}, "settings": {...}}``, percentages throughout.

    Refuses an ``out_dir`` that already holds files, unless ``resume``: then ``out_dir`` must
    hold a run started with the same settings (``balrog_run.json``), its finished episodes
    (those with a ``*_run_XX.json``, written last and atomically) are kept, only the others
    are played, and the summaries are rebuilt from all of them.
    """
    out = Path(out_dir)
    if not resume and out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise RunExistsError(f"{out} already holds files; choose an empty or new output "
                             "folder, or resume that run.")
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
    settings = AgentSettings(agent, max_text_history, 1 if image else 0, max_cot_history,
                             feedback_on_invalid_action)
    plan, missing, default_limits = _plan(envs, tasks, episodes, make_env)
    base_factory = make_env or _registry().make_env
    options = {e: dict(o) for e, o in (env_options or {}).items()}

    def factory(env_name, task, **kwargs):
        return base_factory(env_name, task, **kwargs, **options.get(env_name, {}))

    name = model_name or str(getattr(model, "path", type(model).__name__))
    client = {"client_name": "vldac", "model_id": name,
              "generate_kwargs": {"temperature": temperature, "max_tokens": max_new_tokens}}
    run_key = {"agent": settings.balrog_config(), "image": image, "model": name, "seed": seed,
               "temperature": temperature, "max_new_tokens": max_new_tokens,
               "max_steps": max_steps, "episodes_per_task": plan, "env_options": options,
               "alternate_roles": alternate_roles}
    _check_resume(out, run_key, resume)
    _preflight(factory, plan, image, max_steps)
    out.mkdir(parents=True, exist_ok=True)
    (out / RUN_KEY_FILE).write_text(json.dumps(run_key, indent=2, default=str))

    from tqdm.auto import tqdm

    records: dict[str, list[dict[str, Any]]] = {}
    limits_used: dict[str, set[int]] = {}
    total = sum(n for env_tasks in plan.values() for n in env_tasks.values())
    bar = tqdm(total=total, desc="BALROG", unit="episode", disable=not progress)
    for env_name, env_tasks in plan.items():
        for task, n in env_tasks.items():
            limit = max_steps or default_limits.get(env_name)
            finished = {}
            for i in range(n):
                if (file := _suffixed(_episode_stem(out, env_name, task, i), ".json")).is_file():
                    finished[i] = json.loads(file.read_text())
                    bar.update(1)
            todo = [i for i in range(n) if i not in finished]
            width = batch_size or max(len(todo), 1)
            for k in range(0, len(todo), width):
                indices = todo[k:k + width]
                batch = [_start_episode(factory, env_name, task, i, seed, image, max_steps,
                                        limit, settings) for i in indices]
                bar.set_postfix_str(f"{env_name} {task} episodes {indices[0]}-{indices[-1]}")
                _play(model, batch, env_name, task, seed, indices[0], temperature,
                      max_new_tokens, alternate_roles)
                for ep in batch:
                    limits_used.setdefault(env_name, set()).add(ep.limit)
                    finished[ep.index] = _record(ep, task, env_name, settings, client)
                    _write_episode(out, env_name, task, ep, finished[ep.index])
                    bar.update(1)
            records.setdefault(env_name, []).extend(finished[i] for i in sorted(finished))
    bar.close()

    result = summarize(records)
    for env_name, env_summary in result.environments.items():
        (out / env_name / f"{env_name}_summary.json").write_text(
            json.dumps(env_summary.balrog_json(), indent=4))
    summary = {
        "benchmark": "balrog",
        "agent": agent,
        "mode": "image" if image else "language",
        "model": name,
        "seed": seed,
        "average_progression": result.average_progression,
        "standard_error": result.standard_error,
        "environments": {
            env_name: {
                "progression": e.progression,
                "standard_error": e.standard_error,
                "episodes": e.episodes,
                "tasks": {t: {"progression": s.progression, "standard_error": s.standard_error,
                              "episodes": s.episodes} for t, s in e.tasks.items()},
            }
            for env_name, e in result.environments.items()
        },
        "missing": missing,
        "settings": {
            **settings.balrog_config(),
            "temperature": temperature,
            "max_new_tokens": max_new_tokens,
            "episodes_per_task": {env_name: dict(t) for env_name, t in plan.items()},
            "max_steps": max_steps,
            "max_steps_used": {env_name: sorted(v) for env_name, v in limits_used.items()},
            "batch_size": batch_size,
            "episode_seeds": "derived from (seed, env, task, episode index)",
            "image_position": "after the message text",
            "alternate_roles": alternate_roles,
            "model_generation_config": bool(getattr(model, "model_generation_config", False)),
            "protocol": BALROG_SOURCE,
            "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        },
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


# ----------------------------------------------------------------------------- planning


def _registry():
    from vldac.eval.balrog import envs as registry

    return registry


def _plan(envs, tasks, episodes, make_env) -> tuple[dict, dict, dict]:
    """({env: {task: episodes}}, {missing env: why}, {env: default step limit})."""
    if episodes is not None and episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}.")
    if make_env is not None:
        if not envs or not isinstance(tasks, Mapping) or episodes is None:
            raise ValueError("with a custom make_env, give envs, tasks (env -> tasks) and "
                             "episodes.")
        known = {e: list(tasks.get(e, ())) for e in envs}
        return {e: dict.fromkeys(ts, episodes) for e, ts in known.items()}, {}, {}
    registry = _registry()
    missing_all = dict(getattr(registry, "MISSING", {}))
    available = [e for e in registry.ENVIRONMENTS if e not in missing_all]
    valid = list(dict.fromkeys([*registry.ENVIRONMENTS, *missing_all]))
    if envs:
        chosen = list(envs)
    elif tasks is not None and not isinstance(tasks, Mapping):  # the worlds of these tasks
        chosen = [e for e in valid if any(t in registry.TASKS.get(e, ()) for t in tasks)] or valid
    else:
        chosen = valid
    unknown = [e for e in chosen if e not in valid]
    if unknown:
        raise ValueError(f"unknown BALROG environment(s) {unknown}; choose from {valid}.")
    # Every BALROG world that cannot run here, requested or not: BALROG's average is over
    # its whole suite, and a reader of ours must see what it leaves out.
    missing = dict(missing_all)
    chosen = [e for e in chosen if e in available]
    env_tasks = _select_tasks(chosen, tasks, registry.TASKS)
    if not env_tasks:
        raise ValueError(f"no BALROG environment left to play (missing: {missing}).")
    plan = {e: dict.fromkeys(ts, episodes or registry.NUM_EPISODES[e])
            for e, ts in env_tasks.items()}
    limits = {e: registry.MAX_STEPS.get(e) for e in plan}
    return plan, missing, limits


def _select_tasks(chosen, tasks, all_tasks) -> dict[str, list[str]]:
    if tasks is None:
        return {e: list(all_tasks[e]) for e in chosen}
    if isinstance(tasks, Mapping):
        bad = {e: [t for t in ts if t not in all_tasks.get(e, ())] for e, ts in tasks.items()}
        bad = {e: ts for e, ts in bad.items() if ts}
        if bad or set(tasks) - set(chosen):
            raise ValueError(f"unknown tasks {bad or sorted(set(tasks) - set(chosen))}; "
                             "each env's tasks must be BALROG's (see --help).")
        return {e: list(tasks[e]) for e in chosen if tasks.get(e)}
    picked = {e: [t for t in all_tasks[e] if t in tasks] for e in chosen}
    unknown = [t for t in tasks if not any(t in ts for ts in picked.values())]
    empty = [e for e, ts in picked.items() if not ts]
    if unknown or empty:
        raise ValueError(
            f"tasks {unknown} belong to none of {chosen}" if unknown else
            f"environment(s) {empty} have none of the tasks {list(tasks)}; drop them or add "
            "their tasks.")
    return picked


def _preflight(factory, plan, image, max_steps) -> None:
    """Build (and close) one env per task first, so a missing simulator or data file stops
    the run before any episode is played rather than hours into it."""
    for env_name, env_tasks in plan.items():
        for task in env_tasks:
            factory(env_name, task, image=image, max_steps=max_steps).close()


# ----------------------------------------------------------------------------- playing


def _start_episode(factory, env_name, task, index, seed, image, max_steps, limit,
                   settings) -> _Episode:
    s = episode_seed(seed, env_name, task, index)
    random.seed(s)  # as BALROG does before env.reset, for simulators using global RNGs
    np.random.seed(s)
    # make_env's build-time seed only picks TextWorld's game (games[seed % n]): the episode
    # index plays game i in episode i, as BALROG's factory cycles through a task's games
    env = factory(env_name, task, image=image, seed=index, max_steps=max_steps)
    observation, _info = env.reset(seed=s)
    # the env knows its own limit once reset (BabyAI's depends on the level), override included
    limit = max_steps or getattr(env, "max_steps", None) or limit
    if not limit:
        raise ValueError(f"{env_name}/{task} has no step limit; pass max_steps.")
    agent = AgentState(settings, env.instruction_prompt())
    agent.observe(observation)
    return _Episode(index, s, env, agent, int(limit))


def _play(model, batch: list[_Episode], env_name, task, seed, start, temperature,
          max_new_tokens, alternate_roles=False) -> None:
    """Step every episode of ``batch`` to its end, one batched generate call per step."""
    step = 0
    active = list(batch)
    while active:
        gen_seed = int(np.random.SeedSequence(
            [seed & 0xFFFFFFFF, zlib.crc32(f"{env_name}/{task}".encode()), start, step]
        ).generate_state(1)[0])
        texts = model.generate([ep.agent.conversation(alternate_roles) for ep in active],
                               max_new_tokens=max_new_tokens, temperature=temperature,
                               seed=gen_seed)
        usage = list(getattr(model, "last_usage", None) or [])
        for k, (ep, text) in enumerate(zip(active, texts, strict=True)):
            if len(usage) == len(active):
                ep.input_tokens += usage[k].input_tokens
                ep.output_tokens += usage[k].output_tokens
            decision = ep.agent.decide(text, ep.env)
            ep.actions[decision.action] += 1
            observation, reward, terminated, truncated, _info = ep.env.step(decision.action)
            ep.steps += 1
            ep.episode_return += float(reward)
            ep.done = bool(terminated or truncated)
            ep.agent.observe(observation)
            ep.trajectory.append([ep.steps - 1, decision.candidate,
                                  decision.completion if ep.agent.settings.agent == "cot" else "",
                                  observation.long_term_context, reward, ep.done])
        active = [ep for ep in active if not ep.done and ep.steps < ep.limit]
        step += 1


def _record(ep: _Episode, task, env_name, settings: AgentSettings, client) -> dict[str, Any]:
    """BALROG's per-episode record (plus ``env_name``); ``done`` is always present."""
    stats = ep.env.stats()
    ep.env.close()
    return {
        "task": task,
        "action_frequency": dict(ep.actions),
        "input_tokens": ep.input_tokens,
        "output_tokens": ep.output_tokens,
        "done": ep.done,
        "episode_return": ep.episode_return,
        "num_steps": ep.steps,
        "failed_candidates": list(ep.agent.failed_candidates),
        **stats,
        "process_num": None,
        "seed": ep.seed,
        "agent": settings.balrog_config(),
        "client": client,
        "env_name": env_name,
    }


def _episode_stem(out: Path, env_name, task, index: int) -> Path:
    """``out/<env>/<task>/<task>_run_XX`` without suffix: BALROG joins the task in twice,
    so a task with a '/' nests as it does there."""
    return out / env_name / task / f"{task}_run_{index:02d}"


def _write_episode(out: Path, env_name, task, ep: _Episode, record) -> None:
    """The trajectory CSV, then the record JSON (atomically: its presence marks a finished
    episode for ``resume``)."""
    stem = _episode_stem(out, env_name, task, ep.index)
    stem.parent.mkdir(parents=True, exist_ok=True)
    with open(_suffixed(stem, ".csv"), "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, escapechar="\u02d8", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(["Step", "Action", "Reasoning", "Observation", "Reward", "Done"])
        writer.writerows(ep.trajectory)
    tmp = _suffixed(stem, ".json.tmp")
    tmp.write_text(json.dumps(record, indent=4, default=_jsonable))
    os.replace(tmp, _suffixed(stem, ".json"))


def _suffixed(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)  # not with_suffix: task names may hold dots


def _check_resume(out: Path, run_key: dict[str, Any], resume: bool) -> None:
    if not resume or not out.exists():
        return
    key_file = out / RUN_KEY_FILE
    if not key_file.is_file():
        raise RunExistsError(f"{out} holds no {RUN_KEY_FILE}, so it is not a BALROG run "
                             "this runner can resume; choose a new output folder.")
    saved = json.loads(key_file.read_text())
    now = json.loads(json.dumps(run_key, default=str))
    changed = sorted(k for k in set(saved) | set(now) if saved.get(k) != now.get(k))
    if changed:
        raise RunExistsError(f"{out} was started with other settings ({', '.join(changed)}); "
                             "resume with the same ones or choose a new output folder.")


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} to an episode record.")
