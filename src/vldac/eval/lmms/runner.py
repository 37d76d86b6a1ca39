"""Run one benchmark through lmms-eval's Python API and write ``metrics.json``, offline.

:func:`run_lmms` renders the benchmark's task YAMLs for the data folder (see
:mod:`vldac.eval.lmms.registry`), builds the model, calls ``lmms_eval.evaluator.simple_evaluate``
and raises if any task failed or produced no result (lmms-eval's command line can exit 0 on a
failed task). It writes into ``out_dir``::

    metrics.json        benchmark, model, backend, data, headline scores, lmms-eval's results
    samples/<task>.jsonl lmms-eval's per-sample log (doc, target, reply, per-sample metrics)
    tasks/              the rendered task YAMLs that ran

Backends: ``vldac`` (:class:`vldac.eval.lmms.model.VldacChat`, any family, CPU or GPU) and
``qwen2_vl`` (lmms-eval's built-in Qwen2-VL class, the field's reference path; CUDA torch and
torchvision needed). Both run at the paper's settings: max_pixels 200704, min_pixels 3136 and
up to 32 video frames.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from vldac.eval.lmms import registry

BACKENDS = ("vldac", "qwen2_vl")
PAPER_SETTINGS = {"max_pixels": 200704, "min_pixels": 3136, "max_num_frames": 32}
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


class LmmsEvalError(RuntimeError):
    """lmms-eval ran but a task failed or reported no score."""


@contextlib.contextmanager
def _environ(values: dict[str, str]):
    old = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _check_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise FileExistsError(f"{out_dir} is not empty; choose a new output folder "
                              "(results are never overwritten).")


def _check_data(benchmark: registry.Benchmark, data_root: Path) -> None:
    if not data_root.is_dir():
        raise FileNotFoundError(f"no data folder {data_root} for {benchmark.name}. "
                                f"{benchmark.data_help}")


def make_qwen2_vl(model_path: str, *, batch_size: int, settings: dict[str, Any]):
    """lmms-eval's built-in Qwen2-VL model class at the paper's settings (GPU only)."""
    import torch

    if not torch.cuda.is_available():
        raise RuntimeError("the qwen2_vl backend needs a CUDA GPU; use --backend vldac here.")
    try:
        import decord  # noqa: F401
        import qwen_vl_utils  # noqa: F401
        import torchvision  # noqa: F401
    except Exception as err:  # torchvision built for another torch fails with RuntimeError
        raise RuntimeError(f"the qwen2_vl backend needs torchvision (built for this CUDA "
                           f"torch), qwen-vl-utils and decord ({type(err).__name__}: "
                           f"{err}).") from None
    from lmms_eval.models.simple.qwen2_vl import Qwen2_VL

    return Qwen2_VL(pretrained=model_path, device="cuda", device_map="cuda",
                    batch_size=batch_size, max_pixels=settings["max_pixels"],
                    min_pixels=settings["min_pixels"], max_num_frames=settings["max_num_frames"])


def make_model(model_path: str, backend: str, *, device: str, batch_size: int,
               settings: dict[str, Any]):
    """The lmms-eval model instance for ``backend``."""
    if backend == "qwen2_vl":
        return make_qwen2_vl(model_path, batch_size=batch_size, settings=settings)
    if backend == "vldac":
        from vldac.eval.lmms.model import VldacChat

        return VldacChat(pretrained=model_path, device=device, batch_size=batch_size,
                         max_pixels=settings["max_pixels"], min_pixels=settings["min_pixels"],
                         max_num_frames=settings["max_num_frames"])
    raise ValueError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}.")


def _link_media(benchmark: registry.Benchmark, data_root: Path, hf_home: Path) -> None:
    for cache_dir, relative in benchmark.hf_home_links.items():
        (hf_home / cache_dir).symlink_to((data_root / relative).resolve(),
                                         target_is_directory=True)


def check_results(benchmark: registry.Benchmark, results: dict | None) -> None:
    """Raise :class:`LmmsEvalError` unless every task of ``benchmark`` has samples and a finite
    value for each of its metrics."""
    if not results or "results" not in results:
        raise LmmsEvalError(f"lmms-eval returned no results for {benchmark.name}.")
    for task in benchmark.tasks:
        metrics = results["results"].get(task)
        if not metrics:
            raise LmmsEvalError(f"lmms-eval returned no results for task {task}.")
        if not results.get("samples", {}).get(task):
            raise LmmsEvalError(f"task {task} scored no sample (empty data or --limit 0?).")
        values = {key: value for key, value in metrics.items()
                  if key.endswith(",none") and "_stderr" not in key}
        if not values:
            raise LmmsEvalError(f"task {task} reported no metric.")
        bad = [k for k, v in values.items()
               if not isinstance(v, (int, float)) or not math.isfinite(v)]
        if bad:
            raise LmmsEvalError(f"task {task} reported no finite value for {', '.join(bad)}.")


def _json_default(value):
    from lmms_eval.utils import handle_non_serializable

    return handle_non_serializable(value)


def _write_samples(results: dict, tasks: tuple[str, ...], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for task in tasks:
        with open(folder / f"{task}.jsonl", "w") as handle:
            for sample in results["samples"][task]:
                handle.write(json.dumps(sample, default=_json_default) + "\n")


def run_lmms(
    model_path: str,
    benchmark: str,
    *,
    data_root: str | Path,
    out_dir: str | Path,
    backend: str = "vldac",
    limit: int | float | None = None,
    device: str = "auto",
    batch_size: int = 1,
    fixture: bool = False,
    lm=None,
) -> dict:
    """Evaluate ``model_path`` on ``benchmark`` with the data in ``data_root``; returns the
    ``metrics.json`` content (also written to ``out_dir``).

    ``limit``: at most this many docs per task (lmms-eval's ``limit``, for smoke tests: scores
    of a limited run are not the benchmark's). ``fixture`` only records that the data is a
    fixture. ``lm``: an already-built lmms-eval model instance to use instead of ``backend``
    (tests, custom classes); ``model_path`` then only names it.
    """
    spec = registry.get(benchmark)
    data_root, out_dir = Path(data_root).resolve(), Path(out_dir)
    _check_out_dir(out_dir)
    _check_data(spec, data_root)
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}.")
    settings = {**PAPER_SETTINGS, **dict(spec.generation)}
    out_dir.mkdir(parents=True, exist_ok=True)
    task_dir = registry.render_tasks(spec, data_root, out_dir / "tasks")

    os.environ.update(OFFLINE_ENV)  # nothing is downloaded, in this process from now on
    from lmms_eval import evaluator
    from lmms_eval.tasks import TaskManager

    backend_name = backend if lm is None else f"{type(lm).__module__}.{type(lm).__name__}"
    if lm is None:
        lm = make_model(model_path, backend, device=device, batch_size=batch_size,
                        settings=settings)
    model_name = "qwen2_vl" if backend == "qwen2_vl" else "vldac_chat"
    with tempfile.TemporaryDirectory(prefix="vldac-lmms-") as scratch:
        hf_home = Path(scratch) / "hf_home"
        hf_home.mkdir()
        _link_media(spec, data_root, hf_home)
        # lmms-eval's task utils read $HF_HOME when their YAML loads (VSI-Bench's videos);
        # the datasets cache is private so nothing stale or shared is ever read.
        with _environ({"HF_HOME": str(hf_home),
                       "LMMS_EVAL_DATASETS_CACHE": str(Path(scratch) / "datasets")}):
            manager = TaskManager(verbosity="WARNING", include_path=str(task_dir),
                                  include_defaults=False, model_name=model_name)
            missing = [t for t in spec.tasks if t not in manager.all_tasks]
            if missing:
                raise LmmsEvalError(f"no task YAML defines {', '.join(missing)} in "
                                    f"{task_dir}.")
            try:
                results = evaluator.simple_evaluate(
                    model=lm, tasks=list(spec.tasks), task_manager=manager, limit=limit,
                    batch_size=batch_size, log_samples=True, bootstrap_iters=0,
                    verbosity="WARNING", process_docs_parallel=1,
                )
            except Exception as err:
                raise LmmsEvalError(f"lmms-eval failed on {spec.name}: "
                                    f"{type(err).__name__}: {err}") from err
    check_results(spec, results)

    metrics = {
        "benchmark": spec.name,
        "model": str(model_path),
        "backend": backend_name,
        "data_root": str(data_root),
        "fixture": bool(fixture),
        "scores": spec.scores(results),
        "tasks": {task: results["results"][task] for task in spec.tasks},
        "n_samples": results.get("n-samples", {}),
        "lmms_eval_version": _lmms_eval_version(),
        "settings": {**settings, "limit": limit, "batch_size": batch_size, "device": device,
                     "generation_kwargs": {task: results["configs"][task].get(
                         "generation_kwargs") for task in spec.tasks}},
    }
    _write_samples(results, spec.tasks, out_dir / "samples")
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, default=_json_default)
                                          + "\n")
    return metrics


def _lmms_eval_version() -> str:
    # Not results["lmms_eval_version"]: that is the git commit of the working directory.
    from importlib.metadata import version

    return version("lmms-eval")
