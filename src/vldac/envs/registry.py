"""Environments by name: ``make("gym_cards/EZPoints-v0", invalid_action="penalty")``.

The registry maps a name to "module:Class" strings, so nothing is imported until an env is
made: a simulator with heavy dependencies (MiniWorld, ALFWorld, WebShop) costs nothing to
register and fails, when made without its extra installed, with an error naming the extra.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass

from vldac.envs.base import Env

__all__ = ["extra_of", "make", "register", "registered"]


@dataclass(frozen=True)
class _Entry:
    target: str  # "package.module:ClassName"
    extra: str | None  # the pip extra that provides its dependencies, if any


_REGISTRY: dict[str, _Entry] = {}


def register(name: str, target: str, *, extra: str | None = None) -> None:
    """Register ``name`` as the env class at ``target`` ("package.module:ClassName").

    ``extra`` names the pip extra (``pip install 'vldac[<extra>]'``) to suggest when the
    module cannot be imported. Registering a name twice with a different target is an error.
    """
    module, sep, cls = target.partition(":")
    if not (module and sep and cls):
        raise ValueError(f"target must look like 'package.module:ClassName', got {target!r}.")
    entry = _Entry(target, extra)
    if _REGISTRY.get(name, entry) != entry:
        raise ValueError(f"env {name!r} is already registered as {_REGISTRY[name].target}.")
    _REGISTRY[name] = entry


def registered() -> list[str]:
    """All registered env names, sorted."""
    return sorted(_REGISTRY)


def extra_of(name: str) -> str | None:
    """The pip extra env ``name`` needs (None for the envs that need only the core)."""
    if name not in _REGISTRY:
        raise ValueError(f"Unknown env {name!r}; registered envs are: {', '.join(registered())}.")
    return _REGISTRY[name].extra


def _load(name: str, entry: _Entry) -> type[Env]:
    module_name, _, cls_name = entry.target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if entry.extra is None or (exc.name or "").startswith("vldac"):
            raise
        raise ImportError(
            f"env {name!r} needs the missing module {exc.name!r}; "
            f"install it with: pip install 'vldac[{entry.extra}]'."
        ) from exc
    return getattr(module, cls_name)


def _accepted_kwargs(cls: type) -> tuple[set[str], bool]:
    """Keyword names the constructor chain accepts, and whether any of it takes anything.

    Classes pass ``**kwargs`` up to their parents, so the names of every ``__init__`` in
    the MRO count until one without ``**kwargs`` ends the chain.
    """
    names: set[str] = set()
    for klass in cls.__mro__:
        if klass is object:  # object() takes no arguments, despite its (*args, **kwargs)
            break
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        names |= {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)} - {
            "self"
        }
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            return names, False
    return names, False


def make(name: str, **kwargs) -> Env:
    """Construct the env registered as ``name`` with constructor arguments ``kwargs``.

    Raises ValueError for an unknown name (listing the registered ones) or for arguments
    the env does not accept (listing the accepted ones).
    """
    entry = _REGISTRY.get(name)
    if entry is None:
        raise ValueError(f"Unknown env {name!r}; registered envs are: {', '.join(registered())}.")
    cls = _load(name, entry)
    accepted, open_ended = _accepted_kwargs(cls)
    unknown = sorted(set(kwargs) - accepted)
    if unknown and not open_ended:
        raise ValueError(
            f"Env {name!r} does not accept argument(s) {', '.join(map(repr, unknown))}; "
            f"accepted arguments are: {', '.join(sorted(accepted)) or '(none)'}."
        )
    return cls(**kwargs)


# Built-in envs. Gym-Cards and the probe need only Pillow, so they carry no extra.
register("gym_cards/NumberLine-v0", "vldac.envs.gym_cards.numberline:NumberLineEnv")
register("gym_cards/EZPoints-v0", "vldac.envs.gym_cards.ezpoints:EZPointsEnv")
register("gym_cards/Points24-v0", "vldac.envs.gym_cards.points24:Points24Env")
register("gym_cards/Blackjack-v0", "vldac.envs.gym_cards.blackjack:BlackjackEnv")
register("probe/ColorMatch", "vldac.envs.probe:ColorMatchEnv")

# MiniWorld (extra: miniworld): the paper's four "go to the red box" tasks and any task by id.
register("miniworld/Hallway-v0", "vldac.envs.miniworld.env:HallwayEnv", extra="miniworld")
register("miniworld/OneRoom-v0", "vldac.envs.miniworld.env:OneRoomEnv", extra="miniworld")
register("miniworld/FourRooms-v0", "vldac.envs.miniworld.env:FourRoomsEnv", extra="miniworld")
register("miniworld/WallGap-v0", "vldac.envs.miniworld.env:WallGapEnv", extra="miniworld")
register("miniworld/Task", "vldac.envs.miniworld.env:MiniWorldTaskEnv", extra="miniworld")

# ALFWorld (extra: alfworld): the TextWorld engine; the visual THOR mode has its own extra.
register("alfworld/AlfredTWEnv-v0", "vldac.envs.alfworld.env:AlfworldEnv", extra="alfworld")

# WebShop (extra: webshop): a self-hosted shop driven by a headless browser.
register("webshop/WebShop-v0", "vldac.envs.webshop.env:WebShopEnv", extra="webshop")
