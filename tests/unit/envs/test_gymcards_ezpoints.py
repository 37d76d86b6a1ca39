"""EZPoints rules: solvable deals, unavailable numbers, the length limit and '='."""

from vldac.envs import make
from vldac.envs.gym_cards.common import Card


def answer(action: str) -> str:
    return f'{{"thoughts": "t", "action": "{action}"}}'


def play_expert(env, seed):
    env.reset(seed)
    total = 0.0
    while True:
        result = env.step(answer(env.expert_action()))
        total += result.reward
        if result.terminated or result.truncated:
            return result, total


def test_every_deal_makes_twelve_and_the_expert_wins():
    env = make("gym_cards/EZPoints-v0")
    for seed in range(300):
        env.reset(seed)
        a, b = env.card_values
        assert a + b == 12 or a * b == 12
        assert all(1 <= card.rank <= 13 for card in env.cards)
    for seed in range(100):
        result, total = play_expert(env, seed)
        assert result.terminated and result.info["success"] and total == 10.0


def fixed(env, *ranks):
    env.reset(0)
    env.cards = [Card(rank, "S") for rank in ranks]


def test_unavailable_or_reused_number_costs_one_and_appends_a_blank():
    env = make("gym_cards/EZPoints-v0")
    fixed(env, 13, 2)  # K counts 10
    result = env.step(answer("7"))
    assert (result.reward, result.terminated, result.truncated) == (-1.0, False, False)
    assert not result.info["action_is_valid"] and not result.info["parse_failed"]
    assert env.formula == [" "]
    assert env.step(answer("10")).reward == 0.0
    result = env.step(answer("10"))
    assert result.reward == -1.0 and not result.info["action_is_valid"]
    assert env.formula == [" ", "10", " "]


def test_equal_cards_may_both_be_used():
    env = make("gym_cards/EZPoints-v0")
    fixed(env, 6, 6)
    rewards = [env.step(answer(a)).reward for a in ("6", "+", "6")]
    assert rewards == [0.0, 0.0, 0.0]
    result = env.step(answer("="))
    assert result.reward == 10.0 and result.terminated and result.info["success"]


def test_formula_longer_than_five_truncates_with_minus_one():
    env = make("gym_cards/EZPoints-v0")
    fixed(env, 6, 2)
    for _ in range(6):
        result = env.step(answer("+"))
        assert result.reward == 0.0 and not (result.terminated or result.truncated)
    result = env.step(answer("="))  # the limit fires before the answer is applied
    assert (result.reward, result.terminated, result.truncated) == (-1.0, False, True)
    assert result.info["action"] is None and not result.info["success"]


def test_equals_outcomes():
    env = make("gym_cards/EZPoints-v0")
    cases = [
        (["6", "*", "2"], 10.0, True),
        (["6", "+", "2"], -1.0, False),  # 8, not 12
        (["6", "*"], -1.0, False),  # malformed
        ([], -1.0, False),
    ]
    for steps, reward, success in cases:
        fixed(env, 6, 2)
        for action in steps:
            env.step(answer(action))
        result = env.step(answer("="))
        assert (result.reward, result.terminated, result.info["success"]) == (reward, True, success)
    fixed(env, 10, 2)
    for action in ("1", "2"):  # a '1' is not on the table
        env.step(answer(action))
    assert env.step(answer("=")).reward == -1.0


def test_random_fallback_draws_only_legal_symbols():
    env = make("gym_cards/EZPoints-v0")
    assert env.invalid_action == "random"
    for seed in range(100):
        env.reset(seed)
        legal = env.legal_actions()
        result = env.step("no json here, sorry")
        assert result.info["action"] in legal and result.info["parse_failed"]
        assert result.reward in (0.0, 10.0, -1.0)
        assert not result.info["action_is_valid"]


def test_prompt_shows_the_formula_and_asks_for_json():
    env = make("gym_cards/EZPoints-v0")
    fixed(env, 6, 2)
    env.step(answer("6"))
    text = env.step(answer("*")).observation.text
    assert "Current formula: 6 *" in text and '"action"' in text and "12" in text
