"""Scores of every likelihood, the detector and the imputer, for refactors.

A refactor that should change no number is checked by writing the
fingerprint before and after and comparing them bit for bit::

    git worktree add /tmp/before <commit>
    PYTHONPATH=/tmp/before python benchmarks/score_fingerprint.py /tmp/before.npz
    python benchmarks/score_fingerprint.py /tmp/after.npz --compare /tmp/before.npz

It fits small models (240 rows, 15 epochs, seed 0) with each likelihood,
per-feature variances, missing values, a mixed frame, the default detector
with three statistics and four imputers, and stores their scores, codes,
samples, row statistics, training curves and validation scores, and the
imputations.
"""

from __future__ import annotations

import argparse
import sys
import warnings

import numpy as np
import pandas as pd

import skvae
from skvae import VAEImputer, VAEOutlierDetector, VAETransformer

SMALL = dict(hidden_layer_sizes=(16,), max_iter=15, random_state=0)


def numeric(values) -> np.ndarray:
    if hasattr(values, "select_dtypes"):
        return values.select_dtypes("number").to_numpy(float)
    return np.asarray(values, dtype=float)


def fingerprint() -> dict[str, np.ndarray]:
    rng = np.random.RandomState(0)
    n = 240
    Z = rng.normal(size=(n, 2))
    X = Z @ rng.normal(size=(2, 6)) + 0.3 * rng.normal(size=(n, 6))
    out = {}

    def record(name, vae, data):
        out[f"{name}/score"] = vae.score_samples(data)
        out[f"{name}/transform"] = vae.transform(data)
        out[f"{name}/loss"] = np.array(vae.loss_curve_)
        out[f"{name}/validation"] = np.array(vae.validation_scores_ or [])
        out[f"{name}/sample"] = numeric(vae.sample(4, random_state=1)[0])
        for statistic in ("elbo", "importance_weighted", "latent_energy"):
            out[f"{name}/{statistic}"] = vae.row_statistic(data, statistic)

    unit = 1 / (1 + np.exp(-X))
    counts = rng.poisson(np.exp(0.5 * Z[:, :1] + 1), size=(n, 4)).astype(float)
    binary = (unit > 0.5).astype(float)
    for likelihood, data in (
        ("gaussian", X),
        ("gaussian_sigmoid", unit),
        ("bernoulli", binary),
        ("poisson", counts),
    ):
        record(
            likelihood, VAETransformer(likelihood=likelihood, **SMALL).fit(data), data
        )
    per_feature = VAETransformer(decoder_variance="per_feature", **SMALL)
    record("per_feature", per_feature.fit(X), X)
    gaps = X.copy()
    gaps[rng.rand(*X.shape) < 0.2] = np.nan
    gaps[np.isnan(gaps[:, :4]).all(axis=1), 0] = 0.5
    record("gaps", VAETransformer(**SMALL).fit(gaps), gaps)
    levels = np.where(X[:, 2] > 0, "x", np.where(X[:, 3] > 0, "y", "z"))
    frame = pd.DataFrame(
        {
            "a": X[:, 0],
            "b": X[:, 1],
            "c": pd.Categorical(levels),
            "d": counts[:, 0].astype(int) + 20,
            "e": binary[:, 0].astype(int),
        }
    )
    frame.loc[::7, "a"] = np.nan
    frame.loc[::11, "c"] = np.nan
    auto = VAETransformer(likelihood="auto", **SMALL).fit(frame)
    out["auto/score"] = auto.score_samples(frame)
    out["auto/transform"] = auto.transform(frame)
    out["auto/loss"] = np.array(auto.loss_curve_)
    out["auto/validation"] = np.array(auto.validation_scores_)
    out["auto/inverse"] = numeric(auto.inverse_transform(auto.transform(frame)))
    detector = VAEOutlierDetector(random_state=0).fit(X)
    out["detector/score"] = detector.score_samples(X)
    out["detector/decision"] = detector.decision_function(X)
    for statistic in ("elbo", "importance_weighted"):
        fitted = VAEOutlierDetector(statistic=statistic, random_state=0).fit(X)
        out[f"detector/{statistic}"] = fitted.score_samples(X)
    imputer = VAEImputer(VAETransformer(**SMALL), random_state=0)
    out["imputer/mean"] = imputer.fit(gaps).transform(gaps)
    drawing = VAEImputer(VAETransformer(**SMALL), sample_posterior=True, random_state=0)
    out["imputer/draw"] = drawing.fit(gaps).transform(gaps)
    default = VAEImputer(random_state=0).fit(gaps[:, :4])
    out["imputer/default"] = default.transform(gaps[:, :4])
    per_column = VAEImputer(VAETransformer(likelihood="auto", **SMALL), random_state=0)
    out["imputer/frame"] = numeric(per_column.fit(frame).transform(frame))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("output")
    parser.add_argument("--compare", help="an earlier fingerprint to compare with")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"skvae from {skvae.__file__}")
    out = fingerprint()
    np.savez(args.output, **out)
    print(f"{len(out)} arrays written to {args.output}")
    if args.compare:
        before = np.load(args.compare)
        differ = [
            name
            for name in before.files
            if name not in out
            or before[name].shape != out[name].shape
            or not np.array_equal(before[name], out[name], equal_nan=True)
        ]
        print(f"{len(before.files)} arrays compared; {len(differ)} differ: {differ}")
        sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
