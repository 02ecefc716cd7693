"""The documentation builds with warnings as errors.

Needs the ``docs`` extra (Sphinx, numpydoc, sphinx-gallery); the README's test
command installs it. The gallery's examples run (a few minutes) where
``SKVAE_RUN_GALLERY`` is set, as in CI's second step (``.ci/run``); elsewhere
the pages are built without running them.
"""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize(
    "module",
    [
        "sphinx",
        "numpydoc",
        "sphinx_gallery",
        "pydata_sphinx_theme",
        "sphinx-mathjax-offline",  # the extension's module name has hyphens
        "matplotlib",
    ],
)
def test_docs_dependencies_are_installed(module):
    # The README's test command installs the docs extra: a missing package
    # is a broken set-up, not a reason to skip the build.
    importlib.import_module(module)


def test_docs_build_without_warnings(tmp_path):
    html, doctrees = tmp_path / "html", tmp_path / "doctrees"
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q"]
    command += ["-b", "html", "-d", str(doctrees), str(DOCS), str(html)]
    run_gallery = bool(os.environ.get("SKVAE_RUN_GALLERY"))
    if not run_gallery:
        command += ["-D", "plot_gallery=0"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert (html / "auto_examples" / "index.html").exists()
    if run_gallery:
        images = list((html / "_images").glob("sphx_glr_*.png"))
        assert images, "the gallery examples drew no figures"
