"""
Choosing the latent size and beta by held-out likelihood
========================================================

:meth:`skvae.VAETransformer.score` is the mean held-out log-likelihood of the
rows it is given, in nats, so a
:class:`~sklearn.model_selection.GridSearchCV` can tune a VAE without labels
and without a scorer: each candidate is fitted on two folds of the data and
scored on the third. This example searches the latent size
``n_components`` and the weight ``beta`` of the KL term on the 8x8 digits
that ship with scikit-learn, plots the cross-validated scores and checks the
chosen model on images that the search never saw.

The figure is written to ``grid_search.png`` in the working directory, or to
the path given as the first command-line argument.
"""

# %%
# Data
# ----
# The pixels that are blank in every image are dropped first: a feature that
# never varies has no density, and a Gaussian model would give it an
# arbitrarily high one. Removing them uses no labels and no statistics of the
# rows beyond "always zero", so it can be done before the split. A quarter of
# the images is kept out of the search to check the chosen model at the end.
import os
import sys
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import VarianceThreshold
from sklearn.model_selection import GridSearchCV, train_test_split

from skvae import VAETransformer

X, _ = load_digits(return_X_y=True)
X = VarianceThreshold().fit_transform(X)
X_search, X_test = train_test_split(X, test_size=0.25, random_state=0)
print(
    f"{X_search.shape[0]} rows for the search, {X_test.shape[0]} kept out, "
    f"{X.shape[1]} features"
)

# %%
# The search
# ----------
# Nine candidates, three folds each: 27 fits, plus one refit of the best
# candidate on all the search rows. Without a ``scoring`` argument,
# :class:`~sklearn.model_selection.GridSearchCV` calls the estimator's own
# ``score``; the labels are not needed, so ``fit`` gets ``X`` alone.
#
# ``beta`` only changes training: ``beta < 1`` weights the reconstruction
# more and the KL term less, ``beta > 1`` the reverse. The score is always the
# true bound (``beta = 1``), so the search measures what each training
# objective does to the likelihood of new rows.
#
# To keep the example short every fit trains a smaller network than the
# default, ``(64, 32)``, on the one-draw ELBO (the default, the
# importance-weighted bound with 5 draws, costs about 1.6 times as much),
# within the same small budget of 60 epochs of minibatches of 128 rows (the
# default minibatch follows the rows: about 50 here, so three times the
# steps). With ``early_stopping=True``
# each fit holds out a tenth of its training rows and keeps the weights of
# its best epoch; most fits are still improving when the budget runs out and
# would warn about it, so that
# :class:`~sklearn.exceptions.ConvergenceWarning` is silenced here. For a real
# search, raise ``max_iter`` and let early stopping end each fit.
#
# The fits are independent, so ``n_jobs=2`` (or ``-1``) runs them in parallel
# worker processes. joblib's default backend, loky, limits each worker's
# PyTorch to ``cpu_count // n_jobs`` threads, so the processes do not fight
# over the cores; :doc:`/tuning` explains this and how to run the search on a
# Dask cluster. It is left at one process here, which is what the timings
# below refer to.
param_grid = {"n_components": [2, 5, 10], "beta": [0.5, 1.0, 2.0]}
search = GridSearchCV(
    VAETransformer(
        hidden_layer_sizes=(64, 32),
        objective="elbo",
        n_mc_samples=1,
        batch_size=128,
        max_iter=60,
        early_stopping=True,
        random_state=0,
    ),
    param_grid,
    cv=3,
)
start = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    search.fit(X_search)
print(
    f"{len(search.cv_results_['params'])} candidates x 3 folds in "
    f"{time.perf_counter() - start:.1f} s"
)

# %%
# ``cv_results_`` holds one row per candidate: the mean and the standard
# deviation of the three held-out scores, in nats per image.
results = search.cv_results_
print(f"{'n_components':>12} {'beta':>5} {'mean score':>11} {'std':>5} {'rank':>5}")
for params, mean, std, rank in zip(
    results["params"],
    results["mean_test_score"],
    results["std_test_score"],
    results["rank_test_score"],
    strict=True,
):
    print(
        f"{params['n_components']:12d} {params['beta']:5.1f} {mean:11.2f} "
        f"{std:5.2f} {rank:5d}"
    )
print(f"Best parameters: {search.best_params_}")
print(f"Best mean held-out score: {search.best_score_:.2f} nats per image")

# %%
# Weighting the KL term more (``beta = 2``) lowers the held-out likelihood at
# every latent size, most of all with ten dimensions. ``beta = 0.5`` also
# loses to ``beta = 1``, by a third of a nat to a nat. Two latent dimensions
# are clearly too few.
#
# The standard deviations are large next to the gaps between candidates, but
# most of that spread is shared: some folds hold harder images than others,
# for every candidate alike. Comparing two candidates fold by fold removes
# it, so here are the per-fold scores of the two best candidates. When the
# best one wins on every fold the ranking is trustworthy; when they trade
# places, the data do not separate them and either is a sound choice.
order = np.argsort(results["rank_test_score"], kind="stable")
split_scores = np.array([results[f"split{fold}_test_score"] for fold in range(3)])
for index in order[:2]:
    folds = ", ".join(f"{score:.2f}" for score in split_scores[:, index])
    print(f"  {results['params'][index]}: {folds}")
wins = int(np.sum(split_scores[:, order[0]] > split_scores[:, order[1]]))
print(f"The best candidate wins on {wins} of 3 folds.")

# %%
# The refitted model on unseen images
# -----------------------------------
# With ``refit=True`` (the default) the best candidate is fitted again on all
# the search rows and is available as ``best_estimator_``; ``search.score``
# calls its ``score``. The images kept out at the start give an estimate of
# its log-likelihood that the selection has not biased. It is usually higher
# than the cross-validated scores, because the refit trains on all the search
# rows rather than on two thirds of them.
best = search.best_estimator_
print(
    f"Refitted model: {best.n_iter_} epochs, held-out score on the "
    f"{X_test.shape[0]} kept-out images {search.score(X_test):.2f} nats per image"
)

# %%
# Mean held-out score against the latent size
# -------------------------------------------
# One line per ``beta``, with the fold-to-fold standard deviation as error
# bars; the lines are shifted sideways a little so the bars do not overlap.
n_components_grid = param_grid["n_components"]
offsets = dict(zip(param_grid["beta"], [-0.12, 0.0, 0.12], strict=True))
fig, ax = plt.subplots(figsize=(8, 4.6), layout="constrained")
for beta, offset in offsets.items():
    rows = [
        next(
            i
            for i, params in enumerate(results["params"])
            if params["beta"] == beta and params["n_components"] == n_components
        )
        for n_components in n_components_grid
    ]
    ax.errorbar(
        np.array(n_components_grid) + offset,
        results["mean_test_score"][rows],
        yerr=results["std_test_score"][rows],
        marker="o",
        capsize=4,
        label=f"beta = {beta:g}",
    )
best_params = search.best_params_
ax.plot(
    best_params["n_components"] + offsets[best_params["beta"]],
    search.best_score_,
    marker="*",
    markersize=18,
    color="gold",
    markeredgecolor="black",
    linestyle="none",
    label="best candidate",
    zorder=3,
)
ax.set(
    title="GridSearchCV on digits: 3-fold held-out log-likelihood",
    xlabel="n_components",
    ylabel="mean test score (nats per image, higher is better)",
    xticks=n_components_grid,
)
ax.grid(alpha=0.3)
ax.legend(loc="center left", bbox_to_anchor=(1, 0.5))

output = sys.argv[1] if len(sys.argv) > 1 else "grid_search.png"
fig.savefig(output, dpi=100)
# The name only: the documentation build passes a temporary path.
print(f"Figure saved as {os.path.basename(output)}")
plt.show()
