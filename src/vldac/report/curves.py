"""Training curves: the CSV DVC plots and the PNG figure of the report (matplotlib, no torch)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

# Columns of a curve file: x first, then the metrics the report and `dvc plots` draw.
CURVE_COLUMNS = {
    "env_steps": "env_steps",
    "update": "update",
    "success_rate": "rollout/success_rate",
    "episode_return": "rollout/episode_return",
    "loss_total": "loss/total",
    "loss_policy": "loss/policy",
    "loss_value": "loss/value",
    "kl_ref": "loss/kl",
    "approx_kl": "policy/approx_kl",
}
# The report figure: one panel per quantity, each with the columns drawn in it.
PANELS = {
    "success rate": ["success_rate"],
    "episode return": ["episode_return"],
    "losses": ["loss_total", "loss_policy", "loss_value"],
    "KL": ["kl_ref", "approx_kl"],
}


def read_history(path: str | Path) -> list[dict[str, Any]]:
    """The learner's metrics.jsonl as a list of per-update records."""
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def curve_rows(history: list[dict[str, Any]]) -> list[dict[str, float | None]]:
    """One row per update with the curve columns (None where a metric was not logged)."""
    rows = []
    for record in history:
        row = {}
        for column, key in CURVE_COLUMNS.items():
            value = record.get(key)
            ok = isinstance(value, (int, float)) and math.isfinite(value)
            row[column] = value if ok else None
        rows.append(row)
    return rows


def write_curve_csv(history: list[dict[str, Any]], path: str | Path) -> None:
    """Write the curve of one run as CSV (the file `dvc plots` reads)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(CURVE_COLUMNS))
        writer.writeheader()
        for row in curve_rows(history):
            writer.writerow({k: "" if v is None else v for k, v in row.items()})


def plot_curves(histories: dict[str, list[dict[str, Any]]], title: str,
                path: str | Path) -> None:
    """One PNG with a panel per quantity (success, return, losses, KL), a line per run.

    ``histories`` maps a run label (e.g. ``seed0``) to its metrics.jsonl records.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    for ax, (panel, columns) in zip(axes.flat, PANELS.items(), strict=True):
        for label, history in histories.items():
            rows = curve_rows(history)
            for column in columns:
                points = [(r["env_steps"], r[column]) for r in rows if r[column] is not None]
                if not points:
                    continue
                xs, ys = zip(*points, strict=True)
                name = label if len(columns) == 1 else f"{label} {column}"
                ax.plot(xs, ys, marker="o" if len(xs) < 20 else None, ms=3, label=name)
        ax.set_title(panel)
        ax.set_xlabel("env steps")
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
