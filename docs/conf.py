"""Sphinx configuration of the skvae documentation.

Build from the repository root with::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Nothing is fetched from the network during the build (no intersphinx).
"""

import os
import sys

# Document the checkout next to this folder, installed or not.
sys.path.insert(0, os.path.abspath(".."))

import skvae  # noqa: E402

project = "skvae"
author = "The skvae developers"
copyright = "The skvae developers"
version = release = skvae.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

root_doc = "index"
exclude_patterns = ["_build"]
templates_path = []
html_static_path = []
html_theme = "alabaster"

# The API page lists the class in an autosummary table and documents it with
# autoclass on the same page, so no stub files are generated.
autosummary_generate = False
autodoc_typehints = "none"

# numpydoc renders the sections itself; its per-method tables would point at
# stub pages that do not exist, so autodoc's member list is used instead.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# The scripts in examples/ are run during the build and rendered, with their
# printed output and figures, under docs/auto_examples/ (not tracked by git).
# Each example runs in its own folder, so figures it saves land in examples/.
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    "abort_on_example_error": True,
    "download_all_examples": False,
    "write_computation_times": False,
}
