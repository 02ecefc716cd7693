"""Observation models p(x | z): one class per likelihood.

Each class turns the decoder's raw output into a log-density, a mean and a
sample. A likelihood's formula lives in its class and nowhere else; the
estimator looks classes up in :data:`LIKELIHOODS` by name.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

_LOG_2PI = math.log(2.0 * math.pi)


class Likelihood(nn.Module):
    """Base class of an observation model.

    Parameters
    ----------
    n_features : int
        Number of observed features.
    min_variance : float
        Lower bound on any variance the model learns (ignored by models
        without one).

    Attributes
    ----------
    standardizes_input : bool
        Whether the estimator standardises ``X`` before it reaches the model.
    support : tuple of float or None
        Closed interval the data must lie in, or None for the real line.
    """

    standardizes_input: bool = True
    support: tuple[float, float] | None = None

    def __init__(self, n_features: int, min_variance: float) -> None:
        super().__init__()
        self.n_features = n_features
        self.min_variance = min_variance

    def log_prob(self, x: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        """log p(x | z) summed over features: (..., n_features) -> (...)."""
        raise NotImplementedError

    def mean(self, output: torch.Tensor) -> torch.Tensor:
        """E[x | z] from the decoder output, in the model's units."""
        raise NotImplementedError

    def sample(self, output: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Draw x ~ p(x | z) from the decoder output."""
        raise NotImplementedError


class GaussianLikelihood(Likelihood):
    """Diagonal Gaussian with a learned per-feature variance.

    p(x | z) = N(x; m(z), diag(v)), where m(z) is the decoder output and
    v = min_variance + exp(log_excess_variance) is one learned variance per
    feature. The floor keeps the density bounded on near-constant or
    discrete features, where a free variance would collapse to zero.
    """

    def __init__(self, n_features: int, min_variance: float) -> None:
        super().__init__(n_features, min_variance)
        # exp(0) + floor ~ 1: the variance of standardised data.
        self.log_excess_variance = nn.Parameter(torch.zeros(n_features))

    def variance(self) -> torch.Tensor:
        return self.min_variance + torch.exp(self.log_excess_variance)

    def log_prob(self, x: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        variance = self.variance()
        squared_error = (x - self.mean(output)).square() / variance
        return -0.5 * (squared_error + torch.log(variance) + _LOG_2PI).sum(-1)

    def mean(self, output: torch.Tensor) -> torch.Tensor:
        return output

    def sample(self, output: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        noise = torch.randn(
            output.shape, generator=generator, device=output.device, dtype=output.dtype
        )
        return self.mean(output) + noise * self.variance().sqrt()


class GaussianSigmoidLikelihood(GaussianLikelihood):
    """Diagonal Gaussian whose mean is squashed into (0, 1) by a sigmoid.

    p(x | z) = N(x; sigmoid(o(z)), diag(v)) with o(z) the decoder output and v
    the learned per-feature variance of :class:`GaussianLikelihood`. This is
    the decoder Kingma & Welling (2013) used for the Frey Face images: data
    are used as given (no standardisation) and must lie in [0, 1], so
    ``min_variance`` is a floor in the data's own units.
    """

    standardizes_input = False
    support = (0.0, 1.0)

    def __init__(self, n_features: int, min_variance: float) -> None:
        super().__init__(n_features, min_variance)
        # Start near 1/12, the variance of a uniform distribution on [0, 1].
        with torch.no_grad():
            self.log_excess_variance.fill_(-math.log(12.0))

    def mean(self, output: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(output)


class BernoulliLikelihood(Likelihood):
    """Independent Bernoulli per feature, parameterised by logits.

    Data must lie in [0, 1]. Values between 0 and 1 are accepted (as the
    cross-entropy, as is common for grey-level images), but log p(x) is then
    not a normalised density.
    """

    standardizes_input = False
    support = (0.0, 1.0)

    def log_prob(self, x: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        x = x.expand_as(output)
        return -F.binary_cross_entropy_with_logits(output, x, reduction="none").sum(-1)

    def mean(self, output: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(output)

    def sample(self, output: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return torch.bernoulli(torch.sigmoid(output), generator=generator)


LIKELIHOODS: dict[str, type[Likelihood]] = {
    "gaussian": GaussianLikelihood,
    "gaussian_sigmoid": GaussianSigmoidLikelihood,
    "bernoulli": BernoulliLikelihood,
}
