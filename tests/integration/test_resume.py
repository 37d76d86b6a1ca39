"""Kill a training process mid-run, resume it, and get bit-identical weights and metrics."""

import json
import os
import signal
import subprocess
import sys
import time

import torch
import yaml


def write_config(tmp_path, name):
    cfg = {
        "seed": 3,
        "output_dir": str(tmp_path / name),
        "model": {"path": "tiny:qwen2_vl", "value_head": [32],
                  "lora": {"r": 4, "alpha": 8, "dropout": 0.1}},
        # NumberLine episodes last up to 10 steps and a rollout holds 3 per env, so envs are
        # mid-episode at every checkpoint and must be replayed on resume.
        "env": {"name": "gym_cards/NumberLine-v0", "num_envs": 4, "num_workers": 2},
        "rollout": {"steps_per_env": 3, "max_new_tokens": 6},
        "algo": {"warmup_updates": 1},
        "train": {"total_env_steps": 72, "lr": 1e-2, "end_lr": 1e-3, "mini_batch_size": 3,
                  "grad_accum_steps": 2, "checkpoint_every": 2},
        "log": {"dvclive": True, "progress": False},
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def vldac(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "vldac.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=os.environ.copy(), **kw)


def final_state(run_dir):
    state = torch.load(run_dir / "checkpoints" / "update_000006" / "trainer_state.pt",
                       weights_only=False)
    return state["trainable"], state["history"]


def test_kill_and_resume_is_bit_identical(tmp_path):
    straight = vldac("train", "--config", str(write_config(tmp_path, "straight")))
    out, _ = straight.communicate(timeout=600)
    assert straight.returncode == 0, out

    cfg = write_config(tmp_path, "killed")
    run = tmp_path / "killed"
    proc = vldac("train", "--config", str(cfg))
    deadline = time.time() + 600
    while not (run / "checkpoints" / "update_000002").exists():
        assert proc.poll() is None and time.time() < deadline, proc.communicate()[0]
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (run / "checkpoints" / "update_000006").exists()  # really killed mid-run

    resumed = vldac("train", "--config", str(cfg), "--resume")
    out, _ = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, out

    weights_a, history_a = final_state(tmp_path / "straight")
    weights_b, history_b = final_state(run)
    assert weights_a.keys() == weights_b.keys()
    for name in weights_a:
        assert torch.equal(weights_a[name], weights_b[name]), name

    def strip_time(history):
        return [{k: v for k, v in r.items() if not k.startswith("time/")} for r in history]

    assert strip_time(history_a) == strip_time(history_b)
    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["update"] for x in lines] == list(range(1, 7))
