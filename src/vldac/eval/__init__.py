"""Evaluation: a policy (trained checkpoint or base model) in its world and on benchmarks."""

from vldac.eval.in_domain import EvalEpisode, EvalResult, evaluate, heldout_seeds, load_run_policy

__all__ = ["EvalEpisode", "EvalResult", "evaluate", "heldout_seeds", "load_run_policy"]
