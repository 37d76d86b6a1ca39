"""Evaluation: a policy (trained checkpoint or base model) in its world and on benchmarks.

- :mod:`vldac.eval.in_domain`: held-out episodes of the world a checkpoint was trained in.
- :mod:`vldac.eval.balrog`: the BALROG agentic protocol (BabyAI, Crafter, TextWorld, MiniHack,
  NetHack).
- :mod:`vldac.eval.lmms`: VSI-Bench, VisualWebBench and the general benchmarks through lmms-eval.

Attributes load lazily, so that importing a benchmark's torch-free parts (its environments,
metrics, fixtures) never imports torch.
"""

from importlib import import_module

__all__ = ["EvalEpisode", "EvalResult", "evaluate", "heldout_seeds", "load_run_policy"]


def __getattr__(name: str):
    if name in __all__:
        return getattr(import_module("vldac.eval.in_domain"), name)
    raise AttributeError(f"module 'vldac.eval' has no attribute {name!r}")
