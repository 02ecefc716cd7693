"""Shared fixtures: small data sets made here or shipped with scikit-learn."""

import os
import warnings

# scikit-learn's array-API conformance check (NumPy namespace) is skipped
# unless this is set before SciPy is imported; we want every check to run.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.feature_selection import VarianceThreshold  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402


def quiet_fit(estimator, X, y=None):
    """Fit, silencing the ConvergenceWarning of deliberately short runs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def make_factor_analysis_data(n_samples, n_features=8, n_factors=2, seed=0):
    """Rows drawn from x = W z + mu + noise, z ~ N(0, I), with per-feature noise."""
    rng = np.random.RandomState(seed)
    loadings = rng.normal(size=(n_factors, n_features))
    noise_std = rng.uniform(0.3, 1.0, size=n_features)
    offset = rng.normal(scale=5.0, size=n_features)
    scale = rng.uniform(0.5, 20.0, size=n_features)  # features in unequal units
    z = rng.normal(size=(n_samples, n_factors))
    X = z @ loadings + noise_std * rng.normal(size=(n_samples, n_features))
    return (X * scale + offset).astype(np.float64)


@pytest.fixture(scope="session")
def factor_analysis_data():
    X = make_factor_analysis_data(3000)
    return X[:2000], X[2000:]


@pytest.fixture(scope="session")
def digits_split():
    """Digits pixels (0..16) without their constant columns, split 75/25."""
    X, y = load_digits(return_X_y=True)
    X = VarianceThreshold().fit_transform(X)
    return train_test_split(X, y, test_size=0.25, random_state=0)


@pytest.fixture
def small_data():
    rng = np.random.RandomState(0)
    return rng.normal(size=(60, 5)) * [1.0, 10.0, 0.1, 3.0, 1.0] + [0, 5, -2, 0, 100]
