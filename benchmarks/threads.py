"""Torch threads: the estimator's own choice against every fixed thread count.

Four cells: two models, each on an idle machine and with a second process
spinning on one core (as on a user's machine where something else runs).

* ``small``: scikit-learn's digits with ``VAETransformer``'s default
  network and objective, 30 epochs;
* ``mnist``: the 784-400-20 Bernoulli VAE of the paper on 20,000 binarized
  MNIST images (``DATA_DIR/binarized_mnist``; random binary images of that
  shape when it is absent), 2 epochs.

Each cell fits the model with ``n_threads=None`` (the estimator's choice)
and with ``n_threads=1, 2, ...`` up to torch's default, always the same
number of epochs (no early stopping), interleaved and repeated; the table
gives the median seconds and the default's time against the best fixed
count. Run from the repository root::

    python benchmarks/threads.py ../shared/data
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from skvae import VAETransformer


def spin():  # pragma: no cover - runs in another process
    while True:
        pass


def models(data_dir: Path):
    digits = load_digits().data
    yield "small", digits, dict(n_components=10, max_iter=30)
    path = data_dir / "binarized_mnist" / "binarized_mnist_train.mat"
    if path.exists():
        from scipy.io import loadmat

        images = loadmat(path)["X"][:20000].astype(np.float32)
    else:
        rng = np.random.RandomState(0)
        images = (rng.uniform(size=(20000, 784)) < 0.13).astype(np.float32)
    mnist = dict(
        n_components=20,
        hidden_layer_sizes=(400,),
        likelihood="bernoulli",
        objective="elbo",
        n_mc_samples=1,
        max_iter=2,
    )
    yield "mnist", images, mnist


def fit_seconds(X, params, n_threads):
    vae = VAETransformer(
        **params, early_stopping=False, n_threads=n_threads, random_state=0
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        vae.fit(X)
    return time.perf_counter() - start


def measure(X, params, counts, repeats):
    times = {count: [] for count in counts}
    fit_seconds(X[:500], params, None)  # warm-up: imports, thread pools
    for _ in range(repeats):
        for count in counts:
            times[count].append(fit_seconds(X, params, count))
    return {count: statistics.median(values) for count, values in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", type=Path, nargs="?", default=Path("."))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    fixed = list(range(1, torch.get_num_threads() + 1))
    counts = [None, *fixed]
    header = (
        f"{'model':<7}{'machine':<9}"
        + "".join(f"{f'{n} thr s':>10}" for n in fixed)
        + f"{'default s':>11}{'default/best':>14}"
    )
    print(f"torch {torch.__version__}, default threads {torch.get_num_threads()}")
    print(header)
    print("-" * len(header))
    for name, X, params in models(args.data_dir):
        for machine in ("idle", "busy"):
            spinner = None
            if machine == "busy":
                spinner = multiprocessing.Process(target=spin, daemon=True)
                spinner.start()
            try:
                seconds = measure(X, params, counts, args.repeats)
            finally:
                if spinner is not None:
                    spinner.terminate()
                    spinner.join()
            best = min(seconds[n] for n in fixed)
            cells = "".join(f"{seconds[n]:>10.2f}" for n in fixed)
            ratio = seconds[None] / best
            print(
                f"{name:<7}{machine:<9}{cells}{seconds[None]:>11.2f}{ratio:>13.2f}x",
                flush=True,
            )


if __name__ == "__main__":
    main()
