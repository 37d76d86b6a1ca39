"""The CPU LoRA dropout: its drop rate, unbiasedness, determinism and its place in the policy."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from vldac.models.dropout import LoraDropout, use_fast_lora_dropout


def _mask(drop: LoraDropout, n: int) -> torch.Tensor:
    return drop(torch.ones(n)) != 0


def test_every_16_bit_lane_drops_at_the_rounded_rate():
    torch.manual_seed(0)
    drop = LoraDropout(0.1).train()
    kept = _mask(drop, 4 * 1_000_000).view(-1, 4)  # column j = lane j of each random word
    p_eff = drop.drop / 65536
    assert abs(p_eff - 0.1) < 2**-17
    for lane in range(4):  # a biased bit in any lane (e.g. a zero sign bit) would show here
        rate = 1 - kept[:, lane].float().mean().item()
        assert abs(rate - p_eff) < 2e-3, (lane, rate)


def test_output_is_unbiased_and_scaled():
    torch.manual_seed(1)
    drop = LoraDropout(0.25).train()
    x = torch.full((2_000_000,), 3.0)
    y = drop(x)
    values = torch.unique(y).tolist()
    assert values[0] == 0.0 and values[1:] == [pytest.approx(3.0 * drop.scale)]
    assert y.mean().item() == pytest.approx(3.0, rel=2e-3)


def test_identity_in_eval_mode_and_at_zero():
    x = torch.randn(5, 7)
    assert LoraDropout(0.3).eval()(x) is x
    assert LoraDropout(0.0).train()(x) is x


def test_masks_follow_the_global_generator():
    drop = LoraDropout(0.5).train()
    x = torch.randn(3, 101)
    torch.manual_seed(7)
    a = drop(x)
    torch.manual_seed(7)
    b = drop(x)
    c = drop(x)
    assert torch.equal(a, b) and not torch.equal(b, c)


def test_gradient_is_the_scaled_mask():
    torch.manual_seed(3)
    drop = LoraDropout(0.2).train()
    x = torch.randn(4, 33, requires_grad=True)
    y = drop(x)
    y.sum().backward()
    expected = (y.detach() != 0).float() * drop.scale
    assert torch.equal(x.grad, expected)


def test_rejects_p_outside_range():
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        LoraDropout(1.0)


def test_replaces_peft_dropouts_only_where_they_drop():
    class Layer(nn.Module):
        def __init__(self, p):
            super().__init__()
            self.lora_dropout = nn.ModuleDict({"default": nn.Dropout(p) if p else nn.Identity()})

    model = nn.Sequential(Layer(0.1), Layer(0.0), Layer(0.1)).eval()
    assert use_fast_lora_dropout(model) == 2
    assert isinstance(model[0].lora_dropout["default"], LoraDropout)
    assert not model[0].lora_dropout["default"].training  # keeps the module's mode
    assert isinstance(model[1].lora_dropout["default"], nn.Identity)
