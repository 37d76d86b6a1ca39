"""Connecting envs and the model without gradients: vector envs, batched collection."""

from vldac.rollout.buffer import Rollout, StepSample, pad_right
from vldac.rollout.collector import RolloutCollector, episode_seed
from vldac.rollout.vector_env import EnvSpec, VectorEnv

__all__ = ["EnvSpec", "Rollout", "RolloutCollector", "StepSample", "VectorEnv", "episode_seed",
           "pad_right"]
