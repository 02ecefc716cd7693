"""Observation models p(x | z): one class per likelihood.

Each class turns the decoder's raw output into a log-density, a mean and a
sample, checks the data it accepts, says what the encoder sees and names the
estimator parameters it reads (``hyperparameters``). A likelihood's formula
lives in its class and nowhere else; the estimator looks classes up in
:data:`LIKELIHOODS` by name, so a new likelihood is one class and one
registry entry.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Set

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn
from torch.nn import functional as F

_LOG_2PI = math.log(2.0 * math.pi)


class Likelihood(nn.Module, metaclass=abc.ABCMeta):
    """Base class of an observation model.

    Subclasses implement :meth:`log_prob_terms`, :meth:`mean` and
    :meth:`sample` (abstract: a class missing one cannot be instantiated) and
    may override :meth:`check_data` and :meth:`encoder_input`. A model
    with settings of its own takes them as keyword arguments of ``__init__``
    named after the estimator's parameters, and lists them in
    ``hyperparameters``; :meth:`build` passes it those and no others.

    Parameters
    ----------
    n_features : int
        Number of observed features.

    Attributes
    ----------
    standardizes_input : bool
        Whether the estimator standardises ``X`` before it reaches the model.
    support : tuple of float or None
        Closed interval the data must lie in, or None for the real line.
    hyperparameters : tuple of str
        The estimator parameters this model reads, by name.
    for_all_features : bool
        Whether ``likelihood=name`` may give every feature this model.
    for_a_column : bool
        Whether a per-column ``likelihood`` ('auto', a list or a dict) may
        give a column this model.
    """

    standardizes_input: bool = True
    support: tuple[float, float] | None = None
    hyperparameters: tuple[str, ...] = ()
    for_all_features: bool = True
    for_a_column: bool = True

    def __init__(self, n_features: int) -> None:
        super().__init__()
        self.n_features = n_features

    @classmethod
    def build(cls, n_features: int, **settings) -> Likelihood:
        """The model for ``n_features`` features, given the estimator's
        settings; those not in ``hyperparameters`` are ignored."""
        own = {name: settings[name] for name in cls.hyperparameters if name in settings}
        return cls(n_features, **own)

    @property
    def n_outputs(self) -> int:
        """Width of the decoder output this model reads (one per feature here)."""
        return self.n_features

    @property
    def n_encoder_inputs(self) -> int:
        """Width of :meth:`encoder_input`'s output (one per feature here)."""
        return self.n_features

    @classmethod
    def check_data(cls, X, name: str) -> None:
        """Raise ValueError, naming the likelihood ``name``, if X is not data
        this model describes. By default: every value within ``support``."""
        if cls.support is None or not X.size:
            return
        low, high = cls.support
        values = X.data if sp.issparse(X) else X
        if np.isnan(values).all():  # nothing observed, nothing to check
            return
        smallest, largest = np.nanmin(values), np.nanmax(values)
        if smallest < low or largest > high:
            raise ValueError(
                f"likelihood={name!r} requires every value of X to "
                f"lie in [{low:g}, {high:g}]; got values in "
                f"[{smallest:g}, {largest:g}]. Rescale X, e.g. with "
                "MinMaxScaler(clip=True) so unseen rows stay in range, or use "
                "likelihood='gaussian'."
            )

    def encoder_input(self, x: torch.Tensor) -> torch.Tensor:
        """What the encoder reads of a row (the row itself by default)."""
        return x

    def onnx_encoder_input(self, graph, x: str) -> str:
        """:meth:`encoder_input` as ONNX nodes written with ``graph`` (an
        :class:`~skvae._onnx.OnnxGraph`); ``x`` and the result are names."""
        return x

    def onnx_mean(self, graph, output: str) -> str:
        """:meth:`mean` as ONNX nodes (see :meth:`onnx_encoder_input`)."""
        raise NotImplementedError(f"{type(self).__name__} has no ONNX export.")

    def log_prob(self, x: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        """log p(x_obs | z): the terms of the observed features summed,
        (..., n_features) -> (...). Missing values (NaN) contribute nothing;
        they are filled with 0 before the terms are computed, so no NaN
        reaches the gradients."""
        missing = torch.isnan(x)
        terms = self.log_prob_terms(torch.nan_to_num(x, nan=0.0), output)
        return terms.masked_fill(missing, 0.0).sum(-1)

    def without_uninformative_cells(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` with the cells whose log-density does not depend on z set
        to NaN (left out of :meth:`log_prob`). Their terms are the same for
        every draw of z, so they cancel from self-normalised importance
        weights, except where the density is 0 for every draw (a constant
        column holding another value), which would make every weight 0.
        By default every cell's density depends on z: ``x`` is returned."""
        return x

    def weighted_mean(
        self, output: torch.Tensor, weights: torch.Tensor
    ) -> torch.Tensor:
        """The mean of a mixture of p(x | z_k) with ``weights`` (draws, batch):
        ``output`` is (draws, batch, n_outputs), the result (batch,
        n_features). What an imputation fills in."""
        return (weights[..., None] * self.mean(output)).sum(0)

    @abc.abstractmethod
    def log_prob_terms(self, x: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        """log p(x_j | z) of each feature: (..., n_features)."""

    @abc.abstractmethod
    def mean(self, output: torch.Tensor) -> torch.Tensor:
        """E[x | z] from the decoder output, in the model's units."""

    @abc.abstractmethod
    def sample(self, output: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Draw x ~ p(x | z) from the decoder output."""


VARIANCE_TYPES = ("per_point", "per_feature")


class GaussianLikelihood(Likelihood):
    """Diagonal Gaussian whose variance is a function of z, or one per feature.

    p(x | z) = N(x; m(z), diag v), where the variance v comes from one of:

    - ``decoder_variance="per_point"`` (the default): the decoder outputs both the
      mean and the variance of every feature, as functions of z, the Gaussian
      MLP decoder of Kingma & Welling (2013), Appendix C.2. The last layer
      has ``2 * n_features`` outputs: the mean, then a raw value r with
      ``v = min_variance + softplus(r + c)``, where ``c`` makes ``r = 0`` the
      start value ``initial_variance``. Softplus rather than exp keeps large
      variances from overflowing; for small ones it is exp(r + c).
    - ``decoder_variance="per_feature"``: one learned variance per feature, shared by
      every z, ``v = min_variance + exp(log_excess_variance)`` (homoscedastic;
      the only model of skvae 0.1).

    The floor ``min_variance`` keeps the density bounded on near-constant or
    discrete features, where a free variance would collapse to zero.

    With ``tail_mass`` = t > 0 each feature is a two-part mixture,
    ``(1 - t) N(x; m(z), v) + t b(x)``, where the background b is the
    feature's spread in the training data (N(0, 1) of standardised data;
    uniform on [0, 1] for :class:`GaussianSigmoidLikelihood`). A per-point
    variance can be confidently wrong on a row unlike the training rows (a
    pixel inked where no training digit had ink): the Gaussian alone then
    charges it hundreds of nats for one value, the mixture at most
    ``-log t`` plus the background's own term. Typical rows lose about
    ``t`` nats per feature.

    Parameters
    ----------
    n_features : int
        Number of observed features.
    min_variance : float or sequence of float
        Lower bound on the variance, for every feature or one per feature.
    decoder_variance : {"per_point", "per_feature"}, default="per_point"
        Whether the variance is a function of z or one per feature.
    tail_mass : float, default=0.0
        Weight t of the background part, in [0, 1); 0 is the Gaussian alone.
    """

    hyperparameters = ("min_variance", "decoder_variance", "tail_mass")
    # The variance a new model starts from: that of standardised data.
    initial_variance = 1.0

    def __init__(
        self,
        n_features: int,
        min_variance: float,
        decoder_variance: str = "per_point",
        tail_mass: float = 0.0,
    ) -> None:
        super().__init__(n_features)
        if not 0.0 <= tail_mass < 1.0:
            raise ValueError(f"tail_mass must lie in [0, 1); got {tail_mass!r}.")
        self.tail_mass = float(tail_mass)
        if isinstance(min_variance, int | float):
            self.min_variance = float(min_variance)
        else:  # one per feature; follows the model's device and dtype
            floor = torch.as_tensor(min_variance, dtype=torch.get_default_dtype())
            self.register_buffer("min_variance", floor, persistent=False)
        if decoder_variance not in VARIANCE_TYPES:
            raise ValueError(
                f"decoder_variance must be one of {VARIANCE_TYPES}; "
                f"got {decoder_variance!r}."
            )
        self.per_point = decoder_variance == "per_point"
        if self.per_point:
            # softplus(offset) = initial_variance
            self.variance_offset = math.log(math.expm1(self.initial_variance))
        else:
            self.log_excess_variance = nn.Parameter(
                torch.full((n_features,), math.log(self.initial_variance))
            )

    @property
    def n_outputs(self) -> int:
        return 2 * self.n_features if self.per_point else self.n_features

    def location(self, output: torch.Tensor) -> torch.Tensor:
        """The part of the decoder output that sets the mean."""
        return output[..., : self.n_features] if self.per_point else output

    def variance(self, output: torch.Tensor | None = None) -> torch.Tensor:
        """Variance per feature: (..., n_features), or (n_features,) if shared."""
        if not self.per_point:
            return self.min_variance + torch.exp(self.log_excess_variance)
        raw = output[..., self.n_features :]
        return self.min_variance + F.softplus(raw + self.variance_offset)

    def log_prob_terms(self, x: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        variance = self.variance(output)
        squared_error = (x - self.gaussian_mean(output)).square() / variance
        terms = -0.5 * (squared_error + torch.log(variance) + _LOG_2PI)
        if not self.tail_mass:
            return terms
        return torch.logaddexp(
            terms + math.log1p(-self.tail_mass),
            self.background_log_density(x) + math.log(self.tail_mass),
        )

    def background_log_density(self, x: torch.Tensor) -> torch.Tensor:
        """log b(x) of the background part: N(0, 1) of standardised data."""
        return -0.5 * (x.square() + _LOG_2PI)

    # The background's mean, in the model's units.
    background_mean = 0.0

    def gaussian_mean(self, output: torch.Tensor) -> torch.Tensor:
        """The mean m(z) of the Gaussian part."""
        return self.location(output)

    def mean(self, output: torch.Tensor) -> torch.Tensor:
        mean = self.gaussian_mean(output)
        if not self.tail_mass:
            return mean
        return (1.0 - self.tail_mass) * mean + self.tail_mass * self.background_mean

    def onnx_location(self, graph, output: str) -> str:
        if not self.per_point:
            return output
        starts, ends, axes = ([0], [self.n_features], [-1])
        return graph.node(
            "Slice",
            output,
            graph.constant(np.array(starts, dtype=np.int64)),
            graph.constant(np.array(ends, dtype=np.int64)),
            graph.constant(np.array(axes, dtype=np.int64)),
        )

    def onnx_gaussian_mean(self, graph, output: str) -> str:
        return self.onnx_location(graph, output)

    def onnx_mean(self, graph, output: str) -> str:
        mean = self.onnx_gaussian_mean(graph, output)
        if not self.tail_mass:
            return mean
        scaled = graph.node("Mul", mean, graph.constant(1.0 - self.tail_mass))
        shift = graph.constant(self.tail_mass * self.background_mean)
        return graph.node("Add", scaled, shift)

    def sample(self, output: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        mean = self.gaussian_mean(output)
        noise = torch.randn(
            mean.shape, generator=generator, device=mean.device, dtype=mean.dtype
        )
        draws = mean + noise * self.variance(output).sqrt()
        if not self.tail_mass:
            return draws
        uniform = torch.rand(
            mean.shape, generator=generator, device=mean.device, dtype=mean.dtype
        )
        return torch.where(
            uniform < self.tail_mass, self.background_sample(uniform, generator), draws
        )

    def background_sample(
        self, like: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        """Draws from the background part, of the shape of ``like``."""
        return torch.randn(
            like.shape, generator=generator, device=like.device, dtype=like.dtype
        )


class GaussianSigmoidLikelihood(GaussianLikelihood):
    """Diagonal Gaussian whose mean is squashed into (0, 1) by a sigmoid.

    p(x | z) = N(x; sigmoid(o(z)), diag v) with o(z) the decoder output and v
    the variance of :class:`GaussianLikelihood` (per point by default, or per
    feature). This is the decoder Kingma & Welling (2013) used for the Frey
    Face images: data are used as given (no standardisation) and must lie in
    [0, 1], so ``min_variance`` is a floor in the data's own units.
    """

    standardizes_input = False
    support = (0.0, 1.0)
    for_a_column = False  # a table's continuous columns are standardised
    # 1/12, the variance of a uniform distribution on [0, 1].
    initial_variance = 1.0 / 12.0

    # The background is uniform on [0, 1]: density 1, mean 1/2.
    background_mean = 0.5

    def background_log_density(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x)

    def background_sample(
        self, like: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        return torch.rand(
            like.shape, generator=generator, device=like.device, dtype=like.dtype
        )

    def gaussian_mean(self, output: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.location(output))

    def onnx_gaussian_mean(self, graph, output: str) -> str:
        return graph.node("Sigmoid", self.onnx_location(graph, output))


class BernoulliLikelihood(Likelihood):
    """Independent Bernoulli per feature, parameterised by logits.

    Data must lie in [0, 1]. Values between 0 and 1 are accepted (as the
    cross-entropy, as is common for grey-level images), but log p(x) is then
    not a normalised density.
    """

    standardizes_input = False
    support = (0.0, 1.0)

    def log_prob_terms(self, x: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        x = x.expand_as(output)
        return -F.binary_cross_entropy_with_logits(output, x, reduction="none")

    def mean(self, output: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(output)

    def onnx_mean(self, graph, output: str) -> str:
        return graph.node("Sigmoid", output)

    def sample(self, output: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return torch.bernoulli(torch.sigmoid(output), generator=generator)


class PoissonLikelihood(Likelihood):
    """Independent Poisson counts per feature, with rates from the decoder.

    p(x_j | z) = rate_j^x_j exp(-rate_j) / x_j!, with rate = softplus(o(z))
    for the decoder output o(z) (softplus rather than exp keeps large rates
    from overflowing). log p(x) is the exact log-probability of the counts,
    in nats. Data must be non-negative integers; the encoder reads
    ``log1p(x)``, which keeps large counts from dominating its input.
    """

    standardizes_input = False
    support = (0.0, math.inf)

    @classmethod
    def check_data(cls, X, name: str) -> None:
        values = X.data if sp.issparse(X) else X  # a sparse matrix's zeros are counts
        values = values[~np.isnan(values)]  # missing values are allowed
        if values.size and (values.min() < 0 or np.any(values != np.round(values))):
            raise ValueError(
                f"likelihood={name!r} models counts: every value of X must be a "
                "non-negative integer; got "
                + (
                    f"a negative value ({values.min():g})."
                    if values.min() < 0
                    else "non-integer values."
                )
                + " Use likelihood='gaussian' for real-valued data."
            )

    def encoder_input(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log1p(x)

    def onnx_encoder_input(self, graph, x: str) -> str:
        return graph.node("Log", graph.node("Add", x, graph.constant(1.0)))

    def rate(self, output: torch.Tensor) -> torch.Tensor:
        return F.softplus(output)

    def log_prob_terms(self, x: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        rate = self.rate(output)
        return torch.xlogy(x, rate) - rate - torch.lgamma(x + 1.0)

    def mean(self, output: torch.Tensor) -> torch.Tensor:
        return self.rate(output)

    def onnx_mean(self, graph, output: str) -> str:
        return graph.unary("Softplus", output)

    def variance(self, output: torch.Tensor) -> torch.Tensor:
        """Variance per feature, equal to the rate for a Poisson count."""
        return self.rate(output)

    def sample(self, output: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return torch.poisson(self.rate(output), generator=generator)


class CategoricalLikelihood(Likelihood):
    """Independent categorical columns, each a softmax over its levels.

    A column holds level codes 0, 1, ..., L - 1; the decoder outputs L
    logits per column and log p(x_j | z) is the log-softmax of the observed
    level. The encoder reads each column one-hot. ``mean`` is the most
    probable level (the mode); ``probabilities`` gives them all.

    Parameters
    ----------
    n_features : int
        Number of categorical columns.
    n_levels : sequence of int
        Number of levels of each column.
    """

    standardizes_input = False
    hyperparameters = ("n_levels",)
    for_all_features = False  # its levels come from a table's columns

    def __init__(self, n_features: int, n_levels) -> None:
        super().__init__(n_features)
        self.n_levels = [int(n) for n in n_levels]
        if len(self.n_levels) != n_features or min(self.n_levels, default=2) < 2:
            raise ValueError("n_levels must give at least 2 levels per column.")
        self.bounds = np.cumsum([0, *self.n_levels]).tolist()

    @property
    def n_outputs(self) -> int:
        return self.bounds[-1]

    @property
    def n_encoder_inputs(self) -> int:
        return self.bounds[-1]

    def _logits(self, output: torch.Tensor):
        for j in range(self.n_features):
            yield j, output[..., self.bounds[j] : self.bounds[j + 1]]

    def onnx_encoder_input(self, graph, x: str) -> str:
        raise NotImplementedError("Categorical columns have no ONNX export yet.")

    def encoder_input(self, x: torch.Tensor) -> torch.Tensor:
        parts = []
        for j, n_levels in enumerate(self.n_levels):
            codes = x[..., j]
            levels = torch.arange(n_levels, device=x.device, dtype=x.dtype)
            parts.append((codes[..., None] == levels).to(x.dtype))  # NaN: zeros
        return torch.cat(parts, dim=-1)

    def log_prob_terms(self, x: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        terms = []
        for j, logits in self._logits(output):
            log_p = torch.log_softmax(logits, dim=-1)
            codes = x[..., j].long().expand(log_p.shape[:-1])
            terms.append(log_p.gather(-1, codes[..., None])[..., 0])
        return torch.stack(terms, dim=-1)

    def probabilities(self, output: torch.Tensor) -> list[torch.Tensor]:
        """The level probabilities of each column: (..., n_levels_j) each."""
        return [torch.softmax(logits, dim=-1) for _, logits in self._logits(output)]

    def mean(self, output: torch.Tensor) -> torch.Tensor:
        modes = [logits.argmax(-1) for _, logits in self._logits(output)]
        return torch.stack(modes, dim=-1).to(output.dtype)

    def weighted_mean(
        self, output: torch.Tensor, weights: torch.Tensor
    ) -> torch.Tensor:
        # The most probable level of the mixture, not a mean of level codes.
        modes = [
            (weights[..., None] * probabilities).sum(0).argmax(-1)
            for probabilities in self.probabilities(output)
        ]
        return torch.stack(modes, dim=-1).to(output.dtype)

    def sample(self, output: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        draws = []
        for probabilities in self.probabilities(output):
            flat = probabilities.reshape(-1, probabilities.shape[-1])
            draw = torch.multinomial(flat, 1, generator=generator)
            draws.append(draw.reshape(probabilities.shape[:-1]))
        return torch.stack(draws, dim=-1).to(output.dtype)


class ConstantLikelihood(Likelihood):
    """Columns with a single value, modelled exactly: probability 1 there.

    The estimator standardises a constant column by its own value (the
    centre is the value, the scale 1), so the model sees 0 wherever the
    column holds it: log p(x_j | z) is 0 there and -inf at any other value,
    the mean and every draw are the value, and the column costs the
    networks nothing (no decoder output, no encoder input). A table's
    single-level category or a numeric column that never changes is one.
    """

    standardizes_input = True
    for_all_features = False  # a column's model, not a whole data set's

    @property
    def n_outputs(self) -> int:
        return 0

    @property
    def n_encoder_inputs(self) -> int:
        return 0

    def encoder_input(self, x: torch.Tensor) -> torch.Tensor:
        return x[..., :0]

    def _zeros(self, output: torch.Tensor) -> torch.Tensor:
        return output.new_zeros((*output.shape[:-1], self.n_features))

    def log_prob_terms(self, x: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        zeros = self._zeros(output)
        return zeros.masked_fill((x != 0).expand_as(zeros), -math.inf)

    def mean(self, output: torch.Tensor) -> torch.Tensor:
        return self._zeros(output)

    def without_uninformative_cells(self, x: torch.Tensor) -> torch.Tensor:
        """Every cell: the value says nothing about z."""
        return torch.full_like(x, math.nan)

    def variance(self, output: torch.Tensor) -> torch.Tensor:
        """No spread at all: 0 per column."""
        return self._zeros(output)

    def sample(self, output: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return self._zeros(output)


class MixedLikelihood(Likelihood):
    """One likelihood per column of a table (continuous, binary, counts,
    categories): the columns of each kind share a likelihood of that kind.

    log p(x | z) is the sum of the columns' terms, each in its column's units.
    The decoder's output is the concatenation of the kinds' outputs, and the
    encoder reads the concatenation of what each kind's likelihood gives it
    (standardised values, 0/1, ``log1p`` of counts, one-hot categories).

    Parameters
    ----------
    n_features : int
        Number of columns.
    column_kinds : sequence of str
        Each column's kind: 'gaussian', 'bernoulli', 'poisson',
        'categorical' or 'constant'.
    n_levels : sequence of int
        Each column's number of levels (0 for non-categorical columns).
    min_variance, decoder_variance, tail_mass
        As for :class:`GaussianLikelihood`, for the Gaussian columns
        (``min_variance`` per column, or one for all).
    """

    hyperparameters = (
        "column_kinds",
        "n_levels",
        "min_variance",
        "decoder_variance",
        "tail_mass",
    )
    # What a per-column specification resolves to, not a name to give.
    for_all_features = False
    for_a_column = False

    def __init__(
        self,
        n_features: int,
        column_kinds,
        n_levels,
        min_variance=1e-3,
        decoder_variance: str = "per_point",
        tail_mass: float = 0.0,
    ) -> None:
        super().__init__(n_features)
        self.column_kinds = list(column_kinds)
        floors = np.broadcast_to(np.asarray(min_variance, dtype=float), (n_features,))
        self.groups = nn.ModuleList()
        self.columns: list[list[int]] = []
        for kind in dict.fromkeys(self.column_kinds):  # kinds in order of first use
            columns = [j for j, k in enumerate(self.column_kinds) if k == kind]
            settings = dict(
                min_variance=floors[columns].tolist(),
                decoder_variance=decoder_variance,
                tail_mass=tail_mass,
                n_levels=[n_levels[j] for j in columns],
            )
            self.groups.append(LIKELIHOODS[kind].build(len(columns), **settings))
            self.columns.append(columns)
        widths = [group.n_outputs for group in self.groups]
        self.output_bounds = np.cumsum([0, *widths]).tolist()
        self.order = torch.as_tensor(np.argsort(np.concatenate(self.columns)))

    @property
    def n_outputs(self) -> int:
        return self.output_bounds[-1]

    @property
    def n_encoder_inputs(self) -> int:
        return sum(group.n_encoder_inputs for group in self.groups)

    @property
    def standardized_columns(self) -> np.ndarray:
        return standardized_columns(self.column_kinds)

    def _parts(self, x: torch.Tensor | None, output: torch.Tensor | None):
        for g, group in enumerate(self.groups):
            part_x = None if x is None else x[..., self.columns[g]]
            part_output = None
            if output is not None:
                part_output = output[
                    ..., self.output_bounds[g] : self.output_bounds[g + 1]
                ]
            yield group, part_x, part_output

    def _in_column_order(self, parts: list[torch.Tensor]) -> torch.Tensor:
        joined = torch.cat(parts, dim=-1)
        return joined[..., self.order.to(joined.device)]

    def encoder_input(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat(
            [group.encoder_input(part) for group, part, _ in self._parts(x, None)],
            dim=-1,
        )

    def onnx_encoder_input(self, graph, x: str) -> str:
        raise NotImplementedError("Per-column likelihoods have no ONNX export yet.")

    def log_prob_terms(self, x: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        return self._in_column_order(
            [group.log_prob_terms(px, po) for group, px, po in self._parts(x, output)]
        )

    def mean(self, output: torch.Tensor) -> torch.Tensor:
        return self._in_column_order(
            [group.mean(po) for group, _, po in self._parts(None, output)]
        )

    def without_uninformative_cells(self, x: torch.Tensor) -> torch.Tensor:
        kept = x
        for group, columns in zip(self.groups, self.columns, strict=True):
            part = x[..., columns]
            conditioned = group.without_uninformative_cells(part)
            if conditioned is part:  # every cell of this kind depends on z
                continue
            if kept is x:  # copy only when some kind changes something
                kept = x.clone()
            kept[..., columns] = conditioned
        return kept

    def weighted_mean(
        self, output: torch.Tensor, weights: torch.Tensor
    ) -> torch.Tensor:
        parts = self._parts(None, output)
        return self._in_column_order(
            [group.weighted_mean(po, weights) for group, _, po in parts]
        )

    def sample(self, output: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return self._in_column_order(
            [group.sample(po, generator) for group, _, po in self._parts(None, output)]
        )


LIKELIHOODS: dict[str, type[Likelihood]] = {
    "gaussian": GaussianLikelihood,
    "gaussian_sigmoid": GaussianSigmoidLikelihood,
    "bernoulli": BernoulliLikelihood,
    "poisson": PoissonLikelihood,
    "categorical": CategoricalLikelihood,
    "constant": ConstantLikelihood,
    "mixed": MixedLikelihood,
}


class RegisteredNames(Set):
    """The names in :data:`LIKELIHOODS` whose class passes ``test``, and
    ``extra``, read from the registry at each use: a likelihood registered
    after import is accepted by the estimator's parameter check too."""

    def __init__(self, test, extra=()):
        self.test = test
        self.extra = tuple(extra)

    @classmethod
    def _from_iterable(cls, names):  # what set operations on it return
        return frozenset(names)

    def _names(self) -> list[str]:
        registered = [name for name, cls in LIKELIHOODS.items() if self.test(cls)]
        return [*self.extra, *registered]

    def __contains__(self, name) -> bool:
        return name in self._names()

    def __iter__(self):
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())


# The names ``likelihood=...`` accepts for every feature, and those a column
# of a per-column specification accepts.
FOR_ALL_FEATURES = RegisteredNames(lambda cls: cls.for_all_features)
FOR_A_COLUMN = RegisteredNames(lambda cls: cls.for_a_column)


def standardized_columns(column_kinds) -> np.ndarray:
    """Whether each column of a per-column specification is standardised
    before it reaches the model, as its likelihood says."""
    return np.array([LIKELIHOODS[kind].standardizes_input for kind in column_kinds])
