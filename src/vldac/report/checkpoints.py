"""Exported checkpoints: the final adapter + value head of a run, as a run folder of its own."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

# What `vldac eval --run` needs besides the checkpoint, and what a reader wants beside it.
RUN_FILES = ("config.json", "manifest.json", "final_metrics.json")


def export_checkpoint(run_dir: str | Path, checkpoint: str, out: str | Path) -> list[Path]:
    """Copy ``run_dir``'s checkpoint ``checkpoint`` (adapter/, value_head.safetensors,
    trainer_state.pt) and its config into ``out`` so that ``vldac eval --run out`` works.

    Returns the files written. Raises FileNotFoundError when the checkpoint is missing.
    """
    run_dir, out = Path(run_dir), Path(out)
    source = run_dir / "checkpoints" / checkpoint
    if not (source / "trainer_state.pt").is_file():
        raise FileNotFoundError(f"{source} is not a complete checkpoint; train the run first.")
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, out / "checkpoints" / checkpoint, dirs_exist_ok=True)
    (out / "checkpoints" / "latest").write_text(checkpoint + "\n")
    for name in RUN_FILES:
        if (run_dir / name).is_file():
            shutil.copyfile(run_dir / name, out / name)
    return sorted(p for p in out.rglob("*") if p.is_file())


def version_with_dvc(folder: str | Path, *, remote: str | None, log: str | Path) -> Path:
    """``dvc add folder`` (writes ``folder.dvc``) then, when ``remote`` is given, push it there.

    ``--wait-for-lock``: several checkpoints finish at once and DVC holds one repository
    lock. Raises RuntimeError naming the log when a command fails; returns the .dvc file.
    """
    folder = Path(folder)
    dvc_file = folder.with_name(folder.name + ".dvc")
    dvc = [sys.executable, "-m", "dvc", "--wait-for-lock"]  # this environment's DVC, PATH or not
    commands = [[*dvc, "add", str(folder)]]
    if remote is not None:
        commands.append([*dvc, "push", "--remote", remote, str(dvc_file)])
    with open(log, "a") as sink:
        for cmd in commands:
            print("$ dvc " + " ".join(cmd[3:]), file=sink, flush=True)
            if subprocess.run(cmd, stdout=sink, stderr=subprocess.STDOUT).returncode != 0:
                raise RuntimeError(f"`dvc {cmd[4]}` failed for {folder}; see {log}.")
    return dvc_file
