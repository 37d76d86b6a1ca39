"""The six ALFWorld task types: sampling a task in a room and writing its PDDL goal.

A task is ALFRED's (task_type, pddl_params): the object to move, the receptacle type to put it
in (``parent_target``) and, for look_at_obj_in_light, the lamp type (``toggle_target``).
Sampling follows ALFRED's rules: a task type only occurs in the room types ALFRED allows it in
(``alfworld.gen.constants.GOALS_VALID``), the state-change tasks need their appliance in the
room (sink basin, microwave, fridge), and no target object starts inside a parent receptacle,
so that no game is won before the first step.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from alfworld.gen import constants
from alfworld.gen.goal_library import gdict

from vldac.envs.alfworld.scenes import LAMP_STANDS, Room, Scene, can_contain

__all__ = ["TASK_ALIASES", "TASK_TYPES", "Task", "resolve_task_types", "rooms_for", "sample_task"]

# ALFWorld's numbering (AlfredTWEnv.TASK_TYPES), which configs refer to as 1..6.
TASK_TYPES = ("pick_and_place_simple", "look_at_obj_in_light", "pick_clean_then_place_in_recep",
              "pick_heat_then_place_in_recep", "pick_cool_then_place_in_recep",
              "pick_two_obj_and_place")
TASK_ALIASES = {"pick_and_place": "pick_and_place_simple",
                "pick_clean_then_place": "pick_clean_then_place_in_recep",
                "pick_heat_then_place": "pick_heat_then_place_in_recep",
                "pick_cool_then_place": "pick_cool_then_place_in_recep"}
# The appliance a state-change task needs, and the PDDL fact it sets.
_APPLIANCE = {"pick_clean_then_place_in_recep": ("SinkBasin", "Cleanable", "isClean"),
              "pick_heat_then_place_in_recep": ("Microwave", "Heatable", "isHot"),
              "pick_cool_then_place_in_recep": ("Fridge", "Coolable", "isCool")}


def resolve_task_types(task_types) -> tuple[str, ...]:
    """Task types by ALFWorld name, short alias or number 1..6, in ALFWorld's order."""
    if task_types is None:
        return TASK_TYPES
    names = set()
    for t in task_types:
        name = TASK_TYPES[t - 1] if isinstance(t, int) and 1 <= t <= 6 else TASK_ALIASES.get(t, t)
        if name not in TASK_TYPES:
            raise ValueError(f"Unknown ALFWorld task type {t!r}; valid ones are 1..6 or "
                             f"{', '.join(TASK_TYPES)}.")
        names.add(name)
    return tuple(t for t in TASK_TYPES if t in names)


@dataclass(frozen=True)
class Task:
    task_type: str
    object_target: str
    parent_target: str = ""
    toggle_target: str = ""

    @property
    def pddl_params(self) -> dict:
        return {"object_target": self.object_target, "parent_target": self.parent_target,
                "toggle_target": self.toggle_target, "mrecep_target": "", "object_sliced": False}

    def description(self, rng: random.Random) -> str:
        """ALFWorld's templated goal text (one of its templates, chosen by ``rng``)."""
        template = rng.choice(gdict[self.task_type]["templates"])
        return template.format(obj=self.object_target.lower(), recep=self.parent_target.lower(),
                               toggle=self.toggle_target.lower(), mrecep="")

    def pddl_goal(self) -> str:
        """The goal as a PDDL ``(:goal ...)`` over ALFWorld's domain."""
        obj, parent = f"{self.object_target}Type", f"{self.parent_target}Type"
        if self.task_type == "look_at_obj_in_light":
            return ("(:goal (and\n"
                    "  (exists (?t - object ?r - receptacle ?l - location)\n"
                    f"    (and (objectType ?t {self.toggle_target}Type) (isToggled ?t)"
                    " (inReceptacle ?t ?r) (receptacleAtLocation ?r ?l) (atLocation agent1 ?l)))\n"
                    f"  (exists (?o - object) (and (objectType ?o {obj}) (holds agent1 ?o)))))")
        if self.task_type == "pick_two_obj_and_place":
            return ("(:goal (exists (?r - receptacle ?o1 - object ?o2 - object)\n"
                    f"  (and (receptacleType ?r {parent}) (objectType ?o1 {obj})"
                    f" (objectType ?o2 {obj}) (not (= ?o1 ?o2))\n"
                    "       (inReceptacle ?o1 ?r) (inReceptacle ?o2 ?r))))")
        state = f" ({_APPLIANCE[self.task_type][2]} ?o)" if self.task_type in _APPLIANCE else ""
        return ("(:goal (exists (?r - receptacle ?o - object)\n"
                f"  (and (receptacleType ?r {parent}) (objectType ?o {obj}){state}"
                " (inReceptacle ?o ?r))))")


def rooms_for(task_type: str, rooms: list[Room]) -> list[Room]:
    """The rooms where ALFRED allows ``task_type`` and that can host it."""
    allowed = constants.GOALS_VALID[task_type]
    return [room for room in rooms if room.kind in allowed and _objects_for(task_type, room)]


def _objects_for(task_type: str, room: Room) -> list[tuple[str, str]]:
    """(object, parent-or-lamp) pairs ``task_type`` can use in ``room``."""
    kinds = room.receptacle_kinds()
    if task_type == "look_at_obj_in_light":
        return [(o, lamp) for lamp in room.lamps for o in room.object_types]
    tool = None
    if task_type in _APPLIANCE:
        tool, ability, _ = _APPLIANCE[task_type]
        if tool not in kinds:
            return []
    pairs = []
    for obj in room.object_types:
        if tool and obj not in constants.VAL_ACTION_OBJECTS[ability]:
            continue
        pairs += [(obj, parent) for parent in sorted(kinds)
                  if parent != tool and can_contain(parent, obj)]
    return pairs


def sample_task(task_type: str, room: Room, rng: random.Random,
                max_receptacles: int | None = None) -> tuple[Task, Scene]:
    """Draw a task of ``task_type`` in ``room`` and a scene that poses it (not yet solved).

    ``max_receptacles`` shrinks the room to that many receptacles, keeping the ones the task
    needs (parent, appliance, a lamp stand, a starting place for the object)."""
    obj, other = rng.choice(_objects_for(task_type, room))
    look = task_type == "look_at_obj_in_light"
    task = Task(task_type, obj, "" if look else other, other if look else "")
    if max_receptacles is not None:
        needed = {task.parent_target, _APPLIANCE.get(task_type, ("",))[0]}
        keep = [rng.choice([r for r in room.receptacles if r.kind == k])
                for k in sorted(needed & room.receptacle_kinds())]
        hosts = [r for r in room.receptacles if can_contain(r.kind, obj)
                 and r.kind != task.parent_target]
        stands = [r for r in room.receptacles if r.kind in LAMP_STANDS] if look else []
        keep += [rng.choice(group) for group in (hosts, stands) if group]
        room = room.shrunk(rng, max_receptacles, list(dict.fromkeys(keep)))
    counts = {obj: rng.randint(2 if task_type == "pick_two_obj_and_place" else 1, 3)}
    if look:
        counts[other] = 1
    distractors = [o for o in room.object_types if o not in counts]
    for kind in rng.sample(distractors, min(len(distractors), rng.randint(5, 10))):
        counts[kind] = rng.randint(1, 2)
    avoid = {obj: {task.parent_target}} if task.parent_target else {}
    return task, Scene.populate(room, rng, counts, avoid=avoid)

