"""The TextWorld engine of ALFWorld for one game at a time, with its expert and goal conditions.

:class:`TextEngine` wraps ``textworld``'s PDDL environment with the wrappers ALFWorld's
``AlfredTWEnv`` uses (``AlfredDemangler``, ``AlfredInfos``, ``AlfredExpert``), but loads one
game file chosen by the caller instead of AlfredTWEnv's batched, asynchronous gym env, which
cycles through games in its own order and runs each batch in subprocesses. Everything runs in
this process: the fast-downward library is loaded in-process (a private copy per engine).

Determinism: the PDDL state, the feedback and the sorted admissible commands are functions of
the game file and the commands sent. The handcoded expert draws from Python's global
``random``; every expert update runs under a seed derived from the episode seed and step,
with the caller's global random state restored afterwards.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import textworld
from alfworld.agents.environment.alfred_tw_env import (
    AlfredDemangler,
    AlfredExpert,
    AlfredInfos,
)
from textworld.envs.pddl import PddlEnv

__all__ = ["EXPERTS", "GameState", "TextEngine", "goal_conditions", "task_of"]

EXPERTS = ("handcoded", "planner")


@dataclass
class GameState:
    """What the engine reports after a reset or a step."""

    feedback: str
    admissible: list[str]
    won: bool
    goal_condition_success_rate: float
    expert_plan: list[str]
    planner_plan: list[str] | None = None  # fast-downward's plan, when asked for at reset


@contextlib.contextmanager
def _quiet_and_seeded(seed: int | None):
    """Silence library prints, keep sys.argv (fast-downward's translator overwrites it) and
    run under a fixed global ``random`` seed, restoring the caller's state afterwards."""
    argv, state = list(sys.argv), random.getstate()
    if seed is not None:
        random.seed(seed)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        sys.argv[:] = argv
        random.setstate(state)


def task_of(game_file: str | Path) -> dict:
    """The task of a game: ``task_type`` and ALFRED's ``pddl_params`` from its traj_data.json."""
    traj = json.loads((Path(game_file).parent / "traj_data.json").read_text())
    return {"task_type": traj["task_type"], **traj["pddl_params"]}


def _objects_of(facts, type_name: str) -> set[str]:
    wanted = type_name.lower() + "type"
    return {f.arguments[0].name for f in facts
            if f.name.lower() == "objecttype" and f.arguments[1].name.lower() == wanted}


def goal_conditions(facts, task: dict) -> tuple[int, int]:
    """(satisfied, total) goal conditions of ``task`` in a PDDL state, ALFRED-style.

    pick_and_place: an object in a parent receptacle (1). pick_two_obj: two distinct objects in
    one parent receptacle (2, one per object). clean/heat/cool: an object has the state, and
    such an object is in a parent receptacle (2). look_at_obj_in_light: the object is held,
    and a lamp of the toggle type was switched on (2). The episode is won exactly when all hold.
    """
    held: dict[str, set[str]] = {}
    for f in facts:
        name = f.name.lower()
        held.setdefault(name, set()).add(" ".join(a.name for a in f.arguments))
    objs = _objects_of(facts, task["object_target"])
    rtype = task["parent_target"].lower() + "type"
    parents = {f.arguments[0].name for f in facts if f.name.lower() == "receptacletype"
               and f.arguments[1].name.lower() == rtype}
    inside = {o for o in objs for r in parents if f"{o} {r}" in held.get("inreceptacle", ())}
    kind = task["task_type"]
    if kind == "pick_and_place_simple":
        return int(bool(inside)), 1
    if kind == "pick_two_obj_and_place":
        per_parent = [sum(f"{o} {r}" in held.get("inreceptacle", ()) for o in objs)
                      for r in parents] or [0]
        return min(2, max(per_parent)), 2
    if kind == "look_at_obj_in_light":
        holding = any(f"agent1 {o}" in held.get("holds", ()) for o in objs)
        lamps = _objects_of(facts, task["toggle_target"])
        lit = any(lamp in held.get("istoggled", ()) for lamp in lamps)
        return int(holding) + int(lit), 2
    state = {"pick_clean_then_place_in_recep": "isclean", "pick_heat_then_place_in_recep": "ishot",
             "pick_cool_then_place_in_recep": "iscool"}[kind]
    changed = {o for o in objs if o in held.get(state, ())}
    return int(bool(changed)) + int(bool(changed & inside)), 2


class TextEngine:
    """One TextWorld PDDL environment that plays any ALFWorld game file, one at a time.

    ``expert``: "handcoded" (ALFWorld's rule-based expert, updated every step), "planner"
    (fast-downward replans every step; slower) or None (no expert, fastest).
    """

    def __init__(self, expert: str | None = "handcoded") -> None:
        if expert is not None and expert not in EXPERTS:
            raise ValueError(f"expert must be one of {list(EXPERTS)} or None, got {expert!r}.")
        self.expert = expert
        # Human-readable facts cost time every step; only the handcoded expert reads them.
        infos = textworld.EnvInfos(won=True, admissible_commands=True, feedback=True,
                                   facts=expert == "handcoded", extras=["gamefile"])
        wrappers = [AlfredDemangler(shuffle=False), AlfredInfos]
        if expert is not None:
            wrappers.append(AlfredExpert(expert_type=expert))
            infos.extras.append("expert_plan")
        self._infos, self._wrappers = infos, wrappers
        self._env = None
        self._loaded: str | None = None
        self._task: dict | None = None
        self._seed = 0
        self._steps = 0

    def _ensure_env(self):
        if self._env is None:
            with _quiet_and_seeded(None):
                env = PddlEnv(self._infos)
                for wrapper in self._wrappers:  # classes and instances both wrap by call
                    env = wrapper(env)
            self._env = env
        return self._env

    def reset(self, game_file: str | Path, seed: int = 0, plan: bool = False) -> GameState:
        """Start ``game_file`` from its initial state; ``plan`` also asks fast-downward for a
        plan from there (``planner_plan``; empty if it finds none)."""
        env = self._ensure_env()
        game_file = str(game_file)
        self._seed, self._steps = seed, 0
        with _quiet_and_seeded(self._expert_seed()):
            if game_file != self._loaded:
                env.load(game_file)
                self._loaded, self._task = game_file, task_of(game_file)
            asked = env.request_infos.policy_commands
            env.request_infos.policy_commands = asked or plan
            try:
                state = env.reset()
            finally:
                env.request_infos.policy_commands = asked
        result = self._state(state)
        if plan:
            result.planner_plan = list(state.get("policy_commands") or [])
        return result

    def step(self, command: str) -> GameState:
        """Apply one admissible command (the caller checks admissibility)."""
        self._steps += 1
        with _quiet_and_seeded(self._expert_seed()):
            state, _, _ = self._env.step(command)
        return self._state(state)

    def _expert_seed(self) -> int:
        return (self._seed * 1_000_003 + self._steps) % (2**63)

    def _state(self, state) -> GameState:
        done, total = goal_conditions(state["_facts"], self._task)
        plan = list(state.get("extra.expert_plan") or []) if self.expert else []
        return GameState(feedback=state["feedback"], admissible=list(state["admissible_commands"]),
                         won=bool(state["won"]), goal_condition_success_rate=done / total,
                         expert_plan=plan)

    def close(self) -> None:
        """Release the engine. Its copy of the fast-downward library stays mapped until the
        process exits: unloading it (``close_lib``) while the PDDL state still points into it
        crashed the interpreter."""
        if self._env is not None:
            self._env.close()
            self._env, self._loaded = None, None
