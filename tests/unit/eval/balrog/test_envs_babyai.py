"""BALROG BabyAI: the five MixedTrainLocal tasks on minigrid 3.2.0."""

import random

import pytest

pytest.importorskip("minigrid", reason="minigrid is not installed: pip install -e '.[balrog]'")

from vldac.eval.balrog.envs import make_env  # noqa: E402
from vldac.eval.balrog.envs.babyai import TASKS, describe  # noqa: E402

MISSION_START = {"goto": "go to", "pickup": "pick up", "open": "open", "putnext": "put"}
LIMITS = {"goto": 64, "pickup": 64, "open": 128, "putnext": 128, "pick_up_seq_go_to": 128}


@pytest.mark.parametrize("task", TASKS)
def test_reset_is_deterministic_and_matches_the_goal_kind(task):
    goal = task.split("/")[1]
    first, second = (make_env("babyai", task, image=False) for _ in range(2))
    obs_a, info_a = first.reset(seed=11)
    obs_b, info_b = second.reset(seed=11)
    assert obs_a.long_term_context == obs_b.long_term_context
    assert info_a["mission"] == info_b["mission"]
    if goal == "pick_up_seq_go_to":  # "pick up A, then go to B" or "go to B after you pick up A"
        assert "pick up" in info_a["mission"] and "go to" in info_a["mission"]
    else:
        assert info_a["mission"].startswith(MISSION_START[goal])
    assert first.max_steps == LIMITS[goal]
    for action in ["turn left", "go forward", "toggle"]:
        assert first.step(action)[0].long_term_context == second.step(action)[0].long_term_context
    held_out = ("yellow box", "red key", "red door", "green ball", "grey door")
    assert not any(pair in info_a["mission"] for pair in held_out)


def test_action_space_default_and_prompt():
    env = make_env("babyai", TASKS[0], image=False)
    assert env.language_action_space == [
        "turn left",
        "turn right",
        "go forward",
        "pick up",
        "drop",
        "toggle",
    ]
    assert env.default_action == "go forward" and not env.accepts_any_action
    _, info = env.reset(seed=1)
    prompt = env.instruction_prompt()
    assert f"Your goal is to {info['mission']}." in prompt
    assert "turn left: turn to the left,\n" in prompt and prompt.endswith("PLAY!")


def test_image_mode_gives_the_112px_pov_render_and_text_mode_none():
    obs, _ = make_env("babyai", TASKS[2], image=True).reset(seed=4)
    assert obs.image is not None and obs.image.size == (112, 112) and obs.image.mode == "RGB"
    assert make_env("babyai", TASKS[2], image=False).reset(seed=4)[0].image is None


def test_descriptions_by_hand():
    from minigrid.core.world_object import Ball, Door, Key

    env = make_env("babyai", TASKS[0], image=False)
    env.reset(seed=0)
    grid = env._env
    for x in range(1, grid.width - 1):  # empty the room
        for y in range(1, grid.height - 1):
            grid.grid.set(x, y, None)
    grid.agent_pos, grid.agent_dir = (3, 4), 0  # facing east; right is south
    grid.grid.set(5, 4, Ball("red"))  # 2 ahead
    grid.grid.set(4, 5, Key("blue"))  # 1 right, 1 ahead
    grid.grid.set(3, 2, Door("green", is_open=True))  # 2 left
    lines = describe(grid)
    assert "You see a red ball 2 steps forward" in lines
    assert "You see a blue key 1 step right and 1 step forward" in lines
    assert "You see a open green door 2 steps left" in lines  # the fork's wording
    assert "You see a wall 3 steps right" in lines
    assert not any("wall" in line and "forward" in line for line in lines)  # ball in the way
    grid.carrying = Key("purple")
    assert describe(grid)[0] == "You carry a purple key"


@pytest.mark.parametrize("task", TASKS)
def test_random_episode_runs_to_its_end(task):
    env = make_env("babyai", task, image=True, max_steps=6)
    env.reset(seed=5)
    rng = random.Random(0)
    for _ in range(6):
        _, reward, terminated, truncated, _ = env.step(rng.choice(env.language_action_space))
        if terminated or truncated:
            break
    assert terminated or truncated
    with pytest.raises(RuntimeError):
        env.step("go forward")
    assert env.stats()["progression"] in (0.0, 1.0)
