"""
Watching a VAE train: loss, validation score and early stopping
===============================================================

A fitted :class:`skvae.VAETransformer` keeps a record of its training:
``loss_curve_`` (the training loss of each epoch), ``validation_scores_``
(the lower bound on held-out rows after each epoch, with
``early_stopping=True``), ``best_validation_score_`` and ``epoch_times_``.
This example trains a VAE on the 8x8 digits that ship with scikit-learn with
``verbose=1``, then plots these curves to show when and why training stopped
and which weights were kept.

The figure is written to ``training_curves.png`` in the working directory, or
to the path given as the first command-line argument.
"""

# %%
# Data
# ----
# The pixels that are blank in every image are dropped (a constant feature
# has no density), and a quarter of the images is kept aside to score the
# final model.
import contextlib
import io
import os
import sys
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.feature_selection import VarianceThreshold
from sklearn.model_selection import train_test_split

from skvae import VAETransformer

X, _ = load_digits(return_X_y=True)
X = VarianceThreshold().fit_transform(X)
X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
print(
    f"{X_train.shape[0]} training rows, {X_test.shape[0]} test rows, "
    f"{X.shape[1]} features"
)

# %%
# Training with progress reports
# -------------------------------
# With ``early_stopping=True`` the estimator holds out ``validation_fraction``
# (here the default, a tenth) of the training rows. After every epoch it
# computes their lower bound, stops once that has not improved by more than
# ``tol`` for ``n_iter_no_change`` epochs, and restores the weights of the
# best epoch. ``max_iter`` is only a ceiling.
#
# ``verbose=1`` prints one line per epoch: the training loss, the validation
# score and the time the epoch took. The lines go to standard output; they
# are captured here so that only the first and the last few are shown.
vae = VAETransformer(
    n_components=5,
    batch_size=64,
    learning_rate=3e-3,
    max_iter=300,
    early_stopping=True,
    n_iter_no_change=10,
    random_state=0,
    verbose=1,
)
progress = io.StringIO()
start = time.perf_counter()
with contextlib.redirect_stdout(progress):
    vae.fit(X_train)
seconds = time.perf_counter() - start
lines = progress.getvalue().splitlines()
print("\n".join(lines[:3] + [f"... ({len(lines) - 6} lines not shown)"] + lines[-3:]))

# %%
# What the estimator recorded
# ---------------------------
# All three curves have one entry per epoch. ``n_iter_`` counts every epoch
# that ran, including the ``n_iter_no_change`` epochs without improvement at
# the end; the weights that were kept come from the best epoch.
best_epoch = int(np.argmax(vae.validation_scores_)) + 1
print(f"Epochs run (n_iter_): {vae.n_iter_} of max_iter={vae.max_iter}")
print(
    f"Best validation score: {vae.best_validation_score_:.2f} nats per image, "
    f"at epoch {best_epoch}; those weights were restored"
)
print(
    f"Training took {seconds:.1f} s; an epoch took {np.mean(vae.epoch_times_):.3f} s "
    f"on average (median {np.median(vae.epoch_times_):.3f} s)"
)
print(f"Held-out score on the test images: {vae.score(X_test):.2f} nats per image")

# %%
# The two curves have opposite signs by design. ``loss_curve_`` is a loss,
# the negative lower bound per row, so lower is better. ``validation_scores_``
# is a score, the lower bound itself, so higher is better: it is on the scale
# of ``score``. Both are in nats per image, in the units of the pixels.
#
# They are close but not equal, and should not be read as a
# training-versus-validation gap alone. The training loss of an epoch is
# averaged over its minibatches while the weights are still changing, with
# fresh noise at every step (and weighted by ``beta``, 1 here); the
# validation score is computed at the end of the epoch, with the same noise
# for each validation row at every epoch, so that its changes reflect the
# model and not the draws. ``score`` on the test rows is a different, tighter
# estimate again: an importance-weighted bound with ``n_importance_samples``
# draws per row. And a few test images are unlike any training image, which
# pulls their mean down.

# %%
# Plotting the curves
# -------------------
# Left: the training loss and the *negated* validation score, so that both
# read "lower is better" on a common axis, with the best epoch marked and the
# epochs of patience that followed it shaded. Right: the wall-clock time of
# each epoch, which includes the validation pass. Epoch times are the first
# thing to look at when training is slower than expected: on a machine whose
# cores are busy with other work, PyTorch's threads wait for each other and
# some epochs take many times longer than others (see
# :func:`torch.set_num_threads` and :doc:`/tuning`).
epochs = np.arange(1, vae.n_iter_ + 1)
validation_loss = -np.asarray(vae.validation_scores_)

# One panel above the other, so both stay legible at the page's width.
fig, (ax_curves, ax_times) = plt.subplots(
    2, 1, figsize=(9, 8), height_ratios=[1.6, 1], layout="constrained"
)
ax_curves.plot(epochs, vae.loss_curve_, label="training loss (loss_curve_)")
ax_curves.plot(
    epochs, validation_loss, label="minus validation score (-validation_scores_)"
)
ax_curves.axvline(best_epoch, color="gray", linestyle=":")
ax_curves.plot(
    best_epoch,
    -vae.best_validation_score_,
    marker="*",
    markersize=14,
    color="gold",
    markeredgecolor="black",
    linestyle="none",
    label=f"best epoch ({best_epoch}), weights kept",
)
ax_curves.axvspan(
    best_epoch,
    vae.n_iter_,
    color="gray",
    alpha=0.12,
    label=f"{vae.n_iter_ - best_epoch} epochs without improvement",
)
ax_curves.set(
    title="Training curves (lower is better)",
    xlabel="epoch",
    ylabel="nats per image",
)
ax_curves.legend(loc="upper right")

ax_times.bar(epochs, vae.epoch_times_, width=1.0, color="C2")
ax_times.axhline(
    np.median(vae.epoch_times_), color="black", linestyle="--", label="median"
)
ax_times.set(
    title="Time per epoch (epoch_times_)",
    xlabel="epoch",
    ylabel="seconds",
)
ax_times.legend(loc="upper right")
for ax in (ax_curves, ax_times):
    ax.grid(alpha=0.3)

output = sys.argv[1] if len(sys.argv) > 1 else "training_curves.png"
fig.savefig(output, dpi=100)
# The name only: the documentation build passes a temporary path.
print(f"Figure saved as {os.path.basename(output)}")
plt.show()
