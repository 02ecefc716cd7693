"""Held-out log-likelihood of skvae against FactorAnalysis and PCA.

Two data sets, the same latent size for every model:

* ``factor-analysis``: 3,000 rows drawn from a factor-analysis model (8
  features in unequal units, 2 factors), split 2,000 / 1,000. Here FA is the
  true model, so a linear VAE (``hidden_layer_sizes=()``) must match it and a
  non-linear VAE must come close.
* ``digits``: scikit-learn's 8x8 digits with their constant pixels removed,
  split 75 / 25, at several latent sizes.

Run ``python benchmarks/heldout_loglik.py``; it prints a table in nats per
row (higher is better) and the wall-clock time of each fit.
"""

import sys
import time
import warnings
from pathlib import Path

from sklearn.datasets import load_digits
from sklearn.decomposition import PCA, FactorAnalysis
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import VarianceThreshold
from sklearn.model_selection import train_test_split

from skvae import VAETransformer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import make_factor_analysis_data  # noqa: E402


def timed_score(model, X_train, X_test):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train)
    return model.score(X_test), time.perf_counter() - start


def rows():
    X = make_factor_analysis_data(3000)
    yield (
        "factor-analysis",
        2,
        X[:2000],
        X[2000:],
        {
            "VAE, linear": VAETransformer(
                2,
                hidden_layer_sizes=(),
                learning_rate=1e-2,
                max_iter=100,
                n_importance_samples=256,
                random_state=0,
            ),
            "VAE, (128, 64)": VAETransformer(
                2,
                max_iter=200,
                early_stopping=True,
                n_importance_samples=256,
                random_state=0,
            ),
        },
    )
    X, _ = load_digits(return_X_y=True)
    X = VarianceThreshold().fit_transform(X)
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
    for n_components in (2, 5, 10):
        yield (
            "digits",
            n_components,
            X_train,
            X_test,
            {
                "VAE, (128, 64)": VAETransformer(
                    n_components,
                    max_iter=300,
                    early_stopping=True,
                    n_importance_samples=256,
                    random_state=0,
                ),
            },
        )


def main():
    header = f"{'data':<16}{'latent':>7}  {'model':<16}{'test log-lik':>14}{'fit s':>8}"
    print(header)
    print("-" * len(header))
    for name, n_components, X_train, X_test, vaes in rows():
        models = {
            "PCA": PCA(n_components),
            "FactorAnalysis": FactorAnalysis(n_components, random_state=0),
            **vaes,
        }
        for label, model in models.items():
            score, seconds = timed_score(model, X_train, X_test)
            print(
                f"{name:<16}{n_components:>7}  {label:<16}{score:>14.2f}{seconds:>8.1f}"
            )


if __name__ == "__main__":
    main()
