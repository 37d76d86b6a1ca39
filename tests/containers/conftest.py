"""Container tests are opt-in (slow: a Debian base, torch and the project in an image)."""

import pytest


def pytest_configure(config):
    # Registered here too, so the marker works before pyproject.toml lists it.
    config.addinivalue_line("markers", "container: builds and runs an OCI image "
                            "(opt-in: pytest -m container)")


def pytest_collection_modifyitems(config, items):
    if "container" in (config.getoption("markexpr", "") or ""):
        return
    skip = pytest.mark.skip(reason="builds an image for minutes; opt in with: pytest -m container")
    for item in items:
        if "container" in item.keywords:
            item.add_marker(skip)
