"""Property-based tests: shapes, dtypes and parameters drawn by Hypothesis."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.exceptions import ConvergenceWarning

from skvae import VAETransformer

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: CI stays reproducible
)

finite_values = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=32)


@st.composite
def data_and_params(draw):
    n_samples = draw(st.integers(1, 40))
    n_features = draw(st.integers(1, 6))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    X = draw(arrays(dtype, (n_samples, n_features), elements=finite_values))
    params = dict(
        n_components=draw(st.integers(1, 3)),
        hidden_layer_sizes=draw(st.sampled_from([(), (4,), (6, 3)])),
        activation=draw(st.sampled_from(["relu", "tanh", "softplus", "elu"])),
        beta=draw(st.sampled_from([0.0, 0.5, 1.0, 4.0])),
        n_mc_samples=draw(st.integers(1, 3)),
        batch_size=draw(st.integers(1, 64)),
        n_importance_samples=draw(st.integers(1, 16)),
        max_iter=2,
        random_state=0,
    )
    return X, params


@SETTINGS
@given(data_and_params())
def test_finite_input_gives_finite_output_of_documented_shape(case):
    X, params = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        vae = VAETransformer(**params).fit(X)
    n_samples, n_features = X.shape
    Z, Z_std = vae.transform(X, return_std=True)
    assert Z.shape == Z_std.shape == (n_samples, params["n_components"])
    assert Z.dtype == X.dtype and np.all(np.isfinite(Z)) and np.all(Z_std > 0)
    scores = vae.score_samples(X)
    assert scores.shape == (n_samples,) and scores.dtype == np.float64
    assert np.all(np.isfinite(scores))
    reconstruction = vae.inverse_transform(Z)
    assert reconstruction.shape == X.shape and np.all(np.isfinite(reconstruction))
    samples, codes = vae.sample(3)
    assert samples.shape == (3, n_features) and codes.shape == (3, Z.shape[1])
    assert np.all(np.isfinite(samples))


@SETTINGS
@given(data_and_params(), st.randoms(use_true_random=False))
def test_score_samples_is_invariant_to_order_and_subsets(case, random):
    X, params = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        vae = VAETransformer(**params).fit(X)
    scores = vae.score_samples(X)
    order = list(range(len(X)))
    random.shuffle(order)
    np.testing.assert_allclose(vae.score_samples(X[order]), scores[order], rtol=1e-12)
    subset = sorted(random.sample(range(len(X)), k=max(1, len(X) // 2)))
    np.testing.assert_allclose(vae.score_samples(X[subset]), scores[subset], rtol=1e-12)


@pytest.mark.parametrize("likelihood", ["bernoulli"])
@SETTINGS
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 30), st.integers(1, 5)),
        elements=st.floats(0, 1),
    )
)
def test_bernoulli_on_any_unit_interval_data(likelihood, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        vae = VAETransformer(
            likelihood=likelihood, hidden_layer_sizes=(4,), max_iter=2, random_state=0
        ).fit(X)
    assert np.all(np.isfinite(vae.score_samples(X)))
    probabilities = vae.inverse_transform(vae.transform(X))
    assert np.all((probabilities >= 0) & (probabilities <= 1))
