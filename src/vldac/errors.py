"""Expected failures whose message is one sentence telling the user what to do.

They live here, free of torch, so the command line can report them without importing the
learner (``vldac env check`` and ``vldac envs`` stay fast).
"""


class ModelLoadError(RuntimeError):
    """The model could not be loaded; the message says what to do."""


class RunExistsError(RuntimeError):
    """The output folder already holds a run that would be overwritten."""


# Top-level modules whose absence names a specific install command.
_INSTALL = {
    "lmms_eval": "pip install -e '.[lmms]' && pip install --no-deps lmms-eval==0.7.3",
    **dict.fromkeys(["nle", "minihack", "crafter", "minigrid"], "pip install -e '.[balrog]'"),
    **dict.fromkeys(["miniworld", "pyglet"], "pip install -e '.[miniworld]'"),
    **dict.fromkeys(["alfworld", "textworld"], "pip install -e '.[alfworld]' (or '.[balrog]')"),
    **dict.fromkeys(["flask", "playwright", "rank_bm25"], "pip install -e '.[webshop]'"),
}


def missing_package_message(err: ModuleNotFoundError) -> str:
    """One sentence naming the missing package and how to install it."""
    top = (err.name or "").split(".")[0]
    how = (f"install it with: {_INSTALL[top]}" if top in _INSTALL else
           "install the extra that provides it (pyproject.toml lists them, e.g. "
           "pip install -e '.[gymcards]')")
    return f"missing package {err.name!r}; {how}."
