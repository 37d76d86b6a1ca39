"""Container tests: build the Gym-Cards image with podman and run its health check in it.

They run in the default suite where root, podman and debootstrap are present (CI installs
them through `make setup`), and skip with the reason otherwise. A cold build takes minutes
(Debian base, torch, the project); later builds reuse the cached layers. The `container`
marker is declared in pyproject.toml; podman's settings come from tests/conftest.py.
"""
