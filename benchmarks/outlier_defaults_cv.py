"""Choosing VAEOutlierDetector's default by leave-sets-out, not on the sets reported.

The pool is every ``.npz`` set in the folder given (29 in
``../shared/data/outliers``). It is cut once, by a fixed seed and before any
result is seen, into

* a **final hold-out** of :data:`N_FINAL` sets that no choice ever sees, and
* :data:`N_FOLDS` folds of the others.

Every candidate (a VAE configuration; each fitted VAE is scored with every
detector statistic, so a candidate is a configuration and a statistic) and
the baselines run on every set with the protocol of
``benchmarks/outliers.py`` (stratified subsample to 5,000 rows, 60/40
stratified split with the outliers left in the training part, seeds 0 and
1). Then:

1. **leave-one-fold-out**: for each fold, the candidate with the best mean
   ROC AUC on the other folds is chosen, and its ROC AUC on the left-out fold
   is reported beside the baselines' on the same fold: the figures of a
   default chosen without seeing the sets it is judged on;
2. **the default**: the candidate with the best mean over all the folds
   (what ships), reported on the final hold-out, which no choice has seen,
   and on all sets with its mean rank and its median fit-and-score time
   over IsolationForest's.

Run from the repository root (about 20 minutes on one busy core)::

    python benchmarks/outlier_defaults_cv.py ../shared/data/outliers
    python benchmarks/outlier_defaults_cv.py ../shared/data/outliers \\
        --results /tmp/outlier_cv.json     # keep (and reuse) the raw figures

``--candidates NAME ...`` runs some of :data:`CANDIDATES` only.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.stats import rankdata
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skvae import VAEOutlierDetector, VAETransformer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from outliers import load_sets, split  # noqa: E402

N_FINAL, N_FOLDS, POOL_SEED = 5, 4, 2026
STATISTICS = ("elbo_latent", "elbo", "importance_weighted", "reconstruction")

# skvae 0.2's detector VAE, before this study (0.2 had no tail_mass).
OLD_DEFAULT = dict(
    n_components=8,
    hidden_layer_sizes=(16,),
    decoder_variance="per_point",
    tail_mass=0.0,
    batch_size=1024,
    learning_rate=2e-2,
    max_iter=300,
    early_stopping=True,
    n_iter_no_change=10,
    lr_plateau_decays=0,
    objective="elbo",
    n_mc_samples=1,
    n_importance_samples=16,
)
AUTO = {
    **OLD_DEFAULT,
    "batch_size": "auto",
    "n_iter_no_change": "auto",
    "n_components": lambda d: min(8, d),  # no more latent dimensions than features
}
TAIL = {**AUTO, "tail_mass": 0.01}

# Each candidate: VAE parameters, with n_components a function of n_features.
CANDIDATES = {
    "old default": OLD_DEFAULT,
    # What ships in 0.3: 0.2's VAE with no more latent dimensions than
    # features (0.2 warned on every table of fewer than 8 features).
    "old, latent <= d": {**OLD_DEFAULT, "n_components": lambda d: min(8, d)},
    "auto schedule": AUTO,
    "auto, tail": TAIL,
    "auto, tail, lr 3e-3": {**TAIL, "learning_rate": 3e-3},
    "auto, tail, per_feature": {**TAIL, "decoder_variance": "per_feature"},
    "auto, tail, (64,)": {**TAIL, "hidden_layer_sizes": (64,)},
    "auto, tail, latent d/4": {
        **TAIL,
        "n_components": lambda d: max(2, min(8, math.ceil(d / 4))),
    },
}


def latent_size(params: dict, n_features: int) -> int:
    size = params["n_components"]
    return size(n_features) if callable(size) else size


def run_candidate(params, seed, X_train, X_test):
    """{statistic: abnormality of the test rows}, and the seconds of one fit
    and one statistic's scoring."""
    vae_params = {**params, "n_components": latent_size(params, X_train.shape[1])}
    detector = VAEOutlierDetector(vae=VAETransformer(**vae_params), random_state=seed)
    start = time.perf_counter()
    detector.fit(X_train)
    columns = {"elbo_latent": -detector.score_samples(X_test)}
    seconds = time.perf_counter() - start
    for statistic in STATISTICS[1:]:
        detector.set_params(statistic=statistic)
        columns[statistic] = -detector.score_samples(X_test)
    return columns, seconds


BASELINES = {
    "IsolationForest": lambda seed: IsolationForest(random_state=seed),
    "GaussianMixture": lambda seed: make_pipeline(
        StandardScaler(), GaussianMixture(5, reg_covar=1e-3, random_state=seed)
    ),
}


def measure(sets, candidates, n_seeds, results, path=None):
    """Fill ``results[set][column] = {"auc": [...], "seconds": [...]}``, and
    write them to ``path`` after each set."""
    for name, X, y in sets:
        row = results.setdefault(name, {})
        for seed in range(n_seeds):
            X_train, X_test, _, y_test = split(X, y, seed, 5000, 0.4)
            jobs = [(b, None) for b in BASELINES] + [(c, c) for c in candidates]
            for label, candidate in jobs:
                key = label if candidate is None else f"{label} | elbo_latent"
                if len(row.get(key, {}).get("auc", [])) > seed:
                    continue  # measured in an earlier run
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    if candidate is None:
                        start = time.perf_counter()
                        model = BASELINES[label](seed).fit(X_train)
                        columns = {label: -model.score_samples(X_test)}
                        seconds = time.perf_counter() - start
                    else:
                        output, seconds = run_candidate(
                            CANDIDATES[candidate], seed, X_train, X_test
                        )
                        columns = {f"{label} | {s}": v for s, v in output.items()}
                for column, abnormality in columns.items():
                    ranks = rankdata(np.nan_to_num(abnormality, nan=np.inf))
                    cell = row.setdefault(column, {"auc": [], "seconds": []})
                    cell["auc"].append(float(roc_auc_score(y_test, ranks)))
                    cell["seconds"].append(seconds)
        best = max((c for c in row if "|" in c), key=lambda c: np.mean(row[c]["auc"]))
        print(
            f"{name:<18} IF {np.mean(row['IsolationForest']['auc']):.3f}  "
            f"GMM {np.mean(row['GaussianMixture']['auc']):.3f}  "
            f"best skvae {np.mean(row[best]['auc']):.3f} ({best})",
            flush=True,
        )
        if path is not None:
            path.write_text(json.dumps(results))


def pool_split(names):
    """(final hold-out, folds): fixed by POOL_SEED before any result is seen."""
    order = [names[i] for i in np.random.RandomState(POOL_SEED).permutation(len(names))]
    final = sorted(order[:N_FINAL])
    rest = order[N_FINAL:]
    folds = [sorted(rest[i::N_FOLDS]) for i in range(N_FOLDS)]
    return final, folds


def mean_auc(results, column, names):
    return float(np.mean([np.mean(results[s][column]["auc"]) for s in names]))


def report(results):
    names = sorted(results)
    columns = [c for c in results[names[0]] if all(c in results[s] for s in names)]
    candidates = [c for c in columns if "|" in c]
    final, folds = pool_split(names)
    print(f"\nfinal hold-out (never chosen on): {', '.join(final)}")
    for i, fold in enumerate(folds):
        print(f"fold {i}: {', '.join(fold)}")

    print("\nLeave-one-fold-out: chosen on the other folds, reported on this one")
    print(
        f"  {'fold':<5} {'chosen':<34} {'on others':>9} {'left out':>9} "
        f"{'IF':>6} {'GMM':>6} {'old':>6}"
    )
    left_out = {"chosen": [], "IF": [], "GMM": [], "old": []}
    for i, fold in enumerate(folds):
        others = [s for j, f in enumerate(folds) if j != i for s in f]
        chosen = max(candidates, key=lambda c: mean_auc(results, c, others))
        figures = {
            "chosen": mean_auc(results, chosen, fold),
            "IF": mean_auc(results, "IsolationForest", fold),
            "GMM": mean_auc(results, "GaussianMixture", fold),
            "old": mean_auc(results, "old default | elbo_latent", fold),
        }
        for key, value in figures.items():
            left_out[key] += [value] * len(fold)
        print(
            f"  {i:<5} {chosen:<34} {mean_auc(results, chosen, others):9.3f} "
            f"{figures['chosen']:9.3f} {figures['IF']:6.3f} {figures['GMM']:6.3f} "
            f"{figures['old']:6.3f}"
        )
    print(
        "  mean over the left-out folds' sets: "
        + ", ".join(f"{k} {np.mean(v):.3f}" for k, v in left_out.items())
    )

    chosen_on = [s for f in folds for s in f]
    default = max(candidates, key=lambda c: mean_auc(results, c, chosen_on))
    print(f"\nThe default, chosen on all {len(chosen_on)} fold sets: {default}")
    shown = [default, "old default | elbo_latent", "IsolationForest", "GaussianMixture"]
    shown = list(dict.fromkeys(shown))
    auc = np.array([[np.mean(results[s][c]["auc"]) for c in shown] for s in names])
    ranks = np.array([rankdata(-np.round(row, 3)) for row in auc])
    seconds = np.array(
        [[np.median(results[s][c]["seconds"]) for c in shown] for s in names]
    )
    print(
        f"  {'detector':<34} {'fold sets':>9} {'hold-out':>9} {'all':>6} "
        f"{'rank':>5} {'median x IF time':>17}"
    )
    reference = seconds[:, shown.index("IsolationForest")]
    for j, column in enumerate(shown):
        print(
            f"  {column:<34} {mean_auc(results, column, chosen_on):9.3f} "
            f"{mean_auc(results, column, final):9.3f} {auc[:, j].mean():6.3f} "
            f"{ranks[:, j].mean():5.2f} "
            f"{np.median(seconds[:, j] / reference):17.1f}"
        )
    print("\nPer set (mean ROC AUC over seeds):")
    print(f"  {'set':<18}" + "".join(f"{c[:16]:>18}" for c in shown))
    for i, name in enumerate(names):
        mark = " *" if name in final else "  "
        print(f"{mark}{name:<18}" + "".join(f"{v:18.3f}" for v in auc[i]))
    print("  (* final hold-out)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--candidates", nargs="*", default=list(CANDIDATES))
    parser.add_argument("--results", type=Path, help="JSON file to keep and reuse")
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args()
    results = {}
    if args.results and args.results.exists():
        results = json.loads(args.results.read_text())
    if not args.report_only:
        sets = load_sets(args.folder, "all")
        start = time.perf_counter()
        with threadpool_limits(1):
            import torch

            torch.set_num_threads(1)
            measure(sets, args.candidates, args.seeds, results, args.results)
        print(f"measured in {time.perf_counter() - start:.0f} s")
    report(results)


if __name__ == "__main__":
    main()
