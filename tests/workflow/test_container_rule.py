"""Containerised rules run inside their image with `--sdm apptainer`, here through podman.

Apptainer cannot be installed here, so the test puts a shim named `apptainer` on PATH
(tests/workflow/fixtures/apptainer/apptainer) that turns Snakemake's `apptainer pull/exec`
calls into `podman run` with the working directory bind-mounted. Snakemake itself is
unchanged: it builds the same commands it would give real Apptainer on a cluster. The rules
prove where they ran by reading /etc/vldac-image, a file only our images carry.

Runs where root and podman exist (skips with the reason otherwise); builds
vldac-gymcards:test with containers/build.sh from a local Debian unless tests/containers
already did (the layer cache makes a rebuild after a source change take under a minute).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.container, pytest.mark.timeout(1800)]

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
TAG = "test"  # the tag tests/containers builds, so both share one image
IMAGE = f"vldac-gymcards:{TAG}"


@pytest.fixture(scope="module")
def image():
    if shutil.which("podman") is None:
        pytest.skip("needs podman (apt-get install podman buildah runc debootstrap)")
    if os.geteuid() != 0:
        pytest.skip("needs root (rootful podman, debootstrap for the local base)")
    # Always (re)build: an image from an older checkout would run older code; with the layer
    # cache only the project layer is redone.
    build = subprocess.run(["bash", str(ROOT / "containers" / "build.sh"), "gymcards",
                            "--runtime", "podman", "--local-base", "--tag", TAG],
                           capture_output=True, text=True, timeout=1500)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    return IMAGE


def test_rules_with_a_container_run_inside_the_image(image, tmp_path):
    workdir = tmp_path / "wf"
    shutil.copytree(FIXTURES / "container", workdir)
    shim_log = tmp_path / "shim.log"
    env = {**os.environ, "APPTAINER_SHIM_LOG": str(shim_log),
           "PATH": f"{FIXTURES / 'apptainer'}:{Path(sys.executable).parent}:{os.environ['PATH']}"}
    run = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1", "--sdm", "apptainer",
         "--workflow-profile", "none", "--directory", str(workdir),
         "--config", f"image=docker://{image}"],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    # The shell rule: the image's marker, its own vldac, and a passing simulator check.
    shell = (workdir / "results" / "inside_shell.txt").read_text().splitlines()
    assert shell[0] == f"image={image}" and shell[-1] == "/opt/venv/bin/vldac"
    check = json.loads(next((workdir / "results" / "check").glob("*.json")).read_text())
    assert check["passed"] and check["versions"]["vldac_image"] == image
    # The script rule: Snakemake's preamble works in the image, and imports the image's vldac.
    script = json.loads((workdir / "results" / "inside_script.json").read_text())
    assert script["marker"].startswith(f"image={image}")
    assert script["vldac"].startswith("/opt/venv/") and script["image_env"] == image
    # The rule without `container:` ran on the host, which has no marker.
    assert (workdir / "results" / "host.txt").read_text().strip() == "no /etc/vldac-image"
    # Each containerised job went through podman exactly once; the host rule never did.
    runs = [line for line in shim_log.read_text().splitlines() if line.startswith("podman run")]
    assert len(runs) == 2 and all(f" {image} " in line for line in runs)
