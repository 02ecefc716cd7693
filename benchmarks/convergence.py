"""Does a default fit stop by its own rule? ConvergenceWarnings, counted.

Fits ``VAETransformer(random_state=0)`` with its defaults on scikit-learn's
digits, breast cancer and wine, and on each development outlier set found
in ``DATA_DIR/outliers`` (all rows, as given), then runs the README's
``Use`` snippet and the tuning page's grid search. For each fit it prints
the epochs run, the number of learning-rate decays, whether a
``ConvergenceWarning`` was raised and the fit time. Run from the repository
root::

    python benchmarks/convergence.py ../shared/data
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import VarianceThreshold
from sklearn.model_selection import GridSearchCV

from skvae import VAETransformer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from outliers import DEVELOPMENT_SETS  # noqa: E402


def counting_warnings(function):
    """Run ``function``; return its result and its number of ConvergenceWarnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        result = function()
    return result, sum(issubclass(w.category, ConvergenceWarning) for w in caught)


def data_sets(data_dir: Path):
    yield "digits", load_digits().data
    yield "breast_cancer", load_breast_cancer().data
    yield "wine", load_wine().data
    for name in DEVELOPMENT_SETS:
        path = data_dir / "outliers" / f"{name}.npz"
        if path.exists():
            with np.load(path) as data:
                yield name, np.asarray(data["X"], dtype=float)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", type=Path, nargs="?", default=Path("."))
    args = parser.parse_args()
    print(f"{'data':<16}{'rows':>7}{'epochs':>8}{'decays':>8}{'warned':>8}{'fit s':>8}")
    total = 0
    for name, X in data_sets(args.data_dir):
        start = time.perf_counter()
        vae, warned = counting_warnings(
            lambda X=X: VAETransformer(random_state=0).fit(X)
        )
        seconds = time.perf_counter() - start
        decays = len(vae.lr_decay_epochs_)
        total += warned
        print(
            f"{name:<16}{len(X):>7}{vae.n_iter_:>8}{decays:>8}{warned:>8}{seconds:>8.1f}",
            flush=True,
        )
    print(f"default fits with a ConvergenceWarning: {total}")

    X = load_digits().data
    snippet = [
        lambda: VAETransformer(n_components=2, random_state=0).fit(X),
        lambda: GridSearchCV(
            VAETransformer(random_state=0), {"n_components": [2, 5, 10]}
        ).fit(X),
    ]
    warned = sum(counting_warnings(step)[1] for step in snippet)
    print(f"README 'Use' snippet (17 fits): {warned} ConvergenceWarning(s)")
    X = VarianceThreshold().fit_transform(X)
    tuning = GridSearchCV(
        VAETransformer(random_state=0),
        {"n_components": [2, 5, 10], "beta": [0.5, 1.0, 2.0]},
        cv=3,
    )
    warned = counting_warnings(lambda: tuning.fit(X))[1]
    print(f"tuning page's grid search (28 fits): {warned} ConvergenceWarning(s)")


if __name__ == "__main__":
    main()
