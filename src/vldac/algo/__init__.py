"""VL-DAC's algorithm and the paper's baselines: pure tensor functions (no I/O, no models,
no envs). ``vldac.algo.rl4vlm`` and ``vldac.algo.loop`` hold the baselines."""

from vldac.algo.gae import TRUNCATION_MODES, normalize_advantages, step_gae
from vldac.algo.loop import episode_advantages_to_steps, leave_one_out_advantages, loop_loss
from vldac.algo.losses import (
    clipped_policy_loss,
    clipped_value_loss,
    explained_variance,
    k3_kl,
    vldac_loss,
)
from vldac.algo.rl4vlm import action_token_mask, rl4vlm_loss, step_logprob

__all__ = [
    "TRUNCATION_MODES",
    "action_token_mask",
    "clipped_policy_loss",
    "clipped_value_loss",
    "episode_advantages_to_steps",
    "explained_variance",
    "k3_kl",
    "leave_one_out_advantages",
    "loop_loss",
    "normalize_advantages",
    "rl4vlm_loss",
    "step_gae",
    "step_logprob",
    "vldac_loss",
]
