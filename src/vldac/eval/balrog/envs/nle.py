"""BALROG's NetHack task (``NetHackChallenge-v0``) on PyPI ``nle==1.3.0``.

Follows BALROG's NLE wrapper (balrog/environments/nle/{nle_env,base,auto_more}.py):

* ``gym.make("NetHackChallenge-v0", character="@", max_episode_steps=100_000,
  no_progress_timeout=150)``; BALROG's ``skip_more`` (AutoMore: answer every "--More--" at
  once, joining the message parts) is on by default here (option ``skip_more``);
* actions: for each of the env's actions, BALROG's names for it that have a description in
  BALROG's ``NLE_ACTIONS_TO_DESCR`` (directions, "far ..." moves, commands, "esc", "0"-"9",
  "minus", "space", "apos"); default action "esc";
* text (language mode, BALROG's "hybrid" prompt): long-term = message, language observation,
  cursor (plus "(x=, y=)") and the ASCII map (tty without its top line); short-term = the
  inventory. In image (VLM) mode BALROG's "language" prompt: no map, and the short-term text
  adds the statistics; the image is the 21x79 glyph map drawn with NetHack's 16x16 tiles
  (nle's own tile set, 336x1264 RGB);
* progression: the maximum, over the ``Dlvl:N`` / ``Xp:N`` reached so far, of BALROG's
  achievement table (``data/nethack_achievements.json``).

Differences from BALROG that could change numbers:

* BALROG runs ``balrog-nle`` 0.9.0 (a fork of NLE 0.9 with the language wrapper built in);
  this runs NLE 1.3.0. Both play NetHack 3.6.6; the differences between the two (game
  options file, gym API, action set of ``NetHackChallenge-v0``) were not audited here.
* the language observation is our Python re-implementation of nle-language-wrapper's C++
  (see :mod:`.nle_language`);
* the tiles come from NLE 1.3.0's NetHack tile files; BALROG ships a pickled atlas, assumed
  to be the same NetHack 3.6 tile set (not compared pixel by pixel);
* NetHackChallenge forbids seeding; BALROG's games are therefore unseeded. Here
  ``reset(seed)`` seeds the game through nle's base ``set_initial_seeds`` so that runs repeat;
* an older BALROG config had ``skip_more: False``; the default here follows the newer one.
* the action space follows BALROG's newer wrapper (names with a description in
  ``NLE_ACTIONS_TO_DESCR``: 79 actions, among them "0"-"9"); BALROG's older wrapper, which the
  spec sheet describes, offered USEFUL_ACTIONS names plus a-z, A-Z, 0-9 and 00-99. With the
  older one an agent could answer "What do you want to eat? [fg]" with "f"; with this one
  only through the command bound to that key ("fire" sends "f"), although the prompt's tips
  still suggest single letters.
* ``end_reason`` is nle's end status name, not BALROG's parse of the tombstone text
  (MiniHack: the name, where BALROG stores the status enum itself).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from vldac.eval.balrog.base import BalrogObservation
from vldac.eval.balrog.envs import nle_language as lang
from vldac.eval.balrog.envs._common import (
    StepLimitedEnv,
    action_list,
    check_options,
    nethack_achievements,
    prompt_data,
    require,
)

TASKS = ["NetHackChallenge-v0"]
NLE_KWARGS = {"character": "@", "max_episode_steps": 100_000, "no_progress_timeout": 150}
OBSERVATION_KEYS = ("glyphs", "blstats", "tty_chars", "inv_letters", "inv_strs",
                    "tty_cursor", "tty_colors")  # fmt: skip


def action_enums() -> dict[str, Any]:
    """BALROG's action names (those with a description) -> NLE action enum."""
    from nle.nethack import actions as A

    named = {
        "north": A.CompassDirection.N, "east": A.CompassDirection.E,
        "south": A.CompassDirection.S, "west": A.CompassDirection.W,
        "northeast": A.CompassDirection.NE, "southeast": A.CompassDirection.SE,
        "southwest": A.CompassDirection.SW, "northwest": A.CompassDirection.NW,
        "far north": A.CompassDirectionLonger.N, "far east": A.CompassDirectionLonger.E,
        "far south": A.CompassDirectionLonger.S, "far west": A.CompassDirectionLonger.W,
        "far northeast": A.CompassDirectionLonger.NE,
        "far southeast": A.CompassDirectionLonger.SE,
        "far southwest": A.CompassDirectionLonger.SW,
        "far northwest": A.CompassDirectionLonger.NW,
        "up": A.MiscDirection.UP, "down": A.MiscDirection.DOWN, "wait": A.MiscDirection.WAIT,
        "more": A.MiscAction.MORE, "minus": A.TextCharacters.MINUS,
        "space": A.TextCharacters.SPACE, "apos": A.TextCharacters.APOS,
    }  # fmt: skip
    for digit in range(10):
        named[str(digit)] = getattr(A.TextCharacters, f"NUM_{digit}")
    for command in A.Command:
        named.setdefault(command.name.lower(), command)
    return named


def language_actions(env_actions, descriptions: dict[str, str]) -> dict[str, int]:
    """BALROG's rule: per env action (in the env's order), the described names for it."""
    enums = action_enums()
    space: dict[str, int] = {}
    for index, action in enumerate(env_actions):
        for name in descriptions:
            if name not in space and name in enums and int(enums[name]) == int(action):
                space[name] = index
    return space


def nethack_progression(reached: set[str], table: dict[str, float] | None = None) -> float:
    """BALROG's NetHack progression: max table value over the reached achievement keys."""
    table = nethack_achievements() if table is None else table
    return max((table[key] for key in reached if key in table), default=0.0)


def render_ascii(tty_chars: np.ndarray) -> str:
    """BALROG's map: every tty row but the first (the message line)."""
    rows = ["".join(chr(c) for c in row) for row in np.asarray(tty_chars)]
    return "\n".join(rows[1:]) + "\n"


class NetHackWorld(StepLimitedEnv):
    """NLE-based BALROG worlds (NetHack and MiniHack): text, image, AutoMore, seeding."""

    skip_more: bool = True

    def _make(self, gym_id: str, kwargs: dict[str, Any]):
        gym = require("gymnasium", self.env_name)
        require("nle", self.env_name)
        render_mode = "pixel" if self.image else None
        # gymnasium's passive checker calls reset(seed=None), which Boxoban's reset refuses.
        return gym.make(gym_id, render_mode=render_mode, disable_env_checker=True, **kwargs)

    def _seed(self, seed: int) -> None:
        from nle.nethack import Nethack

        # The class method, because NetHackChallenge blocks seeding on the instance.
        Nethack.set_initial_seeds(self._env.unwrapped.nethack, int(seed), int(seed), False)

    def _auto_more(self, obs, reward, terminated, truncated, info):
        message = lang.text_message(obs["tty_chars"])
        while self.skip_more and "--More--" in message and not (terminated or truncated):
            message = message.replace("--More--", "\n")
            more = self._env.unwrapped.actions.index(self._more_action)
            obs, extra, terminated, truncated, info = self._env.step(more)
            message += lang.text_message(obs["tty_chars"])
            reward += extra
        return obs, reward, terminated, truncated, info, message

    def _observe(self, obs: dict[str, np.ndarray], message: str) -> BalrogObservation:
        glyphs, blstats = obs["glyphs"], obs["blstats"]
        cursor_text = lang.text_cursor(glyphs, blstats, obs["tty_cursor"])
        parts = [("message", message), ("language observation", lang.text_glyphs(glyphs, blstats))]
        inventory = lang.text_inventory(obs["inv_strs"], obs["inv_letters"])
        if self.image:
            parts.append(("cursor", cursor_text))
            short = [("statistics", lang.text_blstats(blstats)), ("inventory", inventory)]
        else:
            y, x = (int(v) for v in obs["tty_cursor"])
            parts.append(("cursor", f"{cursor_text}\n(x={x}, y={y})"))
            parts.append(("map", render_ascii(obs["tty_chars"])))
            short = [("inventory", inventory)]
        frame = None
        if self.image:
            frame = Image.fromarray(np.array(self._env.unwrapped.render())).convert("RGB")
        return BalrogObservation(
            long_term_context="\n".join(f"{name}:\n{text}\n" for name, text in parts),
            short_term_context="\n".join(f"{name}:\n{text}\n" for name, text in short),
            image=frame,
        )

    def _setup_actions(self, descriptions: dict[str, str]) -> None:
        from nle.nethack import actions as A

        self._more_action = A.MiscAction.MORE
        self._action_index = language_actions(self._env.unwrapped.actions, descriptions)
        self.language_action_space = list(self._action_index)
        self._descriptions = {name: descriptions[name] for name in self.language_action_space}

    def reset(self, seed: int) -> tuple[BalrogObservation, dict[str, Any]]:
        self._seed(seed)
        obs, info = self._env.reset()
        self._start_episode()
        self._on_reset(obs)
        return self._observe(obs, lang.text_message(obs["tty_chars"])), dict(info)

    def step(self, action: str) -> tuple[BalrogObservation, float, bool, bool, dict[str, Any]]:
        self._check_action(action)
        result = self._env.step(self._action_index[action])
        obs, reward, terminated, truncated, info, message = self._auto_more(*result)
        self._on_step(obs, float(reward), bool(terminated or truncated), info)
        truncated = self._count_step(bool(terminated), bool(truncated))
        return self._observe(obs, message), float(reward), bool(terminated), truncated, dict(info)

    def _on_reset(self, obs: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    def _on_step(self, obs, reward: float, done: bool, info: dict[str, Any]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._env.close()


class NetHackEnv(NetHackWorld):
    """BALROG's NetHack task."""

    env_name = "nle"
    default_action = "esc"

    def __init__(self, task: str, *, image: bool, max_steps: int | None = None, **options: Any):
        check_options("nle", options, {"skip_more", *NLE_KWARGS})
        if task not in TASKS:
            raise ValueError(f"Unknown NetHack task {task!r}; valid: {', '.join(TASKS)}.")
        self.task = task
        self.image = image
        self.skip_more = bool(options.pop("skip_more", True))
        kwargs = {**NLE_KWARGS, **options, "observation_keys": OBSERVATION_KEYS,
                  "savedir": None}  # fmt: skip
        self.max_steps = max_steps or int(kwargs["max_episode_steps"])
        self._env = self._make(task, kwargs)
        self._setup_actions(prompt_data()["nle"]["actions"])
        self._progress: dict[str, Any] = {}

    def instruction_prompt(self) -> str:
        return prompt_data()["nle"]["template"].format(
            action_strings=action_list(self._descriptions)
        )

    def _on_reset(self, obs) -> None:
        # BALROG's Progress starts like this and is first updated by a step.
        self._progress = {
            "episode_return": 0.0, "score": 0, "depth": 1, "gold": 0, "experience_level": 1,
            "time": 0, "dlvl_list": [], "xplvl_list": [], "highest_achievement": None,
            "progression": 0.0, "end_reason": None,
        }  # fmt: skip

    def _on_step(self, obs, reward: float, done: bool, info: dict[str, Any]) -> None:
        self._progress["episode_return"] += reward
        self._update(obs["blstats"])
        if done and "end_status" in info:
            self._progress["end_reason"] = getattr(info["end_status"], "name", None)

    def _update(self, blstats: np.ndarray) -> None:
        from nle import nethack as nh

        p = self._progress
        p["score"] = int(blstats[nh.NLE_BL_SCORE])
        p["depth"] = int(blstats[nh.NLE_BL_DEPTH])
        p["gold"] = int(blstats[nh.NLE_BL_GOLD])
        p["experience_level"] = int(blstats[nh.NLE_BL_XP])
        p["time"] = int(blstats[nh.NLE_BL_TIME])
        table = nethack_achievements()
        for key, seen in ((f"Xp:{p['experience_level']}", p["xplvl_list"]),
                          (f"Dlvl:{p['depth']}", p["dlvl_list"])):  # fmt: skip
            if key in table and key not in seen:
                seen.append(key)
                if table[key] > p["progression"]:
                    p["progression"] = table[key]
                    p["highest_achievement"] = key

    def stats(self) -> dict[str, Any]:
        return {**self._progress, "dlvl_list": list(self._progress.get("dlvl_list", [])),
                "xplvl_list": list(self._progress.get("xplvl_list", []))}  # fmt: skip
