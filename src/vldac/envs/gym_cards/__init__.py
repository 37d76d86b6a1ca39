"""Gym-Cards (RL4VLM): NumberLine, EZPoints, Points24 and Blackjack, re-implemented.

The four games follow spec section 2.2 (rules, rewards, limits, action sets, 300x300 RGB
frames) but draw their cards with PIL instead of shipping PNGs, parse answers without
``eval()`` and take every random draw from a ``random.Random(seed)`` made in ``reset``.
Make them by name through :func:`vldac.envs.make`, e.g. ``make("gym_cards/EZPoints-v0")``.
The classes are importable from here; each module loads only when its class is asked for.
"""

from __future__ import annotations

import importlib

__all__ = ["BlackjackEnv", "EZPointsEnv", "NumberLineEnv", "Points24Env"]

_MODULES = {
    "BlackjackEnv": "blackjack",
    "EZPointsEnv": "ezpoints",
    "NumberLineEnv": "numberline",
    "Points24Env": "points24",
}


def __getattr__(name: str):
    if name in _MODULES:
        return getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
