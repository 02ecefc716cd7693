"""Is it the inference or the model? Three probes of VAEImputer's conditional means.

On the tables and seed-0 masks of ``benchmarks/imputation.py`` (30% MCAR),
one VAE (skvae 0.3's imputer network with the decoder's variance per
feature) is fitted as ``VAEImputer(vae, random_state=seed)`` fits it, and
its conditional means E[x_mis | x_obs] are computed:

* with more importance draws (100, 1,000, 5,000);
* with an adaptive proposal: half the draws from the encoder's q(z | x),
  half from a Gaussian fitted to their importance weights (its variance
  doubled), every draw weighted against the equal mixture of the two
  proposals (deterministic-mixture importance sampling);
* from a VAE whose encoder was trained on rows with more cells hidden
  than the data have (a random share, up to half, of each training row's
  observed cells hidden from the encoder but still scored by the decoder,
  so the bound stays a bound on log p(x_obs));
* from ``VAEImputer()``'s three networks weighted, row by row, by each
  one's estimate of log p(x_obs) (the conditional mean under the mixture
  of the three models) instead of equally (the mean of the mixture of
  their conditionals, what ``VAEImputer`` returns). Numeric tables only.

If better inference closed the gap to the best scikit-learn imputer, the
fix would be in ``skvae._inference``; it does not (``docs/tables.rst``).
The probes patch skvae's internals for the length of one measurement; they
are not part of the package. Run from the repository root::

    python benchmarks/imputer_inference.py ../shared/data --data 20_letter breast_cancer
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from pathlib import Path
from unittest.mock import patch

import numpy as np
import torch
from scipy.special import softmax
from sklearn.utils import check_random_state

import skvae._inference
import skvae._networks
from skvae import VAEImputer
from skvae._objectives import _LOG_2PI
from skvae._torch_utils import draw_seed

sys.path.insert(0, str(Path(__file__).resolve().parent))
from imputation import as_codes, draw_mask, load_tables, score  # noqa: E402
from imputer_selection import candidate  # noqa: E402


def _log_normal(z, loc, scale):
    standardized = (z - loc) / scale
    return -0.5 * (
        standardized.square().sum(-1)
        + 2 * torch.log(scale).sum(-1)
        + z.shape[-1] * _LOG_2PI
    )


def adaptive_conditional_mean(model, x, noise):
    """E[x | x_obs] from draws of q(z | x) and of a Gaussian adapted to them."""
    mean, log_var = model.encode(x)
    q_scale = torch.exp(0.5 * log_var)
    half = noise.shape[0] // 2
    z_q = mean + q_scale * noise[:half]
    output_q = model.decode(z_q)
    log_joint_q = model.likelihood.log_prob(x, output_q) + _log_normal(
        z_q, torch.zeros_like(z_q), torch.ones_like(z_q)
    )
    weights = torch.softmax(log_joint_q - _log_normal(z_q, mean, q_scale), 0)
    fitted_mean = (weights[..., None] * z_q).sum(0)
    fitted_var = (weights[..., None] * (z_q - fitted_mean).square()).sum(0)
    # Doubled, and kept off zero when one draw takes all the weight.
    g_scale = torch.sqrt(2 * fitted_var + 1e-3 * q_scale.square())
    z_g = fitted_mean + g_scale * noise[half:]
    output_g = model.decode(z_g)
    log_joint_g = model.likelihood.log_prob(x, output_g) + _log_normal(
        z_g, torch.zeros_like(z_g), torch.ones_like(z_g)
    )
    z = torch.cat([z_q, z_g])
    log_mixture = torch.logaddexp(
        _log_normal(z, mean, q_scale), _log_normal(z, fitted_mean, g_scale)
    ) - math.log(2)
    log_weights = torch.cat([log_joint_q, log_joint_g]) - log_mixture
    output = torch.cat([output_q, output_g])
    return model.likelihood.weighted_mean(output, torch.softmax(log_weights, 0))


def encode_with_more_hidden(generator):
    """VAE.encode that, in training, hides up to half of each row's cells."""
    original = skvae._networks.VAE.encode

    def encode(self, x):
        if self.training:
            share = 0.5 * torch.rand(x.shape[0], 1, generator=generator)
            hidden = torch.rand(x.shape, generator=generator) < share
            x = x.masked_fill(hidden, float("nan"))
        return original(self, x)

    return encode


def probe(name: str, frame, seed: int) -> None:
    """Print the probes' RMSE and seconds (fit and fill) on one table."""
    truth, categorical = as_codes(frame)
    mask = draw_mask(frame, "mcar30", np.random.RandomState(seed))
    masked = frame.mask(mask)
    # imputer_selection.py's per-feature network, with the seed
    # VAEImputer(random_state=seed) gives its VAE.
    vae_seed = draw_seed(check_random_state(seed)) % 2**32

    def network():
        return candidate("wide, per-feature", frame.shape[1], vae_seed)

    def report(label, vae, n_draws, fit_seconds):
        start = time.perf_counter()
        filled = as_codes(vae.impute(masked, n_draws))[0]
        seconds = fit_seconds + time.perf_counter() - start
        rmse = score(truth, filled, mask, categorical)[0]
        print(f"{name:16} {label:40} RMSE {rmse:7.4f}  {seconds:7.2f}s", flush=True)

    start = time.perf_counter()
    vae = network().fit(masked)
    fit_seconds = time.perf_counter() - start
    for n_draws in (100, 1000, 5000):
        report(f"{n_draws} draws", vae, n_draws, fit_seconds)
    with patch.object(skvae._inference, "conditional_mean", adaptive_conditional_mean):
        for n_draws in (100, 1000):
            report(f"adaptive proposal, {n_draws} draws", vae, n_draws, fit_seconds)
    encode = encode_with_more_hidden(torch.Generator().manual_seed(seed))
    start = time.perf_counter()
    with patch.object(skvae._networks.VAE, "encode", encode):
        vae = network().fit(masked)
    fit_seconds = time.perf_counter() - start
    report("encoder trained with more cells hidden", vae, 100, fit_seconds)
    start = time.perf_counter()
    imputer = VAEImputer(random_state=seed).fit(masked)
    equal = as_codes(imputer.transform(masked))[0]
    fills = np.stack([as_codes(v.impute(masked, 100))[0] for v in imputer.vaes_])
    log_evidence = np.stack([v.score_samples(masked) for v in imputer.vaes_])
    weighted = np.einsum("mr,mrc->rc", softmax(log_evidence, axis=0), fills)
    seconds = time.perf_counter() - start
    for label, filled in (
        ("three networks, equal", equal),
        ("three, by likelihood", weighted),
    ):
        rmse = score(truth, filled, mask, categorical)[0]
        print(f"{name:16} {label:40} RMSE {rmse:7.4f}  {seconds:7.2f}s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-rows", type=int, default=2000)
    parser.add_argument("--data", nargs="+", default=["20_letter", "breast_cancer"])
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    tables = load_tables(args.data_dir, args.max_rows, np.random.RandomState(0))
    for name in args.data:
        probe(name, tables[name], args.seed)


if __name__ == "__main__":
    main()
