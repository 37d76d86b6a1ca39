"""VL-DAC's algorithm: pure tensor functions (no I/O, no models, no envs)."""

from vldac.algo.gae import TRUNCATION_MODES, normalize_advantages, step_gae
from vldac.algo.losses import (
    clipped_policy_loss,
    clipped_value_loss,
    explained_variance,
    k3_kl,
    vldac_loss,
)

__all__ = [
    "TRUNCATION_MODES",
    "clipped_policy_loss",
    "clipped_value_loss",
    "explained_variance",
    "k3_kl",
    "normalize_advantages",
    "step_gae",
    "vldac_loss",
]
