"""Held-out log-likelihood: skvae's defaults against GaussianMixture and FactorAnalysis.

Data sets (the development data of ``benchmarks/defaults_study.py``):

* ``digits``: scikit-learn's digits plus uniform dequantisation noise, split
  70 / 30, with ``n_components=10`` for the VAEs;
* ``factor-analysis``: 3,000 rows drawn from a factor-analysis model (8
  features in unequal units, 2 factors), split 2,000 / 1,000, with
  ``n_components=2``: here FA is the true model;
* ``frey`` (when ``DATA_DIR`` is given): the Frey Face images, dequantised
  and scaled to [0, 1], split 70 / 30, ``n_components=10``;
* the inliers of the ten development outlier sets (when ``DATA_DIR`` is
  given), standardised on the training part, split 70 / 30, with the VAEs'
  default ``n_components``; all training rows are used.

Models, each fitted on the training part and scored on the test part in
nats per row (higher is better):

* ``skvae 0.1``: ``VAETransformer`` with the 0.1 defaults (one variance per
  feature, ``(128, 64)`` layers, learning rate 1e-3, 200 epochs, no early
  stopping, the one-draw ELBO; 0.1 had no floor for gridded features, so
  on those this column is a little above what 0.1 gave);
* ``skvae``: ``VAETransformer`` with today's defaults;
* ``GaussianMixture``: the best test score of 1, 2, 4 and 8 components with
  full or diagonal covariances (eight fits, the best chosen on the test
  part, which flatters it);
* ``FactorAnalysis``: the best test score over 1, 2, 5, 10 and half the
  features factors (likewise flattered).

VAEs score with 256 importance samples. Run from the repository root::

    python benchmarks/heldout_loglik.py                 # digits and FA data
    python benchmarks/heldout_loglik.py ../shared/data  # and Frey Face, outlier sets
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

from sklearn.decomposition import FactorAnalysis
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

from skvae import VAETransformer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from defaults_study import DEFAULTS_0_1, data_sets  # noqa: E402


def best_gaussian_mixture(X_train, X_test):
    scores = []
    for n_components in (1, 2, 4, 8):
        for covariance_type in ("full", "diag"):
            model = GaussianMixture(
                n_components, covariance_type=covariance_type, random_state=0
            )
            scores.append(model.fit(X_train).score(X_test))
    return max(scores)


def best_factor_analysis(X_train, X_test):
    n_features = X_train.shape[1]
    sizes = sorted({q for q in (1, 2, 5, 10, n_features // 2) if 1 <= q <= n_features})
    return max(
        FactorAnalysis(q, random_state=0).fit(X_train).score(X_test) for q in sizes
    )


def vae_score(params, X_train, X_test, n_components, seed):
    if n_components is not None:
        params = {**params, "n_components": n_components}
    vae = VAETransformer(**params, n_importance_samples=256, random_state=seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        vae.fit(X_train)
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return vae.score(X_test), vae.n_iter_, warned


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "data_dir", type=Path, nargs="?", help="folder with frey_face/, outliers/"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    data_dir = args.data_dir or Path("no-such-folder")
    header = (
        f"{'data':<16}{'skvae 0.1':>11}{'skvae':>10}{'epochs':>8}"
        f"{'GMM best':>11}{'FA best':>10}{'skvae wins':>12}{'skvae s':>9}"
    )
    print(header)
    print("-" * len(header))
    wins = []
    for name, X_train, X_test, n_components in data_sets(
        data_dir, max_train=None, seed=args.seed
    ):
        old, _, _ = vae_score(DEFAULTS_0_1, X_train, X_test, n_components, args.seed)
        start = time.perf_counter()
        new, epochs, warned = vae_score({}, X_train, X_test, n_components, args.seed)
        seconds = time.perf_counter() - start
        mixture = best_gaussian_mixture(X_train, X_test)
        factors = best_factor_analysis(X_train, X_test)
        win = new > max(mixture, factors)
        wins.append(win)
        print(
            f"{name:<16}{old:>11.2f}{new:>10.2f}{epochs:>7d}{'*' if warned else ' '}"
            f"{mixture:>11.2f}{factors:>10.2f}{'yes' if win else 'no':>12}"
            f"{seconds:>9.1f}",
            flush=True,
        )
    print(
        "\nskvae above the best of GaussianMixture and FactorAnalysis on "
        f"{sum(wins)} of {len(wins)} data sets."
    )
    print("* = ConvergenceWarning (max_iter reached)")


if __name__ == "__main__":
    main()
