"""Our results beside the paper's: one row per paper number, with the reason when we have none.

Inputs are plain data the workflow already wrote: each training run's metrics history and
each in-domain evaluation's metrics file. Imports no torch.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vldac.tables.paper import MODEL_ALIASES, QWEN, VLDAC, BenchmarkValue, PaperValue


@dataclass
class Run:
    """One finished training run: its world, seed, model, budget and per-update metrics."""

    env: str  # key in pipeline.environments
    world: str  # registered env name
    seed: int
    model: str
    env_steps: int
    history: list[dict[str, Any]] = field(default_factory=list)
    algorithm: str = VLDAC  # as the paper names it: algorithm_label(the run's algo section)


def algorithm_label(algo: dict[str, Any]) -> str:
    """A run's algorithm as the paper names it: VL-DAC, RL4VLM λ=<thought_weight>, LOOP."""
    name = algo.get("name", "vldac")
    if name == "rl4vlm":
        return f"RL4VLM λ={algo.get('thought_weight', 0.35):g}"
    return {"vldac": VLDAC, "loop": "LOOP"}[name]


def _same_algorithm(paper: str, run: str) -> bool:
    """``run`` answers the paper's ``paper`` column; "RL4VLM (average)" takes every λ."""
    return run.startswith("RL4VLM") if paper == "RL4VLM (average)" else run == paper


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
    in_world = [r for r in runs if r.world == paper.world]
    if not in_world:
        return [], f"{paper.world} is not trained in this experiment (pipeline.train_on)", ""
    in_world = [r for r in in_world if _same_algorithm(paper.algorithm, r.algorithm)]
    if not in_world:
        return [], (f"no {paper.algorithm} run in {paper.world} in this experiment (README: "
                    "Baselines)"), ""
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


@dataclass
class BenchmarkResult:
    """One benchmark run of one model: the base model, or a checkpoint tuned in a world."""

    benchmark: str  # pipeline name: balrog, vsi_bench, gqa, ...
    variant: str | None  # BALROG's agent (naive, cot): one run each; None for lmms-eval
    # runs, whose prompt variants (ERQA's CoT) are scores of the same run
    trained_in: str | None  # registered world of the checkpoint; None for the base model
    seed: int | None  # training seed of the checkpoint
    model: str  # the base model's path (a checkpoint is this model plus its merged adapter)
    env_steps: int | None  # the checkpoint's training budget
    scores: dict[str, float]
    errors: dict[str, float] = field(default_factory=dict)  # standard errors, where reported
    fixture: bool = False  # synthetic stand-in data (tests, small profile)


def balrog_result(summary: dict[str, Any], about: dict[str, Any]) -> BenchmarkResult:
    """A BALROG run's summary.json as a table result: the average progression (%) and each
    environment's, with BALROG's standard errors."""
    envs = summary.get("environments", {})
    return BenchmarkResult(
        "balrog", summary["agent"], about["trained_in"], about["seed"], about["model"],
        about.get("env_steps"),
        scores={"average_progression": summary["average_progression"],
                **{env: e["progression"] for env, e in envs.items()}},
        errors={"average_progression": summary["standard_error"],
                **{env: e["standard_error"] for env, e in envs.items()}})


def with_env_steps(about: dict[str, Any]) -> dict[str, Any]:
    """``about`` with the benchmarked checkpoint's training budget read from its folder."""
    if about.get("checkpoint"):
        final = Path(about["checkpoint"]) / "final_metrics.json"
        about = {**about, "env_steps": json.loads(final.read_text()).get("env_steps")}
    return about


def lmms_result(metrics: dict[str, Any], about: dict[str, Any]) -> BenchmarkResult:
    """An lmms-eval run's metrics.json as a table result (its headline scores)."""
    return BenchmarkResult(
        metrics["benchmark"], None, about["trained_in"], about["seed"], about["model"],
        about.get("env_steps"), scores=dict(metrics["scores"]),
        fixture=bool(metrics.get("fixture", False)))


def _benchmark_note(results: list[BenchmarkResult], paper_model: str = QWEN) -> str:
    notes = []
    if any(r.fixture for r in results):
        notes.append("synthetic fixture data, not the benchmark: not comparable")
    models = sorted({r.model for r in results if not _matches(r.model, paper_model)})
    if models:
        notes.append(f"ours uses {', '.join(models)}, not {paper_model}: not comparable")
    return "; ".join(notes)


def benchmark_rows(values: list[BenchmarkValue], results: list[BenchmarkResult],
                   unavailable: dict[str, str],
                   caveats: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """One row per paper number of Tables 2-5, ours beside it.

    ``unavailable`` maps "benchmark:variant" to why this experiment has no such run (not
    configured, no local data, no adapter); a row without results always says why.
    ``caveats`` maps a benchmark to a note on how ours differs (e.g. BALROG worlds we cannot
    run). Several checkpoints (training seeds) give mean ± std; one run shows its own
    standard error where the benchmark reports one (BALROG).
    """
    caveats = caveats or {}
    trained = {r.trained_in for r in results}
    rows = []
    for paper in values:
        why = unavailable.get(f"{paper.benchmark}:{paper.variant}", "")
        chosen = [] if why else [
            r for r in results if r.benchmark == paper.benchmark
            and r.trained_in == paper.trained_in and r.variant in (None, paper.variant)]
        ours = [r.scores[paper.score] for r in chosen
                if isinstance(r.scores.get(paper.score), (int, float))
                and math.isfinite(r.scores[paper.score])]
        if why:
            pass
        elif not chosen:
            if paper.trained_in is not None and paper.trained_in not in trained:
                why = (f"no checkpoint tuned in {paper.trained_in} is benchmarked "
                       "(pipeline.benchmarks.models)")
            why = why or "no run of this benchmark in this experiment"
        elif not ours:
            why = f"the {paper.benchmark} runs reported no {paper.score!r} score"
        mean, std = _mean_std(ours) if ours else (None, None)
        text = _fmt(mean, std)
        if len(ours) == 1 and paper.score in chosen[0].errors:
            text = f"{mean:.3g} ± {chosen[0].errors[paper.score]:.2g} (SE)"
        diff = None if mean is None or paper.value is None else mean - paper.value
        rows.append({
            "table": paper.table, "row": paper.row,
            "model (paper)": "base" if paper.trained_in is None
            else f"tuned in {paper.trained_in}",
            "paper": paper.text, "ours": text,
            "difference": "—" if diff is None else f"{diff:+.3g}",
            "ours: model": ", ".join(sorted({r.model for r in chosen})) if ours else "—",
            "ours: env steps": ", ".join(sorted({f"{r.env_steps:,}" for r in chosen
                                                 if r.env_steps is not None})) or "—",
            "ours: seeds": ", ".join(str(r.seed) for r in chosen if r.seed is not None)
            or "—",
            "note": why or "; ".join(filter(None, [_benchmark_note(chosen),
                                                   caveats.get(paper.benchmark)])),
            "ours_value": mean, "ours_std": std, "paper_value": paper.value,
        })
    return rows


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


def benchmark_metrics(results: list[BenchmarkResult]) -> dict[str, Any]:
    """What `dvc metrics show/diff` reads for the benchmarks: benchmark -> BALROG agent (or
    `run` for lmms-eval) -> model -> headline scores; a model is `base` or `<world>/seed<N>`."""
    out: dict[str, Any] = {}
    for r in results:
        who = "base" if r.trained_in is None else f"{r.trained_in}/seed{r.seed}"
        out.setdefault(r.benchmark, {}).setdefault(r.variant or "run", {})[who] = dict(r.scores)
    return finite(out)
