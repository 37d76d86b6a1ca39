"""Killing the DAG mid-training and running it again: finished runs are not retrained and the
interrupted run continues from its last checkpoint (its run folder is no rule output)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import yaml
from workflow_helpers import copy_repo, env, require_workflow_tools, snakemake

pytestmark = pytest.mark.timeout(3600)

# One world, two seeds, one job at a time: seed A finishes, seed B is killed mid-run.
OVERLAY = {
    "train": {"checkpoint_every": 1},
    "pipeline": {"train_on": ["colormatch"], "benchmarks": {"models": []},
                 "environments": {"colormatch": {"seeds": [0, 1],
                                                 "learner": {"train": {"total_env_steps": 512}}}}},
}
TARGETS = ["results/train/colormatch/seed0/done.json", "results/train/colormatch/seed1/done.json"]


def _history(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_kill_mid_training_then_rerun_keeps_finished_and_interrupted_work(tmp_path):
    require_workflow_tools()
    repo = copy_repo(tmp_path / "repo")
    (repo / "kill.yaml").write_text(yaml.safe_dump(OVERLAY))
    args = [sys.executable, "-m", "snakemake", "--profile", "profiles/small", "--configfile",
            "profiles/small/overlay.yaml", "kill.yaml", "--cores", "2", *TARGETS]
    log = open(tmp_path / "first.log", "w")
    first = subprocess.Popen(args, cwd=repo, env=env(), stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True)
    runs = [repo / "runs" / "colormatch" / f"seed{s}" for s in (0, 1)]
    deadline = time.monotonic() + 2400
    # Wait until one run is done and the other has a checkpoint but is not finished.
    while time.monotonic() < deadline:
        done = [(repo / t).exists() for t in TARGETS]
        started = [(r / "checkpoints" / "latest").exists() for r in runs]
        if sum(done) == 1 and started[done.index(False)]:
            break
        assert first.poll() is None, (tmp_path / "first.log").read_text()[-3000:]
        time.sleep(0.5)
    else:
        pytest.fail("the first run never reached the point to kill it")
    os.killpg(first.pid, signal.SIGKILL)  # the whole DAG: Snakemake and its jobs
    first.wait()
    log.close()

    finished = runs[done.index(True)]
    killed = runs[done.index(False)]
    finished_marker = repo / TARGETS[done.index(True)]
    marker_mtime = finished_marker.stat().st_mtime
    kept = _history(killed)
    checkpoint = (killed / "checkpoints" / "latest").read_text().strip()
    saved_update = int(checkpoint.split("_")[1])
    assert 1 <= saved_update < 8, checkpoint

    snakemake(repo, "--unlock", *args[3:])  # a killed Snakemake leaves its lock behind
    snakemake(repo, *args[3:])
    assert finished_marker.stat().st_mtime == marker_mtime  # not retrained
    log_text = (repo / "results/logs/train/colormatch" / f"{killed.name}.log").read_text()
    assert "resuming" in log_text
    history = _history(killed)
    assert [r["update"] for r in history] == list(range(1, 9))
    # The updates up to the checkpoint are the ones the killed job computed, not a redo.
    assert history[:saved_update] == kept[:saved_update]
    assert _history(finished)[-1]["update"] == 8
