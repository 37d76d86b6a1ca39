"""Shared machinery for environments with a closed list of text actions.

:class:`DiscreteTextEnv` owns what every such game does the same way: seeding one
``random.Random`` per episode, parsing the answer, applying the invalid-action rule,
counting steps against the time limit, and filling ``info``. A game only supplies its
rules (``_new_episode``, ``_apply``, ``legal_actions``), its frame and its prompt.

Invalid-action rules (the ``invalid_action`` constructor argument) decide what happens when
no action can be read from the answer (``info["parse_failed"]``):

- ``"random"``: execute a uniformly random *legal* action drawn from the episode's own RNG
  (the official VL-DAC fallback, minus its bug of drawing from {0, 1} for every game);
- ``"penalty"``: execute nothing; reward -1, the state is unchanged and the step counts
  towards the time limit.

An action that is read but is illegal in the current state follows the game's own rule
(documented per game), and is reported as ``action_is_valid=False``.
"""

from __future__ import annotations

import abc
import operator
import random
from dataclasses import dataclass
from typing import Any

from PIL import Image

from vldac.envs.base import Env, Observation, StepResult
from vldac.envs.parsing import extract_action

__all__ = ["INVALID_ACTION_RULES", "DiscreteTextEnv", "Outcome"]

INVALID_ACTION_RULES = ("random", "penalty")
PENALTY_REWARD = -1.0


@dataclass
class Outcome:
    """What one game rule did: reward, whether the episode ended, whether it was won."""

    reward: float = 0.0
    terminated: bool = False
    truncated: bool = False
    success: bool = False


class DiscreteTextEnv(Env):
    """Base class for closed-action-set games; see the module docstring for the rules.

    Subclasses set ``actions``, ``default_max_episode_steps`` and ``default_invalid_action``,
    and implement ``_new_episode``, ``_apply``, ``_render``, ``_prompt`` and
    ``expert_action``. Game state must be drawn only from ``self._rng``.
    """

    default_max_episode_steps: int = 20
    default_invalid_action: str = "random"

    def __init__(self, *, max_episode_steps: int | None = None, invalid_action: str | None = None):
        steps = self.default_max_episode_steps if max_episode_steps is None else max_episode_steps
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ValueError(f"max_episode_steps must be a positive integer, got {steps!r}.")
        rule = self.default_invalid_action if invalid_action is None else invalid_action
        if rule not in INVALID_ACTION_RULES:
            raise ValueError(
                f"invalid_action must be one of {list(INVALID_ACTION_RULES)}, got {rule!r}."
            )
        self.max_episode_steps = steps
        self.invalid_action = rule
        self._rng: random.Random | None = None
        self._steps = 0
        self._done = True
        self._success = False

    # ----- what a game implements -------------------------------------------------------

    @abc.abstractmethod
    def _new_episode(self) -> None:
        """Draw a fresh game state from ``self._rng``."""

    @abc.abstractmethod
    def _apply(self, action: str) -> Outcome:
        """Apply one action from ``self.actions`` (legal or not) under the game's rules."""

    @abc.abstractmethod
    def _render(self) -> Image.Image:
        """The frame of the current state."""

    @abc.abstractmethod
    def _prompt(self) -> str:
        """The text prompt for the current state."""

    @abc.abstractmethod
    def expert_action(self) -> str:
        """A scripted good action read from the true state (for tests and demos)."""

    def legal_actions(self) -> list[str]:
        """Actions that are legal in the current state (all of them unless overridden)."""
        return list(self.actions or [])

    def _pre_step(self) -> Outcome | None:
        """A rule that fires before the answer is applied (e.g. a length limit), or None."""
        return None

    def _info(self) -> dict[str, Any]:
        """Game-specific extras for ``info`` (for logging; never shown to the model)."""
        return {}

    # ----- the contract -----------------------------------------------------------------

    @property
    def episode_steps(self) -> int:
        """Steps taken in the current episode."""
        return self._steps

    def reset(self, seed: int) -> Observation:
        """Start an episode whose state is a deterministic function of ``seed``."""
        self._rng = random.Random(operator.index(seed))
        self._steps = 0
        self._done = False
        self._success = False
        self._new_episode()
        return self._observe()

    def step(self, text: str) -> StepResult:
        """Parse ``text``, apply it (or the invalid-action rule), and report the outcome."""
        self._check_can_step(started=self._rng is not None, done=self._done)
        self._steps += 1
        legal = self.legal_actions()
        parsed = extract_action(text, list(self.actions or []))
        executed: str | None = None
        outcome = self._pre_step()
        if outcome is None:
            if parsed is not None:
                executed = parsed
            elif self.invalid_action == "random":
                executed = self._rng.choice(legal)
            if executed is None:
                outcome = Outcome(reward=PENALTY_REWARD)
            else:
                outcome = self._apply(executed)
        terminated = outcome.terminated
        # The time limit only truncates an episode the game itself did not end.
        truncated = not terminated and (outcome.truncated or self._steps >= self.max_episode_steps)
        self._success = self._success or outcome.success
        self._done = terminated or truncated
        info = {
            "success": self._success,
            "action_is_valid": parsed is not None and parsed in legal,
            "parse_failed": parsed is None,
            "action": executed,
            **self._info(),
        }
        return StepResult(self._observe(), float(outcome.reward), terminated, truncated, info)

    def _observe(self) -> Observation:
        return Observation(text=self._prompt(), images=[self._render()])
