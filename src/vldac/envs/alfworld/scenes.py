"""ALFRED rooms as PDDL problems: the scene layouts that ship in the alfworld wheel.

The wheel carries, for each of ALFRED's 120 THOR floor plans, the receptacles of the room with
the pose an agent stands at to use them (``gen/layouts/FloorPlan<N>-openable.json``) and the
object types that occur in it (``FloorPlan<N>-objects.json``), plus ALFRED's tables of which
receptacle holds which object and which objects can be cleaned, heated, cooled or toggled
(``alfworld.gen.constants``). A :class:`Room` is one floor plan read from those files; a
:class:`Scene` is a room with object instances placed in it, written as an ALFRED-style PDDL
problem for ALFWorld's domain (``alfworld/data/alfred.pddl``).

Names follow ALFRED's id convention (``Apple|+01.20|+00.95|-02.00`` mangled to
``Apple_bar__plus_01_dot_20_bar_...``), which ALFWorld's demangler turns into "apple 1".
"""

from __future__ import annotations

import functools
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from alfworld.gen import constants

__all__ = ["ROOM_TYPES", "Room", "Scene", "load_room", "mangle", "room_numbers"]

ROOM_TYPES = {"Kitchen": range(1, 31), "LivingRoom": range(201, 231),
              "Bedroom": range(301, 331), "Bathroom": range(401, 431)}
LAMPS = ("DeskLamp", "FloorLamp")
# Receptacles a lamp may stand on (lamps are toggled where they stand, never carried).
LAMP_STANDS = ("Desk", "SideTable", "Dresser", "Shelf", "CoffeeTable", "TVStand", "Cart")
_LAYOUTS = Path(constants.__file__).parent / "layouts"
_SLICED = "Sliced"


def mangle(alfred_id: str) -> str:
    """ALFRED id -> PDDL name, the reverse of what ALFWorld's Demangler reads."""
    for old, new in (("|", "_bar_"), ("+", "_plus_"), ("-", "_minus_"), (".", "_dot_"),
                     (",", "_comma_")):
        alfred_id = alfred_id.replace(old, new)
    return alfred_id


def room_numbers(room_type: str | None = None) -> list[int]:
    """Floor plan numbers whose layout ships in the wheel (optionally of one room type)."""
    ranges = [ROOM_TYPES[room_type]] if room_type else list(ROOM_TYPES.values())
    return [n for r in ranges for n in r if (_LAYOUTS / f"FloorPlan{n}-openable.json").is_file()]


def room_type(number: int) -> str:
    return next(name for name, numbers in ROOM_TYPES.items() if number in numbers)


@functools.cache
def _can_contain() -> dict[str, frozenset[str]]:
    return {r: frozenset(o for o in objs if _SLICED not in o)
            for r, objs in constants.VAL_RECEPTACLE_OBJECTS.items()}


def can_contain(receptacle_type: str, object_type: str) -> bool:
    return object_type in _can_contain().get(receptacle_type, frozenset())


def _action_objects(kind: str) -> frozenset[str]:
    return frozenset(constants.VAL_ACTION_OBJECTS[kind])


@dataclass(frozen=True)
class Receptacle:
    alfred_id: str  # e.g. "Sink|-01.90|+00.97|-01.50|SinkBasin"
    kind: str  # the PDDL receptacle type without "Type", e.g. "SinkBasin"
    location: str  # ALFRED location id "loc|x|z|rotation|horizon"


@dataclass(frozen=True)
class Room:
    """One ALFRED floor plan: its receptacles and the object types that occur in it."""

    number: int
    receptacles: tuple[Receptacle, ...]
    object_types: tuple[str, ...]  # pickupable types that some receptacle here can hold
    lamps: tuple[str, ...]
    _present: tuple[str, ...] = ()  # every type the floor plan lists

    @property
    def kind(self) -> str:
        return room_type(self.number)

    def receptacle_kinds(self) -> set[str]:
        return {r.kind for r in self.receptacles}

    def shrunk(self, rng: random.Random, size: int, keep: list[Receptacle]) -> Room:
        """This room with only ``keep`` and random other receptacles, ``size`` in all.

        Fewer receptacles mean fewer admissible commands and a faster engine; tests and CPU
        smoke runs use it, full rooms are the default."""
        others = [r for r in self.receptacles if r not in keep]
        chosen = set(keep) | set(rng.sample(others, max(0, min(len(others), size - len(keep)))))
        return _room(self.number, [r for r in self.receptacles if r in chosen], self._present)


@functools.cache
def load_room(number: int) -> Room:
    """Read floor plan ``number`` from the wheel's layout files."""
    poses = json.loads((_LAYOUTS / f"FloorPlan{number}-openable.json").read_text())
    present = json.loads((_LAYOUTS / f"FloorPlan{number}-objects.json").read_text())
    receptacles = []
    for alfred_id, (x, z, rotation, horizon) in sorted(poses.items()):
        parts = alfred_id.split("|")
        kind = parts[-1] if len(parts) == 5 else parts[0]  # Sink|..|SinkBasin -> SinkBasin
        # ALFRED's locations are grid cells of 0.25 m plus the camera's rotation and horizon.
        location = f"loc|{round(x / 0.25)}|{round(z / 0.25)}|{round(rotation / 90)}|{round(horizon)}"
        receptacles.append(Receptacle(alfred_id, kind, location))
    return _room(number, receptacles, tuple(sorted(present)))


def _room(number: int, receptacles: list[Receptacle], present: tuple[str, ...]) -> Room:
    kinds = {r.kind for r in receptacles}
    holdable = {o for r in kinds for o in _can_contain().get(r, ())}
    objects = tuple(sorted(o for o in set(present) & holdable if o not in kinds))
    lamps = tuple(sorted(set(present) & set(LAMPS))) if kinds & set(LAMP_STANDS) else ()
    return Room(number, tuple(receptacles), objects, lamps, present)


@dataclass
class Placed:
    alfred_id: str
    kind: str
    receptacle: Receptacle


@dataclass
class Scene:
    """A room with object instances placed in receptacles, and a start location."""

    room: Room
    objects: list[Placed] = field(default_factory=list)
    start: str = "loc|0|0|0|30"

    @classmethod
    def populate(cls, room: Room, rng: random.Random, counts: dict[str, int],
                 avoid: dict[str, set[str]] | None = None) -> Scene:
        """Place ``counts[kind]`` instances of each object kind in random receptacles that can
        hold it (lamps only on lamp stands), never in a receptacle kind of ``avoid[kind]``;
        the agent starts on a cell no receptacle uses."""
        scene, avoid = cls(room), avoid or {}
        for kind, count in sorted(counts.items()):
            if kind in LAMPS:
                hosts = [r for r in room.receptacles if r.kind in LAMP_STANDS]
            else:
                hosts = [r for r in room.receptacles if can_contain(r.kind, kind)]
            hosts = [r for r in hosts if r.kind not in avoid.get(kind, ())]
            if not hosts:
                raise ValueError(f"FloorPlan{room.number} has no receptacle for a {kind}.")
            for _ in range(count):
                host = rng.choice(hosts)
                coords = "|".join(f"{rng.uniform(-4, 4):+06.2f}" for _ in range(3))
                scene.objects.append(Placed(f"{kind}|{coords}", kind, host))
        used = {r.location for r in room.receptacles}
        while scene.start in used:
            scene.start = f"loc|{rng.randint(-12, 12)}|{rng.randint(-12, 12)}|{rng.randint(0, 3)}|30"
        return scene

    def kinds_in(self, receptacle_kind: str) -> set[str]:
        return {o.kind for o in self.objects if o.receptacle.kind == receptacle_kind}

    def count(self, kind: str) -> int:
        return sum(o.kind == kind for o in self.objects)

    def pddl_problem(self, name: str, goal: str) -> str:
        """The PDDL problem of this scene under ``goal`` (a ``(:goal ...)`` expression)."""
        receptacle_kinds = sorted(self.room.receptacle_kinds())
        object_kinds = sorted({o.kind for o in self.objects})
        locations = sorted({r.location for r in self.room.receptacles} | {self.start})
        decl = ["agent1 - agent"]
        decl += [f"{k}Type - otype" for k in object_kinds if k not in receptacle_kinds]
        decl += [f"{k}Type - rtype" for k in receptacle_kinds]
        decl += [f"{mangle(o.alfred_id)} - object" for o in self.objects]
        decl += [f"{mangle(r.alfred_id)} - receptacle" for r in self.room.receptacles]
        decl += [f"{mangle(loc)} - location" for loc in locations]
        init = [f"(atLocation agent1 {mangle(self.start)})"]
        for r in self.room.receptacles:
            rid = mangle(r.alfred_id)
            init += [f"(receptacleType {rid} {r.kind}Type)",
                     f"(receptacleAtLocation {rid} {mangle(r.location)})"]
            if r.kind in constants.OPENABLE_CLASS_SET:
                init.append(f"(openable {rid})")
        for o in self.objects:
            oid = mangle(o.alfred_id)
            init += [f"(objectType {oid} {o.kind}Type)",
                     f"(inReceptacle {oid} {mangle(o.receptacle.alfred_id)})",
                     f"(objectAtLocation {oid} {mangle(o.receptacle.location)})"]
            if o.kind in LAMPS:
                init.append(f"(toggleable {oid})")
            else:
                init.append(f"(pickupable {oid})")
            if o.kind in constants.MOVABLE_RECEPTACLES_SET:
                init.append(f"(isReceptacleObject {oid})")
            for kind, fact in (("Cleanable", "cleanable"), ("Heatable", "heatable"),
                               ("Coolable", "coolable")):
                if o.kind in _action_objects(kind):
                    init.append(f"({fact} {oid})")
        for r in receptacle_kinds:
            init += [f"(canContain {r}Type {o}Type)" for o in object_kinds if can_contain(r, o)]
        body = "\n        ".join
        return (f"(define (problem {name})\n    (:domain alfred)\n    (:objects\n        "
                f"{body(decl)}\n    )\n    (:init\n        {body(init)}\n    )\n{goal}\n)\n")
