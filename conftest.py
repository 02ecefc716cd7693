"""Collection rules for the whole repository (the tests' fixtures are in tests/)."""

import importlib.util
import os

import pytest

# skvae/_pyod.py subclasses PyOD's BaseDetector: its doctest needs PyOD.
collect_ignore = []
if importlib.util.find_spec("pyod") is None:
    collect_ignore.append("skvae/_pyod.py")


def pytest_collection_modifyitems(config, items):
    """Tests marked ``integration`` (whole third-party stacks: the docs'
    snippets, a dask cluster) run where the environment variable
    SKVAE_RUN_INTEGRATION is set, as in CI's second step (``.ci/run``);
    elsewhere they are skipped, so the README's test command stays quick."""
    if os.environ.get("SKVAE_RUN_INTEGRATION"):
        return
    skip = pytest.mark.skip(
        reason="integration check: set SKVAE_RUN_INTEGRATION=1 to run it"
    )
    for item in items:
        if "integration" in item.keywords:
            item.add_marker(skip)
