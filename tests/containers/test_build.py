"""Build the Gym-Cards image with podman from a locally made Debian and run its health check.

Slow: debootstrap (1-3 min, once; the base is then reused), the torch wheel and the core
dependencies in the image. Opt-in with ``pytest -m container``; needs root, podman and
debootstrap (``apt-get install podman buildah runc debootstrap``).
"""

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.container, pytest.mark.timeout(1800)]

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "containers" / "build.sh"
TAG = "test"
# The DAG runs the default CMD, not the HEALTHCHECK, whose timer needs systemd (absent here).
NO_TIMER = ["--no-healthcheck"]


def _missing() -> str:
    missing = [tool for tool in ("podman", "debootstrap") if shutil.which(tool) is None]
    if missing:
        return f"needs {' and '.join(missing)} (apt-get install podman buildah runc debootstrap)"
    if os.geteuid() != 0:
        return "needs root (rootful podman and debootstrap)"
    return ""


def build(tag: str) -> dict[str, str]:
    """Run build.sh for the Gym-Cards image; returns {image name: id} from its output."""
    start = time.perf_counter()
    proc = subprocess.run(["bash", str(BUILD), "gymcards", "--runtime", "podman",
                           "--local-base", "--tag", tag], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    images = dict(line.split()[1:3] for line in proc.stdout.splitlines()
                  if line.startswith("image "))
    print(f"built {sorted(images)} in {time.perf_counter() - start:.0f} s")
    return images


def image_env(image: str) -> dict[str, str]:
    out = subprocess.run(["podman", "image", "inspect", "--format", "{{json .Config.Env}}", image],
                         capture_output=True, text=True, check=True).stdout
    return dict(item.split("=", 1) for item in json.loads(out))


@pytest.fixture(scope="module")
def gymcards_image():
    if reason := _missing():
        pytest.skip(reason)
    return build(TAG)


def test_build_prints_the_ids_of_base_and_family(gymcards_image):
    assert set(gymcards_image) == {f"vldac-base:{TAG}", f"vldac-gymcards:{TAG}"}
    for name, image_id in gymcards_image.items():
        inspected = subprocess.run(["podman", "image", "inspect", "--format", "{{.Id}}", name],
                                   capture_output=True, text=True, check=True).stdout.strip()
        assert image_id.removeprefix("sha256:") == inspected


def test_health_check_passes_inside_the_image(gymcards_image, tmp_path):
    image = f"vldac-gymcards:{TAG}"
    run = subprocess.run(["podman", "run", "--rm", *NO_TIMER, "-v", f"{tmp_path}:/out", image],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "expert" in run.stdout and "steps/s" in run.stdout
    result = json.loads((tmp_path / "gym_cards_EZPoints-v0-seed0.json").read_text())
    assert result["passed"] and result["versions"]["vldac_image"] == image
    assert (tmp_path / "gym_cards_EZPoints-v0-seed0.png").stat().st_size > 0
    # torch in the image is the pinned CPU build, not a CUDA one pulled by a dependency.
    torch = subprocess.run(["podman", "run", "--rm", *NO_TIMER, image, "python", "-c",
                            "import torch; print(torch.__version__, torch.version.cuda)"],
                           capture_output=True, text=True, timeout=300, check=True).stdout
    assert torch.split() == ["2.13.0+cpu", "None"]


def test_a_failing_check_exits_nonzero_inside_the_image(gymcards_image, tmp_path):
    run = subprocess.run(["podman", "run", "--rm", *NO_TIMER, "-v", f"{tmp_path}:/out",
                          f"vldac-gymcards:{TAG}", "vldac", "env", "check", "miniworld/none"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[-1].startswith("vldac: error: Unknown env")


def test_a_rebuild_under_another_tag_records_its_own_name(gymcards_image):
    # The layer cache must not carry the first build's name into the second image.
    other = build(f"{TAG}-again")
    for family in ("base", "gymcards"):
        assert image_env(f"vldac-{family}:{TAG}")["VLDAC_IMAGE"] == f"vldac-{family}:{TAG}"
        assert image_env(f"vldac-{family}:{TAG}-again")["VLDAC_IMAGE"] == f"vldac-{family}:{TAG}-again"
    assert other[f"vldac-gymcards:{TAG}-again"] != gymcards_image[f"vldac-gymcards:{TAG}"]
    subprocess.run(["podman", "rmi", f"vldac-gymcards:{TAG}-again", f"vldac-base:{TAG}-again"],
                   capture_output=True)
