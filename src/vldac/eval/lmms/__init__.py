"""VSI-Bench, VisualWebBench and the general image/video benchmarks through lmms-eval, offline.

- :mod:`vldac.eval.lmms.registry`: the benchmarks, and how their task YAMLs get local data.
- :mod:`vldac.eval.lmms.benchmarks`: one module per benchmark (task YAMLs in ``tasks/``).
- :mod:`vldac.eval.lmms.model`: the lmms-eval model class over :class:`vldac.eval.chat.ChatModel`.
- :mod:`vldac.eval.lmms.runner`: :func:`run_lmms`, one benchmark -> ``metrics.json``.
- :mod:`vldac.eval.lmms.fixtures`: tiny fixtures in each benchmark's real schema.

Importing this package imports neither torch nor lmms-eval.
"""


def lmms_eval_manifest():
    """lmms-eval's model manifest for ``vldac_chat`` (the ``lmms_eval.models`` entry point)."""
    from lmms_eval.models.registry_v2 import ModelManifest

    return ModelManifest(model_id="vldac_chat", simple_class_path="vldac.eval.lmms.model.VldacChat")
