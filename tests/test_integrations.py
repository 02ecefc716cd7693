"""The Integrations page's snippets (docs/snippets/) run as written.

All of them run in one fresh Python process (so torch and scikit-learn are
imported once), each in its own temporary folder; a snippet whose packages
are not installed is skipped. The dask snippet runs on 1/200 of its data
(the docs record the full run).
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# Whole third-party stacks, about a minute: run in CI (see conftest.py).
pytestmark = pytest.mark.integration

SNIPPETS = Path(__file__).resolve().parents[1] / "docs" / "snippets"

# snippet -> the packages it needs
NEEDS = {
    "skops_save_load.py": ["skops"],
    "mlflow_log_and_load.py": ["mlflow"],
    "onnx_export.py": ["onnx", "onnxruntime", "skl2onnx"],
    "dask_out_of_core.py": ["dask", "distributed", "dask_ml"],
    "optuna_search.py": ["optuna"],
    "imblearn_pipeline.py": ["imblearn"],
    "polars_frames.py": ["polars"],
}

# Runs each snippet given on the command line in its own folder, as
# __main__, and writes {snippet: error or None} to results.json.
RUNNER = """
import json, os, runpy, sys, traceback
results = {}
for folder in sys.argv[1:]:
    os.chdir(folder)
    name = os.path.basename(folder)
    try:
        runpy.run_path(os.path.join(folder, name), run_name="__main__")
        results[name] = None
    except BaseException:
        results[name] = traceback.format_exc()[-3000:]
with open(os.path.join(os.path.dirname(sys.argv[1]), "results.json"), "w") as f:
    json.dump(results, f)
"""


def _installed(name):
    return all(importlib.util.find_spec(package) for package in NEEDS[name])


@pytest.fixture(scope="module")
def snippet_results(tmp_path_factory):
    root = tmp_path_factory.mktemp("snippets")
    folders = []
    for name in sorted(NEEDS):
        if not _installed(name):
            continue
        folder = root / name
        folder.mkdir()
        for path in SNIPPETS.glob("*.py"):
            shutil.copy(path, folder)
        if name == "dask_out_of_core.py":
            script = folder / name
            source = script.read_text()
            assert "N_ROWS = 20_000_000" in source
            script.write_text(source.replace("N_ROWS = 20_000_000", "N_ROWS = 100_000"))
        folders.append(str(folder))
    if not folders:
        return {}
    (root / "runner.py").write_text(RUNNER)
    env = dict(
        os.environ,
        # MLflow's local file store, which (unlike its default SQLite store)
        # needs no SQLAlchemy, so mlflow-skinny is enough; MLflow 3.17 refuses
        # it without MLFLOW_ALLOW_FILE_STORE. The switch that allows loading
        # a saved model at all is on by default; set here so that a
        # developer's environment cannot turn it off.
        MLFLOW_TRACKING_URI=(root / "mlruns").as_uri(),
        MLFLOW_ALLOW_FILE_STORE="true",
        MLFLOW_ALLOW_PICKLE_DESERIALIZATION="true",
        PYTHONWARNINGS="ignore",
    )
    result = subprocess.run(
        [sys.executable, str(root / "runner.py"), *folders],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads((root / "results.json").read_text())


def test_every_snippet_is_run_here():
    runnable = {path.name for path in SNIPPETS.glob("*.py")}
    runnable.discard("vae_pyfunc_model.py")  # logged by the MLflow snippet
    assert runnable == set(NEEDS)


@pytest.mark.parametrize("name", sorted(NEEDS))
def test_snippet_runs(name, snippet_results):
    if not _installed(name):
        pytest.skip(f"needs {', '.join(NEEDS[name])}")
    assert snippet_results[name] is None, snippet_results[name]
