"""Simulators behind one contract: ``reset(seed)`` and ``step(text)``, text + images out.

    from vldac.envs import make, registered
    env = make("gym_cards/EZPoints-v0")
    obs = env.reset(seed=0)            # Observation(text, images)
    result = env.step('{"thoughts": "...", "action": "+"}')
    result.info["success"], result.info["action_is_valid"], result.info["parse_failed"]

Importing this package loads no simulator and never torch or transformers; each env's
module is imported when it is first made.
"""

from vldac.envs.base import Env, Observation, StepResult
from vldac.envs.registry import make, register, registered

__all__ = ["Env", "Observation", "StepResult", "make", "register", "registered"]
