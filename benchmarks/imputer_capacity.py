"""Which network should VAEImputer's default VAE have? A leave-tables-out check.

Runs ``VAEImputer`` with candidate ``hidden_layer_sizes`` on the tables and
masks of ``benchmarks/imputation.py`` (the same rows and the same masks for
a seed), and writes one line per table and candidate: RMSE on the masked
continuous cells (standardised) and seconds. Compare with the other
imputers of ``benchmarks/imputation.py`` run on the same seed.

Run from the repository root::

    python benchmarks/imputer_capacity.py ../shared/data --seed 0
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from skvae import VAEImputer, VAETransformer
from skvae._imputer import _DEFAULT_MAX_COMPONENTS, _DEFAULT_VAE

sys.path.insert(0, str(Path(__file__).resolve().parent))
from imputation import as_codes, draw_mask, load_tables, score  # noqa: E402

CANDIDATES = {"(64,)": (64,), "(128, 64)": (128, 64)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-rows", type=int, default=2000)
    parser.add_argument("--candidates", nargs="+", default=list(CANDIDATES))
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    tables = load_tables(args.data_dir, args.max_rows, np.random.RandomState(0))
    for name, frame in tables.items():
        truth, categorical = as_codes(frame)
        mask = draw_mask(frame, "mcar30", np.random.RandomState(args.seed))
        masked = frame.mask(mask)
        for candidate in args.candidates:
            n_components = min(_DEFAULT_MAX_COMPONENTS, frame.shape[1])
            vae = VAETransformer(
                **{
                    **_DEFAULT_VAE,
                    "hidden_layer_sizes": CANDIDATES[candidate],
                    "n_components": n_components,
                }
            )
            start = time.perf_counter()
            filled = VAEImputer(vae, random_state=args.seed).fit_transform(masked)
            seconds = time.perf_counter() - start
            rmse, accuracy = score(truth, as_codes(filled)[0], mask, categorical)
            print(
                f"{name:16} {candidate:10} RMSE {rmse:7.4f}  accuracy "
                f"{accuracy:6.3f}  {seconds:7.2f}s",
                flush=True,
            )


if __name__ == "__main__":
    main()
