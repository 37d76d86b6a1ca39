"""The VL-DAC MiniWorld prompt (spec 2.1, version v3) and the task strings per task id."""

from __future__ import annotations

__all__ = ["ACTION_NAMES", "GO_TO_RED_BOX", "action_names", "build_prompt", "default_task"]

ACTION_NAMES = {
    "0": "turn left", "1": "turn right", "2": "move forward", "3": "move back",
    "4": "pick up", "5": "drop", "6": "toggle", "7": "done",
}
# Tasks whose goal is to reach a red box (MiniWorld's ``near(self.box)`` ends them with a
# reward); the paper's four are the first four. The scripted expert serves exactly these.
GO_TO_RED_BOX = (
    "MiniWorld-Hallway-v0", "MiniWorld-OneRoom-v0", "MiniWorld-FourRooms-v0",
    "MiniWorld-WallGap-v0", "MiniWorld-OneRoomS6-v0", "MiniWorld-OneRoomS6Fast-v0",
    "MiniWorld-Maze-v0", "MiniWorld-MazeS2-v0", "MiniWorld-MazeS3-v0", "MiniWorld-MazeS3Fast-v0",
    "MiniWorld-TMaze-v0", "MiniWorld-TMazeLeft-v0", "MiniWorld-TMazeRight-v0",
    "MiniWorld-YMaze-v0", "MiniWorld-YMazeLeft-v0", "MiniWorld-YMazeRight-v0",
)
_OTHER_TASKS = {
    "MiniWorld-Sidewalk-v0": "walk along the sidewalk to the red box without stepping into "
                             "the street",
    "MiniWorld-CollectHealth-v0": "collect health kits to stay alive as long as possible",
    "MiniWorld-PickupObjects-v0": "pick up as many objects as possible",
    "MiniWorld-PutNext-v0": "put the red box next to the yellow box",
    "MiniWorld-Sign-v0": "read the colour on the sign and go to the object of that colour",
}
# Tasks that give an action number a meaning of their own.
_ACTION_OVERRIDES = {"MiniWorld-Sign-v0": {"3": "end the episode"}}


def default_task(task_id: str) -> str:
    """The task string shown to the model: "go to the red box" for the go-to-box tasks."""
    if task_id in GO_TO_RED_BOX:
        return "go to the red box"
    return _OTHER_TASKS.get(task_id, "explore the world and reach the goal")


def action_names(task_id: str, actions: list[str]) -> dict[str, str]:
    """What each action number does in ``task_id``."""
    names = {**ACTION_NAMES, **_ACTION_OVERRIDES.get(task_id, {})}
    return {a: names[a] for a in actions}


def build_prompt(task: str, steps: int, names: dict[str, str]) -> str:
    """The "# Instructions" prompt for the state after ``steps`` actions of an episode."""
    state = ("This is the starting state." if steps == 0 else
             f"The current observation is the state after {steps} previous actions.")
    listing = "\n".join(f"{a}: {name}" for a, name in names.items())
    return (
        "# Instructions\n"
        "You are an agent in a 3D simulator. The image shows what your camera sees; when "
        "several images are given, the last one is the current view. The episode ends with "
        "a reward when you complete the task, and with 0 otherwise.\n"
        f"TASK: {task}.\n"
        f"{state} Take ONE action. If you are stuck, or the goal is not visible, explore or "
        "turn around.\n"
        f"# Actions\n{listing}\n"
        "Think step by step, then answer with JSON only: "
        '{"thoughts": "<your reasoning>", "action": <action_number>}'
    )
