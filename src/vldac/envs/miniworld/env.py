"""MiniWorld behind the env contract: the paper's four "go to the red box" tasks, or any
registered MiniWorld task by id.

The OpenGL backend is chosen (EGL, else X) before miniworld is first imported, inside the
constructor; see :mod:`vldac.envs.miniworld.display` for why that order matters.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import operator

from PIL import Image

from vldac.envs.base import Observation, StepResult
from vldac.envs.discrete import DiscreteTextEnv, Outcome
from vldac.envs.miniworld.display import select_display
from vldac.envs.miniworld.expert import GoToPlanner
from vldac.envs.miniworld.prompt import GO_TO_RED_BOX, action_names, build_prompt, default_task

# Fail at import, like any missing extra, so the registry can name the extra to install.
if importlib.util.find_spec("miniworld") is None:
    raise ModuleNotFoundError("No module named 'miniworld'", name="miniworld")

__all__ = ["FourRoomsEnv", "HallwayEnv", "MiniWorldEnv", "MiniWorldTaskEnv", "OneRoomEnv",
           "WallGapEnv"]

ACTION_SETS = {"move": 4, "all": 8}
_SEED_MODULUS = 2**63  # gymnasium seeds must be non-negative


def _check_size(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 8 <= value <= 4096:
        raise ValueError(f"{name} must be an integer in 8..4096, got {value!r}.")
    return value


class MiniWorldEnv(DiscreteTextEnv):
    """One MiniWorld task (``task_id``, e.g. "MiniWorld-OneRoom-v0") with text actions.

    Observation: the agent's camera, ``obs_width`` x ``obs_height`` (MiniWorld's default
    80 x 60), one new frame per step (the rollout keeps the K-frame history), and the VL-DAC
    prompt naming the task (``task``; default "go to the red box" for the go-to-box tasks).

    Actions: "0" turn left, "1" turn right, "2" move forward, "3" move back (15 degrees,
    0.15 m; MiniWorld registers only 0-2 for these tasks but executes 3). ``actions="all"``
    adds "4" pick up, "5" drop, "6" toggle, "7" done, for tasks that need them.

    Reward: exactly MiniWorld's, 1 - 0.2 * (step_count / MiniWorld's own step limit) on
    reaching the goal (success, terminates), 0 otherwise. Time limit: 128 steps (the paper's),
    truncating; MiniWorld's own limit (180-300 steps for the paper's tasks) truncates too if it
    comes first.

    invalid_action (an answer with no readable action; every action is always legal):
    ``"random"`` (default, the official behaviour): a uniformly random action from the
    episode's seeded RNG; ``"penalty"``: the agent stands still, reward -1, and the step
    counts against both time limits (MiniWorld's step counter advances too, so its
    time-discounted reward stays in step).

    Seeds: ``reset(seed)`` seeds MiniWorld with ``seed mod 2**63``, so a seed gives the same
    world, frames and rewards every time, and replaying the same answers reproduces them.
    ``display``: "auto" | "egl" | "xvfb" (see the display module).
    """

    name = "miniworld"
    task_id: str = ""
    default_max_episode_steps = 128
    default_invalid_action = "random"

    def __init__(self, *, obs_width: int = 80, obs_height: int = 60, display: str = "auto",
                 task: str | None = None, actions: str = "move", **kwargs) -> None:
        if task is not None and (not isinstance(task, str) or not task.strip()):
            raise ValueError(f"task must be a non-empty string, got {task!r}.")
        if actions not in ACTION_SETS:
            raise ValueError(f"actions must be one of {list(ACTION_SETS)}, got {actions!r}.")
        self.obs_size = (_check_size("obs_width", obs_width), _check_size("obs_height", obs_height))
        self.actions = [str(a) for a in range(ACTION_SETS[actions])]
        super().__init__(**kwargs)
        self.name = f"miniworld/{self.task_id}"
        self.display = select_display(display)
        self._sim = _make_sim(self.task_id, obs_width, obs_height)
        self.task = task if task is not None else default_task(self.task_id)
        self._action_names = action_names(self.task_id, self.actions)
        self._frame: Image.Image | None = None
        self._planner: GoToPlanner | None = None

    # ----- the game ---------------------------------------------------------------------

    def reset(self, seed: int) -> Observation:
        """Start the episode MiniWorld generates from ``seed``; see the class docstring."""
        self._seed = operator.index(seed) % _SEED_MODULUS
        return super().reset(seed)

    def _new_episode(self) -> None:
        obs, _ = self._sim.reset(seed=self._seed)
        self._frame = _frame(obs)
        self._planner = None

    def _apply(self, action: str) -> Outcome:
        obs, reward, terminated, truncated, _ = self._sim.step(int(action))
        self._frame = _frame(obs)
        return Outcome(reward=float(reward), terminated=bool(terminated),
                       truncated=bool(truncated), success=bool(terminated) and reward > 0)

    def step(self, text: str) -> StepResult:
        """As :meth:`DiscreteTextEnv.step`, keeping MiniWorld's clock in step under "penalty"."""
        result = super().step(text)
        if result.info["action"] is None:  # the penalty rule: nothing moved, the clock ran
            self._sim.step_count += 1
        return result

    def _render(self) -> Image.Image:
        return self._frame.copy()

    def _prompt(self) -> str:
        return build_prompt(self.task, self.episode_steps, self._action_names)

    def _info(self) -> dict:
        if self.task_id not in GO_TO_RED_BOX:
            return {}
        gap = self._sim.box.pos - self._sim.agent.pos
        return {"distance_to_goal": round(float(math.hypot(gap[0], gap[2])), 4)}

    # ----- the expert -------------------------------------------------------------------

    def expert_action(self) -> str:
        """A shortest-path move toward the red box (the tasks listed in ``GO_TO_RED_BOX``)."""
        sim = self._sim
        if self.task_id not in GO_TO_RED_BOX:
            raise NotImplementedError(f"The MiniWorld expert only plays go-to-the-red-box tasks "
                                      f"({', '.join(GO_TO_RED_BOX)}), not {self.task_id}.")
        if self._planner is None:
            reach = sim.box.radius + sim.agent.radius + 1.1 * sim.max_forward_step
            segs = sim.wall_segs[:, :, [0, 2]] if len(sim.wall_segs) else sim.wall_segs
            self._planner = GoToPlanner(segs, (sim.min_x, sim.max_x, sim.min_z, sim.max_z),
                                        sim.box.pos[[0, 2]], reach, sim.agent.radius)
        # Domain randomisation is off, so MiniWorld moves by its parameters' default values.
        turn_step = math.radians(sim.params.sample(None, "turn_step"))
        forward_step = sim.params.sample(None, "forward_step")
        return str(self._planner.action(sim.agent.pos[[0, 2]], sim.agent.dir, turn_step,
                                        forward_step))

    def close(self) -> None:
        """Close MiniWorld and its hidden GL window (MiniWorld's own close leaves it open)."""
        sim, self._sim = getattr(self, "_sim", None), None
        if sim is not None:
            sim.close()
            sim.shadow_window.close()


def _frame(obs) -> Image.Image:
    """MiniWorld's camera array (H, W, 3) as an image; Sign wraps it in a dict."""
    return Image.fromarray(obs["obs"] if isinstance(obs, dict) else obs)


def _make_sim(task_id: str, width: int, height: int):
    """Import miniworld (the display is chosen by now) and build ``task_id`` unwrapped."""
    gym = importlib.import_module("gymnasium")
    importlib.import_module("miniworld")
    known = sorted(k for k in gym.registry if k.startswith("MiniWorld-"))
    if task_id not in known:
        raise ValueError(f"Unknown MiniWorld task {task_id!r}; registered tasks are: "
                         f"{', '.join(known)}.")
    # No TimeLimit or checker wrappers: this env counts steps itself and needs the raw API.
    return gym.make(task_id, obs_width=width, obs_height=height,
                    disable_env_checker=True).unwrapped


class MiniWorldTaskEnv(MiniWorldEnv):
    """Any registered MiniWorld task, by its gymnasium id (``task_id``; default OneRoom, the
    task of the paper's Table 1, so that the env can be made without arguments)."""

    def __init__(self, *, task_id: str = "MiniWorld-OneRoom-v0", **kwargs) -> None:
        if not isinstance(task_id, str) or not task_id:
            raise ValueError(f"task_id must be a MiniWorld id such as "
                             f"'MiniWorld-OneRoom-v0', got {task_id!r}.")
        self.task_id = task_id
        super().__init__(**kwargs)


class HallwayEnv(MiniWorldEnv):
    """Go to the red box at the end of a hallway (MiniWorld-Hallway-v0)."""

    task_id = "MiniWorld-Hallway-v0"


class OneRoomEnv(MiniWorldEnv):
    """Go to the red box placed at random in one big room (MiniWorld-OneRoom-v0)."""

    task_id = "MiniWorld-OneRoom-v0"


class FourRoomsEnv(MiniWorldEnv):
    """Go to the red box somewhere in four connected rooms (MiniWorld-FourRooms-v0)."""

    task_id = "MiniWorld-FourRooms-v0"


class WallGapEnv(MiniWorldEnv):
    """Go to the red box behind a wall with one gap (MiniWorld-WallGap-v0)."""

    task_id = "MiniWorld-WallGap-v0"
