"""Provenance: what ran, where, from which code and image. Imports no torch.

Every workflow job writes one manifest with :func:`write_manifest`; the container stage
records each simulator image with :func:`record_container`.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import shutil
import socket
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("vldac", "torch", "transformers", "peft", "accelerate", "numpy", "pillow",
            "dvc", "dvclive", "snakemake", "matplotlib")
RUNTIMES = ("podman", "docker")


def _run(cmd: list[str], timeout: float = 10) -> str | None:
    """stdout of ``cmd`` stripped, or None when it is missing or fails."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages a result depends on (None when absent)."""
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_state(where: str | Path = ".") -> dict[str, Any]:
    """The commit checked out at ``where`` and whether tracked files differ from it."""
    commit = _run(["git", "-C", str(where), "rev-parse", "HEAD"])
    status = _run(["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"])
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def inside_container() -> str | None:
    """The container technology this process runs in, or None on the host."""
    if os.environ.get("APPTAINER_CONTAINER") or os.environ.get("SINGULARITY_CONTAINER"):
        return "apptainer"
    if Path("/run/.containerenv").exists():
        return "podman"
    if Path("/.dockerenv").exists():
        return "docker"
    return None


def device_description() -> str:
    """The accelerator visible to this process, from ``nvidia-smi`` (no torch import)."""
    gpus = _run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"])
    if gpus:
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        return f"cuda ({', '.join(gpus.splitlines())}; CUDA_VISIBLE_DEVICES={visible})"
    return f"cpu ({os.cpu_count()} cores, {platform.processor() or platform.machine()})"


def write_manifest(path: str | Path, *, job: str, wildcards: dict[str, Any] | None = None,
                   container: dict[str, Any] | None = None, seed: int | None = None,
                   device: str | None = None, extra: dict[str, Any] | None = None) -> dict:
    """Write the provenance manifest of one job to ``path`` and return it.

    ``container`` is the record of the job's simulator image (see :func:`record_container`);
    ``device`` defaults to what this process sees (a training job passes the learner's own).
    """
    manifest = {
        "job": job,
        "wildcards": dict(wildcards or {}),
        "seed": seed,
        "device": device or device_description(),
        "git": git_state(),
        "packages": package_versions(),
        "python": platform.python_version(),
        "image": container or {"runtime": "host", "image": None, "digest": None},
        # The image this job ran in (our images set VLDAC_IMAGE), and the container
        # technology around the process (which may be the machine itself, e.g. a CI runner).
        "ran_in_image": os.environ.get("VLDAC_IMAGE"),
        "inside_container": inside_container(),
        "host": socket.gethostname(),
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
        "written": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        **(extra or {}),
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def find_runtime(preference: str = "auto") -> str | None:
    """The container runtime to use: ``preference`` when installed, else podman or docker."""
    names = RUNTIMES if preference == "auto" else (preference,)
    return next((n for n in names if shutil.which(n)), None)


def image_id(runtime: str, image: str) -> str | None:
    """The ID (sha256 of the image config) of a local image, or None when it is absent."""
    return _run([runtime, "image", "inspect", "--format", "{{.Id}}", image])


def local_image_name(uri: str) -> str:
    """``docker://vldac-gymcards:0.1.0`` -> ``vldac-gymcards:0.1.0`` (what the runtime knows)."""
    return uri.split("://", 1)[1] if "://" in uri else uri


def record_container(family: str, uri: str, *, mode: str, runtime: str = "auto",
                     tag: str = "0.1.0", build_script: str | Path = "containers/build.sh",
                     build_options: list[str] | None = None,
                     log: str | Path | None = None) -> dict[str, Any]:
    """Build (``mode='build'``) or look up (``'inspect'``) the image of ``family``.

    Returns ``{"family", "uri", "runtime", "image", "digest", "reason"}``; ``runtime`` is
    ``"host"`` (and ``reason`` says why) when jobs of this family run on the host.
    Raises RuntimeError when a requested build fails.
    """
    record: dict[str, Any] = {"family": family, "uri": uri, "mode": mode, "runtime": "host",
                              "image": None, "digest": None, "reason": None}
    if mode == "host":
        record["reason"] = "pipeline.containers.mode is host"
        return record
    found = find_runtime(runtime)
    if found is None:
        wanted = "podman or docker" if runtime == "auto" else runtime
        record["reason"] = f"no container runtime ({wanted}) is installed"
        return record
    name = local_image_name(uri)
    if mode == "build":
        cmd = ["bash", str(build_script), family, "--runtime", found, "--tag", tag,
               *(build_options or [])]
        with open(log or os.devnull, "a") as sink:
            done = subprocess.run(cmd, stdout=sink, stderr=subprocess.STDOUT)
        if done.returncode != 0:
            raise RuntimeError(f"building the {family} image failed (exit {done.returncode}); "
                               f"see {log or 'the build output'}.")
    digest = image_id(found, name)
    if digest is None:
        record["reason"] = f"image {name} is not present in {found} (mode {mode})"
        return record
    record.update(runtime=found, image=name, digest=digest)
    return record
