"""Which VAEs should VAEImputer choose among, and does choosing help?

For every table and seed of ``benchmarks/imputation.py`` (the same rows and
the same 30% MCAR masks) and every candidate VAE, this writes one JSON line:

* ``held_out``: the candidate's error on the cells that ``VAEImputer``
  hides to choose (``skvae._imputer.held_out_errors``, the choice's own
  criterion), and the seconds that took;
* ``rmse_selection`` / ``accuracy_selection``: the benchmark's scores of
  that fit (trained with the cells hidden) on the benchmark's masked cells;
* ``rmse_refit`` / ``accuracy_refit``: the same candidate fitted on all
  observed cells, as ``VAEImputer`` does after choosing, and its seconds.

``--summarise`` reads the lines back and cuts the tables into folds: a
rule (a candidate list, refit or not) is chosen on the other folds and
reported on the fold left out. Run from the repository root::

    python benchmarks/imputer_selection.py ../shared/data --seeds 0 1 2 \
        --out selection.jsonl
    python benchmarks/imputer_selection.py --summarise selection.jsonl \
        --baselines imputation_baselines.csv
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.utils import check_random_state

from skvae import VAETransformer
from skvae._imputer import _DEFAULT_MAX_COMPONENTS, _DEFAULT_VAE
from skvae._tabular import ResolvedLikelihood, fit_columns
from skvae._torch_utils import draw_seed

sys.path.insert(0, str(Path(__file__).resolve().parent))
from imputation import as_codes, draw_mask, load_tables, score  # noqa: E402

CANDIDATES = {
    "wide, per-point": {},
    "wide, per-feature": {"decoder_variance": "per_feature"},
    "narrow, per-feature": {
        "decoder_variance": "per_feature",
        "hidden_layer_sizes": (64,),
    },
    "narrow, per-point": {"hidden_layer_sizes": (64,)},
    # No hidden layer: a linear-Gaussian model (factor analysis), whose
    # conditional means are linear in the observed cells. Added to the
    # average of three on six tables (3 seeds), it brought breast cancer
    # within 10% of IterativeImputer (1.11 -> 1.09 of its RMSE) and took
    # pendigits out (1.05 -> 1.12; letter 1.31 -> 1.37): not adopted. Its
    # validation bound was within 2.3 nats per row of the best per-feature
    # network's where it helped (breast cancer, wine, Pima) and 3.8 to 5
    # below it where it hurt (letter, pendigits, cardio); but the rule "add
    # it within 2.5 nats", chosen there, did not help on the 18 other
    # tables (seed 0: geometric-mean RMSE 0.7133 against 0.7123 without).
    "linear, per-feature": {
        "decoder_variance": "per_feature",
        "hidden_layer_sizes": (),
    },
}


def held_out_errors(candidates, table, fraction, n_draws, rng):
    """How well each candidate VAE fills cells it was not shown: the choice
    by held-out cells that was measured here against averaging.

    A share ``fraction`` of the observed cells of the frame ``table`` is
    hidden (no row or column loses all of them); each candidate, cloned, is
    fitted on the rest and fills the hidden cells. A numeric cell's error is
    its squared error over the column's variance, a categorical cell's 1
    when the level is wrong, over the share of the column's cells not at its
    most frequent level (both 1 on average for the column's mean or mode).
    Returns the mean error per candidate and the candidates fitted.
    """
    observed = table.notna().to_numpy()
    hidden = observed & (rng.uniform(size=observed.shape) < fraction)
    for i in np.flatnonzero(observed.sum(axis=1) == hidden.sum(axis=1)):
        hidden[i, rng.choice(np.flatnonzero(observed[i]))] = False
    hidden[:, (observed & ~hidden).sum(axis=0) < 2] = False
    with_gaps = table.mask(hidden)
    truth = table.to_numpy(dtype=object)
    errors, fitted = [], []
    for vae in candidates:
        vae = clone(vae)
        kinds = fit_columns(table, vae.likelihood).kinds
        if ResolvedLikelihood.is_per_column(vae.likelihood):
            # Resolved on the table itself: an integer column given gaps
            # would otherwise read as floats, and get another likelihood.
            vae.set_params(likelihood=kinds)
        filled = vae.fit(with_gaps).impute(with_gaps, n_draws).to_numpy(dtype=object)
        total = 0.0
        for j, kind in enumerate(kinds):
            cells = hidden[:, j]
            known = truth[observed[:, j] & ~cells, j]
            if kind == "categorical":
                _, counts = np.unique(known.astype(str), return_counts=True)
                baseline = max(1.0 - counts.max() / counts.sum(), 1.0 / counts.sum())
                total += float((filled[cells, j] != truth[cells, j]).sum()) / baseline
            else:
                residuals = (filled[cells, j] - truth[cells, j]).astype(np.float64)
                variance = np.var(known.astype(np.float64)) or 1.0
                total += float((residuals**2).sum()) / variance
        errors.append(total / max(int(hidden.sum()), 1))
        fitted.append(vae)
    return np.array(errors), fitted


def candidate(name: str, n_features: int, seed: int) -> VAETransformer:
    n_components = min(_DEFAULT_MAX_COMPONENTS, n_features)
    params = {**_DEFAULT_VAE, **CANDIDATES[name]}
    return VAETransformer(n_components=n_components, random_state=seed, **params)


def measure(args) -> None:
    warnings.simplefilter("ignore")
    tables = load_tables(args.data_dir, args.max_rows, np.random.RandomState(0))
    names = args.data or list(tables)
    if args.fills:
        Path(args.fills).mkdir(parents=True, exist_ok=True)
    done = set()
    if Path(args.out).exists():  # go on where an interrupted run stopped
        for line in Path(args.out).read_text().splitlines():
            row = json.loads(line)
            done.add((row["data"], row["seed"], row["candidate"]))
    with open(args.out, "a") as out:
        for data_name in names:
            frame = tables[data_name]
            truth, categorical = as_codes(frame)
            for seed in args.seeds:
                mask = draw_mask(frame, "mcar30", np.random.RandomState(seed))
                masked = frame.mask(mask)
                # The seeds VAEImputer(random_state=seed) gives its VAE and
                # the cells it hides.
                rng = check_random_state(seed)
                vae_seed, _, cells_seed = (draw_seed(rng) % 2**32 for _ in range(3))
                for name in args.candidates:
                    if (data_name, seed, name) in done:
                        continue
                    vae = candidate(name, frame.shape[1], vae_seed)
                    errors, held_out_seconds = [np.nan], np.nan
                    selection, fills = (np.nan, np.nan), {}
                    if not args.refit_only:
                        start = time.perf_counter()
                        errors, fitted = held_out_errors(
                            [vae], masked, 0.1, 100, check_random_state(cells_seed)
                        )
                        held_out_seconds = time.perf_counter() - start
                        filled = as_codes(fitted[0].impute(masked, 100))[0]
                        selection = score(truth, filled, mask, categorical)
                        fills["selection"] = filled[mask]
                    start = time.perf_counter()
                    refit = vae.fit(masked)
                    filled = as_codes(refit.impute(masked, 100))[0]
                    refit_seconds = time.perf_counter() - start
                    scores = score(truth, filled, mask, categorical)
                    fills["refit"] = filled[mask]
                    if args.fills:  # the filled cells, for ensembles of rules
                        np.savez(
                            Path(args.fills) / f"{data_name}-{seed}-{name}.npz",
                            truth=truth[mask],
                            categorical=np.broadcast_to(categorical, mask.shape)[mask],
                            column=np.nonzero(mask)[1],
                            scale=np.nanstd(truth, axis=0),
                            **fills,
                        )
                    line = dict(
                        data=data_name,
                        seed=seed,
                        candidate=name,
                        held_out=float(errors[0]),
                        held_out_seconds=held_out_seconds,
                        rmse_selection=selection[0],
                        accuracy_selection=selection[1],
                        rmse_refit=scores[0],
                        accuracy_refit=scores[1],
                        refit_seconds=refit_seconds,
                        # The refit's best validation bound (nats per row,
                        # data units): shared rows across the candidates.
                        validation=refit.best_validation_score_,
                    )
                    out.write(json.dumps(line) + "\n")
                    out.flush()
                    print(
                        f"{data_name:16} seed {seed} {name:20} held-out "
                        f"{errors[0]:.4f} RMSE {selection[0]:.4f} / refit "
                        f"{scores[0]:.4f} ({held_out_seconds:.1f} s + "
                        f"{refit_seconds:.1f} s)",
                        flush=True,
                    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", type=Path, nargs="?")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--max-rows", type=int, default=2000)
    parser.add_argument("--candidates", nargs="+", default=list(CANDIDATES))
    parser.add_argument("--data", nargs="+", help="only these data sets")
    parser.add_argument("--out", default="imputer_selection.jsonl")
    parser.add_argument("--fills", help="a folder for each fit's filled cells")
    parser.add_argument(
        "--refit-only",
        action="store_true",
        help="skip the fits with cells hidden (held-out errors NaN)",
    )
    parser.add_argument("--summarise", help="a JSON-lines file of measurements")
    parser.add_argument("--baselines", help="imputation.py's rows as CSV")
    args = parser.parse_args()
    if args.summarise:
        summarise(args.summarise, args.baselines, args.fills)
    else:
        measure(args)


def ensemble_scores(fills_dir: Path, members) -> pd.DataFrame:
    """Per table and seed: RMSE and accuracy of the average of ``members``'
    refitted imputations (a numeric cell's mean, a category's most common
    level, ties to the earliest member), from the saved filled cells."""
    rows = []
    pattern = f"*-{members[0]}.npz"
    for path in sorted(fills_dir.glob(pattern)):
        data, seed = path.name[: -len(pattern) + 1].rsplit("-", 1)
        paths = [fills_dir / f"{data}-{seed}-{m}.npz" for m in members]
        if not all(path.exists() for path in paths):  # a run still going
            continue
        parts = [np.load(path) for path in paths]
        first = parts[0]
        cells = np.stack([part["refit"] for part in parts])
        categorical = first["categorical"]
        filled = cells.mean(axis=0)
        for i in np.flatnonzero(categorical):
            votes = list(cells[:, i])
            filled[i] = votes[int(np.argmax([votes.count(v) for v in votes]))]
        truth = first["truth"]
        errors = (filled - truth) / first["scale"][first["column"]]
        numeric = ~categorical
        rows.append(
            dict(
                data=data,
                seed=int(seed),
                rmse=float(np.sqrt(np.mean(errors[numeric] ** 2)))
                if numeric.any()
                else np.nan,
                accuracy=float(np.mean(filled[categorical] == truth[categorical]))
                if categorical.any()
                else np.nan,
            )
        )
    return pd.DataFrame(rows)


def folds(names, n_folds=4, n_final=4, seed=0):
    """The tables cut by a fixed seed: a final hold-out no choice sees, and
    ``n_folds`` folds of the rest."""
    order = list(np.random.RandomState(seed).permutation(sorted(names)))
    final, rest = order[:n_final], order[n_final:]
    return final, [rest[k::n_folds] for k in range(n_folds)]


def summarise(path, baselines, fills_dir) -> None:
    lines = pd.concat([pd.read_json(p, lines=True) for p in path.split(",")])
    candidates = list(dict.fromkeys(lines["candidate"]))
    per_rule = {}  # rule -> frame indexed by (data, seed): rmse, accuracy, seconds
    seconds = lines.pivot_table(
        index=["data", "seed"], columns="candidate", values="refit_seconds"
    )
    for name in candidates:
        block = lines[lines["candidate"] == name].set_index(["data", "seed"])
        per_rule[name] = block.rename(
            columns={"rmse_refit": "rmse", "accuracy_refit": "accuracy"}
        )[["rmse", "accuracy"]].assign(seconds=seconds[name])
    for size in range(2, len(candidates) + 1):
        for members in itertools.combinations(candidates, size):
            scores = ensemble_scores(Path(fills_dir), members).set_index(
                ["data", "seed"]
            )
            scores["seconds"] = seconds[list(members)].sum(axis=1)
            per_rule["average of " + " + ".join(members)] = scores
    # The choice by cells held out of the fit, where it was measured.
    chosen = lines.dropna(subset=["held_out"])
    complete = chosen.groupby(["data", "seed"])["candidate"].transform("size")
    chosen = chosen[complete == len(candidates)]
    if len(chosen):
        best = chosen.loc[chosen.groupby(["data", "seed"])["held_out"].idxmin()]
        best = best.set_index(["data", "seed"])
        per_rule["choose by held-out cells"] = best.rename(
            columns={"rmse_refit": "rmse", "accuracy_refit": "accuracy"}
        )[["rmse", "accuracy"]].assign(
            seconds=chosen.groupby(["data", "seed"])[
                ["held_out_seconds", "refit_seconds"]
            ]
            .sum()
            .sum(axis=1)
        )
    held_out_rule = per_rule.pop("choose by held-out cells", None)
    # Only the tables and seeds every rule has.
    common = None
    for frame in per_rule.values():
        index = frame["rmse"].dropna().index
        common = index if common is None else common.intersection(index)
    means = {
        label: frame.loc[common].groupby("data").mean()
        for label, frame in per_rule.items()
    }

    def quality(label, tables):
        # The geometric mean of the RMSE over the tables.
        return float(np.exp(np.log(means[label].loc[tables, "rmse"]).mean()))

    names = sorted(means[candidates[0]].index)
    final, cut = folds(names)
    print(f"tables: {len(names)}; seeds: {sorted(set(common.get_level_values(1)))}")
    print(f"final hold-out (no choice sees it): {', '.join(final)}")
    shown = [candidates[0]]
    for k, fold in enumerate(cut):
        others = [name for part in cut if part is not fold for name in part]
        best = min(means, key=lambda label: quality(label, others))
        shown.append(best)
        print(f"\nfold {k + 1}: {', '.join(fold)}")
        for label in dict.fromkeys([best, candidates[0]]):
            print(
                f"  {label:75} geometric-mean RMSE on the other folds "
                f"{quality(label, others):.4f}, on this fold {quality(label, fold):.4f}"
            )
    shown = list(dict.fromkeys(shown))
    print("\nOn the final hold-out:")
    for label in shown:
        print(f"  {label:75} {quality(label, final):.4f}")
    print("\nAll rules, geometric-mean RMSE over every table, mean seconds:")
    for label in sorted(means, key=lambda label: quality(label, names)):
        print(
            f"  {label:75} {quality(label, names):.4f}  "
            f"{means[label]['seconds'].mean():6.1f} s"
        )
    if held_out_rule is not None:
        where = held_out_rule.index
        tables = sorted(set(where.get_level_values(0)))
        print(
            f"\nWhere the choice by held-out cells was measured ({len(where)} "
            f"table-seeds of {', '.join(tables)}), geometric-mean RMSE:"
        )
        for label, frame in [("choose by held-out cells", held_out_rule)] + [
            (label, per_rule[label]) for label in shown
        ]:
            rmse = frame.loc[where, "rmse"]
            print(f"  {label:75} {np.exp(np.log(rmse).mean()):.4f}")
    table = pd.DataFrame({label: means[label]["rmse"] for label in shown})
    if baselines:
        base = pd.read_csv(baselines)
        base = base[(base["mask"] == "mcar30") & (base["imputer"] != "skvae")]
        base = base.set_index(["data", "seed"]).loc[common].reset_index()
        best = base.groupby(["data", "imputer"])["rmse"].mean().unstack()
        table["best sklearn"] = best.min(axis=1)
        table["which"] = best.idxmin(axis=1)
        ranks = pd.concat([best, table[shown]], axis=1).rank(axis=1)
        print("\nMean RMSE rank (1 = best) over the tables:")
        print(ranks.mean().sort_values().round(2).to_string())
        for label in shown:
            ratio = table[label] / table["best sklearn"]
            behind = ratio[ratio > 1.1].sort_values(ascending=False)
            print(
                f"{label}: more than 10% behind the best scikit-learn imputer on "
                f"{len(behind)} of {len(ratio.dropna())}: "
                + ", ".join(f"{k} {v:.2f}" for k, v in behind.items())
            )
    print("\nRMSE per table (means over the seeds):")
    print(table.round(3).to_string())
    accuracy = pd.DataFrame(
        {label: means[label]["accuracy"] for label in shown}
    ).dropna()
    print("\nAccuracy on the hidden categorical cells:")
    print(accuracy.round(3).to_string())


if __name__ == "__main__":
    main()
