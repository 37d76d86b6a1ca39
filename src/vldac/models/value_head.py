"""The critic: an MLP on the backbone's last-layer hidden state at the last prompt token.

V(s_t) = MLP(stopgrad(h_{P-1}(s_t))) (paper eq. 4). The hidden state is detached, so the
value loss trains only this head and never the shared backbone or its LoRA adapters (the
RL4VLM baseline, ``algo.value_stop_grad: false``, asks for the gradient through). The
head runs in float32 whatever the backbone's dtype: it is small, and value regression on
returns of size ~10 is where bf16 rounding hurts.
"""

from __future__ import annotations

import torch
from torch import nn


class ValueHead(nn.Module):
    """hidden -> sizes[0] -> ReLU -> ... -> 1 (the paper: hidden -> 3072 -> 2048 -> 1)."""

    def __init__(self, hidden_size: int, sizes: list[int]):
        super().__init__()
        layers: list[nn.Module] = []
        width = hidden_size
        for size in sizes:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        layers.append(nn.Linear(width, 1))
        self.mlp = nn.Sequential(*layers)

    def forward(self, hidden: torch.Tensor, detach: bool = True) -> torch.Tensor:
        """hidden [B, H] (any dtype) -> values [B] float32. The input is detached (VL-DAC's
        stop-gradient) unless ``detach`` is False (RL4VLM trains the backbone with V)."""
        return self.mlp((hidden.detach() if detach else hidden).float()).squeeze(-1)
