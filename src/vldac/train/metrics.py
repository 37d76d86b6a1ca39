"""Metric logging: one JSON line per update, mirrored to dvclive.

Names are namespaced and defined here once: ``rollout/`` (what the agent did), ``loss/``
(the objective's terms), ``policy/`` (optimisation health), ``time/`` (throughput).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROLLOUT = ("success_rate", "episode_return", "episode_length", "parse_failure_rate",
           "invalid_action_rate", "response_tokens", "episodes", "worker_restarts")
LOSS = ("total", "policy", "value", "kl")
POLICY = ("clip_fraction", "approx_kl", "kl_ref", "ratio_mean", "ratio_max",
          "value_clip_fraction", "explained_variance", "entropy", "grad_norm", "lr",
          "frozen", "advantage_std", "value_mean", "return_mean")


class MetricsLogger:
    """Appends ``{"update": k, "env_steps": s, name: value, ...}`` to ``metrics.jsonl``."""

    def __init__(self, out_dir: Path, history: list[dict[str, Any]], use_dvclive: bool,
                 resume: bool):
        self.path = out_dir / "metrics.jsonl"
        self.history = history
        # Rewrite from the checkpointed history: lines a killed run wrote after its last
        # checkpoint are dropped, so the file matches the run that continues.
        self.path.write_text("".join(json.dumps(r) + "\n" for r in history))
        self.live = None
        if use_dvclive:
            self.live = _open_live(out_dir / "dvclive", resume)

    def log(self, record: dict[str, Any]) -> None:
        self.history.append(record)
        with self.path.open("a") as f:
            f.write(json.dumps(record) + "\n")
        if self.live is not None:
            self.live.step = record["update"]
            for key, value in record.items():
                if "/" in key and isinstance(value, (int, float)) and value == value:
                    self.live.log_metric(key, value)
            self.live.next_step()

    def close(self) -> None:
        if self.live is not None:
            self.live.end()


def _open_live(directory: Path, resume: bool):
    """A dvclive logger that never runs ``dvc init`` in the user's git repository.

    dvclive initialises a DVC repo at the git root when none exists; a training run must
    not change the user's repository, so outside a DVC repo it logs without one.
    """
    import dvclive.live as live_module
    from dvc.exceptions import NotDvcRepoError
    from dvc.repo import Repo
    from dvc.scm import SCMError

    def existing_repo_only():
        try:
            return Repo()
        except (NotDvcRepoError, SCMError):
            return None

    original = live_module.get_dvc_repo
    live_module.get_dvc_repo = existing_repo_only
    try:
        return live_module.Live(dir=str(directory), resume=resume, save_dvc_exp=False,
                                dvcyaml=None, report=None)
    finally:
        live_module.get_dvc_repo = original
