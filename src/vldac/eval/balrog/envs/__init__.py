"""BALROG's environments (balrog-ai/BALROG, MIT; spec: shared/spec/benchmarks.md §1).

The five worlds that install here, in BALROG's order, each behind the
:class:`~vldac.eval.balrog.base.BalrogEnv` contract. The simulators are imported only when
an env is made, so this package imports without them (and never imports torch or
transformers). These envs are a separate room from :mod:`vldac.envs` and are not registered
there.

Constants follow BALROG's ``balrog/config/config.yaml``:

* ``TASKS``: BALROG's default task list per env;
* ``NUM_EPISODES``: BALROG's ``eval.num_episodes``, counted **per task** (babyai, textworld,
  minihack have several tasks; crafter and nle have one, so per task = per env);
* ``MAX_STEPS``: each env's own step limit as BALROG runs it (``max_steps_per_episode`` is
  null there). BabyAI's limit depends on the mission (64 for goto/pickup, 128 for open,
  putnext and the pick-up-then-go-to sequence); ``MAX_STEPS["babyai"]`` is the largest and
  each env instance's ``max_steps`` holds the exact one after ``reset``;
* ``MISSING``: BALROG envs we do not run, with the reason.
"""

from __future__ import annotations

from typing import Any

from vldac.eval.balrog.base import BalrogEnv

ENVIRONMENTS = ["babyai", "crafter", "textworld", "minihack", "nle"]

TASKS: dict[str, list[str]] = {
    "babyai": [
        "BabyAI-MixedTrainLocal-v0/goto",
        "BabyAI-MixedTrainLocal-v0/pickup",
        "BabyAI-MixedTrainLocal-v0/open",
        "BabyAI-MixedTrainLocal-v0/putnext",
        "BabyAI-MixedTrainLocal-v0/pick_up_seq_go_to",
    ],
    "crafter": ["default"],
    "textworld": ["treasure_hunter", "the_cooking_game", "coin_collector"],
    "minihack": [
        "MiniHack-Boxoban-Hard-v0",
        "MiniHack-Boxoban-Medium-v0",
        "MiniHack-MazeWalk-9x9-v0",
        "MiniHack-MazeWalk-15x15-v0",
        "MiniHack-Corridor-R3-v0",
        "MiniHack-CorridorBattle-Dark-v0",
        "MiniHack-Quest-Easy-v0",
        "MiniHack-Quest-Medium-v0",
    ],
    "nle": ["NetHackChallenge-v0"],
}

NUM_EPISODES: dict[str, int] = {  # per task
    "babyai": 10,
    "crafter": 10,
    "textworld": 10,
    "minihack": 5,
    "nle": 5,
}

MAX_STEPS: dict[str, int] = {
    "babyai": 128,  # per mission: 64 (goto, pickup) or 128 (open, putnext, sequence)
    "crafter": 2000,
    "textworld": 80,
    "minihack": 100,
    "nle": 100_000,
}

MISSING: dict[str, str] = {
    "babaisai": (
        "Baba Is AI (40 tasks, 3 episodes each) is not installable here: its package `baba` "
        "exists only as git source (nacloos/baba-is-ai) and needs gym<=0.25."
    ),
}

_CLASSES = {
    "babyai": ("vldac.eval.balrog.envs.babyai", "BabyAIEnv"),
    "crafter": ("vldac.eval.balrog.envs.crafter", "CrafterEnv"),
    "textworld": ("vldac.eval.balrog.envs.textworld", "TextWorldEnv"),
    "minihack": ("vldac.eval.balrog.envs.minihack", "MiniHackEnv"),
    "nle": ("vldac.eval.balrog.envs.nle", "NetHackEnv"),
}


def make_env(
    env_name: str,
    task: str,
    *,
    image: bool,
    seed: int | None = None,
    max_steps: int | None = None,
    **options: Any,
) -> BalrogEnv:
    """Build one BALROG task.

    image:     BALROG's VLM mode (``agent.max_image_history >= 1``): observations carry the
               latest frame and, for NetHack/MiniHack, the text drops the ASCII map;
               ``False`` is BALROG's language mode.
    seed:      BALROG's ``envs.env_kwargs.seed``. Only TextWorld uses it at build time (it
               then plays ``games[seed % n]`` in every episode, as BALROG's factory); every
               world is otherwise fully determined by the seed given to ``reset``.
    max_steps: BALROG's ``eval.max_steps_per_episode``; ``None`` keeps the env's own limit.
    options:   per world: babyai ``num_dists``; crafter ``area``, ``view``, ``size``,
               ``reward``, ``length``; textworld ``games_dir``; minihack ``skip_more``,
               ``boxoban_levels_dir`` and the minihack kwargs; nle ``skip_more``,
               ``character``, ``max_episode_steps``, ``no_progress_timeout``.
    """
    if env_name not in _CLASSES:
        hint = f" ({MISSING[env_name]})" if env_name in MISSING else ""
        raise ValueError(
            f"Unknown BALROG environment {env_name!r}{hint}; valid: {', '.join(ENVIRONMENTS)}."
        )
    if task not in TASKS[env_name]:
        raise ValueError(f"Unknown {env_name} task {task!r}; valid: {', '.join(TASKS[env_name])}.")
    import importlib

    module_name, class_name = _CLASSES[env_name]
    cls = getattr(importlib.import_module(module_name), class_name)
    if env_name == "textworld":
        return cls(task, image=image, seed=seed, max_steps=max_steps, **options)
    return cls(task, image=image, max_steps=max_steps, **options)


__all__ = ["ENVIRONMENTS", "MAX_STEPS", "MISSING", "NUM_EPISODES", "TASKS", "make_env"]
