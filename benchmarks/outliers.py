"""Outlier detection on labelled tabular data sets: skvae against baselines.

Every ``*.npz`` file in the folder given on the command line is one data set,
with an array ``X`` (rows, features) and labels ``y`` (1 = outlier,
0 = inlier), as in the ADBench "Classical" collection. For each set and seed:

1. sets with more than ``--max-rows`` rows are subsampled to that many rows,
   stratified on ``y`` (so the outlier fraction is kept);
2. the rows are split into a training part and a test part (60 / 40 by
   default), stratified on ``y``: the training part keeps its outliers, as in
   the unsupervised setting where nobody has cleaned the data;
3. every detector is fitted on the training part without labels and scores
   the test part; ROC AUC and average precision (AP) of the scores against
   the test labels are recorded.

The table of each set gives the mean (and standard deviation) over seeds,
and a line on what skvae's ``predict`` does with ``contamination='auto'``
(the fraction of rows it flags, its precision and recall on the test part).
The summary gives, per detector, the mean ROC AUC and AP over sets, the mean
rank of its ROC AUC (1 = best on a set; ties at three decimals share their
mean rank) and its total fit-and-score time.

Detectors, with their settings fixed for every set (no per-set tuning):

* ``skvae``: :class:`skvae.VAEOutlierDetector` with its defaults, or the
  statistic and VAE parameters given by ``--statistic`` and ``--vae``;
  ``--all-statistics`` adds one column per statistic of the same fitted VAE.
* ``IsolationForest``: scikit-learn's defaults (its splits do not depend on
  the scale of the features).
* ``LOF``: ``LocalOutlierFactor(novelty=True)`` after ``StandardScaler``.
* ``FactorAnalysis`` and ``GaussianMixture``: log-likelihood under a factor
  analysis model (as many factors as the VAE has latent dimensions, at most
  the number of features) and under a 5-component full-covariance Gaussian
  mixture, both after ``StandardScaler``; the mixture's ``reg_covar=1e-3``
  matches the VAE's variance floor on standardised data.
* ``PyOD VAE`` and ``PyOD AutoEncoder`` (when ``pyod`` is installed, with
  ``tqdm`` which its deep models import): PyOD's reconstruction-error
  detectors with the hidden layers and latent size of skvae's VAE (the
  auto-encoder's bottleneck has the latent size), dropout off, and PyOD's
  defaults otherwise (its own standardisation, learning rate, batch size,
  number of epochs, and batch normalisation in the auto-encoder). Their
  ``decision_function`` is already "higher = more abnormal".

Run, from the repository root::

    python benchmarks/outliers.py ../shared/data/outliers --sets dev
    python benchmarks/outliers.py ../shared/data/outliers --sets rest
    python benchmarks/outliers.py path/to/your/sets

``--sets dev`` takes the ten development sets on which skvae's defaults were
chosen; ``--sets rest`` the other sets of the folder (an untuned report); a
comma-separated list of names takes those sets. ``python
benchmarks/outliers.py --help`` lists the options. Torch and the BLAS run on
one thread by default (``--threads``): the networks are small, and on a busy
machine a thread pool costs more than it gains.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from scipy.stats import rankdata
from sklearn.decomposition import FactorAnalysis
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import train_test_split
from sklearn.neighbors import LocalOutlierFactor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skvae import VAEOutlierDetector, VAETransformer
from skvae._outlier import _DEFAULT_VAE  # the VAE of VAEOutlierDetector(vae=None)

try:
    from pyod.models.auto_encoder import AutoEncoder as PyODAutoEncoder
    from pyod.models.vae import VAE as PyODVAE
except ImportError:  # the PyOD columns are skipped
    PyODAutoEncoder = PyODVAE = None

# The sets on which skvae's defaults were chosen; the others are held out.
DEVELOPMENT_SETS = (
    "6_cardio",
    "38_thyroid",
    "2_annthyroid",
    "23_mammography",
    "28_pendigits",
    "30_satellite",
    "32_shuttle",
    "26_optdigits",
    "20_letter",
    "29_Pima",
)
STATISTICS = (
    "elbo_latent",
    "elbo",
    "importance_weighted",
    "reconstruction",
    "reconstruction_error",
)


# ------------------------------------------------------------------- data


def load_sets(folder: Path, selection: str) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """The (name, X, y) of the ``.npz`` sets in ``folder`` that ``selection`` names."""
    available = {path.stem: path for path in sorted(folder.glob("*.npz"))}
    if not available:
        raise SystemExit(f"No .npz files in {folder}.")
    if selection == "all":
        names = list(available)
    elif selection == "dev":
        names = [name for name in DEVELOPMENT_SETS if name in available]
    elif selection == "rest":
        names = [name for name in available if name not in DEVELOPMENT_SETS]
    else:
        names = selection.split(",")
        missing = [name for name in names if name not in available]
        if missing:
            raise SystemExit(f"Not in {folder}: {', '.join(missing)}.")
    sets = []
    for name in sorted(names, key=_set_number):
        with np.load(available[name], allow_pickle=False) as data:
            X = np.asarray(data["X"], dtype=np.float64)
            y = np.asarray(data["y"]).astype(int).ravel()
        sets.append((name, X, y))
    return sets


def _set_number(name: str):
    head = name.split("_", 1)[0]
    return (int(head), name) if head.isdigit() else (1 << 30, name)


def split(X, y, seed: int, max_rows: int, test_size: float):
    """Stratified subsample to ``max_rows``, then a stratified train/test split."""
    if X.shape[0] > max_rows:
        X, _, y, _ = train_test_split(
            X, y, train_size=max_rows, stratify=y, random_state=seed
        )
    return train_test_split(X, y, test_size=test_size, stratify=y, random_state=seed)


# -------------------------------------------------------------- detectors
# Each factory takes (seed, n_features, notes) and returns a function that
# fits on the training rows and returns the abnormality (higher = more
# abnormal) of the test rows, or a dict of such arrays for several columns.
# skvae appends what its thresholded predict does to ``notes``.


def skvae_factory(statistic: str, vae_params: dict, all_statistics: bool):
    def run(seed, n_features, notes):
        # vae=None when no parameter is overridden: the detector's own default.
        vae = VAETransformer(**{**_DEFAULT_VAE, **vae_params}) if vae_params else None
        detector = VAEOutlierDetector(vae=vae, statistic=statistic, random_state=seed)

        def fit_score(X_train, X_test):
            detector.fit(X_train)
            # What predict does with contamination='auto' (Tukey's fence).
            notes.append(
                (np.mean(detector.predict(X_train) == -1), detector.predict(X_test))
            )
            if not all_statistics:
                return -detector.score_samples(X_test)
            # The statistics of one fitted VAE: only score_samples reads
            # ``statistic``, so the fitted detector is reused for each one.
            columns = {}
            for name in STATISTICS:
                detector.set_params(statistic=name)
                columns[f"skvae {name}"] = -detector.score_samples(X_test)
            return columns

        return fit_score

    return run


def baseline_factory(make, abnormality):
    """A detector run from ``make(seed, n_features)`` and its scoring rule.

    ``abnormality(fitted_model, X_test)`` is higher for more abnormal rows.
    """

    def run(seed, n_features, notes):
        model = make(seed, n_features)

        def fit_score(X_train, X_test):
            return abnormality(model.fit(X_train), X_test)

        return fit_score

    return run


def sklearn_factory(make):
    """scikit-learn's convention: score_samples is higher for normal rows."""
    return baseline_factory(make, lambda model, X: -model.score_samples(X))


def pyod_factory(make):
    """PyOD's convention: decision_function is higher for abnormal rows."""
    return baseline_factory(make, lambda model, X: model.decision_function(X))


def make_detectors(args) -> dict:
    vae_params = {**_DEFAULT_VAE, **args.vae}  # PyOD gets the same layers
    latent = vae_params["n_components"]
    hidden = list(vae_params["hidden_layer_sizes"])
    detectors = {
        "skvae": skvae_factory(args.statistic, args.vae, args.all_statistics),
        "IsolationForest": sklearn_factory(
            lambda seed, d: IsolationForest(random_state=seed)
        ),
        "LOF": sklearn_factory(
            lambda seed, d: make_pipeline(
                StandardScaler(), LocalOutlierFactor(novelty=True)
            )
        ),
        "FactorAnalysis": sklearn_factory(
            lambda seed, d: make_pipeline(
                StandardScaler(),
                FactorAnalysis(n_components=min(latent, d), random_state=seed),
            )
        ),
        "GaussianMixture": sklearn_factory(
            lambda seed, d: make_pipeline(
                StandardScaler(),
                GaussianMixture(5, reg_covar=1e-3, random_state=seed),
            )
        ),
    }
    if PyODVAE is not None:
        common = dict(contamination=0.1, dropout_rate=0.0, device="cpu", verbose=0)
        detectors["PyOD VAE"] = pyod_factory(
            lambda seed, d: PyODVAE(
                encoder_neuron_list=hidden,
                decoder_neuron_list=hidden[::-1],
                latent_dim=latent,
                random_state=seed,
                **common,
            )
        )
        detectors["PyOD AutoEncoder"] = pyod_factory(
            lambda seed, d: PyODAutoEncoder(
                hidden_neuron_list=[*hidden, latent], random_state=seed, **common
            )
        )
    if args.only:
        detectors = {name: detectors[name] for name in args.only if name in detectors}
    return detectors


# ------------------------------------------------------------ the protocol


def evaluate(sets, detectors, args):
    """results[set][column] = list of (auc, ap) over seeds; times[set][column] = s.

    A column's time is that of fitting its detector and scoring the test
    rows, summed over seeds (columns computed from one fitted model share it).
    """
    results, times = {}, {}
    for name, X, y in sets:
        results[name] = {}
        times[name] = {}
        notes = []
        test_labels = []
        for seed in range(args.seeds):
            X_train, X_test, y_train, y_test = split(
                X, y, seed, args.max_rows, args.test_size
            )
            for label, factory in detectors.items():
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    warnings.simplefilter("ignore", UserWarning)
                    warnings.simplefilter("ignore", RuntimeWarning)
                    output = factory(seed, X.shape[1], notes)(X_train, X_test)
                elapsed = time.perf_counter() - start
                columns = output if isinstance(output, dict) else {label: output}
                for column, abnormality in columns.items():
                    # AUC and AP depend on the order of the scores only; ranks
                    # also handle the infinite scores of far-away rows.
                    ranks = rankdata(np.nan_to_num(abnormality, nan=np.inf))
                    results[name].setdefault(column, []).append(
                        (
                            roc_auc_score(y_test, ranks),
                            average_precision_score(y_test, ranks),
                        )
                    )
                    times[name][column] = times[name].get(column, 0.0) + elapsed
            test_labels.append(y_test)
        print_set(name, X, y, results[name], times[name], args)
        if notes:
            print_threshold(notes, test_labels)
    return results, times


def print_set(name, X, y, result, seconds, args):
    n_rows = min(X.shape[0], args.max_rows)
    print(
        f"\n{name}: {X.shape[0]} rows ({n_rows} used), {X.shape[1]} features, "
        f"{100 * y.mean():.1f}% outliers"
    )
    print(f"  {'detector':<32} {'ROC AUC':>15} {'AP':>15} {'s per fit':>10}")
    for column, values in result.items():
        auc, ap = np.array(values).T
        print(
            f"  {column:<32} {auc.mean():.3f} ± {auc.std():.3f}"
            f"   {ap.mean():.3f} ± {ap.std():.3f} {seconds[column] / args.seeds:10.2f}"
        )


def print_threshold(notes, test_labels):
    """How skvae's predict with contamination='auto' does, averaged over seeds."""
    train_fraction, flagged, precision, recall = [], [], [], []
    for (fraction, labels), y_test in zip(notes, test_labels, strict=True):
        outlier = labels == -1
        train_fraction.append(fraction)
        flagged.append(outlier.mean())
        precision.append(y_test[outlier].mean() if outlier.any() else 0.0)
        recall.append(outlier[y_test == 1].mean())
    print(
        f"  skvae predict, contamination='auto': flags {100 * np.mean(flagged):.1f}% "
        f"of test rows ({100 * np.mean(train_fraction):.1f}% of training rows); "
        f"precision {np.mean(precision):.2f}, recall {np.mean(recall):.2f}"
    )


def print_summaries(results, times, elapsed):
    """One summary per group of sets (development, other) present, then all."""
    groups = {
        "development sets": [s for s in results if s in DEVELOPMENT_SETS],
        "other sets": [s for s in results if s not in DEVELOPMENT_SETS],
    }
    for label, names in groups.items():
        if names and len(names) < len(results):
            print_summary({s: results[s] for s in names}, times, label)
    print_summary(results, times, "sets")
    print(f"\nTotal wall-clock time: {elapsed:.0f} s")


def print_summary(results, times, label):
    columns = list(next(iter(results.values())))
    auc = np.array(
        [[np.mean([v[0] for v in results[s][c]]) for c in columns] for s in results]
    )
    ap = np.array(
        [[np.mean([v[1] for v in results[s][c]]) for c in columns] for s in results]
    )
    # Rank 1 = highest ROC AUC on a set, rounded to 3 decimals as printed.
    ranks = np.array([rankdata(-np.round(row, 3)) for row in auc])
    seconds = np.array([[times[s][c] for c in columns] for s in results])
    # Time relative to IsolationForest's on the same set, in the same run.
    reference = (
        columns.index("IsolationForest") if "IsolationForest" in columns else None
    )
    print(f"\nSummary over {len(results)} {label} (mean of the per-set means)")
    print(
        f"  {'detector':<32} {'ROC AUC':>8} {'AP':>8} {'rank':>6} {'time (s)':>9} "
        f"{'median x IF':>12}"
    )
    for j in np.argsort(ranks.mean(0)):
        ratio = (
            f"{np.median(seconds[:, j] / seconds[:, reference]):12.1f}"
            if reference is not None
            else ""
        )
        print(
            f"  {columns[j]:<32} {auc[:, j].mean():8.3f} {ap[:, j].mean():8.3f} "
            f"{ranks[:, j].mean():6.2f} {seconds[:, j].sum():9.1f} {ratio}"
        )


def parse_vae_params(items):
    """``key=value`` pairs for VAETransformer, values read as Python literals."""
    import ast

    params = {}
    for item in items:
        key, _, value = item.partition("=")
        try:
            params[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            params[key] = value
    return params


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("folder", type=Path, help="folder of .npz sets (X, y)")
    parser.add_argument(
        "--sets",
        default="all",
        help="'all' (default), 'dev', 'rest' or a comma-separated list of names",
    )
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1")
    parser.add_argument(
        "--max-rows", type=int, default=5000, help="stratified subsample above this"
    )
    parser.add_argument(
        "--test-size", type=float, default=0.4, help="fraction of rows scored"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch and BLAS threads")
    parser.add_argument(
        "--statistic",
        default=VAEOutlierDetector().statistic,
        choices=STATISTICS,
        help="skvae's score (default: the detector's default)",
    )
    parser.add_argument(
        "--all-statistics",
        action="store_true",
        help="one skvae column per statistic, from the same fitted VAE",
    )
    parser.add_argument(
        "--vae",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="VAETransformer parameters replacing the detector's defaults",
    )
    parser.add_argument(
        "--only", nargs="*", metavar="DETECTOR", help="run these detectors only"
    )
    args = parser.parse_args(argv)
    args.vae = parse_vae_params(args.vae)
    torch.set_num_threads(args.threads)

    sets = load_sets(args.folder, args.sets)
    detectors = make_detectors(args)
    vae_params = {**_DEFAULT_VAE, **args.vae}
    print(
        f"Protocol: {len(sets)} sets from {args.folder}; seeds 0..{args.seeds - 1}; "
        f"sets above {args.max_rows} rows subsampled (stratified); "
        f"{100 * (1 - args.test_size):.0f}/{100 * args.test_size:.0f} stratified "
        "train/test split, outliers kept in the training part; fit without "
        "labels on train, ROC AUC and AP on test."
    )
    print(f"skvae: statistic={args.statistic!r}, VAETransformer({vae_params})")
    if PyODVAE is None:
        print("pyod (with tqdm) is not installed: the PyOD columns are skipped.")
    print(f"threads (torch and BLAS): {args.threads}")
    start = time.perf_counter()
    with threadpool_limits(args.threads):
        results, times = evaluate(sets, detectors, args)
    print_summaries(results, times, time.perf_counter() - start)


if __name__ == "__main__":
    main()
