"""The study behind VAEOutlierDetector's defaults: VAE settings x statistics.

For each development set of ``benchmarks/outliers.py`` and each seed, the
rows are split as that benchmark splits them (stratified subsample to 5000
rows, stratified 60/40 split, outliers kept in the training part). Each
setting fits ``--models`` VAEs with different seeds to the training part;
from each fitted VAE several per-row statistics of the test part are
computed, and ensembles average the first m models' statistics for
m = 1 .. ``--models``. The printed table gives the mean ROC AUC over sets
(each set's AUC averaged over seeds) for every (setting, statistic,
ensemble size), the number of sets on which it beats IsolationForest, and
the mean seconds to fit and score one model.

Statistics (all "higher = more abnormal" here):

* ``elbo``: minus the evidence lower bound;
* ``iw``: minus the importance-weighted bound;
* ``reconstruction``: minus E_q[log p(x|z)];
* ``kl``: KL(q(z|x) || p(z)), how unusual the row's code is;
* ``latent``: ||E[z|x]||^2 / 2, minus the log prior density at the code;
* ``max_feature``: the largest per-feature term E_q[-log p(x_j|z)], each
  feature's term first standardised by its median and interquartile range
  over the training rows (an extreme in one feature is not diluted by the
  others);
* ``elbo+max_feature``, ``elbo+latent``: the sum of the two statistics,
  each standardised by its median and interquartile range over the training
  rows.

Ensembles average each statistic over models, after the same standardisation
(which leaves the ranking of a single model unchanged).

Run, from the repository root (joblib runs the fits on ``--n-jobs``
processes; the times are per model, with that many processes running)::

    python benchmarks/outlier_study.py ../shared/data/outliers --round 1
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from joblib import Parallel, delayed
from outliers import load_sets, split
from scipy.stats import rankdata
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from skvae import VAETransformer
from skvae._objectives import kl_to_standard_normal
from skvae._outlier import _DEFAULT_VAE
from skvae._torch_utils import row_noise

BASE = dict(_DEFAULT_VAE, batch_size=256)
PER_POINT = dict(BASE, decoder_variance="per_point")
FAST = dict(PER_POINT, batch_size=512, learning_rate=1e-2)
FASTEST = dict(FAST, batch_size=1024, learning_rate=2e-2, draws=16)

ROUNDS = {
    # Round 1: the decoder variance and the network's width, single models
    # and ensembles, with the 0.1 stopping rule and larger minibatches.
    1: {
        "per-feature, 16, batch 256": dict(BASE),
        "per-point, 16, batch 256": dict(BASE, decoder_variance="per_point"),
        "per-point, 64, batch 256": dict(
            BASE, decoder_variance="per_point", hidden_layer_sizes=(64,)
        ),
    },
    # Round 2: single per-point models (ensembles gained at most 0.003 in
    # round 1): latent size, width, minibatch, epochs and variance floor.
    2: {
        "per-point, 16": dict(PER_POINT),
        "latent 4": dict(PER_POINT, n_components=4),
        "latent 2": dict(PER_POINT, n_components=2),
        "hidden (8,)": dict(PER_POINT, hidden_layer_sizes=(8,)),
        "hidden (32, 16)": dict(PER_POINT, hidden_layer_sizes=(32, 16)),
        "batch 512, lr 1e-2": dict(PER_POINT, batch_size=512, learning_rate=1e-2),
        "max_iter 60": dict(PER_POINT, max_iter=60),
        "min_variance 1e-2": dict(PER_POINT, min_variance=1e-2),
    },
    # Round 3: from the fast setting of round 2 (minibatches of 512, learning
    # rate 1e-2), the training objective, longer training, more latent
    # dimensions, a larger floor, and a refit without the training rows
    # the first fit scores lowest (trimmed likelihood).
    3: {
        "fast": dict(FAST),
        "fast, per-feature": dict(FAST, decoder_variance="per_feature"),
        "fast, iwae": dict(FAST, objective="iwae", n_mc_samples=5),
        "fast, elbo 5 draws": dict(FAST, n_mc_samples=5),
        "fast, 2 lr decays": dict(FAST, lr_plateau_decays=2),
        "fast, latent 16": dict(FAST, n_components=16),
        "fast, min_variance 0.1": dict(FAST, min_variance=0.1),
        "fast, refit on best 90%": dict(FAST, refit_fraction=0.1),
    },
    # Round 4: faster training and scoring (fewer, larger minibatches; 16
    # draws per scored row), with the benchmark's seeds for the first model.
    4: {
        "fast": dict(FAST),
        "batch 1024, lr 1e-2": dict(FAST, batch_size=1024),
        "batch 1024, lr 2e-2": dict(FAST, batch_size=1024, learning_rate=2e-2),
        "batch 1024, lr 2e-2, 16 draws": dict(
            FAST, batch_size=1024, learning_rate=2e-2, draws=16
        ),
    },
    # Round 5: the fastest setting of round 4, with the larger of two
    # standardised statistics (a row is unusual in its code or in its
    # reconstruction) instead of their sum.
    5: {
        "fastest": dict(FASTEST),
        "fastest, per-feature": dict(FASTEST, decoder_variance="per_feature"),
    },
}
N_DRAWS = 64


def row_terms(
    vae: VAETransformer, X: np.ndarray, n_draws: int
) -> dict[str, np.ndarray]:
    """The raw per-row quantities the statistics are made of."""
    inference = vae._inference()
    model, device = inference.model, inference.device
    n_features = X.shape[1]
    likelihood = model.likelihood

    def compute(x, rows):
        mean, log_var = model.encode(x)
        noise = row_noise(rows, 0, n_draws, mean.shape[-1], device, x.dtype)
        z = mean + torch.exp(0.5 * log_var) * noise
        # (draws, rows, features): -log p(x_j | z)
        per_feature = -likelihood.log_prob_terms(x, model.decode(z))
        log_lik = -per_feature.sum(-1)
        kl = kl_to_standard_normal(mean, log_var)
        log_prior = -0.5 * z.square().sum(-1)
        log_posterior = -0.5 * (noise.square().sum(-1) + log_var.sum(-1))
        iw = torch.logsumexp(log_lik + log_prior - log_posterior, 0) - np.log(n_draws)
        columns = [
            -(log_lik.mean(0) - kl),
            -iw,
            -log_lik.mean(0),
            kl,
            0.5 * mean.square().sum(-1),
        ]
        return torch.cat(
            [torch.stack(columns, -1), per_feature.mean(0)], dim=-1
        )  # (rows, 5 + features)

    values = inference.map(X, compute, n_draws=n_draws)
    values[~np.isfinite(values)] = np.finfo(np.float64).max / 1e6
    names = ["elbo", "iw", "reconstruction", "kl", "latent"]
    terms = {name: values[:, i] for i, name in enumerate(names)}
    terms["per_feature"] = values[:, len(names) : len(names) + n_features]
    return terms


def _robust_scale(train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """(test - median) / IQR, both from the training values (column-wise)."""
    q1, median, q3 = np.percentile(train, [25, 50, 75], axis=0)
    return (test - median) / np.maximum(q3 - q1, 1e-12)


def statistics(train_terms, test_terms) -> dict[str, np.ndarray]:
    """Each statistic of the test rows, standardised on the training rows."""
    out = {}
    for name in ["elbo", "iw", "reconstruction", "kl", "latent"]:
        out[name] = _robust_scale(train_terms[name], test_terms[name])
    train_feature = _robust_scale(
        train_terms["per_feature"], train_terms["per_feature"]
    )
    test_feature = _robust_scale(train_terms["per_feature"], test_terms["per_feature"])
    out["max_feature"] = _robust_scale(train_feature.max(1), test_feature.max(1))
    out["elbo+max_feature"] = out["elbo"] + out["max_feature"]
    out["elbo+latent"] = out["elbo"] + out["latent"]
    out["elbo+latent/2"] = out["elbo"] + 0.5 * out["latent"]
    out["elbo+latent/4"] = out["elbo"] + 0.25 * out["latent"]
    out["elbo+kl/4"] = out["elbo"] + 0.25 * out["kl"]
    out["max(elbo,latent)"] = np.maximum(out["elbo"], out["latent"])
    out["max(elbo,kl)"] = np.maximum(out["elbo"], out["kl"])
    out["max(rec,kl)"] = np.maximum(out["reconstruction"], out["kl"])
    out["max(elbo,latent/2)"] = np.maximum(out["elbo"], 0.5 * out["latent"])
    return out


def fit_one(X_train, X_test, params, seed):
    torch.set_num_threads(1)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        params = dict(params)
        refit_fraction = params.pop("refit_fraction", None)
        n_draws = params.pop("draws", N_DRAWS)
        vae = VAETransformer(**params, random_state=seed).fit(X_train)
        if refit_fraction:
            scores = vae.row_statistic(X_train, "elbo", 16)
            keep = scores >= np.quantile(scores, refit_fraction)
            vae = VAETransformer(**params, random_state=seed).fit(X_train[keep])
        result = statistics(
            row_terms(vae, X_train, n_draws), row_terms(vae, X_test, n_draws)
        )
    return result, time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--round", type=int, default=1, choices=sorted(ROUNDS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--models", type=int, default=5)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--sets", default="dev")
    parser.add_argument(
        "--statistics", nargs="*", help="print these statistics only (default: all)"
    )
    args = parser.parse_args(argv)
    sets = load_sets(args.folder, args.sets)
    settings = ROUNDS[args.round]
    print(
        f"Round {args.round}: {len(sets)} sets, seeds 0..{args.seeds - 1}, "
        f"{args.models} models per split, {N_DRAWS} draws per row"
    )
    splits = [
        (name, seed, *split(X, y, seed, 5000, 0.4))
        for name, X, y in sets
        for seed in range(args.seeds)
    ]
    forest = {}
    for name, seed, X_train, X_test, _, y_test in splits:
        model = IsolationForest(random_state=seed).fit(X_train)
        forest.setdefault(name, []).append(
            roc_auc_score(y_test, -model.score_samples(X_test))
        )
    forest_auc = np.array([np.mean(forest[name]) for name, *_ in sets])
    print(f"IsolationForest: mean ROC AUC {forest_auc.mean():.3f}")

    rows = []
    for label, params in settings.items():
        tasks = [
            (i, m, X_train, X_test)
            for i, (_, seed, X_train, X_test, _, _) in enumerate(splits)
            for m in range(args.models)
        ]
        outputs = Parallel(n_jobs=args.n_jobs)(
            delayed(fit_one)(X_train, X_test, params, splits[i][1] + 100 * m)
            for i, m, X_train, X_test in tasks
        )
        seconds = np.mean([t for _, t in outputs])
        by_split = {}
        for (i, *_), (result, _) in zip(tasks, outputs, strict=True):
            by_split.setdefault(i, []).append(result)
        auc = {}  # (statistic, m) -> per-set mean AUC
        for i, results in by_split.items():
            name, _, _, _, _, y_test = splits[i]
            for statistic in results[0]:
                for m in range(1, args.models + 1):
                    score = np.mean([r[statistic] for r in results[:m]], axis=0)
                    value = roc_auc_score(y_test, rankdata(score))
                    auc.setdefault((statistic, m), {}).setdefault(name, []).append(
                        value
                    )
        for (statistic, m), per_set in auc.items():
            means = np.array([np.mean(per_set[name]) for name, *_ in sets])
            rows.append((label, statistic, m, means, seconds))
        print(f"  done: {label} ({seconds:.2f} s per model)", flush=True)

    names = [name for name, *_ in sets]
    short = [name.split("_", 1)[1][:6] for name in names]
    print(
        f"\n{'setting':<30} {'statistic':<17} {'m':>2} {'mean':>6} {'>IF':>4} "
        f"{'s/model':>7}  " + " ".join(f"{s:>6}" for s in short)
    )
    print(
        f"{'IsolationForest':<30} {'':<17} {'':>2} {forest_auc.mean():6.3f} {'':>4} "
        f"{'':>7}  " + " ".join(f"{v:6.3f}" for v in forest_auc)
    )
    for label, statistic, m, means, seconds in rows:
        if m not in (1, 3, args.models):
            continue
        if args.statistics and statistic not in args.statistics:
            continue
        wins = int(np.sum(np.round(means, 3) > np.round(forest_auc, 3)))
        print(
            f"{label:<30} {statistic:<17} {m:>2} {means.mean():6.3f} {wins:>4} "
            f"{seconds:7.2f}  " + " ".join(f"{v:6.3f}" for v in means)
        )


if __name__ == "__main__":
    main()
