"""BALROG's Crafter task (``default``) on PyPI ``crafter==1.8.3``.

Follows BALROG's ``CrafterLanguageWrapper`` (balrog/environments/crafter/env.py):

* the env is ``crafter.Env(area=(64, 64), view=(9, 9), size=(256, 256), reward=True,
  length=10000)`` and BALROG stops it after 2000 steps;
* ``reset`` performs one ``Noop`` step, as BALROG does, and shows that step's observation;
* long-term text: status ("You are sleeping..." / "You died."), "You see:" with every non-
  grass/sand/path cell of the 9x7 local view ("- tree 2 steps north and 1 step west"; water
  only at its edges), then "You face X at your front."; short-term text: the four vitals as
  ``x/9`` and the non-zero inventory;
* image: ``env.render()`` at 256x256;
* progression: achievements unlocked at least once / 22.

Seeding: BALROG builds the env with ``seed=None``, so its worlds are random per process. Here
``reset(seed)`` makes the world a deterministic function of the seed (crafter's own rule,
``hash((seed, episode))`` with the episode counter reset to 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from vldac.eval.balrog.base import BalrogObservation
from vldac.eval.balrog.envs._common import (
    StepLimitedEnv,
    action_list,
    check_options,
    prompt_data,
    require,
)

TASKS = ["default"]
ACTIONS = [
    "Noop", "Move West", "Move East", "Move North", "Move South", "Do", "Sleep",
    "Place Stone", "Place Table", "Place Furnace", "Place Plant", "Make Wood Pickaxe",
    "Make Stone Pickaxe", "Make Iron Pickaxe", "Make Wood Sword", "Make Stone Sword",
    "Make Iron Sword",
]  # fmt: skip
MAX_STEPS = 2000  # BALROG config: envs.crafter_kwargs.max_episode_steps
CRAFTER_KWARGS = {"area": (64, 64), "view": (9, 9), "size": (256, 256), "reward": True,
                  "length": 10000}  # fmt: skip
VITALS = ("health", "food", "drink", "energy")
HIDDEN = ("grass", "sand", "path")  # never listed, and "nothing" when faced
NUM_ACHIEVEMENTS = 22


def _item_names(env) -> list[str]:
    """Semantic-map index -> lower-case name ('water', 'tree', 'cow', 'player', ...)."""
    names = [""] * (max(env._world._mat_ids.values()) + len(env._sem_view._obj_ids) + 1)
    for key, index in list(env._world._mat_ids.items()) + list(env._sem_view._obj_ids.items()):
        text = str(key)
        if "objects." in text:
            text = text[text.find("objects.") + len("objects.") : -2].lower()
        names[index] = text
    return names


def _steps(n: int, direction: str) -> str:
    return f"{abs(n)} step{'s' if abs(n) > 1 else ''} {direction}"


def describe_location(dx: int, dy: int) -> str:
    """'2 steps north and 1 step west' for an offset (x east, y south) from the player."""
    parts = []
    if dy:
        parts.append(_steps(dy, "north" if dy < 0 else "south"))
    if dx:
        parts.append(_steps(dx, "west" if dx < 0 else "east"))
    return " and ".join(parts) if parts else "at your location"


def describe_view(semantic: np.ndarray, pos, view, facing, names: list[str]) -> str:
    """The 'You see:' list and the faced object, from the semantic map."""
    from scipy import ndimage

    px, py = int(pos[0]), int(pos[1])
    # BALROG's slice: 9 columns by 7 rows around the player (the bottom rows of crafter's
    # 9x9 view show the inventory); numpy slicing rules apply at the world's border.
    local = semantic[px - view[0] // 2 : px + view[0] // 2 + 1,
                     py - view[1] // 2 + 1 : py + view[1] // 2]  # fmt: skip
    center = np.array([view[0] // 2, view[1] // 2 - 1])
    hidden = [names.index(name) for name in HIDDEN]
    tx, ty = center[0] + facing[0], center[1] + facing[1]
    rows, cols = local.shape
    faced = "nothing"
    if 0 <= tx < cols and 0 <= ty < rows:  # BALROG's bound check, axes as written there
        index = local[int(tx), int(ty)]
        faced = "nothing" if index in hidden else names[index]
    water = names.index("water")
    water_edge = ndimage.binary_dilation(local != water) & (local == water)
    seen = []
    for i in range(local.shape[0]):
        for j in range(local.shape[1]):
            index = local[i, j]
            if index == names.index("player") or index in hidden:
                continue
            if index == water and not water_edge[i, j]:
                continue
            seen.append(f"- {names[index]} {describe_location(i - center[0], j - center[1])}")
    listing = "You see:\n" + "\n".join(seen) if seen else "You see nothing away from you."
    return f"{listing}\n\nYou face {faced} at your front."


def describe_inventory(inventory: dict[str, int]) -> str:
    status = "\n".join(f"- {v}: {inventory[v]}/9" for v in VITALS)
    items = "\n".join(f"- {k}: {n}" for k, n in inventory.items() if k not in VITALS and n)
    held = f"Your inventory:\n{items}" if items else "You have nothing in your inventory."
    return f"Your status:\n{status}\n\n{held}"


class CrafterEnv(StepLimitedEnv):
    """BALROG's Crafter task."""

    env_name = "crafter"
    language_action_space = ACTIONS
    default_action = "Noop"

    def __init__(self, task: str, *, image: bool, max_steps: int | None = None, **options: Any):
        check_options("crafter", options, set(CRAFTER_KWARGS))
        if task not in TASKS:
            raise ValueError(f"Unknown Crafter task {task!r}; valid: {', '.join(TASKS)}.")
        crafter = require("crafter", "Crafter")
        self.task = task
        self.image = image
        self.max_steps = max_steps or MAX_STEPS
        self._env = crafter.Env(**{**CRAFTER_KWARGS, **options})
        self._names = _item_names(self._env)
        self._achievements: dict[str, int] | None = None

    def instruction_prompt(self) -> str:
        data = prompt_data()["crafter"]
        return data["template"].format(action_strings=action_list(data["actions"]))

    def _observe(self, info: dict[str, Any]) -> BalrogObservation:
        player = self._env._player
        status = ""
        if player.sleeping:
            status = "You are sleeping, and will not be able take actions until energy is full."
        elif player.health <= 0:
            status = "You died."
        view = describe_view(info["semantic"], info["player_pos"], self._env._view,
                             player.facing, self._names)  # fmt: skip
        text = f"{status}\n\n\n\n{view}".strip() if status else view
        frame = Image.fromarray(self._env.render()).convert("RGB") if self.image else None
        return BalrogObservation(text, describe_inventory(info["inventory"]), frame)

    def reset(self, seed: int) -> tuple[BalrogObservation, dict[str, Any]]:
        self._env._seed = int(seed)
        self._env._episode = 0
        self._env.reset()
        _, _, _, info = self._env.step(0)  # BALROG's reset takes one Noop step
        self._achievements = None
        self._start_episode()
        return self._observe(info), {}

    def step(self, action: str) -> tuple[BalrogObservation, float, bool, bool, dict[str, Any]]:
        self._check_action(action)
        _, reward, done, info = self._env.step(ACTIONS.index(action))
        self._achievements = dict(info["achievements"])
        dead = self._env._player.health <= 0
        truncated = self._count_step(dead, bool(done) and not dead)
        extra = {"achievements": self._achievements, "inventory": dict(info["inventory"])}
        return self._observe(info), float(reward), dead, truncated, extra

    def stats(self) -> dict[str, Any]:
        unlocked = sum(1 for count in (self._achievements or {}).values() if count > 0)
        return {
            "score": float(unlocked),
            "progression": unlocked / NUM_ACHIEVEMENTS,
            "achievements": self._achievements,
        }
