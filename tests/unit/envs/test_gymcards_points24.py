"""Points24 rules: solvable deals, all four cards, exact division, the length limit."""

from vldac.envs import make
from vldac.envs.gym_cards.common import Card
from vldac.envs.gym_cards.formula import first_solution


def answer(action: str) -> str:
    return f'{{"thoughts": "t", "action": "{action}"}}'


def fixed(env, *ranks):
    env.reset(0)
    env.cards = [Card(rank, "H") for rank in ranks]
    env._plans = None


def test_expert_wins_every_default_deal():
    env = make("gym_cards/Points24-v0")
    for seed in range(100):
        env.reset(seed)
        assert len(env.cards) == 4
        while True:
            result = env.step(answer(env.expert_action()))
            if result.terminated or result.truncated:
                break
        assert result.info["success"] and result.reward == 10.0


def test_official_deal_can_be_unsolvable_and_then_cannot_be_won():
    env = make("gym_cards/Points24-v0", solvable_only=False)
    for seed in range(500):
        env.reset(seed)
        if first_solution(env.card_values, 24) is None:
            break
    else:
        raise AssertionError("no unsolvable deal in 500 seeds")
    assert env.expert_action() == "="
    assert env.step(answer("=")).reward == -1.0


def test_all_four_cards_are_required():
    env = make("gym_cards/Points24-v0")
    fixed(env, 6, 4, 1, 1)
    for action in ("6", "*", "4"):
        env.step(answer(action))
    assert env.step(answer("=")).reward == -1.0
    fixed(env, 6, 4, 1, 1)
    for action in ("6", "*", "4", "*", "1", "*", "1"):
        assert env.step(answer(action)).reward == 0.0
    result = env.step(answer("="))
    assert result.reward == 10.0 and result.info["success"]


def test_division_is_exact():
    env = make("gym_cards/Points24-v0")
    fixed(env, 8, 8, 3, 3)
    for action in ("8", "/", "(", "3", "-", "8", "/", "3", ")"):
        env.step(answer(action))
    assert env.step(answer("=")).reward == 10.0


def test_unavailable_number_and_length_limit():
    env = make("gym_cards/Points24-v0")
    fixed(env, 13, 12, 11, 1)  # 10, 10, 10, 1
    result = env.step(answer("5"))
    assert result.reward == -1.0 and not result.terminated and env.formula == [" "]
    for _ in range(20):
        result = env.step(answer("("))
        assert result.reward == 0.0 and not result.truncated
    result = env.step(answer("10"))
    assert (result.reward, result.truncated, result.terminated) == (-1.0, True, False)


def test_prompt_offers_only_operators_after_a_number():
    env = make("gym_cards/Points24-v0")
    fixed(env, 6, 4, 1, 1)
    assert "'10'" in env.reset(0).text
    fixed(env, 6, 4, 1, 1)
    text = env.step(answer("6")).observation.text
    assert "Current formula: 6" in text and "'10'" not in text and "'('" in text
