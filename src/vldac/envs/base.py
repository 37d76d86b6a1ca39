"""The environment contract every simulator implements.

An environment speaks text and images: ``reset(seed)`` returns an :class:`Observation`
(a text prompt plus the frames of the current state), ``step(text)`` takes the model's raw
answer, parses it into an action itself, and returns a :class:`StepResult` whose ``info``
always carries ``success`` and ``action_is_valid`` (plus ``parse_failed``).

Environments never import torch or transformers, so simulator processes stay light.
Everything an environment does is a deterministic function of the seed given to
``reset`` and the texts given to ``step``: replaying the same texts from the same seed
reproduces the same states, rewards and images. Training resume relies on this.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any

from PIL import Image


@dataclass
class Observation:
    """What the agent sees at one step.

    text:   the full task prompt for this step (instructions, state text, answer format).
    images: the frames of the current state, usually one; the rollout keeps the history
            of the last K frames, so an env only returns what is new at this step.
    """

    text: str
    images: list[Image.Image] = field(default_factory=list)


@dataclass
class StepResult:
    """The outcome of one ``step``.

    info always holds:
      success (bool):          the episode reached its goal (meaningful once it ended);
      action_is_valid (bool):  the parsed action was legal in this state;
      parse_failed (bool):     no action could be read from the text at all;
      action (str | None):     the action that was executed, in the env's own words.
    """

    observation: Observation
    reward: float
    terminated: bool
    truncated: bool
    info: dict[str, Any]


class Env(abc.ABC):
    """Base class: one episode at a time, text actions in, text + images out.

    Subclasses set ``name``, ``max_episode_steps`` and, for a closed action set,
    ``actions`` (the list of legal action strings). ``invalid_action`` names the documented
    rule applied to an unparseable or illegal answer (see each env's docstring).
    """

    name: str = "env"
    max_episode_steps: int = 1
    actions: list[str] | None = None

    @abc.abstractmethod
    def reset(self, seed: int) -> Observation:
        """Start a new episode, deterministically from ``seed``."""

    @abc.abstractmethod
    def step(self, text: str) -> StepResult:
        """Parse ``text`` into an action, apply it, and report the outcome."""

    def _check_can_step(self, started: bool, done: bool) -> None:
        """The contract's errors for ``step`` before any ``reset`` or after the episode ended."""
        if not started:
            raise RuntimeError(f"{self.name}: call reset(seed) before step().")
        if done:
            raise RuntimeError(f"{self.name}: the episode has ended; call reset(seed) again.")

    def expert_action(self) -> str:
        """The answer a scripted expert gives in the current state (an env's planner or oracle).

        Used by ``vldac env check`` and the tests; an env without an expert raises
        NotImplementedError.
        """
        raise NotImplementedError(f"{type(self).__name__} has no scripted expert.")

    # Optional, for open action sets (ALFWorld, WebShop): ``admissible_actions() -> list[str]``,
    # the commands legal in the current state. ``vldac env check`` draws random play from it.

    def close(self) -> None:  # noqa: B027 (an optional hook: a no-op unless overridden)
        """Release simulator resources (windows, servers, subprocesses)."""
