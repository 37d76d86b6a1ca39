"""The experiment definition: typed, validated, one source of hyperparameters.

Defaults are the paper's Table 6 (EZPoints column where environments differ). A run is
configured in layers, later wins:

    dataclass defaults (paper)  <  --config FILE  <  --preset NAME ...  <  --set key=value

Presets are partial configs shipped in ``vldac/presets/``: ``official`` (the released
YAML values, for comparison), ``demo`` (a tiny offline model for a laptop run). Every key
and value is checked before anything starts; a mistake is reported in one sentence that
names the key and what is allowed.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml


class ConfigError(ValueError):
    """A config key or value that cannot be used; the message says how to fix it."""


@dataclass
class LoraConfig:
    r: int = 16
    """LoRA rank (paper code: 16)."""
    alpha: int = 32
    """LoRA scaling alpha (paper code: 32)."""
    dropout: float = 0.1
    """LoRA dropout, active during updates only (rollouts run in eval mode) (paper: 0.1).
    On CPU, p is rounded to a multiple of 2^-16 (:mod:`vldac.models.dropout`)."""
    targets: list[str] = field(default_factory=lambda: [
        "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    """Short names of the language-model linear layers that get adapters (vision tower never)."""


@dataclass
class ModelConfig:
    path: str = "Qwen/Qwen2-VL-7B-Instruct"
    """Hub id, local folder, or ``tiny:<family>`` (a tiny random model built offline)."""
    lora: LoraConfig = field(default_factory=LoraConfig)
    value_head: list[int] = field(default_factory=lambda: [3072, 2048])
    """Hidden sizes of the value MLP on the last prompt token's hidden state (paper: 3072, 2048)."""
    dtype: Literal["auto", "float32", "bfloat16"] = "auto"
    """auto = float32 on CPU, bfloat16 on GPU."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    attn_implementation: Literal["auto", "eager", "sdpa", "flash_attention_2"] = "auto"
    min_pixels: int | None = None
    """Image-processor pixel bounds (Qwen families); None keeps the checkpoint's own."""
    max_pixels: int | None = None
    logprob_chunk: int = 1024
    """Tokens per chunk when gathering log-probs, to avoid a full-vocabulary log-softmax."""


@dataclass
class EnvConfig:
    name: str = "gym_cards/EZPoints-v0"
    """A registered environment (``vldac envs`` lists them)."""
    num_envs: int = 8
    """Environments stepped in parallel; their prompts share one generate call."""
    num_workers: int = 2
    """Worker processes hosting the environments (0 = step them in the trainer process)."""
    history: int = 1
    """K: frames of the last K steps shown to the model (paper: 4 MiniWorld, 1 EZPoints)."""
    max_episode_steps: int | None = None
    """Time limit overriding the env's own (None keeps it)."""
    kwargs: dict[str, Any] = field(default_factory=dict)
    """Extra constructor arguments of the environment (e.g. invalid_action)."""

    def constructor_kwargs(self) -> dict[str, Any]:
        """The arguments the env is built with: ``kwargs`` plus the time-limit override."""
        kwargs = dict(self.kwargs)
        if self.max_episode_steps is not None:
            kwargs["max_episode_steps"] = self.max_episode_steps
        return kwargs


@dataclass
class RolloutConfig:
    steps_per_env: int = 32
    """Environment steps per env per update; an update sees num_envs * steps_per_env steps."""
    max_new_tokens: int = 128
    temperature: float = 1.0
    """Sampling temperature; old, new and reference log-probs are all taken at it."""
    do_sample: bool = True
    """False = greedy decoding (the official code's behaviour)."""


@dataclass
class AlgoConfig:
    name: Literal["vldac", "rl4vlm", "loop"] = "vldac"
    """The algorithm: vldac (the paper's method) or one of the paper's baselines, rl4vlm
    (sequence-level PPO: one ratio per step, thoughts weighted by thought_weight) or loop
    (leave-one-out PPO without a critic, over groups of group_size episodes from one start)."""
    thought_weight: float = 0.35
    """rl4vlm: lambda, the weight of the thought tokens' log-probs (paper Table 1: 0.35, 0.5)."""
    group_size: int = 4
    """loop: episodes played from the same start (same seed) per group (not in the paper)."""
    value_stop_grad: bool = True
    """Detach the value head's input (VL-DAC: yes; RL4VLM trains the backbone with it too)."""
    gamma: float = 1.0
    """Discount over environment steps (paper: EZPoints 1; MiniWorld {0.99, 1})."""
    lam: float = 1.0
    """GAE lambda (paper: EZPoints 1; MiniWorld {0.95, 0.99})."""
    truncation: Literal["bootstrap", "zero_advantage"] = "bootstrap"
    """How a time limit is treated; zero_advantage reproduces the official code."""
    clip_eps: float = 0.1
    """PPO ratio clip (official code: 0.1; not in the paper)."""
    value_clip_eps: float | None = 0.1
    """Clip of the value update around V_old (None = no clipping)."""
    kl_coef: float = 0.05
    """beta, weight of the per-token k3 KL to the base model (paper: 0.05)."""
    value_coef: float = 0.15
    """alpha, weight of the value loss (paper: 0.15)."""
    entropy_coef: float = 0.0
    """Optional entropy bonus (paper: none)."""
    normalize_advantages: bool = True
    warmup_updates: int = 2
    """Value warm-up: updates during which only the value head learns (paper: 2)."""


@dataclass
class TrainConfig:
    total_env_steps: int = 51_200
    lr: float = 5e-5
    end_lr: float = 1e-7
    """Cosine decay from lr to end_lr over every optimiser step of the run."""
    ppo_epochs: int = 2
    mini_batch_size: int = 1
    """Samples per forward/backward (they are padded and batched)."""
    grad_accum_steps: int = 128
    """Mini-batches accumulated per optimiser step (paper: 128 with mini-batch 1)."""
    max_grad_norm: float | None = 1.0
    """Global gradient-norm clip (None = off)."""
    adam_eps: float = 1e-7
    weight_decay: float = 0.0
    checkpoint_every: int = 10
    """Updates between checkpoints (the last update always checkpoints)."""
    eval_episodes: int = 50
    """Window of recent training episodes behind rollout/success_rate (paper: 50)."""


@dataclass
class LogConfig:
    dvclive: bool = True
    progress: bool = True


@dataclass
class Config:
    seed: int = 0
    output_dir: str = "runs/default"
    model: ModelConfig = field(default_factory=ModelConfig)
    env: EnvConfig = field(default_factory=EnvConfig)
    rollout: RolloutConfig = field(default_factory=RolloutConfig)
    algo: AlgoConfig = field(default_factory=AlgoConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    log: LogConfig = field(default_factory=LogConfig)

    # -- derived quantities -------------------------------------------------------------
    @property
    def steps_per_update(self) -> int:
        return self.env.num_envs * self.rollout.steps_per_env

    @property
    def num_updates(self) -> int:
        return max(1, -(-self.train.total_env_steps // self.steps_per_update))

    @property
    def optimizer_steps_per_update(self) -> int:
        per_step = self.train.mini_batch_size * self.train.grad_accum_steps
        return self.train.ppo_epochs * max(1, -(-self.steps_per_update // per_step))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# ---------------------------------------------------------------------------------------
# Building and validating
# ---------------------------------------------------------------------------------------

_POSITIVE = {"env.num_envs", "env.history", "rollout.steps_per_env", "rollout.max_new_tokens",
             "train.total_env_steps", "train.ppo_epochs", "train.mini_batch_size",
             "train.grad_accum_steps", "train.checkpoint_every", "train.eval_episodes",
             "model.lora.r", "model.lora.alpha", "model.logprob_chunk", "algo.group_size"}
_UNIT_INTERVAL = {"algo.gamma", "algo.lam"}


def _check_type(path: str, value: Any, annotation: Any) -> Any:
    """Return ``value`` coerced to ``annotation`` or raise ConfigError naming ``path``."""
    origin = typing.get_origin(annotation)
    if origin is Literal:
        allowed = typing.get_args(annotation)
        if value not in allowed:
            raise ConfigError(f"{path} must be one of {', '.join(map(str, allowed))}; got {value!r}.")
        return value
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        if value is None and type(None) in args:
            return None
        for arg in (a for a in args if a is not type(None)):
            try:
                return _check_type(path, value, arg)
            except ConfigError:
                continue
        names = " or ".join("null" if a is type(None) else getattr(a, "__name__", str(a))
                            for a in args)
        raise ConfigError(f"{path} must be {names}; got {value!r}.")
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{path} must be a list; got {value!r}.")
        (item,) = typing.get_args(annotation)
        return [_check_type(f"{path}[{i}]", v, item) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{path} must be a mapping; got {value!r}.")
        return dict(value)
    if annotation is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{path} must be true or false; got {value!r}.")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{path} must be an integer; got {value!r}.")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{path} must be a number; got {value!r}.")
        return float(value)
    if annotation is str:
        if not isinstance(value, str):
            raise ConfigError(f"{path} must be a string; got {value!r}.")
        return value
    raise TypeError(f"unsupported annotation {annotation} at {path}")


def _build(cls: type, data: dict[str, Any], prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in names:
            where = f"{prefix}{key}"
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f" (did you mean {prefix}{close[0]}?)" if close else ""
            raise ConfigError(f"unknown config key {where}{hint}; allowed keys here: "
                              f"{', '.join(prefix + n for n in names)}.")
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        value, annotation, path = data[f.name], hints[f.name], f"{prefix}{f.name}"
        if dataclasses.is_dataclass(annotation):
            if not isinstance(value, dict):
                raise ConfigError(f"{path} must be a mapping of its keys; got {value!r}.")
            kwargs[f.name] = _build(annotation, value, f"{path}.")
        else:
            kwargs[f.name] = _check_type(path, value, annotation)
    return cls(**kwargs)


def _validate_ranges(cfg: Config) -> None:
    flat = _flatten(cfg.to_dict())
    for key in _POSITIVE:
        if flat[key] < 1:
            raise ConfigError(f"{key} must be a positive integer; got {flat[key]!r}.")
    for key in _UNIT_INTERVAL:
        if not 0.0 <= flat[key] <= 1.0:
            raise ConfigError(f"{key} must lie in [0, 1]; got {flat[key]!r}.")
    checks = [
        ("rollout.temperature", flat["rollout.temperature"] > 0, "a positive number"),
        ("algo.clip_eps", 0 < flat["algo.clip_eps"] < 1, "a number in (0, 1)"),
        ("model.lora.dropout", 0 <= flat["model.lora.dropout"] < 1, "a number in [0, 1)"),
        ("train.lr", flat["train.lr"] > 0, "a positive number"),
        ("train.end_lr", 0 <= flat["train.end_lr"] <= flat["train.lr"], "a number in [0, train.lr]"),
        ("algo.warmup_updates", flat["algo.warmup_updates"] >= 0, "a non-negative integer"),
        ("algo.thought_weight", flat["algo.thought_weight"] >= 0, "a non-negative number"),
        ("algo.group_size", flat["algo.group_size"] >= 2 or flat["algo.name"] != "loop",
         "at least 2 for algo.name loop (episodes compared within a group)"),
        ("env.num_workers", flat["env.num_workers"] >= 0, "a non-negative integer"),
    ]
    for key, ok, allowed in checks:
        if not ok:
            raise ConfigError(f"{key} must be {allowed}; got {flat[key]!r}.")
    if cfg.algo.name == "loop" and cfg.algo.warmup_updates:
        raise ConfigError(f"algo.warmup_updates must be 0 for algo.name loop (it has no critic "
                          f"to warm up); got {cfg.algo.warmup_updates}.")
    if cfg.algo.name == "loop" and cfg.env.num_envs % cfg.algo.group_size:
        raise ConfigError(f"env.num_envs must be a multiple of algo.group_size "
                          f"({cfg.algo.group_size}) for algo.name loop; got {cfg.env.num_envs}.")
    if cfg.env.num_workers > cfg.env.num_envs:
        raise ConfigError(f"env.num_workers must be at most env.num_envs ({cfg.env.num_envs}); "
                          f"got {cfg.env.num_workers}.")
    from vldac.envs import registered  # light: no simulator is imported

    if cfg.env.name not in registered():
        raise ConfigError(f"env.name must be one of {', '.join(registered())}; got {cfg.env.name!r}.")


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict) and k != "kwargs":
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(merged.get(k), dict) and k != "kwargs":
            merged[k] = _deep_merge(merged[k], v)
        else:
            merged[k] = v
    return merged


def presets() -> list[str]:
    return sorted(p.name[:-5] for p in resources.files("vldac.presets").iterdir()
                  if p.name.endswith(".yaml"))


def _read_yaml(text: str, origin: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{origin} is not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{origin} must hold a mapping of config keys at its top level.")
    return data


def parse_override(item: str) -> dict[str, Any]:
    """``a.b.c=value`` -> {"a": {"b": {"c": value}}}, value parsed as YAML."""
    if "=" not in item:
        raise ConfigError(f"--set expects key=value (e.g. train.lr=1e-5); got {item!r}.")
    key, raw = item.split("=", 1)
    value = yaml.safe_load(raw) if raw.strip() else ""
    for part in reversed(key.strip().split(".")):
        value = {part: value}
    return value


PIPELINE_SECTION = "pipeline"


def load_config(path: str | Path | None = None, presets_: list[str] | None = None,
                overrides: list[str] | None = None) -> Config:
    """Build the validated Config from a file, presets and ``key=value`` overrides."""
    data: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist.")
        data = _read_yaml(path.read_text(), str(path))
        # The experiment file's `pipeline:` section (environments, seeds, budgets,
        # benchmarks) belongs to the Snakemake workflow; the learner reads the rest.
        data.pop(PIPELINE_SECTION, None)
    for name in presets_ or []:
        if name not in presets():
            raise ConfigError(f"preset must be one of {', '.join(presets())}; got {name!r}.")
        text = resources.files("vldac.presets").joinpath(f"{name}.yaml").read_text()
        data = _deep_merge(data, _read_yaml(text, f"preset {name}"))
    for item in overrides or []:
        data = _deep_merge(data, parse_override(item))
    return from_dict(data)


def from_dict(data: dict[str, Any]) -> Config:
    cfg = _build(Config, data, "")
    _validate_ranges(cfg)
    return cfg
