"""RL4VLM: the thought/action split, the lambda-weighted step log-prob, the step-level PPO."""

import math

import torch

from vldac.algo.losses import vldac_loss
from vldac.algo.rl4vlm import action_token_mask, rl4vlm_loss, step_logprob

COEF = dict(thought_weight=0.5, clip_eps=0.2, value_clip_eps=0.5, value_coef=0.15)


def mask_of(*rows):
    return action_token_mask([list(r) for r in rows]).tolist()


def test_action_starts_at_the_token_holding_the_marker():
    got = mask_of(['{"thoughts": "go', '", ', '"action', '": "left"}'])
    assert got == [[False, False, True, True]]
    assert mask_of(["ab", '"action": 2']) == [[False, True]]


def test_marker_split_across_tokens_starts_at_its_first_character():
    # ' "ac' covers characters [5, 9) and holds the marker's opening quote (character 6).
    assert mask_of(["think", ' "ac', 'tion": 1}']) == [[False, True, True]]
    # The quote alone ends a token: that token is the first action token.
    assert mask_of(["think ", '{"', 'action', '": 1}']) == [[False, True, True, True]]


def test_the_last_occurrence_of_the_marker_counts():
    assert mask_of(['"action" is ', "bad. ", '{"action": 3}']) == [[False, False, True]]


def test_empty_tokens_before_the_marker_are_thoughts():
    assert mask_of(["a", "", '"action"', ""]) == [[False, False, True, True]]


def test_without_the_marker_the_whole_answer_is_action():
    assert mask_of(["move", " left", " (no json)"]) == [[True, True, True]]
    assert mask_of(['"Action"', ": 1"]) == [[True, True]]  # the match is case-sensitive


def test_rows_are_padded_with_false():
    got = action_token_mask([["a", '"action"', ": 1"], ["x"], []])
    assert got.dtype == torch.bool and got.shape == (3, 3)
    assert got.tolist() == [[False, True, True], [True, False, False], [False, False, False]]
    assert action_token_mask([]).shape == (0, 0)


def test_custom_marker():
    assert mask_of(["I think. ", "ACTION: ", "left"]) == [[True, True, True]]
    got = action_token_mask([["I think. ", "ACTION: ", "left"]], marker="ACTION:")
    assert got.tolist() == [[False, True, True]]


def test_step_logprob_weights_thoughts_by_lambda_and_ignores_padding():
    logprobs = torch.tensor([[-1.0, -2.0, -3.0, 1e9], [-0.5, -0.25, 0.0, 0.0]])
    tokens = torch.tensor([[True, True, True, False], [True, True, False, False]])
    action = torch.tensor([[False, False, True, True], [True, True, False, False]])
    got = step_logprob(logprobs, tokens, action, thought_weight=0.5)
    # row 0: 0.5 * (-1 - 2) + (-3) = -4.5; row 1: all action: -0.75.
    torch.testing.assert_close(got, torch.tensor([-4.5, -0.75]))
    for lam, want in ((1.0, [-6.0, -0.75]), (0.0, [-3.0, -0.75])):
        torch.testing.assert_close(step_logprob(logprobs, tokens, action, lam), torch.tensor(want))


def batch(seed=0, B=4, L=5):
    g = torch.Generator().manual_seed(seed)
    old = -torch.rand(B, L, generator=g) * 3
    new = (old + 0.1 * torch.randn(B, L, generator=g)).requires_grad_()
    ref = old + 0.2 * torch.randn(B, L, generator=g)
    mask = torch.ones(B, L, dtype=torch.bool)
    mask[0, 3:] = False
    mask[2, 1:] = False
    action = torch.zeros(B, L, dtype=torch.bool)
    action[:, 2:] = True
    adv = torch.randn(B, generator=g)
    values = torch.randn(B, generator=g).requires_grad_()
    old_values = values.detach() + 0.1 * torch.randn(B, generator=g)
    returns = torch.randn(B, generator=g)
    return new, old, ref, mask, action, adv, values, old_values, returns


def test_at_ratio_one_the_policy_loss_is_minus_the_mean_advantage():
    new, old, ref, mask, action, adv, v, ov, ret = batch()
    loss, diag = rl4vlm_loss(old.clone().requires_grad_(), old, ref, mask, action, adv, ov, ov,
                             ret, **COEF)
    assert math.isclose(diag["policy_loss"], float(-adv.mean()), rel_tol=1e-6)
    assert diag["clip_fraction"] == 0 and diag["ratio_mean"] == 1 and diag["ratio_max"] == 1
    assert diag["approx_kl"] == 0
    want_value = float(((ov - ret) ** 2).mean())
    assert math.isclose(diag["value_loss"], want_value, rel_tol=1e-6)
    assert math.isclose(loss.item(), float(-adv.mean()) + 0.15 * want_value, rel_tol=1e-6)


def test_one_ratio_per_step_clipped_by_hand():
    old = torch.zeros(2, 2)
    # Thought token 0 (weight 0.5), action token 1. Step log-ratios: 0.5*0.4+0.3 = 0.5, -0.1.
    new = torch.tensor([[0.4, 0.3], [0.0, -0.1]], requires_grad=True)
    tokens = torch.ones(2, 2, dtype=torch.bool)
    action = torch.tensor([[False, True], [False, True]])
    adv = torch.tensor([1.0, 2.0])
    zeros = torch.zeros(2)
    loss, diag = rl4vlm_loss(new, old, old, tokens, action, adv, zeros, zeros, zeros,
                             **{**COEF, "kl_coef": 0.0})
    # Step 0: rho = e^.5 > 1.2 with A > 0: clipped to 1.2 -> -1.2. Step 1: rho = e^-.1 inside.
    r1 = math.exp(-0.1)
    want = (-1.2 - 2 * r1) / 2
    assert math.isclose(loss.item(), want, rel_tol=1e-6)
    assert diag["clip_fraction"] == 0.5
    assert math.isclose(diag["ratio_mean"], (math.exp(0.5) + r1) / 2, rel_tol=1e-6)
    assert math.isclose(diag["ratio_max"], math.exp(0.5), rel_tol=1e-6)
    lr = torch.tensor([0.5, -0.1])
    assert math.isclose(diag["approx_kl"], float((lr.exp() - 1 - lr).mean()), rel_tol=1e-6)
    loss.backward()
    # d/dl of -rho A / B: zero for the clipped step; -w_i * rho * A / 2 for step 1.
    want_grad = torch.tensor([[0.0, 0.0], [-0.5 * r1, -r1]])
    torch.testing.assert_close(new.grad, want_grad)


def test_negative_advantage_is_clipped_below():
    old = torch.zeros(1, 1)
    new = torch.tensor([[-0.5]], requires_grad=True)  # rho = e^-.5 < 0.8, A < 0: clipped to 0.8
    z = torch.zeros(1)
    loss, diag = rl4vlm_loss(new, old, old, torch.ones(1, 1, dtype=torch.bool),
                             torch.ones(1, 1, dtype=torch.bool), torch.tensor([-1.0]), z, z, z,
                             **COEF)
    assert math.isclose(loss.item(), 0.8, rel_tol=1e-6) and diag["clip_fraction"] == 1
    loss.backward()
    assert new.grad.abs().sum() == 0


def test_value_term_is_clipped_with_its_own_range():
    v = torch.tensor([2.0], requires_grad=True)
    one = torch.ones(1, 1, dtype=torch.bool)
    args = (torch.zeros(1, 1), torch.zeros(1, 1), torch.zeros(1, 1), one, one, torch.zeros(1))
    # V moved 0 -> 2, return 3: clipped V = 0.5 -> (0.5-3)^2 = 6.25 > (2-3)^2 = 1.
    loss, diag = rl4vlm_loss(*args, v, torch.zeros(1), torch.tensor([3.0]), **COEF)
    assert math.isclose(diag["value_loss"], 6.25) and diag["value_clip_fraction"] == 1
    assert math.isclose(loss.item(), 0.15 * 6.25, rel_tol=1e-6)
    loss, diag = rl4vlm_loss(*args, v, torch.zeros(1), torch.tensor([3.0]),
                             **{**COEF, "value_clip_eps": None})
    assert math.isclose(diag["value_loss"], 1.0) and diag["value_clip_fraction"] == 0
    loss.backward()
    assert math.isclose(float(v.grad), 0.15 * 2 * (2.0 - 3.0), rel_tol=1e-6)


def test_kl_term_is_zero_at_the_reference_and_a_token_mean_otherwise():
    new, old, ref, mask, action, adv, v, ov, ret = batch()
    _, diag = rl4vlm_loss(new, old, new.detach(), mask, action, adv, v, ov, ret, kl_coef=0.1,
                          **COEF)
    assert diag["kl_loss"] == 0
    # Two tokens, one real: log(ref) - log(pi) = ln 2 -> k3 = 2 - ln 2 - 1 per real token.
    lp = torch.zeros(1, 2)
    ref = torch.tensor([[math.log(2.0), 5.0]])
    tok = torch.tensor([[True, False]])
    z = torch.zeros(1)
    base, diag0 = rl4vlm_loss(lp, lp, ref, tok, tok, z, z, z, z, **COEF)  # kl_coef = 0
    with_kl, diag = rl4vlm_loss(lp, lp, ref, tok, tok, z, z, z, z, kl_coef=0.1, **COEF)
    k3 = 1.0 - math.log(2.0)
    assert base.item() == 0 and math.isclose(diag0["kl_loss"], k3, rel_tol=1e-6)
    assert math.isclose(with_kl.item(), 0.1 * k3, rel_tol=1e-6)
    # kl_coef = 0 leaves the term out entirely: an overflowing k3 (inf) cannot poison the loss.
    far = torch.tensor([[1000.0, 0.0]])
    loss, diag = rl4vlm_loss(lp, lp, far, tok, tok, z, z, z, z, **COEF)
    assert loss.item() == 0 and math.isinf(diag["kl_loss"])


def test_padding_tokens_do_not_change_the_loss():
    new, old, ref, mask, action, adv, v, ov, ret = batch()
    kw = {**COEF, "kl_coef": 0.05}
    loss_a, _ = rl4vlm_loss(new, old, ref, mask, action, adv, v, ov, ret, **kw)
    garbage = torch.where(mask, new.detach(), torch.full_like(old, 50.0))
    loss_b, _ = rl4vlm_loss(garbage, old, ref, mask, action, adv, v, ov, ret, **kw)
    torch.testing.assert_close(loss_a, loss_b)


def test_micro_batches_with_group_normalisers_equal_one_big_batch():
    new, old, ref, mask, action, adv, v, ov, ret = batch(B=6)
    kw = {**COEF, "kl_coef": 0.05}
    big, _ = rl4vlm_loss(new, old, ref, mask, action, adv, v, ov, ret, **kw)
    g_big = torch.autograd.grad(big, (new, v))
    n_tok, n_smp = mask.sum(), torch.tensor(6.0)
    total = 0
    for sl in (slice(0, 2), slice(2, 6)):
        part, _ = rl4vlm_loss(new[sl], old[sl], ref[sl], mask[sl], action[sl], adv[sl], v[sl],
                              ov[sl], ret[sl], token_normalizer=n_tok, sample_normalizer=n_smp,
                              **kw)
        total = total + part
    g_acc = torch.autograd.grad(total, (new, v))
    torch.testing.assert_close(total, big)
    torch.testing.assert_close(g_acc, g_big)
    # Without the group normalisers each part is a mean of its own: the sum is not the loss.
    parts = sum(rl4vlm_loss(new[sl], old[sl], ref[sl], mask[sl], action[sl], adv[sl], v[sl],
                            ov[sl], ret[sl], **kw)[0] for sl in (slice(0, 2), slice(2, 6)))
    assert not torch.allclose(parts, big)


def test_policy_frozen_optimises_only_the_value_term():
    new, old, ref, mask, action, adv, v, ov, ret = batch()
    loss, diag = rl4vlm_loss(new, old, ref, mask, action, adv, v, ov, ret, policy_frozen=True,
                             kl_coef=0.1, **COEF)
    loss.backward()
    assert new.grad is None or torch.all(new.grad == 0)
    assert v.grad is not None and v.grad.abs().sum() > 0
    assert math.isclose(loss.item(), 0.15 * diag["value_loss"], rel_tol=1e-6)
    assert diag["policy_loss"] != 0  # still reported


def test_diagnostics_have_the_keys_of_vldac_loss():
    new, old, ref, mask, action, adv, v, ov, ret = batch()
    _, ours = rl4vlm_loss(new, old, ref, mask, action, adv, v, ov, ret, **COEF)
    _, theirs = vldac_loss(new, old, ref, mask, adv, v, ov, ret, clip_eps=0.2, value_clip_eps=0.5,
                           kl_coef=0.05, value_coef=0.15)
    assert set(ours) == set(theirs)
    assert all(isinstance(x, float) for x in ours.values())
    assert ours["tokens"] == float(mask.sum())
