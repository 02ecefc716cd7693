"""The variational bounds and the per-row statistics built from them.

KL to the prior, the SGVB bound, the IWAE bound. Notation: x is (batch,
n_features), z is (batch, latent) or, with several draws per row, (draws,
batch, latent).

:data:`OBJECTIVES` maps each training objective's name to an
:class:`Objective`; training, validation and the estimator's checks all
read it, so a new objective is one function and one entry here.
:data:`ROW_STATISTICS` does the same for the numbers per row that
``VAETransformer.row_statistic`` (and so the outlier detector) reports.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from ._networks import VAE

_LOG_2PI = math.log(2.0 * math.pi)


def kl_to_standard_normal(mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, diag exp(log_var)) || N(0, I)) per row, in closed form.

    -KL = 1/2 sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2), Kingma & Welling
    (2013), Appendix B.
    """
    return 0.5 * (mean.square() + log_var.exp() - 1.0 - log_var).sum(-1)


def sgvb_terms(
    model: VAE, x: torch.Tensor, noise: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Expected log-likelihood and KL per row: the SGVB estimator B.

    ``noise`` is standard normal of shape (n_draws, batch, latent) or
    (n_draws, 1, latent) when the draws are shared by every row. The
    reconstruction term is averaged over the draws through the
    reparameterisation z = mean + sigma * noise; the KL term is analytic.
    """
    mean, log_var = model.encode(x)  # (batch, latent) each
    z = mean + torch.exp(0.5 * log_var) * noise  # (draws, batch, latent)
    output = model.decode(z)  # (draws, batch, n_outputs)
    expected_log_lik = model.likelihood.log_prob(x, output).mean(0)  # (batch,)
    return expected_log_lik, kl_to_standard_normal(mean, log_var)


def importance_log_weights(
    model: VAE, x: torch.Tensor, noise: torch.Tensor, conditioning: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """log p(x_obs, z_k) / q(z_k | x) per draw and row, and the decoder outputs.

    z_k = mean + sigma * noise_k; returns log weights (draws, batch) and the
    decoder's outputs (draws, batch, n_outputs). Missing values of x (NaN)
    are left out of p(x_obs | z). With ``conditioning`` (weights to
    condition on x_obs with), so are the cells whose density does not depend
    on z (see ``Likelihood.without_uninformative_cells``): the weights are
    then proportional to the same ones, but defined for a row the model
    gives density 0 (a constant column holding another value).
    """
    mean, log_var = model.encode(x)
    z = mean + torch.exp(0.5 * log_var) * noise  # (draws, batch, latent)
    n_components = mean.shape[-1]
    log_prior = -0.5 * (z.square().sum(-1) + n_components * _LOG_2PI)
    log_posterior = -0.5 * (
        noise.square().sum(-1) + log_var.sum(-1) + n_components * _LOG_2PI
    )
    output = model.decode(z)
    if conditioning:
        x = model.likelihood.without_uninformative_cells(x)
    log_lik = model.likelihood.log_prob(x, output)  # (draws, batch)
    return log_lik + log_prior - log_posterior, output


def importance_weighted_bound(
    model: VAE, x: torch.Tensor, noise: torch.Tensor
) -> torch.Tensor:
    """The importance-weighted bound on log p(x) per row (Burda et al., 2015).

    log (1/K) sum_k p(x, z_k) / q(z_k | x) with z_k = mean + sigma * noise_k.
    One draw gives an ELBO with a sampled KL; the bound tightens towards
    log p(x) as the number of draws K grows. With missing values, it bounds
    log p(x_obs), the marginal likelihood of the observed part.
    """
    log_weights, _ = importance_log_weights(model, x, noise)
    return torch.logsumexp(log_weights, dim=0) - math.log(noise.shape[0])


def conditional_mean(model: VAE, x: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """E[x | x_obs] per row, by self-normalised importance sampling.

    sum_k w_k E[x | z_k] with w_k proportional to p(x_obs, z_k) / q(z_k | x):
    the importance-weighted imputation of Mattei & Frellsen (2019). Returns
    (batch, n_features) in the model's units, for every feature (the caller
    keeps the observed values).
    """
    log_weights, output = importance_log_weights(model, x, noise, conditioning=True)
    weights = torch.softmax(log_weights, dim=0)  # (draws, batch)
    return model.likelihood.weighted_mean(output, weights)


def conditional_draw(
    model: VAE, x: torch.Tensor, noise: torch.Tensor, generator: torch.Generator
) -> torch.Tensor:
    """One draw of x from p(x | x_obs), approximately, per row.

    Sampling importance resampling: a draw z_k picked with probability w_k
    (as in :func:`conditional_mean`), then x ~ p(x | z_k).
    """
    log_weights, output = importance_log_weights(model, x, noise, conditioning=True)
    picked = torch.multinomial(
        torch.softmax(log_weights, dim=0).T, 1, generator=generator
    )[:, 0]  # (batch,)
    chosen = output[picked, torch.arange(x.shape[0], device=x.device)]
    return model.likelihood.sample(chosen, generator)


def beta_elbo(model: VAE, x: torch.Tensor, noise: torch.Tensor, beta: float):
    """The SGVB bound per row with the KL term weighted by ``beta``."""
    expected_log_lik, kl = sgvb_terms(model, x, noise)
    return expected_log_lik - beta * kl


def iwae(model: VAE, x: torch.Tensor, noise: torch.Tensor, beta: float):
    """The importance-weighted bound per row (``beta`` must be 1)."""
    return importance_weighted_bound(model, x, noise)


@dataclass(frozen=True)
class Objective:
    """A training objective: a per-row lower bound and how to monitor it.

    Attributes
    ----------
    bound : callable
        ``bound(model, x, noise, beta)`` -> (batch,) per-row bound, with
        ``noise`` of shape (draws, batch, latent). Training maximises its
        mean over the rows.
    validation_draws : callable
        ``validation_draws(n_mc_samples)`` -> draws per validation row.
    weights_kl : bool
        Whether ``beta`` means something to this objective; if not, the
        estimator requires ``beta=1``.
    """

    bound: Callable[..., torch.Tensor]
    validation_draws: Callable[[int], int]
    weights_kl: bool


OBJECTIVES: dict[str, Objective] = {
    # Monitored with one draw and the analytic KL (beta = 1 on validation).
    "elbo": Objective(beta_elbo, validation_draws=lambda n: 1, weights_kl=True),
    # Monitored with the training's K draws, the bound being trained.
    "iwae": Objective(iwae, validation_draws=lambda n: n, weights_kl=False),
}


# ----------------------------------------------------------- row statistics


def _elbo(model: VAE, x: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    expected_log_lik, kl = sgvb_terms(model, x, noise)
    return expected_log_lik - kl


def _expected_log_likelihood(
    model: VAE, x: torch.Tensor, noise: torch.Tensor
) -> torch.Tensor:
    expected_log_lik, _ = sgvb_terms(model, x, noise)
    return expected_log_lik


def _reconstruction_error(model: VAE, x: torch.Tensor, noise: None) -> torch.Tensor:
    mean, _ = model.encode(x)
    reconstruction = model.likelihood.mean(model.decode(mean))
    squared_error = (x - reconstruction).square()
    return squared_error.masked_fill(torch.isnan(x), 0.0).sum(-1)


def _latent_energy(model: VAE, x: torch.Tensor, noise: None) -> torch.Tensor:
    mean, _ = model.encode(x)
    return 0.5 * mean.square().sum(-1)


@dataclass(frozen=True)
class RowStatistic:
    """A number per row computed from a fitted model.

    Attributes
    ----------
    compute : callable
        ``compute(model, x, noise)`` -> (batch,), with ``noise`` of shape
        (draws, batch, latent), or None when ``uses_draws`` is False.
    uses_draws : bool
        Whether the statistic averages over draws of z ~ q(z | x).
    is_log_density : bool
        Whether the value is a log density (or a bound on one) of x, which
        the caller reports in the units of the user's data.
    higher_is_typical : bool
        Whether a higher value means a row more typical of the model (true
        of the log densities; the distances are the other way round).
    """

    compute: Callable[..., torch.Tensor]
    uses_draws: bool
    is_log_density: bool
    higher_is_typical: bool = True


ROW_STATISTICS: dict[str, RowStatistic] = {
    # The bound score_samples reports.
    "importance_weighted": RowStatistic(
        lambda model, x, noise: importance_weighted_bound(model, x, noise),
        uses_draws=True,
        is_log_density=True,
    ),
    "elbo": RowStatistic(_elbo, uses_draws=True, is_log_density=True),
    # E_q[log p(x | z)], the first term of the ELBO.
    "reconstruction": RowStatistic(
        _expected_log_likelihood, uses_draws=True, is_log_density=True
    ),
    # ||x - E[x | z = E[z | x]]||^2 in the model's (standardised) units.
    "reconstruction_error": RowStatistic(
        _reconstruction_error,
        uses_draws=False,
        is_log_density=False,
        higher_is_typical=False,
    ),
    # 1/2 ||E[z | x]||^2: how far the code sits from the prior's centre.
    "latent_energy": RowStatistic(
        _latent_energy, uses_draws=False, is_log_density=False, higher_is_typical=False
    ),
}
