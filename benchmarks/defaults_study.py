"""The study behind VAETransformer's defaults: held-out log-likelihood per setting.

Each candidate setting changes one thing from a base setting (width, depth,
activation, learning rate, epochs and stopping rule, decoder variance) and is
fitted on the development data:

* ``digits``: scikit-learn's digits plus uniform dequantisation noise, split
  70 / 30, ``n_components=10``;
* ``frey``: the Frey Face images, dequantised and scaled to [0, 1], split
  70 / 30, ``n_components=10``;
* ``factor-analysis``: 3,000 rows drawn from a factor-analysis model, split
  2,000 / 1,000, ``n_components=2``;
* the inliers of the ten development outlier sets, standardised, split
  70 / 30, with the default ``n_components``; sets with more training rows
  than ``--max-train`` are subsampled (the study only, not the benchmark).

It prints, per setting, the held-out log-likelihood in nats per row on each
data set, its mean rank over the data sets (1 = best) and the fit time, so a
setting is chosen on all the data at once. Run from the repository root::

    python benchmarks/defaults_study.py ../shared/data
    python benchmarks/defaults_study.py ../shared/data --settings base,tanh

The numbers recorded in ``docs/defaults.rst`` came from this script.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.stats import rankdata
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skvae import VAETransformer

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
from outliers import DEVELOPMENT_SETS  # noqa: E402

from conftest import make_factor_analysis_data  # noqa: E402

# What VAETransformer() meant in skvae 0.1.
DEFAULTS_0_1 = dict(
    decoder_variance="per_feature",
    hidden_layer_sizes=(128, 64),
    learning_rate=1e-3,
    max_iter=200,
    early_stopping=False,
    lr_plateau_decays=0,
    objective="elbo",
    n_mc_samples=1,
)
# Each setting lists what it changes from VAETransformer's current defaults.
# Round 1 starts from skvae 0.1's model with the paper's per-point variance
# and early stopping, and changes one thing at a time.
ROUND_1 = {
    **DEFAULTS_0_1,
    "decoder_variance": "per_point",
    "max_iter": 500,
    "early_stopping": True,
}
SETTINGS = {
    "base": ROUND_1,
    "per_feature": {**ROUND_1, "decoder_variance": "per_feature"},
    "width_64_32": {**ROUND_1, "hidden_layer_sizes": (64, 32)},
    "width_256_128": {**ROUND_1, "hidden_layer_sizes": (256, 128)},
    "depth_1": {**ROUND_1, "hidden_layer_sizes": (128,)},
    "depth_3": {**ROUND_1, "hidden_layer_sizes": (128, 128, 64)},
    "tanh": {**ROUND_1, "activation": "tanh"},
    "elu": {**ROUND_1, "activation": "elu"},
    "softplus": {**ROUND_1, "activation": "softplus"},
    "lr_3e-4": {**ROUND_1, "learning_rate": 3e-4},
    "lr_3e-3": {**ROUND_1, "learning_rate": 3e-3},
    "patience_20": {**ROUND_1, "n_iter_no_change": 20},
    "no_early_stopping_200": {**ROUND_1, "early_stopping": False, "max_iter": 200},
}
# Round 2 starts from the best of round 1: wider layers and a larger step.
ROUND_2 = {**ROUND_1, "hidden_layer_sizes": (256, 128), "learning_rate": 3e-3}
SETTINGS.update(
    {
        "r2_base": ROUND_2,
        "r2_elu": {**ROUND_2, "activation": "elu"},
        "r2_tanh": {**ROUND_2, "activation": "tanh"},
        "r2_min_variance_1e-4": {**ROUND_2, "min_variance": 1e-4},
        "r2_min_variance_1e-2": {**ROUND_2, "min_variance": 1e-2},
        # n_components only changes the data sets that use the default.
        "r2_latent_5": {**ROUND_2, "n_components": 5},
        "r2_latent_10": {**ROUND_2, "n_components": 10},
        "r2_latent_20": {**ROUND_2, "n_components": 20},
        "r2_batch_64": {**ROUND_2, "batch_size": 64},
    }
)
# Round 3 adds two learning-rate decays on plateaus to round 2's best.
ROUND_3 = {**ROUND_2, "lr_plateau_decays": 2, "max_iter": 1000}
SETTINGS.update(
    {
        "r3_base": ROUND_3,
        "r3_iwae_5": {**ROUND_3, "objective": "iwae", "n_mc_samples": 5},
        "r3_min_variance_1e-4": {**ROUND_3, "min_variance": 1e-4},
        "r3_alpha_1e-4": {**ROUND_3, "alpha": 1e-4},
        "r3_latent_10": {**ROUND_3, "n_components": 10},
    }
)
# Round 4: the defaults (round 3 with the importance-weighted bound, K = 5,
# which early stopping now monitors too), and a larger latent space.
SETTINGS.update(
    {
        "defaults": {},
        "defaults_latent_10": {"n_components": 10},
        "defaults_elbo": {"objective": "elbo", "n_mc_samples": 1},
    }
)


def dequantize(X, rng):
    return X + rng.uniform(size=X.shape)


def data_sets(data_dir: Path, max_train: int, seed: int):
    """(name, X_train, X_test, n_components or None for the default)."""
    rng = np.random.RandomState(seed)
    X = dequantize(load_digits().data, rng)
    yield ("digits", *train_test_split(X, test_size=0.3, random_state=seed), 10)
    faces = data_dir / "frey_face" / "frey_faces.npz"
    if faces.exists():
        X = dequantize(np.load(faces)["X"].astype(float), rng) / 256.0
        yield ("frey", *train_test_split(X, test_size=0.3, random_state=seed), 10)
    X = make_factor_analysis_data(3000, seed=seed)
    yield "factor-analysis", X[:2000], X[2000:], 2
    for name in DEVELOPMENT_SETS:
        path = data_dir / "outliers" / f"{name}.npz"
        if not path.exists():
            continue
        with np.load(path) as data:
            X = np.asarray(data["X"], dtype=float)[np.asarray(data["y"]).ravel() == 0]
        X_train, X_test = train_test_split(X, test_size=0.3, random_state=seed)
        X_train = X_train[:max_train]  # None: all rows
        scaler = StandardScaler().fit(X_train)
        yield name, scaler.transform(X_train), scaler.transform(X_test), None


def run(setting: dict, X_train, X_test, n_components, seed):
    params = {**setting, "random_state": seed}
    if n_components is not None:
        params["n_components"] = n_components
    vae = VAETransformer(**params)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        vae.fit(X_train)
    seconds = time.perf_counter() - start
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return dict(
        score=vae.score(X_test),
        seconds=seconds,
        epochs=vae.n_iter_,
        warned=warned,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", type=Path, help="folder with frey_face/, outliers/")
    parser.add_argument("--settings", default=",".join(SETTINGS))
    parser.add_argument("--seeds", type=int, default=1, help="how many seeds")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--max-train", type=int, default=4000)
    parser.add_argument("--out", type=Path, help="append JSON lines here")
    args = parser.parse_args()
    names = args.settings.split(",")
    results: dict[str, dict[str, list]] = {name: {} for name in names}
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for data_name, X_train, X_test, n_components in data_sets(
            args.data_dir, args.max_train, seed
        ):
            for name in names:
                row = run(SETTINGS[name], X_train, X_test, n_components, seed)
                row.update(setting=name, data=data_name, seed=seed)
                print(json.dumps(row), flush=True)
                if args.out:
                    with args.out.open("a") as file:
                        file.write(json.dumps(row) + "\n")
                results[name].setdefault(data_name, []).append(row)
    summarize(results)


def summarize(results):
    names = list(results)
    data_names = list(next(iter(results.values())))
    scores = np.array(
        [
            [np.mean([r["score"] for r in results[n][d]]) for d in data_names]
            for n in names
        ]
    )
    ranks = np.vstack([rankdata(-scores[:, j]) for j in range(len(data_names))]).T
    seconds = [
        sum(r["seconds"] for d in data_names for r in results[n][d]) for n in names
    ]
    print()
    print(
        f"{'setting':<24}"
        + "".join(f"{d[:12]:>13}" for d in data_names)
        + "  rank  fit s"
    )
    for i, name in enumerate(names):
        cells = "".join(f"{s:>13.2f}" for s in scores[i])
        print(f"{name:<24}{cells}  {ranks[i].mean():4.1f}  {seconds[i]:5.0f}")


if __name__ == "__main__":
    main()
