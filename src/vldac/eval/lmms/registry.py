"""The benchmarks that run through lmms-eval: what each runs, where its data lives, what it reports.

A benchmark is a :class:`Benchmark` registered under a pipeline name (``vsi_bench``,
``visualwebbench``, ``gqa``, ...). Each module in :mod:`vldac.eval.lmms.benchmarks` builds one
or more and calls :func:`register` at import; :func:`get` imports them all on first use.

How a task YAML gets the user's data (the data-path mechanism)
--------------------------------------------------------------
A benchmark's lmms-eval task YAMLs live in the package, in ``vldac/eval/lmms/tasks/<task_dir>/``,
as *templates*. Before a run, :func:`render_tasks` copies that folder into the run's output
folder (``<out>/tasks/``, kept as a record of exactly what ran) and replaces two tokens in every
YAML file:

- ``{{data_root}}``: the absolute path of the local data folder (``--data DIR``, or the fixture
  written by ``--fixture``). Use it inside double quotes, e.g.
  ``data_files: {test: "{{data_root}}/en/dev-*.parquet"}`` with ``dataset_path: parquet``.
- ``{{lmms_eval_tasks}}``: lmms-eval's own ``tasks`` folder, so a YAML can
  ``include: "{{lmms_eval_tasks}}/vsibench/_default_template_yaml"`` (or one of lmms-eval's task
  YAMLs) and inherit its prompts, generation settings, ``process_results`` and metrics as they
  are. Override only what must change: ``task`` (prefix it ``vldac_``), ``dataset_path``,
  ``dataset_name: null``, ``dataset_kwargs``. lmms-eval's functions are referenced as
  ``!function lmms_eval.tasks.<task>.utils.<fn>`` or come along with the include; our own
  helpers as ``!function vldac.eval.lmms.benchmarks.<module>.<fn>``.

The runner indexes only the rendered folder (``TaskManager(include_path=..., include_defaults=
False)``): nothing of lmms-eval's own task list is loaded, and no task name can collide.

Media that lmms-eval's task functions read from ``$HF_HOME/<cache_dir>`` (VSI-Bench's videos
from ``$HF_HOME/vsibench``, Video-MME's from ``$HF_HOME/videomme``) are declared in
``hf_home_links``: during the run ``HF_HOME`` is a private folder in which the runner links
``<cache_dir>`` to ``<data_root>/<relative path>``. The datasets cache is private to the run
too, and ``HF_HUB_OFFLINE``/``HF_DATASETS_OFFLINE`` are set: nothing is downloaded.

A fixture (``make_fixture(root)``) writes a tiny copy of the benchmark, in the real files' layout
and schema with synthetic media, such that ``root`` works as ``{{data_root}}``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any

DATA_ROOT_TOKEN = "{{data_root}}"
LMMS_EVAL_TASKS_TOKEN = "{{lmms_eval_tasks}}"
TASKS_ROOT = Path(__file__).parent / "tasks"


@dataclass(frozen=True)
class Benchmark:
    """One benchmark run through lmms-eval (see the module docstring for the data mechanism)."""

    name: str
    """Pipeline name: ``vsi_bench``, ``visualwebbench``, ``gqa``, ..."""
    tasks: tuple[str, ...]
    """Our lmms-eval task names (``vldac_...``), all defined by YAMLs in ``task_dir``."""
    make_fixture: Callable[[Path], Any]
    """Writes a tiny copy in the real schema under the given root (synthetic media only)."""
    scores: Callable[[dict], dict[str, float]]
    """``simple_evaluate``'s return value -> headline numbers, e.g. ``{"overall": 35.2}``."""
    data_help: str
    """How a user points the benchmark at real data (one paragraph, shown by errors and help)."""
    generation: Mapping[str, Any] = field(default_factory=dict)
    """Model-side settings for this benchmark that the runner passes to the model class:
    ``max_num_frames`` (its presence marks a video benchmark). Decoding settings
    (``max_new_tokens``...) are not here: they are the task YAMLs' ``generation_kwargs``,
    inherited from lmms-eval."""
    hf_home_links: Mapping[str, str] = field(default_factory=dict)
    """``{cache_dir: path relative to data_root}`` linked under the run's private ``HF_HOME``."""
    task_dir: str = ""
    """Folder under ``vldac/eval/lmms/tasks/`` holding the YAMLs (default: ``name``)."""

    @property
    def task_path(self) -> Path:
        return TASKS_ROOT / (self.task_dir or self.name)


BENCHMARKS: dict[str, Benchmark] = {}


def register(benchmark: Benchmark) -> Benchmark:
    """Add ``benchmark`` under its name; a second benchmark of the same name is an error."""
    if benchmark.name in BENCHMARKS and BENCHMARKS[benchmark.name] is not benchmark:
        raise ValueError(f"benchmark {benchmark.name!r} is registered twice; rename one.")
    BENCHMARKS[benchmark.name] = benchmark
    return benchmark


def names() -> list[str]:
    """Every registered benchmark name, sorted."""
    import_module("vldac.eval.lmms.benchmarks")
    return sorted(BENCHMARKS)


def get(name: str) -> Benchmark:
    """The benchmark called ``name``; an unknown name raises ``ValueError`` listing the valid."""
    valid = names()
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; choose one of: {', '.join(valid)}.")
    return BENCHMARKS[name]


def lmms_eval_tasks_dir() -> Path:
    """lmms-eval's own ``tasks`` folder (the target of ``{{lmms_eval_tasks}}``)."""
    import importlib.util

    spec = importlib.util.find_spec("lmms_eval")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("lmms-eval is not installed; install the `lmms` extra and then "
                          "`pip install --no-deps lmms-eval==0.7.3`.")
    return Path(next(iter(spec.submodule_search_locations))) / "tasks"


def _yaml_string(path: Path) -> str:
    """``path`` escaped for the inside of a double-quoted YAML string."""
    return json.dumps(str(path))[1:-1]


def render_tasks(benchmark: Benchmark, data_root: Path, dest: Path) -> Path:
    """Copy ``benchmark``'s task folder to ``dest`` with the two tokens replaced; returns ``dest``.

    Every file whose name contains ``yaml`` is rendered; other files are copied as they are.
    """
    source = benchmark.task_path
    if not source.is_dir():
        raise FileNotFoundError(f"benchmark {benchmark.name!r} has no task folder {source}; "
                                "reinstall vldac (its task YAMLs are package data).")
    data = _yaml_string(Path(data_root).resolve())
    lmms_tasks = _yaml_string(lmms_eval_tasks_dir())
    dest.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.rglob("*")):
        target = dest / path.relative_to(source)
        if path.is_dir() or "__pycache__" in path.parts:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if "yaml" in path.name:
            text = path.read_text()
            text = text.replace(DATA_ROOT_TOKEN, data).replace(LMMS_EVAL_TASKS_TOKEN, lmms_tasks)
            target.write_text(text)
        else:
            shutil.copyfile(path, target)
    return dest


def write_parquet(dataset, path: Path) -> Path:
    """Write a ``datasets.Dataset`` to ``path`` as one parquet file carrying its features in
    the schema metadata, as the hub's files do (``Image`` columns as ``{bytes, path}``)."""
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(dataset.data.table, str(path))
    return path
