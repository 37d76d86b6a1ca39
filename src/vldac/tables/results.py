"""Our results beside the paper's: one row per paper number, with the reason when we have none.

Inputs are plain data the workflow already wrote: each training run's metrics history and
each in-domain evaluation's metrics file. Imports no torch.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vldac.tables.paper import BENCHMARK_TABLES, MODEL_ALIASES, QWEN, VLDAC, PaperValue


@dataclass
class Run:
    """One finished training run: its world, seed, model, budget and per-update metrics."""

    env: str  # key in pipeline.environments
    world: str  # registered env name
    seed: int
    model: str
    env_steps: int
    history: list[dict[str, Any]] = field(default_factory=list)


def finite(obj: Any) -> Any:
    """``obj`` with every NaN or infinity replaced by None (valid JSON, honest tables)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v) for v in obj]
    return obj


def _series(history: list[dict[str, Any]], key: str) -> list[float]:
    values = [r.get(key) for r in history]
    return [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]


def _at(pick: Callable[[list[float]], float], key: str) -> Callable[[list[dict]], float | None]:
    def quantity(history: list[dict[str, Any]]) -> float | None:
        values = _series(history, key)
        return pick(values) if values else None
    return quantity


# Training-curve quantities, named as in vldac.tables.paper (rollout/ = the last 50 episodes).
QUANTITIES: dict[str, Callable[[list[dict[str, Any]]], float | None]] = {
    "peak_success_rate": _at(max, "rollout/success_rate"),
    "start_success_rate": _at(lambda v: v[0], "rollout/success_rate"),
    "final_success_rate": _at(lambda v: v[-1], "rollout/success_rate"),
    "start_episode_return": _at(lambda v: v[0], "rollout/episode_return"),
    "final_episode_return": _at(lambda v: v[-1], "rollout/episode_return"),
}


def _matches(model_path: str, paper_model: str) -> bool:
    return any(a in model_path.lower() for a in MODEL_ALIASES.get(paper_model, ()))


def _mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def _fmt(value: float | None, std: float | None = None) -> str:
    if value is None:
        return "—"
    return f"{value:.3g} ± {std:.2g}" if std else f"{value:.3g}"


def _runs_for(paper: PaperValue, runs: list[Run]) -> tuple[list[Run], str | None, str]:
    """Our runs that answer ``paper``, why there are none, and a note on comparability."""
    if paper.algorithm != VLDAC:
        return [], (f"the {paper.algorithm} baseline is not implemented yet (baselines "
                    "registry, spec decision 12)"), ""
    in_world = [r for r in runs if r.world == paper.world]
    if not in_world:
        return [], f"{paper.world} is not trained in this experiment (pipeline.train_on)", ""
    same_model = [r for r in in_world if _matches(r.model, paper.model)]
    if same_model:
        return same_model, None, ""
    if paper.model != QWEN:
        return [], f"no {paper.world} run with {paper.model} in this experiment", ""
    models = ", ".join(sorted({r.model for r in in_world}))
    return in_world, None, f"ours uses {models}, not {paper.model}: not comparable"


def paper_rows(values: list[PaperValue], runs: list[Run]) -> list[dict[str, Any]]:
    """One row per paper number: paper, ours (mean ± std over seeds), difference, and the
    model, budget and seeds behind ours; ``why`` says why a row has no ours."""
    rows = []
    for paper in values:
        chosen, why, note = _runs_for(paper, runs)
        ours = [q for r in chosen if (q := QUANTITIES[paper.quantity](r.history)) is not None]
        if chosen and not ours:
            why = f"the runs logged no {paper.quantity.replace('_', ' ')}"
        mean, std = _mean_std(ours) if ours else (None, None)
        diff = None if mean is None or paper.value is None else mean - paper.value
        rows.append({
            "table": paper.table, "world": paper.world, "algorithm": paper.algorithm,
            "model (paper)": paper.model, "quantity": paper.quantity.replace("_", " "),
            "paper": paper.text, "ours": _fmt(mean, std),
            "difference": "—" if diff is None else f"{diff:+.3g}",
            "ours: model": ", ".join(sorted({r.model for r in chosen})) if ours else "—",
            "ours: env steps": ", ".join(sorted({f"{r.env_steps:,}" for r in chosen}))
            if ours else "—",
            "ours: seeds": ", ".join(str(r.seed) for r in chosen) if ours else "—",
            "note": why or note,
            "ours_value": mean, "ours_std": std, "paper_value": paper.value,
        })
    return rows


def benchmark_rows(benchmarks: list[str]) -> list[dict[str, Any]]:
    """Rows for the benchmarks in the config; their adapters arrive with the benchmark issue."""
    return [{
        "table": BENCHMARK_TABLES.get(name, "—"), "world": name, "algorithm": VLDAC,
        "model (paper)": QWEN, "quantity": "benchmark score", "paper": "see the paper",
        "ours": "—", "difference": "—", "ours: model": "—", "ours: env steps": "—",
        "ours: seeds": "—", "note": f"the {name} adapter is not implemented yet (benchmark issue)",
        "ours_value": None, "ours_std": None, "paper_value": None,
    } for name in benchmarks]


def in_domain_rows(evals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (world, checkpoint or base model, decoding) with 95% intervals."""
    rows = []
    for ev in sorted(evals, key=lambda e: (e["env"], e["who"] == "base", e["who"])):
        for decoding, s in ev["decodings"].items():
            lo, hi = s["success_rate_ci95"]
            rlo, rhi = s["return_ci95"]
            rows.append({
                "env": ev["env"], "world": ev["world"], "model": ev["model"],
                "checkpoint": "base model" if ev["who"] == "base" else ev["who"],
                "env steps": ev.get("env_steps") or 0, "decoding": decoding,
                "episodes": s["episodes"], "success rate": _fmt(s["success_rate"]),
                "success 95% CI": f"[{_fmt(lo)}, {_fmt(hi)}]",
                "return": _fmt(s["return_mean"]), "return 95% CI": f"[{_fmt(rlo)}, {_fmt(rhi)}]",
                "parse failures": _fmt(s["parse_failure_rate"]),
                "episode length": _fmt(s["episode_length"]),
            })
    return rows


def dvc_metrics(runs: list[Run], evals: list[dict[str, Any]]) -> tuple[dict, dict]:
    """The two metrics files `dvc metrics show/diff` reads: in-domain and training."""
    in_domain: dict[str, Any] = {}
    for ev in evals:
        for decoding, s in ev["decodings"].items():
            in_domain.setdefault(ev["env"], {}).setdefault(ev["who"], {})[decoding] = {
                k: s[k] for k in ("success_rate", "return_mean", "parse_failure_rate",
                                  "episode_length")}
    train: dict[str, Any] = {}
    for run in runs:
        train.setdefault(run.env, {})[f"seed{run.seed}"] = {
            "env_steps": run.env_steps, **{q: f(run.history) for q, f in QUANTITIES.items()}}
    return finite(in_domain), finite(train)
