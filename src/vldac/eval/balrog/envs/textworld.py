"""BALROG's TextWorld tasks (treasure_hunter, the_cooking_game, coin_collector).

Follows BALROG's ``TextWorldFactory`` / ``TextWorldWrapper`` (balrog/environments/textworld):

* games are read from a ``tw_games`` folder: ``<dir>/**/<task>/*.ulx`` then ``*.z8``, each
  list sorted, the task being the parent folder's name; episode game = ``games[seed % n]``
  with ``seed`` the ``make_env`` seed when given (BALROG's ``env_kwargs.seed``) or else the
  ``reset`` seed;
* the game runs through ``textworld.gym`` with ``objective``, ``description``, ``score``,
  ``max_score`` and ``won`` requested and BALROG's limit of 80 steps;
* every string is a valid command (``accepts_any_action``); the default action "help" is
  never used; there is no image, in image mode too;
* the observation text is the game's text after the objective: BALROG splits the text on
  the objective and keeps the last part, stripped;
* like BALROG, the step reward is what ``textworld.gym`` returns, the game's running score;
* progression: when the game says done, ``max(score / max_score, 1.0 if won else 0.0)``;
  it stays 0 when the episode is cut before the game ends.

Games folder: option ``games_dir`` or ``$VLDAC_TW_GAMES``; make one with
:mod:`vldac.eval.balrog.envs.tw_games`. TextWorld 1.7.0 cannot play BALROG's Glulx (``.ulx``)
games (treasure_hunter and coin_collector in the official zip), so for those tasks only
``.z8`` games can run here; a folder with only ``.ulx`` games for a task is an error.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Any

from vldac.eval.balrog.base import BalrogObservation
from vldac.eval.balrog.envs._common import StepLimitedEnv, check_options, prompt_data, require

TASKS = ["treasure_hunter", "the_cooking_game", "coin_collector"]
MAX_STEPS = 80  # BALROG config: envs.textworld_kwargs.max_episode_steps
GAMES_ENV_VAR = "VLDAC_TW_GAMES"


class AnyCommand:
    """TextWorld's action space: every string is contained."""

    def __contains__(self, item: object) -> bool:
        return True


def find_games(folder: str | os.PathLike, task: str) -> tuple[list[Path], list[Path]]:
    """BALROG's listing of a task's games: (playable here, Glulx games left out)."""
    found: dict[str, list[Path]] = {}
    for pattern in ("*.ulx", "*.z8"):
        entries = sorted(glob.glob(os.path.join(folder, f"**/{pattern}"), recursive=True))
        found[pattern] = [Path(e) for e in entries if Path(e).parent.name == task]
    # BALROG's order is all .ulx then all .z8; .ulx games cannot run on TextWorld 1.7.0.
    return found["*.z8"], found["*.ulx"]


def filter_objective(text: str, objective: str) -> str:
    """BALROG's rule: the text after the last occurrence of the objective, stripped."""
    parts = text.split(objective) if objective else [text]
    return parts[-1].strip()


class TextWorldEnv(StepLimitedEnv):
    """One BALROG TextWorld task."""

    env_name = "textworld"
    language_action_space = AnyCommand()  # type: ignore[assignment]
    default_action = "help"
    accepts_any_action = True

    def __init__(self, task: str, *, image: bool, seed: int | None = None,
                 max_steps: int | None = None, **options: Any):  # fmt: skip
        check_options("textworld", options, {"games_dir"})
        if task not in TASKS:
            raise ValueError(f"Unknown TextWorld task {task!r}; valid: {', '.join(TASKS)}.")
        require("textworld", "TextWorld")
        self.task = task
        self.image = image
        self.seed = seed
        self.max_steps = max_steps or MAX_STEPS
        folder = options.get("games_dir") or os.environ.get(GAMES_ENV_VAR)
        if not folder:
            raise FileNotFoundError(
                f"TextWorld needs a games folder: pass games_dir=... or set {GAMES_ENV_VAR} "
                "(BALROG's tw_games, or one made by `python -m "
                "vldac.eval.balrog.envs.tw_games --out DIR`)."
            )
        self.games, glulx = find_games(folder, task)
        if not self.games:
            extra = f" (its {len(glulx)} .ulx games need TextWorld < 1.7)" if glulx else ""
            raise FileNotFoundError(
                f"No playable {task} game in {folder}{extra}; make .z8 games with "
                f"`python -m vldac.eval.balrog.envs.tw_games --out {folder}`."
            )
        self.game: Path | None = None
        self._env = None
        self._infos: dict[str, Any] = {}
        self.progression = 0.0

    def instruction_prompt(self) -> str:
        return prompt_data()["textworld"][self.task]

    def _open(self, game: Path) -> None:
        import textworld
        import textworld.gym

        if self._env is not None:
            self._env.close()
        infos = textworld.EnvInfos(objective=True, description=True, score=True,
                                   max_score=True, won=True)  # fmt: skip
        env_id = textworld.gym.register_game(
            str(game), infos, max_episode_steps=MAX_STEPS, asynchronous=False
        )
        self._env = textworld.gym.make(env_id)
        self.game = game

    def _observe(self, text: str) -> BalrogObservation:
        return BalrogObservation(filter_objective(text, self._infos.get("objective", "")))

    def reset(self, seed: int) -> tuple[BalrogObservation, dict[str, Any]]:
        chosen = self.seed if self.seed is not None else seed
        game = self.games[int(chosen) % len(self.games)]
        self._open(game)
        text, self._infos = self._env.reset()
        self.progression = 0.0
        self._start_episode()
        return self._observe(text), {"game": str(game)}

    def step(self, action: str) -> tuple[BalrogObservation, float, bool, bool, dict[str, Any]]:
        text, score, done, self._infos = self._env.step(action)
        if done:
            won = 1.0 if self._infos.get("won") else 0.0
            self.progression = max(self._infos["score"] / self._infos["max_score"], won)
        truncated = self._count_step(bool(done), False)
        info = {key: self._infos.get(key) for key in ("score", "max_score", "won")}
        return self._observe(text), float(score), bool(done), truncated, info

    def stats(self) -> dict[str, Any]:
        return {"progression": self.progression}

    def close(self) -> None:
        if self._env is not None:
            self._env.close()
            self._env = None
