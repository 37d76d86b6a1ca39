"""BALROG's progression rules, one hand-computed case after another."""

import pytest

from vldac.eval.balrog.envs._common import nethack_achievements
from vldac.eval.balrog.envs.nle import nethack_progression


def test_nethack_table_values():
    table = nethack_achievements()
    assert table["Dlvl:1"] == 0.0 and table["Xp:1"] == 0.0
    assert table["Dlvl:5"] == pytest.approx(0.02648, abs=5e-6)
    assert table["Dlvl:10"] == pytest.approx(0.12559, abs=5e-6)
    assert table["Xp:10"] == pytest.approx(0.17910, abs=5e-6)
    assert table["You ascend t"] == 1.0
    assert len([k for k in table if k.startswith("Dlvl:")]) == 50
    assert len([k for k in table if k.startswith("Xp:")]) == 30


def test_nethack_progression_is_the_max_over_reached_keys():
    assert nethack_progression(set()) == 0.0
    assert nethack_progression({"Dlvl:1", "Xp:1"}) == 0.0
    assert nethack_progression({"Dlvl:5"}) == pytest.approx(0.02648, abs=5e-6)
    # Xp:3 (0.02081) < Dlvl:5 (0.02648) < Xp:5 (0.02911)
    assert nethack_progression({"Dlvl:5", "Xp:3"}) == pytest.approx(0.02648, abs=5e-6)
    assert nethack_progression({"Dlvl:5", "Xp:5"}) == pytest.approx(0.02911, abs=5e-6)
    assert nethack_progression({"Dlvl:2", "Unknown:9"}) == pytest.approx(0.01539, abs=5e-6)


class _FakeMiniGrid:
    """Returns the scripted rewards of a BabyAI level."""

    def __init__(self, env, rewards):
        self.inner, self.rewards = env, list(rewards)

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def step(self, action):
        obs, _, terminated, truncated, info = self.inner.step(action)
        return obs, self.rewards.pop(0), terminated, truncated, info


@pytest.mark.parametrize(("rewards", "expected"), [([0, 0, 0], 0.0), ([0, 0.55, 0], 1.0)])
def test_babyai_progression_is_one_after_any_positive_reward(rewards, expected):
    pytest.importorskip("minigrid", reason="minigrid is not installed: pip install -e '.[balrog]'")
    from vldac.eval.balrog.envs.babyai import BabyAIEnv

    env = BabyAIEnv("BabyAI-MixedTrainLocal-v0/goto", image=False)
    env.reset(seed=0)
    env._env = _FakeMiniGrid(env._env, rewards)
    for _ in rewards:
        env.step("turn left")
    assert env.stats()["progression"] == expected
    assert env.stats()["mission"].startswith("go to")


def test_crafter_progression_counts_unlocked_achievements_over_22():
    pytest.importorskip("crafter", reason="crafter is not installed: pip install -e '.[balrog]'")
    from vldac.eval.balrog.envs.crafter import CrafterEnv

    env = CrafterEnv("default", image=False)
    env.reset(seed=0)
    assert env.stats()["progression"] == 0.0
    env._achievements = {"collect_wood": 3, "place_table": 1, "eat_cow": 0}
    assert env.stats()["progression"] == pytest.approx(2 / 22)
    assert env.stats()["score"] == 2.0


class _FakeTextWorld:
    def __init__(self, steps):
        self.steps = list(steps)

    def reset(self):
        return "Welcome! Your task is to win. -= Room =- You see a coin.", {
            "objective": "Your task is to win.",
            "score": 0,
            "max_score": 4,
            "won": False,
        }

    def step(self, command):
        score, done, won = self.steps.pop(0)
        return (
            "text",
            score,
            done,
            {"objective": "Your task is to win.", "score": score, "max_score": 4, "won": won},
        )

    def close(self):
        pass


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([(1, False, False), (3, False, False)], 0.0),  # never done: stays 0
        ([(1, False, False), (3, True, False)], 0.75),  # done: score / max_score
        ([(2, True, True)], 1.0),  # won beats the score
    ],
)
def test_textworld_progression_is_set_when_the_game_ends(tmp_path, steps, expected):
    pytest.importorskip(
        "textworld", reason="textworld is not installed: pip install -e '.[balrog]'"
    )
    from vldac.eval.balrog.envs.textworld import TextWorldEnv

    (tmp_path / "coin_collector").mkdir()
    (tmp_path / "coin_collector" / "fake.z8").write_bytes(b"")
    env = TextWorldEnv("coin_collector", image=False, games_dir=str(tmp_path))
    env._open = lambda game: setattr(env, "_env", _FakeTextWorld(steps))
    observation, _ = env.reset(seed=3)
    assert observation.long_term_context == "-= Room =- You see a coin."  # objective removed
    for _ in steps:
        env.step("go east")
    assert env.stats()["progression"] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("rewards", "expected"), [([1.0, -0.01], 0.0), ([-0.01, 1.0], 1.0), ([0.99], 0.0)]
)
def test_minihack_progression_looks_at_the_last_reward(rewards, expected):
    pytest.importorskip("minihack", reason="minihack is not installed: pip install -e '.[balrog]'")
    from vldac.eval.balrog.envs.minihack import MiniHackEnv

    env = MiniHackEnv("MiniHack-Corridor-R3-v0", image=False)
    env.reset(seed=0)
    for reward in rewards:
        env._on_step(None, reward, False, {})
    assert env.stats()["progression"] == expected
