"""Helpers of the workflow tests: a throw-away copy of the repository, and Snakemake/DVC calls.

The DAG writes results/, runs/, checkpoints/ and metrics/ into its working directory, and DVC
needs a git repository with a commit, so every test works in a fresh copy (git init + commit)
of the files git knows here, never in the developer's checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # snakemake, dvc and vldac of this environment


def require_workflow_tools() -> None:
    """Skip unless the `workflow` extra is installed next to this Python."""
    for tool in ("snakemake", "dvc", "snakefmt"):
        if not (BIN / tool).exists() and shutil.which(tool) is None:
            pytest.skip(f"needs the workflow extra ({tool}): pip install -e '.[workflow]'")


def copy_repo(dest: Path) -> Path:
    """Copy the tracked and non-ignored files of the repository to ``dest``, commit them."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file() and not name.startswith(("results/", "runs/", "metrics/")):
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "commit", "-qm", "copy")
    return dest


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.email=test@example.org", "-c", "user.name=test",
                           *args], cwd=repo, capture_output=True, text=True, check=True).stdout


def env(**extra: str) -> dict[str, str]:
    """This environment's tools first on PATH (rules call `vldac`, `dvc` and Python)."""
    return {**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '')}", **extra}


def snakemake(repo: Path, *args: str, check: bool = True, timeout: float = 1500,
              **extra_env: str) -> subprocess.CompletedProcess:
    """Run Snakemake in ``repo``; with ``check`` fail the test showing the output's tail."""
    done = subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=repo, env=env(**extra_env),
                          capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        pytest.fail(f"snakemake {' '.join(args)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-6000:]}")
    return done


def dvc(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "dvc"), *args], cwd=repo, env=env(), capture_output=True,
                          text=True, timeout=600)
