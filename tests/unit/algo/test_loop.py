"""LOOP: leave-one-out advantages, their broadcast onto steps and the critic-free PPO loss."""

import math

import pytest
import torch

from vldac.algo.loop import episode_advantages_to_steps, leave_one_out_advantages, loop_loss
from vldac.algo.losses import vldac_loss

COEF = dict(clip_eps=0.2, kl_coef=0.05)


def test_a_group_of_three_by_hand():
    got = leave_one_out_advantages(torch.tensor([1.0, 2.0, 6.0]), torch.tensor([0, 0, 0]))
    # 1 - (2+6)/2, 2 - (1+6)/2, 6 - (1+2)/2
    torch.testing.assert_close(got, torch.tensor([-3.0, -1.5, 4.5]))


def test_interleaved_non_contiguous_groups_of_different_sizes():
    returns = torch.tensor([1.0, 5.0, 2.0, 10.0, 6.0, 1.0])
    groups = torch.tensor([7, 3, 7, 42, 7, 3])
    got = leave_one_out_advantages(returns, groups)
    # group 7: [1, 2, 6] -> [-3, -1.5, 4.5]; group 3: [5, 1] -> [4, -4]; group 42 alone -> 0.
    torch.testing.assert_close(got, torch.tensor([-3.0, 4.0, -1.5, 0.0, 4.5, -4.0]))


def test_a_group_of_one_gets_zero_and_empty_input_is_fine():
    torch.testing.assert_close(leave_one_out_advantages(torch.tensor([3.0]), torch.tensor([5])),
                               torch.tensor([0.0]))
    assert leave_one_out_advantages(torch.zeros(0), torch.zeros(0, dtype=torch.long)).shape == (0,)


def test_leave_one_out_is_k_over_k_minus_one_times_the_centred_return():
    g = torch.Generator().manual_seed(0)
    returns = torch.randn(8, generator=g)
    got = leave_one_out_advantages(returns, torch.tensor([1, 1, 1, 1, 9, 9, 9, 9]))
    for sl in (slice(0, 4), slice(4, 8)):
        r = returns[sl]
        torch.testing.assert_close(got[sl], 4 / 3 * (r - r.mean()))
        assert abs(float(got[sl].sum())) < 1e-5


def test_episode_advantages_are_broadcast_to_valid_steps():
    adv = torch.tensor([0.5, -1.0, 2.0])
    episode_of_step = torch.tensor([[0, 2], [0, 1], [1, -1]])
    valid = torch.tensor([[True, True], [True, True], [False, False]])
    got = episode_advantages_to_steps(episode_of_step, adv, valid)
    torch.testing.assert_close(got, torch.tensor([[0.5, 2.0], [0.5, -1.0], [0.0, 0.0]]))


def test_a_valid_step_without_an_episode_is_an_error():
    with pytest.raises(ValueError):
        episode_advantages_to_steps(torch.tensor([[0, -1]]), torch.tensor([1.0]),
                                    torch.tensor([[True, True]]))


def batch(seed=0, B=4, L=5, spread=0.05):
    g = torch.Generator().manual_seed(seed)
    old = -torch.rand(B, L, generator=g) * 3
    new = (old + spread * torch.randn(B, L, generator=g)).requires_grad_()
    ref = old + 0.2 * torch.randn(B, L, generator=g)
    mask = torch.ones(B, L, dtype=torch.bool)
    mask[0, 3:] = False
    mask[2, 1:] = False
    adv = torch.randn(B, generator=g)
    return new, old, ref, mask, adv


def test_at_ratio_one_the_loss_is_minus_the_token_mean_advantage():
    new, old, ref, mask, adv = batch()
    loss, diag = loop_loss(old.clone().requires_grad_(), old, old, mask, adv, **COEF)
    n = mask.sum(-1).float()
    want = -(adv * n).sum() / n.sum()
    assert math.isclose(loss.item(), float(want), rel_tol=1e-6)
    assert diag["kl_loss"] == 0 and diag["clip_fraction"] == 0 and diag["ratio_mean"] == 1
    assert diag["value_loss"] == 0.0 and diag["value_clip_fraction"] == 0.0


def test_gradient_matches_the_hand_formula():
    new, old, ref, mask, adv = batch()
    loss, _ = loop_loss(new, old, ref, mask, adv, clip_eps=100.0, kl_coef=0.05)
    loss.backward()
    # Unclipped: d/dl_i [-rho_i A + beta * k3_i] / N = (-rho_i A + beta (1 - e^{ref_i - l_i})) / N.
    lp = new.detach()
    rho = torch.exp(lp - old)
    want = (-rho * adv[:, None] + 0.05 * (1 - torch.exp(ref - lp))) / mask.sum()
    torch.testing.assert_close(new.grad, torch.where(mask, want, torch.zeros_like(want)))


def test_clipping_stops_the_gradient_of_far_moved_tokens():
    old = torch.zeros(1, 2)
    new = torch.tensor([[0.5, 0.05]], requires_grad=True)  # ratios e^.5 (clipped), e^.05
    loss, diag = loop_loss(new, old, old.clone(), torch.ones(1, 2, dtype=torch.bool),
                           torch.ones(1), clip_eps=0.2, kl_coef=0.0)
    assert math.isclose(loss.item(), -(1.2 + math.exp(0.05)) / 2, rel_tol=1e-6)
    loss.backward()
    assert new.grad[0, 0] == 0 and math.isclose(float(new.grad[0, 1]), -math.exp(0.05) / 2,
                                                 rel_tol=1e-6)
    assert diag["clip_fraction"] == 0.5


def test_kl_term_adds_beta_times_the_token_mean_k3():
    lp = torch.zeros(1, 2)
    ref = torch.tensor([[math.log(2.0), 7.0]])
    tok = torch.tensor([[True, False]])
    loss, diag = loop_loss(lp, lp, ref, tok, torch.zeros(1), clip_eps=0.2, kl_coef=0.1)
    k3 = 1.0 - math.log(2.0)
    assert math.isclose(diag["kl_loss"], k3, rel_tol=1e-6)
    assert math.isclose(loss.item(), 0.1 * k3, rel_tol=1e-6)
    # kl_coef = 0 leaves the term out entirely: an overflowing k3 (inf) cannot poison the loss.
    loss, diag = loop_loss(lp, lp, torch.tensor([[1000.0, 0.0]]), tok, torch.ones(1),
                           clip_eps=0.2, kl_coef=0.0)
    assert loss.item() == -1.0 and math.isinf(diag["kl_loss"])


def test_padding_tokens_do_not_change_the_loss():
    new, old, ref, mask, adv = batch(spread=0.3)
    loss_a, _ = loop_loss(new, old, ref, mask, adv, **COEF)
    garbage = torch.where(mask, new.detach(), torch.full_like(old, 50.0))
    loss_b, _ = loop_loss(garbage, old, ref, mask, adv, **COEF)
    torch.testing.assert_close(loss_a, loss_b)


def test_micro_batches_with_group_normalisers_equal_one_big_batch():
    new, old, ref, mask, adv = batch(B=6, spread=0.3)
    big, _ = loop_loss(new, old, ref, mask, adv, **COEF)
    (g_big,) = torch.autograd.grad(big, new)
    n_tok, n_smp = mask.sum(), torch.tensor(6.0)
    total = 0
    for sl in (slice(0, 2), slice(2, 6)):
        part, _ = loop_loss(new[sl], old[sl], ref[sl], mask[sl], adv[sl],
                            token_normalizer=n_tok, sample_normalizer=n_smp, **COEF)
        total = total + part
    (g_acc,) = torch.autograd.grad(total, new)
    torch.testing.assert_close(total, big)
    torch.testing.assert_close(g_acc, g_big)


def test_diagnostics_have_the_keys_of_vldac_loss():
    new, old, ref, mask, adv = batch()
    _, ours = loop_loss(new, old, ref, mask, adv, **COEF)
    v = torch.zeros(4)
    _, theirs = vldac_loss(new, old, ref, mask, adv, v, v, v, clip_eps=0.2, value_clip_eps=0.5,
                           kl_coef=0.05, value_coef=0.15)
    assert set(ours) == set(theirs)
    # Same token-level PPO as VL-DAC, minus the value term (here 0 since V = R = 0).
    for key in ("policy_loss", "kl_loss", "clip_fraction", "approx_kl", "ratio_mean", "tokens"):
        assert math.isclose(ours[key], theirs[key], rel_tol=1e-6, abs_tol=1e-9)
