"""Per-token log-probabilities and entropies at a sampling temperature, chunked.

For a 150k-token vocabulary a full log-softmax over every response position costs as much
memory again as the logits; these functions instead take a logsumexp per chunk of positions
and gather only the chosen token, in float32 whatever the model's dtype.
"""

from __future__ import annotations

import torch


def _prepare(logits: torch.Tensor, temperature: float, suppressed: torch.Tensor | None):
    scaled = logits.float() / temperature
    if suppressed is not None and suppressed.numel():
        # Generation never samples these ids; scoring must use the same distribution.
        scaled = scaled.index_fill(-1, suppressed, float("-inf"))
    return scaled


def token_logprobs(
    logits: torch.Tensor,
    tokens: torch.Tensor,
    temperature: float = 1.0,
    suppressed: torch.Tensor | None = None,
    chunk: int = 1024,
) -> torch.Tensor:
    """log softmax(logits / temperature)[token] for every position.

    Args:
        logits: [B, L, V] raw logits predicting ``tokens`` (any float dtype).
        tokens: [B, L] token ids.
        suppressed: [S] ids that sampling excluded (their probability is 0).
        chunk: positions per chunk along L.
    Returns:
        [B, L] float32 log-probabilities.
    """
    out = []
    for start in range(0, logits.shape[1], chunk):
        scaled = _prepare(logits[:, start : start + chunk], temperature, suppressed)
        picked = scaled.gather(-1, tokens[:, start : start + chunk, None]).squeeze(-1)
        out.append(picked - torch.logsumexp(scaled, dim=-1))
    return torch.cat(out, dim=1) if out else logits.new_zeros(tokens.shape, dtype=torch.float32)


def token_entropy(
    logits: torch.Tensor,
    temperature: float = 1.0,
    suppressed: torch.Tensor | None = None,
    chunk: int = 256,
) -> torch.Tensor:
    """Entropy of softmax(logits / temperature) per position: [B, L, V] -> [B, L] float32."""
    out = []
    for start in range(0, logits.shape[1], chunk):
        scaled = _prepare(logits[:, start : start + chunk], temperature, suppressed)
        logp = torch.log_softmax(scaled, dim=-1)
        out.append(-(logp.exp() * logp.nan_to_num(neginf=0.0)).sum(-1))
    return torch.cat(out, dim=1) if out else logits.new_zeros(logits.shape[:2], dtype=torch.float32)
