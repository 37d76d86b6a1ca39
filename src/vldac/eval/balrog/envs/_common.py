"""Shared pieces of the BALROG worlds: data files, the step limit, option checks.

Imports neither torch nor transformers.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from vldac.eval.balrog.base import BalrogEnv

INSTALL_HINT = "pip install -e '.[balrog]'"


@cache
def prompt_data() -> dict[str, Any]:
    """BALROG's instruction texts and action descriptions (``data/prompts.json``)."""
    text = resources.files("vldac.eval.balrog").joinpath("data/prompts.json").read_text("utf-8")
    return json.loads(text)


@cache
def nethack_achievements() -> dict[str, float]:
    """BALROG's NetHack achievement table: ``Dlvl:N`` / ``Xp:N`` -> P(win | reached)."""
    path = resources.files("vldac.eval.balrog").joinpath("data/nethack_achievements.json")
    return json.loads(path.read_text("utf-8"))["achievements"]


def action_list(descriptions: dict[str, str]) -> str:
    """BALROG's action listing: ``name: description`` joined by ``,\\n``."""
    return ",\n".join(f"{name}: {text}" for name, text in descriptions.items())


def require(module: str, world: str) -> Any:
    """Import a simulator package, or fail in one sentence naming the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"The BALROG {world} environment needs the '{module}' package; "
            f"install the simulators with `{INSTALL_HINT}`."
        ) from error


def check_options(world: str, options: dict[str, Any], known: set[str]) -> None:
    """Reject option names a world does not understand."""
    unknown = sorted(set(options) - known)
    if unknown:
        valid = ", ".join(sorted(known)) or "none"
        raise ValueError(
            f"Unknown option(s) {unknown} for the BALROG {world} environment; valid: {valid}."
        )


class StepLimitedEnv(BalrogEnv):
    """A BALROG world with its own step limit, enforced as truncation.

    ``max_steps`` is the env's limit as BALROG runs it (or the caller's override, BALROG's
    ``eval.max_steps_per_episode``); ``num_steps`` counts the steps of the current episode.
    Stepping after the episode ended, or before a reset, raises a RuntimeError.
    """

    max_steps: int
    num_steps: int = 0
    done: bool = True

    def _start_episode(self) -> None:
        self.num_steps = 0
        self.done = False

    def _count_step(self, terminated: bool, truncated: bool) -> bool:
        """Count one step; return the final ``truncated`` with the step limit applied."""
        if self.done:
            raise RuntimeError("step() called on a finished episode; call reset(seed) first.")
        self.num_steps += 1
        truncated = truncated or (not terminated and self.num_steps >= self.max_steps)
        self.done = terminated or truncated
        return truncated

    def _check_action(self, action: str) -> None:
        if not self.accepts_any_action and action not in self.language_action_space:
            raise ValueError(
                f"{action!r} is not in the {self.env_name} action space; the protocol must "
                f"map invalid outputs to the default action {self.default_action!r}."
            )
