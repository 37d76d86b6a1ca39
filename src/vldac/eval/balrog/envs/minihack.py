"""BALROG's eight MiniHack tasks on PyPI ``minihack==1.0.2`` / ``nle==1.3.0``.

Follows BALROG's MiniHack setup (balrog/environments/minihack/, the NLE wrapper shared with
NetHack): ``gym.make(task, character="@", max_episode_steps=100, penalty_step=-0.01,
penalty_time=0.0, penalty_mode="constant", autopickup=False)``, ``skip_more`` off (BALROG's
config); actions = the env's actions that have a description in BALROG's
``MINIHACK_ACTIONS_TO_DESCR``, default "north"; text and image exactly as for NetHack (see
:mod:`.nle`); the instruction's goal sentence chosen by task name (corridor / quest /
boxoban / otherwise). Progression (BALROG's ``BaseProgress``): 1.0 if the last step's
reward is >= 1.0 (the goal reached), else 0.0.

Boxoban needs DeepMind's boxoban-levels files, which BALROG downloads into minihack's
package data. Nothing is downloaded here: give the folder that holds ``hard/`` and
``medium/train/`` (the unzipped ``boxoban-levels-master``) with the option
``boxoban_levels_dir`` or the environment variable ``VLDAC_BOXOBAN_LEVELS``; minihack's own
``minihack/dat/boxoban-levels-master`` is used when it exists.

Differences from BALROG: minihack 1.0.2 and nle 1.3.0 instead of BALROG's forks (balrog-ai
/minihack, balrog-nle 0.9.0). minihack draws the Boxoban level with Python's global
``random``, which BALROG seeds with the episode seed before the episode (so its level also
depends on every other draw from ``random``); here ``reset(seed)`` picks the level with its
own generator from the seed, then seeds the game as for every task. Two fixes make minihack
1.0.2's Boxoban run on nle 1.3.0 at all: the env is used unwrapped (gymnasium's wrappers pass
``reset(seed=...)``, which Boxoban refuses; our own step limit replaces the TimeLimit), and
its goal squares get an empty placeholder before the first reset (nle asks for the end
status before Boxoban sets them). Neither changes the game.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from vldac.eval.balrog.envs import TASKS as BALROG_TASKS
from vldac.eval.balrog.envs._common import (
    action_list,
    check_options,
    prompt_data,
    require,
)
from vldac.eval.balrog.envs.nle import OBSERVATION_KEYS, NetHackWorld

TASKS = BALROG_TASKS["minihack"]
MINIHACK_KWARGS = {"character": "@", "max_episode_steps": 100, "penalty_step": -0.01,
                   "penalty_time": 0.0, "penalty_mode": "constant", "autopickup": False}  # fmt: skip
BOXOBAN_ENV_VAR = "VLDAC_BOXOBAN_LEVELS"
BOXOBAN_SUBDIRS = {"MiniHack-Boxoban-Hard-v0": "hard", "MiniHack-Boxoban-Medium-v0": "medium/train"}


def goal_sentence(task: str) -> str:
    goals = prompt_data()["minihack"]["goals"]
    for keyword in ("corridor", "quest", "boxoban"):
        if keyword in task.lower():
            return goals[keyword]
    return goals["default"]


def boxoban_levels_dir(task: str, given: str | os.PathLike | None) -> Path:
    """The boxoban-levels folder for a Boxoban task, or a one-sentence error."""
    import minihack

    candidates = [given, os.environ.get(BOXOBAN_ENV_VAR),
                  Path(minihack.__file__).parent / "dat" / "boxoban-levels-master"]  # fmt: skip
    for candidate in candidates:
        if candidate and any((Path(candidate) / BOXOBAN_SUBDIRS[task]).glob("*.txt")):
            return Path(candidate)
    raise FileNotFoundError(
        f"{task} needs DeepMind's boxoban-levels files: pass boxoban_levels_dir=<folder with "
        f"{BOXOBAN_SUBDIRS[task]}/*.txt> or set {BOXOBAN_ENV_VAR} (the unzipped "
        "github.com/deepmind/boxoban-levels)."
    )


@contextmanager
def _levels_path(path: Path):
    """Point minihack's Boxoban loader at ``path`` while the env is built."""
    from minihack.envs import boxohack

    saved = boxohack.LEVELS_PATH
    boxohack.LEVELS_PATH = str(path)
    try:
        yield
    finally:
        boxohack.LEVELS_PATH = saved


class MiniHackEnv(NetHackWorld):
    """One of BALROG's MiniHack tasks."""

    env_name = "minihack"
    default_action = "north"

    def __init__(self, task: str, *, image: bool, max_steps: int | None = None, **options: Any):
        check_options("minihack", options, {"skip_more", "boxoban_levels_dir", *MINIHACK_KWARGS})
        if task not in TASKS:
            raise ValueError(f"Unknown MiniHack task {task!r}; valid: {', '.join(TASKS)}.")
        require("minihack", "MiniHack")
        self.task = task
        self.image = image
        self.skip_more = bool(options.pop("skip_more", False))
        levels = options.pop("boxoban_levels_dir", None)
        kwargs = {**MINIHACK_KWARGS, **options, "observation_keys": OBSERVATION_KEYS,
                  "savedir": None}  # fmt: skip
        self.max_steps = max_steps or int(kwargs["max_episode_steps"])
        self._levels: list[str] = []
        if task in BOXOBAN_SUBDIRS:
            with _levels_path(boxoban_levels_dir(task, levels)):
                # Unwrapped: gymnasium's wrappers pass reset(seed=...), which minihack 1.0.2's
                # Boxoban refuses; the step limit is ours (StepLimitedEnv) either way.
                self._env = self._make(task, kwargs).unwrapped
            self._levels = list(self._env._levels)
        else:
            self._env = self._make(task, kwargs)
        self._setup_actions(prompt_data()["minihack"]["actions"])
        self._episode_return = 0.0
        self._progression = 0.0
        self._end_reason: str | None = None

    def instruction_prompt(self) -> str:
        return prompt_data()["minihack"]["template"].format(
            action_strings=action_list(self._descriptions), goal=goal_sentence(self.task)
        )

    def _seed(self, seed: int) -> None:
        if self._levels:  # minihack draws the level with the global `random`; fix it instead
            choice = np.random.default_rng(int(seed)).integers(len(self._levels))
            self._env.unwrapped._levels = [self._levels[choice]]
            # nle 1.3.0's reset asks for the end status before minihack 1.0.2's Boxoban has
            # set its goal squares; Boxoban recomputes them right after.
            if not hasattr(self._env, "_goal_pos_set"):
                self._env._goal_pos_set = set()
        self._env.unwrapped.seed(int(seed), int(seed), False)

    def _on_reset(self, obs) -> None:
        self._episode_return = 0.0
        self._progression = 0.0
        self._end_reason = None

    def _on_step(self, obs, reward: float, done: bool, info: dict[str, Any]) -> None:
        self._episode_return += reward
        self._progression = 1.0 if reward >= 1.0 else 0.0
        status = info.get("end_status")
        self._end_reason = getattr(status, "name", None if status is None else str(status))

    def stats(self) -> dict[str, Any]:
        return {
            "episode_return": self._episode_return,
            "progression": self._progression,
            "end_reason": self._end_reason,
        }


def write_fixture_levels(root: str | os.PathLike, levels: int = 4) -> Path:
    """A tiny synthetic boxoban-levels folder (``hard/``, ``medium/train/``) in the real text
    format (``; <n>``, ten 10-character rows, a blank line): one box next to its target per
    level, for smoke tests of the Boxoban tasks. Not deepmind's levels; meaningless scores."""
    root = Path(root)
    text = ""
    for n in range(levels):
        rows = ["#" * 10] + ["#" + " " * 8 + "#" for _ in range(8)] + ["#" * 10]
        row = 2 + n % 6
        rows[row] = rows[row][:2] + "@ $." + rows[row][6:]
        text += f"; {n}\n" + "\n".join(rows) + "\n\n"
    for sub in ("hard", "medium/train"):
        (root / sub).mkdir(parents=True, exist_ok=True)
        (root / sub / "000.txt").write_text(text)
    return root
