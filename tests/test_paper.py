"""Checks behind "Reproducing the paper" (docs/paper.rst), on small data.

Figure 3 of Kingma & Welling (2013) rests on marginal likelihoods that can be
checked exactly when the latent space is small: with 2 latent variables
log p(x) = log int p(x|z) p(z) dz is an integral over a plane, which a fine
grid computes up to a negligible error without using the encoder at all.
"""

import math

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from skvae import VAETransformer


@pytest.fixture(scope="module")
def binary_digits():
    X, _ = load_digits(return_X_y=True)
    return (X > 8).astype(np.float64)


def grid_log_marginal(vae, X, n_points, half_width=6.0):
    """log p(x) per row by the midpoint rule on a square grid over z, in float64."""
    decoder = vae.module_.decoder.to(torch.float64).cpu()  # on the host
    likelihood = vae.module_.likelihood.to(torch.float64).cpu()
    step = 2 * half_width / n_points
    axis = -half_width + step * (np.arange(n_points) + 0.5)
    z = torch.from_numpy(np.stack(np.meshgrid(axis, axis), -1).reshape(-1, 2))
    log_prior = -0.5 * z.square().sum(-1) - math.log(2 * math.pi)
    x = torch.from_numpy(X)
    with torch.no_grad():
        output = decoder(z)  # (grid, features)
        log_joint = torch.stack(
            [likelihood.log_prob(row, output) + log_prior for row in x]
        )  # (rows, grid)
        log_marginal = torch.logsumexp(log_joint, dim=1) + 2 * math.log(step)
    vae.module_.to(torch.float32).to(vae.device_)
    return log_marginal.numpy()


# A small 2-latent Bernoulli VAE on the binarized digits, quick to train.
SMALL_BINARY_VAE = dict(
    n_components=2,
    hidden_layer_sizes=(32,),
    activation="tanh",
    likelihood="bernoulli",
    learning_rate=1e-2,
    max_iter=20,
)


def test_score_samples_agrees_with_grid_integration(binary_digits, quiet_fit):
    X_train, X_test = binary_digits[:1500], binary_digits[1500:1530]
    vae = VAETransformer(**SMALL_BINARY_VAE, n_importance_samples=2000, random_state=0)
    quiet_fit(vae, X_train)
    importance_weighted = vae.score_samples(X_test)
    exact = grid_log_marginal(vae, X_test, n_points=201)
    # The grid error is negligible: a coarser grid gives the same integral.
    coarser = grid_log_marginal(vae, X_test, n_points=151)
    np.testing.assert_allclose(coarser, exact, atol=1e-3)
    # A trained model, not a prior-sized blur, or the check would be easy.
    assert exact.mean() > -30
    np.testing.assert_array_less(np.abs(importance_weighted - exact), 0.5)
    # The importance-weighted bound is a lower bound (up to its own noise).
    assert importance_weighted.mean() < exact.mean() + 0.05


# ------------------------------------------------ options for the paper's setup


def test_gaussian_sigmoid_keeps_means_in_the_unit_interval(quiet_fit):
    rng = np.random.RandomState(0)
    X = rng.beta(2.0, 5.0, size=(200, 6))
    vae = quiet_fit(
        VAETransformer(
            2,
            hidden_layer_sizes=(16,),
            likelihood="gaussian_sigmoid",
            learning_rate=1e-2,
            max_iter=50,
            random_state=0,
        ),
        X,
    )
    # Data are used as given, not standardised.
    np.testing.assert_array_equal(vae.input_mean_, 0.0)
    np.testing.assert_array_equal(vae.input_scale_, 1.0)
    far = np.array([[-50.0, 50.0], [50.0, -50.0]])
    means = vae.inverse_transform(far)
    assert np.all((means > 0) & (means < 1))
    samples, _ = vae.sample(2000, random_state=0)
    assert samples.shape == (2000, 6)
    # Samples are in data units: their mean is near the data's.
    np.testing.assert_allclose(samples.mean(0), X.mean(0), atol=0.1)
    assert np.all(np.isfinite(vae.score_samples(X)))
    with pytest.raises(ValueError, match=r"gaussian_sigmoid.*\[0, 1\]"):
        vae.score_samples(X + 1.0)


def test_init_scale_sets_the_standard_deviation_of_weights_and_biases(
    binary_digits,
    quiet_fit,
):
    # Seeded: a vector of 50 draws has a sample deviation within 30% of
    # 0.01 only about 99.9% of the time, and an unseeded run failed once.
    vae = VAETransformer(
        2,
        hidden_layer_sizes=(50,),
        init_scale=0.01,
        max_iter=1,
        learning_rate=1e-9,
        random_state=0,
    )
    quiet_fit(vae, binary_digits)
    drawn = [
        parameter.detach().ravel()
        for name, parameter in vae.module_.named_parameters()
        if name.startswith(("encoder", "decoder"))
    ]
    assert 0.0095 < float(torch.cat(drawn).std()) < 0.0105
    for values in drawn:
        if values.numel() >= 50:  # biases too, where the estimate is stable
            assert 0.007 < float(values.std()) < 0.013
    default = quiet_fit(
        VAETransformer(2, hidden_layer_sizes=(50,), max_iter=1, random_state=0),
        binary_digits,
    )
    assert float(default.module_.encoder.body[0].weight.detach().std()) > 0.02


def test_iwae_objective_with_one_draw_is_close_to_the_elbo(binary_digits, quiet_fit):
    params = dict(hidden_layer_sizes=(32,), likelihood="bernoulli", max_iter=5)
    elbo = quiet_fit(VAETransformer(2, random_state=0, **params), binary_digits)
    iwae = quiet_fit(
        VAETransformer(2, objective="iwae", random_state=0, **params), binary_digits
    )
    # Same draws, same steps; only the KL term is sampled rather than analytic.
    np.testing.assert_allclose(iwae.loss_curve_, elbo.loss_curve_, rtol=0.02)
    assert abs(iwae.score(binary_digits) - elbo.score(binary_digits)) < 0.2


def test_iwae_objective_trains_for_the_importance_weighted_bound(
    binary_digits, quiet_fit
):
    X_train, X_test = binary_digits[:1500], binary_digits[1500:]
    gaps = {}
    for objective in ("elbo", "iwae"):
        vae = VAETransformer(
            **SMALL_BINARY_VAE,
            n_mc_samples=10,
            objective=objective,
            n_importance_samples=500,
            random_state=1,
        )
        quiet_fit(vae, X_train)
        importance_weighted = vae.score(X_test)
        elbo = vae.set_params(n_importance_samples=1).score(X_test)
        gaps[objective] = importance_weighted - elbo
    # Burda et al. (2015): trained on the K-sample bound, the model leaves a
    # much larger gap between that bound and the ELBO than a VAE does.
    assert gaps["iwae"] > 3 * gaps["elbo"] > 0


@pytest.mark.parametrize(
    "params, message",
    [
        ({"init_scale": 0.0}, "init_scale"),
        ({"init_scale": -1.0}, "init_scale"),
        ({"init_scale": "small"}, "init_scale"),
        ({"objective": "vae"}, "objective"),
        ({"objective": "iwae", "beta": 0.5}, "beta=1.0"),
    ],
)
def test_invalid_paper_options_are_named(binary_digits, params, message):
    with pytest.raises(ValueError, match=message):
        VAETransformer(**params).fit(binary_digits)
    with pytest.raises(ValueError, match=message):
        VAETransformer(**params).partial_fit(binary_digits)


def test_gaussian_sigmoid_rejects_data_outside_the_unit_interval():
    with pytest.raises(ValueError, match="gaussian_sigmoid"):
        VAETransformer(likelihood="gaussian_sigmoid").fit(np.full((5, 2), 2.0))
