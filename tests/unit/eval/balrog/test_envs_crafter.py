"""BALROG Crafter: BALROG's text, image, action space and step limit."""

import pytest

pytest.importorskip("crafter", reason="crafter is not installed: pip install -e '.[balrog]'")

from vldac.eval.balrog.envs import make_env  # noqa: E402
from vldac.eval.balrog.envs.crafter import describe_inventory, describe_location  # noqa: E402


@pytest.fixture(scope="module")
def env():
    return make_env("crafter", "default", image=True)


def test_action_space_default_and_prompt(env):
    assert len(env.language_action_space) == 17
    assert env.language_action_space[:6] == [
        "Noop",
        "Move West",
        "Move East",
        "Move North",
        "Move South",
        "Do",
    ]
    assert env.default_action == "Noop"
    prompt = env.instruction_prompt()
    assert prompt.startswith("You are an agent playing Crafter.")
    assert "Noop: do nothing,\nMove West: move west on flat ground," in prompt
    assert "22. Collect Diamond" in prompt and prompt.endswith("PLAY!")


def test_reset_is_deterministic_per_seed(env):
    other = make_env("crafter", "default", image=False)
    a, _ = env.reset(seed=3)
    b, _ = other.reset(seed=3)
    assert a.long_term_context == b.long_term_context
    assert a.short_term_context == b.short_term_context
    assert (
        env.step("Move West")[0].long_term_context == other.step("Move West")[0].long_term_context
    )
    worlds = {other.reset(seed=s)[0].long_term_context for s in range(4)}
    assert len(worlds) > 1  # other seeds, other worlds
    assert a.image.size == (256, 256) and a.image.mode == "RGB"
    assert b.image is None


def test_text_has_balrog_sections(env):
    obs, _ = env.reset(seed=1)
    assert obs.long_term_context.startswith(("You see", "You see nothing"))
    assert obs.long_term_context.rstrip().endswith("at your front.")
    assert obs.short_term_context.startswith("Your status:\n- health: 9/9\n- food: 9/9")
    assert obs.short_term_context.endswith("You have nothing in your inventory.")


def test_location_and_inventory_by_hand():
    assert describe_location(0, 0) == "at your location"
    assert describe_location(-1, 0) == "1 step west"
    assert describe_location(3, -2) == "2 steps north and 3 steps east"
    assert describe_location(0, 1) == "1 step south"
    inventory = {"health": 9, "food": 7, "drink": 8, "energy": 6, "sapling": 1, "wood": 0}
    assert describe_inventory(inventory) == (
        "Your status:\n- health: 9/9\n- food: 7/9\n- drink: 8/9\n- energy: 6/9\n\n"
        "Your inventory:\n- sapling: 1"
    )


def test_episode_runs_to_its_step_limit():
    env = make_env("crafter", "default", image=False, max_steps=5)
    env.reset(seed=2)
    ends = [env.step(a)[2:4] for a in ["Do", "Move East", "Noop", "Sleep", "Do"]]
    assert ends[-1] == (False, True) and all(end == (False, False) for end in ends[:-1])
    assert 0.0 <= env.stats()["progression"] <= 1.0
    with pytest.raises(RuntimeError, match="finished episode"):
        env.step("Noop")
    env.reset(seed=2)
    with pytest.raises(ValueError, match="not in the crafter action space"):
        env.step("Jump")
