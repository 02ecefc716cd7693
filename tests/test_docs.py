"""The documentation builds with warnings as errors, running the gallery.

Needs the ``docs`` extra (Sphinx, numpydoc, sphinx-gallery); the README's test
command installs it, so CI always runs this.
"""

import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize("module", ["sphinx", "numpydoc", "sphinx_gallery"])
def test_docs_dependencies_are_installed(module):
    pytest.importorskip(module)


def test_docs_build_without_warnings(tmp_path):
    for module in ("sphinx", "numpydoc", "sphinx_gallery", "matplotlib"):
        pytest.importorskip(module)
    html, doctrees = tmp_path / "html", tmp_path / "doctrees"
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q"]
    command += ["-b", "html", "-d", str(doctrees), str(DOCS), str(html)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert (html / "auto_examples" / "index.html").exists()
    images = list((html / "_images").glob("sphx_glr_*.png"))
    assert images, "the gallery examples drew no figures"
