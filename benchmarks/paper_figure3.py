"""The check behind Figure 3 of Kingma & Welling (2013): is log p(x) right?

With 3 latent variables the marginal likelihood p(x) = int p(x|z) p(z) dz can
be computed by numerical integration over a grid in latent space, exact up to
the grid error, with no use of the encoder's estimate. This script trains
VAETransformer on binarized MNIST (100 tanh hidden units, 3 latent variables,
the paper's Adagrad setup) on N_train = 1,000 and 50,000 rows and compares,
on a fixed random subset of test rows and on as many training rows,
``score_samples`` (the importance-weighted bound with ``--k`` draws) with the
grid integral.

The integral is computed in float64 with the fitted decoder
(``module_.decoder`` and ``module_.likelihood``) in two parts: a coarse grid
over [-6, 6]^3 and, per test row, a fine grid over a box around the coarse
grid's best point (sized from the posterior standard deviation and widened
until the integrand on its faces is 20 nats below its peak), which replaces
the coarse cells it covers. Usage::

    OMP_NUM_THREADS=1 python benchmarks/paper_figure3.py DATA_DIR
"""

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import scipy.io
import torch

from skvae import VAETransformer

_LOG_2PI = math.log(2 * math.pi)


def axis_grid(low, high, n):
    """Midpoints of n equal cells on [low, high] and the cell width."""
    width = (high - low) / n
    return low + width * (np.arange(n) + 0.5), width


def log_joint(model, x, z):
    """log p(x | z) + log p(z) for rows x (n, d) and grid points z (m, 3)."""
    chunk = max(1, 2**24 // (x.shape[0] * x.shape[1]))  # bounded memory
    out = []
    with torch.no_grad():
        for start in range(0, len(z), chunk):
            zc = torch.from_numpy(z[start : start + chunk])
            output = model.decoder(zc).expand(x.shape[0], -1, -1)  # (n, m, d)
            log_lik = model.likelihood.log_prob(x[:, None, :], output)
            log_prior = -0.5 * (zc.square().sum(-1) + zc.shape[-1] * _LOG_2PI)
            out.append(log_lik + log_prior)
    return torch.cat(out, dim=1)  # (n, m)


def grid_log_marginal(vae, X, n_coarse=48, n_fine=31):
    """log p(x) per row by the two-level grid rule; also the edge margins."""
    model = vae.module_.to(dtype=torch.float64)
    x = torch.from_numpy(np.asarray(X, dtype=np.float64))
    axis, width = axis_grid(-6.0, 6.0, n_coarse)
    coarse = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3)
    coarse_log = log_joint(model, x, coarse)  # (n, m)
    _, std = vae.transform(X, return_std=True)
    results, margins = [], []
    for i in range(len(X)):
        center = coarse[int(coarse_log[i].argmax())]
        half = np.maximum(6 * std[i], 2 * width)
        while True:
            bounds = zip(center - half, center + half, strict=True)
            axes = [axis_grid(low, high, n_fine) for low, high in bounds]
            points = np.stack(
                np.meshgrid(*[a for a, _ in axes], indexing="ij"), -1
            ).reshape(-1, 3)
            fine_log = log_joint(model, x[i : i + 1], points)[0]
            cube = fine_log.reshape(n_fine, n_fine, n_fine)
            faces = torch.stack(
                [
                    cube[0].max(), cube[-1].max(), cube[:, 0].max(),
                    cube[:, -1].max(), cube[:, :, 0].max(), cube[:, :, -1].max(),
                ]
            )  # fmt: skip
            margin = float(fine_log.max() - faces.max())
            if margin > 20 or half.min() > 6:
                break
            half = 2 * half
        inside = np.all(np.abs(coarse - center) < half, axis=1)
        cell = np.prod([w for _, w in axes])
        parts = [fine_log + math.log(cell)]
        if not inside.all():
            parts.append(coarse_log[i, ~torch.from_numpy(inside)] + 3 * math.log(width))
        results.append(float(torch.logsumexp(torch.cat(parts), 0)))
        margins.append(margin)
    vae.module_.to(dtype=torch.float32)
    return np.array(results), np.array(margins)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir")
    parser.add_argument("--minutes", type=float, default=2.0, help="per model")
    parser.add_argument("--n-test", type=int, default=20)
    parser.add_argument("--k", type=int, default=5000)
    parser.add_argument("--k-large", type=int, default=0, help="also score with")
    parser.add_argument("--n-train", type=int, nargs="*", default=[1000, 50000])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="docs/images/paper_figure3.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    folder = Path(args.data_dir) / "binarized_mnist"
    X_train = scipy.io.loadmat(folder / "binarized_mnist_train.mat")["X"]
    X_test = scipy.io.loadmat(folder / "binarized_mnist_test.mat")["X"]
    X_train, X_test = X_train.astype(np.float32), X_test.astype(np.float32)
    rng = np.random.RandomState(0)
    X_eval = X_test[rng.choice(len(X_test), args.n_test, replace=False)]
    results = {}
    for n_train in args.n_train:
        vae = VAETransformer(
            3,
            hidden_layer_sizes=(100,),
            activation="tanh",
            likelihood="bernoulli",
            init_scale=0.01,
            objective="elbo",  # the paper's estimator B: analytic KL, L = 1
            n_mc_samples=1,
            solver="adagrad",
            learning_rate=0.02,
            batch_size=100,
            alpha=1.0 / n_train,
            device="cpu",
            random_state=0,
        )
        start, epochs = time.perf_counter(), 0
        while time.perf_counter() - start < 60 * args.minutes:
            vae.partial_fit(X_train[:n_train])
            epochs += 1
        train_seconds = time.perf_counter() - start
        row = dict(epochs=epochs, train_seconds=train_seconds)
        # Test rows, and as many training rows, where the encoder was fitted.
        for split, X_rows in (("test", X_eval), ("train", X_train[: args.n_test])):
            vae.set_params(n_importance_samples=args.k)
            start = time.perf_counter()
            iw = vae.score_samples(X_rows)
            iw_seconds = time.perf_counter() - start
            start = time.perf_counter()
            grid, margins = grid_log_marginal(vae, X_rows)
            if args.k_large:
                vae.set_params(n_importance_samples=args.k_large)
                iw_large = vae.score_samples(X_rows)
                row[split + "_k_large"] = dict(
                    iw_mean=float(iw_large.mean()),
                    max_abs_diff=float(np.abs(iw_large - grid).max()),
                    mean_diff=float((iw_large - grid).mean()),
                    n_within_half_nat=int(np.sum(np.abs(iw_large - grid) < 0.5)),
                )
            row[split] = dict(
                iw_mean=float(iw.mean()),
                grid_mean=float(grid.mean()),
                max_abs_diff=float(np.abs(iw - grid).max()),
                mean_diff=float((iw - grid).mean()),
                n_within_half_nat=int(np.sum(np.abs(iw - grid) < 0.5)),
                min_edge_margin=float(margins.min()),
                iw_seconds=iw_seconds,
                grid_seconds=time.perf_counter() - start,
            )
        vae.set_params(n_importance_samples=1)
        row["train_elbo"] = vae.score(X_train[:n_train][:10000])
        row["test_elbo"] = vae.score(X_test)
        results[n_train] = row
        print(f"N_train={n_train}: {json.dumps(row)}", flush=True)
    Path(args.out).write_text(json.dumps(dict(vars(args), results=results)))


if __name__ == "__main__":
    main()
