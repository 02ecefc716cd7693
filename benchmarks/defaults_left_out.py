"""skvae 0.3's VAETransformer defaults against 0.2's, on sets they were not chosen on.

0.2's defaults were chosen on digits, Frey Face, factor-analysis data and the
inliers of ten outlier sets (``benchmarks/defaults_study.py``); 0.3 changed
the schedule (``batch_size='auto'``, ``n_iter_no_change='auto'``) and added
``tail_mass=0.01``. This script fits both on the inliers of every *other*
outlier set in the folder (the 19 sets outside ``DEVELOPMENT_SETS`` of
``benchmarks/outliers.py``), standardised on a 70 / 30 split (at most 3,000
training rows, seed 0), and prints the held-out log-likelihood per row (64
importance samples, nats in the standardised units, higher is better), the
fit time, and the worst held-out row.

Run from the repository root::

    python benchmarks/defaults_left_out.py ../shared/data/outliers
"""

from __future__ import annotations

import argparse
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
from outliers import load_sets  # noqa: E402
from small_tables import held_out_before_0_3_1  # noqa: E402

SETTINGS = {
    "0.2": lambda n: dict(
        batch_size=128,
        n_iter_no_change=10,
        tail_mass=0.0,
        early_stopping=held_out_before_0_3_1(n),
    ),
    "0.3": lambda n: dict(),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--max-train", type=int, default=3000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    sets = load_sets(args.folder, "rest")
    print(
        f"{'set':<18} {'0.2 score':>9} {'0.3 score':>9} {'0.2 s':>6} {'0.3 s':>6} "
        f"{'0.2 worst':>10} {'0.3 worst':>10}"
    )
    rows = []
    for name, X, y in sets:
        inliers = X[y == 0]
        train, test = train_test_split(inliers, test_size=0.3, random_state=0)
        train = train[: args.max_train]
        scaler = StandardScaler().fit(train)
        train, test = scaler.transform(train), scaler.transform(test)
        row = []
        for settings in SETTINGS.values():
            start = time.perf_counter()
            vae = VAETransformer(random_state=0, **settings(len(train))).fit(train)
            seconds = time.perf_counter() - start
            scores = vae.score_samples(test)
            row.append((float(np.mean(scores)), seconds, float(np.min(scores))))
        rows.append(row)
        (s2, t2, w2), (s3, t3, w3) = row
        print(
            f"{name:<18} {s2:9.2f} {s3:9.2f} {t2:6.1f} {t3:6.1f} {w2:10.1f} {w3:10.1f}",
            flush=True,
        )
    scores = np.array([[r[0] for r in row] for row in rows])
    times = np.array([[r[1] for r in row] for row in rows])
    print(
        f"\n0.3 higher on {int(np.sum(scores[:, 1] > scores[:, 0]))} of {len(rows)} "
        f"sets; median gain {np.median(scores[:, 1] - scores[:, 0]):.2f} nats per row; "
        f"total fit s 0.2 {times[:, 0].sum():.0f}, 0.3 {times[:, 1].sum():.0f}"
    )


if __name__ == "__main__":
    main()
