"""The bounds against closed forms: analytic KL, exact linear-Gaussian log p(x)."""

import math

import numpy as np
import torch
from scipy import stats

from skvae._networks import build_vae
from skvae._objectives import (
    importance_weighted_bound,
    kl_to_standard_normal,
    sgvb_terms,
)


def test_analytic_kl_matches_monte_carlo():
    generator = torch.Generator().manual_seed(0)
    mean = torch.tensor([[0.5, -1.0, 2.0]], dtype=torch.float64)
    log_var = torch.tensor([[-0.5, 0.3, -2.0]], dtype=torch.float64)
    std = torch.exp(0.5 * log_var)
    z = mean + std * torch.randn(400000, 3, generator=generator, dtype=torch.float64)
    log_q = stats.norm(mean.numpy(), std.numpy()).logpdf(z.numpy()).sum(1)
    log_p = stats.norm(0, 1).logpdf(z.numpy()).sum(1)
    monte_carlo = np.mean(log_q - log_p)
    analytic = kl_to_standard_normal(mean, log_var).item()
    assert abs(analytic - monte_carlo) < 0.01
    # And the analytic value itself, written out per dimension.
    by_hand = sum(
        0.5 * (m**2 + math.exp(lv) - 1 - lv)
        for m, lv in zip(mean[0].tolist(), log_var[0].tolist(), strict=True)
    )
    assert math.isclose(analytic, by_hand, rel_tol=1e-12)


def test_kl_is_zero_at_the_prior():
    zeros = torch.zeros(2, 4)
    assert torch.all(kl_to_standard_normal(zeros, zeros) == 0)


def _linear_gaussian_vae(seed=0):
    """A linear VAE: its decoder defines x ~ N(W z + b, diag(v)) exactly."""
    generator = torch.Generator().manual_seed(seed)
    model = build_vae(
        4,
        2,
        [],
        "identity",
        "gaussian",
        generator,
        min_variance=1e-3,
        decoder_variance="per_feature",
    ).double()
    with torch.no_grad():
        log_excess = torch.tensor([-1.0, -0.5, 0.0, -2.0])
        model.likelihood.log_excess_variance.copy_(log_excess)
    return model


def _exact_log_marginal(model, x):
    W = model.decoder.output_head.weight.detach().numpy()  # (features, latent)
    b = model.decoder.output_head.bias.detach().numpy()
    variance = model.likelihood.variance().detach().numpy()
    covariance = W @ W.T + np.diag(variance)
    return stats.multivariate_normal(b, covariance).logpdf(x.numpy())


def test_importance_weighted_bound_tightens_towards_exact_log_likelihood():
    model = _linear_gaussian_vae()
    x = torch.randn(
        50, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64
    )
    exact = _exact_log_marginal(model, x)
    gaps = []
    with torch.no_grad():
        for n_draws in [1, 10, 100, 5000]:
            noise = torch.randn(
                n_draws,
                50,
                2,
                generator=torch.Generator().manual_seed(2),
                dtype=torch.float64,
            )
            bound = importance_weighted_bound(model, x, noise).numpy()
            gaps.append(np.mean(exact - bound))
    # A lower bound in expectation, shrinking as the number of draws grows.
    assert gaps[0] > 0
    assert np.all(np.diff(gaps) <= 1e-3)
    assert gaps[-1] < 0.05 * gaps[0]


def test_bounds_are_exact_when_q_is_the_true_posterior():
    """With q(z|x) = p(z|x) every importance weight equals p(x)."""
    model = _linear_gaussian_vae()
    W = torch.tensor(
        [[1.0, 0.0], [0.0, 2.0], [1.0, 0.0], [0.0, -1.0]], dtype=torch.float64
    )
    b = torch.tensor([0.5, -1.0, 2.0, 0.0], dtype=torch.float64)
    with torch.no_grad():
        model.likelihood.log_excess_variance.fill_(-0.7)  # isotropic noise
        variance = model.likelihood.variance()[0]
        model.decoder.output_head.weight.copy_(W)
        model.decoder.output_head.bias.copy_(b)
        # Orthogonal columns of W make the true posterior covariance diagonal.
        posterior_cov = torch.linalg.inv(
            torch.eye(2, dtype=torch.float64) + W.T @ W / variance
        )
        encoder_weight = posterior_cov @ W.T / variance
        model.encoder.mean_head.weight.copy_(encoder_weight)
        model.encoder.mean_head.bias.copy_(-encoder_weight @ b)
        model.encoder.log_var_head.weight.zero_()
        model.encoder.log_var_head.bias.copy_(torch.log(torch.diagonal(posterior_cov)))
    x = torch.randn(
        20, 4, generator=torch.Generator().manual_seed(3), dtype=torch.float64
    )
    exact = _exact_log_marginal(model, x)
    noise = torch.randn(
        3, 20, 2, generator=torch.Generator().manual_seed(4), dtype=torch.float64
    )
    with torch.no_grad():
        one_draw = importance_weighted_bound(model, x, noise[:1]).numpy()
        three_draws = importance_weighted_bound(model, x, noise).numpy()
        many = torch.randn(
            20000,
            20,
            2,
            generator=torch.Generator().manual_seed(5),
            dtype=torch.float64,
        )
        expected_log_lik, kl = sgvb_terms(model, x, many)
    np.testing.assert_allclose(one_draw, exact, rtol=1e-10)
    np.testing.assert_allclose(three_draws, exact, rtol=1e-10)
    np.testing.assert_allclose((expected_log_lik - kl).numpy(), exact, atol=0.02)


def test_sgvb_terms_average_the_draws():
    model = _linear_gaussian_vae()
    x = torch.randn(
        3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(4)
    )
    noise = torch.randn(
        6, 3, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(5)
    )
    with torch.no_grad():
        together, kl = sgvb_terms(model, x, noise)
        one_by_one = torch.stack(
            [sgvb_terms(model, x, noise[i : i + 1])[0] for i in range(6)]
        )
    torch.testing.assert_close(together, one_by_one.mean(0))
    assert torch.all(kl >= 0)
