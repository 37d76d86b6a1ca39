"""The BALROG environment contract (balrog-ai/BALROG, MIT; spec: shared/spec/benchmarks.md §1).

Every BALROG world (BabyAI, Crafter, TextWorld, MiniHack, NetHack) is wrapped to this one
shape, the one BALROG's own agents see: an observation is a long-term context, a short-term
context and an optional image; actions are strings from ``language_action_space``; the
episode's statistics carry BALROG's ``progression`` in [0, 1].

Checking an action against the action space, the default action and the invalid-action
feedback are the agent protocol's job (:mod:`vldac.eval.balrog.protocol`), not the env's.
This module imports neither torch nor transformers.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from PIL import Image


@dataclass
class BalrogObservation:
    """What the agent sees at one step.

    ``long_term_context`` is the main text observation; ``short_term_context`` is the
    part BALROG shows only for the current step (inventory, vitals, ...). ``image`` is the
    frame for image (VLM) mode, or None where BALROG has none (TextWorld).
    """

    long_term_context: str
    short_term_context: str = ""
    image: Image.Image | None = None


class BalrogEnv(ABC):
    """One BALROG task. Subclasses set the class attributes and implement the methods."""

    env_name: str  # BALROG's environment name: babyai, crafter, textworld, minihack, nle
    task: str  # BALROG's task name within the environment
    language_action_space: list[str]  # the valid action strings, exact and case-sensitive
    default_action: str  # executed in place of an invalid action
    accepts_any_action: bool = False  # TextWorld: every string is a valid command

    @abstractmethod
    def instruction_prompt(self) -> str:
        """The task's instruction message (BALROG's first user message)."""

    @abstractmethod
    def reset(self, seed: int) -> tuple[BalrogObservation, dict[str, Any]]:
        """Start an episode, deterministic from ``seed``."""

    @abstractmethod
    def step(self, action: str) -> tuple[BalrogObservation, float, bool, bool, dict[str, Any]]:
        """Execute a valid action: (observation, reward, terminated, truncated, info)."""

    @abstractmethod
    def stats(self) -> dict[str, Any]:
        """The episode's statistics so far; always holds ``progression`` in [0, 1]."""

    def close(self) -> None:  # noqa: B027 (optional hook: most worlds hold nothing to free)
        """Release the simulator."""
