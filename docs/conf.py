"""Sphinx configuration of the skvae documentation.

Build from the repository root with::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Nothing is fetched from the network during the build: intersphinx reads the
inventories in _inventories/ (written by _tools/make_inventories.py), MathJax
is copied into the built site by sphinx-mathjax-offline, and the theme loads
no remote fonts, scripts or analytics.
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
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    # Bundles MathJax 3 and points mathjax_path at the copy in _static/, so
    # the formulas are typeset without a CDN (offline readers, file:// pages).
    "sphinx-mathjax-offline",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

root_doc = "index"
exclude_patterns = ["_build", "_inventories", "_tools"]
templates_path = []

html_theme = "pydata_sphinx_theme"
html_title = f"skvae {release}"
html_static_path = ["_static"]
# Let the article use the window's width (see _static/custom.css).
html_css_files = ["custom.css"]
html_show_sourcelink = False
html_theme_options = {
    # No "edit this page" or source links, no icons pointing at remote sites,
    # no version switcher (which would fetch a JSON file), no analytics.
    "secondary_sidebar_items": ["page-toc"],
    "navbar_end": ["theme-switcher", "navbar-icon-links"],
    "icon_links": [],
    # The page titles are long: more links than this wrap the top bar.
    "header_links_before_dropdown": 4,
    "show_toc_level": 2,
    "navigation_with_keys": False,
}
# No left sidebar: the pages are one level deep, so its "Section Navigation"
# would be empty but on the gallery's pages, where it repeats the gallery
# index and squeezes the examples' code and printed output. The top bar and
# the "previous / next" links at the bottom of each page navigate.
html_sidebars = {"**": []}
# "fit()" rather than "VAETransformer.fit()" in the page's table of contents,
# which is too narrow for the long names.
toc_object_entries_show_parents = "hide"

# Links to the documentation of scikit-learn, NumPy, PyTorch and pandas. The
# build has no network, so the inventories are local files written by
# _tools/make_inventories.py from the installed packages (rerun it after an
# upgrade); the links point at each project's site.
intersphinx_mapping = {
    "sklearn": ("https://scikit-learn.org/stable/", "_inventories/sklearn.inv"),
    "numpy": ("https://numpy.org/doc/stable/", "_inventories/numpy.inv"),
    "torch": ("https://docs.pytorch.org/docs/stable/", "_inventories/torch.inv"),
    "pandas": ("https://pandas.pydata.org/docs/", "_inventories/pandas.inv"),
}

# The API page lists the class in an autosummary table and documents it with
# autoclass on the same page, so no stub files are generated.
autosummary_generate = False
autodoc_typehints = "none"

# numpydoc renders the sections itself; its per-method tables would point at
# stub pages that do not exist, so autodoc's member list is used instead.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# The scripts in examples/ are run during the build and rendered, with their
# printed output and figures, under docs/auto_examples/ (not tracked by git),
# where the environment variable SKVAE_RUN_GALLERY is set (CI's second step,
# as the README says); elsewhere the gallery pages show the code without
# running it (about 3 minutes saved). ``-D plot_gallery=0`` or ``=1``
# overrides this.
# Each example saves its figure to the path given as its first argument:
# during the build that is a temporary folder (_gallery_arguments.py), so
# nothing is written into the checkout.
_RUN_GALLERY = bool(os.environ.get("SKVAE_RUN_GALLERY"))
# sphinx-gallery's own setting; a string, as -D plot_gallery=... passes one.
plot_gallery = str(_RUN_GALLERY)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    "reset_argv": "_gallery_arguments.example_arguments",
    "abort_on_example_error": True,
    "download_all_examples": False,
    "write_computation_times": False,
}
