"""Per-step overhead: skvae against a plain PyTorch loop on the same small model.

Both train the model a tutorial writes for a table, on scikit-learn's
digits (1,797 x 64, standardised): (128, 64) ReLU layers, 2 latent
dimensions, a Gaussian decoder with one learned variance per feature, the
one-draw ELBO with the analytic KL term, Adam at 3e-3, minibatches of 128,
30 epochs, no early stopping, one torch thread. The plain loop is a
``DataLoader`` over a ``TensorDataset`` with ``shuffle=True``; skvae is
``VAETransformer.fit`` with the same settings. Each contender is fitted once
to warm up, then the two alternate for ``--repeats`` rounds; the table gives
each one's median time and the ratio, plain loop over skvae (above 1: skvae
is faster).

Run from the repository root::

    python benchmarks/step_overhead.py
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from torch import nn

from skvae import VAETransformer

HIDDEN, LATENT, BATCH, LEARNING_RATE, FLOOR = (128, 64), 2, 128, 3e-3, 1e-3


class PlainVAE(nn.Module):
    def __init__(self, n_features: int) -> None:
        super().__init__()
        first, second = HIDDEN
        self.encoder = nn.Sequential(
            nn.Linear(n_features, first),
            nn.ReLU(),
            nn.Linear(first, second),
            nn.ReLU(),
        )
        self.mean = nn.Linear(second, LATENT)
        self.log_var = nn.Linear(second, LATENT)
        self.decoder = nn.Sequential(
            nn.Linear(LATENT, second),
            nn.ReLU(),
            nn.Linear(second, first),
            nn.ReLU(),
            nn.Linear(first, n_features),
        )
        self.log_noise = nn.Parameter(torch.zeros(n_features))


def plain_loop(X: np.ndarray, epochs: int) -> None:
    torch.manual_seed(0)
    model = PlainVAE(X.shape[1])
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(X)),
        batch_size=BATCH,
        shuffle=True,
    )
    for _ in range(epochs):
        for (x,) in loader:
            hidden = model.encoder(x)
            mean, log_var = model.mean(hidden), model.log_var(hidden)
            z = mean + torch.randn_like(mean) * torch.exp(0.5 * log_var)
            reconstruction = model.decoder(z)
            variance = FLOOR + model.log_noise.exp()
            nll = (
                0.5
                * (
                    (x - reconstruction).square() / variance
                    + variance.log()
                    + math.log(2 * math.pi)
                ).sum()
            )
            kl = -0.5 * torch.sum(1 + log_var - mean.square() - log_var.exp())
            loss = nll + kl
            optimizer.zero_grad()
            (loss / len(x)).backward()
            optimizer.step()


def skvae_fit(X: np.ndarray, epochs: int) -> None:
    VAETransformer(
        LATENT,
        hidden_layer_sizes=HIDDEN,
        decoder_variance="per_feature",
        tail_mass=0.0,
        objective="elbo",
        n_mc_samples=1,
        batch_size=BATCH,
        learning_rate=LEARNING_RATE,
        max_iter=epochs,
        early_stopping=False,
        n_iter_no_change=epochs + 1,
        n_threads=1,
        random_state=0,
    ).fit(X)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", ConvergenceWarning)
    X, _ = load_digits(return_X_y=True)
    standardised = StandardScaler().fit_transform(X).astype(np.float32)
    plain_loop(standardised, 1)
    skvae_fit(X, 1)
    times = {"plain PyTorch loop": [], "skvae": []}
    for _ in range(args.repeats):
        start = time.perf_counter()
        plain_loop(standardised, args.epochs)
        times["plain PyTorch loop"].append(time.perf_counter() - start)
        start = time.perf_counter()
        skvae_fit(X, args.epochs)  # skvae standardises inside
        times["skvae"].append(time.perf_counter() - start)
    plain, ours = (np.median(times[name]) for name in times)
    print(f"digits, {args.epochs} epochs, batch {BATCH}, 1 thread")
    print(f"  {'contender':<20} {'median s':>9}")
    for name, values in times.items():
        print(f"  {name:<20} {np.median(values):9.2f}")
    print(f"  plain loop / skvae: {plain / ours:.2f}x (above 1: skvae is faster)")


if __name__ == "__main__":
    main()
