"""LoRA dropout with a cheaper random mask on CPU.

peft puts an ``nn.Dropout(p)`` in front of every LoRA adapter, and on CPU that dropout is
dominated by drawing its mask: ``bernoulli_`` spends one double-precision uniform per
element. On the tiny reference model it was a quarter of an update's forward and backward
(``vldac bench train``, README "Throughput"). :class:`LoraDropout` draws 64 random bits per
four elements instead and reads each 16-bit lane as a uniform integer u in [0, 65536):

    keep_i = [u_i >= k],   k = round(p * 65536),   y_i = x_i * keep_i * 65536 / (65536 - k)

so an element is dropped with probability p' = k / 65536 (|p' - p| <= 2^-17: 0.100006 for
p = 0.1) and E[y] = x exactly. The masks come from torch's global CPU generator, so runs are
as reproducible (and resumable) as before. On other devices the module is plain
``F.dropout``, whose CUDA kernel draws its mask in the same pass.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

_LANES = 65536  # 16-bit lanes of the random words


class LoraDropout(nn.Module):
    """Inverted dropout, p rounded to a multiple of 2^-16 on CPU (see module docstring)."""

    def __init__(self, p: float):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout p must be in [0, 1), got {p}")
        self.p = p
        self.drop = round(p * _LANES)  # k: lanes below it are dropped
        self.scale = _LANES / (_LANES - self.drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.drop == 0:
            return x
        if x.device.type != "cpu":
            return F.dropout(x, self.p, training=True)
        words = torch.empty((x.numel() + 3) // 4, dtype=torch.int64).random_(-(2**63), None)
        lanes = words.view(torch.int16)[: x.numel()].view(x.shape)  # u - 32768, uniform
        keep = (lanes >= self.drop - _LANES // 2).to(x.dtype)
        return x * (keep * self.scale)

    def extra_repr(self) -> str:
        return f"p={self.p}, effective_p={self.drop / _LANES:.6f}"


def use_fast_lora_dropout(model: nn.Module) -> int:
    """Replace peft's ``nn.Dropout`` LoRA dropouts in ``model`` by :class:`LoraDropout`;
    returns how many were replaced."""
    replaced = 0
    for module in model.modules():
        dropouts = getattr(module, "lora_dropout", None)
        if not isinstance(dropouts, nn.ModuleDict):
            continue
        for name, drop in list(dropouts.items()):
            if isinstance(drop, nn.Dropout) and drop.p > 0:
                fast = LoraDropout(drop.p)
                fast.train(drop.training)
                dropouts[name] = fast
                replaced += 1
    return replaced
