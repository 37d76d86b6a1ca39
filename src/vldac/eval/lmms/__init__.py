"""VSI-Bench, VisualWebBench and the general image/video benchmarks through lmms-eval, offline.

- :mod:`vldac.eval.lmms.registry`: the benchmarks, and how their task YAMLs get local data.
- :mod:`vldac.eval.lmms.benchmarks`: one module per benchmark (task YAMLs in ``tasks/``).
- :mod:`vldac.eval.lmms.model`: the lmms-eval model class over :class:`vldac.eval.chat.ChatModel`.
- :mod:`vldac.eval.lmms.runner`: :func:`run_lmms`, one benchmark -> ``metrics.json``.
- :mod:`vldac.eval.lmms.fixtures`: tiny fixtures in each benchmark's real schema.

Importing this package imports neither torch nor lmms-eval.
"""
