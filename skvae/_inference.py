"""A fitted model run over the user's rows.

:class:`Inference` holds a model with its standardisation and runs it over
row blocks of bounded size, in float64 by default: encoding, decoding,
sampling, imputation, and the per-row bounds and statistics, reported in
the data's units (:func:`~skvae._data.log_scale_of_observed`). The
estimator's scores and the training loop's validation bound both go through
:meth:`Inference.bounds`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ._data import (
    dense,
    log_scale_of_observed,
    near_equal_parts,
    out_of_memory_advice,
)
from ._networks import VAE
from ._objectives import ROW_STATISTICS, conditional_draw, conditional_mean
from ._torch_utils import (
    make_generator,
    row_noise,
    standard_normal,
    standardize,
    to_numpy,
    to_tensor,
    using_threads,
)

# Inference works on row blocks of about this many float64 numbers
# (rows x draws x widest layer), so memory stays bounded for any n_samples.
INFERENCE_BLOCK_NUMBERS = 2**22


def map_row_blocks(
    X, function, model, device, n_draws, center, scale, dtype=torch.float64, rows=None
):
    """Apply ``function(tensor, array)`` to row blocks of X, standardised
    with ``center`` and ``scale``, and stack the results.

    Blocks hold about ``INFERENCE_BLOCK_NUMBERS`` numbers per layer, so
    memory stays bounded for any number of rows.
    ``rows`` (indices) restricts the work to those rows, gathered one
    block at a time.
    """
    layer_widths = [
        layer.out_features
        for layer in model.modules()
        if hasattr(layer, "out_features")
    ]
    widest = max([X.shape[1], *layer_widths])
    block = max(1, INFERENCE_BLOCK_NUMBERS // (n_draws * widest))
    n_rows = X.shape[0] if rows is None else len(rows)
    results = []
    for start, stop in near_equal_parts(n_rows, block):
        part = X[start:stop] if rows is None else X[rows[start:stop]]
        part = standardize(dense(part), center, scale)
        results.append(to_numpy(function(to_tensor(part, device, dtype), part)))
    return np.concatenate(results)


@dataclass
class Inference:
    """A model run over the user's rows, in blocks, with its standardisation.

    Parameters
    ----------
    model : VAE
        The networks; :meth:`of` makes a float64 copy in evaluation mode, so
        results do not depend on batching.
    center, scale : ndarray of shape (n_features,)
        The fitted standardisation: the model sees ``(X - center) / scale``.
    threads : int or None
        Torch's intra-op thread count while computing (None: torch's own).
    advice : str
        The setting named when the device runs out of memory.
    """

    model: VAE
    center: np.ndarray
    scale: np.ndarray
    threads: int | None
    advice: str

    @classmethod
    def of(cls, module, center, scale, threads, advice):
        """Inference with a float64 copy of ``module``, on its device."""
        model = copy.deepcopy(module).to(dtype=torch.float64).eval()
        return cls(model, center, scale, threads, advice)

    @property
    def device(self):
        return next(self.model.parameters()).device

    def map(self, X, function, n_draws, dtype=torch.float64, rows=None):
        """:func:`map_row_blocks` with this model, standardisation and threads."""
        with (
            torch.no_grad(),
            out_of_memory_advice(self.advice),
            using_threads(self.threads),
        ):
            return map_row_blocks(
                X,
                function,
                self.model,
                self.device,
                n_draws,
                self.center,
                self.scale,
                dtype,
                rows,
            )

    def encode(self, X):
        """Posterior means and standard deviations of q(z | x), as arrays."""

        def encode(x, rows):
            mean, log_var = self.model.encode(x)
            return torch.cat([mean, torch.exp(0.5 * log_var)], dim=1)

        encoded = self.map(X, encode, n_draws=1)
        n_components = encoded.shape[1] // 2
        return encoded[:, :n_components], encoded[:, n_components:]

    def decode_mean(self, Z):
        """The mean of p(x | z) for each latent code, in the data's units."""
        with torch.no_grad(), using_threads(self.threads):
            z = torch.from_numpy(np.asarray(Z, dtype=np.float64)).to(self.device)
            decoded = to_numpy(self.model.likelihood.mean(self.model.decode(z)))
        return self.to_data_units(decoded)

    def sample(self, n_samples, data_seed, latent_seed):
        """(x, z): z ~ p(z) drawn from ``latent_seed``, then x ~ p(x | z)."""
        generator = make_generator(data_seed, torch.device("cpu"))
        shape = (n_samples, self.model.n_components)
        z = standard_normal(shape, latent_seed, self.device, torch.float64)
        with torch.no_grad(), using_threads(self.threads):
            output = self.model.decode(z).cpu()
            x = self.model.likelihood.to("cpu").sample(output, generator)
        return self.to_data_units(to_numpy(x)), to_numpy(z)

    def row_statistic(self, X, statistic, seed, n_draws):
        """One :data:`~skvae._objectives.ROW_STATISTICS` value per row of X.

        Draws are keyed by ``seed`` and each row's values (see
        :func:`~skvae._torch_utils.row_noise`). Log densities are reported
        in the data's units; a row so far from the data that float64
        overflows (inf - inf) has zero density in the limit, so gets -inf
        rather than NaN.
        """
        kind = ROW_STATISTICS[statistic]
        values = self.bounds(X, kind.compute, seed, n_draws, uses_draws=kind.uses_draws)
        if not kind.is_log_density:
            return values
        values[np.isnan(values)] = -np.inf
        # The density of the observed part: only its features' scales count.
        return values - log_scale_of_observed(X, self.scale)

    def bounds(
        self,
        X,
        compute: Callable[..., torch.Tensor],
        seed: int,
        n_draws: int,
        dtype=torch.float64,
        rows=None,
        uses_draws: bool = True,
    ) -> np.ndarray:
        """``compute(model, x, noise)`` for each row of X (or of ``rows``),
        in the model's units: a bound, or a term of one.

        ``noise`` holds ``n_draws`` standard-normal draws per row keyed by
        ``seed`` and the row's values (see
        :func:`~skvae._torch_utils.row_noise`); None without ``uses_draws``.
        """
        n_components = self.model.n_components

        def compute_block(x, block_rows):
            noise = None
            if uses_draws:
                noise = row_noise(
                    block_rows, seed, n_draws, n_components, x.device, x.dtype
                )
            return compute(self.model, x, noise)[:, None]

        return self.map(X, compute_block, n_draws, dtype, rows)[:, 0]

    def impute(self, X, seed, n_draws, draw_seed=None):
        """X with its missing values (NaN) filled, in the data's units.

        The conditional mean E[x_mis | x_obs] by self-normalised importance
        sampling with ``n_draws`` draws per row keyed by ``seed`` (see
        :func:`~skvae._objectives.conditional_mean`); or, with ``draw_seed``,
        one draw from the conditional (for multiple imputation), from draws
        of z of its own, so equal rows get independent completions. Observed
        values are returned as given.
        """
        n_components = self.model.n_components
        generator = None
        if draw_seed is not None:
            # Draws come from a CPU generator, so they are made on the CPU.
            generator = make_generator(draw_seed, torch.device("cpu"))
            self.model.cpu()

        def fill(x, rows):
            if generator is None:
                noise = row_noise(rows, seed, n_draws, n_components, x.device, x.dtype)
                return conditional_mean(self.model, x, noise)
            # Fresh draws, so two equal rows get independent completions.
            shape = (n_draws, x.shape[0], n_components)
            noise = torch.randn(shape, generator=generator, dtype=x.dtype)
            return conditional_draw(self.model, x, noise, generator)

        filled = self.to_data_units(self.map(X, fill, n_draws))
        return np.where(np.isnan(X), filled, X)

    def to_data_units(self, standardized):
        return standardized * self.scale + self.center
