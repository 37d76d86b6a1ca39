"""NumberLine rules: rewards, termination, the 10-step limit and invalid answers."""

import pytest

from vldac.envs import make


def answer(action: str) -> str:
    return f'{{"thoughts": "t", "action": "{action}"}}'


def test_start_differs_from_target_and_both_are_on_the_line():
    env = make("gym_cards/NumberLine-v0")
    for seed in range(300):
        env.reset(seed)
        assert env.position != env.goal
        assert 0 <= env.position <= 5 and 0 <= env.goal <= 5


def test_expert_always_reaches_the_target():
    env = make("gym_cards/NumberLine-v0")
    for seed in range(200):
        env.reset(seed)
        rewards = []
        while True:
            result = env.step(answer(env.expert_action()))
            rewards.append(result.reward)
            if result.terminated or result.truncated:
                break
        assert result.terminated and result.info["success"]
        assert rewards[-1] == 1.0 and all(r == 0.0 for r in rewards[:-1])


def test_moving_away_costs_one_and_an_end_does_not_move():
    env = make("gym_cards/NumberLine-v0")
    env.reset(0)
    env.position, env.goal = 2, 4
    result = env.step(answer("-"))
    assert (result.reward, env.position, result.terminated) == (-1.0, 1, False)
    assert result.info["action_is_valid"] and not result.info["parse_failed"]
    env.position, env.goal = 0, 3
    result = env.step(answer("-"))
    assert (result.reward, env.position) == (-1.0, 0)
    result = env.step(answer("+"))
    assert (result.reward, env.position) == (0.0, 1)


def test_truncates_after_ten_steps_and_the_limit_can_be_overridden():
    for limit, kwargs in ((10, {}), (3, {"max_episode_steps": 3})):
        env = make("gym_cards/NumberLine-v0", **kwargs)
        env.reset(7)
        for step in range(1, limit + 1):
            away = "-" if env.goal > env.position else "+"
            result = env.step(answer(away))
            assert result.reward == -1.0 and not result.terminated
            assert result.truncated == (step == limit)
        with pytest.raises(RuntimeError):
            env.step(answer("+"))


def test_unreadable_answer_under_penalty_and_random():
    env = make("gym_cards/NumberLine-v0")
    assert env.invalid_action == "penalty"
    env.reset(1)
    before = env.position
    result = env.step("I refuse to play")
    assert result.reward == -1.0 and env.position == before and env.episode_steps == 1
    assert result.info["parse_failed"] and not result.info["action_is_valid"]
    assert result.info["action"] is None
    env = make("gym_cards/NumberLine-v0", invalid_action="random")
    env.reset(1)
    before = env.position
    result = env.step("I refuse to play")
    assert result.info["action"] in ("-", "+") and result.info["parse_failed"]
    assert env.position != before or env.position in (0, 5)


def test_bad_arguments_and_call_order():
    with pytest.raises(ValueError, match="invalid_action"):
        make("gym_cards/NumberLine-v0", invalid_action="skip")
    with pytest.raises(ValueError, match="max_episode_steps"):
        make("gym_cards/NumberLine-v0", max_episode_steps=0)
    with pytest.raises(RuntimeError, match="reset"):
        make("gym_cards/NumberLine-v0").step(answer("+"))
