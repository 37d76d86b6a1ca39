"""Run one benchmark through lmms-eval's Python API and write ``metrics.json``, offline.

:func:`run_lmms` renders the benchmark's task YAMLs for the data folder (see
:mod:`vldac.eval.lmms.registry`), builds the model, calls ``lmms_eval.evaluator.simple_evaluate``
and raises if any task failed or produced no result (lmms-eval's command line can exit 0 on a
failed task). It writes into ``out_dir``::

    metrics.json          benchmark, model, backend, data, headline scores, lmms-eval's results
    samples/<task>.jsonl  lmms-eval's per-sample log (doc, target, reply, per-sample metrics)
    tasks/                the rendered task YAMLs that ran
    fixture/              with ``fixture=True``: the generated fixture the scores come from

Nothing is written when the run fails. The environment is made offline (``HF_HUB_OFFLINE``,
``HF_DATASETS_OFFLINE``, ``TRANSFORMERS_OFFLINE``) for the rest of the process.

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
import shutil
import tempfile
from pathlib import Path
from typing import Any

from vldac.eval.lmms import registry

BACKENDS = ("vldac", "qwen2_vl")
PAPER_SETTINGS = {"max_pixels": 200704, "min_pixels": 3136, "max_num_frames": 32}
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


class LmmsEvalError(RuntimeError):
    """lmms-eval ran but a task failed or reported no score."""


class BackendUnavailable(RuntimeError):
    """The chosen backend cannot run on this machine."""


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


def check_qwen2_vl() -> None:
    """Raise :class:`BackendUnavailable` unless lmms-eval's Qwen2-VL class can run here."""
    import torch

    if not torch.cuda.is_available():
        raise BackendUnavailable("the qwen2_vl backend needs a CUDA GPU; use --backend vldac "
                                 "on this machine.")
    try:
        import decord  # noqa: F401
        import qwen_vl_utils  # noqa: F401
        import torchvision  # noqa: F401
    except Exception as err:  # torchvision built for another torch fails with RuntimeError
        raise BackendUnavailable(f"the qwen2_vl backend needs torchvision (built for this "
                                 f"CUDA torch), qwen-vl-utils and decord ({type(err).__name__}: "
                                 f"{err}).") from None


def make_qwen2_vl(model_path: str, *, batch_size: int, settings: dict[str, Any]):
    """lmms-eval's built-in Qwen2-VL model class at the paper's settings (GPU only)."""
    check_qwen2_vl()
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
                         max_num_frames=settings["max_num_frames"],
                         max_new_tokens_cap=settings.get("max_new_tokens_cap"))
    raise ValueError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}.")


def _link_media(benchmark: registry.Benchmark, data_root: Path, hf_home: Path) -> None:
    for cache_dir, relative in benchmark.hf_home_links.items():
        (hf_home / cache_dir).symlink_to((data_root / relative).resolve(),
                                         target_is_directory=True)


def _root_cause(err: BaseException) -> BaseException:
    """The exception inside tenacity's ``RetryError`` (lmms-eval retries loading and scoring)."""
    last = getattr(err, "last_attempt", None)
    inner = last.exception() if last is not None and hasattr(last, "exception") else None
    return _root_cause(inner) if inner is not None else err


def check_data_files(benchmark: registry.Benchmark, task_dir: Path) -> None:
    """Raise ``FileNotFoundError`` (with the benchmark's data help) when a rendered task's
    ``data_files`` pattern matches no file."""
    import glob

    from lmms_eval.utils import load_yaml_config

    for path in sorted(task_dir.rglob("*.yaml")):
        config = load_yaml_config(str(path), mode="simple")
        if config.get("task") not in benchmark.tasks:
            continue
        files = (config.get("dataset_kwargs") or {}).get("data_files") or {}
        patterns = files.values() if isinstance(files, dict) else [files]
        for pattern in patterns:
            for one in [pattern] if isinstance(pattern, str) else pattern:
                if not glob.glob(one):
                    raise FileNotFoundError(f"task {config['task']} finds no data file {one}. "
                                            f"{benchmark.data_help}")


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
    out_dir: str | Path,
    data_root: str | Path | None = None,
    fixture: bool = False,
    backend: str = "vldac",
    limit: int | float | None = None,
    device: str = "auto",
    batch_size: int = 1,
    chat_model=None,
    lm=None,
    max_new_tokens: int | None = None,
) -> dict:
    """Evaluate ``model_path`` on ``benchmark``; returns the ``metrics.json`` content (also
    written to ``out_dir``, which must be new or empty).

    Data: ``data_root`` (the benchmark's files, see its ``data_help``) or ``fixture=True``: the
    benchmark's tiny fixture is generated and kept in ``out_dir/fixture``. ``limit``: at most
    this many docs per task (lmms-eval's ``limit``; the scores of a limited run are not the
    benchmark's). ``chat_model``: an already loaded :class:`ChatModel` for the ``vldac``
    backend (e.g. a run's policy merged in memory). ``lm``: any lmms-eval model instance to use
    instead of a backend (tests, custom classes). With either, ``model_path`` only names it.
    ``max_new_tokens`` (``vldac`` backend, smoke tests only): caps every task's own generation
    length, which changes the scores; ``metrics.json`` records it.
    """
    spec = registry.get(benchmark)
    out_dir = Path(out_dir)
    _check_out_dir(out_dir)
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}.")
    if (data_root is None) == (not fixture):
        raise ValueError("give exactly one of a data folder or fixture=True.")
    if data_root is not None:
        data_root = Path(data_root).resolve()
        _check_data(spec, data_root)
    if backend == "qwen2_vl" and lm is None:
        if "max_num_frames" in spec.generation and batch_size != 1:
            raise ValueError("lmms-eval's Qwen2-VL class subsamples only the first video of a "
                             f"batch; run {spec.name} with batch size 1.")
        check_qwen2_vl()  # before any work
    if max_new_tokens is not None and (backend != "vldac" or lm is not None):
        raise ValueError("a max_new_tokens cap needs the vldac backend.")
    settings = {**PAPER_SETTINGS, **dict(spec.generation), "max_new_tokens_cap": max_new_tokens}
    os.environ.update(OFFLINE_ENV)  # nothing is downloaded, in this process from now on

    with tempfile.TemporaryDirectory(prefix="vldac-lmms-") as scratch:
        scratch = Path(scratch)
        if fixture:
            data_root = scratch / "fixture"
            spec.make_fixture(data_root)
        task_dir = registry.render_tasks(spec, data_root, scratch / "tasks")
        check_data_files(spec, task_dir)
        results = _evaluate(spec, task_dir, data_root, scratch, settings, model_path=model_path,
                            backend=backend, limit=limit, device=device,
                            batch_size=batch_size, chat_model=chat_model, lm=lm)
        check_results(spec, results)
        scores = spec.scores(results)
        out_dir.mkdir(parents=True, exist_ok=True)
        shutil.copytree(task_dir, out_dir / "tasks")
        if fixture:
            data_root = shutil.copytree(data_root, out_dir / "fixture")

    metrics = {
        "benchmark": spec.name,
        "model": str(model_path),
        "backend": backend if lm is None else f"{type(lm).__module__}.{type(lm).__name__}",
        "data_root": str(data_root),
        "fixture": bool(fixture),
        "scores": scores,
        "tasks": {task: results["results"][task] for task in spec.tasks},
        "n_samples": {task: results.get("n-samples", {}).get(task) for task in spec.tasks},
        "lmms_eval_version": _lmms_eval_version(),
        "settings": {**settings, "limit": limit, "batch_size": batch_size, "device": device,
                     "generation_kwargs": {task: results["configs"][task].get(
                         "generation_kwargs") for task in spec.tasks}},
    }
    _write_samples(results, spec.tasks, out_dir / "samples")
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, default=_json_default)
                                          + "\n")
    return metrics


def _evaluate(spec: registry.Benchmark, task_dir: Path, data_root: Path, scratch: Path,
              settings: dict[str, Any], *, model_path: str, backend: str, limit, device: str,
              batch_size: int, chat_model, lm) -> dict:
    """``simple_evaluate`` on the rendered tasks, with a private HF_HOME and datasets cache."""
    from lmms_eval import evaluator
    from lmms_eval.tasks import TaskManager

    if lm is None and chat_model is not None:
        from vldac.eval.lmms.model import VldacChat

        lm = VldacChat(chat_model=chat_model, pretrained=str(model_path),
                       batch_size=batch_size, max_num_frames=settings["max_num_frames"],
                       max_new_tokens_cap=settings["max_new_tokens_cap"])
    if lm is None:
        lm = make_model(model_path, backend, device=device, batch_size=batch_size,
                        settings=settings)
    hf_home = scratch / "hf_home"
    hf_home.mkdir()
    _link_media(spec, data_root, hf_home)
    # lmms-eval's task utils read $HF_HOME when their YAML loads (VSI-Bench's videos); the
    # datasets cache is private so nothing stale or shared is ever read.
    with _environ({"HF_HOME": str(hf_home), "LMMS_EVAL_DATASETS_CACHE": str(scratch / "cache")}):
        manager = TaskManager(verbosity="WARNING", include_path=str(task_dir),
                              include_defaults=False,
                              model_name="qwen2_vl" if backend == "qwen2_vl" else "vldac_chat")
        missing = [t for t in spec.tasks if t not in manager.all_tasks]
        if missing:
            raise LmmsEvalError(f"no task YAML defines {', '.join(missing)} in {spec.task_path}.")
        try:
            return evaluator.simple_evaluate(
                model=lm, tasks=list(spec.tasks), task_manager=manager, limit=limit,
                batch_size=batch_size, log_samples=True, bootstrap_iters=0,
                verbosity="WARNING", process_docs_parallel=1,
            )
        except Exception as err:
            cause = f"{type(_root_cause(err)).__name__}: {_root_cause(err)}"
            for cache_dir, relative in spec.hf_home_links.items():  # name the user's files
                cause = cause.replace(str(hf_home / cache_dir), str(data_root / relative))
            raise LmmsEvalError(f"lmms-eval failed on {spec.name}: {cause}") from err


def _lmms_eval_version() -> str:
    # Not results["lmms_eval_version"]: that is the git commit of the working directory.
    from importlib.metadata import version

    return version("lmms-eval")
