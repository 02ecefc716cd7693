"""Shared fixtures: small data sets made here or shipped with scikit-learn."""

import os
import warnings

# scikit-learn's array-API conformance check (NumPy namespace) is skipped
# unless this is set before SciPy is imported; we want every check to run.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.feature_selection import VarianceThreshold  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from skvae import VAETransformer  # noqa: E402


def _quiet_fit(estimator, X, y=None):
    """Fit, silencing the ConvergenceWarning of deliberately short runs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


@pytest.fixture(autouse=True)
def _fixed_global_seeds():
    """Each test starts from the same NumPy and torch global states, so an
    estimator left unseeded (random_state=None draws from NumPy's) is as
    reproducible as a seeded one, whatever ran before it: a statistical
    check of an unseeded fit once failed on a 4-sigma draw in CI."""
    np.random.seed(0)
    torch.manual_seed(0)


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


# The model these tests were written for: skvae 0.1's per-feature variance
# and a fixed 60 epochs (the detector's own default VAE pins the same).
_SMALL_VAE = VAETransformer(
    n_components=2,
    hidden_layer_sizes=(32,),
    decoder_variance="per_feature",
    max_iter=60,
    learning_rate=1e-2,
    early_stopping=False,
    lr_plateau_decays=0,
    objective="elbo",
    n_mc_samples=1,
)


def _make_planted_outliers(n_inliers=500, n_outliers=25, seed=0):
    """Inliers near a curved 2-D surface in 6-D; outliers off it, inside its range.

    Each outlier takes every feature from a different random inlier, so its
    marginals look normal and only the joint structure gives it away.
    """
    rng = np.random.RandomState(seed)
    z = rng.normal(size=(n_inliers, 2))
    X = np.column_stack(
        [
            z[:, 0],
            z[:, 1],
            z[:, 0] ** 2,
            np.sin(2 * z[:, 1]),
            z[:, 0] * z[:, 1],
            z.sum(1),
        ]
    )
    X += 0.05 * rng.normal(size=X.shape)
    donors = rng.randint(n_inliers, size=(n_outliers, X.shape[1]))
    outliers = X[donors, np.arange(X.shape[1])]
    X = np.vstack([X, outliers]) * [1.0, 10.0, 0.1, 3.0, 1.0, 100.0]
    y = np.r_[np.zeros(n_inliers, int), np.ones(n_outliers, int)]
    order = rng.permutation(len(y))
    return X[order], y[order]


@pytest.fixture(scope="session")
def quiet_fit():
    """``quiet_fit(estimator, X)``: fit, silencing the ConvergenceWarning of
    deliberately short runs."""
    return _quiet_fit


@pytest.fixture(scope="session")
def small_vae():
    """The (unfitted) VAE the outlier tests were written for; clone before
    fitting it directly."""
    return _SMALL_VAE


@pytest.fixture(scope="session")
def make_planted_outliers():
    """``make_planted_outliers(n_inliers, n_outliers, seed)`` -> (X, y)."""
    return _make_planted_outliers


@pytest.fixture(scope="module")
def planted():
    """Planted outliers (see _make_planted_outliers), fresh for each module."""
    return _make_planted_outliers()


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
