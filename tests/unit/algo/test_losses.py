"""The VL-DAC loss: each term, the warm-up, masking and exact gradient accumulation."""

import math

import torch

from vldac.algo import explained_variance, k3_kl, vldac_loss

COEF = dict(clip_eps=0.2, value_clip_eps=0.5, kl_coef=0.05, value_coef=0.15)


def batch(seed=0, B=4, L=5):
    g = torch.Generator().manual_seed(seed)
    old = -torch.rand(B, L, generator=g) * 3
    new = (old + 0.3 * torch.randn(B, L, generator=g)).requires_grad_()
    ref = old + 0.2 * torch.randn(B, L, generator=g)
    mask = torch.ones(B, L, dtype=torch.bool)
    mask[0, 3:] = False  # padding
    mask[2, 1:] = False
    adv = torch.randn(B, generator=g)
    values = torch.randn(B, generator=g).requires_grad_()
    old_values = values.detach() + 0.1 * torch.randn(B, generator=g)
    returns = torch.randn(B, generator=g)
    return new, old, ref, mask, adv, values, old_values, returns


def test_k3_is_zero_iff_equal_and_positive_otherwise():
    x = torch.randn(10)
    assert torch.all(k3_kl(x, x) == 0)
    assert torch.all(k3_kl(x, x + 0.5) > 0)


def test_at_ratio_one_the_policy_loss_is_minus_the_token_mean_advantage():
    new, old, ref, mask, adv, v, ov, ret = batch()
    loss, diag = vldac_loss(old.clone().requires_grad_(), old, old, mask, adv, ov, ov, ret, **COEF)
    per_sample_tokens = mask.sum(-1).float()
    want_pg = -(adv * per_sample_tokens).sum() / per_sample_tokens.sum()
    assert math.isclose(diag["policy_loss"], float(want_pg), rel_tol=1e-6)
    assert diag["kl_loss"] == 0 and diag["clip_fraction"] == 0 and diag["ratio_mean"] == 1
    want_value = float(((ov - ret) ** 2).mean())
    assert math.isclose(loss.item(), float(want_pg) + 0.15 * want_value, rel_tol=1e-6)


def test_padding_tokens_do_not_change_the_loss():
    new, old, ref, mask, adv, v, ov, ret = batch()
    loss_a, _ = vldac_loss(new, old, ref, mask, adv, v, ov, ret, **COEF)
    garbage = torch.where(mask, new.detach(), torch.full_like(old, 50.0))
    loss_b, _ = vldac_loss(garbage, old, ref, mask, adv, v, ov, ret, **COEF)
    assert torch.allclose(loss_a, loss_b)


def test_warmup_optimises_only_the_value_term():
    new, old, ref, mask, adv, v, ov, ret = batch()
    loss, diag = vldac_loss(new, old, ref, mask, adv, v, ov, ret, policy_frozen=True, **COEF)
    loss.backward()
    assert new.grad is None or torch.all(new.grad == 0)
    assert v.grad is not None and v.grad.abs().sum() > 0
    assert math.isclose(float(loss), 0.15 * diag["value_loss"], rel_tol=1e-6)


def test_policy_clipping_stops_the_gradient_of_far_moved_tokens():
    old = torch.zeros(1, 2)
    new = torch.tensor([[0.5, 0.05]], requires_grad=True)  # ratios e^.5 (clipped), e^.05
    adv = torch.ones(1)
    v = torch.zeros(1, requires_grad=True)
    loss, diag = vldac_loss(new, old, old, torch.ones(1, 2, dtype=torch.bool), adv, v,
                            torch.zeros(1), torch.zeros(1), **{**COEF, "kl_coef": 0.0})
    loss.backward()
    assert new.grad[0, 0] == 0 and new.grad[0, 1] != 0
    assert diag["clip_fraction"] == 0.5


def test_value_clipping_uses_its_own_range():
    v = torch.tensor([2.0], requires_grad=True)
    args = (torch.zeros(1, 1), torch.zeros(1, 1), torch.zeros(1, 1),
            torch.ones(1, 1, dtype=torch.bool), torch.zeros(1))
    # V moved from 0 to 2, return 3: clipped V = 0.5 -> (0.5-3)^2 = 6.25 > (2-3)^2 = 1.
    _, diag = vldac_loss(*args, v, torch.zeros(1), torch.tensor([3.0]), **COEF)
    assert math.isclose(diag["value_loss"], 6.25) and diag["value_clip_fraction"] == 1
    _, diag = vldac_loss(*args, v, torch.zeros(1), torch.tensor([3.0]),
                         **{**COEF, "value_clip_eps": None})
    assert math.isclose(diag["value_loss"], 1.0)


def test_micro_batches_with_batch_normalisers_equal_one_big_batch():
    new, old, ref, mask, adv, v, ov, ret = batch(B=6)
    big, _ = vldac_loss(new, old, ref, mask, adv, v, ov, ret, **COEF)
    (g_big,) = torch.autograd.grad(big, new)
    n_tok, n_smp = mask.sum(), torch.tensor(6.0)
    total = 0
    for sl in (slice(0, 2), slice(2, 6)):
        part, _ = vldac_loss(new[sl], old[sl], ref[sl], mask[sl], adv[sl], v[sl], ov[sl], ret[sl],
                             token_normalizer=n_tok, sample_normalizer=n_smp, **COEF)
        total = total + part
    (g_acc,) = torch.autograd.grad(total, new)
    torch.testing.assert_close(total, big)
    torch.testing.assert_close(g_acc, g_big)


def test_sample_mask_drops_whole_steps():
    new, old, ref, mask, adv, v, ov, ret = batch()
    keep = torch.tensor([True, False, True, True])
    masked, _ = vldac_loss(new, old, ref, mask, adv, v, ov, ret, sample_mask=keep, **COEF)
    idx = keep.nonzero().squeeze(-1)
    sub, _ = vldac_loss(new[idx], old[idx], ref[idx], mask[idx], adv[idx], v[idx], ov[idx],
                        ret[idx], **COEF)
    torch.testing.assert_close(masked, sub)


def test_entropy_bonus_lowers_the_loss():
    new, old, ref, mask, adv, v, ov, ret = batch()
    ent = torch.ones_like(old)
    base, _ = vldac_loss(new, old, ref, mask, adv, v, ov, ret, entropy=ent, **COEF)
    bonus, diag = vldac_loss(new, old, ref, mask, adv, v, ov, ret, entropy=ent, entropy_coef=0.1,
                             **COEF)
    assert math.isclose(float(base - bonus), 0.1, rel_tol=1e-5) and diag["entropy"] == 1.0


def test_explained_variance():
    r = torch.tensor([1.0, 2.0, 3.0, 4.0])
    assert explained_variance(r, r) == 1.0
    assert explained_variance(torch.zeros(4), r) <= 0.0
    assert math.isnan(explained_variance(r, torch.ones(4)))
