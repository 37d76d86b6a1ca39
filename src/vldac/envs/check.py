"""Health check of one simulator: ``vldac env check NAME``.

Resets the env, takes random steps, then plays scripted-expert episodes with
``env.expert_action()``, and measures steps per second for both. The simulator works end to
end when the expert wins at least one episode: that exercises reset, rendering, action
parsing, the rules and the ``success`` flag together (the DAG's simulator stage calls this
before any training job uses the env).

Random answers come from the env's closed ``actions`` list when it has one. An env with an
open action set may offer the optional hook ``admissible_actions() -> list[str]`` (the
commands legal in the current state); otherwise the random policy answers with a few words
picked from the current prompt, which is random text the parser has a chance to accept.

Writes, under the output folder, one observation as a PNG with its prompt text beside it and
a JSON result (env, steps/s, success, image path, versions). Imports no torch or transformers.
"""

from __future__ import annotations

import json
import math
import os
import platform
import random
import re
import time
import traceback
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from vldac.envs.base import Env, Observation
from vldac.envs.registry import make

__all__ = ["CheckResult", "PhaseResult", "check_env", "format_table", "parse_env_kwargs"]

# Guards an expert that never ends an episode (an env without a time limit of its own).
MAX_EXPERT_STEPS = 1000
_WORD = re.compile(r"[A-Za-z0-9_+\-*/=]+")


@dataclass
class PhaseResult:
    """One policy's run: steps taken, episodes finished and won, wall time of env calls."""

    policy: str
    steps: int = 0
    episodes: int = 0
    successes: int = 0
    seconds: float = 0.0

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.seconds if self.seconds > 0 else float("nan")

    @property
    def success_rate(self) -> float:
        return self.successes / self.episodes if self.episodes else float("nan")


@dataclass
class CheckResult:
    """The outcome of a health check; ``passed`` is what the exit status reports."""

    env: str
    seed: int
    kwargs: dict[str, Any]
    random: PhaseResult
    expert: PhaseResult
    image: str | None = None
    prompt: str | None = None
    result_file: str | None = None
    error: str | None = None
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.error is None and self.expert.successes > 0

    def reason(self) -> str:
        """One sentence saying why the check failed ('' when it passed)."""
        if self.error is not None:
            return f"env {self.env!r} crashed during the check: {self.error.splitlines()[-1]}"
        if not self.passed:
            return (f"the scripted expert won none of its {self.expert.episodes} episode(s) of "
                    f"{self.env!r} (seed {self.seed}); the simulator or its expert is broken.")
        return ""

    def to_json(self) -> dict[str, Any]:
        """The result file's content: plain JSON types, rates included."""
        data = asdict(self)
        for phase in ("random", "expert"):
            part = getattr(self, phase)
            # null, not NaN (invalid JSON), when no episode ended or no time was measured
            data[phase].update(steps_per_s=_finite(part.steps_per_s),
                               success_rate=_finite(part.success_rate))
        data["passed"] = self.passed
        return data


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def parse_env_kwargs(pairs: list[str]) -> dict[str, Any]:
    """``["size=64", "noise=false"]`` -> ``{"size": 64, "noise": False}`` (YAML scalars)."""
    import yaml

    kwargs = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not (key and sep):
            raise ValueError(f"--set takes key=value, got {pair!r}.")
        kwargs[key.strip()] = yaml.safe_load(value) if value.strip() else ""
    return kwargs


def _random_answer(env: Env, obs: Observation, rng: random.Random) -> str:
    """A random answer in the requested JSON format (see the module docstring)."""
    choices = list(env.actions or [])
    hook = getattr(env, "admissible_actions", None)
    if not choices and callable(hook):
        choices = list(hook())
    if choices:
        action = rng.choice(choices)
    else:
        words = _WORD.findall(obs.text) or ["look"]
        action = " ".join(rng.choice(words) for _ in range(rng.randint(1, 3)))
    return json.dumps({"thoughts": "random health-check policy", "action": action})


def _run_random(env: Env, steps: int, seed: int) -> PhaseResult:
    phase, rng = PhaseResult("random"), random.Random(seed)
    start = time.perf_counter()
    obs = env.reset(seed)
    for _ in range(steps):
        result = env.step(_random_answer(env, obs, rng))
        phase.steps += 1
        obs = result.observation
        if result.terminated or result.truncated:
            phase.episodes += 1
            phase.successes += bool(result.info.get("success"))
            obs = env.reset(seed + phase.episodes)
    phase.seconds = time.perf_counter() - start
    return phase


def _run_expert(env: Env, episodes: int, seed: int) -> PhaseResult:
    phase = PhaseResult("expert")
    start = time.perf_counter()
    for episode in range(episodes):
        env.reset(seed + episode)
        for _ in range(MAX_EXPERT_STEPS):
            answer = json.dumps({"thoughts": "scripted expert", "action": env.expert_action()})
            result = env.step(answer)
            phase.steps += 1
            if result.terminated or result.truncated:
                break
        phase.episodes += 1
        phase.successes += bool(result.info.get("success"))
    phase.seconds = time.perf_counter() - start
    return phase


def _save_observation(obs: Observation, out: Path, stem: str) -> tuple[str | None, str]:
    """Write the first frame as PNG and the prompt as text; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    prompt = out / f"{stem}.txt"
    prompt.write_text(obs.text + "\n", encoding="utf-8")
    if not obs.images:
        return None, str(prompt)
    image = out / f"{stem}.png"
    obs.images[0].convert("RGB").save(image)
    return str(image), str(prompt)


def _versions(env_module: str) -> dict[str, str]:
    """Python, platform and the installed versions of vldac and of what the env imports."""
    versions = {"python": platform.python_version(), "platform": platform.platform()}
    names = {"vldac", "pillow", "numpy"}
    try:  # the requirements of vldac's extras, so every simulator's pins are recorded
        names |= {re.split(r"[\s;<>=!~\[]", req, maxsplit=1)[0].lower()
                  for req in metadata.requires("vldac") or [] if "extra ==" in req}
    except metadata.PackageNotFoundError:
        pass
    for name in sorted(names - {"pytest", "pytest-timeout", "ruff"}):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    versions["env_module"] = env_module
    # Set by the container images (containers/), so a result names the image it came from.
    for key in ("VLDAC_IMAGE", "VLDAC_COMMIT"):
        if os.environ.get(key):
            versions[key.lower()] = os.environ[key]
    return versions


def check_env(name: str, *, steps: int = 200, expert_episodes: int = 5, seed: int = 0,
              out: str | Path = "env-check", **kwargs: Any) -> CheckResult:
    """Run the health check of env ``name`` made with ``kwargs``; write its files under ``out``.

    Raises what ``make`` raises for a usage error (ValueError for an unknown env or argument,
    ImportError naming the extra to install); any other failure, in the env's constructor
    (e.g. no OpenGL context) or while it runs, is caught and reported in
    ``CheckResult.error``, so that the result file is still written.
    """
    if steps < 0 or expert_episodes < 1:
        raise ValueError("--steps must be >= 0 and --expert-episodes >= 1.")
    out = Path(out)
    stem = f"{name.replace('/', '_')}-seed{seed}"
    result = CheckResult(name, seed, kwargs, PhaseResult("random"), PhaseResult("expert"))
    env = None
    try:
        env = make(name, **kwargs)
        result.image, result.prompt = _save_observation(env.reset(seed), out, stem)
        result.random = _run_random(env, steps, seed)
        result.expert = _run_expert(env, expert_episodes, seed)
    except (ImportError, ValueError):
        if env is None:  # the env could not be made: a usage error, no result to record
            raise
        result.error = traceback.format_exc()
    except Exception:  # a simulator crash (even in its constructor) is a check result
        result.error = traceback.format_exc()
    finally:
        if env is not None:
            env.close()
    result.versions = _versions(type(env).__module__ if env is not None else "")
    out.mkdir(parents=True, exist_ok=True)
    result.result_file = str(out / f"{stem}.json")
    Path(result.result_file).write_text(json.dumps(result.to_json(), indent=2) + "\n")
    return result


def format_table(result: CheckResult) -> str:
    """A small aligned table of both phases, for the terminal."""
    rows = [("policy", "steps", "episodes", "success", "steps/s")]
    for phase in (result.random, result.expert):
        rate = f"{phase.success_rate:.2f}" if phase.episodes else "-"
        rows.append((phase.policy, str(phase.steps), str(phase.episodes), rate,
                     f"{phase.steps_per_s:.1f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [f"env {result.env} (seed {result.seed})"]
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells))
    lines.append(f"observation: {result.image or '(no image)'}; prompt: {result.prompt}")
    lines.append(f"result:      {result.result_file}")
    return "\n".join(lines)
