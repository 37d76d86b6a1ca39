"""Running one `vldac` command inside a workflow job: its output goes to the job's log, and a
failure ends the job with one sentence that points at that log."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_logged(args: list[str], log: str | Path, *, what: str, threads: int | None = None,
               append: bool = False) -> None:
    """Run ``python -m vldac.cli <args>``, writing the command line and its output to ``log``;
    exit the job with "<what> failed; see <log>." when it fails."""
    cmd = [sys.executable, "-m", "vldac.cli", *map(str, args)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    with open(log, "a" if append else "w") as sink:
        print("$ " + " ".join(cmd), file=sink, flush=True)
        if subprocess.run(cmd, stdout=sink, stderr=subprocess.STDOUT, env=env).returncode:
            sys.exit(f"{what} failed; see {log}.")
