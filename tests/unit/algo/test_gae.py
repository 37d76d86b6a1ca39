"""step_gae against hand-computed cases (gamma=0.9, lambda=0.5 so every term matters)."""

import pytest
import torch

from vldac.algo import normalize_advantages, step_gae

G, L = 0.9, 0.5
REWARDS = torch.tensor([[1.0], [0.0], [2.0], [3.0]])
VALUES = torch.tensor([[0.5], [1.0], [1.5], [2.0]])
NONE = torch.zeros(4, 1, dtype=torch.bool)


def at(t):
    mask = NONE.clone()
    mask[t] = True
    return mask


def test_termination_inside_rollout_cuts_the_chain_and_never_bootstraps():
    adv, ret = step_gae(REWARDS, VALUES, torch.tensor([4.0]), at(1), NONE, G, L)
    # delta = [1 + .9*1 - .5, 0 + 0 - 1, 2 + .9*2 - 1.5, 3 + .9*4 - 2] = [1.4, -1, 2.3, 4.6]
    expected = torch.tensor([[1.4 + 0.45 * -1.0], [-1.0], [2.3 + 0.45 * 4.6], [4.6]])
    torch.testing.assert_close(adv, expected)
    torch.testing.assert_close(ret, expected + VALUES)


def test_truncation_bootstraps_from_the_final_observation():
    boot = torch.zeros(4, 1)
    boot[1, 0] = 10.0  # V of the truncated episode's final observation
    boot[3, 0] = 4.0  # V(s_T)
    adv, _ = step_gae(REWARDS, VALUES, boot, NONE, at(1), G, L)
    # delta_1 = 0 + .9*10 - 1 = 8, and the chain is cut after it.
    expected = torch.tensor([[1.4 + 0.45 * 8.0], [8.0], [2.3 + 0.45 * 4.6], [4.6]])
    torch.testing.assert_close(adv, expected)


def test_zero_advantage_reproduces_the_official_bad_mask():
    boot = torch.zeros(4, 1)
    boot[1, 0] = 10.0
    boot[3, 0] = 4.0
    adv, ret = step_gae(REWARDS, VALUES, boot, NONE, at(1), G, L, truncation="zero_advantage")
    expected = torch.tensor([[1.4], [0.0], [2.3 + 0.45 * 4.6], [4.6]])
    torch.testing.assert_close(adv, expected)
    assert ret[1, 0] == VALUES[1, 0]  # the time-out's return is its own value: no signal


def test_termination_wins_over_truncation():
    adv_term, _ = step_gae(REWARDS, VALUES, torch.tensor([4.0]), at(1), NONE, G, L)
    boot = torch.full((4, 1), 4.0)
    boot[1, 0] = 99.0
    adv_both, _ = step_gae(REWARDS, VALUES, boot, at(1), at(1), G, L)
    torch.testing.assert_close(adv_both, adv_term)


def test_no_episode_end_matches_the_discounted_sum_of_deltas():
    torch.manual_seed(0)
    r, v, boot = torch.randn(6, 3), torch.randn(6, 3), torch.randn(3)
    none = torch.zeros(6, 3, dtype=torch.bool)
    adv, _ = step_gae(r, v, boot, none, none, 0.99, 0.95)
    nxt = torch.cat([v[1:], boot[None]])
    delta = r + 0.99 * nxt - v
    for t in range(6):
        want = sum((0.99 * 0.95) ** k * delta[t + k] for k in range(6 - t))
        torch.testing.assert_close(adv[t], want)


def test_envs_are_independent_columns():
    r = torch.cat([REWARDS, REWARDS * 2], dim=1)
    v = torch.cat([VALUES, VALUES], dim=1)
    term = torch.cat([at(1), NONE], dim=1)
    adv, _ = step_gae(r, v, torch.tensor([4.0, 4.0]), term, torch.zeros_like(term), G, L)
    single, _ = step_gae(REWARDS, VALUES, torch.tensor([4.0]), at(1), NONE, G, L)
    torch.testing.assert_close(adv[:, :1], single)
    assert not torch.allclose(adv[:, 1:], single)


def test_mid_rollout_truncation_without_its_value_is_an_error():
    with pytest.raises(ValueError, match="truncat"):
        step_gae(REWARDS, VALUES, torch.tensor([4.0]), NONE, at(1), G, L)
    with pytest.raises(ValueError, match="truncation must be one of"):
        step_gae(REWARDS, VALUES, torch.tensor([4.0]), NONE, NONE, G, L, truncation="nope")


def test_normalize_advantages_ignores_masked_entries():
    adv = torch.tensor([1.0, 2.0, 3.0, 100.0])
    mask = torch.tensor([True, True, True, False])
    out = normalize_advantages(adv, mask)
    torch.testing.assert_close(out, torch.tensor([-1.0, 0.0, 1.0, 0.0]), atol=1e-6, rtol=0)
