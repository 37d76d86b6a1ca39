"""Data-parallel training over 2 CPU processes (gloo): the summed group gradient equals the
single-process one on the union of the samples; a 2-rank `vldac train` under torchrun
writes one run folder with identical weights on both ranks; kill-and-resume is
bit-identical; a resume with another number of processes is refused."""

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import yaml

from vldac.config import from_dict
from vldac.models import load_policy
from vldac.models.loading import resolve_model_path
from vldac.rollout import EnvSpec, RolloutCollector, VectorEnv
from vldac.rollout.buffer import Rollout
from vldac.train import distributed
from vldac.train.loop import seed_everything
from vldac.train.update import SINGLE, compute_advantages, ppo_update

pytestmark = pytest.mark.skipif(not (dist.is_available() and dist.is_gloo_available()),
                                reason="torch.distributed with the gloo backend is not built in "
                                       "this torch")

REFUSAL = "resume with the same number"


# -- 1. one accumulation group over 2 ranks == one process on the union --------------------------
def env_columns(rollout: Rollout, cols: list[int]) -> Rollout:
    """The rollout of envs ``cols`` only (what a rank holding those envs would collect)."""
    T, N = rollout.shape
    pick = lambda x: x[:, cols].clone()  # noqa: E731
    return Rollout([rollout.samples[t * N + n] for t in range(T) for n in cols],
                   pick(rollout.rewards), pick(rollout.values), pick(rollout.terminated),
                   pick(rollout.truncated), pick(rollout.valid), pick(rollout.bootstrap_values))


class GradRecorder:
    """Stands in for the optimiser: keeps the (summed, clipped) gradients of every step."""

    def __init__(self, policy):
        self.named = [(n, p) for n, p in policy.named_parameters() if p.requires_grad]
        self.steps: list[dict] = []

    def zero_grad(self, set_to_none=True):
        for _, p in self.named:
            p.grad = None

    def step(self):
        self.steps.append({n: None if p.grad is None else p.grad.clone() for n, p in self.named})


class CountSteps:
    steps = 0

    def step(self):
        self.steps += 1


def group_gradient(policy, rollout, cfg, train, world):
    recorder = GradRecorder(policy)
    ppo_update(policy, recorder, CountSteps(), rollout, cfg.algo, train,
               cfg.rollout.temperature, policy_frozen=False, world=world)
    assert len(recorder.steps) == 1, "the test wants exactly one accumulation group"
    return recorder.steps[0]


def assert_same_gradients(got, want):
    assert got.keys() == want.keys()
    for name in want:
        assert (got[name] is None) == (want[name] is None), name
        if want[name] is not None:
            torch.testing.assert_close(got[name], want[name], rtol=1e-4, atol=1e-7, msg=name)


def _grad_worker(rank: int, world_size: int, port: int, cfg_dict: dict) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world_size), LOCAL_RANK=str(rank),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    world = distributed.setup("cpu")
    assert world.distributed and world.rank == rank
    try:
        cfg = from_dict(cfg_dict)
        seed_everything(cfg.seed)
        policy = load_policy(cfg.model, seed=cfg.seed)
        distributed.assert_identical(policy.trainable_parameters(), world, "after loading")
        # Both ranks collect the same rollout of 4 envs x 2 steps (same seeds, same
        # streams); rank r then keeps envs 2r, 2r+1 of it.
        spec = EnvSpec(cfg.env.name, cfg.env.constructor_kwargs())
        with VectorEnv(spec, cfg.env.num_envs, 0) as envs:
            collector = RolloutCollector(
                policy, envs, seed=cfg.seed, history=cfg.env.history,
                max_new_tokens=cfg.rollout.max_new_tokens, temperature=cfg.rollout.temperature,
                do_sample=cfg.rollout.do_sample, stats_window=10)
            full, _ = collector.collect(2)
        cols = [2 * rank, 2 * rank + 1]
        one_group = dataclasses.replace(cfg.train, ppo_epochs=1, mini_batch_size=4,
                                        grad_accum_steps=2, max_grad_norm=None)  # 8 >= all
        per_rank = dataclasses.replace(one_group, mini_batch_size=2)  # 4 per rank, 8 in all

        # (a) uneven ranks: one step of env 1 is lost (3 valid steps on rank 0, 4 on rank 1)
        # (b) rank 1 has no valid step at all: it must still join every collective
        for lost in ([(1, 1)], [(0, 2), (1, 2), (0, 3), (1, 3)]):
            for t, n in lost:
                full.valid[t, n] = False
            mine = env_columns(full, cols)
            compute_advantages(full, cfg.algo, SINGLE)
            stats = compute_advantages(mine, cfg.algo, world)
            torch.testing.assert_close(mine.advantages, full.advantages[:, cols],
                                       rtol=1e-5, atol=1e-6)
            torch.testing.assert_close(mine.returns, full.returns[:, cols])
            assert stats["advantage_std"] > 0
            want = group_gradient(policy, full, cfg, one_group, SINGLE)
            got = group_gradient(policy, mine, cfg, per_rank, world)
            assert_same_gradients(got, want)

        # (c) several groups per epoch, uneven (3 vs 1 valid steps): both ranks take the
        # same number of Adam steps and end with bit-identical weights.
        full.valid[:] = True
        full.valid[1, 1] = full.valid[:, 2] = False
        full.valid[1, 3] = False
        mine = env_columns(full, cols)
        compute_advantages(mine, cfg.algo, world)
        optimizer = torch.optim.Adam(policy.trainable_parameters(), lr=1e-2)
        schedule = CountSteps()
        small = dataclasses.replace(cfg.train, ppo_epochs=2, mini_batch_size=1,
                                    grad_accum_steps=1)
        metrics = ppo_update(policy, optimizer, schedule, mine, cfg.algo, small,
                             cfg.rollout.temperature, policy_frozen=False, world=world)
        assert schedule.steps == 2 * 3, schedule.steps  # max over ranks: 3 groups per epoch
        digests = world.all_gather_object(
            distributed.weights_digest(policy.trainable_parameters()))
        assert len(set(digests)) == 1, digests
        assert world.all_gather_object(metrics)[0] == world.all_gather_object(metrics)[1]
    finally:
        distributed.destroy(world)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_group_gradient_summed_over_two_ranks_equals_the_union(make_config):
    cfg = make_config(model={"lora": {"r": 4, "alpha": 8, "dropout": 0.0}},
                      env={"num_envs": 4, "num_workers": 0})
    resolve_model_path(cfg.model.path)  # build the tiny model once, before the ranks start
    torch.multiprocessing.spawn(_grad_worker, args=(2, free_port(), cfg.to_dict()), nprocs=2,
                                join=True)


# -- 2-4. `vldac train` under torchrun -------------------------------------------------------------
def write_config(config_factory, tmp: Path, name: str) -> Path:
    """2 envs per rank x 3 steps, 4 updates of 2 ranks; NumberLine episodes outlast a
    rollout, so envs are mid-episode at every checkpoint and are replayed on resume."""
    cfg = config_factory(tmp, output_dir=str(tmp / name),
                         model={"lora": {"r": 4, "alpha": 8, "dropout": 0.1}},
                         env={"num_envs": 2, "num_workers": 0},
                         train={"total_env_steps": 48, "mini_batch_size": 2,
                                "grad_accum_steps": 2, "checkpoint_every": 1})
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg.to_dict()))
    return path


def torchrun(*args: str, nproc: int = 2) -> subprocess.Popen:
    return subprocess.Popen(distributed.launch_command(nproc, list(args)),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=os.environ.copy())


def trainer_state(run: Path, update: int) -> dict:
    return torch.load(run / "checkpoints" / f"update_{update:06d}" / "trainer_state.pt",
                      weights_only=False)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (torchrun starts its workers in sessions of their own)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        kids = [p for p, pp in parents.items() if pp in frontier]
        found += kids
        frontier = kids
    return found


@pytest.fixture(scope="module")
def two_rank_run(tmp_path_factory, config_factory):
    resolve_model_path("tiny:qwen2_vl")
    tmp = tmp_path_factory.mktemp("ddp")
    cfg = write_config(config_factory, tmp, "straight")
    start = time.perf_counter()
    proc = torchrun("train", "--config", str(cfg))
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out
    return tmp, tmp / "straight", out, time.perf_counter() - start


def test_two_rank_train_writes_one_run_with_identical_weights(two_rank_run):
    _, run, out, _ = two_rank_run
    assert out.count("finished 4 updates, 48 env steps") == 1  # rank 0 alone reports
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["update"] for r in lines] == [1, 2, 3, 4]  # written once, by rank 0
    assert [r["env_steps"] for r in lines] == [12, 24, 36, 48]  # 2 ranks x 2 envs x 3 steps
    assert json.loads((run / "manifest.json").read_text())["world_size"] == 2
    assert json.loads((run / "final_metrics.json").read_text()) == lines[-1]
    assert (run / "checkpoints" / "latest").read_text().strip() == "update_000004"
    state = trainer_state(run, 4)
    assert state["world_size"] == 2 and len(state["ranks"]) == 2
    # both ranks hold bit-identical weights, the ones saved
    saved = distributed.weights_digest(state["trainable"].values())
    assert [r["weights_sha256"] for r in state["ranks"]] == [saved, saved]
    # the ranks played different episodes
    seeds = [{s["seed"] for s in r["collector"]["slots"]} for r in state["ranks"]]
    assert not seeds[0] & seeds[1]
    assert state["collector"] == state["ranks"][0]["collector"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds torchrun's workers "
                    "through /proc (Linux only)")
def test_two_rank_kill_and_resume_is_bit_identical(two_rank_run, config_factory):
    tmp, straight, _, _ = two_rank_run
    cfg = write_config(config_factory, tmp, "killed")
    run = tmp / "killed"
    proc = torchrun("train", "--config", str(cfg))
    deadline = time.time() + 600
    while not (run / "checkpoints" / "update_000001").exists():
        assert proc.poll() is None and time.time() < deadline, proc.communicate()[0]
        time.sleep(0.05)
    for pid in [*descendants(proc.pid), proc.pid]:  # the workers, then torchrun itself
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.communicate()
    assert not (run / "checkpoints" / "update_000004").exists()  # really killed mid-run

    resumed = torchrun("train", "--config", str(cfg), "--resume")
    out, _ = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, out

    a, b = trainer_state(straight, 4), trainer_state(run, 4)
    assert a["trainable"].keys() == b["trainable"].keys()
    for name in a["trainable"]:
        assert torch.equal(a["trainable"][name], b["trainable"][name]), name
    assert [r["collector"] for r in a["ranks"]] == [r["collector"] for r in b["ranks"]]

    def strip_time(history):
        return [{k: v for k, v in r.items() if not k.startswith("time/")} for r in history]

    assert strip_time(a["history"]) == strip_time(b["history"])
    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["update"] for x in lines] == [1, 2, 3, 4]


def test_resume_with_another_world_size_is_refused(two_rank_run, config_factory):
    tmp, straight, _, _ = two_rank_run
    # a 2-process checkpoint, resumed by one process
    alone = torchrun("train", "--config", str(tmp / "straight.yaml"), "--resume", nproc=1)
    out, _ = alone.communicate(timeout=300)
    assert alone.returncode == 2, out
    assert "written by 2 training process(es) and this run has 1; " + REFUSAL in out, out

    # a single-process checkpoint of the format before data parallelism (no world_size),
    # resumed by 2 processes: both ranks refuse, none waits for the other
    old = tmp / "old"
    cfg = write_config(config_factory, tmp, "old")
    subprocess.run(["cp", "-r", str(straight), str(old)], check=True)
    saved = json.loads((old / "config.json").read_text())
    (old / "config.json").write_text(json.dumps({**saved, "output_dir": str(old)}))
    path = old / "checkpoints" / "update_000004" / "trainer_state.pt"
    state = torch.load(path, weights_only=False)
    for key in ("world_size", "ranks"):
        state.pop(key)
    torch.save(state, path)
    both = torchrun("train", "--config", str(cfg), "--resume")
    out, _ = both.communicate(timeout=300)
    assert both.returncode != 0, out
    assert out.count("written by 1 training process(es) and this run has 2; " + REFUSAL) == 2, out
