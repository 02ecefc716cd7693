"""The command-line arguments the documentation build gives each example.

Each gallery example saves its figure to the path in ``sys.argv[1]``. During
the build that is a file in a temporary folder, so building the docs writes
nothing into the checkout. ``conf.py`` names :func:`example_arguments` by
its import path, which keeps Sphinx's configuration cacheable.
"""

import os
import tempfile

FIGURE_FOLDER = tempfile.mkdtemp(prefix="skvae-gallery-")


def example_arguments(gallery_conf, script_vars):
    """``sys.argv[1:]`` for one example: the path of its figure."""
    stem = os.path.splitext(os.path.basename(script_vars["src_file"]))[0]
    return [os.path.join(FIGURE_FOLDER, f"{stem}.png")]
