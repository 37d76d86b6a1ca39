"""BALROG's aggregation of per-episode progression into per-task, per-env and overall scores.

Re-implements ``collect_and_summarize_results`` of BALROG (balrog-ai/BALROG, MIT, ``balrog/
utils.py`` at HEAD af7d1f1), so our number means what a BALROG leaderboard number means:

- per task: mean progression x 100 (and its standard error);
- per environment: mean over all its episodes x 100, standard error = population standard
  deviation / sqrt(n) (0 for a single episode);
- overall: the unweighted mean of the environment means, and
  standard error = sqrt(sum of squared environment standard errors) / number of environments.

Every number here is a percentage. Episode records are the dicts the runner writes
(``progression`` in [0, 1]; ``num_steps``, ``input_tokens``, ``output_tokens`` optional).
This module imports neither torch nor transformers.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def mean_and_standard_error(values: Iterable[float]) -> tuple[float, float]:
    """(mean, population std / sqrt(n)) of ``values``; (0, 0) when empty, SE 0 when n == 1."""
    xs = [float(x) for x in values]
    n = len(xs)
    if n == 0:
        return 0.0, 0.0
    mean = sum(xs) / n
    if n == 1:
        return mean, 0.0
    std = math.sqrt(sum((x - mean) ** 2 for x in xs) / n)
    return mean, std / math.sqrt(n)


@dataclass(frozen=True)
class TaskSummary:
    progression: float  # percent
    standard_error: float  # percent
    episodes: int


@dataclass(frozen=True)
class EnvSummary:
    progression: float  # percent
    standard_error: float  # percent
    episodes: int
    average_steps: float
    input_tokens: int
    output_tokens: int
    tasks: dict[str, TaskSummary] = field(default_factory=dict)

    def balrog_json(self) -> dict[str, Any]:
        """BALROG's ``<env>_summary.json`` (its key names)."""
        return {
            "progression_percentage": self.progression,
            "standard_error": self.standard_error,
            "average_steps": self.average_steps,
            "episodes_played": self.episodes,
            "tasks": {
                name: {"progression_percentage": t.progression, "standard_error": t.standard_error,
                       "episodes_played": t.episodes}
                for name, t in self.tasks.items()
            },
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
        }


@dataclass(frozen=True)
class BalrogSummary:
    average_progression: float  # percent
    standard_error: float  # percent
    environments: dict[str, EnvSummary]


def summarize_environment(records: list[Mapping[str, Any]]) -> EnvSummary:
    """One environment's summary from its episode records (tasks in first-seen order)."""
    by_task: dict[str, list[float]] = defaultdict(list)
    for record in records:
        by_task[record.get("task")].append(float(record.get("progression", 0.0)))
    progress = [float(r.get("progression", 0.0)) for r in records]
    mean, se = mean_and_standard_error(progress)
    tasks = {}
    for task, values in by_task.items():
        t_mean, t_se = mean_and_standard_error(values)
        tasks[task] = TaskSummary(100 * t_mean, 100 * t_se, len(values))
    n = len(records)
    return EnvSummary(
        progression=100 * mean,
        standard_error=100 * se,
        episodes=n,
        average_steps=sum(r.get("num_steps", 0) for r in records) / n if n else 0.0,
        input_tokens=sum(int(r.get("input_tokens", 0)) for r in records),
        output_tokens=sum(int(r.get("output_tokens", 0)) for r in records),
        tasks=tasks,
    )


def summarize(records_by_env: Mapping[str, list[Mapping[str, Any]]]) -> BalrogSummary:
    """The overall BALROG score: unweighted over environments (those with episodes)."""
    envs = {name: summarize_environment(recs) for name, recs in records_by_env.items() if recs}
    if not envs:
        return BalrogSummary(0.0, 0.0, {})
    average = sum(e.progression for e in envs.values()) / len(envs)
    se = math.sqrt(sum(e.standard_error**2 for e in envs.values())) / len(envs)
    return BalrogSummary(average, se, envs)


def collect_records(out_dir: str | Path) -> dict[str, list[dict[str, Any]]]:
    """Every episode record under ``out_dir/<env>/`` (BALROG's layout), by environment.

    Like BALROG, every ``*.json`` below an environment folder that is not a summary counts.
    """
    out: dict[str, list[dict[str, Any]]] = {}
    for env_dir in sorted(p for p in Path(out_dir).iterdir() if p.is_dir()):
        files = sorted(f for f in env_dir.rglob("*.json") if not f.name.endswith("summary.json"))
        if files:
            out[env_dir.name] = [json.loads(f.read_text()) for f in files]
    return out
