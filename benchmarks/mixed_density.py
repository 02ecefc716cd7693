"""Held-out log-likelihood on real mixed-type tables, per column type.

Tables: ``penguins``, ``cars`` (without ``Name``) and ``seattle_weather``
(without ``date``) from ``DATA_DIR/tabular/``, with their real missing
values. Each is split 70 / 30 at random (seeds given by ``--seeds``).

Models, fitted on the training part, scored on the test part in nats per
row (higher is better); every score is of the observed cells of each row:

* ``skvae``: ``VAETransformer(likelihood="auto")``, otherwise its defaults,
  scored with 256 importance samples;
* ``baseline``: a ``GaussianMixture`` on the continuous columns (full
  covariances, 1 to 8 components chosen by BIC on the complete training
  rows; an incomplete row is scored by the mixture's marginal over its
  observed columns, which is exact for a Gaussian mixture) times
  independent frequencies for every discrete column (categories, and the
  integer columns 'auto' reads as counts or 0/1), with add-one smoothing.

Columns: ``all`` is the joint score; ``continuous`` and ``discrete`` score
only that type's cells (the other cells hidden from the VAE, left out of the
baseline), so each is a marginal log-likelihood of those columns. Run from
the repository root::

    python benchmarks/mixed_density.py ../shared/data --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import logsumexp
from scipy.stats import multivariate_normal
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import train_test_split

from skvae import VAETransformer
from skvae._tabular import infer_kind

TABLES = {"penguins": [], "cars": ["Name"], "seattle_weather": ["date"]}


def load(data_dir: Path, name: str) -> pd.DataFrame:
    frame = pd.read_csv(data_dir / "tabular" / f"{name}.csv").drop(columns=TABLES[name])
    for column in frame.columns:
        if infer_kind(frame[column]) == "categorical":
            frame[column] = frame[column].astype("category")
    return frame


def continuous_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if infer_kind(frame[c]) == "gaussian"]


class Baseline:
    """A Gaussian mixture on the continuous columns times independent
    smoothed frequencies of the discrete ones."""

    def fit(self, frame: pd.DataFrame, seed: int):
        self.continuous = continuous_columns(frame)
        self.discrete = [c for c in frame.columns if c not in self.continuous]
        complete = frame[self.continuous].dropna().to_numpy()
        fits = [
            GaussianMixture(k, covariance_type="full", random_state=seed).fit(complete)
            for k in range(1, 9)
        ]
        self.mixture = min(fits, key=lambda m: m.bic(complete))
        self.frequencies = {}
        for column in self.discrete:
            counts = frame[column].value_counts()
            levels = (
                list(frame[column].cat.categories)
                if isinstance(frame[column].dtype, pd.CategoricalDtype)
                else sorted(frame[column].dropna().unique())
            )
            total = counts.sum() + len(levels) + 1  # one more for unseen values
            self.frequencies[column] = (
                {level: (counts.get(level, 0) + 1) / total for level in levels},
                1 / total,
            )
        return self

    def score_samples(self, frame: pd.DataFrame, part: str = "all") -> np.ndarray:
        scores = np.zeros(len(frame))
        if part in ("all", "continuous"):
            values = frame[self.continuous].to_numpy(dtype=float)
            for i, row in enumerate(values):
                seen = ~np.isnan(row)
                if not seen.any():
                    continue
                terms = [
                    np.log(weight)
                    + multivariate_normal(mean[seen], cov[np.ix_(seen, seen)]).logpdf(
                        row[seen]
                    )
                    for weight, mean, cov in zip(
                        self.mixture.weights_,
                        self.mixture.means_,
                        self.mixture.covariances_,
                        strict=True,
                    )
                ]
                scores[i] += logsumexp(terms)
        if part in ("all", "discrete"):
            for column in self.discrete:
                table, unseen = self.frequencies[column]
                for i, value in enumerate(frame[column]):
                    if not pd.isna(value):
                        scores[i] += np.log(table.get(value, unseen))
        return scores


def hide(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    hidden = frame.copy()
    for column in columns:
        hidden[column] = (
            np.nan if column not in hidden.select_dtypes("category") else None
        )
    return hidden


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", type=Path, help="folder with tabular/")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    rows = []
    for name in TABLES:
        frame = load(args.data_dir, name)
        for seed in args.seeds:
            train, test = train_test_split(frame, test_size=0.3, random_state=seed)
            start = time.perf_counter()
            vae = VAETransformer(likelihood="auto", random_state=seed).fit(train)
            vae.set_params(n_importance_samples=256)
            seconds = time.perf_counter() - start
            baseline = Baseline().fit(train, seed)
            continuous = continuous_columns(frame)
            discrete = [c for c in frame.columns if c not in continuous]
            # Rows with no observed cell of a type say nothing about it.
            has = {
                "continuous": test[continuous].notna().any(axis=1).to_numpy(),
                "discrete": test[discrete].notna().any(axis=1).to_numpy(),
            }
            result = {
                "table": name,
                "seed": seed,
                "kinds": " ".join(
                    f"{k}:{vae.column_likelihoods_['kinds'].count(k)}"
                    for k in dict.fromkeys(vae.column_likelihoods_["kinds"])
                ),
                "skvae all": vae.score(test),
                "baseline all": baseline.score_samples(test).mean(),
                "fit s": seconds,
            }
            for part, others in (("continuous", discrete), ("discrete", continuous)):
                rows_with = test[has[part]]
                result[f"skvae {part}"] = vae.score(hide(rows_with, others))
                result[f"baseline {part}"] = baseline.score_samples(
                    rows_with, part
                ).mean()
            rows.append(result)
            print(result, flush=True)
    results = pd.DataFrame(rows)
    columns = ["table", "kinds"] + [
        f"{model} {part}"
        for part in ("all", "continuous", "discrete")
        for model in ("skvae", "baseline")
    ]
    print("\nHeld-out log-likelihood, nats per row (mean over seeds; higher is better)")
    summary = results.groupby(["table", "kinds"]).mean(numeric_only=True).reset_index()
    print(summary[columns + ["fit s"]].round(3).to_string(index=False))


if __name__ == "__main__":
    main()
