"""The DAG through a real single-node SLURM cluster with profiles/slurm.

Starts munge + slurmctld + slurmd on loopback (tests/workflow/slurm/cluster.py; installs the
Debian packages when root and missing), runs a workflow with the slurm profile, and checks
that its jobs went through SLURM: submitted job ids in Snakemake's log, the same ids in
squeue's records with their rule and GPU request, SLURM's own per-job log files. Then a
training job is cancelled by the scheduler mid-run and the DAG rerun: it resumes from the
last checkpoint. Opt-in (``pytest -m slurm``): 5-6 minutes on 2 busy cores; the profile
check runs by default.
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

pytestmark = pytest.mark.timeout(1200)

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "profiles" / "slurm" / "config.yaml"
FIXTURE = Path(__file__).parent / "fixtures" / "slurm_train"
SUBMITTED = re.compile(r"Job (\d+) has been submitted with SLURM jobid (\d+)")


@pytest.fixture(scope="module")
def cluster(request, tmp_path_factory):
    if "slurm" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("starts a SLURM cluster, ~6 min on 2 busy cores; opt in: pytest -m slurm")
    if reason := unavailable():
        pytest.skip(reason)
    slurm = LocalSlurm(tmp_path_factory.mktemp("slurm"))
    slurm.start()
    yield slurm
    slurm.stop()
    assert slurm.leftover_pids() == [], "SLURM left processes behind"


def test_profile_declares_gpu_conventions_of_the_plugin():
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


def snakemake(cluster, workdir: Path, profile: Path, *extra: str) -> subprocess.Popen:
    """Start the fixture DAG through SLURM; stdout+stderr go to workdir/snakemake-N.log."""
    env = cluster.env
    # Jobs run `python -m snakemake` and `vldac` from this venv, as on a cluster's shared fs.
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    n = len(list(workdir.glob("snakemake-*.log")))
    log = open(workdir / f"snakemake-{n}.log", "w")  # noqa: SIM115 - closed by the caller's wait
    argv = [sys.executable, "-m", "snakemake", "--profile", str(profile),
            "--workflow-profile", "none", "--snakefile", str(workdir / "Snakefile"),
            "--directory", str(workdir), *extra]
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
    shutil.copytree(FIXTURE, tmp_path / "wf")
    return tmp_path / "wf"


@pytest.mark.slurm
def test_the_dag_runs_through_slurm_with_gpus_only_for_training(cluster, workdir, tmp_path):
    start = time.monotonic()
    rc, log = finish(snakemake(cluster, workdir, local_profile(tmp_path)), timeout=600)
    assert rc == 0, log[-4000:]
    print(f"DAG through SLURM in {time.monotonic() - start:.0f} s")

    submitted = dict(SUBMITTED.findall(log))  # snakemake job id -> SLURM job id
    assert len(submitted) == 3, log[-4000:]  # learner_config, train, summarize (`all` is local)
    records = job_records(cluster)
    # The plugin tags each job with --comment rule_<name>[_wildcards_...].
    rules = {records[i]["comment"]: i for i in submitted.values()}
    assert set(rules) == {"rule_learner_config", "rule_train", "rule_summarize"}, records
    assert all(records[i]["state"] == "COMPLETED" for i in rules.values()), records
    train_id = rules["rule_train"]
    assert "gpu" in tres(cluster, train_id)
    for rule in ("rule_learner_config", "rule_summarize"):
        assert "gpu" not in tres(cluster, rules[rule]), rule  # CPU-only jobs
    # The training job saw its fake GPU through SLURM's environment.
    assert f"slurm job {train_id} gpus 0" in (workdir / "logs" / "train.log").read_text()
    slurm_logs = list((workdir / ".snakemake" / "slurm_logs").rglob(f"{train_id}.log"))
    assert slurm_logs, "SLURM wrote no log for the training job"
    summary = json.loads((workdir / "results" / "summary.json").read_text())
    assert summary["updates"] == [1, 2, 3, 4]


@pytest.mark.slurm
def test_a_training_job_cancelled_by_slurm_resumes_when_the_dag_is_rerun(cluster, workdir,
                                                                      tmp_path):
    profile = local_profile(tmp_path, retries=0)  # the rerun, not a retry, must resume
    updates, ckpts = 8, workdir / "runs" / "numberline" / "seed3" / "checkpoints"
    proc = snakemake(cluster, workdir, profile, "--config", f"updates={updates}")
    deadline = time.monotonic() + 400
    while not (ckpts / "update_000002").is_dir():
        assert proc.poll() is None, finish(proc, 10)[1][-4000:]
        assert time.monotonic() < deadline, "training wrote no second checkpoint in time"
        time.sleep(0.2)
    log = (workdir / f"snakemake-{0}.log").read_text()
    train_id = next(i for i, r in job_records(cluster).items()
                    if r["comment"] == "rule_train" and r["state"] == "RUNNING")
    assert train_id in log
    cluster.run(["scancel", train_id])
    rc, log = finish(proc, timeout=300)
    assert rc != 0, "the DAG finished although its training job was cancelled"
    assert job_records(cluster)[train_id]["state"] == "CANCELLED"
    kept = {p.name: p.stat().st_mtime_ns for p in ckpts.glob("update_*")}
    assert kept and f"update_{updates:06d}" not in kept, "the job was not killed mid-run"

    rc, log = finish(snakemake(cluster, workdir, profile, "--config", f"updates={updates}"),
                     timeout=600)
    assert rc == 0, log[-4000:]
    # The interrupted run's checkpoints are still there, untouched by the rerun ...
    for name, mtime in kept.items():
        assert (ckpts / name).stat().st_mtime_ns == mtime, name
    # ... the killed job's SLURM log is kept, the rerun (a new SLURM job) resumed, and the
    # metrics history continues instead of restarting. (Snakemake empties a rule's log: file
    # before rerunning it, so train.log only tells the rerun's side.)
    assert (workdir / ".snakemake" / "slurm_logs" / "rule_train" / f"{train_id}.log").is_file()
    rerun = next(line.split() for line in (workdir / "logs" / "train.log").read_text()
                 .splitlines() if line.startswith("slurm job "))
    assert rerun[2] != train_id and rerun[-1] == "--resume", rerun
    assert json.loads((workdir / "results" / "summary.json").read_text())["updates"] == \
        list(range(1, updates + 1))
