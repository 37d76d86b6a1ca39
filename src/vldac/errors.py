"""Expected failures whose message is one sentence telling the user what to do.

They live here, free of torch, so the command line can report them without importing the
learner (``vldac env check`` and ``vldac envs`` stay fast).
"""


class ModelLoadError(RuntimeError):
    """The model could not be loaded; the message says what to do."""


class RunExistsError(RuntimeError):
    """The output folder already holds a run that would be overwritten."""
