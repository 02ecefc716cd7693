"""The Integrations page's snippets (docs/snippets/) run as written.

Each runs in a fresh Python process in a temporary folder, and is skipped
where a package it uses is not installed. The dask snippet runs on 1/200 of
its data (the docs record the full run).
"""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_every_snippet_is_run_here():
    runnable = {path.name for path in SNIPPETS.glob("*.py")}
    runnable.discard("vae_pyfunc_model.py")  # logged by the MLflow snippet
    assert runnable == set(NEEDS)


@pytest.mark.parametrize("name", sorted(NEEDS))
def test_snippet_runs(name, tmp_path):
    for package in NEEDS[name]:
        if importlib.util.find_spec(package) is None:
            pytest.skip(f"{package} is not installed")
    for path in SNIPPETS.glob("*.py"):
        shutil.copy(path, tmp_path)
    script = tmp_path / name
    if name == "dask_out_of_core.py":
        source = script.read_text()
        assert "N_ROWS = 20_000_000" in source
        script.write_text(source.replace("N_ROWS = 20_000_000", "N_ROWS = 100_000"))
    env = dict(
        os.environ,
        # MLflow's local file store, and its switch that allows loading a
        # saved model at all (off by default, for every flavour).
        MLFLOW_TRACKING_URI=(tmp_path / "mlruns").as_uri(),
        MLFLOW_ALLOW_FILE_STORE="true",
        MLFLOW_ALLOW_PICKLE_DESERIALIZATION="true",
        PYTHONWARNINGS="ignore",
    )
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
