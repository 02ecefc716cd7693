"""The README's digits grid search, fold by fold: held-out means against medians.

``GridSearchCV(VAETransformer(random_state=0), {"n_components": [2, 5, 10]})``
on scikit-learn's digits, with the five folds GridSearchCV cuts (KFold, no
shuffle). For each fold and candidate the table gives the held-out mean
log-likelihood (what ``score`` returns and the search ranks by), the median
of the rows' scores, their gap, the worst row's score and the fit time. One
row scoring far below the others moves the mean and can decide the search;
a gap of a few nats means no row does.

Beside it, in the same run, ``GaussianMixture(10)`` is fitted on the same
folds (default settings), and the summary gives skvae's median fit time
over GaussianMixture's.

Run from the repository root::

    python benchmarks/digits_grid_search.py
    python benchmarks/digits_grid_search.py --n-components 2   # one candidate
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import KFold

from skvae import VAETransformer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-components", type=int, nargs="+", default=[2, 5, 10])
    parser.add_argument(
        "--folds", type=int, nargs="+", default=[1, 2, 3, 4, 5], help="1 to 5"
    )
    args = parser.parse_args()

    X, _ = load_digits(return_X_y=True)
    folds = list(KFold(5).split(X))
    print(
        f"{'fold':>4} {'n_comp':>6} {'mean':>10} {'median':>9} {'gap':>9} "
        f"{'worst row':>11} {'fit s':>6} {'GMM s':>6}"
    )
    gaps, vae_times, gmm_times = [], [], []
    for fold in args.folds:
        train, test = folds[fold - 1]
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            GaussianMixture(10, random_state=0).fit(X[train])
        gmm_seconds = time.perf_counter() - start
        gmm_times.append(gmm_seconds)
        for n_components in args.n_components:
            start = time.perf_counter()
            vae = VAETransformer(n_components=n_components, random_state=0)
            vae.fit(X[train])
            seconds = time.perf_counter() - start
            vae_times.append(seconds / gmm_seconds)
            scores = vae.score_samples(X[test])
            mean, median = float(np.mean(scores)), float(np.median(scores))
            gaps.append(abs(mean - median))
            print(
                f"{fold:>4} {n_components:>6} {mean:>10.2f} {median:>9.2f} "
                f"{mean - median:>9.2f} {scores.min():>11.1f} {seconds:>6.2f} "
                f"{gmm_seconds:>6.2f}",
                flush=True,
            )
    print(
        f"\nlargest |mean - median|: {max(gaps):.2f} nats; median fit time / "
        f"GaussianMixture(10)'s: {np.median(vae_times):.1f}x"
    )


if __name__ == "__main__":
    main()
