"""Which single network should VAEImputer fit? Changes to one network, probed.

Runs ``VAEImputer`` with one VAE, skvae 0.3's network (``(256, 128)`` layers,
the decoder's variance per point, trained on the 10-draw bound) with one
change at a time, on the tables and masks of ``benchmarks/imputation.py``
(the same rows and the same 30% MCAR masks for a seed), and prints one line
per table and candidate: RMSE on the masked continuous cells (standardised),
accuracy on the categorical ones, and seconds. Compare with the other
imputers of ``benchmarks/imputation.py`` run on the same seed.

Run from the repository root, e.g. the probes of letter and breast cancer
recorded in ``docs/tables.rst``::

    python benchmarks/imputer_capacity.py ../shared/data --seed 0 \\
        --data 20_letter breast_cancer
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

# Each candidate: its changes to skvae 0.3's network (_DEFAULT_VAE with
# n_components = min(16, n_features)).
CANDIDATES = {
    "0.3's network": {},
    "per-feature variance": {"decoder_variance": "per_feature"},
    "(64,)": {"hidden_layer_sizes": (64,)},
    "(128, 64)": {"hidden_layer_sizes": (128, 64)},
    "(512, 256)": {"hidden_layer_sizes": (512, 256)},
    "8 latent": {"n_components": 8},
    "32 latent": {"n_components": 32},
    "1 draw": {"n_mc_samples": 1},
    "25 draws": {"n_mc_samples": 25},
    "50 draws": {"n_mc_samples": 50},
    "beta 0.5": {"beta": 0.5, "objective": "elbo"},
    "alpha 1e-3": {"alpha": 1e-3},
    "batch 64": {"batch_size": 64},
    "patience 100": {"n_iter_no_change": 100},
    "tanh": {"activation": "tanh"},
    "rate 1e-3": {"learning_rate": 1e-3},
    "no rate decay": {"lr_plateau_decays": 0},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-rows", type=int, default=2000)
    parser.add_argument(
        "--candidates", nargs="+", default=list(CANDIDATES), choices=list(CANDIDATES)
    )
    parser.add_argument("--data", nargs="+", help="only these data sets")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    tables = load_tables(args.data_dir, args.max_rows, np.random.RandomState(0))
    for name in args.data or list(tables):
        frame = tables[name]
        truth, categorical = as_codes(frame)
        mask = draw_mask(frame, "mcar30", np.random.RandomState(args.seed))
        masked = frame.mask(mask)
        n_components = min(_DEFAULT_MAX_COMPONENTS, frame.shape[1])
        params = {**_DEFAULT_VAE, "n_components": n_components}
        for candidate in args.candidates:
            vae = VAETransformer(**{**params, **CANDIDATES[candidate]})
            start = time.perf_counter()
            filled = VAEImputer(vae, random_state=args.seed).fit_transform(masked)
            seconds = time.perf_counter() - start
            rmse, accuracy = score(truth, as_codes(filled)[0], mask, categorical)
            print(
                f"{name:16} {candidate:22} RMSE {rmse:7.4f}  accuracy "
                f"{accuracy:6.3f}  {seconds:7.2f}s",
                flush=True,
            )


if __name__ == "__main__":
    main()
