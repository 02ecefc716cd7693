"""Figure 2 of Kingma & Welling (2013) with VAETransformer's public API.

The lower bound per data point on the training and the test rows against the
number of training samples evaluated, one panel per latent size, for

* binarized MNIST (fixed binarization, 50,000 train / 10,000 test rows),
  Bernoulli decoder, 500 tanh hidden units, N_z in {3, 5, 10, 20, 200};
* Frey Face (1,965 images of 28 x 20 pixels scaled to [0, 1]; a fixed random
  split of 1,765 train / 200 test rows), Gaussian decoder whose mean passes
  through a sigmoid, 200 tanh hidden units, N_z in {2, 5, 10, 20}.

The paper's setup is written with public parameters only: one hidden layer
(``hidden_layer_sizes``), minibatches of 100, L = 1 (``n_mc_samples=1``),
Adagrad, a N(0, I) prior on the weights (``alpha = 1 / n_train``), weights and
biases from N(0, 0.01**2) (``init_scale=0.01``). The step size is chosen from
the paper's {0.01, 0.02, 0.1} by a short pilot run, as in the paper ("based on
performance on the training set in the first few iterations"). Training is
``partial_fit`` epochs; the bounds are ``score`` with ``n_importance_samples=1``
(the ELBO, one draw per row) on the test rows and on up to 10,000 training
rows.

Each model trains until ``--minutes`` of wall clock or ``--max-samples``
training samples, whichever comes first. Usage::

    OMP_NUM_THREADS=1 python benchmarks/paper_figure2.py DATA_DIR \\
        --dataset mnist --minutes 2.5

DATA_DIR holds ``binarized_mnist/`` and ``frey_face/``. The figure is saved as
``paper_figure2_<dataset>.png`` and the numbers as ``.json`` in ``--out-dir``.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import scipy.io
import torch

from skvae import VAETransformer

SETUPS = {
    "mnist": dict(latent_sizes=[3, 5, 10, 20, 200], hidden=500, likelihood="bernoulli"),
    "frey": dict(
        latent_sizes=[2, 5, 10, 20], hidden=200, likelihood="gaussian_sigmoid"
    ),
}
PUBLISHED_RANGE = {"mnist": "about -150 to -100", "frey": "up to about 1600"}
STEP_SIZES = (0.01, 0.02, 0.1)


def load(data_dir, dataset):
    if dataset == "mnist":
        folder = Path(data_dir) / "binarized_mnist"
        train = scipy.io.loadmat(folder / "binarized_mnist_train.mat")["X"]
        test = scipy.io.loadmat(folder / "binarized_mnist_test.mat")["X"]
        return train.astype(np.float32), test.astype(np.float32)
    faces = np.load(Path(data_dir) / "frey_face" / "frey_faces.npz")["X"]
    faces = faces.astype(np.float32) / 255.0
    order = np.random.RandomState(0).permutation(len(faces))
    return faces[order[200:]], faces[order[:200]]


def make_model(dataset, n_components, learning_rate, n_train, seed):
    setup = SETUPS[dataset]
    return VAETransformer(
        n_components,
        hidden_layer_sizes=(setup["hidden"],),
        activation="tanh",
        likelihood=setup["likelihood"],
        min_variance=1e-4,  # Frey Face only: a floor of 0.01 grey levels (std)
        init_scale=0.01,
        objective="elbo",  # the paper's estimator B: analytic KL, L = 1
        n_mc_samples=1,
        solver="adagrad",
        batch_size=100,
        learning_rate=learning_rate,
        alpha=1.0 / n_train,
        n_importance_samples=1,
        device="cpu",
        random_state=seed,
    )


def pick_step_size(dataset, X_train, n_components, pilot_samples):
    """The step size with the best training bound after ``pilot_samples``."""
    results = {}
    for learning_rate in STEP_SIZES:
        model = make_model(dataset, n_components, learning_rate, len(X_train), 1)
        seen = 0
        while seen < pilot_samples:
            model.partial_fit(X_train)
            seen += len(X_train)
        results[learning_rate] = model.score(X_train[:10000])
    return max(results, key=results.get), results


def train_curve(model, X_train, X_test, minutes, max_samples):
    """partial_fit epochs, scoring at log-spaced sample counts from 1e5."""
    X_monitor = X_train[:10000]
    checkpoints = iter(10 ** np.arange(5.0, 12.0, 0.25))
    next_checkpoint = next(checkpoints)
    curve = []
    seen, start = 0, time.perf_counter()
    while True:
        model.partial_fit(X_train)
        seen += len(X_train)
        elapsed = time.perf_counter() - start
        done = elapsed > 60 * minutes or seen >= max_samples
        if seen >= next_checkpoint or done:
            curve.append(
                dict(
                    samples=seen,
                    train=model.score(X_monitor),
                    test=model.score(X_test),
                    seconds=time.perf_counter() - start,
                )
            )
            while next_checkpoint <= seen:
                next_checkpoint = next(checkpoints)
        if done:
            return curve


def plot(results, dataset, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    sizes = list(results)
    fig, axes = plt.subplots(
        1, len(sizes), figsize=(2.3 * len(sizes), 2.6), sharey=True, squeeze=False
    )
    for ax, n_components in zip(axes[0], sizes, strict=True):
        curve = results[n_components]
        samples = [point["samples"] for point in curve]
        ax.plot(samples, [p["train"] for p in curve], "-", label="train")
        ax.plot(samples, [p["test"] for p in curve], "--", label="test")
        ax.set_xscale("log")
        ax.set_xlim(left=1e5)
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_title(f"{dataset}, $N_z$ = {n_components}", fontsize=9)
        ax.set_xlabel("training samples evaluated", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0, 0].set_ylabel("lower bound per data point", fontsize=8)
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir")
    parser.add_argument("--dataset", choices=sorted(SETUPS), default="mnist")
    parser.add_argument("--minutes", type=float, default=2.5, help="per model")
    parser.add_argument("--max-samples", type=float, default=1e8)
    parser.add_argument("--pilot-samples", type=float, default=2e4)
    parser.add_argument("--latent-sizes", type=int, nargs="*")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out-dir", default="docs/images")
    parser.add_argument(
        "--plot-only", action="store_true", help="redraw from the saved .json"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    out = Path(args.out_dir)
    if args.plot_only:
        saved = json.loads((out / f"paper_figure2_{args.dataset}.json").read_text())
        curves = {int(k): v for k, v in saved["curves"].items()}
        plot(curves, args.dataset, out / f"paper_figure2_{args.dataset}.png")
        return

    X_train, X_test = load(args.data_dir, args.dataset)
    sizes = args.latent_sizes or SETUPS[args.dataset]["latent_sizes"]
    start = time.perf_counter()
    pilot_rows = X_train[: int(min(len(X_train), args.pilot_samples))]
    step_size, pilot = pick_step_size(
        args.dataset, pilot_rows, sizes[len(sizes) // 2], args.pilot_samples
    )
    print(f"pilot bounds per step size: {pilot}; using {step_size}", flush=True)
    results = {}
    for n_components in sizes:
        model = make_model(args.dataset, n_components, step_size, len(X_train), 0)
        results[n_components] = train_curve(
            model, X_train, X_test, args.minutes, args.max_samples
        )
        last = results[n_components][-1]
        print(
            f"N_z={n_components:3d}: {last['samples']:.3g} samples "
            f"({last['samples'] / len(X_train):.0f} epochs) in "
            f"{last['seconds'] / 60:.1f} min; train {last['train']:.2f}, "
            f"test {last['test']:.2f} nats per data point",
            flush=True,
        )
    total = time.perf_counter() - start
    print(f"total {total / 60:.1f} min; published: {PUBLISHED_RANGE[args.dataset]}")
    out.mkdir(parents=True, exist_ok=True)
    plot(results, args.dataset, out / f"paper_figure2_{args.dataset}.png")
    summary = dict(step_size=step_size, pilot=pilot, total_seconds=total)
    summary["curves"] = {str(k): v for k, v in results.items()}
    (out / f"paper_figure2_{args.dataset}.json").write_text(json.dumps(summary))


if __name__ == "__main__":
    main()
