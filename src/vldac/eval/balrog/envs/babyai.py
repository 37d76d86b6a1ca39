"""BALROG's BabyAI-Text tasks, rebuilt on PyPI ``minigrid==3.2.0``.

BALROG runs ``BabyAI-MixedTrainLocal-v0/<goal>`` from the BartekCupial/Minigrid fork (itself
adapted from flowersteam/Grounding_LLMs_with_online_RL). PyPI minigrid lacks that level and
the fork's per-step language ``descriptions``, so this module re-implements both:

* :class:`MixedTrainLocal` follows the fork's ``Level_MixedTrainLocal``: one 8x8 room (two
  rooms side by side for ``open``), ``num_dists`` distractors (BALROG passes ``num_dists=0``),
  instructions that avoid the held-out pairs (yellow box, red key/door, green ball, grey
  door), all objects reachable without unblocking. BALROG draws the goal kind at random when
  it builds the env and re-creates the env until the kind matches the task; here the kind is
  fixed at construction, which gives the same conditional distribution. The random draws at
  ``reset(seed)`` follow the fork's order, so layouts should match the fork's for a seed.
* :func:`describe` follows the fork's ``gen_graph``: walls straight ahead/left/right, then
  every object in view ("You see a red ball 2 steps left and 1 step forward"), with BALROG's
  wrapper removing "You see " and joining lines with newlines. The fork's quirk of calling
  an open door "a open ... door" is kept.

Where ours could differ from the fork: the fork's ``add_locked_room(color)`` is not public in
any source I could read; ours is minigrid 3.2.0's ``add_locked_room`` with the door (and its
key) given the drawn colour. If the fork places the key differently, ``open`` layouts differ.
minigrid 3.2.0 code shared with the fork (room grid, verifier, rendering) is assumed equal.

Image: ``get_pov_render(tile_size=16)`` (7x7 view, 112x112 RGB), as BALROG.
"""

from __future__ import annotations

from typing import Any

from PIL import Image

from vldac.eval.balrog.base import BalrogObservation
from vldac.eval.balrog.envs._common import (
    StepLimitedEnv,
    action_list,
    check_options,
    prompt_data,
    require,
)

TASK_PREFIX = "BabyAI-MixedTrainLocal-v0/"
GOAL_KINDS = {  # task suffix -> the fork's action kind
    "goto": "goto",
    "pickup": "pickup",
    "open": "open",
    "putnext": "putnext",
    "pick_up_seq_go_to": "pick up seq go to",
}
TASKS = [TASK_PREFIX + goal for goal in GOAL_KINDS]
ACTIONS = ["turn left", "turn right", "go forward", "pick up", "drop", "toggle"]
EXCLUDED_PAIRS = ("yellow box", "red key", "red door", "green ball", "grey door")
NUM_DISTS = 0  # BALROG config: envs.babyai_kwargs.num_dists


def _level_class():
    """Build the level class lazily so that importing this module needs no minigrid."""
    require("minigrid", "BabyAI")
    from minigrid.envs.babyai.core.levelgen import LevelGen
    from minigrid.envs.babyai.core.verifier import (
        AfterInstr,
        BeforeInstr,
        GoToInstr,
        ObjDesc,
        OpenInstr,
        PickupInstr,
        PutNextInstr,
    )

    class MixedTrainLocal(LevelGen):
        """The fork's MixedTrainLocal with its goal kind fixed (see module docstring)."""

        def __init__(self, goal_kind: str, num_dists: int = NUM_DISTS, **kwargs: Any):
            super().__init__(
                room_size=8,
                num_rows=1,
                num_cols=2 if goal_kind == "open" else 1,
                num_dists=num_dists,
                action_kinds=[goal_kind],
                instr_kinds=["action", "seq1"],
                locations=False,
                unblocking=False,
                implicit_unlock=False,
                **kwargs,
            )

        def gen_mission(self) -> None:
            kind = self._rand_elem(self.action_kinds)  # a draw the fork makes too
            accepted = reachable = False
            while not (accepted and reachable):
                self._fresh_rooms()
                if kind == "open":
                    reachable = self._make_open()
                else:
                    self.place_agent()
                    extra = 1 if kind in ("goto", "pickup") else 2
                    objs = self.add_distractors(
                        num_distractors=self.num_dists + extra, all_unique=False
                    )
                    reachable = self.check_objs_reachable(raise_exc=False)
                    self.instrs = self._instruction(kind, objs)
                surface = self.instrs.surface(self)
                accepted = not any(pair in surface for pair in EXCLUDED_PAIRS)

        def _make_open(self) -> bool:
            color = self._rand_elem(["yellow", "green", "blue", "purple"])
            self._add_locked_room(color)
            self.connect_all()
            for j in range(self.num_rows):
                for i in range(self.num_cols):
                    if self.get_room(i, j) is not self.locked_room:
                        self.add_distractors(i, j, num_distractors=self.num_dists, all_unique=False)
            while True:
                self.place_agent()
                if self.room_from_pos(*self.agent_pos) is not self.locked_room:
                    break
            reachable = self.check_objs_reachable(raise_exc=False)
            self.instrs = OpenInstr(ObjDesc("door", self._rand_elem([None, color])))
            return reachable

        def _pick(self, objs: list, allow_door: bool = False):
            obj = self._rand_elem(objs)
            while not allow_door and str(obj.type) == "door":
                obj = self._rand_elem(objs)
            return obj

        def _second(self, first, objs: list):
            """The fork's rule: the second object may equal the first only if ambiguous."""
            second = self._rand_elem(objs)
            if (first.type, first.color) == (second.type, second.color):
                matches, _ = ObjDesc(first.type, first.color).find_matching_objs(self)
                while len(matches) < 2 and (first.type, first.color) == (
                    second.type,
                    second.color,
                ):
                    second = self._rand_elem(objs)
            return second

        def _instruction(self, kind: str, objs: list):
            if kind == "goto":
                obj = self._pick(objs, allow_door=True)
                return GoToInstr(ObjDesc(obj.type, obj.color))
            if kind == "pickup":
                obj = self._pick(objs)
                return PickupInstr(ObjDesc(obj.type, obj.color))
            first = self._pick(objs)
            second = self._second(first, objs)
            if kind == "putnext":
                return PutNextInstr(
                    ObjDesc(first.type, first.color), ObjDesc(second.type, second.color)
                )
            pickup = PickupInstr(ObjDesc(first.type, first.color))
            goto = GoToInstr(ObjDesc(second.type, second.color))
            if self._rand_elem(["Before", "After"]) == "Before":
                return BeforeInstr(pickup, goto)
            return AfterInstr(goto, pickup)

        def _add_locked_room(self, color: str) -> None:
            while True:
                i = self._rand_int(0, self.num_cols)
                j = self._rand_int(0, self.num_rows)
                door_idx = self._rand_int(0, 4)
                self.locked_room = self.get_room(i, j)
                if self.locked_room.neighbors[door_idx] is not None:
                    self.add_door(i, j, door_idx, color=color, locked=True)
                    break
            while True:
                i = self._rand_int(0, self.num_cols)
                j = self._rand_int(0, self.num_rows)
                if self.get_room(i, j) is not self.locked_room:
                    self.add_object(i, j, "key", color)
                    break

        def _fresh_rooms(self) -> None:
            """Empty the grid and re-draw the door positions, as the fork's ``_regen_grid``."""
            self.grid.grid = [None] * self.width * self.height
            for row in self.room_grid:
                for room in row:
                    room.doors = [None] * 4
                    room.door_pos = [None] * 4
                    room.neighbors = [None] * 4
                    room.locked = False
                    room.objs = []
                    self.grid.wall_rect(*room.top, *room.size)
            for j, row in enumerate(self.room_grid):
                for i, room in enumerate(row):
                    x_l, y_l = room.top[0] + 1, room.top[1] + 1
                    x_m = room.top[0] + room.size[0] - 1
                    y_m = room.top[1] + room.size[1] - 1
                    if i < self.num_cols - 1:
                        room.neighbors[0] = self.room_grid[j][i + 1]
                        room.door_pos[0] = (x_m, self._rand_int(y_l, y_m))
                    if j < self.num_rows - 1:
                        room.neighbors[1] = self.room_grid[j + 1][i]
                        room.door_pos[1] = (self._rand_int(x_l, x_m), y_m)
                    if i > 0:
                        room.neighbors[2] = self.room_grid[j][i - 1]
                        room.door_pos[2] = room.neighbors[2].door_pos[0]
                    if j > 0:
                        room.neighbors[3] = self.room_grid[j - 1][i]
                        room.door_pos[3] = room.neighbors[3].door_pos[1]
            self.agent_pos = (
                (self.num_cols // 2) * (self.room_size - 1) + self.room_size // 2,
                (self.num_rows // 2) * (self.room_size - 1) + self.room_size // 2,
            )
            self.agent_dir = 0

    return MixedTrainLocal


def _steps(n: int, word: str) -> str:
    return f"{n} step{'s' if n > 1 else ''} {word}"


def describe(env) -> list[str]:
    """The fork's language description of the agent's 7x7 view (``info['descriptions']``)."""
    from minigrid.core.constants import COLOR_TO_IDX, OBJECT_TO_IDX

    idx_to_color = {v: k for k, v in COLOR_TO_IDX.items()}
    idx_to_object = {v: k for k, v in OBJECT_TO_IDX.items()}
    idx_to_state = {0: "open", 1: "closed", 2: "locked"}
    grid, vis_mask = env.gen_obs_grid()
    image = grid.encode(vis_mask)
    lines = []
    if env.carrying is not None:
        lines.append(f"You carry a {env.carrying.color} {env.carrying.type}")
    ax, ay = env.get_view_coords(*env.agent_pos)
    size = image.shape[0]
    # A wall is named only when nothing but empty or unseen cells lies before it.
    for label, cells in (
        ("forward", [(ax, y, ay - y) for y in range(ay - 1, -1, -1)]),
        ("left", [(x, ay, ax - x) for x in range(ax - 1, -1, -1)]),
        ("right", [(x, ay, x - ax) for x in range(ax + 1, size)]),
    ):
        for x, y, dist in cells:
            kind = image[x][y][0]
            if kind not in (0, 1):
                if kind == 2:
                    lines.append(f"You see a wall {_steps(dist, label)}")
                break
    for x in range(size):  # column by column, as the fork's dictionary walk
        for y in range(size):
            kind, color, state = (int(v) for v in image[x][y])
            if kind in (0, 1, 2) or (x == ax and y == ay):
                continue
            if x == ax:  # straight ahead (the view never extends behind the agent)
                parts = [_steps(ay - y, "forward")]
            elif y == ay:
                parts = [_steps(abs(x - ax), "right" if x > ax else "left")]
            else:
                parts = [
                    _steps(abs(x - ax), "right" if x > ax else "left"),
                    _steps(ay - y, "forward"),
                ]
            name = f"{idx_to_color[color]} {idx_to_object[kind]}"
            if kind == 4:  # a door: the fork always takes the "not open" branch
                name = f"{idx_to_state[state]} {name}"
            lines.append(f"You see a {name} " + " and ".join(parts))
    return lines


class BabyAIEnv(StepLimitedEnv):
    """One BALROG BabyAI task (``BabyAI-MixedTrainLocal-v0/<goal>``)."""

    env_name = "babyai"
    language_action_space = ACTIONS
    default_action = "go forward"

    def __init__(self, task: str, *, image: bool, max_steps: int | None = None, **options: Any):
        check_options("babyai", options, {"num_dists"})
        if task not in TASKS:
            raise ValueError(f"Unknown BabyAI task {task!r}; valid: {', '.join(TASKS)}.")
        self.task = task
        self.image = image
        level = _level_class()
        self._env = level(GOAL_KINDS[task.removeprefix(TASK_PREFIX)], **options)
        self._override = max_steps
        # minigrid's own limit, num_navs x room_size^2 x rooms, known per goal kind
        goal = task.removeprefix(TASK_PREFIX)
        self.max_steps = max_steps or (64 if goal in ("goto", "pickup") else 128)
        self._mission = ""
        self.progression = 0.0

    def instruction_prompt(self) -> str:
        data = prompt_data()["babyai"]
        return data["template"].format(
            mission=self._mission, action_strings=action_list(data["actions"])
        )

    def _observe(self) -> BalrogObservation:
        text = "\n".join(line.replace("You see ", "") for line in describe(self._env))
        frame = None
        if self.image:
            frame = Image.fromarray(self._env.get_pov_render(tile_size=16)).convert("RGB")
        return BalrogObservation(long_term_context=text, short_term_context="", image=frame)

    def reset(self, seed: int) -> tuple[BalrogObservation, dict[str, Any]]:
        obs, info = self._env.reset(seed=seed)
        self._mission = obs["mission"]
        self.max_steps = self._override or int(self._env.max_steps)
        self.progression = 0.0
        self._start_episode()
        return self._observe(), {"mission": self._mission}

    def step(self, action: str) -> tuple[BalrogObservation, float, bool, bool, dict[str, Any]]:
        self._check_action(action)
        _, reward, terminated, truncated, info = self._env.step(ACTIONS.index(action))
        if reward > 0:
            self.progression = 1.0
        truncated = self._count_step(bool(terminated), bool(truncated))
        return self._observe(), float(reward), bool(terminated), truncated, dict(info)

    def stats(self) -> dict[str, Any]:
        return {"mission": self._mission, "progression": self.progression}

    def close(self) -> None:
        self._env.close()
