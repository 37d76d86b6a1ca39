"""Blackjack rules (Gymnasium Blackjack-v1, natural=False) on crafted hands."""

from vldac.envs import make
from vldac.envs.gym_cards.blackjack import hand_total
from vldac.envs.gym_cards.common import Card


def answer(action: str) -> str:
    return f'{{"thoughts": "t", "action": "{action}"}}'


def hand(*ranks):
    return [Card(rank, "S") for rank in ranks]


def crafted(player, dealer, draws=(), **kwargs):
    """A Blackjack env whose next cards come from ``draws``, in order."""
    env = make("gym_cards/Blackjack-v0", **kwargs)
    env.reset(0)
    env.player, env.dealer = hand(*player), hand(*dealer)
    deck = iter(hand(*draws))
    env._draw = lambda: next(deck)
    return env


def test_hand_totals_count_one_usable_ace():
    assert hand_total(hand(1, 6)) == 17
    assert hand_total(hand(1, 6, 10)) == 17
    assert hand_total(hand(1, 1)) == 12
    assert hand_total(hand(13, 12)) == 20


def test_hit_without_and_with_a_bust():
    env = crafted((10, 2), (10, 7), draws=(5, 10))
    result = env.step(answer("hit"))
    assert (result.reward, result.terminated) == (0.0, False)
    result = env.step(answer("hit"))
    assert (result.reward, result.terminated, result.info["success"]) == (-1.0, True, False)


def test_dealer_draws_to_seventeen():
    env = crafted((10, 10), (10, 6), draws=(5,))
    result = env.step(answer("stand"))
    assert len(env.dealer) == 3 and result.reward == -1.0 and result.terminated
    env = crafted((10, 10), (10, 7), draws=(5,))
    assert env.step(answer("stand")).reward == 1.0 and len(env.dealer) == 2
    env = crafted((10, 10), (1, 6), draws=(5,))  # soft 17 stands
    assert env.step(answer("stand")).reward == 1.0 and len(env.dealer) == 2


def test_dealer_bust_tie_and_natural():
    env = crafted((10, 2), (10, 6), draws=(10,))
    result = env.step(answer("stand"))
    assert result.reward == 1.0 and result.info["success"]
    result = crafted((10, 8), (10, 8)).step(answer("stand"))
    assert result.reward == 0.0 and not result.info["success"]
    assert crafted((1, 13), (10, 9)).step(answer("stand")).reward == 1.0  # natural=False
    assert crafted((1, 13), (10, 9), natural=True).step(answer("stand")).reward == 1.5


def test_unreadable_answer_costs_one_and_keeps_the_hand():
    env = crafted((10, 2), (10, 7))
    assert env.invalid_action == "penalty"
    result = env.step("hmm")
    assert result.reward == -1.0 and not result.terminated and len(env.player) == 2
    assert result.info["parse_failed"] and result.info["action"] is None


def test_expert_hits_below_seventeen():
    assert crafted((10, 6), (10, 7)).expert_action() == "hit"
    assert crafted((10, 7), (10, 7)).expert_action() == "stand"
    assert crafted((1, 5), (10, 7)).expert_action() == "hit"  # soft 16
    assert crafted((1, 6), (10, 7)).expert_action() == "stand"  # soft 17
