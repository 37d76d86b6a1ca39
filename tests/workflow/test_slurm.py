"""The small DAG through a real single-node SLURM cluster with profiles/slurm.

Starts munge + slurmctld + slurmd on loopback (tests/workflow/slurm/cluster.py; installs the
Debian packages when root and missing) and runs the small DAG's training target for one world
(container record, locally -> simulator check -> train) with `--profile profiles/small --profile
profiles/slurm`. Checks that its jobs went through SLURM: job ids in Snakemake's log, the
same ids in squeue's records with their rule and GPU request, SLURM's per-job log files. Then
a training job is cancelled by the scheduler mid-run and the DAG rerun: it resumes from the
last checkpoint. Opt-in (``pytest -m slurm``): ~11 minutes on 2 busy cores; the profile
check runs by default.

Test-only departures from a real cluster, each for a reason given where it is made: no
apptainer (test_container_rule.py covers containers), status via squeue (no slurmdbd),
containers mode host (no image builds inside jobs), `train:gpu=1` (the tiny model asks for
no GPU; the fake gres GPUs show the GPU path), a shorter training budget.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from slurm.cluster import LocalSlurm, unavailable
from workflow_helpers import copy_repo

pytestmark = pytest.mark.timeout(1200)

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "profiles" / "slurm" / "config.yaml"
TARGET = "results/train/numberline/seed0/done.json"
RUN = Path("runs/numberline/seed0")
UPDATES = 4  # 64 env steps per update in the small profile; checkpoints every 2 updates
# Merged over profiles/small's config files (--config would turn nested numbers to strings).
OVERLAY = {"pipeline": {"containers": {"mode": "host"}, "environments": {"numberline": {
    "learner": {"train": {"total_env_steps": 64 * UPDATES}}}}}}
SUBMITTED = re.compile(r"Job (\d+) has been submitted with SLURM jobid (\d+)")


@pytest.fixture(scope="module")
def cluster(request, tmp_path_factory):
    if "slurm" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("starts a SLURM cluster, ~11 min on 2 busy cores; opt in: pytest -m slurm")
    if reason := unavailable():
        pytest.skip(reason)
    slurm = LocalSlurm(tmp_path_factory.mktemp("slurm"))
    slurm.start()
    yield slurm
    slurm.stop()
    assert slurm.leftover_pids() == [], "SLURM left processes behind"


def test_the_plugin_turns_the_rules_gpu_resource_into_sbatch_gpus():
    # The profile relies on 2.8.0's conventions; a plugin upgrade that changes them fails here.
    utils = pytest.importorskip("snakemake_executor_plugin_slurm.utils")

    class Job:
        def __init__(self, **resources):
            self.resources = type("Resources", (dict,), {"__getattr__": dict.__getitem__})(
                resources)

    assert utils.set_gres_string(Job(gpu=1)) == " --gpus=1"
    assert utils.set_gres_string(Job(gpu=2, gpu_model="a100")) == " --gpus=a100:2"
    assert utils.set_gres_string(Job(gres="gpu:a100:1")) == " --gres=gpu:a100:1"
    assert utils.set_gres_string(Job(gpu=0)) == ""  # CPU-only rules ask for nothing


def test_profile_is_ready_for_a_cluster():
    profile = yaml.safe_load(PROFILE.read_text())
    assert profile["executor"] == "slurm"
    assert profile["rerun-incomplete"] and profile["latency-wait"] >= 30
    assert profile["software-deployment-method"] == ["apptainer"]
    # Placeholders stay comments: an uncommented "<partition>" would break every submission.
    assert "<" not in json.dumps(profile)


def local_profile(tmp_path: Path, **override) -> Path:
    """profiles/slurm with what this toy cluster needs instead of a real one's settings."""
    profile = yaml.safe_load(PROFILE.read_text())
    if not shutil.which("apptainer"):  # not installable here; test_container_rule covers it
        profile.pop("software-deployment-method")
        profile.pop("apptainer-args")
    profile.update({
        "slurm-status-command": "squeue",  # no slurmdbd here (MinJobAge=600 in slurm.conf)
        "slurm-init-seconds-before-status-checks": 1,
        "latency-wait": 5,
        "jobs": 2,
        **override,
    })
    folder = tmp_path / "profile"
    folder.mkdir(exist_ok=True)
    (folder / "config.yaml").write_text(yaml.safe_dump(profile))
    return folder


def snakemake(cluster, workdir: Path, profile: Path) -> subprocess.Popen:
    """Start the small DAG's training target through SLURM; output to workdir/snakemake-N.log."""
    env = cluster.env
    # Jobs run `python -m snakemake` and `vldac` from this venv, as on a cluster's shared fs.
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    n = len(list(workdir.glob("snakemake-*.log")))
    log = open(workdir / f"snakemake-{n}.log", "w")  # noqa: SIM115 - read back by finish()
    argv = [sys.executable, "-m", "snakemake", TARGET, "--directory", str(workdir),
            "--profile", "profiles/small", "--profile", str(profile),
            "--set-resources", "train:gpu=1", "--resources", "gpu=2", "--configfile",
            "config.yaml", "profiles/small/overlay.yaml", "slurm-test.yaml"]
    return subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)


def finish(proc: subprocess.Popen, timeout: float) -> tuple[int, str]:
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail(f"snakemake did not finish within {timeout:.0f} s")
    proc.stdout and proc.stdout.close()
    logs = sorted(Path(proc.args[proc.args.index("--directory") + 1]).glob("snakemake-*.log"))
    return proc.returncode, logs[-1].read_text()


def job_records(cluster) -> dict[str, dict[str, str]]:
    """squeue's memory of every job (MinJobAge keeps finished ones): id -> state, comment."""
    out = cluster.run(["squeue", "--states=all", "-h", "-o", "%i|%T|%k"]).stdout
    rows = (line.split("|", 2) for line in out.splitlines() if line)
    return {i: {"state": state, "comment": comment} for i, state, comment in rows}


def tres(cluster, job_id: str) -> str:
    shown = cluster.run(["scontrol", "show", "job", job_id]).stdout
    return " ".join(re.findall(r"TresPerJob=\S+|TresPerNode=\S+", shown))


@pytest.fixture
def workdir(tmp_path):
    if not (ROOT / "Snakefile").is_file():
        pytest.skip("the DAG (Snakefile) is not in this checkout")
    repo = copy_repo(tmp_path / "wf")  # the DAG writes results/ and runs/ beside itself
    (repo / "slurm-test.yaml").write_text(yaml.safe_dump(OVERLAY))
    return repo


def updates_logged(workdir: Path) -> list[int]:
    lines = (workdir / "results/train/numberline/seed0/metrics.jsonl").read_text().splitlines()
    return [json.loads(line)["update"] for line in lines]


@pytest.mark.slurm
def test_the_small_dag_trains_through_slurm_with_a_gpu_only_for_training(cluster, workdir,
                                                                       tmp_path):
    start = time.monotonic()
    rc, log = finish(snakemake(cluster, workdir, local_profile(tmp_path)), timeout=900)
    assert rc == 0, log[-4000:]
    print(f"training target through SLURM in {time.monotonic() - start:.0f} s")

    submitted = SUBMITTED.findall(log)  # (snakemake job id, SLURM job id)
    records = job_records(cluster)
    # The plugin tags each job with --comment rule_<name>[_wildcards_...].
    rules = {records[i]["comment"].split("_wildcards")[0]: i for _, i in submitted}
    # `container` is a local rule (it drives the container runtime on the submit host).
    assert set(rules) == {"rule_check_simulator", "rule_train"}, records
    assert "localrule container:" in log
    assert all(records[i]["state"] == "COMPLETED" for i in rules.values()), records
    assert "gpu" in tres(cluster, rules["rule_train"])
    assert "gpu" not in tres(cluster, rules["rule_check_simulator"])  # a CPU-only job
    slurm_logs = workdir / ".snakemake" / "slurm_logs"
    assert list(slurm_logs.rglob(f"{rules['rule_train']}.log")), "no SLURM log for training"
    assert updates_logged(workdir) == list(range(1, UPDATES + 1))


@pytest.mark.slurm
def test_a_training_job_cancelled_by_slurm_resumes_when_the_dag_is_rerun(cluster, workdir,
                                                                      tmp_path):
    profile = local_profile(tmp_path, retries=0)  # the rerun, not a retry, must resume
    ckpts = workdir / RUN / "checkpoints"
    proc = snakemake(cluster, workdir, profile)
    deadline = time.monotonic() + 600
    while not (ckpts / "update_000002").is_dir():
        assert proc.poll() is None, finish(proc, 10)[1][-4000:]
        assert time.monotonic() < deadline, "training wrote no second checkpoint in time"
        time.sleep(0.2)
    train_id = next(i for i, r in job_records(cluster).items()
                    if r["comment"].startswith("rule_train") and r["state"] == "RUNNING")
    cluster.run(["scancel", train_id])
    rc, log = finish(proc, timeout=300)
    assert rc != 0, "the DAG finished although its training job was cancelled"
    assert train_id in log and job_records(cluster)[train_id]["state"] == "CANCELLED"
    kept = {p.name: p.stat().st_mtime_ns for p in ckpts.glob("update_*")}
    assert kept and f"update_{UPDATES:06d}" not in kept, "the job was not killed mid-run"

    rc, log = finish(snakemake(cluster, workdir, profile), timeout=900)
    assert rc == 0, log[-4000:]
    # Only the interrupted job ran again, as a new SLURM job; finished jobs were not redone.
    assert [i for _, i in SUBMITTED.findall(log)] != [train_id]
    assert len(SUBMITTED.findall(log)) == 1, log[-4000:]
    # The interrupted run's checkpoints are still there, untouched by the rerun ...
    for name, mtime in kept.items():
        assert (ckpts / name).stat().st_mtime_ns == mtime, name
    # ... its SLURM log is kept, the rerun resumed, and the history continues instead of
    # restarting. (Snakemake empties a job's log: file before rerunning it.)
    assert list((workdir / ".snakemake" / "slurm_logs").rglob(f"{train_id}.log"))
    train_log = (workdir / "results/logs/train/numberline/seed0.log").read_text()
    assert "resuming runs/numberline/seed0 from its latest checkpoint" in train_log
    assert updates_logged(workdir) == list(range(1, UPDATES + 1))
