"""Collection rules for the whole repository (the tests' fixtures are in tests/)."""

import importlib.util

# skvae/_pyod.py subclasses PyOD's BaseDetector: its doctest needs PyOD.
collect_ignore = []
if importlib.util.find_spec("pyod") is None:
    collect_ignore.append("skvae/_pyod.py")
