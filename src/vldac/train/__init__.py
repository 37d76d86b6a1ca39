"""The training loop (collect -> advantages -> update), checkpoints, resume, logging."""

from vldac.train.loop import RunExistsError, TrainResult, train

__all__ = ["RunExistsError", "TrainResult", "train"]
