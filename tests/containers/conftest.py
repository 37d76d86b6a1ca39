"""Container tests: build the Gym-Cards image with podman and run its health check in it.

They run in the default suite where root, podman and debootstrap are present (CI installs
them through `make setup`), and skip with the reason otherwise. A cold build takes minutes
(Debian base, torch, the project); later builds reuse the cached layers.
"""

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "container: builds and runs an OCI image with podman")
