"""Shared fixtures: tiny models are built once per session in a temporary cache."""

import os
from pathlib import Path

import pytest

# Podman settings for machines without systemd (see the file), for the container tests;
# an explicit CONTAINERS_CONF from the user wins.
os.environ.setdefault("CONTAINERS_CONF",
                      str(Path(__file__).resolve().parents[1] / "containers" / "podman.conf"))


@pytest.fixture(scope="session", autouse=True)
def _tiny_cache(tmp_path_factory):
    """Point ``tiny:<family>`` at a per-session cache so tests never touch ~/.cache."""
    if "VLDAC_CACHE" not in os.environ:
        os.environ["VLDAC_CACHE"] = str(tmp_path_factory.mktemp("vldac_cache"))
    yield
