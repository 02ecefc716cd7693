"""Is letter's gap the VAE's, or networks'? A probe.

``docs/tables.rst`` found that no setting of ``VAEImputer``'s VAE, and no
better inference, brings letter within 30% of MissForest, and named a
decoder that sees the observed cells as a lead. This probe, in plain
PyTorch, fits that model class: a VAE whose prior and decoder are
conditioned on the observed cells (arbitrary conditioning):

- a prior network p(z | x_b, b) and a decoder p(x_u | z, x_b, b), where b
  marks the cells given as conditions and u the others;
- a proposal network q(z | x_obs, m) that sees every observed cell;
- trained on the observed cells: for each row, a random share of its
  observed cells is hidden from the prior and decoder, which must give
  them density (a Gaussian per cell), with KL(q || p(z | x_b, b));
- a hidden cell is filled with the mean of the decoder's means over 50
  draws of z from p(z | x_obs), every observed cell given as a condition.

With ``--latent 0`` there is no z: the decoder is a network that predicts
the hidden cells from the given ones, trained the same way.

``--regression-columns 0 5 9 16 21 25`` asks the question under all of
these with nothing missing: how well networks and trees predict each of
those columns from all the others (5-fold cross-validation).

It runs on the numeric tables, rows and 30% MCAR masks of
``benchmarks/imputation.py`` and prints, per table and seed, the RMSE on
the masked cells (standardised) and seconds, beside MissForest's
(IterativeImputer with extra trees), IterativeImputer's, and
IterativeImputer's with an MLPRegressor in place of the trees, on the same
masks in the same run. Run from the repository root::

    python benchmarks/imputer_conditioned.py ../shared/data \\
        --data 20_letter --seeds 0 1 2
    python benchmarks/imputer_conditioned.py ../shared/data \\
        --data 20_letter --regression-columns 0 5 9 16 21 25

The figures are in ``docs/tables.rst``.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.neighbors import KNeighborsRegressor
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from imputation import (  # noqa: E402
    as_codes,
    draw_mask,
    impute,
    load_tables,
    score,
)


def mlp(n_in, width, n_out):
    return nn.Sequential(
        nn.Linear(n_in, width),
        nn.ReLU(),
        nn.Linear(width, width),
        nn.ReLU(),
        nn.Linear(width, n_out),
    )


class Conditioned(nn.Module):
    """Prior, proposal and decoder networks, all conditioned on given cells."""

    def __init__(self, n_features, n_latent, width):
        super().__init__()
        self.n_latent = n_latent
        if n_latent:
            self.prior = mlp(2 * n_features, width, 2 * n_latent)
            self.proposal = mlp(2 * n_features, width, 2 * n_latent)
        self.decoder = mlp(n_latent + 2 * n_features, width, 2 * n_features)

    @staticmethod
    def given(x, b):
        return torch.cat([torch.where(b, x, 0.0), b.float()], dim=-1)

    def decode(self, z, x, b):
        given = self.given(x, b)
        if self.n_latent:
            given = torch.cat([z, given.expand(*z.shape[:-1], -1)], dim=-1)
        mean, log_var = self.decoder(given).chunk(2, dim=-1)
        return mean, log_var.clamp(-9.0, 5.0)

    def loss(self, x, observed, given):
        """Minus the bound on log p(x_targets | x_given), summed over rows."""
        targets = observed & ~given
        zero = x.new_zeros(())
        if self.n_latent:
            q_mean, q_log_var = self.proposal(self.given(x, observed)).chunk(2, -1)
            p_mean, p_log_var = self.prior(self.given(x, given)).chunk(2, -1)
            q_log_var, p_log_var = q_log_var.clamp(-9, 5), p_log_var.clamp(-9, 5)
            z = q_mean + torch.exp(0.5 * q_log_var) * torch.randn_like(q_mean)
            kl = (
                0.5
                * (
                    p_log_var
                    - q_log_var
                    + (torch.exp(q_log_var) + (q_mean - p_mean) ** 2)
                    / torch.exp(p_log_var)
                    - 1.0
                ).sum()
            )
        else:
            z, kl = None, zero
        mean, log_var = self.decode(z, x, given)
        log_density = -0.5 * (
            log_var + (x - mean) ** 2 / torch.exp(log_var) + math.log(2 * math.pi)
        )
        return -(torch.where(targets, log_density, zero)).sum() + kl

    @torch.no_grad()
    def fill(self, x, observed, n_draws, generator):
        """The mean over draws of z ~ p(z | x_obs) of the decoder's means."""
        if not self.n_latent:
            return self.decode(None, x, observed)[0]
        p_mean, p_log_var = self.prior(self.given(x, observed)).chunk(2, -1)
        noise = torch.randn(
            n_draws, *p_mean.shape, generator=generator, dtype=p_mean.dtype
        )
        z = p_mean + torch.exp(0.5 * p_log_var.clamp(-9, 5)) * noise
        return self.decode(z, x, observed)[0].mean(0)


def hide(observed, generator, low=0.1, high=0.6):
    """Cells given as conditions: each observed cell, with a row's own
    chance drawn in [1 - high, 1 - low]."""
    rate = low + (high - low) * torch.rand(observed.shape[0], 1, generator=generator)
    return observed & (torch.rand(observed.shape, generator=generator) >= rate)


def center_and_scale(values):
    """Each column's mean and standard deviation (1 for a constant one),
    NaN left out."""
    scale = np.nanstd(values, axis=0)
    scale[~(scale > 0)] = 1.0
    return np.nanmean(values, axis=0), scale


def fit_and_fill(values, n_latent, width, seed, max_epochs=3000, patience=100):
    """Fill the NaN cells of ``values`` with the conditioned model."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    center, scale = center_and_scale(values)
    standard = (values - center) / scale
    observed = torch.as_tensor(~np.isnan(standard))
    x = torch.as_tensor(np.nan_to_num(standard), dtype=torch.float32)
    n_rows = len(x)
    order = torch.randperm(n_rows, generator=generator)
    n_validation = max(1, n_rows // 10)
    validation, training = order[:n_validation], order[n_validation:]
    # Fixed cells hidden in the validation rows: the stopping rule's error.
    validation_given = hide(observed[validation], generator, 0.3, 0.3)
    validation_targets = observed[validation] & ~validation_given
    model = Conditioned(x.shape[1], n_latent, width)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    batch = min(64, len(training))
    best, best_state, waited = np.inf, None, 0
    for _ in range(max_epochs):
        model.train()
        for rows in training[torch.randperm(len(training), generator=generator)].split(
            batch
        ):
            given = hide(observed[rows], generator)
            loss = model.loss(x[rows], observed[rows], given) / len(rows)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        filled = model.fill(x[validation], validation_given, 50, generator)
        error = float(((filled - x[validation])[validation_targets] ** 2).mean())
        if error < best:
            best, waited = error, 0
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            waited += 1
            if waited > patience:
                break
    model.load_state_dict(best_state)
    model.eval()
    filled = model.fill(x, observed, 50, generator).double().numpy()
    filled = np.where(observed.numpy(), standard, filled)
    return filled * scale + center


def iterative_mlp(values, seed):
    """MissForest's scheme with a network in place of the trees: each
    column regressed on the others by scikit-learn's MLPRegressor, in turn,
    five rounds, on standardised columns."""
    center, scale = center_and_scale(values)
    network = MLPRegressor(
        hidden_layer_sizes=(100,), early_stopping=True, max_iter=500, random_state=seed
    )
    imputer = IterativeImputer(estimator=network, max_iter=5, random_state=seed)
    return imputer.fit_transform((values - center) / scale) * scale + center


def regression_without_gaps(values, columns, seed):
    """Networks against trees with nothing missing: each of ``columns``
    predicted from all the others, 5-fold cross-validated. Returns, per
    regressor, the root mean of the columns' squared errors (standardised)
    and seconds."""

    def network():
        return MLPRegressor(
            hidden_layer_sizes=(256, 256),
            early_stopping=True,
            max_iter=500,
            random_state=seed,
        )

    def one_hot():
        return OneHotEncoder(handle_unknown="ignore")

    regressors = {
        "extra trees (50)": lambda: ExtraTreesRegressor(50, random_state=seed),
        "MLP (256, 256)": lambda: make_pipeline(StandardScaler(), network()),
        "MLP, one-hot inputs": lambda: make_pipeline(one_hot(), network()),
        "MLP, both inputs": lambda: make_pipeline(
            FeatureUnion([("values", StandardScaler()), ("levels", one_hot())]),
            network(),
        ),
        "3 nearest neighbours": lambda: make_pipeline(
            StandardScaler(), KNeighborsRegressor(3)
        ),
    }
    folds = KFold(5, shuffle=True, random_state=seed)
    results = {}
    for name, make in regressors.items():
        start, squares = time.perf_counter(), []
        for j in columns:
            target = (values[:, j] - values[:, j].mean()) / values[:, j].std()
            others = np.delete(values, j, axis=1)
            predicted = cross_val_predict(make(), others, target, cv=folds)
            squares.append(np.mean((predicted - target) ** 2))
        results[name] = (float(np.sqrt(np.mean(squares))), time.perf_counter() - start)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--data", nargs="+", help="only these data sets")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--max-rows", type=int, default=2000)
    parser.add_argument("--latent", nargs="*", type=int, default=[16, 0])
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument(
        "--references",
        nargs="*",
        default=["missforest", "iterative", "iterative MLP"],
        choices=["missforest", "iterative", "iterative MLP"],
    )
    parser.add_argument(
        "--regression-columns",
        nargs="+",
        type=int,
        help="instead: networks against trees on the complete table, these "
        "columns each predicted from the others",
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    tables = load_tables(args.data_dir, args.max_rows, np.random.RandomState(0))
    if args.regression_columns:
        for name in args.data or list(tables):
            values = as_codes(tables[name])[0]
            results = regression_without_gaps(values, args.regression_columns, 0)
            for label, (rmse, seconds) in results.items():
                print(f"{name:16} {label:24} RMSE {rmse:7.4f}  {seconds:7.1f}s")
        return
    for name in args.data or list(tables):
        frame = tables[name]
        truth, categorical = as_codes(frame)
        if categorical.any():
            print(f"{name}: has categorical columns, skipped")
            continue
        for seed in args.seeds:
            mask = draw_mask(frame, "mcar30", np.random.RandomState(seed))
            values = np.where(mask, np.nan, truth)
            rows = []
            for n_latent in args.latent:
                start = time.perf_counter()
                filled = fit_and_fill(values, n_latent, args.width, seed)
                seconds = time.perf_counter() - start
                label = f"conditioned, {n_latent} latent"
                rmse = score(truth, filled, mask, categorical)[0]
                rows.append((label, rmse, seconds))
            for reference in args.references:
                start = time.perf_counter()
                if reference == "iterative MLP":
                    filled = iterative_mlp(values, seed)
                else:
                    filled = impute(reference, frame.mask(mask), seed)
                seconds = time.perf_counter() - start
                rmse = score(truth, filled, mask, categorical)[0]
                rows.append((reference, rmse, seconds))
            for label, rmse, seconds in rows:
                print(
                    f"{name:16} seed {seed}  {label:24} RMSE {rmse:7.4f}  "
                    f"{seconds:7.1f}s",
                    flush=True,
                )


if __name__ == "__main__":
    main()
